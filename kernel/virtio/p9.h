/* SPDX-License-Identifier: MIT */
/*
 * The 9P2000.L client over virtio-9p (kernel/virtio/9p.c), as minifs's
 * remote layer (minifs/remote.c) uses it.  One struct p9_dev per device
 * (one per share, found by its mount tag).  Every call is one round trip,
 * made while no other request of that device is in flight; each returns
 * >= 0 or -errno, the host's errno when it answered Rlerror and -EIO for a
 * reply that does not parse.  Fids are the client's numbers: p9_fid_alloc
 * hands out free ones, p9_clunk gives them back.  Data moves through
 * kernel buffers only; the caller copies to or from the program.
 */
#ifndef KERNEL_VIRTIO_P9_H
#define KERNEL_VIRTIO_P9_H

#include "kernel/kernel.h"

#define P9_NOFID 0xffffffffU

/* qid.type bits (9P's QTDIR, QTSYMLINK). */
#define P9_QTDIR 0x80
#define P9_QTSYMLINK 0x02

/* Tsetattr's valid bits (Linux's include/net/9p/9p.h, P9_ATTR_*). */
#define P9_ATTR_MODE 0x1
#define P9_ATTR_SIZE 0x8
#define P9_ATTR_ATIME 0x10
#define P9_ATTR_MTIME 0x20
#define P9_ATTR_CTIME 0x40
#define P9_ATTR_ATIME_SET 0x80
#define P9_ATTR_MTIME_SET 0x100

/* Twalk carries at most this many names (9P's MAXWELEM). */
#define P9_MAXWELEM 16

struct p9_qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

/* What Rgetattr says of a file (the basic fields). */
struct p9_attr {
	struct p9_qid qid;
	uint32_t mode, uid, gid;
	uint64_t nlink, rdev, size, blocks;
	int64_t atime, mtime, ctime; /* ns since the epoch */
};

struct p9_statfs {
	uint32_t type, bsize, namelen;
	uint64_t blocks, bfree, bavail, files, ffree;
};

/* One entry of a Treaddir reply, as p9_dirent_next parses it. */
struct p9_dirent {
	struct p9_qid qid;
	uint64_t offset;  /* where the next Treaddir starts after this one */
	uint8_t type;     /* DT_* */
	const char *name; /* not NUL-terminated */
	size_t len;
};

struct p9_dev;
struct virtio_dev;

long virtio_9p_probe(struct virtio_dev *d);
/* The device whose mount tag is tag[0..len), or NULL. */
struct p9_dev *p9_find(const char *tag, size_t len);
/* Negotiates the version and attaches the share's root to a new fid
 * (once per device; later calls return the same fid).  Returns the fid
 * (>= 0) or -errno. */
long p9_root(struct p9_dev *p);
/* The device's mount tag, NUL-terminated. */
const char *p9_tag(const struct p9_dev *p);
/* Round trips this device has made (for the verbose log). */
uint64_t p9_requests(const struct p9_dev *p);
/* A free fid number, or P9_NOFID when all are taken. */
uint32_t p9_fid_alloc(struct p9_dev *p);

/* Walks n names (n <= P9_MAXWELEM; n == 0 clones) from fid to a newly
 * allocated fid, stored in *newfid with the last qid in *qid.  -ENOENT
 * when a name is missing (the partial walk is not kept). */
long p9_walk(struct p9_dev *p, uint32_t fid, const char *const *names, const size_t *lens, int n,
	     uint32_t *newfid, struct p9_qid *qid);
long p9_getattr(struct p9_dev *p, uint32_t fid, struct p9_attr *a);
/* Opens fid with Linux open flags; returns the iounit (0: msize rules). */
long p9_lopen(struct p9_dev *p, uint32_t fid, uint32_t flags, struct p9_qid *qid);
/* Creates name in directory fid, which then stands for the opened file. */
long p9_lcreate(struct p9_dev *p, uint32_t fid, const char *name, uint32_t flags, uint32_t mode,
		struct p9_qid *qid);
/* The most bytes one p9_read or p9_write moves. */
size_t p9_iosize(const struct p9_dev *p);
/* Reads up to len (<= p9_iosize) bytes at off into buf; returns the count. */
long p9_read(struct p9_dev *p, uint32_t fid, uint64_t off, void *buf, size_t len);
long p9_write(struct p9_dev *p, uint32_t fid, uint64_t off, const void *buf, size_t len);
/* Fills buf with up to len bytes of Treaddir entries from offset off;
 * returns the bytes (0 at the end).  p9_dirent_next walks them: 1 with
 * *e filled, 0 at the end, -EIO for a malformed entry. */
long p9_readdir(struct p9_dev *p, uint32_t fid, uint64_t off, void *buf, size_t len);
int p9_dirent_next(const void *buf, size_t len, size_t *pos, struct p9_dirent *e);
/* The target of symlink fid, NUL-terminated in buf; returns its length. */
long p9_readlink(struct p9_dev *p, uint32_t fid, char *buf, size_t size);
long p9_clunk(struct p9_dev *p, uint32_t fid);
long p9_mkdir(struct p9_dev *p, uint32_t dfid, const char *name, uint32_t mode, struct p9_qid *qid);
long p9_symlink(struct p9_dev *p, uint32_t dfid, const char *name, const char *target,
		struct p9_qid *qid);
long p9_link(struct p9_dev *p, uint32_t dfid, uint32_t fid, const char *name);
/* flags: AT_REMOVEDIR or 0. */
long p9_unlinkat(struct p9_dev *p, uint32_t dfid, const char *name, uint32_t flags);
long p9_renameat(struct p9_dev *p, uint32_t olddfid, const char *oldname, uint32_t newdfid,
		 const char *newname);
/* valid: P9_ATTR_*; times in ns since the epoch. */
long p9_setattr(struct p9_dev *p, uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size,
		int64_t atime, int64_t mtime);
long p9_fsync(struct p9_dev *p, uint32_t fid, bool datasync);
long p9_statfs(struct p9_dev *p, uint32_t fid, struct p9_statfs *s);

#endif
