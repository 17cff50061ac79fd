// SPDX-License-Identifier: MIT
/*
 * Volumes (`ro` and `rw` mounts, docs/9p.md): below the mount point every
 * change goes to the host first and the tree follows only when the host
 * agreed, so the errors are the host's (Rlerror's errno).  File data is
 * not cached for read and write: each call is one or more Tread/Twrite at
 * the file's offset.  Pages of a mapped volume file are fetched like a
 * sys file's and written back on fsync, msync and when the last mapping
 * or descriptor goes (mfs_remote_writeback).  A read-only volume and
 * whatever a sys mount brought in answer -EROFS to every change.
 * remote.c owns lookups, listings and mounts.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "kernel/virtio/p9.h"
#include "minifs/minifs.h"
#include "minifs/remote.h"

/* The errno a change to ino meets when it cannot reach the host: -EROFS
 * for read-only ones, 0 for a rw volume's. */
static long may_change(const struct inode *ino)
{
	return mfs_where(ino) == MFS_HOST ? 0 : -EROFS;
}

long mfs_remote_read(struct inode *ino, struct uio *u, uint64_t off)
{
	struct mfs_remote *r = ino->remote;
	struct p9_dev *p = r->m->p;
	size_t chunk = p9_iosize(p), done = 0;

	long e = mfs_remote_open(ino, false);
	if (e < 0)
		return e;
	uint8_t *buf = kmalloc(MIN(chunk, u->count ? u->count : 1));
	if (!buf)
		return -ENOMEM;
	while (u->count) {
		size_t want = MIN(u->count, chunk);
		e = p9_read(p, r->ofid, off + done, buf, want);
		if (e <= 0)
			break;
		long c = uio_copy_out(u, buf, (size_t)e);
		if (c < 0) {
			e = c;
			break;
		}
		done += (size_t)c;
		if ((size_t)c < (size_t)e || (size_t)e < want)
			break;
	}
	kfree(buf);
	if (done && off + done > ino->size)
		ino->size = off + done; /* the host's file grew */
	return done ? (long)done : e;
}

/* Keeps cached pages (a mapping's) equal to what was just written. */
static void update_pages(struct inode *ino, uint64_t off, const uint8_t *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		uint64_t at = off + done, index = at / PAGE_SIZE;
		size_t n = MIN(len - done, PAGE_SIZE - at % PAGE_SIZE);
		if (index < ino->npages && ino->pages[index])
			memcpy((uint8_t *)phys_to_virt(ino->pages[index]) + at % PAGE_SIZE, buf + done,
			       n);
		done += n;
	}
}

long mfs_remote_write(struct inode *ino, struct uio *u, uint64_t off)
{
	long e = may_change(ino);
	if (e < 0)
		return e;
	if (!u->count)
		return 0;
	if ((e = mfs_remote_open(ino, true)) < 0)
		return e;
	struct mfs_remote *r = ino->remote;
	size_t chunk = p9_iosize(r->m->p), done = 0;
	uint8_t *buf = kmalloc(MIN(chunk, u->count));
	if (!buf)
		return -ENOMEM;
	while (u->count) {
		long c = uio_copy_in(u, buf, MIN(u->count, chunk));
		if (c <= 0) {
			e = c < 0 ? c : 0;
			break;
		}
		e = p9_write(r->m->p, r->ofid, off + done, buf, (size_t)c);
		if (e <= 0)
			break;
		update_pages(ino, off + done, buf, (size_t)e);
		done += (size_t)e;
		if (e < c)
			break;
	}
	kfree(buf);
	if (done) {
		ino->size = MAX(ino->size, off + done);
		mfs_touch(ino, true);
	}
	return done ? (long)done : e;
}

long mfs_remote_truncate(struct inode *ino, uint64_t size)
{
	long e = may_change(ino);
	if (e < 0)
		return e;
	return p9_setattr(ino->remote->m->p, ino->remote->fid, P9_ATTR_SIZE, 0, size, 0, 0);
}

long mfs_remote_setattr(struct inode *ino, uint32_t valid, uint32_t mode, int64_t atime, int64_t mtime)
{
	long e = may_change(ino);
	if (e < 0)
		return e;
	return p9_setattr(ino->remote->m->p, ino->remote->fid, valid, mode, 0, atime, mtime);
}

long mfs_remote_refresh(struct inode *ino)
{
	struct p9_attr a;

	if (!mfs_remote_volume(ino) || ino->remote->fid == P9_NOFID)
		return 0;
	long e = p9_getattr(ino->remote->m->p, ino->remote->fid, &a);
	if (e == 0)
		mfs_remote_set_attr(ino, &a);
	return e;
}

long mfs_remote_writeback(struct inode *ino)
{
	struct mfs_remote *r = ino->remote;

	if (mfs_where(ino) != MFS_HOST || (ino->mode & S_IFMT) != S_IFREG || !ino->pages)
		return 0;
	long e = 0;
	for (uint64_t i = 0; i < ino->npages && i * PAGE_SIZE < ino->size && e >= 0; i++) {
		if (!ino->pages[i])
			continue;
		if ((e = mfs_remote_open(ino, true)) < 0)
			break;
		size_t n = MIN(PAGE_SIZE, ino->size - i * PAGE_SIZE);
		e = p9_write(r->m->p, r->ofid, i * PAGE_SIZE, phys_to_virt(ino->pages[i]), n);
	}
	return e < 0 ? e : 0;
}

