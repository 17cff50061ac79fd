// SPDX-License-Identifier: MIT
/*
 * futex for a program with one thread, which is all elfvm runs until the
 * threads issue lands: every check Linux makes is made (alignment, -EFAULT,
 * the value compare that gives -EAGAIN, FUTEX_WAKE_OP's atomic update), a
 * wake finds no waiter, and a wait can only end by its timeout.  A wait
 * without one would never end on Linux either; we log that the program is
 * deadlocked and halt, so the host's --timeout ends the run.
 */
#include "syscalls/syscalls.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define NS 1000000000UL

static long futex_wait(uint32_t __user *uaddr, uint32_t val, const struct timespec __user *ut,
		       bool absolute, bool realtime)
{
	uint32_t cur;
	struct timespec ts;

	if (copy_from_user(&cur, uaddr, sizeof(cur)) < 0)
		return -EFAULT;
	if (cur != val)
		return -EAGAIN;
	if (!ut) {
		klog("futex wait with no other thread to wake it: the program is deadlocked");
		for (;;)
			time_sleep_until(~0UL);
	}
	if (copy_from_user(&ts, ut, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= (int64_t)NS)
		return -EINVAL;
	uint64_t t = ts.tv_sec * NS + ts.tv_nsec, now = clock_monotonic_ns();
	if (absolute) {
		uint64_t base = realtime ? clock_realtime_ns() : now;
		t = t > base ? t - base : 0;
	}
	time_sleep_until(now + t);
	return -ETIMEDOUT;
}

/* FUTEX_WAKE_OP's update of *uaddr2 (include/uapi/linux/futex.h). */
static long wake_op(uint32_t __user *uaddr2, uint32_t op)
{
	uint32_t old, arg = (op >> 12) & 0xfff, v;

	if (op & (8u << 28))
		arg = arg >= 32 ? 0 : 1u << arg;
	if (copy_from_user(&old, uaddr2, sizeof(old)) < 0)
		return -EFAULT;
	switch ((op >> 28) & 7) {
	case 0: v = arg; break;
	case 1: v = old + arg; break;
	case 2: v = old | arg; break;
	case 3: v = old & ~arg; break;
	case 4: v = old ^ arg; break;
	default: return -ENOSYS;
	}
	return copy_to_user(uaddr2, &v, sizeof(v));
}

SYSCALL_DEFINE6(futex, uint32_t __user *, uaddr, int, op, uint32_t, val,
		const struct timespec __user *, ut, uint32_t __user *, uaddr2, uint32_t, val3)
{
	int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	uint32_t cur;

	if ((uint64_t)uaddr & 3)
		return -EINVAL;
	if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
		return futex_wait(uaddr, val, ut, false, false);
	case FUTEX_WAIT_BITSET:
		return val3 ? futex_wait(uaddr, val, ut, true, realtime) : -EINVAL;
	case FUTEX_WAKE:
		return 0;
	case FUTEX_WAKE_BITSET:
		return val3 ? 0 : -EINVAL;
	case FUTEX_CMP_REQUEUE:
		if (copy_from_user(&cur, uaddr, sizeof(cur)) < 0)
			return -EFAULT;
		return cur == val3 ? 0 : -EAGAIN;
	case FUTEX_REQUEUE:
		return 0;
	case FUTEX_WAKE_OP:
		return (uint64_t)uaddr2 & 3 ? -EINVAL : wake_op(uaddr2, val3);
	default:
		return -ENOSYS;
	}
}
