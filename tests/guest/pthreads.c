// SPDX-License-Identifier: MIT
/* pthreads: the POSIX thread lifecycle.  Create and join 1, 2, 8 and 64
 * threads at once (distinct pthread_self and gettid, one getpid, each its
 * own return value); 500 create/join cycles; detached threads (by
 * attribute and by pthread_detach); __thread variables with and without an
 * initialiser are per thread; keys start NULL in every thread and their
 * destructors run at thread exit with the thread's value; pthread_once runs
 * its routine once among 8 racing threads; pthread_exit from deep in a
 * thread while others run; an 8 MiB stack (7 MiB of it touched, and
 * pthread_getattr_np, which asks sched_getaffinity about the thread's tid,
 * reports it) and a 64 KiB one; a stack the program supplies; a new thread inherits its
 * creator's signal mask; pthread_cancel of threads blocked in
 * pthread_cond_wait, nanosleep and read (cleanup handlers run, join gives
 * PTHREAD_CANCELED: the cancel signal's frame must be Linux's exactly).
 * With an argument, process-wide ends: "mainexit" (main calls pthread_exit,
 * the last thread's return ends the process with status 0), "exit7" (a
 * thread calls exit(7) while main waits in pthread_join and another thread
 * spins). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- create and join ---------------------------------------------------- */

struct rec {
	long id;
	pid_t tid, pid;
	pthread_t self;
	int tls_start, tls_end, tbss_start;
};

static __thread int tls_init = 7;
static __thread int tls_zero[64];

static void *record(void *arg)
{
	struct rec *r = arg;
	r->tid = tid();
	r->pid = getpid();
	r->self = pthread_self();
	r->tls_start = tls_init;
	r->tbss_start = 0;
	for (int i = 0; i < 64; i++)
		r->tbss_start |= tls_zero[i];
	tls_init = (int)r->id * 11;
	tls_zero[r->id % 64] = (int)r->id;
	for (int i = 0; i < 3; i++)
		sched_yield();
	sleep_ms(5);
	r->tls_end = tls_init == r->id * 11 && tls_zero[r->id % 64] == r->id;
	return (void *)(r->id * 3 + 1);
}

static void create_join(int n)
{
	struct rec *r = calloc(n, sizeof *r);
	pthread_t *t = calloc(n, sizeof *t);
	char what[128];
	int ok_create = 1, ok_ret = 1, ok_ids = 1, ok_tls = 1;

	for (int i = 0; i < n; i++) {
		r[i].id = i + 1;
		if (pthread_create(&t[i], NULL, record, &r[i]) != 0)
			ok_create = 0;
	}
	for (int i = 0; i < n && ok_create; i++) {
		void *ret = NULL;
		if (pthread_join(t[i], &ret) != 0 || (long)ret != r[i].id * 3 + 1)
			ok_ret = 0;
		if (!pthread_equal(t[i], r[i].self) || r[i].pid != getpid() || r[i].tid == tid() ||
		    r[i].tid <= 0 || pthread_equal(r[i].self, pthread_self()))
			ok_ids = 0;
		for (int j = 0; j < i; j++)
			if (r[j].tid == r[i].tid || pthread_equal(r[j].self, r[i].self))
				ok_ids = 0;
		if (r[i].tls_start != 7 || r[i].tbss_start != 0 || !r[i].tls_end)
			ok_tls = 0;
	}
	snprintf(what, sizeof what, "%d threads created and joined with their own return values", n);
	ok(ok_create && ok_ret, what);
	snprintf(what, sizeof what, "%d threads: distinct gettid and pthread_self, one getpid", n);
	ok(ok_ids, what);
	snprintf(what, sizeof what,
		 "%d threads: __thread variables start from the image, stay per thread", n);
	ok(ok_tls, what);
	free(r);
	free(t);
}

static void *nothing(void *arg)
{
	return arg;
}

static void churn(void)
{
	int good = 1;
	for (long i = 0; i < 500 && good; i++) {
		pthread_t t;
		void *ret;
		if (pthread_create(&t, NULL, nothing, (void *)i) != 0 || pthread_join(t, &ret) != 0 ||
		    (long)ret != i)
			good = 0;
	}
	ok(good, "500 create/join cycles in a row");
}

