// SPDX-License-Identifier: MIT
/*
 * Clocks and sleeping.  All clocks read the TSC (kernel/time.c).  The
 * CPU-time clocks answer the time since boot: the program is the only
 * thing this VM runs, so that is an upper bound of its CPU time, and the
 * coarse clocks answer the precise time (Linux allows a finer result).
 */
#include "syscalls/syscalls.h"


static long clock_ns(int clk, uint64_t *ns)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE: *ns = clock_realtime_ns(); return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID: *ns = clock_monotonic_ns(); return 0;
	default: return -EINVAL;
	}
}

SYSCALL_DEFINE2(clock_gettime, int, clk, struct timespec __user *, uts)
{
	uint64_t ns;
	long r = clock_ns(clk, &ns);

	if (r < 0)
		return r;
	struct timespec ts = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };
	return copy_to_user(uts, &ts, sizeof(ts));
}

SYSCALL_DEFINE2(clock_getres, int, clk, struct timespec __user *, uts)
{
	uint64_t ns;
	long r = clock_ns(clk, &ns);
	struct timespec ts = { 0, 1 };

	if (r < 0)
		return r;
	return uts ? copy_to_user(uts, &ts, sizeof(ts)) : 0;
}

SYSCALL_DEFINE2(gettimeofday, struct timeval __user *, utv, void __user *, tz)
{
	uint64_t ns = clock_realtime_ns();
	struct timeval tv = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC / 1000 };

	if (tz && clear_user(tz, 8) < 0) /* struct timezone: UTC */
		return -EFAULT;
	return utv ? copy_to_user(utv, &tv, sizeof(tv)) : 0;
}

SYSCALL_DEFINE1(time, int64_t __user *, ut)
{
	int64_t t = clock_realtime_ns() / NSEC_PER_SEC;

	if (ut && copy_to_user(ut, &t, sizeof(t)) < 0)
		return -EFAULT;
	return t;
}

/* Interrupted by a handled signal it answers -EINTR with the time left
 * (relative sleeps), which Linux never restarts for nanosleep. */
SYSCALL_DEFINE4(clock_nanosleep, int, clk, int, flags, const struct timespec __user *, ureq,
		struct timespec __user *, urem)
{
	struct timespec req;
	uint64_t now;

	if (clk == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	long r = clock_ns(clk, &now);
	if (r < 0)
		return r;
	if (copy_from_user(&req, ureq, sizeof(req)) < 0)
		return -EFAULT;
	if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= NSEC_PER_SEC || (flags & ~TIMER_ABSTIME))
		return -EINVAL;
	uint64_t t = (uint64_t)req.tv_sec * NSEC_PER_SEC + req.tv_nsec;
	if (flags & TIMER_ABSTIME)
		t = t > now ? t - now : 0;
	uint64_t deadline = clock_monotonic_ns() + t;
	r = wait_event_deadline(NULL, false, deadline ? deadline : 1);
	if (r == -ETIMEDOUT)
		return 0;
	if (urem && !(flags & TIMER_ABSTIME)) {
		uint64_t left = deadline - MIN(deadline, clock_monotonic_ns());
		struct timespec rem = { left / NSEC_PER_SEC, left % NSEC_PER_SEC };
		if (copy_to_user(urem, &rem, sizeof(rem)) < 0)
			return -EFAULT;
	}
	return -EINTR;
}

SYSCALL_DEFINE2(nanosleep, const struct timespec __user *, req, struct timespec __user *, rem)
{
	return do_sys_clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
}

/* CPU time is not accounted per thread yet: the program is the only thing
 * this VM runs, so its user time is the time since boot (an upper bound)
 * and its system time is reported as zero. */
static struct timeval ns_to_tv(uint64_t ns)
{
	return (struct timeval){ ns / NSEC_PER_SEC, ns % NSEC_PER_SEC / 1000 };
}

