// SPDX-License-Identifier: MIT
/*
 * The host's files in minifs's tree, through the 9P client of
 * kernel/virtio/9p.c (docs/9p.md).  Each mount= word on the command line
 * joins a share at a guest path: a `sys` mount is a read-only fallback
 * under the image (a name an image directory lacks is walked on the host,
 * once, and the result, positive or negative, is cached in the tree), a
 * volume (`ro`, `rw`) owns everything below its mount point.  Inodes the
 * host gives are ordinary minifs inodes with a struct mfs_remote beside
 * them: sys files fetch their pages lazily (data.c calls mfs_remote_fill)
 * and keep them; volume files read and write through to the host
 * (remote_vol.c).  Directory listings merge the tree's entries and the
 * host's (remote_dir.c, which also reads the mount= words).  The tree
 * lock is held around every lookup, so the round trips of a walk happen
 * under it.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "kernel/virtio/p9.h"
#include "minifs/minifs.h"
#include "minifs/remote.h"

#define NAMESET_BUCKETS 64

bool mfs_remote_trace;
/* rw volume files whose pages were fetched (mapped): written back at exit. */
static struct inode *mapped;
/* Serialises the filling of sys files' pages, so that two threads
 * faulting on one page do not both fetch it. */
static struct mutex fill_lock = MUTEX_INIT("mfs remote fill");

/* ---- name sets: a directory's misses, or its whole host listing ------------- */

struct name_node {
	struct name_node *next;
	size_t len;
	char name[];
};

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h % NAMESET_BUCKETS;
}

bool mfs_nameset_has(struct name_node *const *set, const char *s, size_t len)
{
	if (!set)
		return false;
	for (const struct name_node *n = set[name_hash(s, len)]; n; n = n->next)
		if (n->len == len && !memcmp(n->name, s, len))
			return true;
	return false;
}

void mfs_nameset_add(struct name_node ***set, const char *s, size_t len)
{
	if (!*set && !(*set = kzalloc(NAMESET_BUCKETS * sizeof(**set))))
		return; /* a cache: forgetting is harmless */
	struct name_node *n = kmalloc(sizeof(*n) + len);
	if (!n)
		return;
	n->len = len;
	memcpy(n->name, s, len);
	struct name_node **b = &(*set)[name_hash(s, len)];
	n->next = *b;
	*b = n;
}

void mfs_nameset_free(struct name_node ***set)
{
	if (!*set)
		return;
	for (int i = 0; i < NAMESET_BUCKETS; i++)
		while ((*set)[i]) {
			struct name_node *n = (*set)[i];
			(*set)[i] = n->next;
			kfree(n);
		}
	kfree(*set);
	*set = NULL;
}

/* ---- remote inodes ------------------------------------------------------------- */

struct mfs_remote *mfs_remote_new(struct mfs_mount *m, uint32_t fid)
{
	struct mfs_remote *r = kzalloc(sizeof(*r));

	if (!r)
		return NULL;
	r->m = m;
	r->fid = fid;
	r->ofid = P9_NOFID;
	return r;
}

void mfs_remote_free(struct inode *ino)
{
	struct mfs_remote *r = ino->remote;

	if (!r)
		return;
	if (r->fid != P9_NOFID && r->fid != r->m->base)
		p9_clunk(r->m->p, r->fid);
	if (r->ofid != r->fid)
		p9_clunk(r->m->p, r->ofid);
	mfs_nameset_free(&r->misses);
	mfs_nameset_free(&r->listing);
	kfree(r);
	ino->remote = NULL;
}

bool mfs_remote_volume(const struct inode *ino)
{
	return ino->remote && ino->remote->m->kind != MOUNT_SYS;
}

enum mfs_where mfs_where(const struct inode *ino)
{
	const struct mfs_remote *r = ino->remote;

	if (!r || (r->m->kind == MOUNT_SYS && r->image))
		return MFS_LOCAL;
	return r->m->kind == MOUNT_RW ? MFS_HOST : MFS_READONLY;
}

void mfs_remote_set_attr(struct inode *ino, const struct p9_attr *a)
{
	ino->mode = (ino->mode & S_IFMT) | (a->mode & 07777);
	ino->uid = 0; /* the program runs as root and owns what it sees */
	ino->gid = 0;
	ino->size = (ino->mode & S_IFMT) == S_IFDIR ? 0 : a->size;
	ino->atime = a->atime;
	ino->mtime = a->mtime;
	ino->ctime = a->ctime;
}

/* The fid of a remote directory, walking it from its mount's base the
 * first time (image directories under a sys mount are walked only when a
 * miss needs the host).  P9_NOFID when the host has no such directory. */
