// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport (virtio 1.2 §4.2), version 2 registers only:
 * QEMU's microvm is started with virtio-mmio.force-legacy=false.  The
 * devices are those the VMM lists on the command line, one
 * `virtio_mmio.device=SIZE@BASE:GSI` word each, as microvm writes them
 * when ACPI is off (Linux reads the same words).  Each device's interrupt
 * line is level-triggered through the I/O APIC: the handler reads the
 * interrupt status, acknowledges it (which lowers the line) and runs the
 * queues' callbacks before the end of interrupt.
 */
#include "kernel/virtio/virtio.h"

#define MMIO_MAGIC 0x000
#define MMIO_VERSION 0x004
#define MMIO_DEVICE_ID 0x008
#define MMIO_DEVICE_FEATURES 0x010
#define MMIO_DEVICE_FEATURES_SEL 0x014
#define MMIO_DRIVER_FEATURES 0x020
#define MMIO_DRIVER_FEATURES_SEL 0x024
#define MMIO_QUEUE_SEL 0x030
#define MMIO_QUEUE_NUM_MAX 0x034
#define MMIO_QUEUE_NUM 0x038
#define MMIO_QUEUE_READY 0x044
#define MMIO_QUEUE_NOTIFY 0x050
#define MMIO_INTERRUPT_STATUS 0x060
#define MMIO_INTERRUPT_ACK 0x064
#define MMIO_STATUS 0x070
#define MMIO_QUEUE_DESC_LOW 0x080
#define MMIO_QUEUE_DESC_HIGH 0x084
#define MMIO_QUEUE_DRIVER_LOW 0x090
#define MMIO_QUEUE_DRIVER_HIGH 0x094
#define MMIO_QUEUE_DEVICE_LOW 0x0a0
#define MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define MMIO_CONFIG 0x100
#define MMIO_MAGIC_VALUE 0x74726976 /* "virt" */
#define MMIO_MAX_DEVICES 8

struct mmio_dev {
	struct virtio_dev vdev;
	volatile uint8_t *base;
	uint64_t phys, size;
	unsigned gsi;
};

static uint32_t rd(struct virtio_dev *d, unsigned off)
{
	struct mmio_dev *m = d->tr_priv;
	return *(volatile uint32_t *)(m->base + off);
}

static void wr(struct virtio_dev *d, unsigned off, uint32_t v)
{
	struct mmio_dev *m = d->tr_priv;
	*(volatile uint32_t *)(m->base + off) = v;
}

static uint64_t mmio_get_features(struct virtio_dev *d)
{
	wr(d, MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = rd(d, MMIO_DEVICE_FEATURES);
	wr(d, MMIO_DEVICE_FEATURES_SEL, 0);
	return hi << 32 | rd(d, MMIO_DEVICE_FEATURES);
}

static void mmio_set_features(struct virtio_dev *d, uint64_t f)
{
	wr(d, MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, MMIO_DRIVER_FEATURES, (uint32_t)f);
}

static uint8_t mmio_get_status(struct virtio_dev *d)
{
	return (uint8_t)rd(d, MMIO_STATUS);
}

static void mmio_set_status(struct virtio_dev *d, uint8_t s)
{
	wr(d, MMIO_STATUS, s);
}

static uint16_t mmio_queue_max(struct virtio_dev *d, int idx)
{
	wr(d, MMIO_QUEUE_SEL, (uint32_t)idx);
	if (rd(d, MMIO_QUEUE_READY))
		return 0; /* in use already: not ours to set up again */
	return (uint16_t)MIN(rd(d, MMIO_QUEUE_NUM_MAX), 32768u);
}

static long mmio_queue_enable(struct virtio_dev *d, struct virtqueue *q)
{
	struct mmio_dev *m = d->tr_priv;

	wr(d, MMIO_QUEUE_SEL, (uint32_t)q->index);
	wr(d, MMIO_QUEUE_NUM, q->size);
	wr(d, MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc_pa);
	wr(d, MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc_pa >> 32));
	wr(d, MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail_pa);
	wr(d, MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->avail_pa >> 32));
	wr(d, MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used_pa);
	wr(d, MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->used_pa >> 32));
	wr(d, MMIO_QUEUE_READY, 1);
	q->notify_addr = m->base + MMIO_QUEUE_NOTIFY;
	q->notify_data = (uint32_t)q->index;
	return rd(d, MMIO_QUEUE_READY) ? 0 : -EIO;
}

static void mmio_notify(struct virtqueue *q)
{
	*(volatile uint32_t *)q->notify_addr = q->notify_data;
}

static uint32_t mmio_config_read(struct virtio_dev *d, unsigned off, int width)
{
	struct mmio_dev *m = d->tr_priv;
	volatile uint8_t *p = m->base + MMIO_CONFIG + off;

	switch (width) {
	case 1: return *p;
	case 2: return *(volatile uint16_t *)p;
	default: return *(volatile uint32_t *)p;
	}
}

