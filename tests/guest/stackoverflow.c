// SPDX-License-Identifier: MIT
/* stackoverflow: unbounded recursion ends in SIGSEGV (status 139), quickly.
 * Each frame holds 64 KiB, so the default 8 MiB stack is gone after about
 * 128 calls; the stack's guard must stop it (not a hang, not memory
 * corruption, not a kernel panic).  The recursion cannot be turned into a
 * loop because every frame is used after the call returns. */
#include <stdio.h>

static volatile long stop_at = -1; /* never reached */

static long recurse(long depth)
{
	volatile char frame[65536];
	frame[0] = (char)depth;
	frame[sizeof frame - 1] = (char)depth;
	if (depth == stop_at)
		return 0;
	return recurse(depth + 1) + frame[depth % sizeof frame] + frame[0];
}

int main(void)
{
	printf("recursing with 64 KiB frames\n");
	fflush(stdout);
	long r = recurse(0);
	printf("FAIL: recursion returned %ld\n", r);
	return 1;
}
