// SPDX-License-Identifier: MIT
/*
 * Syscall round trip on the trap path: times N getppid calls made with the
 * raw `syscall` instruction (no libc wrapper, no vDSO) using
 * CLOCK_MONOTONIC, and prints the cost per call twice: once for people and
 * once as "@@bench getppid_ns=X calls=N" for `elfvm bench`.  It also writes
 * "@@bench begin" just before the loop, so that the host can time the loop
 * with its own clock and catch a guest clock that runs wrong.  The fast
 * path (vDSO entry) is measured elsewhere.  Usage: getppid [N] (200000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long raw_getppid(void)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(110L) /* __NR_getppid */
			 : "rcx", "r11", "memory");
	return ret;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const char begin[] = "@@bench begin\n";
	long n = argc > 1 ? atol(argv[1]) : 200000;
	long sum = 0;

	if (n <= 0)
		n = 200000;
	for (long i = 0; i < 1000; i++) /* warm caches and the TB cache */
		sum += raw_getppid();
	if (write(1, begin, sizeof begin - 1) != sizeof begin - 1)
		return 1;
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		sum += raw_getppid();
	double ns = (now_ns() - t0) / n;
	printf("getppid: %.1f ns per call (%ld calls, ppid %ld)\n", ns, n, raw_getppid());
	printf("@@bench getppid_ns=%.1f calls=%ld\n", ns, n);
	return sum < 0; /* keeps the loop; getppid never fails */
}
