// SPDX-License-Identifier: MIT
/*
 * epoll, after Linux's fs/eventpoll.c: an epoll file holds registrations
 * (epitems), one per (open file, fd) pair.  Each puts a callback waiter on
 * its file's wq; a wake-up whose key matches moves the item to the ready
 * list and wakes the epoll_wait sleepers and whoever polls the epoll file
 * itself (so epolls nest).  epoll_wait re-checks each ready item's
 * readiness: level-triggered items go back on the list, edge-triggered ones
 * wait for the next wake-up, EPOLLONESHOT ones are disabled until
 * EPOLL_CTL_MOD.  A registration holds no reference: it goes when the last
 * reference to its file does (file_put calls epoll_file_release).  The ready
 * list is also touched from the timer interrupt (timerfd), so it and each
 * item's events change under the epoll's spinlock, which nests inside the
 * watched file's wait-queue lock (the callback runs under it) and is never
 * held while taking one.  EPOLLEXCLUSIVE is accepted and wakes every
 * waiter, which Linux allows ("one or more").
 */
#include "syscalls/syscalls.h"

#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLEXCLUSIVE_OK_BITS \
	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EP_MAX_NESTS 4
#define EP_MAX_EVENTS (0x7fffffff / sizeof(struct epoll_event))
#define ON_STACK 32

struct link {
	struct link *prev, *next; /* next NULL: not on a list */
};

struct eventpoll {
	struct link items; /* every registration */
	struct link ready;
	int nitems;
	struct spinlock lock; /* ready, and every item's rd and events */
	struct waitq wq;      /* threads in epoll_wait */
	struct waitq poll_wq; /* the epoll file's own wq: pollers, outer epolls */
};

struct epitem {
	struct link item, rd;
	struct epitem *file_next; /* the file's registrations (file->epitems) */
	struct eventpoll *ep;
	struct file *file;
	int fd;
	uint32_t events;
	uint64_t data;
	struct waiter w;
};

#define EPI(l, field) ((struct epitem *)((char *)(l)-offsetof(struct epitem, field)))

static void link_init(struct link *h)
{
	h->prev = h->next = h;
}

static void link_add_tail(struct link *h, struct link *l)
{
	l->prev = h->prev;
	l->next = h;
	h->prev->next = l;
	h->prev = l;
}

static void link_del(struct link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = l->prev = NULL;
}

static bool list_empty(const struct link *h)
{
	return h->next == h;
}

static const struct file_ops epoll_ops;

static bool is_epoll(const struct file *f)
{
	return f->ops == &epoll_ops;
}

/* Queues epi as ready and tells the sleepers and pollers.  Under ep->lock. */
static void ep_ready(struct epitem *epi)
{
	struct eventpoll *ep = epi->ep;

	if (!epi->rd.next)
		link_add_tail(&ep->ready, &epi->rd);
	wake_up(&ep->wq);
	poll_wake(&ep->poll_wq, EPOLLIN);
}

/* The waiter callback: runs inside wake_up, from any context. */
static void ep_callback(struct waiter *w, unsigned key)
{
	struct epitem *epi = w->arg;
	unsigned long flags = spin_lock_irqsave(&epi->ep->lock);

	/* A disabled EPOLLONESHOT item, or a change it did not ask about. */
	if ((epi->events & ~EP_PRIVATE_BITS) && (!key || (key & epi->events)))
		ep_ready(epi);
	spin_unlock_irqrestore(&epi->ep->lock, flags);
}

/* The epoll file's readiness: some ready item really is ready.  Items that
 * are not are dropped from the list, as Linux's __ep_eventpoll_poll does. */
static unsigned ep_poll_op(struct file *f)
{
	struct eventpoll *ep = f->priv;
	unsigned long flags = spin_lock_irqsave(&ep->lock);
	unsigned mask = 0;

	for (struct link *l = ep->ready.next, *next; l != &ep->ready; l = next) {
		struct epitem *epi = EPI(l, rd);
		next = l->next;
		if (file_poll(epi->file) & epi->events) {
			mask = EPOLLIN | EPOLLRDNORM;
			break;
		}
		link_del(l);
	}
	spin_unlock_irqrestore(&ep->lock, flags);
	return mask;
}

static void ep_remove(struct epitem *epi)
{
	waitq_remove(&epi->w);
	unsigned long flags = spin_lock_irqsave(&epi->ep->lock);
	if (epi->rd.next)
		link_del(&epi->rd);
	spin_unlock_irqrestore(&epi->ep->lock, flags);
	link_del(&epi->item);
	epi->ep->nitems--;
	for (struct epitem **pp = &epi->file->epitems; *pp; pp = &(*pp)->file_next) {
		if (*pp == epi) {
			*pp = epi->file_next;
			break;
		}
	}
	kfree(epi);
}