long mfs_remote_fsync(struct inode *ino, bool datasync)
{
	long e = mfs_remote_writeback(ino);
	if (e < 0 || mfs_where(ino) != MFS_HOST)
		return e;
	struct mfs_remote *r = ino->remote;
	return p9_fsync(r->m->p, r->ofid != P9_NOFID ? r->ofid : r->fid, datasync);
}

/* ---- changes to directories --------------------------------------------------- */

/* Brings name (just made on the host in dir) into the tree. */
static long bring_in(struct inode *dir, const char *name, struct inode **out)
{
	struct inode *ino = NULL;

	mfs_unlink(dir, name, strlen(name)); /* a stale entry of the same name */
	long e = mfs_remote_lookup(dir, name, strlen(name), &ino);
	if (e == 0 && !ino)
		e = -ENOENT; /* gone again already */
	if (out)
		*out = ino;
	return e;
}

long mfs_remote_create(struct inode *dir, const char *name, unsigned flags, uint32_t mode,
		       struct inode **out)
{
	struct mfs_remote *r = dir->remote;
	uint32_t f;
	long e = may_change(dir);

	if (e < 0)
		return e;
	if ((e = p9_walk(r->m->p, r->fid, NULL, NULL, 0, &f, NULL)) < 0)
		return e;
	e = p9_lcreate(r->m->p, f, name, (flags & ~O_ACCMODE & (O_EXCL | O_APPEND)) | O_RDWR, mode,
		       NULL);
	if (e < 0) {
		p9_clunk(r->m->p, f);
		return e;
	}
	mfs_lock();
	e = bring_in(dir, name, out);
	if (e == 0 && (*out)->remote->ofid == P9_NOFID) {
		(*out)->remote->ofid = f; /* the created file, open read-write */
		(*out)->remote->ofid_rw = true;
		f = P9_NOFID;
	}
	mfs_unlock();
	p9_clunk(r->m->p, f);
	return e;
}

long mfs_remote_mkdir(struct inode *dir, const char *name, uint32_t mode)
{
	long e = may_change(dir);

	if (e == 0)
		e = p9_mkdir(dir->remote->m->p, dir->remote->fid, name, mode, NULL);
	if (e == 0) {
		mfs_lock();
		e = bring_in(dir, name, NULL);
		mfs_unlock();
	}
	return e;
}

long mfs_remote_symlink(struct inode *dir, const char *name, const char *target)
{
	long e = may_change(dir);

	if (e == 0)
		e = p9_symlink(dir->remote->m->p, dir->remote->fid, name, target, NULL);
	if (e == 0) {
		mfs_lock();
		e = bring_in(dir, name, NULL);
		mfs_unlock();
	}
	return e;
}

/* A mount point stays: it is not the share's to remove or move. */
static bool is_top(const struct inode *ino)
{
	return ino->remote && ino->remote->m->top == ino;
}

long mfs_remote_unlink(struct inode *dir, const char *name, struct inode *ino, bool is_dir)
{
	long e = is_top(ino) || !dir->remote ? -EBUSY : may_change(ino);

	if (e < 0)
		return e;
	e = p9_unlinkat(dir->remote->m->p, dir->remote->fid, name, is_dir ? AT_REMOVEDIR : 0);
	if (e == 0) {
		mfs_lock();
		mfs_unlink(dir, name, strlen(name));
		mfs_unlock();
	}
	return e;
}

/* The mount an inode's changes belong to: NULL for the tree's own. */
static const struct mfs_mount *mount_of(const struct inode *ino)
{
	return mfs_where(ino) == MFS_LOCAL ? NULL : ino->remote->m;
}

/* Both ends of a rename or link, as Linux checks them: another mount is
 * -EXDEV, then a read-only one -EROFS. */
static long same_volume(const struct inode *a, const struct inode *dir)
{
	if (mount_of(a) != mount_of(dir))
		return -EXDEV;
	return may_change(a);
}

long mfs_remote_rename(struct inode *src, struct inode *odir, const char *oname, struct inode *ndir,
		       const char *nname)
{
	long e = is_top(src) ? -EBUSY : same_volume(src, ndir);

	if (e == 0)
		e = p9_renameat(odir->remote->m->p, odir->remote->fid, oname, ndir->remote->fid, nname);
	return e;
}

long mfs_remote_link(struct inode *ino, struct inode *dir, const char *name)
{
	long e = same_volume(ino, dir);

	if (e == 0)
		e = p9_link(dir->remote->m->p, dir->remote->fid, ino->remote->fid, name);
	return e;
}

long mfs_remote_statfs(struct inode *ino, struct statfs *s)
{
	struct p9_statfs h;

	if (!mfs_remote_volume(ino))
		return -ENOSYS;
	long e = p9_statfs(ino->remote->m->p, ino->remote->fid, &h);
	if (e < 0)
		return e;
	memset(s, 0, sizeof(*s));
	s->f_type = 0x01021997; /* V9FS_MAGIC, as Linux's 9p mount reports */
	s->f_bsize = s->f_frsize = h.bsize;
	s->f_blocks = h.blocks;
	s->f_bfree = h.bfree;
	s->f_bavail = h.bavail;
	s->f_files = h.files;
	s->f_ffree = h.ffree;
	s->f_namelen = h.namelen;
	return 0;
}
