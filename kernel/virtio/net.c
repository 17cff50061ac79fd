// SPDX-License-Identifier: MIT
/*
 * virtio-net (virtio 1.2 §5.1) as a struct netdev (kernel/net/netdev.h):
 * one receive and one transmit queue of 256 entries, no control queue, no
 * segmentation offload.  Receive buffers are 2 KiB each, allocated once and
 * lent to the stack until rx_recycle (a whole frame always fits, so
 * MRG_RXBUF is not needed); each send takes a preallocated header slot plus
 * the stack's fragments, so nothing is allocated per packet.  The
 * interrupt handler only silences the queue and calls netdev_kick; the
 * stack's thread does the work in poll, which turns interrupts back on
 * when it finds the rings empty.  netselftest=1 on the command line sends
 * ARP requests at boot, one at a time, before the stack gets the device,
 * and logs whether QEMU's user network answered them all.
 */
#include "kernel/net/netdev.h"
#include "kernel/virtio/virtio.h"

#define VIRTIO_NET_F_CSUM (1ULL << 0)
#define VIRTIO_NET_F_GUEST_CSUM (1ULL << 1)
#define VIRTIO_NET_F_MAC (1ULL << 5)
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0

#define RXQ 0
#define TXQ 1
#define RING_SIZE 256
#define RX_BUF_SIZE 2048
#define RX_KICK_BATCH 32

/* struct virtio_net_hdr with VERSION_1: num_buffers is always there. */
struct virtio_net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));
#define HDR_SIZE sizeof(struct virtio_net_hdr)

struct tx_slot {
	struct virtio_net_hdr hdr;
	uint16_t next_free;
	void *token;
};

struct vnet {
	struct netdev nd;
	struct virtio_dev *vdev;
	struct virtqueue *rxq, *txq;
	uint8_t *rx_bufs; /* RING_SIZE buffers of RX_BUF_SIZE */
	struct tx_slot *tx;
	int tx_free; /* head of the free slots, -1 when none */
	int rx_unkicked;
	struct spinlock lock;           /* the queues: the stack's thread against itself */
	void (*kick)(struct netdev *d); /* netdev_kick, or the self-test's */
};

static struct vnet *to_vnet(struct netdev *d)
{
	return (struct vnet *)d;
}

static void rx_post(struct vnet *v, uint8_t *buf)
{
	struct virtq_buf b = { buf, RX_BUF_SIZE };

	if (virtq_add(v->rxq, &b, 0, 1, buf) < 0)
		panic("virtio-net: more receive buffers than ring entries");
	v->rx_unkicked++;
}

static long vnet_xmit(struct netdev *d, const struct netdev_frag *f, int n,
		      const struct netdev_csum *csum, void *token)
{
	struct vnet *v = to_vnet(d);
	struct virtq_buf bufs[1 + 16];

	if (n < 1 || n > 16)
		return -EINVAL;
	if (csum && csum->needed && !d->tx_csum)
		return -EINVAL;
	unsigned long flags = spin_lock_irqsave(&v->lock);
	if (v->tx_free < 0 || v->txq->nfree < n + 1) {
		/* Full: the completion interrupt will bring poll, then tx_done;
		 * or poll at once when completions are already waiting. */
		bool wait = virtq_cb_enable(v->txq);
		spin_unlock_irqrestore(&v->lock, flags);
		if (!wait)
			v->kick(d);
		return -EAGAIN;
	}
	struct tx_slot *s = &v->tx[v->tx_free];
	v->tx_free = s->next_free == 0xffff ? -1 : s->next_free;
	s->hdr = (struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	if (csum && csum->needed) {
		s->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		s->hdr.csum_start = csum->start;
		s->hdr.csum_offset = csum->offset;
	}
	s->token = token;
	bufs[0] = (struct virtq_buf){ &s->hdr, HDR_SIZE };
	for (int i = 0; i < n; i++)
		bufs[1 + i] = (struct virtq_buf){ f[i].data, f[i].len };
	virtq_add(v->txq, bufs, n + 1, 0, s);
	virtq_kick(v->txq);
	spin_unlock_irqrestore(&v->lock, flags);
	return 0;
}

/* Completed sends: each slot freed, then its token handed back (outside
 * the lock: the stack may send again from tx_done). */
static void reap_tx(struct vnet *v)
{
	/* The transmit interrupt was only wanted while the ring was full. */
	virtq_cb_disable(v->txq);
	for (;;) {
		unsigned long flags = spin_lock_irqsave(&v->lock);
		struct tx_slot *s = virtq_get(v->txq, NULL);
		void *token = NULL;
		if (s) {
			token = s->token;
			s->next_free = v->tx_free < 0 ? 0xffff : (uint16_t)v->tx_free;
			v->tx_free = (int)(s - v->tx);
		}
		spin_unlock_irqrestore(&v->lock, flags);
		if (!s)
			return;
		v->nd.tx_done(&v->nd, token);
	}
}

static int vnet_poll(struct netdev *d, int budget)
{
	struct vnet *v = to_vnet(d);
	int n = 0;

	reap_tx(v);
	for (;;) {
		while (n < budget) {
			uint32_t len;
			unsigned long flags = spin_lock_irqsave(&v->lock);
			uint8_t *buf = virtq_get(v->rxq, &len);
			spin_unlock_irqrestore(&v->lock, flags);
			if (!buf)
				break;
			const struct virtio_net_hdr *h = (const void *)buf;
			if (len < HDR_SIZE + 14 || len > RX_BUF_SIZE) {
				d->rx_recycle(d, buf + HDR_SIZE); /* runt or bogus length */
				continue;
			}
			bool ok =
				d->rx_csum &&
				(h->flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM));
			d->rx(d, buf + HDR_SIZE, len - (uint32_t)HDR_SIZE, ok);
			n++;
		}
		unsigned long flags = spin_lock_irqsave(&v->lock);
		if (v->rx_unkicked) {
			v->rx_unkicked = 0;
			virtq_kick(v->rxq);
		}
		bool idle = n < budget && virtq_cb_enable(v->rxq);
		if (!idle && n < budget)
			virtq_cb_disable(v->rxq); /* more arrived meanwhile: go on */
		spin_unlock_irqrestore(&v->lock, flags);
		if (idle || n >= budget)
			break;
	}
	if (n >= budget)
		v->kick(d); /* the rest next time round */
	return n;
}

