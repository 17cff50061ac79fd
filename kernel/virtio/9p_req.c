// SPDX-License-Identifier: MIT
/*
 * The 9P2000.L requests, one function each (p9.h says what they return):
 * each takes the device's lock, builds its message, makes the round trip
 * through p9_transact and parses the reply with the bounds-checked getters
 * of 9p_wire.h.  Message layouts follow Linux's net/9p/client.c and
 * QEMU's hw/9pfs/9p.c; the device side and the fids are 9p.c's.
 */
#include "kernel/virtio/9p_wire.h"

long p9_walk(struct p9_dev *p, uint32_t fid, const char *const *names, const size_t *lens, int n,
	     uint32_t *newfid, struct p9_qid *qid)
{
	if (n < 0 || n > P9_MAXWELEM)
		return -EINVAL;
	uint32_t nf = p9_fid_alloc(p);
	if (nf == P9_NOFID)
		return -ENFILE;
	mutex_lock(&p->lock);
	p9_begin(p, TWALK);
	put32(p, fid);
	put32(p, nf);
	put16(p, (uint16_t)n);
	for (int i = 0; i < n; i++)
		puts_n(p, names[i], lens[i]);
	long r = p9_transact(p, TWALK);
	if (r == 0) {
		uint16_t nq = get16(p);
		struct p9_qid q = { 0 };
		for (uint16_t i = 0; i < nq && !p->bad; i++)
			get_qid(p, &q);
		r = p9_done(p, TWALK, 0);
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
		p9_fid_free(p, nf); /* a failed Twalk leaves newfid unused */
		return r;
	}
	*newfid = nf;
	return 0;
}

long p9_getattr(struct p9_dev *p, uint32_t fid, struct p9_attr *a)
{
	mutex_lock(&p->lock);
	p9_begin(p, TGETATTR);
	put32(p, fid);
	put64(p, P9_GETATTR_BASIC);
	long r = p9_transact(p, TGETATTR);
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
		r = p9_done(p, TGETATTR, 0);
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
	return p9_done(p, t, iounit);
}

long p9_lopen(struct p9_dev *p, uint32_t fid, uint32_t flags, struct p9_qid *qid)
{
	mutex_lock(&p->lock);
	p9_begin(p, TLOPEN);
	put32(p, fid);
	put32(p, flags);
	long r = p9_transact(p, TLOPEN);
	if (r == 0)
		r = open_reply(p, TLOPEN, qid);
	mutex_unlock(&p->lock);
	return r;
}

long p9_lcreate(struct p9_dev *p, uint32_t fid, const char *name, uint32_t flags, uint32_t mode,
		struct p9_qid *qid)
{
	mutex_lock(&p->lock);
	p9_begin(p, TLCREATE);
	put32(p, fid);
	put_str(p, name);
	put32(p, flags);
	put32(p, mode);
	put32(p, 0); /* gid */
	long r = p9_transact(p, TLCREATE);
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
	return p9_done(p, t, n);
}

/* Tread and Treaddir: the same request (fid, offset, count) and reply. */
static long data_request(struct p9_dev *p, uint8_t type, uint32_t fid, uint64_t off, void *buf,
			 size_t len)
{
	len = MIN(len, p9_iosize(p));
	mutex_lock(&p->lock);
	p9_begin(p, type);
	put32(p, fid);
	put64(p, off);
	put32(p, (uint32_t)len);
	long r = p9_transact(p, type);
	if (r == 0)
		r = data_reply(p, type, buf, len);
	mutex_unlock(&p->lock);
	return r;
}

long p9_read(struct p9_dev *p, uint32_t fid, uint64_t off, void *buf, size_t len)
{
	return data_request(p, TREAD, fid, off, buf, len);
}

long p9_readdir(struct p9_dev *p, uint32_t fid, uint64_t off, void *buf, size_t len)
{
	return data_request(p, TREADDIR, fid, off, buf, len);
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
	p9_begin(p, TWRITE);
	put32(p, fid);
	put64(p, off);
	put32(p, (uint32_t)len);
	put(p, buf, len);
	long r = p9_transact(p, TWRITE);
	if (r == 0) {
		uint32_t n = get32(p);
		r = p9_done(p, TWRITE, n);
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
	p9_begin(p, TREADLINK);
	put32(p, fid);
	long r = p9_transact(p, TREADLINK);
	if (r == 0) {
		const char *s = get_str(p, &n);
		r = p9_done(p, TREADLINK, (long)n);
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
	p9_begin(p, TCLUNK);
	put32(p, fid);
	long r = p9_transact(p, TCLUNK);
	mutex_unlock(&p->lock);
	p9_fid_free(p, fid); /* the fid is gone even when Rclunk is an error */
	return r;
}

/* A request whose reply is a qid (Rmkdir, Rsymlink). */
static long qid_reply(struct p9_dev *p, uint8_t t, struct p9_qid *qid)
{
	long r = p9_transact(p, t);
	if (r == 0) {
		struct p9_qid q;
		get_qid(p, &q);
		r = p9_done(p, t, 0);
		if (r == 0 && qid)
			*qid = q;
	}
	return r;
}

long p9_mkdir(struct p9_dev *p, uint32_t dfid, const char *name, uint32_t mode, struct p9_qid *qid)
{
	mutex_lock(&p->lock);
	p9_begin(p, TMKDIR);
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
	p9_begin(p, TSYMLINK);
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
	p9_begin(p, TLINK);
	put32(p, dfid);
	put32(p, fid);
	put_str(p, name);
	long r = p9_transact(p, TLINK);
	mutex_unlock(&p->lock);
	return r;
}

long p9_unlinkat(struct p9_dev *p, uint32_t dfid, const char *name, uint32_t flags)
{
	mutex_lock(&p->lock);
	p9_begin(p, TUNLINKAT);
	put32(p, dfid);
	put_str(p, name);
	put32(p, flags);
	long r = p9_transact(p, TUNLINKAT);
	mutex_unlock(&p->lock);
	return r;
}

long p9_renameat(struct p9_dev *p, uint32_t olddfid, const char *oldname, uint32_t newdfid,
		 const char *newname)
{
	mutex_lock(&p->lock);
	p9_begin(p, TRENAMEAT);
	put32(p, olddfid);
	put_str(p, oldname);
	put32(p, newdfid);
	put_str(p, newname);
	long r = p9_transact(p, TRENAMEAT);
	mutex_unlock(&p->lock);
	return r;
}

long p9_setattr(struct p9_dev *p, uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size,
		int64_t atime, int64_t mtime)
{
	mutex_lock(&p->lock);
	p9_begin(p, TSETATTR);
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
	long r = p9_transact(p, TSETATTR);
	mutex_unlock(&p->lock);
	return r;
}

long p9_fsync(struct p9_dev *p, uint32_t fid, bool datasync)
{
	mutex_lock(&p->lock);
	p9_begin(p, TFSYNC);
	put32(p, fid);
	put32(p, datasync ? 1 : 0);
	long r = p9_transact(p, TFSYNC);
	mutex_unlock(&p->lock);
	return r;
}

long p9_statfs(struct p9_dev *p, uint32_t fid, struct p9_statfs *s)
{
	mutex_lock(&p->lock);
	p9_begin(p, TSTATFS);
	put32(p, fid);
	long r = p9_transact(p, TSTATFS);
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
		r = p9_done(p, TSTATFS, 0);
	}
	mutex_unlock(&p->lock);
	return r;
}
