// SPDX-License-Identifier: MIT
/*
 * Signal syscalls: actions (rt_sigaction), the calling thread's mask and
 * pending set, waiting for signals (rt_sigsuspend, rt_sigtimedwait, pause),
 * rt_sigreturn, sigaltstack, and kill/tkill/tgkill and rt_sigqueueinfo/
 * rt_tgsigqueueinfo within the one process (pid 1).  Delivery itself is kernel/signal.c's.
 */
#include "syscalls/syscalls.h"


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

SYSCALL_DEFINE4(rt_sigprocmask, int, how, const uint64_t __user *, uset, uint64_t __user *, uold, size_t,
		setsize)
{
	uint64_t *mask = &current->sigmask, set, old = *mask;

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
	return uold ? copy_to_user(uold, &old, sizeof(old)) : 0;
}

SYSCALL_DEFINE2(rt_sigpending, uint64_t __user *, uset, size_t, setsize)
{
	uint64_t p = current->sigpending | signal_shared_pending;

	if (setsize > sizeof(uint64_t))
		return -EINVAL;
	return copy_to_user(uset, &p, setsize);
}

/* Sleeps until a signal that is not blocked arrives; -EINTR. */
static long wait_for_signal(void)
{
	return wait_event_deadline(NULL, false, 0);
}

SYSCALL_DEFINE2(rt_sigsuspend, const uint64_t __user *, uset, size_t, setsize)
{
	uint64_t set;

	if (setsize != sizeof(uint64_t))
		return -EINVAL;
	if (copy_from_user(&set, uset, sizeof(set)) < 0)
		return -EFAULT;
	current->saved_mask = current->sigmask;
	current->restore_mask = true; /* the handler's frame keeps the old mask */
	current->sigmask = set & ~UNBLOCKABLE;
	return wait_for_signal();
}

SYSCALL_DEFINE0(pause)
{
	return wait_for_signal();
}

SYSCALL_DEFINE4(rt_sigtimedwait, const uint64_t __user *, uset, void __user *, uinfo,
		const struct timespec __user *, ut, size_t, setsize)
{
	uint64_t set, deadline = 0;
	struct timespec ts;
	struct sig_info k;
	uint8_t info[128];
	int sig;

	if (setsize != sizeof(uint64_t))
		return -EINVAL;
	if (copy_from_user(&set, uset, sizeof(set)) < 0)
		return -EFAULT;
	if (ut) {
		if (copy_from_user(&ts, ut, sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC_PER_SEC)
			return -EINVAL;
		deadline = clock_monotonic_ns() + ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec + 1;
	}
	set &= ~UNBLOCKABLE;
	current->sigwait = set;
	long r = wait_event_deadline(NULL, (sig = signal_dequeue(current, set, &k)) != 0, deadline);
	if (!sig) /* the signal that ended the wait may be one it waits for */
		sig = signal_dequeue(current, set, &k);
	current->sigwait = 0;
	if (!sig)
		return r == -ETIMEDOUT ? -EAGAIN : -EINTR;
	signal_fill_info(sig, &k, info);
	if (uinfo && copy_to_user(uinfo, info, sizeof(info)) < 0)
		return -EFAULT;
	return sig;
}

SYSCALL_DEFINE_R0(rt_sigreturn)
{
	return signal_return(r);
}

/* include/uapi/asm-generic/signal.h: stack_t */
struct sigstack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

SYSCALL_DEFINE_R2(sigaltstack, const struct sigstack __user *, uss, struct sigstack __user *, uold)
{
	struct thread *t = current;
	bool on = t->altstack_size && r->rsp - t->altstack_sp <= t->altstack_size;
	struct sigstack ss,
		old = { t->altstack_sp, on ? SS_ONSTACK : t->altstack_flags, 0, t->altstack_size };

	if (uss) {
		if (copy_from_user(&ss, uss, sizeof(ss)) < 0)
			return -EFAULT;
		if (on)
			return -EPERM;
		unsigned mode = ss.flags & ~SS_AUTODISARM;
		if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->altstack_sp = t->altstack_size = 0;
			t->altstack_flags = SS_DISABLE;
		} else {
			if (ss.size < MINSIGSTKSZ)
				return -ENOMEM;
			t->altstack_sp = ss.sp;
			t->altstack_size = ss.size;
			t->altstack_flags = ss.flags & SS_AUTODISARM;
		}
	}
	return uold ? copy_to_user(uold, &old, sizeof(old)) : 0;
}

/* The only process is pid 1; its threads are tids 1, 2, … */
SYSCALL_DEFINE2(kill, int, pid, int, sig)
{
	if (pid != 1 && pid != 0 && pid != -1)
		return -ESRCH;
	return signal_send(NULL, sig, SI_USER);
}

SYSCALL_DEFINE2(tkill, int, tid, int, sig)
{
	struct thread *t = tid > 0 ? thread_by_tid(tid) : NULL;

	if (tid <= 0)
		return -EINVAL;
	return t ? signal_send(t, sig, SI_TKILL) : -ESRCH;
}

SYSCALL_DEFINE3(tgkill, int, tgid, int, tid, int, sig)
{
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	struct thread *t = tgid == 1 ? thread_by_tid(tid) : NULL;
	return t ? signal_send(t, sig, SI_TKILL) : -ESRCH;
}

/* The siginfo a sigqueue caller gives (include/uapi/asm-generic/siginfo.h:
 * si_code at 8, _rt's si_pid at 16 and si_value at 24).  Linux lets a
 * process queue any code to itself, and refuses the kernel's own codes
 * (>= 0, and SI_TKILL) towards others; here every target is the caller's
 * own process. */
static long queued_info(const void __user *uinfo, struct sig_info *k)
{
	int32_t w[8];

	if (copy_from_user(w, uinfo, sizeof(w)) < 0)
		return -EFAULT;
	k->code = w[2];
	k->pid = w[4];
	k->addr = *(uint64_t *)(w + 6);
	return 0;
}

SYSCALL_DEFINE3(rt_sigqueueinfo, int, pid, int, sig, const void __user *, uinfo)
{
	struct sig_info k;
	long r = queued_info(uinfo, &k);

	if (r < 0)
		return r;
	if (pid != 1)
		return -ESRCH;
	return signal_send_info(NULL, sig, &k);
}

SYSCALL_DEFINE4(rt_tgsigqueueinfo, int, tgid, int, tid, int, sig, const void __user *, uinfo)
{
	struct sig_info k;
	long r = queued_info(uinfo, &k);

	if (r < 0)
		return r;
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	struct thread *t = tgid == 1 ? thread_by_tid(tid) : NULL;
	return t ? signal_send_info(t, sig, &k) : -ESRCH;
}
