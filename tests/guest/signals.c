// SPDX-License-Identifier: MIT
/* signals: delivery to handlers, masks, waiting and timers, as on Linux.
 * With no argument: SA_SIGINFO handlers see si_signo/si_code/si_pid/si_uid
 * for kill (SI_USER), raise and tgkill (SI_TKILL), run with their signal
 * and sa_mask blocked and get the interrupted mask in uc_sigmask; a
 * SIGSEGV handler sees si_addr and leaves by siglongjmp (sigsetjmp(env, 1)
 * restores the mask, twice in a row; sigsetjmp(env, 0) leaves SIGSEGV
 * blocked); a handler that rewrites uc_mcontext (rip, rax) resumes the
 * program there; registers and xmm survive 10 timer signals; SA_RESETHAND
 * resets to SIG_DFL; SA_NODEFER lets the handler nest; a blocked signal
 * stays pending (sigpending) and arrives before sigprocmask returns, SIG_IGN
 * discards it, and a blocked SIGWINCH (ignored by default) stays pending
 * for sigwait; sigsuspend; sigtimedwait (timeout EAGAIN, zero timeout, a
 * pending signal); sigwaitinfo gets a kill from another thread, also when
 * every thread blocks it; read on an empty pipe gives EINTR under a
 * handler without SA_RESTART and completes under one with SA_RESTART; a
 * kill from a thread interrupts main's read (Linux picks the main thread);
 * a SIGPIPE handler runs and write gives EPIPE; alarm() returns what was
 * left and wakes pause(); setitimer ITIMER_REAL ticks periodically, stops
 * when disarmed and getitimer reads it back; pthread_kill runs the handler
 * on the target thread; SA_ONSTACK runs an ordinary signal's handler on
 * the sigaltstack (SS_ONSTACK inside).
 * Modes: "rt" (real-time signals queue every instance; sigqueue
 * carries si_value with SI_QUEUE), "sigpipe" (default SIGPIPE kills: 141),
 * "resethand" (the second SIGUSR1 after SA_RESETHAND kills: 138). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int also_mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (also_mask)
		sigaddset(&sa.sa_mask, also_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		printf("FAIL: sigaction(%d)\n", sig);
		exit(1);
	}
}

static void set_default(int sig)
{
	signal(sig, SIG_DFL);
}

static int is_blocked(int sig)
{
	sigset_t s;
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	return sigismember(&s, sig) == 1;
}

static void block(int sig, int how)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, NULL);
}

/* ---- siginfo ------------------------------------------------------------- */

static volatile sig_atomic_t got, got_code, got_pid, got_uid, self_blocked, extra_blocked, uc_had_usr2,
	count;
static volatile pid_t handler_tid;

static void on_info(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	got = si->si_signo == sig ? sig : -1;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = si->si_uid;
	self_blocked = is_blocked(sig);
	extra_blocked = is_blocked(SIGHUP);
	uc_had_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2) == 1;
	handler_tid = gettid_();
	count++;
}

static void siginfo_checks(void)
{
	handle(SIGUSR1, on_info, 0, SIGHUP);
	got = 0;
	kill(getpid(), SIGUSR1);
	ok(got == SIGUSR1 && got_code == SI_USER && got_pid == getpid() && got_uid == (int)getuid(),
	   "kill: SA_SIGINFO handler sees si_signo, SI_USER, si_pid and si_uid");
	ok(self_blocked && extra_blocked && !is_blocked(SIGUSR1) && !is_blocked(SIGHUP),
	   "the handler runs with its signal and sa_mask blocked; the mask comes back after");
	got = 0;
	raise(SIGUSR1);
	ok(got == SIGUSR1 && got_code == SI_TKILL && got_pid == getpid(), "raise: SI_TKILL with si_pid");
	handle(SIGUSR2, on_info, 0, 0);
	block(SIGUSR2, SIG_BLOCK);
	got = 0;
	block(SIGUSR1, SIG_BLOCK);
	syscall(SYS_tgkill, getpid(), gettid_(), SIGUSR1);
	ok(got == 0, "tgkill of a blocked signal: not delivered yet");
	block(SIGUSR1, SIG_UNBLOCK);
	ok(got == SIGUSR1 && got_code == SI_TKILL && got_pid == getpid() && uc_had_usr2,
	   "tgkill: delivered on unblock, SI_TKILL, uc_sigmask holds the interrupted mask");
	block(SIGUSR2, SIG_UNBLOCK);
	set_default(SIGUSR1);
	signal(SIGUSR2, SIG_DFL);
}