static void vnet_rx_recycle(struct netdev *d, void *frame)
{
	struct vnet *v = to_vnet(d);
	uint8_t *buf = (uint8_t *)frame - HDR_SIZE;
	size_t off = (size_t)(buf - v->rx_bufs);

	if (buf < v->rx_bufs || off >= (size_t)RING_SIZE * RX_BUF_SIZE || off % RX_BUF_SIZE)
		panic("virtio-net: rx_recycle of %p, not a receive buffer", frame);
	unsigned long flags = spin_lock_irqsave(&v->lock);
	rx_post(v, buf);
	/* Batched, unless the device is running short of buffers. */
	if (v->rx_unkicked >= RX_KICK_BATCH || v->rxq->size - v->rxq->nfree < RING_SIZE / 4) {
		v->rx_unkicked = 0;
		virtq_kick(v->rxq);
	}
	spin_unlock_irqrestore(&v->lock, flags);
}

/* From the interrupt handler: silence the queues and let the stack's
 * thread poll. */
static void vnet_interrupt(struct virtqueue *q)
{
	struct vnet *v = q->priv;

	virtq_cb_disable(q);
	v->kick(&v->nd);
}

/* ---- netselftest=1 --------------------------------------------------------- */

/* More requests than a ring has entries, so both queues wrap around and
 * every receive buffer is recycled at least once. */
#define SELFTEST_ROUNDS 300

static struct waitq selftest_q;
static volatile bool selftest_answered, selftest_sent;
static uint8_t selftest_mac[6];

static void selftest_kick(struct netdev *d)
{
	(void)d;
	wake_up(&selftest_q);
}

static void selftest_tx_done(struct netdev *d, void *token)
{
	(void)d;
	(void)token;
	selftest_sent = true;
}

/* An ARP reply (ethertype 0x0806, op 2) from 10.0.2.2 to us. */
static void selftest_rx(struct netdev *d, void *buf, uint32_t len, bool csum_ok)
{
	const uint8_t *p = buf;
	static const uint8_t gw[4] = { 10, 0, 2, 2 };

	(void)csum_ok;
	if (len >= 42 && p[12] == 0x08 && p[13] == 0x06 && p[20] == 0 && p[21] == 2 &&
	    !memcmp(p + 28, gw, 4) && !memcmp(p + 32, d->mac, 6)) {
		memcpy(selftest_mac, p + 22, 6);
		selftest_answered = true;
	}
	d->rx_recycle(d, buf);
}

