// SPDX-License-Identifier: MIT
/* futex_timing: the futex system call as Linux answers it, by raw
 * syscall().  Timeouts: relative FUTEX_WAIT, absolute FUTEX_WAIT_BITSET on
 * CLOCK_MONOTONIC and (FUTEX_CLOCK_REALTIME) on CLOCK_REALTIME all give
 * ETIMEDOUT no earlier than asked and less than 500 ms late; an absolute
 * time in the past and a zero relative timeout return at once.  Errors:
 * EAGAIN on a value mismatch, EINVAL for an unaligned address, a bad
 * timespec or an empty bitset, EFAULT for an unmapped word.  Wake-ups: 3
 * of 5 waiters woken (FUTEX_WAKE returns 3), then the other 2; a count of
 * 0 still wakes one (Linux's rule); WAKE_BITSET wakes only the matching
 * waiter; CMP_REQUEUE wakes 1 and moves 2 (returns 3) and refuses a stale
 * value (EAGAIN); REQUEUE moves; WAKE_OP updates the second word (SET,
 * ADD with a negative operand, OR with a shifted operand) and wakes the
 * second word's waiters only when its comparison holds.  Signals: a wait
 * without timeout restarts after an SA_RESTART handler and is later woken
 * (returns 0), gives EINTR without SA_RESTART, and a wait with a timeout
 * gives EINTR even with SA_RESTART. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* include/uapi/linux/futex.h (musl-gcc has no kernel headers) */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_REQUEUE_PRIVATE (FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP_SET 0
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_NE 1
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg) \
	((((op)&0xf) << 28) | (((cmp)&0xf) << 24) | (((oparg)&0xfff) << 12) | ((cmparg)&0xfff))

