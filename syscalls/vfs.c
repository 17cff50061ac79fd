// SPDX-License-Identifier: MIT
/*
 * Open files of minifs inodes: regular files (read and write through
 * minifs/data.c at the file's offset), directories (read by getdents64),
 * character devices (minifs/dev.c) and /proc's generated files, whose text
 * is made once at open, as Linux's seq_file does.  Also the working
 * directory and the walk of a path given relative to a directory fd.
 */
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

static struct inode *cwd;

struct inode *vfs_cwd(void)
{
	return cwd ? cwd : mfs_root;
}

void vfs_set_cwd(struct inode *dir)
{
	mfs_get(dir);
	if (cwd)
		mfs_put(cwd);
	cwd = dir;
}

static long reg_read(struct file *f, struct uio *u, uint64_t *off)
{
	long r = mfs_read(f->inode, u, *off);

	if (r > 0)
		*off += r;
	return r;
}

static long reg_write(struct file *f, struct uio *u, uint64_t *off)
{
	if (f->flags & O_APPEND)
		*off = f->inode->size;
	long r = mfs_write(f->inode, u, *off);
	if (r > 0)
		*off += r;
	return r;
}

static long reg_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	if (cmd == FIONREAD) {
		int n = f->off < f->inode->size ? (int)MIN(f->inode->size - f->off, 0x7fffffffUL) : 0;
		return copy_to_user((void *)arg, &n, sizeof(n));
	}
	return -ENOTTY;
}

/* A rw volume file's pages a mapping changed reach the host at close. */
static void reg_release(struct file *f)
{
	if ((f->flags & O_ACCMODE) != O_RDONLY)
		mfs_remote_writeback(f->inode);
}

static const struct file_ops reg_ops = {
	.read = reg_read,
	.write = reg_write,
	.ioctl = reg_ioctl,
	.release = reg_release,
	.seekable = true,
};

static long dir_read(struct file *f, struct uio *u, uint64_t *off)
{
	(void)f, (void)u, (void)off;
	return -EISDIR;
}

/* A host-backed directory's listing snapshot (dir.c's getdents64). */
static void dir_release(struct file *f)
{
	mfs_dirsnap_free(f->priv);
}

static const struct file_ops dir_ops = {
	.read = dir_read, .write = NULL, .release = dir_release, .seekable = true
};

static long dev_read(struct file *f, struct uio *u, uint64_t *off)
{
	(void)off;
	return ((const struct dev_ops *)f->priv)->read(u);
}

static long dev_write(struct file *f, struct uio *u, uint64_t *off)
{
	(void)off;
	return ((const struct dev_ops *)f->priv)->write(u);
}

static const struct file_ops dev_file_ops = {
	.read = dev_read, .write = dev_write, .seekable = true, /* lseek succeeds on them */
};

static long gen_read(struct file *f, struct uio *u, uint64_t *off)
{
	if (*off >= f->priv_len)
		return 0;
	long n = uio_copy_out(u, (const char *)f->priv + *off, MIN(u->count, f->priv_len - *off));
	if (n > 0)
		*off += n;
	return n;
}

static void gen_release(struct file *f)
{
	kfree(f->priv);
}

static const struct file_ops gen_ops = { .read = gen_read, .release = gen_release, .seekable = true };
static const struct file_ops path_ops = { .seekable = false };

/* Makes a generated file's text: guess a size, retry once with the size
 * the generator asked for. */
static long gen_snapshot(struct file *f)
{
	size_t size = 4096;

	for (int i = 0; i < 2; i++) {
		char *buf = kmalloc(size);
		if (!buf)
			return -ENOMEM;
		size_t n = f->inode->gen->text(f->inode, buf, size);
		if (n < size) {
			f->priv = buf;
			f->priv_len = n;
			return 0;
		}
		kfree(buf);
		size = n + 1;
	}
	return -ENOMEM;
}

long vfs_open(struct inode *ino, unsigned flags, struct file **out)
{
	unsigned type = ino->mode & S_IFMT;
	const struct file_ops *ops = &reg_ops;
	const struct dev_ops *dev = NULL;

	if (flags & O_PATH)
		ops = &path_ops;
	else if (type == S_IFCHR && ino->rdev == (5 << 8 | 0)) /* /dev/tty */
		return tty_open(flags, out);
	else if (type == S_IFDIR)
		ops = &dir_ops;
	else if (type == S_IFCHR && !(dev = dev_find(ino->rdev)))
		return -ENXIO;
	else if (type == S_IFCHR)
		ops = &dev_file_ops;
	else if (ino->gen && ino->gen->text)
		ops = &gen_ops;
	else if (type != S_IFREG)
		return -ENXIO; /* fifos, sockets and block devices: none here */
	struct file *f = file_alloc(ops, flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC));
	if (!f)
		return -ENOMEM;
	f->inode = ino;
	mfs_get(ino);
	f->priv = (void *)dev;
	if (ops == &gen_ops) {
		long r = gen_snapshot(f);
		if (r < 0) {
			f->priv = NULL;
			file_put(f);
			return r;
		}
	}
	*out = f;
	return 0;
}

long vfs_walk_at(int dirfd, const char __user *upath, int walk_flags, struct walk *w)
{
	char *path = kmalloc(PATH_MAX);
	struct inode *start = vfs_cwd();

	if (!path)
		return -ENOMEM;
	long r = strncpy_from_user(path, upath, PATH_MAX);
	if (r == 0)
		r = -ENOENT; /* "" without AT_EMPTY_PATH */
	if (r >= 0 && dirfd != AT_FDCWD && path[0] != '/') {
		struct file *d = fd_get(dirfd);
		if (!d)
			r = -EBADF;
		else if (!d->inode || (d->inode->mode & S_IFMT) != S_IFDIR)
			r = -ENOTDIR;
		else
			start = d->inode;
	}
	if (r >= 0) {
		mfs_lock();
		r = mfs_walk(start, path, walk_flags, w);
		mfs_unlock();
	}
	kfree(path);
	return r;
}

bool vfs_empty_path(const char __user *upath)
{
	char c;

	return copy_from_user(&c, upath, 1) == 0 && c == 0;
}