/* ---- detached threads --------------------------------------------------- */

static pthread_mutex_t dlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dcond = PTHREAD_COND_INITIALIZER;
static int detached_done;

static void *detached(void *arg)
{
	(void)arg;
	sleep_ms(2);
	pthread_mutex_lock(&dlock);
	detached_done++;
	pthread_cond_signal(&dcond);
	pthread_mutex_unlock(&dlock);
	return NULL;
}

static void detach_test(void)
{
	pthread_attr_t a;
	int good = 1, state = -1;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_getdetachstate(&a, &state);
	for (int i = 0; i < 16; i++) {
		pthread_t t;
		if (pthread_create(&t, i % 2 ? &a : NULL, detached, NULL) != 0)
			good = 0;
		else if (i % 2 == 0 && pthread_detach(t) != 0)
			good = 0;
	}
	pthread_attr_destroy(&a);
	pthread_mutex_lock(&dlock);
	while (good && detached_done < 16)
		pthread_cond_wait(&dcond, &dlock);
	pthread_mutex_unlock(&dlock);
	ok(good && state == PTHREAD_CREATE_DETACHED,
	   "16 detached threads (attribute and pthread_detach) ran to the end");
	/* Their resources come back: many more detached threads still start. */
	for (int round = 0; round < 8 && good; round++) {
		detached_done = 0;
		for (int i = 0; i < 16; i++) {
			pthread_t t;
			if (pthread_create(&t, NULL, detached, NULL) != 0 || pthread_detach(t) != 0)
				good = 0;
		}
		pthread_mutex_lock(&dlock);
		while (good && detached_done < 16)
			pthread_cond_wait(&dcond, &dlock);
		pthread_mutex_unlock(&dlock);
	}
	ok(good, "128 more detached threads start and finish");
}

/* ---- keys and once ------------------------------------------------------ */

static pthread_key_t key;
static int destructed[8], destructor_calls;
static pthread_mutex_t klock = PTHREAD_MUTEX_INITIALIZER;

static void destroy(void *v)
{
	int *p = v;
	pthread_mutex_lock(&klock);
	destructed[*p]++;
	destructor_calls++;
	pthread_mutex_unlock(&klock);
	free(p);
}

