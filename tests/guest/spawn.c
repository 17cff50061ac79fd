// SPDX-License-Identifier: MIT
/* spawn: a unikernel runs one program, so creating a process or running
 * another program fails cleanly, with ENOSYS, and the program carries on
 * (docs/threads.md, "Processes").  fork, vfork (through the raw system
 * call: its child would share our stack), a clone without CLONE_VM,
 * execve and execv return -1/ENOSYS; posix_spawn returns ENOSYS; system()
 * returns a shell-could-not-run status of 127 with errno ENOSYS; popen
 * returns NULL with errno ENOSYS.  Linux lets all of these succeed, so this
 * program is not compared with a native run: tests/run.sh's guest_vm
 * kind checks its output against tests/guest/spawn.expected. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* include/uapi/linux/filter.h, seccomp.h (musl-gcc has no kernel headers) */
struct sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct sock_fprog {
	unsigned short len;
	struct sock_filter *filter;
};
#define LD_ABS(off) \
	{ \
		0x20, 0, 0, (off) \
	} /* BPF_LD | BPF_W | BPF_ABS */
#define JEQ(k, t, f) \
	{ \
		0x15, (t), (f), (k) \
	} /* BPF_JMP | BPF_JEQ | BPF_K */
#define JSET(k, t, f) \
	{ \
		0x45, (t), (f), (k) \
	} /* BPF_JMP | BPF_JSET | BPF_K */
#define RET(k) \
	{ \
		0x06, 0, 0, (k) \
	} /* BPF_RET | BPF_K */
#define SECCOMP_RET_ALLOW 0x7fff0000u
#define SECCOMP_RET_ERRNO 0x00050000u
#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif

/* Natively (the fake elfvm, or by hand) a seccomp filter makes Linux answer
 * as the unikernel does: ENOSYS for fork, vfork, execve, execveat, clone3
 * and a clone without CLONE_THREAD.  That keeps a native run harmless and
 * its output equal to the expected one.  In the VM prctl refuses it. */
static void like_a_unikernel(void)
{
	struct sock_filter f[] = {
		LD_ABS(4),                       /* 0: arch */
		JEQ(0xc000003eu, 0, 9),          /* 1: AUDIT_ARCH_X86_64, else allow */
		LD_ABS(0),                       /* 2: nr */
		JEQ(SYS_clone, 0, 2),            /* 3 */
		LD_ABS(16),                      /* 4: low half of args[0] */
		JSET(CLONE_THREAD, 5, 6),        /* 5: a thread: allow, else ENOSYS */
		JEQ(SYS_fork, 5, 0),             /* 6 */
		JEQ(SYS_vfork, 4, 0),            /* 7 */
		JEQ(SYS_execve, 3, 0),           /* 8 */
		JEQ(SYS_execveat, 2, 0),         /* 9 */
		JEQ(435 /* clone3 */, 1, 0),     /* 10 */
		RET(SECCOMP_RET_ALLOW),          /* 11 */
		RET(SECCOMP_RET_ERRNO | ENOSYS), /* 12 */
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(22 /* PR_SET_SECCOMP */, 2 /* SECCOMP_MODE_FILTER */, &prog, 0, 0);
}

static void report(const char *what, long r, int e)
{
	printf("%s: %ld %s\n", what, r, e ? strerror(e) : "(no error)");
	fflush(stdout);
}

int main(void)
{
	like_a_unikernel();
	errno = 0;
	pid_t p = fork();
	if (p == 0)
		_exit(0); /* should there be a child, it leaves at once */
	if (p > 0)
		waitpid(p, NULL, 0);
	report("fork", p > 0 ? 1 : p, errno);

	errno = 0;
	p = vfork();
	if (p == 0)
		_exit(0);
	report("vfork", p > 0 ? 1 : p, errno);

	errno = 0;
	long r = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	report("clone(SIGCHLD)", r > 0 ? 1 : r, errno);

	char *argv[] = { "true", NULL };
	errno = 0;
	r = execve("/bin/true", argv, environ);
	report("execve", r, errno);
	errno = 0;
	r = execv("/bin/true", argv);
	report("execv", r, errno);

	pid_t pid = 0;
	errno = 0;
	int e = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
	if (e == 0)
		waitpid(pid, NULL, 0);
	report("posix_spawn", e, e);

	/* glibc's system() reports a shell that could not run as exit status
	 * 127, musl's as -1; popen sets ENOMEM (glibc) or passes the spawn's
	 * error on (musl). */
	errno = 0;
	int st = system("true");
	e = errno;
	int failed = st == -1 || (WIFEXITED(st) && WEXITSTATUS(st) == 127);
	printf("system: %s, errno %s\n", failed ? "the shell could not run" : "ran", strerror(e));
	errno = 0;
	FILE *f = popen("true", "r");
	e = errno;
	if (f)
		pclose(f);
	printf("popen: %s%s\n", f ? "ran" : "NULL",
	       f || e == ENOSYS || e == ENOMEM ? "" : ", with an unexpected errno");

	printf("ok still running after all of them\n");
	return 0;
}
