// SPDX-License-Identifier: MIT
/* crash: a fatal fault or signal ends the program with status 128+N.
 * Usage: crash ill|fpe|abort — ud2 (SIGILL, 132), integer division by
 * zero (SIGFPE, 136), abort() (SIGABRT, 134).  What was printed before
 * reaches the host; in the VM the kernel logs a crash report naming the
 * signal (the harness checks it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "";
	volatile int zero = 0, seven = 7;

	printf("about to crash by %s\n", how);
	fflush(stdout);
	if (strcmp(how, "ill") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(how, "fpe") == 0)
		printf("%d\n", seven / zero);
	else if (strcmp(how, "abort") == 0)
		abort();
	else
		return 2;
	printf("FAIL: still alive\n");
	return 1;
}
