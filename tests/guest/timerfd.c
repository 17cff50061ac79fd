// SPDX-License-Identifier: MIT
/* timerfd: timers read as expiration counts, as on Linux.  A 20 ms periodic
 * timer counts the periods of ~300 ms (checked against the time that really
 * passed, with generous bounds); blocking reads wait for the next period; a
 * one-shot timer fires once; relative and absolute times on
 * CLOCK_MONOTONIC, CLOCK_REALTIME and CLOCK_BOOTTIME; an absolute time in
 * the past counts the periods it missed; settime returns the old value and
 * resets the count; gettime shows what is left; disarming works; and the
 * error paths (EINVAL, EBADF, EAGAIN) answer as Linux does.  Only "ok"
 * lines are printed: times go to stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void ms_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static struct itimerspec its(long value_ns, long interval_ns)
{
	struct itimerspec t = { { interval_ns / 1000000000, interval_ns % 1000000000 },
				{ value_ns / 1000000000, value_ns % 1000000000 } };
	return t;
}

static void periodic(void)
{
	uint64_t n;
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec v = its(20000000, 20000000);
	double t0 = now();
	ok(t >= 0 && timerfd_settime(t, 0, &v, NULL) == 0, "periodic 20 ms timer");
	ms_sleep(300);
	ok(read(t, &n, 8) == 8, "read its count");
	double periods = (now() - t0) / 0.020;
	fprintf(stderr, "%llu expirations in %.1f periods\n", (unsigned long long)n, periods);
	ok(n >= 10 && n <= periods + 1 && n >= periods - 3, "about one expiration per 20 ms");
	struct itimerspec cur;
	ok(timerfd_gettime(t, &cur) == 0 && cur.it_interval.tv_nsec == 20000000 &&
		   cur.it_interval.tv_sec == 0 && cur.it_value.tv_sec == 0 &&
		   cur.it_value.tv_nsec <= 20000000,
	   "gettime: the period, and less than a period left");
	t0 = now();
	uint64_t total = 0;
	int reads = 0;
	while (total < 5 && reads < 100) {
		if (read(t, &n, 8) != 8)
			break;
		total += n;
		reads++;
	}
	double dt = now() - t0;
	fprintf(stderr, "5 expirations in %d reads, %.3f s\n", reads, dt);
	ok(total >= 5 && dt > 0.060 && dt < 3.0, "blocking reads wait for each period");
	v = its(0, 0);
	struct itimerspec old;
	ok(timerfd_settime(t, 0, &v, &old) == 0 && old.it_interval.tv_nsec == 20000000,
	   "disarm; the old value has the period");
	ok(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
	   "disarmed: nothing left");
	struct pollfd pf = { t, POLLIN, 0 };
	ms_sleep(50);
	ok(poll(&pf, 1, 0) == 0, "a disarmed timer never becomes readable");
	close(t);
}

static void oneshot(void)
{
	uint64_t n;
	int t = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	ok(t >= 0 && (fcntl(t, F_GETFL) & O_NONBLOCK) && (fcntl(t, F_GETFD) & FD_CLOEXEC),
	   "CLOCK_BOOTTIME timer with TFD_NONBLOCK|TFD_CLOEXEC");
	ok(read(t, &n, 8) == -1 && errno == EAGAIN, "unarmed, non-blocking: EAGAIN");
	struct itimerspec v = its(50000000, 0), cur;
	timerfd_settime(t, 0, &v, NULL);
	ok(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
		   cur.it_value.tv_nsec <= 50000000 && cur.it_interval.tv_nsec == 0,
	   "gettime: up to 50 ms left, no period");
	struct pollfd pf = { t, POLLIN, 0 };
	ok(poll(&pf, 1, 0) == 0, "not readable before it fires");
	double t0 = now();
	ok(poll(&pf, 1, 5000) == 1 && pf.revents == POLLIN, "poll wakes when it fires");
	double dt = now() - t0;
	ok(dt > 0.040 && dt < 3.0, "after about 50 ms");
	ok(read(t, &n, 8) == 8 && n == 1, "one expiration");
	ok(read(t, &n, 8) == -1 && errno == EAGAIN, "then EAGAIN");
	ok(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
	   "a fired one-shot has nothing left");

	/* settime resets the count */
	v = its(10000000, 0);
	timerfd_settime(t, 0, &v, NULL);
	ms_sleep(40);
	v = its(5000000000L, 0);
	struct itimerspec old;
	ok(timerfd_settime(t, 0, &v, &old) == 0 && old.it_value.tv_sec == 0 && old.it_value.tv_nsec == 0,
	   "re-arming returns the old (expired) value");
	ok(read(t, &n, 8) == -1 && errno == EAGAIN, "and forgets the unread expiration");
	close(t);
}

