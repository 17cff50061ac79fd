// SPDX-License-Identifier: MIT
/*
 * Pipes: a 64 KiB ring shared by a read end and a write end, with Linux's
 * blocking rules.  A reader sleeps on an empty pipe while a writer exists
 * and takes what is there (at least one byte); a writer sleeps while the
 * pipe is full and a reader exists.  A write of at most PIPE_BUF bytes is
 * atomic: it waits until all of it fits, never interleaving with another.
 * O_NONBLOCK ends answer -EAGAIN instead; writing with no reader raises
 * SIGPIPE and answers -EPIPE.  A sleep a signal ends answers -ERESTARTSYS,
 * which the signal code turns into -EINTR or a restart (SA_RESTART); both
 * come from wait_event_interruptible.  As in
 * Linux, each end has its own wait queue (the read end's is woken by
 * writes, the write end's by reads that make room), which epoll's
 * edge-triggered mode can tell apart.  select, poll and epoll see the ends
 * through pipe_poll.
 */
#include "syscalls/syscalls.h"

#define PIPE_SIZE 65536
#define PIPE_BUF 4096

struct pipe {
	struct mutex lock; /* the ring and both counts; poll reads them without */
	char *buf;
	size_t head, len;
	int readers, writers;
	struct waitq rd_wait, wr_wait;
};

static size_t room(const struct pipe *p)
{
	return PIPE_SIZE - p->len;
}

static long pipe_read(struct file *f, struct uio *u, uint64_t *off)
{
	struct pipe *p = f->priv;
	size_t done = 0;

	(void)off;
	if (!u->count)
		return 0;
	mutex_lock(&p->lock);
	long r = wait_event_interruptible_mutex(
		&p->rd_wait, p->len || !p->writers, f->flags & O_NONBLOCK, &p->lock);
	/* A writer waits for room for PIPE_BUF bytes at most (pipe_poll's
	 * "writable"); reads that leave less than that wake nobody.  With
	 * nothing there and no writer left, this is end of file. */
	bool was_full = room(p) < PIPE_BUF;
	while (!r && u->count && p->len) {
		size_t n = MIN(p->len, PIPE_SIZE - p->head);
		long c = uio_copy_out(u, p->buf + p->head, n);
		if (c < 0) {
			r = done ? 0 : c;
			break;
		}
		p->head = (p->head + c) % PIPE_SIZE;
		p->len -= c;
		done += c;
		if ((size_t)c < n)
			break;
	}
	if (!p->len)
		p->head = 0;
	mutex_unlock(&p->lock);
	if (was_full && done)
		poll_wake(&p->wr_wait, EPOLLOUT | EPOLLWRNORM);
	return r ? r : (long)done;
}

/* Copies in as much of u as fits.  As in Linux's pipe_write, a chunk
 * whose copy faults part-way is dropped whole: the write counts only the
 * chunks before it, or fails with -EFAULT. */
static long fill(struct pipe *p, struct uio *u)
{
	size_t done = 0;

	while (u->count && room(p)) {
		size_t tail = (p->head + p->len) % PIPE_SIZE;
		size_t n = MIN(MIN(room(p), PIPE_SIZE - tail), u->count);
		long r = uio_copy_in(u, p->buf + tail, n);
		if (r < (long)n)
			return done ? (long)done : -EFAULT;
		p->len += r;
		done += r;
	}
	return done;
}

static long pipe_write(struct file *f, struct uio *u, uint64_t *off)
{
	struct pipe *p = f->priv;
	size_t len = u->count, done = 0;
	bool atomic = len <= PIPE_BUF;
	long r = 0;

	(void)off;
	if (!len)
		return 0;
	mutex_lock(&p->lock);
	if (!p->buf && !(p->buf = kmalloc(PIPE_SIZE))) {
		mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	for (;;) {
		if (!p->readers) {
			signal_send(current, SIGPIPE, SI_USER); /* as Linux's send_sig */
			r = -EPIPE;
			break;
		}
		if (atomic ? room(p) >= len : room(p) > 0) {
			r = fill(p, u);
			if (r > 0) {
				done += r;
				poll_wake(&p->rd_wait, EPOLLIN | EPOLLRDNORM);
			}
			if (r <= 0 || !u->count)
				break;
			continue;
		}
		r = wait_event_interruptible_mutex(
			&p->wr_wait, !p->readers || (atomic ? room(p) >= len : room(p) > 0),
			f->flags & O_NONBLOCK, &p->lock);
		if (r)
			break;
	}
	mutex_unlock(&p->lock);
	return done ? (long)done : r;
}

/* Linux's pipe_poll: the read end sees data and hang-up, the write end
 * room for PIPE_BUF bytes and the loss of every reader (an error). */
static unsigned pipe_poll(struct file *f)
{
	struct pipe *p = f->priv;
	unsigned mask = 0;

	if ((f->flags & O_ACCMODE) != O_WRONLY) {
		if (p->len)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!p->writers)
			mask |= EPOLLHUP;
	}
	if ((f->flags & O_ACCMODE) != O_RDONLY) {
		if (room(p) >= PIPE_BUF)
			mask |= EPOLLOUT | EPOLLWRNORM;
		if (!p->readers)
			mask |= EPOLLERR;
	}
	return mask;
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

	mutex_lock(&p->lock);
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		p->readers--;
	else
		p->writers--;
	bool last = !p->readers && !p->writers;
	mutex_unlock(&p->lock);
	poll_wake(&p->rd_wait, 0);
	poll_wake(&p->wr_wait, 0);
	if (last) {
		kfree(p->buf);
		kfree(p);
	}
}

static const struct file_ops pipe_read_ops = {
	.read = pipe_read,
	.ioctl = pipe_ioctl,
	.poll = pipe_poll,
	.release = pipe_release,
};
static const struct file_ops pipe_write_ops = {
	.write = pipe_write,
	.ioctl = pipe_ioctl,
	.poll = pipe_poll,
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
	p->lock.name = "pipe";
	r->priv = w->priv = p;
	r->wq = &p->rd_wait;
	w->wq = &p->wr_wait;
	p->readers = p->writers = 1;
	return fd_install_pair(r, w, ufds, flags & O_CLOEXEC);
}

SYSCALL_DEFINE1(pipe, int __user *, ufds)
{
	return do_sys_pipe2(ufds, 0);
}