/* ---- faults --------------------------------------------------------------- */

static sigjmp_buf env;
static void *volatile fault_addr;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	siglongjmp(env, 1);
}

long fault_load(const long *p);
extern char fault_load_end[];
__asm__(".text\n.globl fault_load\n.type fault_load,@function\nfault_load:\n"
	"	movq $7, %rax\n"
	".globl fault_load_insn\nfault_load_insn:\n"
	"	movq (%rdi), %rax\n"
	".globl fault_load_end\nfault_load_end:\n"
	"	ret\n");
extern char fault_load_insn[];

static volatile int rip_seen;
static void on_segv_fix(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig, (void)si;
	rip_seen = uc->uc_mcontext.gregs[REG_RIP] == (greg_t)(uintptr_t)fault_load_insn &&
		   uc->uc_mcontext.gregs[REG_RAX] == 7;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)fault_load_end;
	uc->uc_mcontext.gregs[REG_RAX] = 42;
}

static void faults(void)
{
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page, 4096);
	volatile char *bad_ptr = page + 123;
	int good = 1;

	handle(SIGSEGV, on_segv, 0, 0);
	for (int round = 0; round < 2; round++) {
		fault_addr = NULL;
		if (sigsetjmp(env, 1) == 0) {
			*bad_ptr = 1;
			good = 0;
		}
		good &= fault_addr == (void *)bad_ptr && fault_code == SEGV_MAPERR &&
			!is_blocked(SIGSEGV);
	}
	ok(good, "SIGSEGV handler sees si_addr, siglongjmp with sigsetjmp(env, 1) twice in a row");
	if (sigsetjmp(env, 0) == 0)
		(void)*bad_ptr;
	ok(is_blocked(SIGSEGV), "siglongjmp to sigsetjmp(env, 0) leaves SIGSEGV blocked");
	block(SIGSEGV, SIG_UNBLOCK);

	handle(SIGSEGV, on_segv_fix, 0, 0);
	long v = fault_load((const long *)(page + 8));
	ok(v == 42 && rip_seen, "a handler that rewrites rip and rax in uc_mcontext resumes there");
	set_default(SIGSEGV);
}

/* ---- registers across asynchronous handlers ------------------------------ */

/* hold_regs(count, target, xmm_pattern[8*16]): loads fixed values into
 * rbx, rbp, r12-r15 and xmm0-7, spins until *count >= target (signals
 * arrive meanwhile), and returns 1 if every register, rdi, rsi and rdx
 * included, still holds its value. */
int hold_regs(volatile int *count, int target, const unsigned char *xmm);
#define XL(n) "	movdqu " #n "*16(%rdx), %xmm" #n "\n"
#define XC(n) \
	"	movdqu " #n "*16(%rdx), %xmm8\n	pcmpeqb %xmm" #n \
	", %xmm8\n" \
	"	pmovmskb %xmm8, %eax\n	cmpl $0xffff, %eax\n	jne 9f\n"
