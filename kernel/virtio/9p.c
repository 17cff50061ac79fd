// SPDX-License-Identifier: MIT
/*
 * virtio-9p (virtio 1.2 §5.11, device type 9) and the 9P2000.L client on
 * it: one request queue, the mount tag read from the configuration space.
 * Each device carries one request at a time: a sleeping mutex serialises
 * the program's threads, and the caller sleeps on the queue's interrupt
 * until the reply is used (never spinning when idle).  Requests and
 * replies are built in two buffers of msize bytes allocated at probe, so
 * nothing is allocated per request; every reply is bounds-checked, and one
 * that does not parse is -EIO with a log line.  What the files mean is
 * minifs/remote.c's business; this file only speaks the protocol.
 */
#include "kernel/virtio/p9.h"
#include "kernel/virtio/virtio.h"

#define VIRTIO_9P_MOUNT_TAG (1ULL << 0)
#define MAX_DEVS 8
#define TAG_MAX 64
#define MSIZE (128 * 1024 + 4096) /* 128 KiB of data plus any header */
#define IOHDRSZ 24                /* Linux's P9_IOHDRSZ: a Twrite/Rread header fits */
#define NFIDS 65536
#define P9_NOTAG 0xffff

/* Message types (9P2000.L: Linux's include/net/9p/9p.h). */
enum {
	RLERROR = 7,
	TSTATFS = 8,
	TLOPEN = 12,
	TLCREATE = 14,
	TSYMLINK = 16,
	TREADLINK = 22,
	TGETATTR = 24,
	TSETATTR = 26,
	TREADDIR = 40,
	TFSYNC = 50,
	TLINK = 70,
	TMKDIR = 72,
	TRENAMEAT = 74,
	TUNLINKAT = 76,
	TVERSION = 100,
	TATTACH = 104,
	TWALK = 110,
	TREAD = 116,
	TWRITE = 118,
	TCLUNK = 120,
};
#define P9_GETATTR_BASIC 0x7ffULL

struct p9_dev {
	struct virtio_dev *vdev;
	struct virtqueue *vq;
	char tag[TAG_MAX];
	size_t tag_len;
	uint32_t msize; /* as the host agreed */
	bool attached;
	long root; /* the attached fid, or -errno */
	struct mutex lock;
	struct waitq wq;
	uint8_t *tx, *rx;   /* MSIZE each */
	size_t txlen;       /* the request being built */
	size_t rxlen, rpos; /* the reply, and where parsing is */
	bool bad;           /* the reply ran short or was malformed */
	uint64_t nreq;
	uint32_t per_type[128]; /* requests by type, for the verbose log */
	uint8_t *fids;          /* bitmap */
	uint32_t fid_hint;
};

static struct p9_dev *devs[MAX_DEVS];
static int ndevs;

/* ---- building requests ----------------------------------------------------- */

static void put(struct p9_dev *p, const void *v, size_t n)
{
	if (p->txlen + n > p->msize) {
		p->bad = true;
		return;
	}
	memcpy(p->tx + p->txlen, v, n);
	p->txlen += n;
}

static void put8(struct p9_dev *p, uint8_t v)
{
	put(p, &v, 1);
}
static void put16(struct p9_dev *p, uint16_t v)
{
	put(p, &v, 2); /* x86 is little-endian, as 9P */
}
static void put32(struct p9_dev *p, uint32_t v)
{
	put(p, &v, 4);
}
static void put64(struct p9_dev *p, uint64_t v)
{
	put(p, &v, 8);
}
static void puts_n(struct p9_dev *p, const char *s, size_t n)
{
	if (n > 0xffff) {
		p->bad = true;
		return;
	}
	put16(p, (uint16_t)n);
	put(p, s, n);
}
static void put_str(struct p9_dev *p, const char *s)
{
	puts_n(p, s, strlen(s));
}

/* Starts a request of type t: size (filled in later), type, tag 0. */
static void begin(struct p9_dev *p, uint8_t t)
{
	p->txlen = 0;
	p->bad = false;
	put32(p, 0);
	put8(p, t);
	put16(p, t == TVERSION ? P9_NOTAG : 0);
}

/* ---- parsing replies ---------------------------------------------------------- */

static const void *get(struct p9_dev *p, size_t n)
{
	if (p->bad || n > p->rxlen - p->rpos) {
		p->bad = true;
		return NULL;
	}
	const void *v = p->rx + p->rpos;
	p->rpos += n;
	return v;
}

#define GETTER(name, type) \
	static type name(struct p9_dev *p) \
	{ \
		type v = 0; \
		const void *s = get(p, sizeof(type)); \
		if (s) \
			memcpy(&v, s, sizeof(type)); \
		return v; \
	}
