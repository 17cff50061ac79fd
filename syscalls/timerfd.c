// SPDX-License-Identifier: MIT
/*
 * timerfd, after Linux's fs/timerfd.c: a timer whose expirations are read
 * from a file as an 8-byte count.  It runs on a kernel timer (struct ktimer)
 * on the monotonic clock: CLOCK_REALTIME absolute times are converted once,
 * when set (the clock is never stepped here, so TFD_TIMER_CANCEL_ON_SET is
 * accepted and never fires); CLOCK_BOOTTIME is CLOCK_MONOTONIC, as nothing
 * suspends.  As in Linux, the timer interrupt only counts one expiration
 * and wakes; a periodic timer is moved past the present (counting the
 * periods it missed) and re-armed by the next read, gettime or settime.
 * The state is shared with the timer interrupt, so it changes under the
 * timerfd's spinlock.
 */
#include "syscalls/syscalls.h"

#define FAR_FUTURE (1L << 62)

struct timerfd {
	int clock;
	struct ktimer timer;
	int64_t deadline;     /* monotonic ns of the next (or last) expiry; 0: disarmed */
	int64_t interval;     /* 0: one-shot */
	uint64_t ticks;       /* expirations not read yet */
	bool expired;         /* fired, and (periodic) not re-armed yet */
	struct spinlock lock; /* all of the above */
	struct waitq wq;
};

static const struct file_ops timerfd_ops;

/* Counts one expiration; under the lock. */
static void expire_locked(struct timerfd *tf)
{
	tf->ticks++;
	tf->expired = true;
}

/* The ktimer's callback, from the timer interrupt. */
static void expire(struct ktimer *t)
{
	struct timerfd *tf = t->arg;
	unsigned long f = spin_lock_irqsave(&tf->lock);

	expire_locked(tf);
	spin_unlock_irqrestore(&tf->lock, f);
	poll_wake(&tf->wq, EPOLLIN);
}

/* A fired periodic timer: counts the periods that went by since it fired
 * and arms the next one (hrtimer_forward_now).  Under the lock. */
static void forward(struct timerfd *tf)
{
	int64_t now = clock_monotonic_ns();

	if (!tf->expired || !tf->interval)
		return;
	if (now >= tf->deadline) {
		uint64_t missed = (now - tf->deadline) / tf->interval + 1;
		tf->deadline += missed * tf->interval;
		tf->ticks += missed - 1;
	}
	tf->expired = false;
	timer_arm(&tf->timer, tf->deadline);
}

static long timerfd_read(struct file *f, struct uio *u, uint64_t *off)
{
	struct timerfd *tf = f->priv;

	(void)off;
	if (u->count < sizeof(uint64_t))
		return -EINVAL;
	long r = wait_event_interruptible(&tf->wq, tf->ticks, f->flags & O_NONBLOCK);
	if (r)
		return r;
	unsigned long fl = spin_lock_irqsave(&tf->lock);
	forward(tf);
	uint64_t ticks = tf->ticks;
	tf->ticks = 0;
	tf->expired = false;
	spin_unlock_irqrestore(&tf->lock, fl);
	return uio_copy_out(u, &ticks, sizeof(ticks)) == sizeof(ticks) ? (long)sizeof(ticks) : -EFAULT;
}

static unsigned timerfd_poll(struct file *f)
{
	struct timerfd *tf = f->priv;

	return tf->ticks ? EPOLLIN : 0;
}

static void timerfd_release(struct file *f)
{
	struct timerfd *tf = f->priv;

	timer_cancel(&tf->timer);
	kfree(tf);
}

static const struct file_ops timerfd_ops = {
	.read = timerfd_read,
	.poll = timerfd_poll,
	.release = timerfd_release,
};

