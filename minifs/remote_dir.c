// SPDX-License-Identifier: MIT
/*
 * The shares' places in the tree and what getdents64 lists there
 * (docs/9p.md).  mfs_remote_init reads the mount= words at boot: a sys
 * mount marks the image's directories at and below its guest path as
 * host-backed (walked on the host only when a miss needs it), a volume
 * takes its guest path over.  Listings of host-backed directories are
 * snapshots merging the tree and the host.  Lookups and file data are
 * remote.c's; changes below volumes remote_vol.c's.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "kernel/virtio/p9.h"
#include "minifs/minifs.h"
#include "minifs/remote.h"

#define MAX_MOUNTS 16

static struct mfs_mount mounts[MAX_MOUNTS];
static int nmounts;

/* ---- directory listings -------------------------------------------------------------- */

/*
 * A directory's entries as getdents64 shows them, fixed when a listing
 * starts (f->off 0), so that lookups made while the program reads it (ls
 * -l) do not shift positions: the tree's entries first (the image's, and
 * what was brought in), then the host's that the tree lacks.  On a volume
 * only the host's.  A sys directory read whole this way is "complete":
 * later misses are answered from its listing without a round trip.
 */
struct mfs_dirsnap {
	size_t n, cap;
	struct mfs_dirent *e;
	char *names;
	size_t names_len, names_cap;
};

static bool snap_add(struct mfs_dirsnap *s, const char *name, size_t len, uint64_t ino, uint8_t type)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct mfs_dirent *e = kmalloc(cap * sizeof(*e));
		if (!e)
			return false;
		if (s->e)
			memcpy(e, s->e, s->n * sizeof(*e));
		kfree(s->e);
		s->e = e;
		s->cap = cap;
	}
	if (s->names_len + len + 1 > s->names_cap) {
		size_t cap = MAX(s->names_cap * 2, s->names_len + len + 1 + 1024);
		char *b = kmalloc(cap);
		if (!b)
			return false;
		if (s->names)
			memcpy(b, s->names, s->names_len);
		kfree(s->names);
		s->names = b;
		s->names_cap = cap;
	}
	memcpy(s->names + s->names_len, name, len);
	s->names[s->names_len + len] = 0;
	s->e[s->n++] = (struct mfs_dirent){ s->names_len, len, ino, type };
	s->names_len += len + 1;
	return true;
}

void mfs_dirsnap_free(struct mfs_dirsnap *s)
{
	if (!s)
		return;
	kfree(s->e);
	kfree(s->names);
	kfree(s);
}

bool mfs_dirsnap_get(const struct mfs_dirsnap *s, size_t i, struct mfs_dirent *e, const char **name)
{
	if (i >= s->n)
		return false;
	*e = s->e[i];
	*name = s->names + e->name_off;
	return true;
}

/* Adds the host's entries of dir that the tree lacks (all of them on a
 * volume); fills the listing of a sys directory. */
static long snap_host(struct inode *dir, struct mfs_dirsnap *s)
{
	struct mfs_remote *r = dir->remote;
	struct p9_dev *p = r->m->p;
	bool sys = r->m->kind == MOUNT_SYS;
	uint32_t dfid = mfs_remote_dir_fid(dir), f;
	size_t bufsize = p9_iosize(p);

	if (dfid == P9_NOFID)
		return 0; /* nothing of it on the host */
	long e = p9_walk(p, dfid, NULL, NULL, 0, &f, NULL);
	if (e < 0)
		return e;
	uint8_t *buf = kmalloc(bufsize);
	e = buf ? p9_lopen(p, f, O_RDONLY | O_DIRECTORY, NULL) : -ENOMEM;
	struct name_node **listing = NULL;
	uint64_t off = 0;
	while (e >= 0) {
		e = p9_readdir(p, f, off, buf, bufsize);
		if (e <= 0)
			break;
		size_t pos = 0, len = (size_t)e;
		struct p9_dirent d;
		int k;
		while ((k = p9_dirent_next(buf, len, &pos, &d)) > 0) {
			off = d.offset;
			if ((d.len == 1 && d.name[0] == '.') ||
			    (d.len == 2 && d.name[0] == '.' && d.name[1] == '.'))
				continue;
			if (sys)
				mfs_nameset_add(&listing, d.name, d.len);
			if (sys && mfs_dir_lookup(dir, d.name, d.len))
				continue; /* the image's, or brought in: listed already */
			if (!snap_add(s, d.name, d.len, d.qid.path, d.type)) {
				e = -ENOMEM;
				break;
			}
		}
		if (k < 0) {
			klog("9p: a malformed Rreaddir entry");
			e = -EIO;
		}
	}
	p9_clunk(p, f);
	kfree(buf);
	if (e == 0 && sys) {
		mfs_nameset_free(&r->listing);
		mfs_nameset_free(&r->misses);
		r->listing = listing;
		r->complete = true;
	} else {
		mfs_nameset_free(&listing);
	}
	return e;
}