GETTER(get8, uint8_t)
GETTER(get16, uint16_t)
GETTER(get32, uint32_t)
GETTER(get64, uint64_t)

static void get_qid(struct p9_dev *p, struct p9_qid *q)
{
	q->type = get8(p);
	q->version = get32(p);
	q->path = get64(p);
}

/* A string: its bytes in the reply (not NUL-terminated), length in *len. */
static const char *get_str(struct p9_dev *p, size_t *len)
{
	*len = get16(p);
	return get(p, *len);
}

/* ---- one round trip ------------------------------------------------------------- */

static void p9_interrupt(struct virtqueue *q)
{
	struct p9_dev *p = q->priv;

	wake_up(&p->wq);
}

/*
 * Sends the request built since begin() and waits for its reply, which
 * must be of type t + 1.  Returns 0 with the reply's body ready to parse,
 * the host's -errno (Rlerror), or -EIO.  Called with p->lock held.
 */
static long transact(struct p9_dev *p, uint8_t t)
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
static long done(struct p9_dev *p, uint8_t t, long r)
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

static void fid_free(struct p9_dev *p, uint32_t f)
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

	begin(p, TVERSION);
	put32(p, MSIZE);
	put_str(p, "9P2000.L");
	long r = transact(p, TVERSION);
	if (r < 0)
		return r;
	uint32_t msize = get32(p);
	const char *v = get_str(p, &vlen);
	if (done(p, TVERSION, 0) < 0)
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
	begin(p, TATTACH);
	put32(p, fid);
	put32(p, P9_NOFID); /* no authentication */
	put_str(p, "root");
	put_str(p, "");
	put32(p, 0); /* n_uname: uid 0 */
	r = transact(p, TATTACH);
	if (r < 0) {
		fid_free(p, fid);
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

/* ---- the requests ------------------------------------------------------------------ */

long p9_walk(struct p9_dev *p, uint32_t fid, const char *const *names, const size_t *lens, int n,
	     uint32_t *newfid, struct p9_qid *qid)
{
	if (n < 0 || n > P9_MAXWELEM)
		return -EINVAL;
	uint32_t nf = p9_fid_alloc(p);
	if (nf == P9_NOFID)
		return -ENFILE;
	mutex_lock(&p->lock);
	begin(p, TWALK);
	put32(p, fid);
	put32(p, nf);
	put16(p, (uint16_t)n);
	for (int i = 0; i < n; i++)
		puts_n(p, names[i], lens[i]);
	long r = transact(p, TWALK);
	if (r == 0) {
		uint16_t nq = get16(p);
		struct p9_qid q = { 0 };
		for (uint16_t i = 0; i < nq && !p->bad; i++)
			get_qid(p, &q);
		r = done(p, TWALK, 0);
		if (r == 0 && nq > n) {
			klog("9p: %s: Rwalk with %u qids for %d names", p->tag, nq, n);
			r = -EIO;
		} else if (r == 0 && nq < n) {
			r = -ENOENT; /* a partial walk: the new fid was not made */
		} else if (r == 0 && qid) {
			*qid = q;
		}
	}
	mutex_unlock(&p->lock);
	if (r < 0) {
		fid_free(p, nf); /* a failed Twalk leaves newfid unused */
		return r;
	}
	*newfid = nf;
	return 0;
}

long p9_getattr(struct p9_dev *p, uint32_t fid, struct p9_attr *a)
{
	mutex_lock(&p->lock);
	begin(p, TGETATTR);
	put32(p, fid);
	put64(p, P9_GETATTR_BASIC);
	long r = transact(p, TGETATTR);
	if (r == 0) {
		get64(p); /* valid */
		get_qid(p, &a->qid);
		a->mode = get32(p);
		a->uid = get32(p);
		a->gid = get32(p);
		a->nlink = get64(p);
		a->rdev = get64(p);
		a->size = get64(p);
		get64(p); /* blksize */
		a->blocks = get64(p);
		int64_t t[6];
		for (int i = 0; i < 6; i++)
			t[i] = (int64_t)get64(p);
		a->atime = t[0] * NSEC_PER_SEC + t[1];
		a->mtime = t[2] * NSEC_PER_SEC + t[3];
		a->ctime = t[4] * NSEC_PER_SEC + t[5];
		r = done(p, TGETATTR, 0);
	}
	mutex_unlock(&p->lock);
	return r;
}

/* Rlopen and Rlcreate: qid and iounit. */
static long open_reply(struct p9_dev *p, uint8_t t, struct p9_qid *qid)
{
	struct p9_qid q;

	get_qid(p, &q);
	long iounit = get32(p);
	if (qid)
		*qid = q;
	return done(p, t, iounit);
}

long p9_lopen(struct p9_dev *p, uint32_t fid, uint32_t flags, struct p9_qid *qid)
{
	mutex_lock(&p->lock);
	begin(p, TLOPEN);
	put32(p, fid);
	put32(p, flags);
	long r = transact(p, TLOPEN);
	if (r == 0)
		r = open_reply(p, TLOPEN, qid);
	mutex_unlock(&p->lock);
	return r;
}

long p9_lcreate(struct p9_dev *p, uint32_t fid, const char *name, uint32_t flags, uint32_t mode,
		struct p9_qid *qid)
{
	mutex_lock(&p->lock);
	begin(p, TLCREATE);
	put32(p, fid);
	put_str(p, name);
	put32(p, flags);
	put32(p, mode);
	put32(p, 0); /* gid */
	long r = transact(p, TLCREATE);
	if (r == 0)
		r = open_reply(p, TLCREATE, qid);
	mutex_unlock(&p->lock);
	return r;
}

/* Rread and Rreaddir: count[4] then the data, copied to buf. */
static long data_reply(struct p9_dev *p, uint8_t t, void *buf, size_t len)
{
	uint32_t n = get32(p);
	if (!p->bad && n > len) {
		klog("9p: %s: %u bytes answer a request for %zu", p->tag, n, len);
		return -EIO;
	}
	const void *d = get(p, n);
	if (d)
		memcpy(buf, d, n);
	return done(p, t, n);
}

long p9_read(struct p9_dev *p, uint32_t fid, uint64_t off, void *buf, size_t len)
{
	len = MIN(len, p9_iosize(p));
	mutex_lock(&p->lock);
	begin(p, TREAD);
	put32(p, fid);
	put64(p, off);
	put32(p, (uint32_t)len);
	long r = transact(p, TREAD);
	if (r == 0)
		r = data_reply(p, TREAD, buf, len);
	mutex_unlock(&p->lock);
	return r;
}

long p9_readdir(struct p9_dev *p, uint32_t fid, uint64_t off, void *buf, size_t len)
{
	len = MIN(len, p9_iosize(p));
	mutex_lock(&p->lock);
	begin(p, TREADDIR);
	put32(p, fid);
	put64(p, off);
	put32(p, (uint32_t)len);
	long r = transact(p, TREADDIR);
	if (r == 0)
		r = data_reply(p, TREADDIR, buf, len);
	mutex_unlock(&p->lock);
	return r;
}

int p9_dirent_next(const void *buf, size_t len, size_t *pos, struct p9_dirent *e)
{
	const uint8_t *b = buf;
	size_t at = *pos;
	uint16_t n;

	if (at >= len)
		return 0;
	if (len - at < 13 + 8 + 1 + 2)
		return -EIO;
	e->qid.type = b[at];
	memcpy(&e->qid.version, b + at + 1, 4);
	memcpy(&e->qid.path, b + at + 5, 8);
	memcpy(&e->offset, b + at + 13, 8);
	e->type = b[at + 21];
	memcpy(&n, b + at + 22, 2);
	at += 24;
	if (n > len - at || n == 0 || n > 255)
		return -EIO;
	e->name = (const char *)b + at;
	e->len = n;
	*pos = at + n;
	return 1;
}

long p9_write(struct p9_dev *p, uint32_t fid, uint64_t off, const void *buf, size_t len)
{
	len = MIN(len, p9_iosize(p));
	mutex_lock(&p->lock);
	begin(p, TWRITE);
	put32(p, fid);
	put64(p, off);
	put32(p, (uint32_t)len);
	put(p, buf, len);
	long r = transact(p, TWRITE);
	if (r == 0) {
		uint32_t n = get32(p);
		r = done(p, TWRITE, n);
		if (r > (long)len) {
			klog("9p: %s: Rwrite says %ld of %zu bytes", p->tag, r, len);
			r = -EIO;
		}
	}
	mutex_unlock(&p->lock);
	return r;
}

long p9_readlink(struct p9_dev *p, uint32_t fid, char *buf, size_t size)
{
	size_t n;

	mutex_lock(&p->lock);
	begin(p, TREADLINK);
	put32(p, fid);
	long r = transact(p, TREADLINK);
	if (r == 0) {
		const char *s = get_str(p, &n);
		r = done(p, TREADLINK, (long)n);
		if (r >= 0 && n >= size)
			r = -ENAMETOOLONG;
		else if (r >= 0) {
			memcpy(buf, s, n);
			buf[n] = 0;
		}
	}
	mutex_unlock(&p->lock);
	return r;
}

long p9_clunk(struct p9_dev *p, uint32_t fid)
{
	if (fid == P9_NOFID)
		return 0;
	mutex_lock(&p->lock);
	begin(p, TCLUNK);
	put32(p, fid);
	long r = transact(p, TCLUNK);
	mutex_unlock(&p->lock);
	fid_free(p, fid); /* the fid is gone even when Rclunk is an error */
	return r;
}

/* A request whose reply is a qid (Rmkdir, Rsymlink). */
static long qid_reply(struct p9_dev *p, uint8_t t, struct p9_qid *qid)
{
	long r = transact(p, t);
	if (r == 0) {
		struct p9_qid q;
		get_qid(p, &q);
		r = done(p, t, 0);
		if (r == 0 && qid)
			*qid = q;
	}
	return r;
}

long p9_mkdir(struct p9_dev *p, uint32_t dfid, const char *name, uint32_t mode, struct p9_qid *qid)
{
	mutex_lock(&p->lock);
	begin(p, TMKDIR);
	put32(p, dfid);
	put_str(p, name);
	put32(p, mode);
	put32(p, 0);
	long r = qid_reply(p, TMKDIR, qid);
	mutex_unlock(&p->lock);
	return r;
}

long p9_symlink(struct p9_dev *p, uint32_t dfid, const char *name, const char *target,
		struct p9_qid *qid)
{
	mutex_lock(&p->lock);
	begin(p, TSYMLINK);
	put32(p, dfid);
	put_str(p, name);
	put_str(p, target);
	put32(p, 0);
	long r = qid_reply(p, TSYMLINK, qid);
	mutex_unlock(&p->lock);
	return r;
}

long p9_link(struct p9_dev *p, uint32_t dfid, uint32_t fid, const char *name)
{
	mutex_lock(&p->lock);
	begin(p, TLINK);
	put32(p, dfid);
	put32(p, fid);
	put_str(p, name);
	long r = transact(p, TLINK);
	mutex_unlock(&p->lock);
	return r;
}

long p9_unlinkat(struct p9_dev *p, uint32_t dfid, const char *name, uint32_t flags)
{
	mutex_lock(&p->lock);
	begin(p, TUNLINKAT);
	put32(p, dfid);
	put_str(p, name);
	put32(p, flags);
	long r = transact(p, TUNLINKAT);
	mutex_unlock(&p->lock);
	return r;
}

long p9_renameat(struct p9_dev *p, uint32_t olddfid, const char *oldname, uint32_t newdfid,
		 const char *newname)
{
	mutex_lock(&p->lock);
	begin(p, TRENAMEAT);
	put32(p, olddfid);
	put_str(p, oldname);
	put32(p, newdfid);
	put_str(p, newname);
	long r = transact(p, TRENAMEAT);
	mutex_unlock(&p->lock);
	return r;
}

long p9_setattr(struct p9_dev *p, uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size,
		int64_t atime, int64_t mtime)
{
	mutex_lock(&p->lock);
	begin(p, TSETATTR);
	put32(p, fid);
	put32(p, valid);
	put32(p, mode);
	put32(p, 0); /* uid */
	put32(p, 0); /* gid */
	put64(p, size);
	put64(p, (uint64_t)(atime / NSEC_PER_SEC));
	put64(p, (uint64_t)(atime % NSEC_PER_SEC));
	put64(p, (uint64_t)(mtime / NSEC_PER_SEC));
	put64(p, (uint64_t)(mtime % NSEC_PER_SEC));
	long r = transact(p, TSETATTR);
	mutex_unlock(&p->lock);
	return r;
}

long p9_fsync(struct p9_dev *p, uint32_t fid, bool datasync)
{
	mutex_lock(&p->lock);
	begin(p, TFSYNC);
	put32(p, fid);
	put32(p, datasync ? 1 : 0);
	long r = transact(p, TFSYNC);
	mutex_unlock(&p->lock);
	return r;
}

long p9_statfs(struct p9_dev *p, uint32_t fid, struct p9_statfs *s)
{
	mutex_lock(&p->lock);
	begin(p, TSTATFS);
	put32(p, fid);
	long r = transact(p, TSTATFS);
	if (r == 0) {
		s->type = get32(p);
		s->bsize = get32(p);
		s->blocks = get64(p);
		s->bfree = get64(p);
		s->bavail = get64(p);
		s->files = get64(p);
		s->ffree = get64(p);
		get64(p); /* fsid */
		s->namelen = get32(p);
		r = done(p, TSTATFS, 0);
	}
	mutex_unlock(&p->lock);
	return r;
}
