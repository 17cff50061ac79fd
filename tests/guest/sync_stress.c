// SPDX-License-Identifier: MIT
/* sync_stress: the pthread synchronisation objects stay exact under
 * preemption.  8 threads x 20000 increments each under a normal mutex, a
 * spinlock, a binary POSIX semaphore and lock-prefixed atomics; a
 * recursive mutex taken three deep (trylock from another thread: EBUSY);
 * an error-checking mutex (relock EDEADLK, unlock by a non-owner or when
 * unlocked EPERM); pthread_mutex_timedlock and sem_timedwait time out
 * (ETIMEDOUT after at least the timeout); sem_trywait EAGAIN; a bounded
 * buffer (4 producers, 4 consumers, two condition variables, 40000 items)
 * loses and duplicates nothing; pthread_cond_broadcast wakes all 8
 * waiters while pthread_cond_signal wakes one; cond_timedwait on
 * CLOCK_MONOTONIC times out; readers share a rwlock that writers hold
 * alone (an invariant checked under the read lock); a barrier of 8 over
 * 200 rounds returns PTHREAD_BARRIER_SERIAL_THREAD once per round. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"

enum { T = 8, N = 20000 };

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec after_ms(clockid_t c, long ms)
{
	long long t = now_ns(c) + ms * 1000000LL;
	return (struct timespec){ t / 1000000000LL, t % 1000000000LL };
}

static void run(void *(*fn)(void *), int n)
{
	pthread_t t[16];
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fn, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* ---- counters ------------------------------------------------------------ */

static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t spin;
static sem_t bin;
static volatile long c_mutex, c_spin, c_sem;
static long c_atomic;

static void *count_mutex(void *a)
{
	(void)a;
	for (int i = 0; i < N; i++) {
		pthread_mutex_lock(&mx);
		c_mutex = c_mutex + 1;
		pthread_mutex_unlock(&mx);
	}
	return NULL;
}
static void *count_spin(void *a)
{
	(void)a;
	for (int i = 0; i < N; i++) {
		pthread_spin_lock(&spin);
		c_spin = c_spin + 1;
		pthread_spin_unlock(&spin);
	}
	return NULL;
}
static void *count_sem(void *a)
{
	(void)a;
	for (int i = 0; i < N; i++) {
		while (sem_wait(&bin) != 0)
			;
		c_sem = c_sem + 1;
		sem_post(&bin);
	}
	return NULL;
}
static void *count_atomic(void *a)
{
	(void)a;
	for (int i = 0; i < N; i++)
		__atomic_fetch_add(&c_atomic, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void counters(void)
{
	run(count_mutex, T);
	ok(c_mutex == (long)T * N, "mutex: 8 threads x 20000 increments, exact");
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	run(count_spin, T);
	ok(c_spin == (long)T * N, "spinlock: 8 threads x 20000 increments, exact");
	sem_init(&bin, 0, 1);
	run(count_sem, T);
	int v = -1;
	sem_getvalue(&bin, &v);
	ok(c_sem == (long)T * N && v == 1, "binary semaphore: 8 threads x 20000 increments, exact");
	run(count_atomic, T);
	ok(c_atomic == (long)T * N, "atomics: 8 threads x 20000 increments, exact");
}

/* ---- mutex kinds ---------------------------------------------------------- */

static pthread_mutex_t rec, errchk;
static int other_result;

static void *try_rec(void *a)
{
	(void)a;
	other_result = pthread_mutex_trylock(&rec);
	return NULL;
}
static void *unlock_errchk(void *a)
{
	(void)a;
	other_result = pthread_mutex_unlock(&errchk);
	return NULL;
}
static void *hold_mx(void *a)
{
	pthread_mutex_lock(&mx);
	sem_post(a);
	struct timespec ts = { 0, 300 * 1000000L };
	nanosleep(&ts, NULL);
	pthread_mutex_unlock(&mx);
	return NULL;
}

static void mutex_kinds(void)
{
	pthread_mutexattr_t a;
	pthread_t t;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&rec, &a);
	int good = pthread_mutex_lock(&rec) == 0 && pthread_mutex_lock(&rec) == 0 &&
		   pthread_mutex_trylock(&rec) == 0;
	pthread_create(&t, NULL, try_rec, NULL);
	pthread_join(t, NULL);
	good &= other_result == EBUSY;
	for (int i = 0; i < 3; i++)
		good &= pthread_mutex_unlock(&rec) == 0;
	pthread_create(&t, NULL, try_rec, NULL); /* free now: the other thread takes it */
	pthread_join(t, NULL);
	good &= other_result == 0;
	ok(good, "recursive mutex: three deep, EBUSY to another thread until fully unlocked");

	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&errchk, &a);
	good = pthread_mutex_unlock(&errchk) == EPERM;
	good &= pthread_mutex_lock(&errchk) == 0 && pthread_mutex_lock(&errchk) == EDEADLK;
	pthread_create(&t, NULL, unlock_errchk, NULL);
	pthread_join(t, NULL);
	good &= other_result == EPERM && pthread_mutex_unlock(&errchk) == 0;
	ok(good, "error-checking mutex: EDEADLK on relock, EPERM for a non-owner and when unlocked");
	pthread_mutexattr_destroy(&a);

	sem_t held;
	sem_init(&held, 0, 0);
	pthread_create(&t, NULL, hold_mx, &held);
	sem_wait(&held);
	long long t0 = now_ns(CLOCK_REALTIME);
	struct timespec dl = after_ms(CLOCK_REALTIME, 100);
	int r = pthread_mutex_timedlock(&mx, &dl);
	long long took = now_ns(CLOCK_REALTIME) - t0;
	good = r == ETIMEDOUT && took >= 100000000LL && took < 600000000LL;
	if (!good)
		fprintf(stderr, "timedlock: %d after %lld ns\n", r, took);
	ok(good, "pthread_mutex_timedlock on a held mutex: ETIMEDOUT after 100 ms");
	ok(pthread_mutex_lock(&mx) == 0, "the mutex is taken once its holder lets go");
	pthread_mutex_unlock(&mx);
	pthread_join(t, NULL);
}