static void *use_key(void *arg)
{
	long i = (long)arg;
	if (pthread_getspecific(key) != NULL)
		return (void *)1;
	if (i % 4 != 3) { /* every fourth thread leaves its value NULL */
		int *p = malloc(sizeof *p);
		*p = (int)i;
		pthread_setspecific(key, p);
	}
	sched_yield();
	if (i % 4 != 3 && *(int *)pthread_getspecific(key) != i)
		return (void *)2;
	return NULL;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static void once_init(void)
{
	once_runs++;
	sleep_ms(20); /* the others must wait for it, not run it again */
}
static void *call_once(void *arg)
{
	pthread_once(&once, once_init);
	(void)arg;
	return (void *)(long)(once_runs == 1);
}

static void keys_and_once(void)
{
	pthread_t t[8];
	int good = pthread_key_create(&key, destroy) == 0, expect = 1;
	int mainval = 99;
	pthread_setspecific(key, &mainval);
	for (long i = 0; i < 8 && good; i++)
		good = pthread_create(&t[i], NULL, use_key, (void *)i) == 0;
	for (int i = 0; i < 8 && good; i++) {
		void *r;
		pthread_join(t[i], &r);
		good = r == NULL;
	}
	for (int i = 0; i < 8; i++)
		if (destructed[i] != (i % 4 != 3))
			expect = 0;
	ok(good && pthread_getspecific(key) == &mainval,
	   "thread-specific values start NULL in new threads and stay per thread");
	ok(expect && destructor_calls == 6, "key destructors ran once for each non-NULL value");
	pthread_key_delete(key);

	good = 1;
	for (long i = 0; i < 8; i++)
		good &= pthread_create(&t[i], NULL, call_once, (void *)i) == 0;
	for (int i = 0; i < 8; i++) {
		void *r = NULL;
		pthread_join(t[i], &r);
		good &= r == (void *)1;
	}
	ok(good && once_runs == 1, "pthread_once ran its routine exactly once among 8 threads");
}

/* ---- pthread_exit while others run ------------------------------------- */

static volatile int spin_stop;
static void *spinner(void *arg)
{
	long n = 0;
	(void)arg;
	while (!spin_stop)
		n++;
	return (void *)(n > 0 ? 1L : 2L);
}
static void deep_exit(int depth);
static void (*volatile recurse)(int) = deep_exit; /* the compiler must not see through it */
static void deep_exit(int depth)
{
	if (depth > 0)
		recurse(depth - 1);
	pthread_exit((void *)42);
}
static void *exiter(void *arg)
{
	(void)arg;
	deep_exit(20);
	return (void *)1;
}

static void exit_while_running(void)
{
	pthread_t s, e;
	void *rs = NULL, *re = NULL;
	pthread_create(&s, NULL, spinner, NULL);
	pthread_create(&e, NULL, exiter, NULL);
	pthread_join(e, &re);
	sleep_ms(30); /* the spinner keeps running after the other's exit */
	spin_stop = 1;
	pthread_join(s, &rs);
	ok(re == (void *)42 && rs == (void *)1,
	   "pthread_exit(42) from a nested call, another thread keeps running");
}

/* ---- stacks ------------------------------------------------------------- */

struct stk {
	size_t touch;
	uintptr_t lo, hi;
	int inside, attr_rc;
	size_t attr_size;
};

static void __attribute__((noinline)) touch_stack(struct stk *s)
{
	volatile char *p = __builtin_alloca(s->touch);
	for (size_t i = 0; i < s->touch; i += 4096)
		p[i] = (char)i;
	p[s->touch - 1] = 1;
	s->inside = 1;
	if (s->lo) /* a supplied stack: the frame must lie in it */
		s->inside = (uintptr_t)p >= s->lo && (uintptr_t)p < s->hi;
}

static void *on_stack(void *arg)
{
	struct stk *s = arg;
	pthread_attr_t a;
	touch_stack(s);
	s->attr_rc = pthread_getattr_np(pthread_self(), &a);
	if (s->attr_rc == 0) {
		pthread_attr_getstacksize(&a, &s->attr_size);
		pthread_attr_destroy(&a);
	}
	return NULL;
}

static void stacks(void)
{
	pthread_attr_t a;
	pthread_t t;
	struct stk big = { .touch = 7 << 20 }, small = { .touch = 16 << 10 };
	struct stk mine = { .touch = 100 << 10 };

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 8 << 20);
	int good = pthread_create(&t, &a, on_stack, &big) == 0 && pthread_join(t, NULL) == 0;
	pthread_attr_destroy(&a);
	ok(good && big.inside, "8 MiB thread stack, 7 MiB of it used");
	if (big.attr_rc || big.attr_size < (8u << 20))
		fprintf(stderr, "pthread_getattr_np: %d (%s), stack size %zu\n", big.attr_rc,
			strerror(big.attr_rc), big.attr_size);
	ok(big.attr_rc == 0 && big.attr_size >= (8u << 20),
	   "pthread_getattr_np in a thread reports its 8 MiB stack");

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	good = pthread_create(&t, &a, on_stack, &small) == 0 && pthread_join(t, NULL) == 0;
	pthread_attr_destroy(&a);
	ok(good && small.inside, "64 KiB thread stack");

	size_t len = 1 << 20;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mine.lo = (uintptr_t)mem;
	mine.hi = (uintptr_t)mem + len;
	pthread_attr_init(&a);
	good = mem != MAP_FAILED && pthread_attr_setstack(&a, mem, len) == 0 &&
	       pthread_create(&t, &a, on_stack, &mine) == 0 && pthread_join(t, NULL) == 0;
	pthread_attr_destroy(&a);
	ok(good && mine.inside, "a thread runs on a stack the program supplied");
	munmap(mem, len);
}

/* ---- signal mask inheritance ------------------------------------------- */

static void *mask_of(void *arg)
{
	sigset_t *s = arg;
	pthread_sigmask(SIG_BLOCK, NULL, s);
	return NULL;
}

