// SPDX-License-Identifier: MIT
/*
 * virtio-9p (virtio 1.2 §5.11, device type 9) and the 9P2000.L client on
 * it: one request queue, the mount tag read from the configuration space.
 * Each device carries one request at a time: a sleeping mutex serialises
 * the program's threads, and the caller sleeps on the queue's interrupt
 * until the reply is used (never spinning when idle).  Requests and
 * replies are built in two buffers of msize bytes allocated at probe, so
 * nothing is allocated per request; every reply is bounds-checked, and one
 * that does not parse is -EIO with a log line.  The requests themselves
 * are 9p_req.c's; what the files mean is minifs/remote.c's business.
 */
#include "kernel/virtio/9p_wire.h"

static struct p9_dev *devs[MAX_DEVS];
static int ndevs;

/* ---- one round trip ------------------------------------------------------------- */

static void p9_interrupt(struct virtqueue *q)
{
	struct p9_dev *p = q->priv;

	wake_up(&p->wq);
}

/*
 * Sends the request built since p9_begin() and waits for its reply, which
 * must be of type t + 1.  Returns 0 with the reply's body ready to parse,
 * the host's -errno (Rlerror), or -EIO.  Called with p->lock held.
 */
long p9_transact(struct p9_dev *p, uint8_t t)
{
	uint32_t len = 0;

	if (p->bad) {
		klog("9p: %s: a request of type %u does not fit msize %u", p->tag, t, p->msize);
		return -EIO;
	}
	uint32_t size = (uint32_t)p->txlen;
	memcpy(p->tx, &size, 4);
	struct virtq_buf b[2] = { { p->tx, size }, { p->rx, p->msize } };
	long r = virtq_add(p->vq, b, 1, 1, p);
	if (r < 0)
		return -EIO; /* cannot happen with one request in flight */
	p->nreq++;
	p->per_type[t & 127]++;
	virtq_kick(p->vq);
	while (!virtq_pending(p->vq))
		wait_event_uninterruptible(&p->wq, virtq_pending(p->vq));
	if (virtq_get(p->vq, &len) != p)
		panic("9p: %s: the device returned a request that was not made", p->tag);
	p->rxlen = MIN(len, p->msize);
	p->rpos = 0;
	p->bad = false;
	uint32_t rsize = get32(p);
	uint8_t rtype = get8(p);
	uint16_t rtag = get16(p);
	if (p->bad || rsize < 7 || rsize > p->rxlen || rtag != (t == TVERSION ? P9_NOTAG : 0)) {
		klog("9p: %s: malformed reply to type %u (%u bytes, size %u, tag %u)", p->tag, t, len,
		     rsize, rtag);
		return -EIO;
	}
	p->rxlen = rsize;
	if (rtype == RLERROR) {
		uint32_t e = get32(p);
		if (p->bad || e == 0 || e > 4095) {
			klog("9p: %s: malformed Rlerror to type %u", p->tag, t);
			return -EIO;
		}
		return -(long)e;
	}
	if (rtype != t + 1) {
		klog("9p: %s: reply of type %u to a request of type %u", p->tag, rtype, t);
		return -EIO;
	}
	return 0;
}

/* Ends the parse of a reply: -EIO after a log line when it ran short. */
long p9_done(struct p9_dev *p, uint8_t t, long r)
{
	if (p->bad) {
		klog("9p: %s: reply to type %u is too short", p->tag, t);
		return -EIO;
	}
	return r;
}

/* ---- fids ------------------------------------------------------------------------ */

uint32_t p9_fid_alloc(struct p9_dev *p)
{
	mutex_lock(&p->lock);
	for (uint32_t n = 0; n < NFIDS; n++) {
		uint32_t f = (p->fid_hint + n) % NFIDS;
		if (!(p->fids[f / 8] & (1 << (f % 8)))) {
			p->fids[f / 8] |= (uint8_t)(1 << (f % 8));
			p->fid_hint = f + 1;
			mutex_unlock(&p->lock);
			return f;
		}
	}
	mutex_unlock(&p->lock);
	klog("9p: %s: all %u fids are in use", p->tag, NFIDS);
	return P9_NOFID;
}

void p9_fid_free(struct p9_dev *p, uint32_t f)
{
	if (f < NFIDS)
		p->fids[f / 8] &= (uint8_t) ~(1 << (f % 8));
}

/* ---- the device ------------------------------------------------------------------ */