static long fx(void *uaddr, int op, uint32_t val, const struct timespec *ts, void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* The timeout argument doubles as val2 (a count) for REQUEUE and WAKE_OP. */
static long fx2(void *uaddr, int op, uint32_t val, long val2, void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(long long ns)
{
	return (struct timespec){ ns / 1000000000LL, ns % 1000000000LL };
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Checks a timed-out wait: -1/ETIMEDOUT, and the clock c went from t0 to
 * at least want (and not 500 ms past it). */
static void timed(const char *what, long r, int e, clockid_t c, long long want)
{
	long long end = now_ns(c);
	int good = r == -1 && e == ETIMEDOUT && end >= want && end < want + 500000000LL;
	if (!good)
		fprintf(stderr, "%s: returned %ld errno %d, %lld ns after the deadline\n", what, r, e,
			end - want);
	ok(good, what);
}

static uint32_t word;

static void timeouts(void)
{
	long long t0 = now_ns(CLOCK_MONOTONIC);
	struct timespec rel = { 0, 100 * 1000000L };
	errno = 0;
	long r = fx(&word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
	timed("FUTEX_WAIT, relative 100 ms: ETIMEDOUT on time", r, errno, CLOCK_MONOTONIC,
	      t0 + 100000000LL);

	t0 = now_ns(CLOCK_MONOTONIC);
	rel = (struct timespec){ 0, 100 * 1000000L };
	errno = 0;
	r = fx(&word, FUTEX_WAIT, 0, &rel, NULL, 0); /* shared (not private) */
	timed("FUTEX_WAIT (shared), relative 100 ms: ETIMEDOUT on time", r, errno, CLOCK_MONOTONIC,
	      t0 + 100000000LL);

	long long dl = now_ns(CLOCK_MONOTONIC) + 120000000LL;
	struct timespec abs = ts_of(dl);
	errno = 0;
	r = fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
	timed("FUTEX_WAIT_BITSET, absolute CLOCK_MONOTONIC: ETIMEDOUT on time", r, errno,
	      CLOCK_MONOTONIC, dl);

	dl = now_ns(CLOCK_REALTIME) + 120000000LL;
	abs = ts_of(dl);
	errno = 0;
	r = fx(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &abs, NULL,
	       FUTEX_BITSET_MATCH_ANY);
	timed("FUTEX_WAIT_BITSET|CLOCK_REALTIME, absolute: ETIMEDOUT on time", r, errno, CLOCK_REALTIME,
	      dl);

	t0 = now_ns(CLOCK_MONOTONIC);
	abs = ts_of(t0 / 2); /* CLOCK_MONOTONIC may be small: it counts from boot */
	errno = 0;
	r = fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
	int e1 = errno;
	abs = (struct timespec){ 0, 0 };
	errno = 0;
	long r2 = fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
	int e2 = errno;
	rel = (struct timespec){ 0, 0 };
	errno = 0;
	long r3 = fx(&word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
	int e3 = errno;
	long long took = now_ns(CLOCK_MONOTONIC) - t0;
	int good = r == -1 && e1 == ETIMEDOUT && r2 == -1 && e2 == ETIMEDOUT && r3 == -1 &&
		   e3 == ETIMEDOUT && took < 100000000LL;
	if (!good)
		fprintf(stderr, "past: %ld/%d, time 0: %ld/%d, zero: %ld/%d, %lld ns\n", r, e1, r2, e2,
			r3, e3, took);
	ok(good, "a deadline in the past, time 0 and a zero timeout: ETIMEDOUT at once");
}

static void errors(void)
{
	static uint32_t pair[2] __attribute__((aligned(8)));
	struct timespec bad_ns = { 0, 1000000000L }, neg = { -1, 0 };
	errno = 0;
	int good = fx(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0) == -1 && errno == EAGAIN;
	ok(good, "FUTEX_WAIT with a value that does not match: EAGAIN");

	errno = 0;
	good = fx((char *)pair + 1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) == -1 && errno == EINVAL;
	errno = 0;
	good &= fx((char *)pair + 2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == -1 && errno == EINVAL;
	ok(good, "an unaligned futex address: EINVAL (wait and wake)");

	errno = 0;
	good = fx(&word, FUTEX_WAIT_PRIVATE, 0, &bad_ns, NULL, 0) == -1 && errno == EINVAL;
	errno = 0;
	good &= fx(&word, FUTEX_WAIT_PRIVATE, 0, &neg, NULL, 0) == -1 && errno == EINVAL;
	ok(good, "a timeout with tv_nsec of 1e9 or a negative tv_sec: EINVAL");

	errno = 0;
	good = fx(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 0) == -1 && errno == EINVAL;
	errno = 0;
	good &= fx(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0) == -1 && errno == EINVAL;
	ok(good, "an empty bitset: EINVAL (wait and wake)");

	void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	errno = 0;
	good = fx(gone, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) == -1 && errno == EFAULT;
	ok(good, "FUTEX_WAIT on an unmapped word: EFAULT");

	good = fx(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0;
	ok(good, "FUTEX_WAKE with no waiters: 0");
}

/* ---- waiters ----------------------------------------------------------------- */

struct waiter {
	uint32_t *addr;
	uint32_t val, bitset;
	long ret;
	int err;
	volatile int done;
	pthread_t t;
};
static int entered;

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	__atomic_add_fetch(&entered, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	if (w->bitset)
		w->ret = fx(w->addr, FUTEX_WAIT_BITSET_PRIVATE, w->val, NULL, NULL, w->bitset);
	else
		w->ret = fx(w->addr, FUTEX_WAIT_PRIVATE, w->val, NULL, NULL, 0);
	w->err = errno;
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Starts n waiters on addr and gives them time to reach the kernel. */
static void start(struct waiter *w, int n, uint32_t *addr, uint32_t bitset)
{
	entered = 0;
	for (int i = 0; i < n; i++) {
		w[i] = (struct waiter){ .addr = addr, .val = *addr, .bitset = bitset };
		pthread_create(&w[i].t, NULL, wait_thread, &w[i]);
	}
	while (__atomic_load_n(&entered, __ATOMIC_SEQ_CST) < n)
		sleep_ms(1);
	sleep_ms(100);
}

static int count_done(struct waiter *w, int n)
{
	int d = 0;
	sleep_ms(100); /* the woken ones run */
	for (int i = 0; i < n; i++)
		d += __atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST);
	return d;
}

static int finish(struct waiter *w, int n)
{
	int good = 1;
	for (int i = 0; i < n; i++) /* whatever a failed check left waiting */
		fx(w[i].addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		good &= w[i].ret == 0;
	}
	return good;
}

static uint32_t fa, fb;

static void wakeups(void)
{
	struct waiter w[5];

	start(w, 5, &fa, 0);
	long r = fx(&fa, FUTEX_WAKE_PRIVATE, 3, NULL, NULL, 0);
	int d = count_done(w, 5);
	ok(r == 3 && d == 3, "FUTEX_WAKE 3 of 5 waiters: returns 3, three wake");
	r = fx(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	ok(r == 2 && finish(w, 5), "FUTEX_WAKE INT_MAX: returns 2, the rest wake with 0");

	start(w, 2, &fa, 0);
	r = fx(&fa, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0);
	d = count_done(w, 2);
	ok(r == 1 && d == 1, "FUTEX_WAKE with a count of 0 wakes one, as Linux does");
	fx(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	finish(w, 2);

	/* Two waiters with bitsets 1 and 2: WAKE_BITSET 2 wakes the second only. */
	entered = 0;
	w[0] = (struct waiter){ .addr = &fa, .val = fa, .bitset = 1 };
	w[1] = (struct waiter){ .addr = &fa, .val = fa, .bitset = 2 };
	pthread_create(&w[0].t, NULL, wait_thread, &w[0]);
	pthread_create(&w[1].t, NULL, wait_thread, &w[1]);
	while (__atomic_load_n(&entered, __ATOMIC_SEQ_CST) < 2)
		sleep_ms(1);
	sleep_ms(100);
	r = fx(&fa, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 2);
	d = count_done(w, 2);
	int good = r == 1 && d == 1 && w[1].done && !w[0].done;
	r = fx(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0); /* WAKE matches any bitset */
	ok(good && r == 1 && finish(w, 2),
	   "FUTEX_WAKE_BITSET wakes only the waiter whose bitset matches");
}

static void requeues(void)
{
	struct waiter w[4];

	start(w, 4, &fa, 0);
	errno = 0;
	long r = fx2(&fa, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &fb, fa + 1);
	ok(r == -1 && errno == EAGAIN, "FUTEX_CMP_REQUEUE with a stale value: EAGAIN");
	r = fx2(&fa, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &fb, fa);
	int d = count_done(w, 4);
	ok(r == 3 && d == 1, "FUTEX_CMP_REQUEUE wakes 1, moves 2: returns 3");
	long onb = fx(&fb, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	d = count_done(w, 4);
	long ona = fx(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	ok(onb == 2 && d == 3 && ona == 1 && finish(w, 4),
	   "the 2 moved waiters wake on the second word, the last one on the first");

	start(w, 3, &fa, 0);
	r = fx2(&fa, FUTEX_REQUEUE_PRIVATE, 0, INT_MAX, &fb, 0);
	d = count_done(w, 3);
	long left = fx(&fa, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	onb = fx(&fb, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	ok(r == 3 && d == 0 && left == 0 && onb == 3 && finish(w, 3),
	   "FUTEX_REQUEUE moves all 3 waiters (returns 3), none woken");
}

static void wake_op(void)
{
	struct waiter wa[2], wb[2];

	fa = fb = 0;
	start(wa, 2, &fa, 0);
	start(wb, 2, &fb, 0);
	/* *fb = 5; wake 1 on fa; and 1 on fb if the old *fb == 0. */
	long r = fx2(&fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, &fb,
		     FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0));
	int da = count_done(wa, 2), db = count_done(wb, 2);
	ok(r == 2 && fb == 5 && da == 1 && db == 1,
	   "FUTEX_WAKE_OP SET 5 if old == 0: stores 5, wakes one on each word");

	/* *fb += 1; the old value 5 is not > 100: only fa's waiter wakes. */
	r = fx2(&fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, &fb, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 100));
	da = count_done(wa, 2);
	db = count_done(wb, 2);
	ok(r == 1 && fb == 6 && da == 2 && db == 1,
	   "FUTEX_WAKE_OP ADD 1 if old > 100: adds, wakes only on the first word");

	/* The 12-bit operands are signed: ADD -1 decrements; CMP_EQ -1 (0xfff)
	 * compares with -1, not 4095. */
	fb = 0xffffffffu;
	r = fx2(&fa, FUTEX_WAKE_OP_PRIVATE, 0, 1, &fb,
		FUTEX_OP(FUTEX_OP_ADD, 0xfff, FUTEX_OP_CMP_EQ, 0xfff));
	db = count_done(wb, 2);
	ok(r == 1 && fb == 0xfffffffeu && db == 2,
	   "FUTEX_WAKE_OP with -1 as operand and comparand: old -1 matches, becomes -2");
	finish(wa, 2);
	finish(wb, 2);

	/* OR with FUTEX_OP_OPARG_SHIFT: oparg 4 means 1 << 4. */
	fb = 1;
	r = fx2(&fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, &fb,
		FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_NE, 1));
	ok(r == 0 && fb == 0x11, "FUTEX_WAKE_OP OR (1 << 4), no waiters: stores 0x11, returns 0");
}

/* ---- signals during a wait ---------------------------------------------------- */

static volatile int handled;
static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

struct interrupter {
	pthread_t target;
	uint32_t *addr;
	long wake_after_ms;
};
static void *interrupt(void *arg)
{
	struct interrupter *it = arg;
	sleep_ms(50);
	pthread_kill(it->target, SIGUSR1);
	if (it->wake_after_ms) {
		sleep_ms(it->wake_after_ms);
		__atomic_store_n(it->addr, 1, __ATOMIC_SEQ_CST);
		fx(it->addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return NULL;
}

static long wait_interrupted(int flags, const struct timespec *ts, long wake_after_ms, int *err)
{
	struct sigaction sa;
	struct interrupter it = { pthread_self(), &fa, wake_after_ms };
	pthread_t t;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	sigaction(SIGUSR1, &sa, NULL);
	fa = 0;
	handled = 0;
	pthread_create(&t, NULL, interrupt, &it);
	errno = 0;
	long r = fx(&fa, FUTEX_WAIT_PRIVATE, 0, ts, NULL, 0);
	*err = errno;
	pthread_join(t, NULL);
	return r;
}

static void signals(void)
{
	int e;
	long r = wait_interrupted(SA_RESTART, NULL, 150, &e);
	ok(r == 0 && handled == 1 && fa == 1,
	   "FUTEX_WAIT without timeout restarts after an SA_RESTART handler, then wakes with 0");
	r = wait_interrupted(0, NULL, 0, &e);
	ok(r == -1 && e == EINTR && handled == 1,
	   "FUTEX_WAIT: EINTR after a handler without SA_RESTART");
	struct timespec two = { 2, 0 };
	long long t0 = now_ns(CLOCK_MONOTONIC);
	r = wait_interrupted(SA_RESTART, &two, 0, &e);
	long long took = now_ns(CLOCK_MONOTONIC) - t0;
	if (r != -1 || e != EINTR)
		fprintf(stderr, "timed wait after SA_RESTART handler: %ld errno %d after %lld ns\n", r,
			e, took);
	ok(r == -1 && e == EINTR && handled == 1 && took < 1000000000LL,
	   "FUTEX_WAIT with a timeout: EINTR even after an SA_RESTART handler");
}

int main(void)
{
	timeouts();
	errors();
	wakeups();
	requeues();
	wake_op();
	signals();
	return bad;
}