/* ---- semaphores ------------------------------------------------------------ */

static sem_t items;
static long consumed_sum;

static void *sem_consumer(void *a)
{
	long sum = 0;
	(void)a;
	for (int i = 0; i < 5000; i++) {
		while (sem_wait(&items) != 0)
			;
		sum += 1;
	}
	__atomic_fetch_add(&consumed_sum, sum, __ATOMIC_SEQ_CST);
	return NULL;
}
static void *sem_producer(void *a)
{
	(void)a;
	for (int i = 0; i < 5000; i++) {
		sem_post(&items);
		if (i % 1000 == 0)
			sched_yield();
	}
	return NULL;
}

static void semaphores(void)
{
	sem_t s;
	sem_init(&s, 0, 0);
	errno = 0;
	int good = sem_trywait(&s) == -1 && errno == EAGAIN;
	sem_post(&s);
	good &= sem_trywait(&s) == 0;
	ok(good, "sem_trywait: EAGAIN at 0, succeeds after sem_post");

	long long t0 = now_ns(CLOCK_REALTIME);
	struct timespec dl = after_ms(CLOCK_REALTIME, 100);
	errno = 0;
	int r = sem_timedwait(&s, &dl), e = errno;
	long long took = now_ns(CLOCK_REALTIME) - t0;
	good = r == -1 && e == ETIMEDOUT && took >= 100000000LL && took < 600000000LL;
	if (!good)
		fprintf(stderr, "sem_timedwait: %d errno %d after %lld ns\n", r, e, took);
	ok(good, "sem_timedwait: ETIMEDOUT after 100 ms");
	sem_destroy(&s);

	pthread_t t[8];
	sem_init(&items, 0, 0);
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, sem_consumer, NULL);
	for (long i = 4; i < 8; i++)
		pthread_create(&t[i], NULL, sem_producer, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	int v = -1;
	sem_getvalue(&items, &v);
	ok(consumed_sum == 20000 && v == 0, "counting semaphore: 4 producers, 4 consumers, 20000 posts");
}

/* ---- condition variables --------------------------------------------------- */

