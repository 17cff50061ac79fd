// SPDX-License-Identifier: MIT
/* hello: the smallest program runs and its stdout arrives on the host.
 * Proves that a program can be loaded, started, print through stdio (which
 * buffers, since stdout is not a terminal here) and exit with status 0. */
#include <stdio.h>

int main(void)
{
	printf("hello, world\n");
	return 0;
}