__asm__(".text\n.globl hold_regs\n.type hold_regs,@function\nhold_regs:\n"
	"	pushq %rbx\n	pushq %rbp\n	pushq %r12\n	pushq %r13\n	pushq %r14\n	pushq %r15\n"
	"	pushq %rdi\n	pushq %rsi\n	pushq %rdx\n"
	"	movabsq $0x1111111111111111, %rbx\n"
	"	movabsq $0x2222222222222222, %rbp\n"
	"	movabsq $0x3333333333333333, %r12\n"
	"	movabsq $0x4444444444444444, %r13\n"
	"	movabsq $0x5555555555555555, %r14\n"
	"	movabsq $0x6666666666666666, %r15\n"
	"	movabsq $0x7777777777777777, %r8\n"
	"	movabsq $0x0888888888888888, %r9\n"
	"	movabsq $0x0999999999999999, %r10\n" XL(0) XL(1) XL(2) XL(3) XL(4) XL(5) XL(6)
		XL(7) "1:	cmpl %esi, (%rdi)\n"
		      "	jl 1b\n"
		      "	cmpq 16(%rsp), %rdi\n	jne 9f\n"
		      "	cmpq 8(%rsp), %rsi\n	jne 9f\n"
		      "	cmpq (%rsp), %rdx\n	jne 9f\n"
		      "	movabsq $0x1111111111111111, %rax\n	cmpq %rax, %rbx\n	jne 9f\n"
		      "	movabsq $0x2222222222222222, %rax\n	cmpq %rax, %rbp\n	jne 9f\n"
		      "	movabsq $0x3333333333333333, %rax\n	cmpq %rax, %r12\n	jne 9f\n"
		      "	movabsq $0x4444444444444444, %rax\n	cmpq %rax, %r13\n	jne 9f\n"
		      "	movabsq $0x5555555555555555, %rax\n	cmpq %rax, %r14\n	jne 9f\n"
		      "	movabsq $0x6666666666666666, %rax\n	cmpq %rax, %r15\n	jne 9f\n"
		      "	movabsq $0x7777777777777777, %rax\n	cmpq %rax, %r8\n	jne 9f\n"
		      "	movabsq $0x0888888888888888, %rax\n	cmpq %rax, %r9\n	jne 9f\n"
		      "	movabsq $0x0999999999999999, %rax\n	cmpq %rax, %r10\n	jne 9f\n" XC(
			      0) XC(1) XC(2) XC(3) XC(4) XC(5) XC(6)
			      XC(7) "	movl $1, %eax\n	jmp 8f\n"
				    "9:	xorl %eax, %eax\n"
				    "8:	addq $24, %rsp\n"
				    "	popq %r15\n	popq %r14\n	popq %r13\n	popq %r12\n	popq %rbp\n	popq %rbx\n"
				    "	ret\n");

static volatile int ticks;
static volatile double sink;
static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	double x = 1.5;
	for (int i = 0; i < 50; i++) /* the handler uses the vector registers too */
		x = x * 1.0001 + 0.25;
	sink = x;
	ticks++;
}

static void registers(void)
{
	unsigned char pattern[8 * 16];
	struct itimerval it = { { 0, 5000 }, { 0, 5000 } }, off = { { 0, 0 }, { 0, 0 } };
	for (unsigned i = 0; i < sizeof pattern; i++)
		pattern[i] = (unsigned char)(i * 13 + 5);
	handle(SIGALRM, on_tick, SA_RESTART, 0);
	ticks = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	int good = hold_regs(&ticks, 10, pattern);
	setitimer(ITIMER_REAL, &off, NULL);
	set_default(SIGALRM);
	ok(good, "general and xmm registers survive 10 asynchronous signal handlers");
}

/* ---- flags ------------------------------------------------------------------ */

static volatile int depth, max_depth, blocked_inside;
static void on_nest(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	blocked_inside = is_blocked(sig);
	count++;
	if (count == 1)
		raise(sig); /* with SA_NODEFER it nests right here */
	depth--;
}

static void flags(void)
{
	struct sigaction old;

	handle(SIGUSR1, on_info, SA_RESETHAND, 0);
	count = 0;
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &old);
	ok(count == 1 && self_blocked && old.sa_handler == SIG_DFL,
	   "SA_RESETHAND: the handler runs once (its signal blocked), then the action is SIG_DFL");
}

/* A raise inside the handler, with and without SA_NODEFER. */
static void nesting(void)
{
	handle(SIGUSR2, on_nest, 0, 0);
	count = max_depth = depth = 0;
	raise(SIGUSR2);
	ok(count == 2 && max_depth == 1 && blocked_inside,
	   "without SA_NODEFER a raise inside the handler waits until it returns");
	handle(SIGUSR2, on_nest, SA_NODEFER, 0);
	count = max_depth = depth = 0;
	raise(SIGUSR2);
	ok(count == 2 && max_depth == 2 && !blocked_inside,
	   "SA_NODEFER: the handler nests inside itself");
	set_default(SIGUSR2);
}

