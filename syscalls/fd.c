// SPDX-License-Identifier: MIT
/*
 * The file table and the console files behind fds 0-2: fd 0 reads the
 * bytes the host delivered (.elfvm/stdin) then end-of-file, fds 1 and 2
 * write to COM1 and COM2.  To the program they look like pipes, as they do
 * when elfvm runs under a shell pipeline (not a terminal: TCGETS answers
 * -ENOTTY).  minifs files, pipes and sockets join this table later.
 */
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

#define CHUNK 4096

static struct file *fds[FD_MAX];
static struct file console[3];

static long stdin_read(struct file *f, char __user *buf, size_t len)
{
	size_t n = MIN(len, f->size - f->off);

	if (n && copy_to_user(buf, f->data + f->off, n) < 0)
		return -EFAULT;
	f->off += n;
	return n;
}

static long console_write_op(struct file *f, const char __user *buf, size_t len)
{
	char tmp[CHUNK];
	size_t done = 0;

	while (done < len) {
		size_t n = MIN(len - done, sizeof(tmp));
		if (copy_from_user(tmp, buf + done, n) < 0)
			return done ? (long)done : -EFAULT;
		console_write(f->stream, tmp, n);
		done += n;
	}
	return done;
}

static long console_stat(struct file *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = 0xc;
	st->st_ino = 1 + f->stream;
	st->st_nlink = 1;
	st->st_mode = S_IFIFO | 0600;
	st->st_blksize = PAGE_SIZE;
	return 0;
}

static long console_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	if (cmd == FIONREAD) {
		int n = f->stream == 0 ? (int)(f->size - f->off) : 0;
		return copy_to_user((void *)arg, &n, sizeof(n));
	}
	return -ENOTTY;
}

static const struct file_ops stdin_ops = {
	.read = stdin_read, .stat = console_stat, .ioctl = console_ioctl,
};
static const struct file_ops console_ops = {
	.write = console_write_op, .stat = console_stat, .ioctl = console_ioctl,
};

void fd_init(void)
{
	const struct mfs_file *in = mfs_lookup("/.elfvm/stdin");

	console[0] = (struct file){ &stdin_ops, 0, in ? in->data : NULL, in ? in->size : 0, 0, 1 };
	console[1] = (struct file){ &console_ops, 1, NULL, 0, 0, 1 };
	console[2] = (struct file){ &console_ops, 2, NULL, 0, 0, 1 };
	for (int i = 0; i < 3; i++)
		fds[i] = &console[i];
}

struct file *fd_get(int fd)
{
	return fd >= 0 && fd < FD_MAX ? fds[fd] : NULL;
}

long fd_close(int fd)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	fds[fd] = NULL;
	f->refs--;
	return 0;
}
