// SPDX-License-Identifier: MIT
/* nullderef: touching page 0 kills the program with SIGSEGV (status 139),
 * after what it printed so far has reached the host.
 * Usage: nullderef read|write|exec — load from NULL, store to NULL, or call
 * a NULL function pointer.  Page 0 is never mapped.  In the VM the kernel
 * also logs a crash report naming SIGSEGV (the harness checks it). */
#include <stdio.h>
#include <string.h>

typedef void (*fn)(void);

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "read";
	volatile int *volatile p = NULL;
	volatile fn f = NULL;

	printf("about to %s address 0\n", how);
	fflush(stdout);
	if (strcmp(how, "read") == 0)
		printf("read %d: FAIL, should have died\n", *p);
	else if (strcmp(how, "write") == 0)
		*p = 42;
	else if (strcmp(how, "exec") == 0)
		f();
	else
		return 2;
	printf("FAIL: still alive after touching NULL\n");
	return 1;
}
