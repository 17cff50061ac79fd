// SPDX-License-Identifier: MIT
/*
 * The inode tree: creating, linking, unlinking and freeing inodes, and the
 * attributes stat reports.  Directories keep their entries in a list in
 * creation order (getdents walks it; lookups compare names); a hash comes
 * when directories of thousands of entries get common.  Paths are walked in
 * path.c, file data lives in data.c.  The tree's shape (entries, links,
 * parents) changes and is read under one mutex, mfs_tree: the functions
 * that walk or change it check that their caller holds it.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "minifs/minifs.h"

struct inode *mfs_root;
static uint64_t next_ino = 1;
static struct mutex tree = MUTEX_INIT("mfs tree");

void mfs_lock(void)
{
	mutex_lock(&tree);
}

void mfs_unlock(void)
{
	mutex_unlock(&tree);
}

void mfs_assert_locked(void)
{
	if (tree.owner != current)
		panic("minifs: the tree is walked or changed without mfs_lock");
}

static int64_t now_ns(void)
{
	return (int64_t)clock_realtime_ns();
}

struct inode *mfs_new(uint32_t mode)
{
	struct inode *ino = kzalloc(sizeof(*ino));

	if (!ino)
		return NULL;
	ino->ino = next_ino++;
	ino->mode = mode;
	ino->atime = ino->mtime = ino->ctime = now_ns();
	return ino;
}

void mfs_get(struct inode *ino)
{
	ino->refs++;
}

static void free_data(struct inode *ino)
{
	for (size_t i = 0; i < ino->npages; i++)
		if (ino->pages[i])
			page_free(ino->pages[i]);
	kfree(ino->pages);
	kfree(ino->target);
	kfree(ino->path);
}

static long unlink_entry(struct inode *dir, const char *name, size_t len);

static void clear_dir(struct inode *dir)
{
	while (dir->children) {
		struct dentry *d = dir->children;
		unlink_entry(dir, d->name, d->len);
	}
}

/* Needs no tree lock: a directory whose last reference goes is out of the
 * tree already, so its entries are nobody else's. */
void mfs_put(struct inode *ino)
{
	BUG_ON(ino->refs <= 0);
	if (--ino->refs)
		return;
	if ((ino->mode & S_IFMT) == S_IFDIR)
		clear_dir(ino);
	mfs_remote_free(ino);
	free_data(ino);
	kfree(ino);
}

struct inode *mfs_dir_lookup(struct inode *dir, const char *name, size_t len)
{
	mfs_assert_locked();
	if (len == 1 && name[0] == '.')
		return dir;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return dir->parent;
	for (struct dentry *d = dir->children; d; d = d->next)
		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d->inode;
	return NULL;
}

long mfs_link(struct inode *dir, const char *name, size_t len, struct inode *ino)
{
	if (mfs_dir_lookup(dir, name, len))
		return -EEXIST;
	struct dentry *d = kmalloc(sizeof(*d) + len + 1);
	if (!d)
		return -ENOMEM;
	d->inode = ino;
	d->len = len;
	memcpy(d->name, name, len);
	d->name[len] = 0;
	d->next = NULL;
	struct dentry **pp = &dir->children;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	mfs_get(ino);
	ino->nlink++;
	if ((ino->mode & S_IFMT) == S_IFDIR) {
		ino->parent = dir;
		dir->nlink++;
	}
	dir->mtime = dir->ctime = now_ns();
	return 0;
}

long mfs_unlink(struct inode *dir, const char *name, size_t len)
{
	mfs_assert_locked();
	return unlink_entry(dir, name, len);
}

static long unlink_entry(struct inode *dir, const char *name, size_t len)
{
	for (struct dentry **pp = &dir->children; *pp; pp = &(*pp)->next) {
		struct dentry *d = *pp;
		if (d->len != len || memcmp(d->name, name, len) != 0)
			continue;
		*pp = d->next;
		struct inode *ino = d->inode;
		kfree(d);
		ino->nlink--;
		ino->ctime = dir->mtime = dir->ctime = now_ns();
		if ((ino->mode & S_IFMT) == S_IFDIR) {
			ino->nlink--; /* its own "." */
			dir->nlink--; /* its ".." */
		}
		mfs_put(ino);
		return 0;
	}
	return -ENOENT;
}

struct inode *mfs_create(struct inode *dir, const char *name, uint32_t mode)
{
	struct inode *ino = mfs_new(mode);

	if (!ino)
		return NULL;
	if ((mode & S_IFMT) == S_IFDIR)
		ino->nlink = 1; /* "." */
	if (mfs_link(dir, name, strlen(name), ino) < 0) {
		kfree(ino);
		return NULL;
	}
	return ino;
}

void mfs_clear_dir(struct inode *dir)
{
	mfs_assert_locked();
	clear_dir(dir);
}

void mfs_stat(const struct inode *ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = 0x16; /* one file system */
	st->st_ino = ino->ino;
	st->st_nlink = ino->nlink;
	st->st_mode = ino->mode;
	st->st_uid = ino->uid;
	st->st_gid = ino->gid;
	st->st_rdev = ino->rdev;
	st->st_size = ino->size;
	st->st_blksize = PAGE_SIZE;
	/* As tmpfs: a directory's size counts its entries, 20 bytes each plus
	 * 40, and only file data takes blocks (links live in the inode). */
	if ((ino->mode & S_IFMT) == S_IFDIR) {
		st->st_size = 40;
		for (const struct dentry *d = ino->children; d; d = d->next)
			st->st_size += 20;
	}
	st->st_blocks = (ino->mode & S_IFMT) == S_IFREG ? PAGE_UP(ino->size) / 512 : 0;
	st->st_atim = (struct timespec){ ino->atime / 1000000000, ino->atime % 1000000000 };
	st->st_mtim = (struct timespec){ ino->mtime / 1000000000, ino->mtime % 1000000000 };
	st->st_ctim = (struct timespec){ ino->ctime / 1000000000, ino->ctime % 1000000000 };
}

uint8_t mfs_dtype(const struct inode *i)
{
	switch (i->mode & S_IFMT) {
	case S_IFDIR: return DT_DIR;
	case S_IFREG: return DT_REG;
	case S_IFLNK: return DT_LNK;
	case S_IFCHR: return DT_CHR;
	case S_IFIFO: return DT_FIFO;
	case S_IFSOCK: return DT_SOCK;
	default: return DT_UNKNOWN;
	}
}

void mfs_touch(struct inode *ino, bool modified)
{
	int64_t t = now_ns();

	ino->atime = t;
	if (modified)
		ino->mtime = ino->ctime = t;
}