/* ---- pending, sigsuspend, waiting --------------------------------------------- */

static int has_pending(int sig)
{
	sigset_t p;
	sigpending(&p);
	return sigismember(&p, sig) == 1;
}

static void *kill_later(void *arg)
{
	int sig = (int)(long)arg;
	sleep_ms(50);
	kill(getpid(), sig);
	return NULL;
}

static void pending(void)
{
	handle(SIGUSR1, on_info, 0, 0);
	block(SIGUSR1, SIG_BLOCK);
	got = 0;
	count = 0;
	raise(SIGUSR1);
	int good = got == 0 && has_pending(SIGUSR1);
	block(SIGUSR1, SIG_UNBLOCK);
	good &= got == SIGUSR1 && count == 1 && !has_pending(SIGUSR1);
	ok(good, "a blocked signal is pending, then delivered before sigprocmask returns");

	block(SIGUSR1, SIG_BLOCK);
	raise(SIGUSR1);
	signal(SIGUSR1, SIG_IGN);
	good = !has_pending(SIGUSR1);
	handle(SIGUSR1, on_info, 0, 0);
	count = 0;
	block(SIGUSR1, SIG_UNBLOCK);
	ok(good && count == 0, "setting SIG_IGN discards a pending signal");

	sigset_t w;
	int sig = 0;
	sigemptyset(&w);
	sigaddset(&w, SIGWINCH);
	block(SIGWINCH, SIG_BLOCK);
	raise(SIGWINCH);
	good = has_pending(SIGWINCH) && sigwait(&w, &sig) == 0 && sig == SIGWINCH &&
	       !has_pending(SIGWINCH);
	block(SIGWINCH, SIG_UNBLOCK);
	ok(good, "a blocked SIGWINCH (ignored by default) stays pending; sigwait takes it");

	/* sigsuspend: the classic race-free wait. */
	pthread_t t;
	sigset_t during;
	block(SIGUSR1, SIG_BLOCK);
	pthread_sigmask(SIG_BLOCK, NULL, &during);
	sigdelset(&during, SIGUSR1);
	got = 0;
	block(SIGUSR1, SIG_BLOCK);
	pthread_create(&t, NULL, kill_later, (void *)(long)SIGUSR1);
	errno = 0;
	int r = sigsuspend(&during);
	good = r == -1 && errno == EINTR && got == SIGUSR1 && is_blocked(SIGUSR1);
	pthread_join(t, NULL);
	block(SIGUSR1, SIG_UNBLOCK);
	ok(good, "sigsuspend: EINTR after the handler ran, the old mask is back");
	set_default(SIGUSR1);
}

static void *kill_later_blocked(void *arg)
{
	block((int)(long)arg, SIG_BLOCK);
	return kill_later(arg);
}

/* Sends SIGUSR2 to the process (this thread blocks it too, as main does);
 * if main's sigwaitinfo has not returned 2 s later, the kill was lost and
 * a pthread_kill (SI_TKILL, which fails the check) ends the wait. */
