// SPDX-License-Identifier: MIT
/*
 * The process as the program sees it: one process (pid 1, the only one);
 * its user and group ids are in cred.c.  Identity, limits, uname, sysinfo,
 * CPU affinity, arch_prctl (FS and GS bases), getrandom.  Threads and exit are in thread.c.  The limits are real
 * bookkeeping: what setrlimit stores, getrlimit returns.
 */
#include "syscalls/syscalls.h"

static struct rlimit64 limits[RLIM_NLIMITS];
static void limits_init(void);

uint64_t rlimit_cur(unsigned res)
{
	if (!limits[0].cur)
		limits_init();
	return res < RLIM_NLIMITS ? limits[res].cur : 0;
}

unsigned fd_limit(void)
{
	if (!limits[0].cur)
		limits_init();
	return (unsigned)MIN(limits[RLIMIT_NOFILE].cur, (uint64_t)FD_MAX);
}

SYSCALL_DEFINE0(getpid)
{
	return 1;
}
SYSCALL_DEFINE0(getppid)
{
	return 0; /* like init: the VM is the whole world */
}

static void limits_init(void)
{
	for (int i = 0; i < RLIM_NLIMITS; i++)
		limits[i] = (struct rlimit64){ RLIM_INFINITY, RLIM_INFINITY };
	limits[RLIMIT_STACK] = (struct rlimit64){ 8UL << 20, RLIM_INFINITY };
	limits[RLIMIT_NOFILE] = (struct rlimit64){ 1024, FD_MAX }; /* raise to FD_MAX */
	/* 0 as on Linux, unless the host asked for a core (run --core). */
	char buf[4];
	limits[RLIMIT_CORE] = (struct rlimit64){
		cmdline_get("core", buf, sizeof(buf)) ? RLIM_INFINITY : 0, RLIM_INFINITY
	};
	limits[RLIMIT_MEMLOCK] = (struct rlimit64){ 8UL << 20, 8UL << 20 };
}

SYSCALL_DEFINE4(prlimit64, int, pid, unsigned, res, const struct rlimit64 __user *, unew,
		struct rlimit64 __user *, uold)
{
	struct rlimit64 n;

	if (!limits[0].cur)
		limits_init();
	if (pid != 0 && pid != 1)
		return -ESRCH;
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (unew && copy_from_user(&n, unew, sizeof(n)) < 0)
		return -EFAULT;
	if (unew && n.cur > n.max)
		return -EINVAL;
	if (unew && res == RLIMIT_NOFILE && n.max > FD_MAX)
		return -EPERM;
	if (uold && copy_to_user(uold, &limits[res], sizeof(limits[res])) < 0)
		return -EFAULT;
	if (unew)
		limits[res] = n;
	return 0;
}

SYSCALL_DEFINE2(getrlimit, unsigned, res, struct rlimit64 __user *, old)
{
	return do_sys_prlimit64(0, res, NULL, old);
}

SYSCALL_DEFINE2(setrlimit, unsigned, res, const struct rlimit64 __user *, n)
{
	return do_sys_prlimit64(0, res, n, NULL);
}

SYSCALL_DEFINE1(uname, struct new_utsname __user *, u)
{
	struct new_utsname n;

	memset(&n, 0, sizeof(n));
	memcpy(n.sysname, "Linux", 6);
	memcpy(n.nodename, "elfvm", 6);
	memcpy(n.release, "6.1.0-elfvm", 12); /* what glibc's version checks need */
	memcpy(n.version, "#1 SMP elfvm", 13);
	memcpy(n.machine, "x86_64", 7);
	memcpy(n.domainname, "(none)", 7);
	return copy_to_user(u, &n, sizeof(n));
}

