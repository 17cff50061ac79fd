// SPDX-License-Identifier: MIT
/*
 * The virtio 1.x core, the same under every transport: device start-up and
 * feature negotiation (virtio 1.2 §3.1), split virtqueues (§2.7) in
 * page-aligned memory the device reaches by physical address, notification
 * and the interrupt path.  Drivers add requests and take used ones back;
 * the transports (mmio.c, pci.c) only move registers.  Packed virtqueues,
 * indirect descriptors and event-index suppression are not used: the flag
 * hints (NO_INTERRUPT, NO_NOTIFY) are enough for the console and the NIC.
 */
#include "kernel/virtio/virtio.h"
#include "kernel/virtio/p9.h"

/* The device is another agent reading and writing the rings: x86 keeps
 * stores in order, so a compiler barrier orders publications; a store
 * followed by a load of something the device writes needs a full fence. */
#define virtio_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define virtio_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define virtio_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static const struct {
	uint32_t id;
	long (*probe)(struct virtio_dev *d);
} drivers[] = {
	{ VIRTIO_ID_CONSOLE, virtio_console_probe },
	{ VIRTIO_ID_NET, virtio_net_probe },
	{ VIRTIO_ID_9P, virtio_9p_probe },
};

void virtio_probe(struct virtio_dev *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
		if (drivers[i].id != d->device_id)
			continue;
		long r = drivers[i].probe(d);
		if (r < 0)
			klog("virtio: %s: device type %u not started (error %ld)", d->where,
			     d->device_id, r);
		return;
	}
	kdebug("virtio: %s: no driver for device type %u", d->where, d->device_id);
}

void virtio_fail(struct virtio_dev *d)
{
	d->tr->set_status(d, d->tr->get_status(d) | VIRTIO_STATUS_FAILED);
}

long virtio_negotiate(struct virtio_dev *d, uint64_t wanted)
{
	const struct virtio_transport *tr = d->tr;

	tr->set_status(d, 0); /* reset */
	tr->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	tr->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	uint64_t offered = tr->get_features(d);
	if (!(offered & VIRTIO_F_VERSION_1)) {
		klog("virtio: %s: a legacy device (no VIRTIO_F_VERSION_1); only virtio 1.x is driven",
		     d->where);
		virtio_fail(d);
		return -ENODEV;
	}
	d->features = offered & (wanted | VIRTIO_F_VERSION_1);
	tr->set_features(d, d->features);
	tr->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(tr->get_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
		klog("virtio: %s: the device refused features %lx", d->where, d->features);
		virtio_fail(d);
		return -ENODEV;
	}
	return 0;
}

void virtio_driver_ok(struct virtio_dev *d)
{
	d->tr->set_status(d, d->tr->get_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

void virtio_interrupt(struct virtio_dev *d)
{
	for (int i = 0; i < d->nvq; i++)
		if (d->vq[i]->callback)
			d->vq[i]->callback(d->vq[i]);
}

/* ---- virtqueues ------------------------------------------------------------ */

struct virtqueue *virtq_create(struct virtio_dev *d, int idx, uint16_t size,
			       void (*callback)(struct virtqueue *q))
{
	uint16_t max = d->tr->queue_max(d, idx);

	if (!max) {
		klog("virtio: %s: the device has no queue %d", d->where, idx);
		return NULL;
	}
	if (d->nvq == (int)ARRAY_SIZE(d->vq)) {
		klog("virtio: %s: more than %zu queues", d->where, ARRAY_SIZE(d->vq));
		return NULL;
	}
	while (size > max)
		size /= 2;
	/* desc, then avail right after it; used on a page of its own. */
	size_t ring_bytes = PAGE_UP(16ul * size + 6 + 2ul * size);
	size_t used_bytes = PAGE_UP(6 + 8ul * size);
	size_t npages = (ring_bytes + used_bytes) / PAGE_SIZE;
	uint64_t pa = pages_alloc(npages);
	struct virtqueue *q = kzalloc(sizeof(*q));
	void **token = kzalloc(size * sizeof(void *));
	if (!pa || !q || !token) {
		klog("virtio: %s: out of memory for queue %d", d->where, idx);
		if (pa)
			pages_free(pa, npages);
		kfree(q);
		kfree(token);
		return NULL;
	}
	q->dev = d;
	q->index = idx;
	q->size = size;
	q->desc_pa = pa;
	q->avail_pa = pa + 16ul * size;
	q->used_pa = pa + ring_bytes;
	q->desc = phys_to_virt(q->desc_pa);
	q->avail = phys_to_virt(q->avail_pa);
	q->used = phys_to_virt(q->used_pa);
	q->token = token;
	q->callback = callback;
	for (uint16_t i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = size;
	long r = d->tr->queue_enable(d, q);
	if (r < 0) {
		klog("virtio: %s: cannot enable queue %d (error %ld)", d->where, idx, r);
		pages_free(pa, npages);
		kfree(q);
		kfree(token);
		return NULL;
	}
	d->vq[d->nvq++] = q;
	return q;
}

long virtq_add(struct virtqueue *q, const struct virtq_buf *bufs, int nout, int nin, void *token)
{
	int n = nout + nin;

	if (n < 1 || q->nfree < n)
		return -ENOSPC;
	uint16_t head = q->free_head, i = head, last = head;
	for (int k = 0; k < n; k++) {
		struct virtq_desc *dsc = &q->desc[i];
		dsc->addr = virt_to_phys(bufs[k].addr);
		dsc->len = bufs[k].len;
		dsc->flags = (uint16_t)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) |
					(k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		last = i;
		i = dsc->next;
	}
	q->free_head = q->desc[last].next;
	q->nfree = (uint16_t)(q->nfree - n);
	q->token[head] = token;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	virtio_wmb(); /* the descriptors and the ring entry before the index */
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	return 0;
}

void virtq_kick(struct virtqueue *q)
{
	virtio_mb(); /* avail->idx visible before we read the device's flag */
	if (!(__atomic_load_n(&q->used->flags, __ATOMIC_ACQUIRE) & VIRTQ_USED_F_NO_NOTIFY))
		q->dev->tr->notify(q);
}

bool virtq_pending(const struct virtqueue *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used;
}

void *virtq_get(struct virtqueue *q, uint32_t *len)
{
	if (!virtq_pending(q))
		return NULL;
	virtio_rmb(); /* the entry after the index that published it */
	struct virtq_used_elem *e = &q->used->ring[q->last_used & (q->size - 1)];
	uint16_t head = (uint16_t)e->id, i = head;
	if (head >= q->size)
		panic("virtio: %s: queue %d: the device used descriptor %u of %u", q->dev->where,
		      q->index, head, q->size);
	if (len)
		*len = e->len;
	q->last_used++;
	void *token = q->token[head];
	q->token[head] = NULL;
	uint16_t n = 1;
	while (q->desc[i].flags & VIRTQ_DESC_F_NEXT) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->nfree = (uint16_t)(q->nfree + n);
	return token;
}

void virtq_cb_disable(struct virtqueue *q)
{
	q->avail->flags |= VIRTQ_AVAIL_F_NO_INTERRUPT;
}

bool virtq_cb_enable(struct virtqueue *q)
{
	q->avail->flags &= (uint16_t)~VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtio_mb(); /* the flag visible before we look at the ring again */
	return !virtq_pending(q);
}