static pthread_t main_thread;
static volatile int main_waited;
static void *kill_or_rescue(void *arg)
{
	(void)arg;
	sleep_ms(50);
	kill(getpid(), SIGUSR2);
	for (int i = 0; i < 200 && !__atomic_load_n(&main_waited, __ATOMIC_SEQ_CST); i++)
		sleep_ms(10);
	if (!__atomic_load_n(&main_waited, __ATOMIC_SEQ_CST))
		pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

static void waiting(void)
{
	sigset_t set;
	siginfo_t si;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	block(SIGUSR2, SIG_BLOCK);

	struct timespec to = { 0, 100 * 1000000L };
	long long t0 = now_ns();
	errno = 0;
	int r = sigtimedwait(&set, &si, &to);
	long long took = now_ns() - t0;
	ok(r == -1 && errno == EAGAIN && took >= 100000000LL && took < 600000000LL,
	   "sigtimedwait with nothing pending: EAGAIN after 100 ms");
	to = (struct timespec){ 0, 0 };
	errno = 0;
	r = sigtimedwait(&set, &si, &to);
	ok(r == -1 && errno == EAGAIN, "sigtimedwait with a zero timeout: EAGAIN at once");

	raise(SIGUSR2);
	to = (struct timespec){ 5, 0 };
	memset(&si, 0, sizeof si);
	r = sigtimedwait(&set, &si, &to);
	/* glibc's sigtimedwait folds SI_TKILL into SI_USER; musl passes it on. */
	ok(r == SIGUSR2 && si.si_signo == SIGUSR2 && (si.si_code == SI_TKILL || si.si_code == SI_USER) &&
		   !has_pending(SIGUSR2),
	   "sigtimedwait takes a pending signal with its siginfo");

	pthread_t t;
	main_thread = pthread_self();
	main_waited = 0;
	pthread_create(&t, NULL, kill_or_rescue, NULL);
	memset(&si, 0, sizeof si);
	r = sigwaitinfo(&set, &si);
	__atomic_store_n(&main_waited, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	ok(r == SIGUSR2 && si.si_code == SI_USER && si.si_pid == getpid(),
	   "sigwaitinfo gets a kill sent by another thread (SI_USER, si_pid)");

	/* Every thread blocks it: the process-wide signal waits for whoever
	 * asks, here main, though the sender is another thread. */
	pthread_create(&t, NULL, kill_later_blocked, (void *)(long)SIGUSR2);
	pthread_join(t, NULL);
	to = (struct timespec){ 2, 0 };
	memset(&si, 0, sizeof si);
	r = sigtimedwait(&set, &si, &to);
	ok(r == SIGUSR2 && si.si_code == SI_USER,
	   "a kill that every thread blocks stays pending for the process; main's sigtimedwait takes it");
	block(SIGUSR2, SIG_UNBLOCK);
}

/* ---- interrupted system calls -------------------------------------------------- */

static int pfd[2];
static void *write_later(void *arg)
{
	long ms = (long)arg;
	block(SIGALRM, SIG_BLOCK); /* the timer's signal is for main */
	block(SIGUSR1, SIG_BLOCK);
	sleep_ms(ms);
	write(pfd[1], "x", 1);
	return NULL;
}
static void *kill_main_later(void *arg)
{
	(void)arg;
	sleep_ms(50);
	kill(getpid(), SIGUSR1); /* this thread does not block SIGUSR1 */
	sleep_ms(1000);
	write(pfd[1], "y", 1); /* rescue a read the signal missed */
	return NULL;
}

static void interrupted(void)
{
	struct itimerval once = { { 0, 0 }, { 0, 50000 } };
	char c = 0;
	pthread_t t;

	pipe(pfd);
	handle(SIGALRM, on_info, 0, 0);
	got = 0;
	setitimer(ITIMER_REAL, &once, NULL);
	errno = 0;
	long r = read(pfd[0], &c, 1);
	ok(r == -1 && errno == EINTR && got == SIGALRM,
	   "read on an empty pipe: EINTR after a handler without SA_RESTART");

	handle(SIGALRM, on_info, SA_RESTART, 0);
	got = 0;
	pthread_create(&t, NULL, write_later, (void *)200L);
	setitimer(ITIMER_REAL, &once, NULL);
	r = read(pfd[0], &c, 1);
	pthread_join(t, NULL);
	ok(r == 1 && c == 'x' && got == SIGALRM,
	   "read on an empty pipe restarts after an SA_RESTART handler and gets the data");
	set_default(SIGALRM);

	handle(SIGUSR1, on_info, 0, 0);
	got = 0;
	handler_tid = 0;
	pthread_create(&t, NULL, kill_main_later, NULL);
	errno = 0;
	r = read(pfd[0], &c, 1);
	int e = errno;
	pthread_join(t, NULL);
	if (r == -1) /* interrupted: the rescue byte is still to come */
		while (read(pfd[0], &c, 1) != 1)
			;
	ok(r == -1 && e == EINTR && got == SIGUSR1 && handler_tid == gettid_(),
	   "kill() from another thread interrupts main's read (Linux picks the main thread)");
	set_default(SIGUSR1);

	handle(SIGPIPE, on_info, 0, 0);
	close(pfd[0]);
	got = 0;
	errno = 0;
	r = write(pfd[1], "z", 1);
	ok(r == -1 && errno == EPIPE && got == SIGPIPE,
	   "write to a pipe without readers: the SIGPIPE handler runs, then EPIPE");
	close(pfd[1]);
	set_default(SIGPIPE);
}

/* ---- timers ----------------------------------------------------------------------- */

static void timers(void)
{
	handle(SIGALRM, on_info, 0, 0);
	alarm(5);
	unsigned left = alarm(0);
	ok(left == 5, "alarm(0) right after alarm(5) returns 5");

	got = 0;
	long long t0 = now_ns();
	alarm(1);
	errno = 0;
	int r = pause();
	long long took = now_ns() - t0;
	if (!(took >= 990000000LL && took < 1500000000LL))
		fprintf(stderr, "alarm(1) woke pause after %lld ns\n", took);
	ok(r == -1 && errno == EINTR && got == SIGALRM && took >= 990000000LL && took < 1500000000LL,
	   "alarm(1) wakes pause() after a second with EINTR");

	struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, off = { { 0, 0 }, { 0, 0 } }, cur;
	sigset_t none;
	sigemptyset(&none);
	block(SIGALRM, SIG_BLOCK);
	count = 0;
	t0 = now_ns();
	setitimer(ITIMER_REAL, &it, NULL);
	while (count < 5)
		sigsuspend(&none);
	took = now_ns() - t0;
	setitimer(ITIMER_REAL, &off, NULL);
	getitimer(ITIMER_REAL, &cur);
	block(SIGALRM, SIG_UNBLOCK);
	int n = count;
	sleep_ms(100);
	if (took < 95000000LL || took > 2000000000LL)
		fprintf(stderr, "5 ticks of 20 ms took %lld ns\n", took);
	ok(took >= 95000000LL && took < 2000000000LL,
	   "setitimer ITIMER_REAL every 20 ms: 5 ticks in 100 ms or more");
	ok(count == n && cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 &&
		   cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 0,
	   "a disarmed timer reads back as zero and ticks no more");

	struct itimerval ten = { { 2, 0 }, { 10, 0 } }, old;
	setitimer(ITIMER_REAL, &ten, NULL);
	getitimer(ITIMER_REAL, &cur);
	setitimer(ITIMER_REAL, &off, &old);
	long long v = cur.it_value.tv_sec * 1000000LL + cur.it_value.tv_usec;
	long long o = old.it_value.tv_sec * 1000000LL + old.it_value.tv_usec;
	ok(cur.it_interval.tv_sec == 2 && cur.it_interval.tv_usec == 0 && v > 9000000 && v <= 10000000 &&
		   o > 9000000 && o <= v && old.it_interval.tv_sec == 2,
	   "getitimer and setitimer's old value read back the interval and what is left");
	set_default(SIGALRM);
}

/* ---- threads ----------------------------------------------------------------------- */

struct target {
	pthread_t t;
	volatile pid_t tid;
	volatile int stop;
};
static void *idle_thread(void *arg)
{
	struct target *tg = arg;
	tg->tid = gettid_();
	while (!tg->stop)
		sleep_ms(5);
	return NULL;
}

static void per_thread(void)
{
	struct target tg[3];
	memset(tg, 0, sizeof tg);
	for (int i = 0; i < 3; i++)
		pthread_create(&tg[i].t, NULL, idle_thread, &tg[i]);
	for (int i = 0; i < 3; i++)
		while (!tg[i].tid)
			sleep_ms(1);
	handle(SIGUSR1, on_info, 0, 0);
	int good = 1;
	for (int i = 0; i < 3; i++) {
		handler_tid = 0;
		pthread_kill(tg[i].t, SIGUSR1);
		for (int k = 0; k < 200 && !handler_tid; k++)
			sleep_ms(5);
		good &= handler_tid == tg[i].tid && got_code == SI_TKILL;
	}
	for (int i = 0; i < 3; i++) {
		tg[i].stop = 1;
		pthread_join(tg[i].t, NULL);
	}
	ok(good, "pthread_kill runs the handler on the target thread (checked by gettid)");
	set_default(SIGUSR1);
}

/* ---- sigaltstack for an ordinary signal --------------------------------------------- */

static char *alt;
static volatile int on_alt, alt_flag;
static void on_alt_sig(int sig, siginfo_t *si, void *uc)
{
	char here;
	stack_t ss;
	(void)sig, (void)si, (void)uc;
	on_alt = &here >= alt && &here < alt + 65536;
	sigaltstack(NULL, &ss);
	alt_flag = ss.ss_flags;
}

static void altstack(void)
{
	stack_t ss = { .ss_sp = alt = malloc(65536), .ss_size = 65536, .ss_flags = 0 }, after;
	sigaltstack(&ss, NULL);
	handle(SIGUSR2, on_alt_sig, SA_ONSTACK, 0);
	raise(SIGUSR2);
	sigaltstack(NULL, &after);
	ok(on_alt && alt_flag == SS_ONSTACK && after.ss_flags == 0,
	   "SA_ONSTACK: the handler runs on the sigaltstack, which says SS_ONSTACK inside");
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	set_default(SIGUSR2);
}

/* ---- real-time signals --------------------------------------------------------------- */

static volatile int order[16], norder;
static volatile int values[16];
static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (norder < 16) {
		values[norder] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
		order[norder++] = sig;
	}
}

static int rt_mode(void)
{
	int a = SIGRTMIN + 2, b = SIGRTMIN + 4;
	union sigval v;
	handle(a, on_rt, 0, 0);
	handle(b, on_rt, 0, 0);
	block(a, SIG_BLOCK);
	block(b, SIG_BLOCK);
	kill(getpid(), b);
	for (int i = 0; i < 3; i++)
		kill(getpid(), a);
	sigset_t all;
	sigemptyset(&all);
	sigaddset(&all, a);
	sigaddset(&all, b);
	pthread_sigmask(SIG_UNBLOCK, &all, NULL);
	int na = 0, nb = 0;
	for (int i = 0; i < norder; i++)
		na += order[i] == a, nb += order[i] == b;
	ok(norder == 4 && na == 3 && nb == 1,
	   "3 instances of a blocked real-time signal all arrive, and the other one once");

	norder = 0;
	block(a, SIG_BLOCK);
	for (int i = 0; i < 3; i++) {
		v.sival_int = 100 + i;
		if (sigqueue(getpid(), a, v) != 0)
			break;
	}
	block(a, SIG_UNBLOCK);
	if (norder != 3 || values[0] != 100 || values[1] != 101 || values[2] != 102)
		fprintf(stderr, "sigqueue: %d arrived, values %d %d %d\n", norder, values[0], values[1],
			values[2]);
	ok(norder == 3 && values[0] == 100 && values[1] == 101 && values[2] == 102,
	   "sigqueue: SI_QUEUE with si_value, queued in order");
	return bad;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "rt") == 0)
		return rt_mode();
	if (strcmp(mode, "sigpipe") == 0) {
		int p[2];
		pipe(p);
		close(p[0]);
		printf("ok about to write to a pipe without readers\n");
		fflush(stdout);
		write(p[1], "x", 1);
		printf("FAIL: write with default SIGPIPE returned\n");
		return 1;
	}
	if (strcmp(mode, "resethand") == 0) {
		handle(SIGUSR1, on_info, SA_RESETHAND, 0);
		raise(SIGUSR1);
		printf(count == 1 ? "ok first SIGUSR1 handled\n" : "FAIL: handler did not run\n");
		fflush(stdout);
		raise(SIGUSR1);
		printf("FAIL: second SIGUSR1 did not kill\n");
		return 1;
	}
	siginfo_checks();
	faults();
	registers();
	flags();
	nesting();
	pending();
	waiting();
	interrupted();
	timers();
	per_thread();
	altstack();
	return bad;
}
