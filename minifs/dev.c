// SPDX-License-Identifier: MIT
/*
 * /dev: the character devices every program expects (null, zero, full,
 * random, urandom, tty, console), the stdin/stdout/stderr links into
 * /proc/self/fd, and the empty /dev/shm and /dev/pts directories.  Device
 * nodes are plain inodes with Linux's numbers; the file layer asks
 * dev_find() for the driver behind one and opens it.  There is no
 * controlling terminal, so /dev/tty has no driver and opens fail with
 * ENXIO, as for a program started without one.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "minifs/minifs.h"

#define DEV(major, minor) ((uint32_t)(major) << 8 | (minor))
#define CHUNK 256 /* kernel bounce buffer for random bytes */

static long null_read(struct uio *u)
{
	(void)u;
	return 0;
}

/* Takes everything without looking at it. */
static long null_write(struct uio *u)
{
	size_t n = u->count;

	uio_truncate(u, 0);
	return n;
}

static long zero_read(struct uio *u)
{
	return uio_zero(u, u->count);
}

static long full_write(struct uio *u)
{
	(void)u;
	return -ENOSPC;
}

/* Bytes already copied count even when a later chunk faults, as in Linux. */
static long random_read(struct uio *u)
{
	uint8_t tmp[CHUNK];
	size_t done = 0;

	while (u->count) {
		size_t n = MIN(u->count, sizeof(tmp));
		random_bytes(tmp, n);
		long r = uio_copy_out(u, tmp, n);
		if (r < 0)
			break;
		done += r;
		if ((size_t)r < n)
			break;
	}
	memset(tmp, 0, sizeof(tmp));
	return done || !u->count ? (long)done : -EFAULT;
}

/* The console is the program's stdout; it has no input of its own. */
static long console_dev_write(struct uio *u)
{
	return console_write_uio(1, u);
}

static const struct dev_ops null_ops = { null_read, null_write };
static const struct dev_ops zero_ops = { zero_read, null_write };
static const struct dev_ops full_ops = { zero_read, full_write };
static const struct dev_ops random_ops = { random_read, null_write };
static const struct dev_ops console_ops = { null_read, console_dev_write };

static const struct node {
	const char *name;
	uint32_t mode;
	uint32_t rdev;
	const struct dev_ops *ops; /* character devices */
	const char *target;        /* symlinks */
} nodes[] = {
	{ "null", S_IFCHR | 0666, DEV(1, 3), &null_ops, NULL },
	{ "zero", S_IFCHR | 0666, DEV(1, 5), &zero_ops, NULL },
	{ "full", S_IFCHR | 0666, DEV(1, 7), &full_ops, NULL },
	{ "random", S_IFCHR | 0666, DEV(1, 8), &random_ops, NULL },
	{ "urandom", S_IFCHR | 0666, DEV(1, 9), &random_ops, NULL },
	{ "tty", S_IFCHR | 0666, DEV(5, 0), NULL, NULL },
	{ "console", S_IFCHR | 0666, DEV(5, 1), &console_ops, NULL },
	{ "fd", S_IFLNK | 0777, 0, NULL, "/proc/self/fd" },
	{ "stdin", S_IFLNK | 0777, 0, NULL, "/proc/self/fd/0" },
	{ "stdout", S_IFLNK | 0777, 0, NULL, "/proc/self/fd/1" },
	{ "stderr", S_IFLNK | 0777, 0, NULL, "/proc/self/fd/2" },
	{ "shm", S_IFDIR | 01777, 0, NULL, NULL },
	{ "pts", S_IFDIR | 0755, 0, NULL, NULL },
};

const struct dev_ops *dev_find(uint32_t rdev)
{
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		if ((nodes[i].mode & S_IFMT) == S_IFCHR && nodes[i].rdev == rdev)
			return nodes[i].ops;
	return NULL;
}

static bool is_dir(const struct inode *ino)
{
	return (ino->mode & S_IFMT) == S_IFDIR;
}

/* name in dir as mode: an existing directory is kept (the image may have
 * made /dev or /dev/shm), anything else the image put there is replaced. */
static struct inode *make(struct inode *dir, const char *name, uint32_t mode)
{
	size_t len = strlen(name);
	struct inode *old = mfs_dir_lookup(dir, name, len);

	if (old && is_dir(old) && (mode & S_IFMT) == S_IFDIR) {
		old->mode = mode;
		return old;
	}
	if (old)
		mfs_unlink(dir, name, len);
	return mfs_create(dir, name, mode);
}

static bool add_node(struct inode *dev, const struct node *n)
{
	struct inode *ino = make(dev, n->name, n->mode);

	if (!ino)
		return false;
	ino->rdev = n->rdev;
	if (n->target) {
		size_t len = strlen(n->target);
		kfree(ino->target);
		ino->target = kmalloc(len + 1);
		if (!ino->target)
			return false;
		memcpy(ino->target, n->target, len + 1);
		ino->size = len;
	}
	return true;
}

void dev_init(void)
{
	struct inode *dev = make(mfs_root, "dev", S_IFDIR | 0755);

	if (!dev)
		vm_exit_error("out of memory building /dev");
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		if (!add_node(dev, &nodes[i]))
			vm_exit_error("out of memory building /dev/%s", nodes[i].name);
}
