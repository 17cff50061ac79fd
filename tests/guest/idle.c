// SPDX-License-Identifier: MIT
/* idle: a program that waits, waits for real.  Each mode waits MS
 * milliseconds (argument 2, default 200) in a different blocking call and
 * checks that at least that much time passed: "sleep" (nanosleep),
 * "futex" (pthread_cond_wait while another thread sleeps, then signals),
 * "pipe" (read on an empty pipe until another thread writes), "pause"
 * (pause until setitimer's SIGALRM), "all" (each of those in turn).
 * "spin" busy-loops for MS instead: the control for tests/compat/idle.sh,
 * which runs these under elfvm and checks the host CPU time they cost
 * (a waiting VM must halt, not spin). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long ms = 200;
static int bad;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long n)
{
	struct timespec ts = { n / 1000, n % 1000 * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done, pfd[2];

static void *signal_later(void *arg)
{
	(void)arg;
	sleep_ms(ms);
	pthread_mutex_lock(&m);
	done = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *write_later(void *arg)
{
	(void)arg;
	sleep_ms(ms);
	write(pfd[1], "x", 1);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void wait_one(const char *mode)
{
	long long t0 = now_ns();
	pthread_t t;

	if (strcmp(mode, "sleep") == 0) {
		sleep_ms(ms);
	} else if (strcmp(mode, "futex") == 0) {
		done = 0;
		pthread_create(&t, NULL, signal_later, NULL);
		pthread_mutex_lock(&m);
		while (!done)
			pthread_cond_wait(&cv, &m);
		pthread_mutex_unlock(&m);
		pthread_join(t, NULL);
	} else if (strcmp(mode, "pipe") == 0) {
		char c;
		pipe(pfd);
		pthread_create(&t, NULL, write_later, NULL);
		while (read(pfd[0], &c, 1) != 1)
			;
		pthread_join(t, NULL);
		close(pfd[0]);
		close(pfd[1]);
	} else if (strcmp(mode, "pause") == 0) {
		struct itimerval it = { { 0, 0 }, { ms / 1000, ms % 1000 * 1000 } };
		signal(SIGALRM, on_alarm);
		setitimer(ITIMER_REAL, &it, NULL);
		pause();
	} else if (strcmp(mode, "spin") == 0) {
		while (now_ns() - t0 < ms * 1000000LL)
			;
	} else {
		printf("FAIL: unknown mode %s\n", mode);
		exit(2);
	}
	long long took = now_ns() - t0;
	if (took < ms * 1000000LL) {
		printf("FAIL: %s: %lld ms, expected at least %ld\n", mode, took / 1000000, ms);
		bad = 1;
	} else {
		printf("ok %s waited\n", mode);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	if (argc > 2)
		ms = atol(argv[2]);
	if (strcmp(mode, "all") == 0) {
		wait_one("sleep");
		wait_one("futex");
		wait_one("pipe");
		wait_one("pause");
	} else {
		wait_one(mode);
	}
	return bad;
}
