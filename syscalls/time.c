// SPDX-License-Identifier: MIT
/*
 * Clocks and sleeping.  All clocks read the TSC (kernel/time.c).  The
 * CPU-time clocks answer the time since boot: the program is the only
 * thing this VM runs, so that is an upper bound of its CPU time, and the
 * coarse clocks answer the precise time (Linux allows a finer result).
 */
#include "kernel/arch/x86_64/x86.h"
#include "syscalls/syscalls.h"

#define NS 1000000000L

static long clock_ns(int clk, uint64_t *ns)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		*ns = clock_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = clock_monotonic_ns();
		return 0;
	default:
		return -EINVAL;
	}
}

SYSCALL_DEFINE2(clock_gettime, int, clk, struct timespec __user *, uts)
{
	uint64_t ns;
	long r = clock_ns(clk, &ns);

	if (r < 0)
		return r;
	struct timespec ts = { ns / NS, ns % NS };
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
	struct timeval tv = { ns / NS, ns % NS / 1000 };

	if (tz && clear_user(tz, 8) < 0) /* struct timezone: UTC */
		return -EFAULT;
	return utv ? copy_to_user(utv, &tv, sizeof(tv)) : 0;
}

SYSCALL_DEFINE1(time, int64_t __user *, ut)
{
	int64_t t = clock_realtime_ns() / NS;

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
	if (req.tv_sec < 0 || req.tv_nsec < 0 || req.tv_nsec >= NS || (flags & ~TIMER_ABSTIME))
		return -EINVAL;
	uint64_t t = (uint64_t)req.tv_sec * NS + req.tv_nsec;
	if (flags & TIMER_ABSTIME)
		t = t > now ? t - now : 0;
	uint64_t deadline = clock_monotonic_ns() + t;
	irq_disable();
	while ((r = sched_sleep(NULL, deadline ? deadline : 1)) == 0)
		;
	irq_enable();
	if (r == -ETIMEDOUT)
		return 0;
	if (urem && !(flags & TIMER_ABSTIME)) {
		uint64_t left = deadline - MIN(deadline, clock_monotonic_ns());
		struct timespec rem = { left / NS, left % NS };
		if (copy_to_user(urem, &rem, sizeof(rem)) < 0)
			return -EFAULT;
	}
	return -EINTR;
}

SYSCALL_DEFINE2(nanosleep, const struct timespec __user *, req, struct timespec __user *, rem)
{
	return do_sys_clock_nanosleep(CLOCK_MONOTONIC, 0, req, rem);
}