uint32_t mfs_remote_dir_fid(struct inode *dir)
{
	struct mfs_remote *r = dir->remote;
	const char *names[P9_MAXWELEM];
	size_t lens[P9_MAXWELEM];

	if (r->fid != P9_NOFID || r->absent)
		return r->fid;
	/* The names from the mount point down to dir, deepest last. */
	int depth = 0;
	for (struct inode *i = dir; i != r->m->top; i = i->parent) {
		if (i == mfs_root || !i->parent)
			return P9_NOFID;
		depth++;
	}
	uint32_t fid = mfs_mount_base(r->m);
	struct p9_qid q;
	bool own = false;

	if (fid == P9_NOFID) {
		r->absent = true;
		return P9_NOFID;
	}
	while (depth > 0) {
		int n = MIN(depth, P9_MAXWELEM), k = n;
		/* Components depth-n+1 .. depth (counted from dir upward). */
		struct inode *i = dir;
		for (int skip = 0; skip < depth - n; skip++)
			i = i->parent;
		for (; k > 0; k--, i = i->parent) {
			const struct dentry *d = mfs_entry_of(i->parent, i);
			if (!d)
				return P9_NOFID;
			names[k - 1] = d->name;
			lens[k - 1] = d->len;
		}
		uint32_t nf;
		long e = p9_walk(r->m->p, fid, names, lens, n, &nf, &q);
		if (own)
			p9_clunk(r->m->p, fid);
		if (e < 0) {
			r->absent = e == -ENOENT || e == -ENOTDIR;
			return P9_NOFID;
		}
		fid = nf;
		own = true;
		depth -= n;
	}
	r->fid = fid;
	return fid;
}

/* The absolute guest path of name in dir, into buf; false if too long. */
static bool child_path(struct inode *dir, const char *name, size_t len, char *buf, size_t size)
{
	long n = mfs_dir_path(dir, buf, size);

	if (n < 0 || (size_t)n + len + 2 > size)
		return false;
	if (n > 1)
		buf[n++] = '/';
	memcpy(buf + n, name, len);
	buf[n + len] = 0;
	return true;
}

static char *kstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = kmalloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/*
 * Makes the inode for host file fid (walked from dir as name) and links
 * it into dir.  Takes over fid.  Called with the tree lock held.
 */
static long instantiate(struct inode *dir, const char *name, size_t len, uint32_t fid,
			struct inode **out)
{
	struct mfs_mount *m = dir->remote->m;
	struct p9_attr a = { 0 };
	char *path = kmalloc(PATH_MAX);
	long e = path ? p9_getattr(m->p, fid, &a) : -ENOMEM;
	unsigned type = a.mode & S_IFMT;
	struct inode *ino = NULL;

	if (e == 0 && type != S_IFDIR && type != S_IFREG && type != S_IFLNK)
		e = -ENOENT; /* devices, fifos and sockets of the host stay there */
	if (e == 0 && !(ino = mfs_new(type)))
		e = -ENOMEM;
	if (e == 0 && !(ino->remote = mfs_remote_new(m, fid)))
		e = -ENOMEM;
	if (e < 0)
		goto fail;
	mfs_remote_set_attr(ino, &a);
	ino->ino = a.qid.path;
	if (type == S_IFLNK) {
		char *t = kmalloc(PATH_MAX);
		e = t ? p9_readlink(m->p, fid, t, PATH_MAX) : -ENOMEM;
		if (e < 0) {
			kfree(t);
			goto fail;
		}
		ino->target = t;
		ino->size = (uint64_t)e;
	}
	bool have_path = child_path(dir, name, len, path, PATH_MAX);
	if (type == S_IFREG && have_path)
		ino->path = kstrdup(path);
	if (type == S_IFDIR)
		ino->nlink = 1; /* its "." */
	/* Bringing an entry in is no change to dir: keep its times. */
	int64_t mt = dir->mtime, ct = dir->ctime;
	e = mfs_link(dir, name, len, ino);
	dir->mtime = mt;
	dir->ctime = ct;
	if (e < 0)
		goto fail;
	if (mfs_remote_trace && m->kind == MOUNT_SYS && have_path)
		klog("@@used %s", path);
	kfree(path);
	*out = ino;
	return 0;
fail:
	if (ino) {
		mfs_remote_free(ino); /* clunks fid */
		kfree(ino->target);
		kfree(ino->path);
		kfree(ino);
	} else {
		p9_clunk(m->p, fid);
	}
	kfree(path);
	return e;
}

