// SPDX-License-Identifier: MIT
/*
 * eventfd: a 64-bit counter behind a file, after Linux's fs/eventfd.c.  A
 * write of 8 bytes adds to it, waiting while the sum would reach
 * 0xffffffffffffffff; a read of 8 bytes takes it all (or 1 with
 * EFD_SEMAPHORE), waiting while it is zero.  Non-blocking files answer
 * -EAGAIN; a sleep ended by a signal answers -ERESTARTSYS.  Readable means
 * non-zero, writable means a write of 1 would not wait.
 */
#include "syscalls/syscalls.h"

#define EVENTFD_MAX 0xfffffffffffffffeUL /* ULLONG_MAX - 1: the largest count */

struct eventfd {
	struct mutex lock; /* count; poll reads it without */
	uint64_t count;
	bool semaphore;
	struct waitq wq;
};

static long eventfd_read(struct file *f, struct uio *u, uint64_t *off)
{
	struct eventfd *e = f->priv;

	(void)off;
	if (u->count < sizeof(uint64_t))
		return -EINVAL;
	mutex_lock(&e->lock);
	long r = wait_event_interruptible_mutex(&e->wq, e->count, f->flags & O_NONBLOCK, &e->lock);
	uint64_t v = e->semaphore ? 1 : e->count;
	if (!r && uio_copy_out(u, &v, sizeof(v)) != sizeof(v))
		r = -EFAULT;
	if (!r)
		e->count -= v;
	mutex_unlock(&e->lock);
	if (r)
		return r;
	poll_wake(&e->wq, EPOLLOUT);
	return sizeof(v);
}

static long eventfd_write(struct file *f, struct uio *u, uint64_t *off)
{
	struct eventfd *e = f->priv;
	uint64_t v;

	(void)off;
	if (u->count < sizeof(v))
		return -EINVAL;
	if (uio_copy_in(u, &v, sizeof(v)) != sizeof(v))
		return -EFAULT;
	if (v == ~0UL)
		return -EINVAL;
	mutex_lock(&e->lock);
	long r = wait_event_interruptible_mutex(
		&e->wq, EVENTFD_MAX - e->count >= v, f->flags & O_NONBLOCK, &e->lock);
	if (!r)
		e->count += v;
	mutex_unlock(&e->lock);
	if (r)
		return r;
	poll_wake(&e->wq, EPOLLIN);
	return sizeof(v);
}

static unsigned eventfd_poll(struct file *f)
{
	struct eventfd *e = f->priv;
	unsigned mask = 0;

	if (e->count > 0)
		mask |= EPOLLIN; /* no RDNORM/WRNORM, as Linux's eventfd_poll */
	if (e->count == ~0UL)
		mask |= EPOLLERR;
	if (e->count < EVENTFD_MAX)
		mask |= EPOLLOUT;
	return mask;
}

static void eventfd_release(struct file *f)
{
	kfree(f->priv);
}

static const struct file_ops eventfd_ops = {
	.read = eventfd_read,
	.write = eventfd_write,
	.poll = eventfd_poll,
	.release = eventfd_release,
};

SYSCALL_DEFINE2(eventfd2, unsigned, initval, int, flags)
{
	if (flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC))
		return -EINVAL;
	struct eventfd *e = kzalloc(sizeof(*e));
	struct file *f = e ? file_alloc(&eventfd_ops, O_RDWR | (flags & EFD_NONBLOCK)) : NULL;
	if (!f) {
		kfree(e);
		return -ENOMEM;
	}
	e->lock.name = "eventfd";
	e->count = initval;
	e->semaphore = flags & EFD_SEMAPHORE;
	f->priv = e;
	f->wq = &e->wq;
	return fd_install(f, 0, flags & EFD_CLOEXEC);
}

SYSCALL_DEFINE1(eventfd, unsigned, initval)
{
	return do_sys_eventfd2(initval, 0);
}