void epoll_file_release(struct file *f)
{
	while (f->epitems)
		ep_remove(f->epitems);
}

static void ep_release(struct file *f)
{
	struct eventpoll *ep = f->priv;

	while (!list_empty(&ep->items))
		ep_remove(EPI(ep->items.next, item));
	kfree(ep);
}

static const struct file_ops epoll_ops = { .poll = ep_poll_op, .release = ep_release };

/* ---- epoll_create --------------------------------------------------------------- */

SYSCALL_DEFINE1(epoll_create1, int, flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct eventpoll *ep = kzalloc(sizeof(*ep));
	struct file *f = ep ? file_alloc(&epoll_ops, O_RDWR) : NULL;
	if (!f) {
		kfree(ep);
		return -ENOMEM;
	}
	link_init(&ep->items);
	link_init(&ep->ready);
	ep->lock.name = "epoll";
	f->priv = ep;
	f->wq = &ep->poll_wq;
	return fd_install(f, 0, flags & EPOLL_CLOEXEC);
}

SYSCALL_DEFINE1(epoll_create, int, size)
{
	return size <= 0 ? -EINVAL : do_sys_epoll_create1(0);
}

/* ---- epoll_ctl ------------------------------------------------------------------- */

/* Whether ep watches target through a chain of epolls, or nests too deep
 * (Linux's ep_loop_check answers -ELOOP for both). */
static bool ep_reaches(struct eventpoll *ep, struct eventpoll *target, int depth)
{
	if (depth > EP_MAX_NESTS)
		return true;
	for (struct link *l = ep->items.next; l != &ep->items; l = l->next) {
		struct file *f = EPI(l, item)->file;
		if (is_epoll(f) && (f->priv == target || ep_reaches(f->priv, target, depth + 1)))
			return true;
	}
	return false;
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	for (struct epitem *epi = f->epitems; epi; epi = epi->file_next)
		if (epi->ep == ep && epi->fd == fd)
			return epi;
	return NULL;
}

/* Sets what epi waits for, and queues it when that is already there. */
static void ep_arm(struct epitem *epi, const struct epoll_event *ev)
{
	unsigned long flags = spin_lock_irqsave(&epi->ep->lock);

	epi->events = ev->events | EPOLLERR | EPOLLHUP;
	epi->data = ev->data;
	if (file_poll(epi->file) & epi->events)
		ep_ready(epi);
	spin_unlock_irqrestore(&epi->ep->lock, flags);
}

static long ep_insert(struct eventpoll *ep, struct file *tf, int fd, const struct epoll_event *ev)
{
	struct epitem *epi = kzalloc(sizeof(*epi));

	if (!epi)
		return -ENOMEM;
	epi->ep = ep;
	epi->file = tf;
	epi->fd = fd;
	link_add_tail(&ep->items, &epi->item);
	ep->nitems++;
	epi->file_next = tf->epitems;
	tf->epitems = epi;
	epi->w = (struct waiter){ .fn = ep_callback, .arg = epi };
	if (tf->wq)
		waitq_add(tf->wq, &epi->w);
	ep_arm(epi, ev);
	return 0;
}

