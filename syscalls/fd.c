// SPDX-License-Identifier: MIT
/*
 * Open files and the file table.  A struct file is one open file
 * description (offset, status flags), shared by dup'd descriptors through
 * its reference count; the table maps descriptors to files plus the
 * close-on-exec bit.  The console files behind fds 0-2 live here too: fd 0
 * reads the host's stdin as it streams in (the virtio console's
 * elfvm.stdin port; none: end-of-file at once), fds 1 and 2 write to the
 * console's streams.  To the program they look like pipes, as they do
 * when elfvm runs in a shell pipeline (TCGETS answers -ENOTTY), unless
 * the host's stdin is a terminal: then the fds that are it are tty.c's.
 */
#include "minifs/minifs.h"
#include "kernel/lock.h"
#include "syscalls/syscalls.h"
#include "kernel/virtio/virtio.h"

static struct {
	struct file *f;
	bool cloexec;
} fds[FD_MAX];
static struct spinlock table_lock = SPINLOCK_INIT("fd table");

struct file *file_alloc(const struct file_ops *ops, unsigned flags)
{
	struct file *f = kzalloc(sizeof(*f));

	if (f) {
		f->ops = ops;
		f->refs = 1;
		f->flags = flags;
	}
	return f;
}

void file_get(struct file *f)
{
	f->refs++;
}

void file_put(struct file *f)
{
	BUG_ON(f->refs <= 0);
	if (--f->refs)
		return;
	if (f->epitems) /* registrations belong to the open file (Linux's __fput) */
		epoll_file_release(f);
	flock_release(f);
	if (f->ops->release)
		f->ops->release(f);
	if (f->inode)
		mfs_put(f->inode);
	kfree(f);
}

struct file *fd_get(int fd)
{
	return fd >= 0 && fd < FD_MAX ? fds[fd].f : NULL;
}

/* The table's lock covers the slots; a file's release runs outside it. */
long fd_install(struct file *f, int min, bool cloexec)
{
	int limit = fd_limit();
	uint64_t fl = spin_lock_irqsave(&table_lock);

	for (int fd = MAX(min, 0); fd < limit; fd++) {
		if (!fds[fd].f) {
			fds[fd].f = f;
			fds[fd].cloexec = cloexec;
			spin_unlock_irqrestore(&table_lock, fl);
			return fd;
		}
	}
	spin_unlock_irqrestore(&table_lock, fl);
	file_put(f);
	return -EMFILE;
}

long fd_install_at(struct file *f, int fd, bool cloexec)
{
	if (fd < 0 || fd >= (int)fd_limit()) {
		file_put(f);
		return -EBADF;
	}
	uint64_t fl = spin_lock_irqsave(&table_lock);
	struct file *old = fds[fd].f;
	fds[fd].f = f;
	fds[fd].cloexec = cloexec;
	spin_unlock_irqrestore(&table_lock, fl);
	if (old)
		file_put(old);
	return fd;
}

long fd_install_pair(struct file *a, struct file *b, int __user *ufds, bool cloexec)
{
	long fa = fd_install(a, 0, cloexec);

	if (fa < 0) {
		file_put(b);
		return fa;
	}
	long fb = fd_install(b, 0, cloexec);
	if (fb < 0) {
		fd_close(fa);
		return fb;
	}
	int v[2] = { (int)fa, (int)fb };
	if (copy_to_user(ufds, v, sizeof(v)) < 0) {
		fd_close(fa);
		fd_close(fb);
		return -EFAULT;
	}
	return 0;
}

