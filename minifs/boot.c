// SPDX-License-Identifier: MIT
/*
 * Building the tree at boot: every entry of the cpio image becomes an
 * inode (a later entry with the same name replaces an earlier one, as in
 * Linux's initramfs; missing parent directories are made), regular files
 * keep pointing at their bytes in the image, then /dev, /proc, /sys and a
 * writable /tmp are added.  The image stays in memory for the whole run.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "minifs/minifs.h"

static struct inode *make_dirs(const char *name, size_t len, const char **last, size_t *last_len)
{
	struct inode *dir = mfs_root;
	const char *p = name, *end = name + len;

	for (;;) {
		const char *q = p;
		while (q < end && *q != '/')
			q++;
		if (q == end) {
			*last = p;
			*last_len = q - p;
			return dir;
		}
		if (q > p) {
			struct inode *next = mfs_dir_lookup(dir, p, q - p);
			if (!next) {
				next = mfs_new(S_IFDIR | 0755);
				if (!next || mfs_link(dir, p, q - p, next) < 0)
					return NULL;
				next->nlink++; /* "." */
			}
			if ((next->mode & S_IFMT) != S_IFDIR)
				return NULL;
			dir = next;
		}
		p = q + 1;
	}
}

static char *dup_path(const char *name, size_t len)
{
	char *p = kmalloc(len + 2);

	if (p) {
		p[0] = '/';
		memcpy(p + 1, name, len);
		p[len + 1] = 0;
	}
	return p;
}

static bool add_entry(const struct cpio_entry *e)
{
	const char *last;
	size_t len;
	struct inode *dir = make_dirs(e->name, e->namelen, &last, &len);

	if (!dir)
		return false;
	if (len == 0)
		return true; /* the root itself */
	struct inode *old = mfs_dir_lookup(dir, last, len);
	if (old && (old->mode & S_IFMT) == S_IFDIR && (e->mode & S_IFMT) == S_IFDIR) {
		old->mode = e->mode;
		old->mtime = (int64_t)e->mtime * 1000000000;
		return true;
	}
	if (old)
		mfs_unlink(dir, last, len);
	struct inode *ino = mfs_new(e->mode);
	if (!ino)
		return false;
	ino->uid = e->uid;
	ino->gid = e->gid;
	ino->atime = ino->mtime = ino->ctime = (int64_t)e->mtime * 1000000000;
	switch (e->mode & S_IFMT) {
	case S_IFREG:
		ino->image = e->data;
		ino->image_size = ino->size = e->size;
		ino->path = dup_path(e->name, e->namelen);
		break;
	case S_IFLNK:
		ino->target = kmalloc(e->size + 1);
		if (!ino->target)
			return false;
		memcpy(ino->target, e->data, e->size);
		ino->target[e->size] = 0;
		ino->size = e->size;
		break;
	case S_IFDIR: ino->nlink = 1; break;
	default: break; /* fifos and device nodes: the inode alone */
	}
	return mfs_link(dir, last, len, ino) == 0;
}

void mfs_init(const void *image, size_t size)
{
	struct cpio_entry e;
	const char *why = NULL;
	size_t off = 0;
	int r;

	mfs_root = mfs_new(S_IFDIR | 0755);
	if (!mfs_root)
		vm_exit_error("out of memory building the file system");
	mfs_root->parent = mfs_root;
	mfs_root->nlink = 2;
	mfs_root->refs = 1;
	mfs_lock();
	while ((r = cpio_next(image, size, &off, &e, &why)) == 1)
		if (!add_entry(&e))
			vm_exit_error(
				"cannot unpack %.*s from the image (out of memory, or a "
				"file where a directory should be)",
				(int)e.namelen, e.name);
	if (r < 0)
		vm_exit_error("the image is not a valid cpio archive: %s", why);
	/* Linking children touched their directories: give them back the
	 * times the image recorded. */
	for (off = 0; cpio_next(image, size, &off, &e, &why) == 1;) {
		if ((e.mode & S_IFMT) != S_IFDIR)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "/%.*s", (int)e.namelen, e.name);
		struct walk w;
		if (mfs_walk(mfs_root, path, WALK_FOLLOW, &w) == 0 &&
		    (w.inode->mode & S_IFMT) == S_IFDIR)
			w.inode->atime = w.inode->mtime = w.inode->ctime = (int64_t)e.mtime * 1000000000;
	}
	if (!mfs_dir_lookup(mfs_root, "tmp", 3) && !mfs_create(mfs_root, "tmp", S_IFDIR | 01777))
		vm_exit_error("out of memory building the file system");
	dev_init();
	proc_init();
	mfs_unlock();
	kdebug("image: %lu bytes unpacked", size);
}