long mfs_remote_snapshot(struct inode *dir, struct mfs_dirsnap **out)
{
	struct mfs_dirsnap *s = kzalloc(sizeof(*s));

	mfs_assert_locked();
	if (!s)
		return -ENOMEM;
	if (!mfs_remote_volume(dir))
		for (struct dentry *d = dir->children; d; d = d->next)
			if (!snap_add(s, d->name, d->len, d->inode->ino, mfs_dtype(d->inode))) {
				mfs_dirsnap_free(s);
				return -ENOMEM;
			}
	long e = snap_host(dir, s);
	if (e < 0) {
		mfs_dirsnap_free(s);
		return e;
	}
	*out = s;
	return 0;
}

/* ---- mounts ------------------------------------------------------------------------ */

/* Marks dir and every directory below it as backed by m (walked lazily). */
static void mark_sys(struct inode *dir, struct mfs_mount *m, uint32_t fid)
{
	if (dir->remote)
		mfs_remote_free(dir);
	dir->remote = mfs_remote_new(m, fid);
	if (!dir->remote)
		return;
	dir->remote->image = true;
	for (struct dentry *d = dir->children; d; d = d->next)
		if ((d->inode->mode & S_IFMT) == S_IFDIR && d->inode != dir)
			mark_sys(d->inode, m, P9_NOFID);
}

/* The directory at path, made with its parents when missing; NULL when
 * something else is in the way. */
static struct inode *make_dirs(const char *path)
{
	struct inode *cur = mfs_root;

	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *q = p;
		while (*q && *q != '/')
			q++;
		if (q == p)
			break;
		struct inode *next = mfs_dir_lookup(cur, p, (size_t)(q - p));
		if (!next) {
			char name[NAME_MAX + 1];
			size_t n = MIN((size_t)(q - p), (size_t)NAME_MAX);
			memcpy(name, p, n);
			name[n] = 0;
			next = mfs_create(cur, name, S_IFDIR | 0755);
		}
		if (!next || (next->mode & S_IFMT) != S_IFDIR || next->gen)
			return NULL; /* nor inside a generated directory */
		cur = next;
		p = q;
	}
	return cur;
}

/* Walks subdir (slash-separated, may be empty) from the share's root. */
static long walk_subdir(struct p9_dev *p, uint32_t root, const char *sub, uint32_t *out)
{
	const char *names[P9_MAXWELEM];
	size_t lens[P9_MAXWELEM];
	uint32_t fid = root;
	struct p9_qid q = { P9_QTDIR, 0, 0 };
	long e = 0;

	for (const char *s = sub; e == 0;) {
		int n = 0;
		while (n < P9_MAXWELEM && *s) {
			while (*s == '/')
				s++;
			const char *end = s;
			while (*end && *end != '/')
				end++;
			if ((end - s == 1 && s[0] == '.') ||
			    (end - s == 2 && s[0] == '.' && s[1] == '.')) {
				if (fid != root)
					p9_clunk(p, fid);
				return -EINVAL; /* SUBDIR stays inside the share */
			}
			if (end != s) {
				names[n] = s;
				lens[n++] = (size_t)(end - s);
			}
			s = end;
		}
		uint32_t nf;
		e = p9_walk(p, fid, names, lens, n, &nf, &q);
		if (e == 0 && n > 0 && !(q.type & P9_QTDIR)) {
			p9_clunk(p, nf);
			e = -ENOTDIR;
		}
		if (fid != root)
			p9_clunk(p, fid);
		if (e == 0)
			fid = nf;
		if (!*s)
			break;
	}
	*out = fid;
	return e;
}