long fd_close(int fd)
{
	if (fd < 0 || fd >= FD_MAX)
		return -EBADF;
	uint64_t fl = spin_lock_irqsave(&table_lock);
	struct file *f = fds[fd].f;
	fds[fd].f = NULL;
	spin_unlock_irqrestore(&table_lock, fl);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

bool fd_cloexec(int fd)
{
	return fd_get(fd) && fds[fd].cloexec;
}

void fd_set_cloexec(int fd, bool on)
{
	if (fd_get(fd))
		fds[fd].cloexec = on;
}

/* ---- the console ---------------------------------------------------------- */

/* Blocks until bytes or the end arrive, as a pipe's read does. */
static long stdin_read(struct file *f, struct uio *u, uint64_t *off)
{
	(void)off;
	for (;;) {
		long n = u->count ? virtio_console_read(u) : 0;
		if (n != -EAGAIN)
			return n;
		n = wait_event_interruptible(
			virtio_console_input_wq(), virtio_console_input_poll(), f->flags & O_NONBLOCK);
		if (n < 0)
			return n;
	}
}

static long console_write_op(struct file *f, struct uio *u, uint64_t *off)
{
	(void)off;
	return console_write_uio(f->stream, u);
}

static long console_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	if (cmd == FIONREAD) {
		size_t avail = f->stream == 0 ? virtio_console_input_bytes() : 0;
		int n = (int)MIN(avail, (size_t)0x7fffffff);
		return copy_to_user((void *)arg, &n, sizeof(n));
	}
	return -ENOTTY;
}

/* Whether the host's stdin is a pipe (stdin=pipe): its end is then
 * EPOLLHUP as a pipe's, else (a file, /dev/null) only EPOLLIN. */
static bool stdin_pipe;

static unsigned stdin_poll(struct file *f)
{
	(void)f;
	unsigned m = virtio_console_input_poll();
	return stdin_pipe ? m : m & ~EPOLLHUP;
}

static unsigned console_poll(struct file *f)
{
	(void)f;
	return EPOLLOUT | EPOLLWRNORM;
}

static const struct file_ops stdin_ops = {
	.read = stdin_read,
	.ioctl = console_ioctl,
	.poll = stdin_poll,
};
static const struct file_ops console_ops = {
	.write = console_write_op,
	.ioctl = console_ioctl,
	.poll = console_poll,
};

/* The console files stat as pipes, the terminal as a character device. */
long file_stat(struct file *f, struct stat *st)
{
	if (tty_file(f)) {
		tty_stat(st);
		return 0;
	}
	if (f->inode) {
		mfs_stat(f->inode, st);
		return 0;
	}
	memset(st, 0, sizeof(*st));
	st->st_dev = 0xc;
	st->st_ino = 0x1000 + (uint64_t)(uintptr_t)f % 0x10000;
	st->st_nlink = 1;
	st->st_mode = sock_of_file(f) ? S_IFSOCK | 0777 : S_IFIFO | 0600;
	st->st_blksize = PAGE_SIZE;
	return 0;
}

static int fd_list(int *out, int max)
{
	int n = 0;

	for (int fd = 0; fd < FD_MAX && n < max; fd++)
		if (fds[fd].f)
			out[n++] = fd;
	return n;
}

static long fd_link(int fd, char *buf, size_t size)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (tty_file(f))
		return snprintf(buf, size, "/dev/pts/0");
	if (f->inode && f->inode->path)
		return snprintf(buf, size, "%s", f->inode->path);
	if (f->inode && (f->inode->mode & S_IFMT) == S_IFDIR)
		return mfs_dir_path(f->inode, buf, size);
	return snprintf(buf, size, sock_of_file(f) ? "socket:[%lu]" : "pipe:[%lu]",
			0x1000 + (uint64_t)(uintptr_t)f % 0x10000);
}

static const struct proc_fd_ops proc_fd_ops = { .list = fd_list, .link = fd_link };

void fd_init(void)
{
	char v[8];

	stdin_pipe = cmdline_get("stdin", v, sizeof(v)) && !strcmp(v, "pipe");
	tty_init();
	ctl_init();
	for (int i = 0; i < 3; i++) {
		struct file *f = tty_file_for(i);
		if (!f)
			f = file_alloc(i ? &console_ops : &stdin_ops, i ? O_WRONLY : O_RDONLY);
		if (!f)
			vm_exit_error("out of memory opening the console");
		f->stream = i;
		if (!i && !tty_file(f))
			f->wq = virtio_console_input_wq();
		fds[i].f = f;
	}
	proc_set_fd_ops(&proc_fd_ops);
}