SYSCALL_DEFINE1(sysinfo, struct sysinfo __user *, u)
{
	struct sysinfo si;

	memset(&si, 0, sizeof(si));
	si.uptime = clock_monotonic_ns() / 1000000000UL;
	si.totalram = mem_total_pages() * PAGE_SIZE;
	si.freeram = mem_free_pages() * PAGE_SIZE;
	si.procs = 1;
	si.mem_unit = 1;
	return copy_to_user(u, &si, sizeof(si));
}

SYSCALL_DEFINE3(sched_getaffinity, int, pid, unsigned, len, void __user *, mask)
{
	uint64_t m = 1; /* one CPU */

	if (pid != 0 && !thread_by_tid(pid))
		return -ESRCH;
	if (len < sizeof(m) || (len & 7))
		return -EINVAL;
	if (clear_user(mask, len) < 0 || copy_to_user(mask, &m, sizeof(m)) < 0)
		return -EFAULT;
	return sizeof(m);
}

SYSCALL_DEFINE0(sched_yield)
{
	sched_yield_cpu();
	return 0;
}

SYSCALL_DEFINE2(arch_prctl, int, code, uint64_t, addr)
{
	switch (code) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (addr >= USER_TOP)
			return -EPERM;
		code == ARCH_SET_FS ? cpu_set_user_fs(addr) : cpu_set_user_gs(addr);
		return 0;
	case ARCH_GET_FS: {
		uint64_t v = cpu_user_fs();
		return copy_to_user((void *)addr, &v, sizeof(v));
	}
	case ARCH_GET_GS: {
		uint64_t v = cpu_user_gs();
		return copy_to_user((void *)addr, &v, sizeof(v));
	}
	default: return -EINVAL;
	}
}

SYSCALL_DEFINE3(getrandom, void __user *, buf, size_t, len, unsigned, flags)
{
	uint8_t tmp[256];
	size_t done = 0;

	if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE))
		return -EINVAL;
	len = MIN(len, (size_t)0x1ffffff); /* Linux caps one call at 32 MiB - 1 */
	while (done < len) {
		size_t n = MIN(len - done, sizeof(tmp));
		random_bytes(tmp, n);
		if (copy_to_user((char *)buf + done, tmp, n) < 0)
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return done;
}

/* The only process leads its own group and session: pgid = sid = 1. */
SYSCALL_DEFINE0(getpgrp)
{
	return 1;
}

SYSCALL_DEFINE1(getpgid, int, pid)
{
	return pid == 0 || pid == 1 ? 1 : -ESRCH;
}

SYSCALL_DEFINE1(getsid, int, pid)
{
	return pid == 0 || pid == 1 ? 1 : -ESRCH;
}

SYSCALL_DEFINE2(setpgid, int, pid, int, pgid)
{
	if (pgid < 0)
		return -EINVAL;
	if (pid != 0 && pid != 1)
		return -ESRCH;
	return pgid == 0 || pgid == 1 ? 0 : -EPERM;
}

SYSCALL_DEFINE0(setsid)
{
	return -EPERM; /* already a process group leader, as Linux answers */
}

#define NGROUPS 64
static uint32_t groups[NGROUPS];
static int ngroups;

SYSCALL_DEFINE2(getgroups, int, size, uint32_t __user *, list)
{
	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return ngroups;
	if (size < ngroups)
		return -EINVAL;
	return copy_to_user(list, groups, ngroups * sizeof(*groups)) < 0 ? -EFAULT : ngroups;
}

SYSCALL_DEFINE2(setgroups, int, size, const uint32_t __user *, list)
{
	if (size < 0 || size > NGROUPS)
		return -EINVAL;
	if (copy_from_user(groups, list, size * sizeof(*groups)) < 0)
		return -EFAULT;
	ngroups = size;
	return 0;
}

SYSCALL_DEFINE3(sched_setaffinity, int, pid, unsigned, len, const void __user *, mask)
{
	uint64_t m = 0;

	if (pid != 0 && !thread_by_tid(pid))
		return -ESRCH;
	if (copy_from_user(&m, mask, MIN(len, 8u)) < 0)
		return -EFAULT;
	return m & 1 ? 0 : -EINVAL; /* the only CPU must stay in the set */
}