long virtio_9p_probe(struct virtio_dev *d)
{
	if (ndevs == MAX_DEVS) {
		klog("9p: %s: more than %d devices; this one is not used", d->where, MAX_DEVS);
		return -ENOSPC;
	}
	long r = virtio_negotiate(d, VIRTIO_9P_MOUNT_TAG);
	if (r < 0)
		return r;
	if (!(d->features & VIRTIO_9P_MOUNT_TAG)) {
		klog("9p: %s: the device has no mount tag", d->where);
		virtio_fail(d);
		return -ENODEV;
	}
	struct p9_dev *p = kzalloc(sizeof(*p));
	uint64_t tx = pages_alloc(PAGE_UP(MSIZE) / PAGE_SIZE);
	uint64_t rx = pages_alloc(PAGE_UP(MSIZE) / PAGE_SIZE);
	uint8_t *fids = kzalloc(NFIDS / 8);
	if (!p || !tx || !rx || !fids) {
		klog("9p: %s: out of memory", d->where);
		virtio_fail(d);
		return -ENOMEM;
	}
	p->vdev = d;
	p->tx = phys_to_virt(tx);
	p->rx = phys_to_virt(rx);
	p->fids = fids;
	p->msize = MSIZE;
	p->lock = (struct mutex)MUTEX_INIT("9p request");
	p->tag_len = d->tr->config_read(d, 0, 2);
	if (p->tag_len == 0 || p->tag_len >= TAG_MAX) {
		klog("9p: %s: mount tag of %zu bytes", d->where, p->tag_len);
		virtio_fail(d);
		return -ENODEV;
	}
	for (size_t i = 0; i < p->tag_len; i++)
		p->tag[i] = (char)d->tr->config_read(d, 2 + (unsigned)i, 1);
	p->vq = virtq_create(d, 0, 128, p9_interrupt);
	if (!p->vq) {
		virtio_fail(d);
		return -ENODEV;
	}
	p->vq->priv = p;
	d->priv = p;
	virtio_driver_ok(d);
	devs[ndevs++] = p;
	kdebug("9p: %s: mount tag %s", d->where, p->tag);
	return 0;
}

struct p9_dev *p9_find(const char *tag, size_t len)
{
	for (int i = 0; i < ndevs; i++)
		if (devs[i]->tag_len == len && !memcmp(devs[i]->tag, tag, len))
			return devs[i];
	return NULL;
}

const char *p9_tag(const struct p9_dev *p)
{
	return p->tag;
}

uint64_t p9_requests(const struct p9_dev *p)
{
	kdebug("9p: %s: walk %u getattr %u lopen %u read %u readdir %u readlink %u clunk %u", p->tag,
	       p->per_type[TWALK], p->per_type[TGETATTR], p->per_type[TLOPEN], p->per_type[TREAD],
	       p->per_type[TREADDIR], p->per_type[TREADLINK], p->per_type[TCLUNK]);
	return p->nreq;
}

size_t p9_iosize(const struct p9_dev *p)
{
	return p->msize - IOHDRSZ;
}

static long version_attach(struct p9_dev *p)
{
	size_t vlen;

	p9_begin(p, TVERSION);
	put32(p, MSIZE);
	put_str(p, "9P2000.L");
	long r = p9_transact(p, TVERSION);
	if (r < 0)
		return r;
	uint32_t msize = get32(p);
	const char *v = get_str(p, &vlen);
	if (p9_done(p, TVERSION, 0) < 0)
		return -EIO;
	if (vlen != 8 || memcmp(v, "9P2000.L", 8) || msize < 4096 || msize > MSIZE) {
		klog("9p: %s: the host answered version %.*s, msize %u", p->tag, (int)vlen, v, msize);
		return -EIO;
	}
	p->msize = msize;
	uint32_t fid = P9_NOFID;
	for (uint32_t f = 0; f < NFIDS && fid == P9_NOFID; f++)
		if (!(p->fids[f / 8] & (1 << (f % 8))))
			fid = f;
	p->fids[fid / 8] |= (uint8_t)(1 << (fid % 8));
	p9_begin(p, TATTACH);
	put32(p, fid);
	put32(p, P9_NOFID); /* no authentication */
	put_str(p, "root");
	put_str(p, "");
	put32(p, 0); /* n_uname: uid 0 */
	r = p9_transact(p, TATTACH);
	if (r < 0) {
		p9_fid_free(p, fid);
		return r;
	}
	kdebug("9p: %s: 9P2000.L, msize %u", p->tag, msize);
	return fid;
}

long p9_root(struct p9_dev *p)
{
	mutex_lock(&p->lock);
	if (!p->attached) {
		p->root = version_attach(p);
		p->attached = true;
		if (p->root < 0)
			klog("9p: %s: cannot attach the share (error %ld)", p->tag, p->root);
	}
	long r = p->root;
	mutex_unlock(&p->lock);
	return r;
}
