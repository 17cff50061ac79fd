// SPDX-License-Identifier: MIT
/*
 * The virtio-pci transport, modern interface only (virtio 1.2 §4.1): QEMU's
 * q35 is given `-device virtio-…-pci,disable-legacy=on`.  Devices are found
 * on PCI bus 0 (the root bus, where QEMU puts a -device without a bus);
 * the vendor capabilities locate the common, notify and device
 * configuration structures in the BARs the firmware assigned.  Each device
 * gets one MSI-X vector for all its queues, delivered to the local APIC
 * (arch/intr.c); a device without MSI-X is refused, since the INTx
 * fallback through the I/O APIC is not written (docs/virtio.md).
 */
#include "kernel/virtio/virtio.h"

#define PCI_VENDOR_VIRTIO 0x1af4
#define PCI_ID 0x00
#define PCI_COMMAND 0x04 /* and the status register at 0x06 */
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM 0x2c
#define PCI_CAP_PTR 0x34
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 20) /* in the dword at 0x04 */
#define PCI_CAP_MSIX 0x11
#define PCI_CAP_VENDOR 0x09
#define MSIX_ENABLE (1u << 31) /* in the capability's first dword */
#define MSIX_MASKALL (1u << 30)

/* struct virtio_pci_cap's cfg_type. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* struct virtio_pci_common_cfg */
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0c
#define COMMON_MSIX 0x10
#define COMMON_STATUS 0x14
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_MSIX 0x1a
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF 0x1e
#define COMMON_Q_DESC 0x20
#define COMMON_Q_DRIVER 0x28
#define COMMON_Q_DEVICE 0x30
#define VIRTIO_MSI_NO_VECTOR 0xffff

struct pci_dev {
	struct virtio_dev vdev;
	unsigned bdf;
	volatile uint8_t *common, *notify, *device;
	uint32_t notify_mult;
};

#define C8(p, off) (*(volatile uint8_t *)((p)->common + (off)))
#define C16(p, off) (*(volatile uint16_t *)((p)->common + (off)))
#define C32(p, off) (*(volatile uint32_t *)((p)->common + (off)))

static struct pci_dev *P(struct virtio_dev *d)
{
	return d->tr_priv;
}

static uint64_t pci_get_features(struct virtio_dev *d)
{
	C32(P(d), COMMON_DFSELECT) = 1;
	uint64_t hi = C32(P(d), COMMON_DF);
	C32(P(d), COMMON_DFSELECT) = 0;
	return hi << 32 | C32(P(d), COMMON_DF);
}

static void pci_set_features(struct virtio_dev *d, uint64_t f)
{
	C32(P(d), COMMON_GFSELECT) = 1;
	C32(P(d), COMMON_GF) = (uint32_t)(f >> 32);
	C32(P(d), COMMON_GFSELECT) = 0;
	C32(P(d), COMMON_GF) = (uint32_t)f;
}

static uint8_t pci_get_status(struct virtio_dev *d)
{
	return C8(P(d), COMMON_STATUS);
}

static void pci_set_status(struct virtio_dev *d, uint8_t s)
{
	C8(P(d), COMMON_STATUS) = s;
}

static uint16_t pci_queue_max(struct virtio_dev *d, int idx)
{
	C16(P(d), COMMON_Q_SELECT) = (uint16_t)idx;
	if (C16(P(d), COMMON_Q_ENABLE))
		return 0;
	return C16(P(d), COMMON_Q_SIZE);
}

static long pci_queue_enable(struct virtio_dev *d, struct virtqueue *q)
{
	struct pci_dev *p = P(d);

	C16(p, COMMON_Q_SELECT) = (uint16_t)q->index;
	C16(p, COMMON_Q_SIZE) = q->size;
	*(volatile uint64_t *)(p->common + COMMON_Q_DESC) = q->desc_pa;
	*(volatile uint64_t *)(p->common + COMMON_Q_DRIVER) = q->avail_pa;
	*(volatile uint64_t *)(p->common + COMMON_Q_DEVICE) = q->used_pa;
	C16(p, COMMON_Q_MSIX) = 0;
	if (C16(p, COMMON_Q_MSIX) != 0)
		return -EIO; /* the device could not take the vector */
	q->notify_addr = p->notify + (uint32_t)C16(p, COMMON_Q_NOFF) * p->notify_mult;
	q->notify_data = (uint32_t)q->index;
	C16(p, COMMON_Q_ENABLE) = 1;
	return 0;
}

static void pci_notify(struct virtqueue *q)
{
	*(volatile uint16_t *)q->notify_addr = (uint16_t)q->notify_data;
}

static uint32_t pci_config_read(struct virtio_dev *d, unsigned off, int width)
{
	volatile uint8_t *c = P(d)->device + off;

	switch (width) {
	case 1: return *c;
	case 2: return *(volatile uint16_t *)c;
	default: return *(volatile uint32_t *)c;
	}
}

static const struct virtio_transport pci_transport = {
	.name = "pci",
	.get_features = pci_get_features,
	.set_features = pci_set_features,
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.queue_max = pci_queue_max,
	.queue_enable = pci_queue_enable,
	.notify = pci_notify,
	.config_read = pci_config_read,
};

static void pci_interrupt(void *arg)
{
	virtio_interrupt(&((struct pci_dev *)arg)->vdev);
}