/* One policy: SCHED_OTHER, round robin at priority 0.  Real-time policies
 * are refused as for an unprivileged process: nothing here honours them. */
SYSCALL_DEFINE2(sched_getparam, int, pid, int __user *, param)
{
	int prio = 0;

	if (pid != 0 && !thread_by_tid(pid))
		return -ESRCH;
	return copy_to_user(param, &prio, sizeof(prio));
}

SYSCALL_DEFINE1(sched_getscheduler, int, pid)
{
	struct thread *t = pid ? thread_by_tid(pid) : current;

	return t ? t->policy : -ESRCH;
}

SYSCALL_DEFINE3(sched_setscheduler, int, pid, int, policy, const int __user *, param)
{
	int prio;

	if (pid != 0 && !thread_by_tid(pid))
		return -ESRCH;
	if (copy_from_user(&prio, param, sizeof(prio)) < 0)
		return -EFAULT;
	int p = policy & ~SCHED_RESET_ON_FORK;
	struct thread *t = pid ? thread_by_tid(pid) : current;
	if (p == SCHED_OTHER || p == SCHED_BATCH || p == SCHED_IDLE) { /* priority 0 only */
		if (prio)
			return -EINVAL;
		t->policy = p; /* recorded; the round robin treats them alike */
		return 0;
	}
	if (p == SCHED_FIFO || p == SCHED_RR) /* 1..99, and nothing here honours them */
		return prio < 1 || prio > 99 ? -EINVAL : -EPERM;
	return -EINVAL;
}

SYSCALL_DEFINE2(sched_setparam, int, pid, const int __user *, param)
{
	int prio;

	if (pid != 0 && !thread_by_tid(pid))
		return -ESRCH;
	if (copy_from_user(&prio, param, sizeof(prio)) < 0)
		return -EFAULT;
	return prio == 0 ? 0 : -EINVAL;
}

SYSCALL_DEFINE1(sched_get_priority_max, int, policy)
{
	if (policy == SCHED_FIFO || policy == SCHED_RR)
		return 99;
	return policy >= SCHED_OTHER && policy <= SCHED_DEADLINE ? 0 : -EINVAL;
}

SYSCALL_DEFINE1(sched_get_priority_min, int, policy)
{
	if (policy == SCHED_FIFO || policy == SCHED_RR)
		return 1;
	return policy >= SCHED_OTHER && policy <= SCHED_DEADLINE ? 0 : -EINVAL;
}

/* The nice value belongs to each thread, as on Linux: PRIO_PROCESS names a
 * thread (0: the caller); a group or user means every thread.  It is
 * recorded and reported; the round-robin scheduler does not weigh by it. */
static struct thread *prio_target(int which, int who, long *err)
{
	struct thread *t = NULL;

	*err = -EINVAL;
	if (which < 0 || which > 2)
		return NULL;
	*err = -ESRCH;
	if (which == 0)
		t = who ? thread_by_tid(who) : current;
	else if (who == 0 || who == 1 || (which == 2 && who == 0))
		t = current;
	return t;
}

SYSCALL_DEFINE2(getpriority, int, which, int, who)
{
	long err;
	struct thread *t = prio_target(which, who, &err);

	return t ? 20 - t->nice : err; /* the kernel's biased form; libc turns it back */
}

SYSCALL_DEFINE3(setpriority, int, which, int, who, int, prio)
{
	long err;
	struct thread *t = prio_target(which, who, &err);
	int nice = MAX(-20, MIN(19, prio));

	if (!t)
		return err;
	if (which == 0)
		t->nice = nice;
	else
		for (struct thread *c = sched_all_threads(); c; c = c->all_next)
			c->nice = nice;
	return 0;
}