enum { CAP = 16, PER = 10000 };
static pthread_mutex_t bm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long buf[CAP], head, tail, count, produced_done;
static long sum_in, sum_out, n_out;
static unsigned char seen[4 * PER];

static void *producer(void *a)
{
	long id = (long)a;
	for (long i = 0; i < PER; i++) {
		long v = id * PER + i;
		pthread_mutex_lock(&bm);
		while (count == CAP)
			pthread_cond_wait(&not_full, &bm);
		buf[tail] = v;
		tail = (tail + 1) % CAP;
		count++;
		sum_in += v;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&bm);
	}
	pthread_mutex_lock(&bm);
	produced_done++;
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&bm);
	return NULL;
}
static void *consumer(void *a)
{
	(void)a;
	for (;;) {
		pthread_mutex_lock(&bm);
		while (count == 0 && produced_done < 4)
			pthread_cond_wait(&not_empty, &bm);
		if (count == 0) {
			pthread_mutex_unlock(&bm);
			return NULL;
		}
		long v = buf[head];
		head = (head + 1) % CAP;
		count--;
		sum_out += v;
		n_out++;
		if (v >= 0 && v < 4 * PER)
			seen[v]++;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&bm);
	}
}

static pthread_mutex_t wm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcv = PTHREAD_COND_INITIALIZER;
static int generation, waiting, woke, tickets;

static void *waiter(void *a)
{
	(void)a;
	pthread_mutex_lock(&wm);
	int g = generation;
	waiting++;
	while (generation == g)
		pthread_cond_wait(&wcv, &wm);
	woke++;
	pthread_mutex_unlock(&wm);
	return NULL;
}

/* Leaves only with a ticket, so a spurious wake-up (which POSIX allows)
 * cannot be mistaken for one that pthread_cond_signal gave. */
static void *ticket_waiter(void *a)
{
	(void)a;
	pthread_mutex_lock(&wm);
	waiting++;
	while (tickets == 0)
		pthread_cond_wait(&wcv, &wm);
	tickets--;
	woke++;
	pthread_mutex_unlock(&wm);
	return NULL;
}

static void wait_for_waiters(int n)
{
	for (;;) {
		pthread_mutex_lock(&wm);
		int w = waiting;
		pthread_mutex_unlock(&wm);
		if (w >= n)
			break;
		sched_yield();
	}
}

static void condvars(void)
{
	pthread_t t[8];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, producer, (void *)i);
	for (long i = 4; i < 8; i++)
		pthread_create(&t[i], NULL, consumer, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	int dup = 0;
	for (int i = 0; i < 4 * PER; i++)
		dup |= seen[i] != 1;
	ok(n_out == 4 * PER && sum_in == sum_out && !dup,
	   "bounded buffer: 4 producers, 4 consumers, 40000 items each taken once");

	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, waiter, NULL);
	wait_for_waiters(8);
	pthread_mutex_lock(&wm);
	generation++;
	pthread_cond_broadcast(&wcv);
	pthread_mutex_unlock(&wm);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ok(woke == 8, "pthread_cond_broadcast wakes all 8 waiters");

	/* pthread_cond_signal with one ticket: one waiter leaves, the others
	 * keep waiting; each further signal lets one more go. */
	waiting = woke = 0;
	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, ticket_waiter, NULL);
	wait_for_waiters(3);
	int good = 1;
	for (int k = 1; k <= 3; k++) {
		pthread_mutex_lock(&wm);
		tickets++;
		pthread_cond_signal(&wcv);
		pthread_mutex_unlock(&wm);
		for (int spin = 0; spin < 1000; spin++) {
			pthread_mutex_lock(&wm);
			int w = woke;
			pthread_mutex_unlock(&wm);
			if (w >= k)
				break;
			struct timespec ts = { 0, 1000000L };
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&wm);
		good &= woke == k;
		pthread_mutex_unlock(&wm);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ok(good && woke == 3, "pthread_cond_signal lets the waiters go one by one");

	pthread_condattr_t ca;
	pthread_cond_t mcv;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mcv, &ca);
	pthread_mutex_lock(&wm);
	long long t0 = now_ns(CLOCK_MONOTONIC);
	struct timespec dl = after_ms(CLOCK_MONOTONIC, 100);
	int r = pthread_cond_timedwait(&mcv, &wm, &dl);
	long long took = now_ns(CLOCK_MONOTONIC) - t0;
	pthread_mutex_unlock(&wm);
	good = r == ETIMEDOUT && took >= 100000000LL && took < 600000000LL;
	if (!good)
		fprintf(stderr, "cond_timedwait: %d after %lld ns\n", r, took);
	ok(good, "pthread_cond_timedwait on CLOCK_MONOTONIC: ETIMEDOUT after 100 ms");
}

