// SPDX-License-Identifier: MIT
/*
 * Waiting for readiness: poll, ppoll, select and pselect6, and what every
 * pollable file and epoll share: file_poll, the signal-mask swap and
 * timeouts.  A file announces a
 * change by waking file->wq; a waiting thread queues one waiter per file,
 * sleeps, and rescans everything after each wake-up, as Linux's do_poll
 * does.  The kinds of files (pipe.c, eventfd.c, timerfd.c, the sockets,
 * epoll.c) keep their own state behind their poll op; nothing here knows
 * them.  poll, select and epoll_wait are never restarted after a handler:
 * they return -EINTR, as on Linux.
 */
#include "syscalls/syscalls.h"

#define FAR_FUTURE (1UL << 62) /* ~146 years: a huge timeout never overflows */
/* fs/select.c: which readiness counts for each of select's sets */
#define POLLIN_SET (EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR)
#define POLLOUT_SET (EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR)
#define POLLEX_SET EPOLLPRI
#define ON_STACK 8

unsigned file_poll(struct file *f)
{
	if (!f->ops->poll)
		return EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM;
	return f->ops->poll(f);
}

long poll_sigmask_set(const uint64_t __user *umask, size_t size, bool *swapped, uint64_t *old)
{
	uint64_t set;

	*swapped = false;
	if (!umask)
		return 0;
	if (size != sizeof(uint64_t))
		return -EINVAL;
	if (copy_from_user(&set, umask, sizeof(set)) < 0)
		return -EFAULT;
	*old = current->sigmask;
	current->sigmask = set & ~UNBLOCKABLE;
	*swapped = true;
	return 0;
}

void poll_sigmask_done(bool swapped, uint64_t old, long result)
{
	if (!swapped)
		return;
	if (result == -EINTR) { /* the handler runs under the wait's mask */
		current->saved_mask = old;
		current->restore_mask = true;
	} else {
		current->sigmask = old;
	}
}