static const struct virtio_transport mmio_transport = {
	.name = "mmio",
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.queue_max = mmio_queue_max,
	.queue_enable = mmio_queue_enable,
	.notify = mmio_notify,
	.config_read = mmio_config_read,
};

static void mmio_interrupt(void *arg)
{
	struct mmio_dev *m = arg;
	uint32_t isr = rd(&m->vdev, MMIO_INTERRUPT_STATUS);

	if (!isr)
		return;
	wr(&m->vdev, MMIO_INTERRUPT_ACK, isr);
	virtio_interrupt(&m->vdev);
}

/* A number as Linux's memparse reads it: decimal, 0x hex or 0 octal, with
 * an optional K, M or G.  Returns the characters used, 0 when none. */
static size_t parse_num(const char *s, size_t len, uint64_t *out)
{
	size_t i = 0;
	unsigned base = 10;
	uint64_t v = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (len >= 1 && s[0] == '0') {
		base = 8;
	}
	size_t start = i;
	for (; i < len; i++) {
		char c = s[i];
		unsigned dgt = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			       : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			       : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						      : 99;
		if (dgt >= base)
			break;
		v = v * base + dgt;
	}
	if (i == start && base != 8)
		return 0;
	if (i < len &&
	    (s[i] == 'K' || s[i] == 'k' || s[i] == 'M' || s[i] == 'm' || s[i] == 'G' || s[i] == 'g')) {
		v <<= s[i] == 'K' || s[i] == 'k' ? 10 : s[i] == 'M' || s[i] == 'm' ? 20 : 30;
		i++;
	}
	*out = v;
	return i;
}

static uint64_t probed[MMIO_MAX_DEVICES];
static int ndevices;

/* One virtio_mmio.device=SIZE@BASE:GSI[:ID] word. */
static bool mmio_word(const char *w, size_t len, void *arg)
{
	uint64_t size, base, gsi;
	size_t i = 0, k;

	(void)arg;
	if (!(k = parse_num(w, len, &size)) || (i += k) >= len || w[i++] != '@' ||
	    !(k = parse_num(w + i, len - i, &base)) || (i += k) >= len || w[i++] != ':' ||
	    !(k = parse_num(w + i, len - i, &gsi)) || ((i += k) < len && w[i] != ':')) {
		klog("virtio: bad virtio_mmio.device=%.*s: want SIZE@BASE:GSI", (int)len, w);
		return true;
	}
	if (size < MMIO_CONFIG || (base & 3) || ndevices == MMIO_MAX_DEVICES) {
		klog("virtio: virtio_mmio.device=%.*s ignored (size, alignment or more than %d devices)",
		     (int)len, w, MMIO_MAX_DEVICES);
		return true;
	}
	for (int k = 0; k < ndevices; k++) {
		if (probed[k] == base) {
			klog("virtio: virtio_mmio.device=%.*s: that device is listed twice", (int)len,
			     w);
			return true;
		}
	}
	struct mmio_dev *m = kzalloc(sizeof(*m));
	if (!m)
		panic("virtio: out of memory at boot");
	m->phys = base;
	m->size = size;
	m->gsi = (unsigned)gsi;
	/* microvm packs its transports 512 bytes apart, within pages. */
	uint8_t *page = paging_map_mmio(PAGE_DOWN(base), PAGE_UP(base + size) - PAGE_DOWN(base));
	m->base = page + (base - PAGE_DOWN(base));
	m->vdev.tr = &mmio_transport;
	m->vdev.tr_priv = m;
	snprintf(m->vdev.where, sizeof(m->vdev.where), "mmio@0x%lx", base);
	uint32_t magic = rd(&m->vdev, MMIO_MAGIC), ver = rd(&m->vdev, MMIO_VERSION);
	m->vdev.device_id = rd(&m->vdev, MMIO_DEVICE_ID);
	if (magic != MMIO_MAGIC_VALUE || ver != 2) {
		klog("virtio: %s: magic %x version %u: not a virtio 1.x mmio device "
		     "(QEMU needs -global virtio-mmio.force-legacy=false)",
		     m->vdev.where, magic, ver);
		kfree(m);
		return true;
	}
	if (m->vdev.device_id == 0) { /* an empty slot */
		kfree(m);
		return true;
	}
	probed[ndevices++] = base;
	int vec = intr_alloc(mmio_interrupt, m);
	long r = vec < 0 ? vec : ioapic_route(m->gsi, vec, true);
	if (r < 0) {
		klog("virtio: %s: cannot route GSI %u (error %ld)", m->vdev.where, m->gsi, r);
		return true;
	}
	virtio_probe(&m->vdev);
	return true;
}

void virtio_mmio_init(void)
{
	cmdline_each("virtio_mmio.device", mmio_word, NULL);
}