SYSCALL_DEFINE3(getcpu, unsigned __user *, cpu, unsigned __user *, node, void __user *, cache)
{
	unsigned zero = 0;

	(void)cache;
	if ((cpu && copy_to_user(cpu, &zero, 4) < 0) || (node && copy_to_user(node, &zero, 4) < 0))
		return -EFAULT;
	return 0;
}

/* One CPU: every store is seen by every thread in order already. */
SYSCALL_DEFINE3(membarrier, int, cmd, unsigned, flags, int, cpu)
{
	const int supported =
		MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED |
		MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED |
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;

	static int registered; /* the REGISTER_* commands done */

	(void)cpu;
	if (cmd == MEMBARRIER_CMD_QUERY)
		return flags ? -EINVAL : supported;
	if (flags || (cmd & (cmd - 1)) || !(cmd & supported))
		return -EINVAL;
	if (cmd == MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED ||
	    cmd == MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) {
		registered |= cmd;
		return 0;
	}
	if ((cmd == MEMBARRIER_CMD_GLOBAL_EXPEDITED &&
	     !(registered & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)) ||
	    (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED &&
	     !(registered & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)))
		return -EPERM; /* an expedited barrier needs its REGISTER first */
	cpu_memory_barrier();
	return 0;
}


/* What prctl settings the program may read back. */
static struct {
	int pdeathsig, dumpable, keepcaps, subreaper, no_new_privs, thp_disable;
	uint64_t timerslack;
} pr = { 0, 1, 0, 0, 0, 0, 50000 };

static long pr_get(int v, uint64_t uptr)
{
	return uptr ? copy_to_user((void *)uptr, &v, sizeof(v)) : v;
}

SYSCALL_DEFINE5(prctl, int, op, uint64_t, a2, uint64_t, a3, uint64_t, a4, uint64_t, a5)
{
	char name[16];

	(void)a4, (void)a5;
	switch (op) {
	case PR_SET_NAME:
		if (strncpy_from_user(name, (const char *)a2, sizeof(name)) == -EFAULT)
			return -EFAULT;
		name[15] = 0;
		memcpy(current->comm, name, sizeof(name));
		return 0;
	case PR_GET_NAME: return copy_to_user((void *)a2, current->comm, sizeof(current->comm));
	case PR_SET_PDEATHSIG:
		if (a2 > NSIG)
			return -EINVAL;
		pr.pdeathsig = a2;
		return 0;
	case PR_GET_PDEATHSIG: return pr_get(pr.pdeathsig, a2);
	case PR_SET_DUMPABLE:
		if (a2 > 1)
			return -EINVAL;
		pr.dumpable = a2;
		return 0;
	case PR_GET_DUMPABLE: return pr.dumpable;
	case PR_SET_KEEPCAPS: pr.keepcaps = !!a2; return a2 > 1 ? -EINVAL : 0;
	case PR_GET_KEEPCAPS: return pr.keepcaps;
	case PR_GET_SECCOMP: return 0;
	case PR_CAPBSET_READ: return a2 <= 40 ? 1 : -EINVAL;
	case PR_SET_TIMERSLACK: pr.timerslack = a2 ? a2 : 50000; return 0;
	case PR_GET_TIMERSLACK: return pr.timerslack;
	case PR_SET_CHILD_SUBREAPER: pr.subreaper = !!a2; return 0;
	case PR_GET_CHILD_SUBREAPER: return pr_get(pr.subreaper, a2);
	case PR_SET_NO_NEW_PRIVS:
		if (a2 != 1 || a3)
			return -EINVAL;
		pr.no_new_privs = 1;
		return 0;
	case PR_GET_NO_NEW_PRIVS: return pr.no_new_privs;
	case PR_SET_THP_DISABLE: pr.thp_disable = !!a2; return 0;
	case PR_GET_THP_DISABLE: return pr.thp_disable;
	default: return -EINVAL;
	}
}