SYSCALL_DEFINE2(getrusage, int, who, struct rusage __user *, u)
{
	struct rusage ru;

	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
		return -EINVAL;
	memset(&ru, 0, sizeof(ru));
	if (who != RUSAGE_CHILDREN) {
		ru.utime = ns_to_tv(clock_monotonic_ns());
		ru.maxrss = vm_resident_pages() * (PAGE_SIZE / 1024);
	}
	return copy_to_user(u, &ru, sizeof(ru));
}

SYSCALL_DEFINE1(times, struct tms __user *, u)
{
	int64_t ticks = clock_monotonic_ns() / (NSEC_PER_SEC / USER_HZ);
	struct tms t = { ticks, 0, 0, 0 };

	if (u && copy_to_user(u, &t, sizeof(t)) < 0)
		return -EFAULT;
	return ticks;
}

/* The three interval timers all count elapsed time (see above) and each
 * sends its signal to the process when it expires. */
static struct itimer {
	struct ktimer t;
	uint64_t interval;
	int sig;
} itimers[3];

static void itimer_fire(struct ktimer *t)
{
	struct itimer *it = (struct itimer *)t;

	signal_send(NULL, it->sig, SI_KERNEL);
	if (it->interval)
		timer_arm(&it->t, t->deadline + it->interval);
}

static struct itimerval itimer_get(int which)
{
	struct itimer *it = &itimers[which];
	uint64_t now = clock_monotonic_ns();
	uint64_t left = it->t.armed && it->t.deadline > now ? it->t.deadline - now : 0;

	if (it->t.armed && !left)
		left = 1000; /* due but not yet fired: Linux reports a tick */
	return (struct itimerval){ ns_to_tv(it->interval), ns_to_tv(left) };
}

static uint64_t tv_ns(struct timeval tv)
{
	return tv.tv_sec * NSEC_PER_SEC + tv.tv_usec * 1000;
}

SYSCALL_DEFINE2(getitimer, int, which, struct itimerval __user *, u)
{
	if (which < 0 || which > ITIMER_PROF)
		return -EINVAL;
	struct itimerval v = itimer_get(which);
	return copy_to_user(u, &v, sizeof(v));
}

SYSCALL_DEFINE3(setitimer, int, which, const struct itimerval __user *, unew, struct itimerval __user *,
		uold)
{
	static const int sigs[] = { SIGALRM, SIGVTALRM, SIGPROF };
	struct itimerval v = { { 0, 0 }, { 0, 0 } }, old;

	if (which < 0 || which > ITIMER_PROF)
		return -EINVAL;
	if (unew && copy_from_user(&v, unew, sizeof(v)) < 0)
		return -EFAULT;
	if (v.value.tv_usec < 0 || v.value.tv_usec >= 1000000 || v.interval.tv_usec < 0 ||
	    v.interval.tv_usec >= 1000000 || v.value.tv_sec < 0 || v.interval.tv_sec < 0)
		return -EINVAL;
	old = itimer_get(which);
	struct itimer *it = &itimers[which];
	timer_cancel(&it->t);
	it->t.fn = itimer_fire;
	it->sig = sigs[which];
	it->interval = tv_ns(v.interval);
	if (tv_ns(v.value))
		timer_arm(&it->t, clock_monotonic_ns() + tv_ns(v.value));
	return uold ? copy_to_user(uold, &old, sizeof(old)) : 0;
}

SYSCALL_DEFINE1(alarm, unsigned, seconds)
{
	struct itimerval old = itimer_get(ITIMER_REAL);
	struct itimer *it = &itimers[ITIMER_REAL];

	timer_cancel(&it->t);
	it->t.fn = itimer_fire;
	it->sig = SIGALRM;
	it->interval = 0;
	if (seconds)
		timer_arm(&it->t, clock_monotonic_ns() + seconds * NSEC_PER_SEC);
	return old.value.tv_sec +
	       (old.value.tv_usec >= 500000 || (!old.value.tv_sec && old.value.tv_usec));
}
