// SPDX-License-Identifier: MIT
/* segv_handler: faults are delivered to the program's own handlers.
 * A SIGSEGV handler (SA_SIGINFO, siglongjmp back out) sees a store to a
 * read-only page, a load from a PROT_NONE page and a load from NULL, with
 * the right si_addr and si_code; code on a writable page cannot run (NX)
 * until mprotect makes it executable; SIGFPE and SIGILL handlers see a
 * division by zero and ud2; raise(SIGUSR1) runs its handler; a stack
 * overflow is caught on an alternate signal stack (sigaltstack). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile sig_atomic_t got_sig, got_code;
static void *volatile got_addr;
static int bad;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(env, 1);
}

static void on_usr1(int sig)
{
	got_sig = sig;
}

static void install(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		printf("FAIL: sigaction(%d) failed\n", sig);
		exit(1);
	}
}

static void report(const char *what, int sig, int code, void *addr, int check_addr)
{
	if (got_sig == sig && got_code == code && (!check_addr || got_addr == addr)) {
		printf("ok %s caught\n", what);
		return;
	}
	printf("FAIL: %s: got signal %d code %d%s, expected signal %d code %d\n", what, (int)got_sig,
	       (int)got_code, check_addr && got_addr != addr ? " (wrong si_addr)" : "", sig, code);
	bad = 1;
}

static volatile long stop_at = -1;
static long recurse(long depth)
{
	volatile char frame[8192];
	frame[0] = (char)depth;
	if (depth == stop_at)
		return 0;
	return recurse(depth + 1) + frame[0];
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	install(SIGSEGV, SA_ONSTACK);
	install(SIGBUS, 0);
	install(SIGFPE, 0);
	install(SIGILL, 0);

	char *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		*(volatile char *)(ro + 8) = 1;
		printf("FAIL: store to a read-only page did not fault\n");
		bad = 1;
	} else {
		report("store to a read-only page", SIGSEGV, SEGV_ACCERR, ro + 8, 1);
	}

	char *none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		(void)*(volatile char *)(none + 100);
		printf("FAIL: load from a PROT_NONE page did not fault\n");
		bad = 1;
	} else {
		report("load from a PROT_NONE page", SIGSEGV, SEGV_ACCERR, none + 100, 1);
	}

	got_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		(void)*(volatile int *volatile)NULL;
		printf("FAIL: load from NULL did not fault\n");
		bad = 1;
	} else {
		report("load from NULL", SIGSEGV, SEGV_MAPERR, NULL, 1);
	}

	/* mov $42, %eax; ret */
	static const unsigned char code[] = { 0xb8, 42, 0, 0, 0, 0xc3 };
	unsigned char *rw = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(rw, code, sizeof code);
	int (*volatile fn)(void) = (int (*)(void))rw;
	got_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		fn();
		printf("FAIL: code on a writable, non-executable page ran\n");
		bad = 1;
	} else {
		report("jump to a non-executable page", SIGSEGV, SEGV_ACCERR, rw, 1);
	}
	if (mprotect(rw, pg, PROT_READ | PROT_EXEC) != 0 || fn() != 42) {
		printf("FAIL: code did not run after mprotect(PROT_READ|PROT_EXEC)\n");
		bad = 1;
	} else {
		printf("ok code runs after mprotect(PROT_EXEC)\n");
	}

	volatile int zero = 0, seven = 7;
	got_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		printf("%d\n", seven / zero);
		printf("FAIL: division by zero did not fault\n");
		bad = 1;
	} else {
		report("integer division by zero", SIGFPE, FPE_INTDIV, NULL, 0);
	}

	got_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		__asm__ volatile("ud2");
		printf("FAIL: ud2 did not fault\n");
		bad = 1;
	} else {
		report("ud2", SIGILL, ILL_ILLOPN, NULL, 0);
	}

	signal(SIGUSR1, on_usr1);
	got_sig = 0;
	raise(SIGUSR1);
	if (got_sig == SIGUSR1) {
		printf("ok raise(SIGUSR1) ran its handler\n");
	} else {
		printf("FAIL: raise(SIGUSR1) did not run its handler\n");
		bad = 1;
	}

	stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0 };
	if (sigaltstack(&ss, NULL) != 0) {
		printf("FAIL: sigaltstack failed\n");
		return 1;
	}
	got_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		long r = recurse(0);
		printf("FAIL: recursion returned %ld\n", r);
		bad = 1;
	} else if (got_sig == SIGSEGV) {
		printf("ok stack overflow caught on the alternate stack\n");
	} else {
		printf("FAIL: stack overflow gave signal %d\n", (int)got_sig);
		bad = 1;
	}
	printf("still running\n");
	return bad;
}
