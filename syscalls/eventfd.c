// SPDX-License-Identifier: MIT
/*
 * eventfd: a 64-bit counter behind a file, after Linux's fs/eventfd.c.  A
 * write of 8 bytes adds to it, waiting while the sum would reach
 * 0xffffffffffffffff; a read of 8 bytes takes it all (or 1 with
 * EFD_SEMAPHORE), waiting while it is zero.  Non-blocking files answer
 * -EAGAIN; a sleep ended by a signal answers -ERESTARTSYS.  Readable means
 * non-zero, writable means a write of 1 would not wait.
 */
#include "kernel/arch/x86_64/x86.h"
#include "syscalls/syscalls.h"

#define EVENTFD_MAX 0xfffffffffffffffeUL /* ULLONG_MAX - 1: the largest count */

struct eventfd {
	uint64_t count;
	bool semaphore;
	struct waitq wq;
};

static long eventfd_read(struct file *f, char __user *buf, size_t len, uint64_t *off)
{
	struct eventfd *e = f->priv;
	long r = 0;

	(void)off;
	if (len < sizeof(uint64_t))
		return -EINVAL;
	irq_disable();
	while (!e->count && !r)
		r = f->flags & O_NONBLOCK ? -EAGAIN : sched_sleep(&e->wq, 0);
	irq_enable();
	if (r)
		return r == -EINTR ? -ERESTARTSYS : r;
	uint64_t v = e->semaphore ? 1 : e->count;
	if (copy_to_user(buf, &v, sizeof(v)) < 0)
		return -EFAULT;
	e->count -= v;
	poll_wake(&e->wq, EPOLLOUT);
	return sizeof(v);
}

static long eventfd_write(struct file *f, const char __user *buf, size_t len, uint64_t *off)
{
	struct eventfd *e = f->priv;
	uint64_t v;
	long r = 0;

	(void)off;
	if (len < sizeof(v))
		return -EINVAL;
	if (copy_from_user(&v, buf, sizeof(v)) < 0)
		return -EFAULT;
	if (v == ~0UL)
		return -EINVAL;
	irq_disable();
	while (EVENTFD_MAX - e->count < v && !r)
		r = f->flags & O_NONBLOCK ? -EAGAIN : sched_sleep(&e->wq, 0);
	irq_enable();
	if (r)
		return r == -EINTR ? -ERESTARTSYS : r;
	e->count += v;
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