static void mask_inherit(void)
{
	sigset_t block, old, seen;
	pthread_t t;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sigemptyset(&seen);
	pthread_create(&t, NULL, mask_of, &seen);
	pthread_join(t, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ok(sigismember(&seen, SIGUSR2) == 1 && sigismember(&seen, SIGHUP) == 1 &&
		   sigismember(&seen, SIGUSR1) == 0,
	   "a new thread starts with its creator's signal mask");
}

/* ---- cancellation ------------------------------------------------------- */

static pthread_mutex_t cmx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ccv = PTHREAD_COND_INITIALIZER;
static int cleanups, started;
static int cpipe[2];

static void cleanup(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&cleanups, 1, __ATOMIC_SEQ_CST);
}
static void unlock_cleanup(void *arg)
{
	pthread_mutex_unlock(arg);
	cleanup(NULL);
}

static void *cancel_condwait(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cmx);
	pthread_cleanup_push(unlock_cleanup, &cmx);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pthread_cond_wait(&ccv, &cmx);
	pthread_cleanup_pop(0);
	return NULL;
}
static void *cancel_sleep(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, NULL);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	struct timespec ts = { 100, 0 };
	nanosleep(&ts, NULL);
	pthread_cleanup_pop(0);
	return NULL;
}
static void *cancel_read(void *arg)
{
	char c;
	(void)arg;
	pthread_cleanup_push(cleanup, NULL);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	read(cpipe[0], &c, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void cancellation(void)
{
	void *(*fn[3])(void *) = { cancel_condwait, cancel_sleep, cancel_read };
	pthread_t t[3];
	int good = pipe(cpipe) == 0;

	for (int i = 0; i < 3 && good; i++)
		good = pthread_create(&t[i], NULL, fn[i], NULL) == 0;
	while (good && __atomic_load_n(&started, __ATOMIC_SEQ_CST) < 3)
		sleep_ms(5);
	sleep_ms(50); /* let them block */
	for (int i = 0; i < 3 && good; i++)
		good = pthread_cancel(t[i]) == 0;
	for (int i = 0; i < 3 && good; i++) {
		void *r = NULL;
		good = pthread_join(t[i], &r) == 0 && r == PTHREAD_CANCELED;
	}
	ok(good && cleanups == 3,
	   "pthread_cancel ends threads blocked in cond_wait, nanosleep and read; cleanups ran");
	/* The mutex the cond_wait thread held was given back by its cleanup. */
	ok(pthread_mutex_trylock(&cmx) == 0, "the cancelled waiter's cleanup unlocked its mutex");
	pthread_mutex_unlock(&cmx);
}

/* ---- process-wide ends -------------------------------------------------- */

static pthread_t main_thread;

static void *late_worker(void *arg)
{
	long i = (long)arg;
	sleep_ms(100 + 50 * i);
	if (i == 2) {
		/* main has called pthread_exit; the process lives on in us. */
		printf("ok last thread runs after main's pthread_exit\n");
		fflush(stdout);
	}
	return NULL;
}

static void *exit7(void *arg)
{
	(void)arg;
	sleep_ms(50);
	printf("ok exit(7) from a thread while main waits in pthread_join\n");
	exit(7);
}
static void *forever(void *arg)
{
	(void)arg;
	while (!spin_stop)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	main_thread = pthread_self();
	if (argc > 1 && strcmp(argv[1], "mainexit") == 0) {
		pthread_t t;
		for (long i = 0; i < 3; i++)
			pthread_create(&t, NULL, late_worker, (void *)i);
		printf("ok main calls pthread_exit\n");
		fflush(stdout);
		pthread_exit(NULL);
	}
	if (argc > 1 && strcmp(argv[1], "exit7") == 0) {
		pthread_t w, s, e;
		pthread_create(&w, NULL, forever, NULL);
		pthread_create(&s, NULL, spinner, NULL);
		pthread_create(&e, NULL, exit7, NULL);
		pthread_join(w, NULL);
		printf("FAIL: pthread_join of a thread that never ends returned\n");
		return 1;
	}
	create_join(1);
	create_join(2);
	create_join(8);
	create_join(64);
	churn();
	detach_test();
	keys_and_once();
	exit_while_running();
	stacks();
	mask_inherit();
	cancellation();
	return bad;
}
