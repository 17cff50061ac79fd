// SPDX-License-Identifier: MIT
/*
 * Signal syscalls: rt_sigaction and rt_sigprocmask keep the program's
 * actions and mask (kernel/signal.c holds them); kill, tkill and tgkill
 * send a signal to the program itself.  Delivery to handlers is
 * not implemented yet; kernel/signal.c says so in the log when a handled
 * signal has to end the program instead.
 */
#include "syscalls/syscalls.h"

#define UNBLOCKABLE ((1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1)))

SYSCALL_DEFINE4(rt_sigaction, int, sig, const struct k_sigaction __user *, uact,
		struct k_sigaction __user *, uold, size_t, setsize)
{
	struct k_sigaction act, old;

	if (setsize != sizeof(uint64_t))
		return -EINVAL;
	if (uact && copy_from_user(&act, uact, sizeof(act)) < 0)
		return -EFAULT;
	long r = signal_action(sig, uact ? &act : NULL, &old);
	if (r < 0)
		return r;
	return uold ? copy_to_user(uold, &old, sizeof(old)) : 0;
}

SYSCALL_DEFINE4(rt_sigprocmask, int, how, const uint64_t __user *, uset,
		uint64_t __user *, uold, size_t, setsize)
{
	uint64_t *mask = signal_mask(), set, old = *mask;

	if (setsize != sizeof(uint64_t))
		return -EINVAL;
	if (uset) {
		if (copy_from_user(&set, uset, sizeof(set)) < 0)
			return -EFAULT;
		if (how == SIG_BLOCK)
			*mask |= set;
		else if (how == SIG_UNBLOCK)
			*mask &= ~set;
		else if (how == SIG_SETMASK)
			*mask = set;
		else
			return -EINVAL;
		*mask &= ~UNBLOCKABLE;
	}
	if (uold && copy_to_user(uold, &old, sizeof(old)) < 0)
		return -EFAULT;
	signal_unblocked();
	return 0;
}

/* The only process is pid 1 and its only thread is tid 1. */
SYSCALL_DEFINE2(kill, int, pid, int, sig)
{
	if (pid != 1 && pid != 0 && pid != -1)
		return -ESRCH;
	return signal_send(sig);
}

SYSCALL_DEFINE2(tkill, int, tid, int, sig)
{
	return tid == 1 ? signal_send(sig) : tid <= 0 ? -EINVAL : -ESRCH;
}

SYSCALL_DEFINE3(tgkill, int, tgid, int, tid, int, sig)
{
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	return tgid == 1 && tid == 1 ? signal_send(sig) : -ESRCH;
}

/* include/uapi/asm-generic/signal.h: stack_t and its flags */
struct sigstack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048

static struct sigstack altstack = { 0, SS_DISABLE, 0, 0 };

/* Recorded for the signal delivery to come; never used while on it. */
SYSCALL_DEFINE2(sigaltstack, const struct sigstack __user *, uss, struct sigstack __user *, uold)
{
	struct sigstack ss;

	if (uold && copy_to_user(uold, &altstack, sizeof(altstack)) < 0)
		return -EFAULT;
	if (!uss)
		return 0;
	if (copy_from_user(&ss, uss, sizeof(ss)) < 0)
		return -EFAULT;
	if (ss.flags & ~(SS_DISABLE | (1 << 31) /* SS_AUTODISARM */))
		return -EINVAL;
	if (!(ss.flags & SS_DISABLE) && ss.size < MINSIGSTKSZ)
		return -ENOMEM;
	altstack = ss.flags & SS_DISABLE ? (struct sigstack){ 0, SS_DISABLE, 0, 0 } : ss;
	return 0;
}