/* The physical address of memory BAR n (a 64-bit BAR spans two); 0 for
 * an I/O BAR or one the firmware left unassigned. */
static uint64_t bar_address(unsigned bdf, unsigned n)
{
	if (n > 5)
		return 0;
	uint32_t lo = pci_read32(bdf, PCI_BAR0 + 4 * n);
	if (lo & 1)
		return 0;
	uint64_t a = lo & ~0xfu;
	if (((lo >> 1) & 3) == 2 && n < 5)
		a |= (uint64_t)pci_read32(bdf, PCI_BAR0 + 4 * (n + 1)) << 32;
	return a;
}

static volatile uint8_t *map_region(unsigned bdf, unsigned bar, uint32_t off, uint32_t len)
{
	uint64_t base = bar_address(bdf, bar);
	if (!base || !len)
		return NULL;
	uint64_t pa = base + off;
	uint8_t *v = paging_map_mmio(PAGE_DOWN(pa), PAGE_UP(pa + len) - PAGE_DOWN(pa));
	return v + (pa - PAGE_DOWN(pa));
}

/* Walks the capability list: the virtio structures and MSI-X.  Returns
 * 0, or -ENODEV with the reason in the log. */
static long find_caps(struct pci_dev *p, unsigned *msix)
{
	unsigned bdf = p->bdf;
	*msix = 0;
	if (!(pci_read32(bdf, PCI_COMMAND) & PCI_STATUS_CAP_LIST))
		return -ENODEV;
	unsigned pos = pci_read32(bdf, PCI_CAP_PTR) & 0xfc;
	for (int guard = 0; pos && guard < 48; guard++) {
		uint32_t w0 = pci_read32(bdf, pos);
		unsigned id = w0 & 0xff, next = (w0 >> 8) & 0xfc;
		if (id == PCI_CAP_MSIX) {
			*msix = pos;
		} else if (id == PCI_CAP_VENDOR) {
			unsigned type = (w0 >> 24) & 0xff;
			uint32_t w1 = pci_read32(bdf, pos + 4);
			uint32_t off = pci_read32(bdf, pos + 8), len = pci_read32(bdf, pos + 12);
			unsigned bar = w1 & 0xff;
			if (type == VIRTIO_PCI_CAP_COMMON_CFG && !p->common) {
				p->common = map_region(bdf, bar, off, len);
			} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && !p->notify) {
				p->notify = map_region(bdf, bar, off, len);
				p->notify_mult = pci_read32(bdf, pos + 16);
			} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && !p->device) {
				p->device = map_region(bdf, bar, off, len);
			}
		}
		pos = next;
	}
	if (!p->common || !p->notify) {
		klog("virtio: %s: no modern common or notify structure (a legacy-only device?)",
		     p->vdev.where);
		return -ENODEV;
	}
	return 0;
}

/* One MSI-X vector (table entry 0) for the whole device. */
static long setup_msix(struct pci_dev *p, unsigned cap)
{
	uint32_t ctl = pci_read32(p->bdf, cap);
	uint32_t table = pci_read32(p->bdf, cap + 4);
	volatile uint32_t *t = (volatile uint32_t *)map_region(p->bdf, table & 7, table & ~7u, 16);
	int vec = intr_alloc(pci_interrupt, p);
	uint64_t addr;
	uint32_t data;

	if (!t || vec < 0)
		return -ENODEV;
	intr_msi_message(vec, &addr, &data);
	t[0] = (uint32_t)addr;
	t[1] = (uint32_t)(addr >> 32);
	t[2] = data;
	t[3] = 0; /* unmasked */
	pci_write32(p->bdf, cap, (ctl | MSIX_ENABLE) & ~MSIX_MASKALL);
	C16(p, COMMON_MSIX) = VIRTIO_MSI_NO_VECTOR; /* no config-change interrupt */
	return 0;
}

static void pci_probe_one(unsigned bdf, uint32_t id)
{
	uint16_t device = (uint16_t)(id >> 16);
	uint32_t type = device >= 0x1040 ? device - 0x1040u : pci_read32(bdf, PCI_SUBSYSTEM) >> 16;
	struct pci_dev *p = kzalloc(sizeof(*p));
	unsigned msix;

	if (!p)
		panic("virtio: out of memory at boot");
	p->bdf = bdf;
	p->vdev.tr = &pci_transport;
	p->vdev.tr_priv = p;
	p->vdev.device_id = type;
	snprintf(p->vdev.where, sizeof(p->vdev.where), "pci 00:%02x.%x", (bdf >> 3) & 31, bdf & 7);
	uint32_t cmd = pci_read32(bdf, PCI_COMMAND) & 0xffff;
	pci_write32(bdf, PCI_COMMAND,
		    cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	if (find_caps(p, &msix) < 0) {
		kfree(p);
		return;
	}
	if (!msix || setup_msix(p, msix) < 0) {
		klog("virtio: %s: no usable MSI-X; the INTx fallback is not supported", p->vdev.where);
		kfree(p);
		return;
	}
	virtio_probe(&p->vdev);
}

void virtio_pci_init(void)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		unsigned bdf = PCI_BDF(0, dev, 0);
		uint32_t id = pci_read32(bdf, PCI_ID);
		uint16_t device = (uint16_t)(id >> 16);
		if ((id & 0xffff) == PCI_VENDOR_VIRTIO && device >= 0x1000 && device <= 0x107f)
			pci_probe_one(bdf, id);
	}
}
