// SPDX-License-Identifier: MIT
/*
 * The dispatcher: the entry code hands us the saved registers, we call the
 * table's handler for rax and put its result back in rax.  Numbers without
 * a handler answer -ENOSYS and are logged once by name (names come from
 * musl's syscall list, generated at build time).  With strace=1 on the
 * command line every call is reported as an @@strace record, marked
 * " [direct]" when it came through the vDSO's entry rather than the
 * `syscall` instruction (both entries land here, docs/vdso.md); with
 * profile=1 every call is counted (kernel/profile.c).  The table comes from
 * syscall_table.h: syscalls/table.h itself, or in a trimmed kernel (`make
 * SYSCALLS=FILE`, docs/trim.md) the part of it that FILE names, so that the
 * cut handlers are referenced by nobody and --gc-sections drops them.
 */
#include "syscalls/syscalls.h"
#include "syscall_names.h" /* generated: static const char *const syscall_names[] */

#define NR_SYSCALLS 512

/* Generated (the Makefile): SYSCALL() lines, and SYSCALL_TABLE_TRIMMED,
 * 1 when they are a trimmed kernel's subset of syscalls/table.h. */
#define SYSCALL(nr, name, nargs) long sys_##name(const struct regs *r);
#include "syscall_table.h"
#undef SYSCALL

static long (*const table[NR_SYSCALLS])(const struct regs *) = {
#define SYSCALL(nr, name, nargs) [nr] = sys_##name,
#include "syscall_table.h"
#undef SYSCALL
};

static const uint8_t nargs[NR_SYSCALLS] = {
#define SYSCALL(nr, name, n) [nr] = n,
#include "syscall_table.h"
#undef SYSCALL
};

/* What the full kernel implements, so that a trimmed one can tell a cut
 * syscall from one that no build has (flags only: no handler is named). */
static const bool implemented[NR_SYSCALLS] = {
#define SYSCALL(nr, name, n) [nr] = true,
#include "syscalls/table.h"
#undef SYSCALL
};

/* Who watches the calls: one flag byte, so that the common path tests a
 * single byte whatever is on. */
#define OBSERVE_STRACE 1
#define OBSERVE_PROFILE 2
static uint8_t observe;
static uint64_t enosys_logged[NR_SYSCALLS / 64];

static const char *name_of(uint64_t nr)
{
	if (nr < ARRAY_SIZE(syscall_names) && syscall_names[nr])
		return syscall_names[nr];
	return "unknown";
}

void syscalls_init(void)
{
	char buf[8];

	if (cmdline_get("strace", buf, sizeof(buf)))
		observe |= OBSERVE_STRACE;
	if (cmdline_get("profile", buf, sizeof(buf))) {
		observe |= OBSERVE_PROFILE;
		profile_start();
	}
	if (SYSCALL_TABLE_TRIMMED)
		kdebug("syscalls: trimmed kernel, %d syscalls kept (docs/trim.md)", SYSCALL_TABLE_COUNT);
	fd_init();
}

/* For a stuck program, what each of its threads is doing (the elfvm.ctl
 * record "threads", which elfvm sends before it stops a VM whose program
 * outlived a forwarded signal's grace).  A thread that is not running sits
 * in the kernel with the frame of its last entry at the top of its kernel
 * stack.  A sleeping thread sleeps in a syscall: its number and first
 * arguments are there.  A runnable one may have been preempted by an
 * interrupt instead, whose frame holds a vector: only the rip is given. */
void syscalls_dump_threads(void)
{
	for (struct thread *t = sched_all_threads(); t; t = t->all_next) {
		const struct regs *r = (const struct regs *)(t->kstack + KSTACK_SIZE) - 1;
		bool sys = t->state == THREAD_SLEEPING;

		if (t->kernel || t->state == THREAD_DEAD)
			continue;
		if (sys)
			klog("thread %d (%.16s) sleeps in %s(%lx, %lx, %lx, %lx) from rip %lx; mask %lx "
			     "pending %lx sigwait %lx",
			     t->tid, t->comm, name_of(r->nr), r->rdi, r->rsi, r->rdx, r->r10, r->rip,
			     t->sigmask, t->sigpending, t->sigwait);
		else
			klog("thread %d (%.16s) runnable%s, last in the kernel from rip %lx; mask %lx "
			     "pending %lx",
			     t->tid, t->comm, t == current ? " (current)" : "", r->rip, t->sigmask,
			     t->sigpending);
	}
}

static long enosys(uint64_t nr)
{
	if (nr >= NR_SYSCALLS) {
		klog("syscall %lu does not exist: -ENOSYS", nr);
	} else if (!(enosys_logged[nr / 64] & (1UL << (nr % 64)))) {
		enosys_logged[nr / 64] |= 1UL << (nr % 64);
		if (SYSCALL_TABLE_TRIMMED && implemented[nr])
			klog("syscall %s (%lu) was cut from this trimmed kernel: -ENOSYS", name_of(nr),
			     nr);
		else
			klog("syscall %s (%lu) is not implemented%s: -ENOSYS", name_of(nr), nr,
			     SYSCALL_TABLE_TRIMMED ? " (trimmed kernel)" : "");
	}
	return -ENOSYS;
}

static void trace(const struct regs *r, uint64_t nr, long ret)
{
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	int n = nr < NR_SYSCALLS && table[nr] ? nargs[nr] : 6;
	char buf[256];
	int len = snprintf(buf, sizeof(buf), "@@strace %s(", name_of(nr));

	for (int i = 0; i < n && len < (int)sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, i ? ", 0x%lx" : "0x%lx", a[i]);
	/* A call through the vDSO's __elfvm_syscall says so at the end, so
	 * that the trap path's lines stay exactly as they were. */
	if (len < (int)sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len, ") = %ld%s", ret,
			 r->error == SYSCALL_DIRECT ? " [direct]" : "");
	klog("%s", buf);
}

/* The dispatch when someone watches (strace=1, profile=1), off the common
 * path: counted before the handler runs, since exit and exit_group never
 * come back, and traced after. */
__attribute__((noinline)) static long dispatch_observed(struct regs *r, uint64_t nr)
{
	long ret;

	if (observe & OBSERVE_PROFILE)
		profile_count(nr);
	ret = nr < NR_SYSCALLS && table[nr] ? table[nr](r) : enosys(nr);
	if (observe & OBSERVE_STRACE)
		trace(r, nr, ret);
	return ret;
}

__entry_text int syscall_dispatch(struct regs *r)
{
	uint64_t nr = r->nr;

	current->full_restore = false;
	/* One test of one byte is all that watching costs the common path. */
	long ret;
	if (__builtin_expect(observe, 0))
		ret = dispatch_observed(r, nr);
	else
		ret = nr < NR_SYSCALLS && table[nr] ? table[nr](r) : enosys(nr);
	r->rax = ret;
	/* The common case has nothing to do on the way out. */
	if (sched_need_resched || current->sigpending || signal_shared_pending ||
	    current->restore_mask || ret == -ERESTARTSYS)
		sched_return_to_user(r, true);
	return current->full_restore;
}
