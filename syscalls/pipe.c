// SPDX-License-Identifier: MIT
/*
 * Pipes: a 64 KiB ring shared by a read end and a write end.  Until the
 * program can have a second thread, nothing can ever fill an empty pipe or
 * drain a full one while the program waits, so a blocking read of an empty
 * pipe whose write end is open (or a blocking write to a full one) is a
 * deadlock, as it would be on Linux for a single-threaded process: we log
 * it and halt, and the host's --timeout ends the run.  Non-blocking ends
 * answer -EAGAIN; writing with no reader raises SIGPIPE, then -EPIPE.
 */
#include "kernel/arch/x86_64/x86.h"
#include "syscalls/syscalls.h"

#define PIPE_SIZE 65536

struct pipe {
	char *buf;
	size_t head, len;
	int readers, writers;
};

static noreturn void deadlock(const char *what)
{
	klog("%s a pipe no other thread can serve: the program is deadlocked", what);
	irq_disable();
	for (;;)
		sched_sleep(NULL, 0);
}

static long pipe_read(struct file *f, char __user *ubuf, size_t len, uint64_t *off)
{
	struct pipe *p = f->priv;
	size_t done = 0;

	(void)off;
	if (!len)
		return 0;
	if (!p->len) {
		if (!p->writers)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		deadlock("blocking read of");
	}
	while (done < len && p->len) {
		size_t n = MIN(MIN(len - done, p->len), PIPE_SIZE - p->head);
		if (copy_to_user(ubuf + done, p->buf + p->head, n) < 0)
			return done ? (long)done : -EFAULT;
		p->head = (p->head + n) % PIPE_SIZE;
		p->len -= n;
		done += n;
	}
	return done;
}

static long put(struct file *f, const char *src, size_t len, bool user)
{
	struct pipe *p = f->priv;
	size_t done = 0;

	if (!p->readers) {
		signal_send(current, SIGPIPE, 0x80 /* SI_KERNEL */);
		return -EPIPE;
	}
	if (!p->buf && !(p->buf = kmalloc(PIPE_SIZE)))
		return -ENOMEM;
	while (done < len) {
		if (p->len == PIPE_SIZE) {
			if (f->flags & O_NONBLOCK)
				return done ? (long)done : -EAGAIN;
			deadlock("blocking write to");
		}
		size_t tail = (p->head + p->len) % PIPE_SIZE;
		size_t n = MIN(MIN(len - done, PIPE_SIZE - p->len), PIPE_SIZE - tail);
		if (user && copy_from_user(p->buf + tail, src + done, n) < 0)
			return done ? (long)done : -EFAULT;
		if (!user)
			memcpy(p->buf + tail, src + done, n);
		p->len += n;
		done += n;
	}
	return done;
}

static long pipe_write(struct file *f, const char __user *buf, size_t len, uint64_t *off)
{
	(void)off;
	return put(f, buf, len, true);
}

static long pipe_write_kernel(struct file *f, const void *buf, size_t len)
{
	return put(f, buf, len, false);
}

static long pipe_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct pipe *p = f->priv;

	if (cmd != FIONREAD)
		return -ENOTTY;
	int n = p->len;
	return copy_to_user((void *)arg, &n, sizeof(n));
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;

	if ((f->flags & O_ACCMODE) == O_RDONLY)
		p->readers--;
	else
		p->writers--;
	if (!p->readers && !p->writers) {
		kfree(p->buf);
		kfree(p);
	}
}

static const struct file_ops pipe_read_ops = {
	.read = pipe_read, .ioctl = pipe_ioctl, .release = pipe_release,
};
static const struct file_ops pipe_write_ops = {
	.write = pipe_write, .write_kernel = pipe_write_kernel, .ioctl = pipe_ioctl,
	.release = pipe_release,
};

bool is_pipe(const struct file *f)
{
	return f->ops == &pipe_read_ops || f->ops == &pipe_write_ops;
}

SYSCALL_DEFINE2(pipe2, int __user *, ufds, int, flags)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	struct pipe *p = kzalloc(sizeof(*p));
	struct file *r = p ? file_alloc(&pipe_read_ops, O_RDONLY | (flags & O_NONBLOCK)) : NULL;
	struct file *w = r ? file_alloc(&pipe_write_ops, O_WRONLY | (flags & O_NONBLOCK)) : NULL;
	if (!w) {
		kfree(r);
		kfree(p);
		return -ENFILE;
	}
	r->priv = w->priv = p;
	p->readers = p->writers = 1;
	long rfd = fd_install(r, 0, flags & O_CLOEXEC);
	if (rfd < 0) {
		file_put(w);
		return rfd;
	}
	long wfd = fd_install(w, 0, flags & O_CLOEXEC);
	if (wfd < 0) {
		fd_close(rfd);
		return wfd;
	}
	int v[2] = { (int)rfd, (int)wfd };
	if (copy_to_user(ufds, v, sizeof(v)) < 0) {
		fd_close(rfd);
		fd_close(wfd);
		return -EFAULT;
	}
	return 0;
}

SYSCALL_DEFINE1(pipe, int __user *, ufds)
{
	return do_sys_pipe2(ufds, 0);
}