static void net_selftest(struct vnet *v)
{
	static uint8_t frame[42];
	static const uint8_t arp_hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 }; /* Ethernet, IPv4, request */
	static const uint8_t me[4] = { 10, 0, 2, 15 }, gw[4] = { 10, 0, 2, 2 };
	struct netdev *d = &v->nd;
	uint64_t t0 = clock_monotonic_ns();

	memset(frame, 0xff, 6); /* broadcast */
	memcpy(frame + 6, d->mac, 6);
	frame[12] = 0x08;
	frame[13] = 0x06;
	memcpy(frame + 14, arp_hdr, 8);
	memcpy(frame + 22, d->mac, 6);
	memcpy(frame + 28, me, 4);
	memset(frame + 32, 0, 6);
	memcpy(frame + 38, gw, 4);
	d->rx = selftest_rx;
	d->tx_done = selftest_tx_done;
	v->kick = selftest_kick;
	struct netdev_frag f = { frame, sizeof(frame) };
	long r = 0;
	int answered = 0;
	for (int i = 0; i < SELFTEST_ROUNDS && r == 0; i++) {
		selftest_answered = false;
		r = d->xmit(d, &f, 1, NULL, frame);
		if (r == 0)
			r = wait_event_deadline(&selftest_q, (d->poll(d, 16), selftest_answered),
						clock_monotonic_ns() + 3 * NSEC_PER_SEC);
		answered += r == 0;
	}
	uint64_t us = (clock_monotonic_ns() - t0) / 1000;
	if (answered == SELFTEST_ROUNDS)
		klog("netselftest: %s: ARP reply from 10.0.2.2: %02x:%02x:%02x:%02x:%02x:%02x, ok "
		     "(%d requests answered in %lu us)",
		     v->vdev->where, selftest_mac[0], selftest_mac[1], selftest_mac[2], selftest_mac[3],
		     selftest_mac[4], selftest_mac[5], answered, us);
	else
		klog("netselftest: %s: FAILED: %d of %d ARP requests for 10.0.2.2 answered, then none "
		     "within 3 s (last sent %s, error %ld)",
		     v->vdev->where, answered, SELFTEST_ROUNDS, selftest_sent ? "yes" : "no", r);
	d->poll(d, RING_SIZE); /* nothing of the test is left for the stack */
	d->rx = NULL;
	d->tx_done = NULL;
	v->kick = netdev_kick;
}

/* ---- start-up ---------------------------------------------------------------- */

long virtio_net_probe(struct virtio_dev *vd)
{
	static int count;
	long r = virtio_negotiate(vd, VIRTIO_NET_F_MAC | VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM);
	if (r < 0)
		return r;
	struct vnet *v = kzalloc(sizeof(*v));
	uint64_t rx_pa = pages_alloc((size_t)RING_SIZE * RX_BUF_SIZE / PAGE_SIZE);
	uint64_t tx_pa = pages_alloc(PAGE_UP(RING_SIZE * sizeof(struct tx_slot)) / PAGE_SIZE);
	if (!v || !rx_pa || !tx_pa) {
		klog("virtio-net: %s: out of memory for the rings", vd->where);
		virtio_fail(vd);
		return -ENOMEM;
	}
	v->vdev = vd;
	vd->priv = v;
	v->lock = (struct spinlock)SPINLOCK_INIT("virtio-net");
	v->kick = netdev_kick;
	v->rx_bufs = phys_to_virt(rx_pa);
	v->tx = phys_to_virt(tx_pa);
	for (int i = 0; i < RING_SIZE; i++)
		v->tx[i].next_free = i + 1 < RING_SIZE ? (uint16_t)(i + 1) : 0xffff;
	v->tx_free = 0;
	v->rxq = virtq_create(vd, RXQ, RING_SIZE, vnet_interrupt);
	v->txq = virtq_create(vd, TXQ, RING_SIZE, vnet_interrupt);
	if (!v->rxq || !v->txq) {
		virtio_fail(vd);
		return -ENODEV;
	}
	v->rxq->priv = v->txq->priv = v;
	virtq_cb_disable(v->txq); /* only when the ring is full (vnet_xmit) */

	struct netdev *d = &v->nd;
	d->name = count++ ? "eth1" : "eth0";
	if (vd->features & VIRTIO_NET_F_MAC) {
		for (int i = 0; i < 6; i++)
			d->mac[i] = (uint8_t)vd->tr->config_read(vd, (unsigned)i, 1);
	} else {
		random_bytes(d->mac, 6);
		d->mac[0] = (uint8_t)((d->mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
	}
	d->mtu = 1500;
	d->tx_csum = vd->features & VIRTIO_NET_F_CSUM;
	d->rx_csum = vd->features & VIRTIO_NET_F_GUEST_CSUM;
	d->xmit = vnet_xmit;
	d->poll = vnet_poll;
	d->rx_recycle = vnet_rx_recycle;
	for (int i = 0; i < v->rxq->size; i++)
		rx_post(v, v->rx_bufs + (size_t)i * RX_BUF_SIZE);
	virtio_driver_ok(vd);
	v->rx_unkicked = 0;
	virtq_kick(v->rxq);
	kdebug("virtio-net: %s: %s %02x:%02x:%02x:%02x:%02x:%02x, features %lx", vd->where, d->name,
	       d->mac[0], d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5], vd->features);
	char buf[4];
	if (cmdline_get("netselftest", buf, sizeof(buf)) && !strcmp(buf, "1"))
		net_selftest(v);
	netdev_register(d);
	return 0;
}
