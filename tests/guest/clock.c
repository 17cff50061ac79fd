// SPDX-License-Identifier: MIT
/* clock: time is sane.  CLOCK_MONOTONIC never goes backwards over many
 * reads and does advance; a 50 ms nanosleep takes between 50 and 500 ms by
 * CLOCK_MONOTONIC; CLOCK_REALTIME is after 2020; gettimeofday() and time()
 * agree with CLOCK_REALTIME within 2 s; clock_getres reports a resolution
 * no coarser than 10 ms.  Prints only "ok" lines, so that the output is the
 * same on the host and in the VM. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
	struct timespec a, b, r;
	int bad = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	long long first = ns(&a), prev = first, backwards = 0;
	for (int i = 0; i < 200000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (ns(&b) < prev)
			backwards++;
		if (b.tv_nsec < 0 || b.tv_nsec >= 1000000000L)
			backwards++;
		prev = ns(&b);
	}
	if (backwards || prev <= first) {
		printf("FAIL: CLOCK_MONOTONIC went backwards %lld times, advanced %lld ns\n", backwards,
		       prev - first);
		bad = 1;
	} else {
		printf("ok CLOCK_MONOTONIC never goes backwards and advances\n");
	}

	struct timespec req = { 0, 50 * 1000000L };
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc = nanosleep(&req, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long long slept = ns(&b) - ns(&a);
	if (rc != 0 || slept < 50000000LL || slept > 500000000LL) {
		printf("FAIL: nanosleep(50 ms) returned %d after %lld ns\n", rc, slept);
		bad = 1;
	} else {
		printf("ok nanosleep of 50 ms takes 50..500 ms\n");
	}

	clock_gettime(CLOCK_REALTIME, &a);
	if (a.tv_sec < 1577836800) { /* 2020-01-01T00:00:00Z */
		printf("FAIL: CLOCK_REALTIME is %lld s, before 2020\n", (long long)a.tv_sec);
		bad = 1;
	} else {
		printf("ok CLOCK_REALTIME is after 2020\n");
	}

	struct timeval tv;
	gettimeofday(&tv, NULL);
	time_t t = time(NULL);
	clock_gettime(CLOCK_REALTIME, &b);
	long long d1 = (long long)tv.tv_sec - b.tv_sec, d2 = (long long)t - b.tv_sec;
	if (d1 < -2 || d1 > 2 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
		printf("FAIL: gettimeofday is %lld s off CLOCK_REALTIME\n", d1);
		bad = 1;
	} else {
		printf("ok gettimeofday agrees with CLOCK_REALTIME\n");
	}
	if (d2 < -2 || d2 > 2) {
		printf("FAIL: time() is %lld s off CLOCK_REALTIME\n", d2);
		bad = 1;
	} else {
		printf("ok time() agrees with CLOCK_REALTIME\n");
	}

	if (clock_getres(CLOCK_MONOTONIC, &r) != 0 || ns(&r) <= 0 || ns(&r) > 10000000) {
		printf("FAIL: clock_getres(CLOCK_MONOTONIC) gave %lld ns\n", ns(&r));
		bad = 1;
	} else {
		printf("ok clock_getres(CLOCK_MONOTONIC) is between 1 ns and 10 ms\n");
	}
	return bad;
}