/* One mount=TAG:GUESTPATH:KIND[:SUBDIR] word. */
static bool mount_word(const char *v, size_t len, void *arg)
{
	char w[512], *f[4] = { w, NULL, NULL, NULL };
	int nf = 1;

	(void)arg;
	if (len >= sizeof(w) || nmounts == MAX_MOUNTS) {
		klog("9p: mount=%.*s: too long, or more than %d mounts", (int)len, v, MAX_MOUNTS);
		return true;
	}
	memcpy(w, v, len);
	w[len] = 0;
	for (char *c = w; *c && nf < 4; c++)
		if (*c == ':') {
			*c = 0;
			f[nf++] = c + 1;
		}
	int kind = !f[2]                  ? -1
		   : !strcmp(f[2], "sys") ? MOUNT_SYS
		   : !strcmp(f[2], "ro")  ? MOUNT_RO
		   : !strcmp(f[2], "rw")  ? MOUNT_RW
					  : -1;
	if (kind < 0 || f[1][0] != '/') {
		klog("9p: mount=%.*s: expected TAG:/GUESTPATH:sys|ro|rw[:SUBDIR]", (int)len, v);
		return true;
	}
	struct p9_dev *p = p9_find(f[0], strlen(f[0]));
	if (!p) {
		klog("9p: mount=%.*s: no virtio-9p device has tag %s", (int)len, v, f[0]);
		return true;
	}
	if (f[3] && strlen(f[3]) >= sizeof(mounts[0].sub)) {
		klog("9p: mount=%.*s: SUBDIR too long", (int)len, v);
		return true;
	}
	/* A sys mount asks the host nothing until a miss needs it; a volume
	 * is attached now, since everything below it is the host's. */
	long root = kind == MOUNT_SYS ? 0 : p9_root(p);
	uint32_t base = P9_NOFID;
	if (kind != MOUNT_SYS &&
	    (root < 0 || walk_subdir(p, (uint32_t)root, f[3] ? f[3] : "", &base) < 0)) {
		klog("9p: mount=%.*s: the share has no such directory", (int)len, v);
		return true;
	}
	struct mfs_mount *m = &mounts[nmounts];
	mfs_lock();
	struct walk at;
	bool link = mfs_walk(mfs_root, f[1], 0, &at) == 0 && (at.inode->mode & S_IFMT) == S_IFLNK;
	struct inode *top = link ? NULL : make_dirs(f[1]);
	if (!top || top == mfs_root) {
		mfs_unlock();
		/* A link in the image (/lib -> usr/lib on a merged-/usr image)
		 * already leads where the image wants: it is kept. */
		if (link)
			kdebug("9p: mount=%.*s: %s is a symlink in the image; kept", (int)len, v, f[1]);
		else
			klog("9p: mount=%.*s: %s is not a directory here", (int)len, v, f[1]);
		if (base != P9_NOFID && base != (uint32_t)root)
			p9_clunk(p, base);
		return true;
	}
	*m = (struct mfs_mount){ .p = p, .kind = kind, .base = base, .top = top };
	if (f[3])
		memcpy(m->sub, f[3], strlen(f[3]) + 1);
	nmounts++;
	if (kind == MOUNT_SYS) {
		mark_sys(top, m, base);
	} else {
		struct p9_attr a;
		mfs_clear_dir(top); /* the volume hides what the image had there */
		if (top->remote)
			mfs_remote_free(top);
		top->remote = mfs_remote_new(m, base);
		if (p9_getattr(p, base, &a) == 0)
			mfs_remote_set_attr(top, &a);
	}
	mfs_unlock();
	kdebug("9p: %s on %s (%s)", f[0], f[1], f[2]);
	return true;
}

uint32_t mfs_mount_base(struct mfs_mount *m)
{
	if (m->base != P9_NOFID || m->failed)
		return m->base;
	long root = p9_root(m->p);
	uint32_t base;
	if (root < 0 || walk_subdir(m->p, (uint32_t)root, m->sub, &base) < 0) {
		klog("9p: %s: the share has no directory '%s'; nothing is read from it", p9_tag(m->p),
		     m->sub);
		m->failed = true;
		return P9_NOFID;
	}
	m->base = base;
	return base;
}

void mfs_remote_init(void)
{
	char buf[4];

	mfs_remote_trace = cmdline_get("trace", buf, sizeof(buf)) && buf[0] == '1';
	cmdline_each("mount", mount_word, NULL);
}

void mfs_remote_exit(void)
{
	mfs_remote_writeback_mapped();
	for (int i = 0; i < nmounts; i++)
		if (i == 0 || mounts[i].p != mounts[i - 1].p)
			kdebug("9p: %s: %lu requests", p9_tag(mounts[i].p), p9_requests(mounts[i].p));
}