/* ---- rwlock ----------------------------------------------------------------- */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static volatile long ra, rb;
static long torn, reads, writes;

static void *reader(void *a)
{
	(void)a;
	for (int i = 0; i < 5000; i++) {
		pthread_rwlock_rdlock(&rw);
		if (ra != rb)
			__atomic_fetch_add(&torn, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&reads, 1, __ATOMIC_RELAXED);
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}
static void *writer(void *a)
{
	(void)a;
	for (int i = 0; i < 5000; i++) {
		pthread_rwlock_wrlock(&rw);
		ra = ra + 1;
		for (volatile int k = 0; k < 20; k++)
			;
		rb = rb + 1;
		writes++;
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}
static int rw_other;
static void *try_read(void *a)
{
	(void)a;
	rw_other = pthread_rwlock_tryrdlock(&rw);
	if (rw_other == 0)
		pthread_rwlock_unlock(&rw);
	return NULL;
}
static void *try_write(void *a)
{
	(void)a;
	rw_other = pthread_rwlock_trywrlock(&rw);
	if (rw_other == 0)
		pthread_rwlock_unlock(&rw);
	return NULL;
}

static void rwlocks(void)
{
	pthread_t t[8];
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, i < 6 ? reader : writer, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	ok(torn == 0 && reads == 30000 && writes == 10000 && ra == 10000 && rb == 10000,
	   "rwlock: 6 readers never see a writer's half-done update, 2 writers exact");

	pthread_t o;
	pthread_rwlock_rdlock(&rw);
	pthread_create(&o, NULL, try_read, NULL);
	pthread_join(o, NULL);
	int shared = rw_other == 0;
	pthread_create(&o, NULL, try_write, NULL);
	pthread_join(o, NULL);
	int excl = rw_other == EBUSY;
	pthread_rwlock_unlock(&rw);
	pthread_rwlock_wrlock(&rw);
	pthread_create(&o, NULL, try_read, NULL);
	pthread_join(o, NULL);
	excl &= rw_other == EBUSY;
	pthread_rwlock_unlock(&rw);
	ok(shared && excl, "rwlock: a read lock is shared, a write lock is exclusive (EBUSY)");
}

/* ---- barrier ------------------------------------------------------------------ */

enum { ROUNDS = 200 };
static pthread_barrier_t bar;
static int slots[T], serials[ROUNDS], mismatches;

static void *barrier_worker(void *a)
{
	long id = (long)a;
	for (int r = 0; r < ROUNDS; r++) {
		slots[id] = r;
		int s = pthread_barrier_wait(&bar);
		if (s == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_fetch_add(&serials[r], 1, __ATOMIC_SEQ_CST);
		else if (s != 0)
			__atomic_fetch_add(&mismatches, 1, __ATOMIC_SEQ_CST);
		for (int k = 0; k < T; k++)
			if (__atomic_load_n(&slots[k], __ATOMIC_SEQ_CST) < r)
				__atomic_fetch_add(&mismatches, 1, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&bar); /* nobody moves on before all have looked */
	}
	return NULL;
}

static void barriers(void)
{
	pthread_barrier_init(&bar, NULL, T);
	run(barrier_worker, T);
	int good = mismatches == 0;
	for (int r = 0; r < ROUNDS; r++)
		good &= serials[r] == 1;
	ok(good, "barrier: 8 threads, 200 rounds, one serial thread per round");
	pthread_barrier_destroy(&bar);
}

int main(void)
{
	counters();
	mutex_kinds();
	semaphores();
	condvars();
	rwlocks();
	barriers();
	return bad;
}
