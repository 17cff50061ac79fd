// SPDX-License-Identifier: MIT
/*
 * Threads: clone and clone3 for what pthread_create asks (CLONE_VM |
 * CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
 * CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID), the end of a
 * thread versus exit_group, set_tid_address and the robust futex list.
 * A new process (fork, vfork, a clone without CLONE_VM) or execve of
 * another program is not possible in a unikernel: they answer -ENOSYS,
 * which posix_spawn and system() report as "Function not implemented".
 */
#include "kernel/net/stack.h"
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define ALLOWED \
	(THREAD_FLAGS | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | \
	 CLONE_DETACHED | CLONE_CHILD_SETTID)

static long do_clone(const struct regs *r, uint64_t flags, uint64_t stack, int __user *ptid,
		     int __user *ctid, uint64_t tls)
{
	if ((flags & THREAD_FLAGS) != THREAD_FLAGS || (flags & CLONE_VFORK))
		return -ENOSYS; /* a new process: not in a unikernel */
	if (flags & ~(ALLOWED | 0xff))
		return -EINVAL;
	struct thread *t = thread_create(r, stack, (flags & CLONE_SETTLS) ? tls : cpu_user_fs());
	if (!t)
		return -EAGAIN;
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = (uint64_t)ctid;
	if ((flags & CLONE_PARENT_SETTID) && copy_to_user(ptid, &t->tid, sizeof(int)) < 0)
		return -EFAULT;
	if ((flags & CLONE_CHILD_SETTID) && copy_to_user(ctid, &t->tid, sizeof(int)) < 0)
		return -EFAULT;
	return t->tid;
}

/* clone(flags, stack, parent_tid, child_tid, tls): x86-64's argument order. */
SYSCALL_DEFINE_R5(clone, uint64_t, flags, uint64_t, stack, int __user *, ptid, int __user *, ctid,
		  uint64_t, tls)
{
	return do_clone(r, flags, stack, ptid, ctid, tls);
}

struct clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

SYSCALL_DEFINE_R2(clone3, const struct clone_args __user *, uargs, size_t, size)
{
	struct clone_args a;

	if (size < 64 || size > PAGE_SIZE)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (copy_from_user(&a, uargs, MIN(size, sizeof(a))) < 0)
		return -EFAULT;
	if ((a.flags & THREAD_FLAGS) != THREAD_FLAGS || (a.flags & CLONE_VFORK))
		return -ENOSYS; /* a new process, before any other check: not here */
	if (a.set_tid_size || a.cgroup || a.exit_signal || (a.stack && !a.stack_size))
		return -EINVAL;
	return do_clone(r, a.flags, a.stack ? a.stack + a.stack_size : 0, (int *)a.parent_tid,
			(int *)a.child_tid, a.tls);
}

SYSCALL_DEFINE0(fork)
{
	return -ENOSYS;
}

SYSCALL_DEFINE0(vfork)
{
	return -ENOSYS;
}

SYSCALL_DEFINE3(execve, const char __user *, path, uint64_t, argv, uint64_t, envp)
{
	(void)path, (void)argv, (void)envp;
	return -ENOSYS;
}

SYSCALL_DEFINE0(gettid)
{
	return current->tid;
}

SYSCALL_DEFINE1(set_tid_address, uint64_t, tidptr)
{
	current->clear_child_tid = tidptr;
	return current->tid;
}

SYSCALL_DEFINE2(set_robust_list, uint64_t, head, size_t, len)
{
	if (len != 24) /* sizeof(struct robust_list_head) */
		return -EINVAL;
	current->robust_list = head;
	return 0;
}

SYSCALL_DEFINE3(get_robust_list, int, tid, uint64_t __user *, head, size_t __user *, len)
{
	struct thread *t = tid ? thread_by_tid(tid) : current;
	uint64_t n = 24;

	if (!t)
		return -ESRCH;
	if (copy_to_user(head, &t->robust_list, 8) < 0 || copy_to_user(len, &n, 8) < 0)
		return -EFAULT;
	return 0;
}

/* Marks one futex of the dying thread's robust list (kernel/futex.c's rule:
 * the owner died, one waiter is woken to find out). */
static bool robust_one(uint64_t uaddr, int tid)
{
	uint32_t v;

	if (copy_from_user(&v, (void *)uaddr, 4) < 0)
		return false;
	if ((v & FUTEX_TID_MASK) != (uint32_t)tid)
		return true;
	uint32_t nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	if (copy_to_user((void *)uaddr, &nv, 4) < 0)
		return false;
	if (v & FUTEX_WAITERS)
		futex_wake_addr(uaddr, 1);
	return true;
}

static void robust_cleanup(struct thread *t)
{
	struct {
		uint64_t next;
		int64_t offset;
		uint64_t pending;
	} head;
	uint64_t e;
	int limit = 2048; /* Linux's ROBUST_LIST_LIMIT */

	if (!t->robust_list || copy_from_user(&head, (void *)t->robust_list, sizeof(head)) < 0)
		return;
	for (e = head.next; e != t->robust_list && limit--;) {
		if (e != head.pending && !robust_one(e + head.offset, t->tid))
			return;
		if (copy_from_user(&e, (void *)e, 8) < 0)
			return;
	}
	if (head.pending)
		robust_one(head.pending + head.offset, t->tid);
}

/* The end of one thread: its robust futexes, then CLONE_CHILD_CLEARTID's
 * zero and wake-up (what pthread_join waits for). */
SYSCALL_DEFINE1(exit, int, status)
{
	struct thread *t = current;
	int zero = 0;

	robust_cleanup(t);
	if (t->clear_child_tid && copy_to_user((void *)t->clear_child_tid, &zero, 4) == 0)
		futex_wake_addr(t->clear_child_tid, 1);
	signal_thread_gone(t);
	thread_exit(status);
}

SYSCALL_DEFINE1(exit_group, int, status)
{
	net_drain();       /* what the program sent must leave before the VM ends */
	mfs_remote_exit(); /* shared mappings of volume files reach the host */
	vm_exit_status(status);
}

/* No child process can exist: wait answers as Linux does without any. */
SYSCALL_DEFINE4(wait4, int, pid, int __user *, status, int, options, void __user *, ru)
{
	(void)pid, (void)status, (void)ru;
	return options & ~(1 | 2 | 8 | 0x40000000 | 0x80000000 | 0x20000000) ? -EINVAL : -ECHILD;
}

SYSCALL_DEFINE5(waitid, int, which, int, id, void __user *, info, int, options, void __user *, ru)
{
	(void)id, (void)info, (void)ru;
	if (which < 0 || which > 3 || !(options & (4 | 2 | 8))) /* WEXITED|WSTOPPED|WCONTINUED */
		return -EINVAL;
	return -ECHILD;
}