long mfs_remote_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	struct mfs_remote *r = dir->remote;
	bool sys = r->m->kind == MOUNT_SYS;

	*out = NULL;
	if (sys && (r->complete ? !mfs_nameset_has(r->listing, name, len)
				: mfs_nameset_has(r->misses, name, len)))
		return 0;
	uint32_t dfid = mfs_remote_dir_fid(dir);
	if (dfid == P9_NOFID)
		return 0;
	uint32_t fid;
	struct p9_qid q;
	const char *names[1] = { name };
	long e = p9_walk(r->m->p, dfid, names, &len, 1, &fid, &q);
	if (e == 0)
		e = instantiate(dir, name, len, fid, out);
	if (e == -ENOENT && sys && !r->complete)
		mfs_nameset_add(&r->misses, name, len);
	if (e == -ENOENT || e == -ENOTDIR)
		return 0;
	return e;
}

/* ---- page cache of sys files -------------------------------------------------------- */

/* Reads the pages [index, index + n) of ino from the host into fresh pages;
 * a page already there stops the run. */
long mfs_remote_fill(struct inode *ino, uint64_t index, size_t n)
{
	struct mfs_remote *r = ino->remote;
	struct p9_dev *p = r->m->p;

	mutex_lock(&fill_lock);
	long e = 0;
	if (ino->pages[index])
		goto out;
	if (r->ofid == P9_NOFID && (e = mfs_remote_open(ino, false)) < 0)
		goto out;
	size_t per = p9_iosize(p) / PAGE_SIZE;
	n = MIN(n, per);
	while (n > 1 && ino->pages[index + n - 1])
		n--;
	uint64_t pa[32];
	n = MIN(n, ARRAY_SIZE(pa));
	for (size_t i = 0; i < n; i++)
		if (ino->pages[index + i] || !(pa[i] = page_alloc()))
			n = i;
	if (n == 0) {
		e = -ENOMEM;
		goto out;
	}
	/* One read per run of pages: contiguous in the file, but not in
	 * memory, so read into the first and spread. */
	uint8_t *buf = kmalloc(n * PAGE_SIZE);
	e = buf ? p9_read(p, r->ofid, index * PAGE_SIZE, buf, n * PAGE_SIZE) : -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (e < 0) {
			page_free(pa[i]);
			continue;
		}
		size_t got = (size_t)e > i * PAGE_SIZE ? MIN((size_t)e - i * PAGE_SIZE, PAGE_SIZE) : 0;
		memcpy(phys_to_virt(pa[i]), buf + i * PAGE_SIZE, got);
		ino->pages[index + i] = pa[i];
	}
	kfree(buf);
	if (e > 0)
		e = 0;
	if (e == 0 && mfs_where(ino) == MFS_HOST && !r->on_list) {
		r->on_list = true; /* the list holds a reference */
		r->next_mapped = mapped;
		mapped = ino;
		mfs_get(ino);
	}
out:
	mutex_unlock(&fill_lock);
	if (e < 0)
		klog("9p: %s: page %lu not read from the host (error %ld)",
		     ino->path ? ino->path : "a file", index, e);
	return e;
}

/* Opens ino's I/O fid: read-write on a rw volume when write is asked (or
 * when the host allows it, so one fid serves both), else read-only. */
long mfs_remote_open(struct inode *ino, bool write)
{
	struct mfs_remote *r = ino->remote;
	struct p9_dev *p = r->m->p;
	uint32_t f;

	if (r->ofid != P9_NOFID && (r->ofid_rw || !write))
		return 0;
	if (r->m->kind == MOUNT_SYS && (ino->mode & S_IFMT) == S_IFREG) {
		if (write)
			return -EROFS;
		/* A sys file is never walked from: open its own fid and save
		 * a round trip (and a fid) per file. */
		long e = p9_lopen(p, r->fid, O_RDONLY, NULL);
		if (e >= 0) /* the iounit */
			r->ofid = r->fid;
		return e < 0 ? e : 0;
	}
	long e = p9_walk(p, r->fid, NULL, NULL, 0, &f, NULL);
	if (e < 0)
		return e;
	bool rw = r->m->kind == MOUNT_RW && (ino->mode & S_IFMT) == S_IFREG;
	e = rw ? p9_lopen(p, f, O_RDWR, NULL) : -EROFS;
	if (e < 0 && !write)
		rw = false, e = p9_lopen(p, f, O_RDONLY, NULL);
	if (e < 0) {
		p9_clunk(p, f);
		return e;
	}
	p9_clunk(p, r->ofid);
	r->ofid = f;
	r->ofid_rw = rw;
	return 0;
}

void mfs_remote_writeback_mapped(void)
{
	while (mapped) {
		struct inode *ino = mapped;
		mapped = ino->remote->next_mapped;
		long e = mfs_remote_writeback(ino);
		if (e < 0)
			klog("9p: %s: mapped pages not written back (error %ld)",
			     ino->path ? ino->path : "a file", e);
	}
}