static void absolute(void)
{
	uint64_t n;
	struct timespec ts;
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	long long target = ts.tv_sec * 1000000000LL + ts.tv_nsec + 30000000;
	struct itimerspec v = its(0, 0);
	v.it_value.tv_sec = target / 1000000000;
	v.it_value.tv_nsec = target % 1000000000;
	double t0 = now();
	ok(timerfd_settime(t, TFD_TIMER_ABSTIME, &v, NULL) == 0, "absolute CLOCK_MONOTONIC time");
	ok(read(t, &n, 8) == 8 && n == 1 && now() - t0 > 0.020, "fires at that time");
	close(t);

	t = timerfd_create(CLOCK_REALTIME, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	target = ts.tv_sec * 1000000000LL + ts.tv_nsec + 30000000;
	v.it_value.tv_sec = target / 1000000000;
	v.it_value.tv_nsec = target % 1000000000;
	t0 = now();
	ok(timerfd_settime(t, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &v, NULL) == 0,
	   "absolute CLOCK_REALTIME time");
	ok(read(t, &n, 8) == 8 && n == 1 && now() - t0 > 0.020, "fires at that time too");

	/* One second in the past with a 100 ms period: ~11 expirations at once. */
	clock_gettime(CLOCK_REALTIME, &ts);
	v = its(0, 100000000);
	v.it_value.tv_sec = ts.tv_sec - 1;
	v.it_value.tv_nsec = ts.tv_nsec;
	timerfd_settime(t, TFD_TIMER_ABSTIME, &v, NULL);
	ok(read(t, &n, 8) == 8 && n >= 10 && n <= 13, "a start in the past counts the missed periods");
	close(t);
}

static void errors(void)
{
	uint64_t n;
	int p[2];
	pipe(p);
	struct itimerspec v = its(1000000, 0), cur;
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	ok(timerfd_create(12345, 0) == -1 && errno == EINVAL, "unknown clock -> EINVAL");
	ok(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0) == -1 && errno == EINVAL,
	   "CPU-time clock -> EINVAL");
	ok(timerfd_create(CLOCK_MONOTONIC, 1) == -1 && errno == EINVAL, "unknown flag -> EINVAL");
	ok(timerfd_settime(t, 4, &v, NULL) == -1 && errno == EINVAL, "unknown settime flag -> EINVAL");
	v.it_value.tv_nsec = 1000000000;
	ok(timerfd_settime(t, 0, &v, NULL) == -1 && errno == EINVAL, "tv_nsec 1e9 -> EINVAL");
	v.it_value.tv_nsec = 0;
	v.it_interval.tv_sec = -1;
	ok(timerfd_settime(t, 0, &v, NULL) == -1 && errno == EINVAL, "negative period -> EINVAL");
	v = its(1000000, 0);
	ok(timerfd_settime(p[0], 0, &v, NULL) == -1 && errno == EINVAL, "settime on a pipe -> EINVAL");
	ok(timerfd_settime(999, 0, &v, NULL) == -1 && errno == EBADF, "settime on a bad fd -> EBADF");
	ok(timerfd_gettime(p[0], &cur) == -1 && errno == EINVAL, "gettime on a pipe -> EINVAL");
	ok(timerfd_settime(t, 0, NULL, NULL) == -1 && errno == EFAULT, "NULL value -> EFAULT");
	ok(read(t, &n, 4) == -1 && errno == EINVAL, "read of 4 bytes -> EINVAL");
	ok(write(t, &n, 8) == -1 && errno == EINVAL, "write -> EINVAL");
	close(t);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	periodic();
	oneshot();
	absolute();
	errors();
	return bad;
}