SYSCALL_DEFINE4(epoll_ctl, int, epfd, int, op, int, fd, const struct epoll_event __user *, uev)
{
	struct epoll_event ev = { 0, 0 };
	bool has_event = op != EPOLL_CTL_DEL;

	/* Linux's order of checks: event, fds, pollable, epoll, flags, loops. */
	if (has_event && copy_from_user(&ev, uev, sizeof(ev)) < 0)
		return -EFAULT;
	struct file *f = fd_get(epfd), *tf = fd_get(fd);
	if (!f || !tf)
		return -EBADF;
	if (!tf->ops->poll)
		return -EPERM;
	if (f == tf || !is_epoll(f))
		return -EINVAL;
	if (has_event && (ev.events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			return -EINVAL;
		if (op == EPOLL_CTL_ADD && (is_epoll(tf) || (ev.events & ~EPOLLEXCLUSIVE_OK_BITS)))
			return -EINVAL;
	}
	struct eventpoll *ep = f->priv;
	if (op == EPOLL_CTL_ADD && is_epoll(tf) && ep_reaches(tf->priv, ep, 1))
		return -ELOOP;
	struct epitem *epi = ep_find(ep, tf, fd);
	switch (op) {
	case EPOLL_CTL_ADD: return epi ? -EEXIST : ep_insert(ep, tf, fd, &ev);
	case EPOLL_CTL_DEL:
		if (!epi)
			return -ENOENT;
		ep_remove(epi);
		return 0;
	case EPOLL_CTL_MOD:
		if (!epi)
			return -ENOENT;
		if (epi->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		ep_arm(epi, &ev);
		return 0;
	default: return -EINVAL;
	}
}

/* ---- epoll_wait ------------------------------------------------------------------- */

/* Takes up to max events off the ready list: each item's readiness now,
 * filtered by what it asked for.  Level-triggered items go back at the
 * tail, after this pass. */
static int ep_collect(struct eventpoll *ep, struct epoll_event *out, int max)
{
	unsigned long flags = spin_lock_irqsave(&ep->lock);
	struct link again;
	int n = 0;

	link_init(&again);
	while (n < max && !list_empty(&ep->ready)) {
		struct epitem *epi = EPI(ep->ready.next, rd);
		link_del(&epi->rd);
		unsigned revents = file_poll(epi->file) & epi->events;
		if (!revents)
			continue;
		out[n].events = revents;
		out[n].data = epi->data;
		n++;
		if (epi->events & EPOLLONESHOT)
			epi->events &= EP_PRIVATE_BITS;
		else if (!(epi->events & EPOLLET))
			link_add_tail(&again, &epi->rd);
	}
	while (!list_empty(&again)) {
		struct link *l = again.next;
		link_del(l);
		link_add_tail(&ep->ready, l);
	}
	spin_unlock_irqrestore(&ep->lock, flags);
	return n;
}

static long ep_wait(int epfd, struct epoll_event __user *uev, int max, uint64_t deadline)
{
	struct epoll_event small[ON_STACK], *buf = small;
	long n;

	if (max <= 0 || (uint64_t)max > EP_MAX_EVENTS)
		return -EINVAL;
	if (!user_range_ok((uint64_t)uev, (uint64_t)max * sizeof(*uev)))
		return -EFAULT;
	struct file *f = fd_get(epfd);
	if (!f)
		return -EBADF;
	if (!is_epoll(f))
		return -EINVAL;
	struct eventpoll *ep = f->priv;
	/* No more events can be ready than there are items. */
	int cap = MIN(max, MAX(ep->nitems, ON_STACK));
	if (cap > ON_STACK && !(buf = kmalloc(cap * sizeof(*buf))))
		return -ENOMEM;
	file_get(f);
	n = ep_collect(ep, buf, cap);
	if (!n && deadline != 1) {
		long r = wait_event_deadline(&ep->wq, (n = ep_collect(ep, buf, cap)) != 0, deadline);
		if (r == -EINTR)
			n = -EINTR;
		else if (r == -ETIMEDOUT)
			n = ep_collect(ep, buf, cap);
	}
	if (n > 0 && copy_to_user(uev, buf, n * sizeof(*buf)) < 0)
		n = -EFAULT;
	file_put(f);
	if (buf != small)
		kfree(buf);
	return n;
}

static uint64_t ms_deadline(int ms)
{
	return ms < 0 ? 0 : ms == 0 ? 1 : clock_monotonic_ns() + (uint64_t)ms * 1000000;
}

SYSCALL_DEFINE4(epoll_wait, int, epfd, struct epoll_event __user *, uev, int, max, int, ms)
{
	return ep_wait(epfd, uev, max, ms_deadline(ms));
}

static long ep_pwait(int epfd, struct epoll_event __user *uev, int max, uint64_t deadline,
		     const uint64_t __user *umask, size_t size)
{
	uint64_t old;
	bool swapped;
	long r = poll_sigmask_set(umask, size, &swapped, &old);

	if (r < 0)
		return r;
	r = ep_wait(epfd, uev, max, deadline);
	poll_sigmask_done(swapped, old, r);
	return r;
}

SYSCALL_DEFINE6(epoll_pwait, int, epfd, struct epoll_event __user *, uev, int, max, int, ms,
		const uint64_t __user *, umask, size_t, size)
{
	return ep_pwait(epfd, uev, max, ms_deadline(ms), umask, size);
}

SYSCALL_DEFINE6(epoll_pwait2, int, epfd, struct epoll_event __user *, uev, int, max,
		const struct timespec __user *, uts, const uint64_t __user *, umask, size_t, size)
{
	struct timespec ts;
	uint64_t deadline;

	if (uts && copy_from_user(&ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	long r = poll_deadline(uts ? &ts : NULL, &deadline);
	if (r < 0)
		return r;
	return ep_pwait(epfd, uev, max, deadline, umask, size);
}
