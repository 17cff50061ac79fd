// SPDX-License-Identifier: MIT
/*
 * futex: threads wait on a 32-bit word of the program's memory and are
 * woken by address.  Waiters hang on a few hashed wait queues, each waiter
 * tagged with its address.  As in Linux, a waiter is queued under its
 * bucket's lock before the value is checked, and a waker takes it off the
 * queue under the same lock before waking it, so no wake-up is lost.  WAIT, WAKE, the
 * BITSET forms, REQUEUE, CMP_REQUEUE and WAKE_OP, PRIVATE and
 * CLOCK_REALTIME, with Linux's -EAGAIN, -ETIMEDOUT and -EINTR.  The PI
 * operations and futex_waitv answer -ENOSYS.
 */
#include "syscalls/syscalls.h"

#define BITSET_ALL FUTEX_BITSET_MATCH_ANY
#define BUCKETS 64

/* A waiting thread: the waiter is on bucket(addr); arg points here. */
struct fwait {
	uint64_t addr;
	uint32_t bitset;
	struct waiter w;
};

static struct waitq buckets[BUCKETS];

static struct waitq *bucket(uint64_t addr)
{
	return &buckets[(addr >> 2) % BUCKETS];
}

/* FUTEX_WAKE and WAKE_OP wake at least one waiter, whatever count they
 * are given (Linux counts after waking); REQUEUE takes its count as is. */
static int nr_wake(uint64_t v)
{
	return v == 0 ? 1 : (int)MIN(v, 0x7fffffffUL);
}

/* Wakes up to n waiters on addr whose bitset meets mask; returns how many.
 * Each is taken off the queue first: that is what its wait waits for.
 * Under the bucket's lock. */
static int wake_locked(uint64_t addr, int n, uint32_t mask)
{
	struct waitq *q = bucket(addr);
	int woken = 0;

	for (struct waiter *w = q->head, *next; w && woken < n; w = next) {
		next = w->next;
		struct fwait *f = w->arg;
		if (f->addr != addr || !(f->bitset & mask))
			continue;
		waitq_remove_locked(w);
		sched_wake(w->thread, WAKE_EVENT);
		woken++;
	}
	return woken;
}

static int wake(uint64_t addr, int n, uint32_t mask)
{
	struct waitq *q = bucket(addr);
	unsigned long fl = spin_lock_irqsave(&q->lock);
	int woken = wake_locked(addr, n, mask);

	spin_unlock_irqrestore(&q->lock, fl);
	return woken;
}

int futex_wake_addr(uint64_t addr, int n)
{
	return wake(addr, n, BITSET_ALL);
}

/* The two buckets of a two-address operation, locked in address order
 * (one lock when they are the same bucket). */
static unsigned long lock_two(uint64_t addr, uint64_t addr2)
{
	struct waitq *a = bucket(addr), *b = bucket(addr2);
	unsigned long fl = spin_lock_irqsave(a < b ? &a->lock : &b->lock);

	if (a != b)
		spin_lock(a < b ? &b->lock : &a->lock);
	return fl;
}

static void unlock_two(uint64_t addr, uint64_t addr2, unsigned long fl)
{
	struct waitq *a = bucket(addr), *b = bucket(addr2);

	if (a != b)
		spin_unlock(a < b ? &b->lock : &a->lock);
	spin_unlock_irqrestore(a < b ? &a->lock : &b->lock, fl);
}

/* Moves up to n waiters from addr to addr2; returns how many.  Under both
 * buckets' locks. */
static int requeue_locked(uint64_t addr, uint64_t addr2, int n)
{
	struct waitq *q2 = bucket(addr2);
	int moved = 0;

	for (struct waiter *w = bucket(addr)->head, *next; w && moved < n; w = next) {
		next = w->next;
		struct fwait *f = w->arg;
		if (f->addr != addr)
			continue;
		waitq_remove_locked(w);
		f->addr = addr2;
		waitq_add_locked(q2, w);
		moved++;
	}
	return moved;
}