long poll_deadline(const struct timespec *ts, uint64_t *deadline)
{
	*deadline = 0;
	if (!ts)
		return 0;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	if (!ts->tv_sec && !ts->tv_nsec) {
		*deadline = 1; /* in the past: never sleep */
		return 0;
	}
	uint64_t rel = (uint64_t)ts->tv_sec >= FAR_FUTURE / NSEC_PER_SEC
			       ? FAR_FUTURE
			       : (uint64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
	*deadline = clock_monotonic_ns() + rel;
	return 0;
}

/* ppoll, select, pselect6 write the time left back (poll_select_finish);
 * not for a zero timeout, and a fault there is ignored, as on Linux. */
static void put_time_left(void __user *ut, uint64_t deadline, bool timeval)
{
	uint64_t now = clock_monotonic_ns(), left = deadline > now ? deadline - now : 0;

	if (!ut || deadline <= 1)
		return;
	if (timeval) {
		struct timeval tv = { left / NSEC_PER_SEC, left % NSEC_PER_SEC / 1000 };
		copy_to_user(ut, &tv, sizeof(tv));
	} else {
		struct timespec ts = { left / NSEC_PER_SEC, left % NSEC_PER_SEC };
		copy_to_user(ut, &ts, sizeof(ts));
	}
}

/* What ppoll and pselect6 set up around their wait: the deadline and the
 * program's own mask while theirs is in force. */
struct pwait {
	uint64_t deadline, old_mask;
	bool swapped;
};

/* The prologue of ppoll and pselect6, in Linux's order: the timeout (uts,
 * NULL for none) becomes a deadline, then the mask umask (size bytes; with
 * packed, umask points at pselect6's { sigset pointer, size } pair) is put
 * in force.  Returns 0, -EFAULT or -EINVAL; on error the mask is unchanged. */
static long pwait_begin(struct pwait *w, const struct timespec __user *uts, const uint64_t __user *umask,
			size_t size, bool packed)
{
	struct timespec ts;
	uint64_t pack[2];
	long r;

	if (uts && copy_from_user(&ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	if ((r = poll_deadline(uts ? &ts : NULL, &w->deadline)) < 0)
		return r;
	if (packed && umask) {
		if (copy_from_user(pack, umask, sizeof(pack)) < 0)
			return -EFAULT;
		umask = (const uint64_t __user *)pack[0];
		size = pack[1];
	}
	return poll_sigmask_set(umask, size, &w->swapped, &w->old_mask);
}

/* The epilogue: the program's mask back (kept for the handler after
 * -EINTR) and the time left written to uts.  Returns result. */
static long pwait_end(const struct pwait *w, struct timespec __user *uts, long result)
{
	poll_sigmask_done(w->swapped, w->old_mask, result);
	put_time_left(uts, w->deadline, false);
	return result;
}

/* ---- the wait shared by poll and select ----------------------------------- */

struct pentry {
	int fd;
	unsigned events;  /* the readiness asked for */
	unsigned revents; /* what was found */
	struct file *f;   /* watched, with a reference, while waiting */
	struct waiter w;
};

/* One pass over the entries; with watch set, queue a waiter on each file
 * first, so that a change after the file is polled wakes the wait.
 * Returns how many entries are ready. */
static long scan(struct pentry *e, unsigned n, bool watch, bool nval)
{
	long count = 0;

	for (unsigned i = 0; i < n; i++) {
		struct file *f = e[i].fd >= 0 ? fd_get(e[i].fd) : NULL;
		e[i].revents = 0;
		if (!f) {
			if (e[i].fd >= 0 && nval)
				e[i].revents = EPOLLNVAL;
		} else {
			if (watch && !e[i].f) {
				e[i].f = f;
				file_get(f);
				e[i].w = (struct waiter){ .thread = current };
				if (f->wq)
					waitq_add(f->wq, &e[i].w);
			}
			e[i].revents = file_poll(f) & e[i].events;
		}
		count += e[i].revents != 0;
	}
	return count;
}

/* Scans until something is ready, the deadline passes (0: never; 1: do not
 * wait) or a signal arrives (-EINTR).  nval: a closed fd counts as ready
 * (poll's POLLNVAL); select sees nothing there. */
static long wait_ready(struct pentry *e, unsigned n, uint64_t deadline, bool nval)
{
	long count;

	for (unsigned i = 0; i < n; i++)
		e[i].f = NULL;
	count = scan(e, n, deadline != 1, nval);
	if (!count && deadline != 1) {
		long r = wait_event_deadline(NULL, (count = scan(e, n, false, nval)) != 0, deadline);
		if (r == -EINTR)
			count = -EINTR;
		else if (r == -ETIMEDOUT)
			count = scan(e, n, false, nval);
	}
	for (unsigned i = 0; i < n; i++) {
		if (e[i].f) {
			waitq_remove(&e[i].w);
			file_put(e[i].f);
		}
	}
	return count;
}

static struct pentry *entries(unsigned n, struct pentry *small)
{
	return n <= ON_STACK ? small : kmalloc(n * sizeof(struct pentry));
}

static void entries_free(struct pentry *e, struct pentry *small)
{
	if (e != small)
		kfree(e);
}

/* ---- poll, ppoll -------------------------------------------------------------- */

static long do_poll(struct pollfd __user *ufds, unsigned nfds, uint64_t deadline)
{
	struct pentry small[ON_STACK], *e;
	struct pollfd pfd;
	long r = 0;

	if (nfds > FD_MAX) /* RLIMIT_NOFILE */
		return -EINVAL;
	if (!(e = entries(nfds, small)))
		return -ENOMEM;
	for (unsigned i = 0; i < nfds; i++) {
		if (copy_from_user(&pfd, ufds + i, sizeof(pfd)) < 0) {
			r = -EFAULT;
			goto out;
		}
		e[i].fd = pfd.fd;
		e[i].events = (uint16_t)pfd.events | EPOLLERR | EPOLLHUP;
	}
	r = wait_ready(e, nfds, deadline, true);
	for (unsigned i = 0; i < nfds; i++) {
		int16_t rev = e[i].revents;
		if (copy_to_user(&ufds[i].revents, &rev, sizeof(rev)) < 0) {
			r = -EFAULT;
			break;
		}
	}
out:
	entries_free(e, small);
	return r;
}

SYSCALL_DEFINE3(poll, struct pollfd __user *, ufds, unsigned, nfds, int, timeout)
{
	uint64_t deadline = timeout < 0    ? 0
			    : timeout == 0 ? 1
					   : clock_monotonic_ns() + (uint64_t)timeout * 1000000;
	return do_poll(ufds, nfds, deadline);
}

SYSCALL_DEFINE5(ppoll, struct pollfd __user *, ufds, unsigned, nfds, struct timespec __user *, uts,
		const uint64_t __user *, umask, size_t, size)
{
	struct pwait w;
	long r = pwait_begin(&w, uts, umask, size, false);

	return r < 0 ? r : pwait_end(&w, uts, do_poll(ufds, nfds, w.deadline));
}

/* ---- select, pselect6 ----------------------------------------------------------- */

#define WORDS(n) (((n) + 63) / 64)

static bool bit(const uint64_t *set, int fd)
{
	return set[fd / 64] >> (fd % 64) & 1;
}

static long get_set(uint64_t *set, const uint64_t __user *uset, int n)
{
	memset(set, 0, WORDS(FD_MAX) * 8);
	if (!uset || !n)
		return 0;
	if (copy_from_user(set, uset, WORDS(n) * 8) < 0)
		return -EFAULT;
	if (n % 64)
		set[n / 64] &= (1UL << (n % 64)) - 1;
	return 0;
}

static long put_set(uint64_t __user *uset, const uint64_t *set, int n)
{
	return uset && n ? copy_to_user(uset, set, WORDS(n) * 8) : 0;
}

/* Linux's core_sys_select: bits past the file table are ignored, a set bit
 * naming a closed fd is -EBADF, the sets are written back only on success. */
static long do_select(int n, uint64_t __user *uin, uint64_t __user *uout, uint64_t __user *uex,
		      uint64_t deadline)
{
	uint64_t in[WORDS(FD_MAX)], out[WORDS(FD_MAX)], ex[WORDS(FD_MAX)];
	struct pentry small[ON_STACK], *e;
	unsigned cnt = 0;
	long r;

	if (n < 0)
		return -EINVAL;
	n = MIN(n, FD_MAX);
	if (get_set(in, uin, n) < 0 || get_set(out, uout, n) < 0 || get_set(ex, uex, n) < 0)
		return -EFAULT;
	for (int fd = 0; fd < n; fd++) {
		if (!bit(in, fd) && !bit(out, fd) && !bit(ex, fd))
			continue;
		if (!fd_get(fd))
			return -EBADF;
		cnt++;
	}
	if (!(e = entries(cnt, small)))
		return -ENOMEM;
	cnt = 0;
	for (int fd = 0; fd < n; fd++) {
		unsigned ev = (bit(in, fd) ? POLLIN_SET : 0) | (bit(out, fd) ? POLLOUT_SET : 0) |
			      (bit(ex, fd) ? POLLEX_SET : 0);
		if (ev)
			e[cnt++] = (struct pentry){ .fd = fd, .events = ev };
	}
	r = wait_ready(e, cnt, deadline, false);
	if (r >= 0) {
		memset(in, 0, sizeof(in));
		memset(out, 0, sizeof(out));
		memset(ex, 0, sizeof(ex));
		r = 0;
		for (unsigned i = 0; i < cnt; i++) {
			int fd = e[i].fd;
			unsigned m = e[i].revents;
			if (m & POLLIN_SET && e[i].events & EPOLLIN) {
				in[fd / 64] |= 1UL << (fd % 64);
				r++;
			}
			if (m & POLLOUT_SET && e[i].events & EPOLLOUT) {
				out[fd / 64] |= 1UL << (fd % 64);
				r++;
			}
			if (m & POLLEX_SET) {
				ex[fd / 64] |= 1UL << (fd % 64);
				r++;
			}
		}
		if (put_set(uin, in, n) < 0 || put_set(uout, out, n) < 0 || put_set(uex, ex, n) < 0)
			r = -EFAULT;
	}
	entries_free(e, small);
	return r;
}

SYSCALL_DEFINE5(select, int, n, uint64_t __user *, uin, uint64_t __user *, uout, uint64_t __user *, uex,
		struct timeval __user *, utv)
{
	struct timeval tv;
	uint64_t deadline = 0;

	if (utv) {
		if (copy_from_user(&tv, utv, sizeof(tv)) < 0)
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0)
			return -EINVAL;
		/* Linux folds whole seconds of tv_usec into tv_sec */
		struct timespec ts = { tv.tv_sec + tv.tv_usec / 1000000, tv.tv_usec % 1000000 * 1000 };
		if (ts.tv_sec < 0)
			ts.tv_sec = FAR_FUTURE / NSEC_PER_SEC;
		poll_deadline(&ts, &deadline);
	}
	long r = do_select(n, uin, uout, uex, deadline);
	put_time_left(utv, deadline, true);
	return r;
}

SYSCALL_DEFINE6(pselect6, int, n, uint64_t __user *, uin, uint64_t __user *, uout, uint64_t __user *,
		uex, struct timespec __user *, uts, const uint64_t __user *, usig)
{
	struct pwait w;
	/* usig: { const sigset_t *ss; size_t ss_len; } */
	long r = pwait_begin(&w, uts, usig, 0, true);

	return r < 0 ? r : pwait_end(&w, uts, do_select(n, uin, uout, uex, w.deadline));
}