SYSCALL_DEFINE2(timerfd_create, int, clock, int, flags)
{
	if (flags & ~(TFD_NONBLOCK | TFD_CLOEXEC))
		return -EINVAL;
	if (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME && clock != CLOCK_BOOTTIME &&
	    clock != CLOCK_REALTIME_ALARM && clock != CLOCK_BOOTTIME_ALARM)
		return -EINVAL;
	struct timerfd *tf = kzalloc(sizeof(*tf));
	struct file *f = tf ? file_alloc(&timerfd_ops, O_RDWR | (flags & TFD_NONBLOCK)) : NULL;
	if (!f) {
		kfree(tf);
		return -ENOMEM;
	}
	tf->clock = clock;
	tf->lock.name = "timerfd";
	tf->timer.fn = expire;
	tf->timer.arg = tf;
	f->priv = tf;
	f->wq = &tf->wq;
	return fd_install(f, 0, flags & TFD_CLOEXEC);
}

static struct timerfd *timerfd_of(int fd, long *err)
{
	struct file *f = fd_get(fd);

	*err = !f ? -EBADF : f->ops != &timerfd_ops ? -EINVAL : 0;
	return *err ? NULL : f->priv;
}

static bool valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < NSEC_PER_SEC;
}

static int64_t to_ns(const struct timespec *ts)
{
	return ts->tv_sec >= FAR_FUTURE / NSEC_PER_SEC ? FAR_FUTURE
						       : ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static struct timespec to_ts(int64_t ns)
{
	return (struct timespec){ ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };
}

/* What timerfd_gettime shows: the time to the next expiry (0 when disarmed
 * or a one-shot that fired) and the period.  Under the lock. */
static struct itimerspec current_value(struct timerfd *tf)
{
	int64_t now = clock_monotonic_ns();

	forward(tf);
	return (struct itimerspec){
		.it_interval = to_ts(tf->interval),
		.it_value = to_ts(tf->deadline > now ? tf->deadline - now : 0),
	};
}

SYSCALL_DEFINE4(timerfd_settime, int, fd, int, flags, const struct itimerspec __user *, unew,
		struct itimerspec __user *, uold)
{
	struct itimerspec new, old;
	long err;

	if (copy_from_user(&new, unew, sizeof(new)) < 0)
		return -EFAULT;
	if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) || !valid(&new.it_value) ||
	    !valid(&new.it_interval))
		return -EINVAL;
	struct timerfd *tf = timerfd_of(fd, &err);
	if (!tf)
		return err;
	unsigned long fl = spin_lock_irqsave(&tf->lock);
	bool fired = false;
	old = current_value(tf);
	timer_cancel(&tf->timer);
	tf->ticks = 0;
	tf->expired = false;
	tf->interval = to_ns(&new.it_interval);
	tf->deadline = 0;
	if (new.it_value.tv_sec || new.it_value.tv_nsec) {
		int64_t now = clock_monotonic_ns(), v = to_ns(&new.it_value);
		if (!(flags & TFD_TIMER_ABSTIME))
			tf->deadline = now + v;
		else if (tf->clock == CLOCK_REALTIME || tf->clock == CLOCK_REALTIME_ALARM)
			tf->deadline = v - (int64_t)(clock_realtime_ns() - clock_monotonic_ns());
		else
			tf->deadline = v;
		fired = tf->deadline <= now;
		if (fired)
			expire_locked(tf);
		else
			timer_arm(&tf->timer, tf->deadline);
	}
	spin_unlock_irqrestore(&tf->lock, fl);
	if (fired)
		poll_wake(&tf->wq, EPOLLIN);
	if (uold && copy_to_user(uold, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE2(timerfd_gettime, int, fd, struct itimerspec __user *, ucur)
{
	long err;
	struct timerfd *tf = timerfd_of(fd, &err);

	if (!tf)
		return err;
	unsigned long fl = spin_lock_irqsave(&tf->lock);
	struct itimerspec cur = current_value(tf);
	spin_unlock_irqrestore(&tf->lock, fl);
	return copy_to_user(ucur, &cur, sizeof(cur));
}