static long deadline_of(const struct timespec __user *ut, bool absolute, bool realtime, uint64_t *out)
{
	struct timespec ts;

	*out = 0;
	if (!ut)
		return 0;
	if (copy_from_user(&ts, ut, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	uint64_t t = (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec, now = clock_monotonic_ns();
	if (!absolute)
		*out = now + t;
	else if (realtime)
		*out = t > clock_realtime_base() ? t - clock_realtime_base() : 1;
	else
		*out = t;
	if (!*out)
		*out = 1; /* an absolute time of 0 has passed already */
	return 0;
}

/* The waiter is queued and the value read under the bucket's lock, so a
 * FUTEX_WAKE after the program changed the value finds it queued. */
static long futex_wait(uint64_t addr, uint32_t val, uint64_t deadline, uint32_t bitset)
{
	struct fwait f = { addr, bitset, { .thread = current } };
	struct waitq *q = bucket(addr);
	uint32_t cur;
	long r = 0;

	f.w.arg = &f;
	unsigned long fl = spin_lock_irqsave(&q->lock);
	if (copy_from_user(&cur, (void *)addr, 4) < 0)
		r = -EFAULT;
	else if (cur != val)
		r = -EAGAIN;
	else
		waitq_add_locked(q, &f.w);
	spin_unlock_irqrestore(&q->lock, fl);
	if (r)
		return r;
	/* A waker, or a requeue to another bucket, changes f.w.q under the
	 * buckets' locks; the wait ends when a waker took it off. */
	r = wait_event_deadline(NULL, !*(struct waitq *volatile *)&f.w.q, deadline);
	if (!f.w.q)
		return 0; /* woken by a FUTEX_WAKE, whatever else happened */
	f.addr = 0;       /* timeout or signal */
	waitq_remove(&f.w);
	if (r == -EINTR && !deadline)
		r = -ERESTARTSYS; /* a timed wait is not restarted: Linux says EINTR */
	return r;
}

/* FUTEX_WAKE_OP's update of *uaddr2 and its comparison (uapi futex.h). */
static long wake_op(uint64_t addr2, uint32_t op, bool *cmp)
{
	/* Both 12-bit fields are signed; a shift count is taken mod 32. */
	int32_t sarg = (int32_t)(op << 8) >> 20, scarg = (int32_t)(op << 20) >> 20;
	uint32_t old, arg = (uint32_t)sarg, carg = (uint32_t)scarg, v;

	if ((op >> 28) & FUTEX_OP_OPARG_SHIFT)
		arg = 1u << (sarg & 31);
	if (copy_from_user(&old, (void *)addr2, 4) < 0)
		return -EFAULT;
	switch ((op >> 28) & 7) {
	case FUTEX_OP_SET: v = arg; break;
	case FUTEX_OP_ADD: v = old + arg; break;
	case FUTEX_OP_OR: v = old | arg; break;
	case FUTEX_OP_ANDN: v = old & ~arg; break;
	case FUTEX_OP_XOR: v = old ^ arg; break;
	default: return -ENOSYS;
	}
	switch ((op >> 24) & 15) {
	case FUTEX_OP_CMP_EQ: *cmp = old == carg; break;
	case FUTEX_OP_CMP_NE: *cmp = old != carg; break;
	case FUTEX_OP_CMP_LT: *cmp = (int32_t)old < (int32_t)carg; break;
	case FUTEX_OP_CMP_LE: *cmp = (int32_t)old <= (int32_t)carg; break;
	case FUTEX_OP_CMP_GT: *cmp = (int32_t)old > (int32_t)carg; break;
	case FUTEX_OP_CMP_GE: *cmp = (int32_t)old >= (int32_t)carg; break;
	default: return -ENOSYS;
	}
	return copy_to_user((void *)addr2, &v, 4);
}

SYSCALL_DEFINE6(futex, uint32_t __user *, uaddr, int, op, uint32_t, val, const struct timespec __user *,
		ut, uint32_t __user *, uaddr2, uint32_t, val3)
{
	int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	uint64_t addr = (uint64_t)uaddr, addr2 = (uint64_t)uaddr2, deadline;
	unsigned long fl;
	uint32_t cur;
	long r;

	if (addr & 3)
		return -EINVAL;
	if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (cmd == FUTEX_WAIT_BITSET && !val3)
			return -EINVAL;
		r = deadline_of(ut, cmd == FUTEX_WAIT_BITSET, realtime, &deadline);
		return r < 0 ? r
			     : futex_wait(addr, val, deadline, cmd == FUTEX_WAIT ? BITSET_ALL : val3);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (cmd == FUTEX_WAKE_BITSET && !val3)
			return -EINVAL;
		return wake(addr, nr_wake(val), cmd == FUTEX_WAKE ? BITSET_ALL : val3);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if (addr2 & 3)
			return -EINVAL;
		fl = lock_two(addr, addr2);
		if (cmd == FUTEX_CMP_REQUEUE && copy_from_user(&cur, uaddr, 4) < 0)
			r = -EFAULT;
		else if (cmd == FUTEX_CMP_REQUEUE && cur != val3)
			r = -EAGAIN;
		else
			r = wake_locked(addr, (int)MIN(val, 0x7fffffffU),
					BITSET_ALL) + /* 0 wakes none */
			    requeue_locked(addr, addr2, (int)MIN((uint64_t)ut, 0x7fffffffUL));
		unlock_two(addr, addr2, fl);
		return r;
	case FUTEX_WAKE_OP: {
		bool cmp = false;
		if (addr2 & 3)
			return -EINVAL;
		fl = lock_two(addr, addr2);
		r = wake_op(addr2, val3, &cmp);
		if (r == 0) {
			r = wake_locked(addr, nr_wake(val), BITSET_ALL);
			if (cmp)
				r += wake_locked(addr2, nr_wake((uint64_t)ut), BITSET_ALL);
		}
		unlock_two(addr, addr2, fl);
		return r;
	}
	default: return -ENOSYS;
	}
}
