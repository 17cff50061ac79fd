// SPDX-License-Identifier: MIT
/* exit_status: the program's exit status reaches the host unchanged.
 * Usage: exit_status N [return|exit|_exit|exit_group]
 * Leaves with status N through the chosen path (default: exit()):
 * returning from main, exit() (which must flush stdio), _exit() (no flush,
 * so it announces itself with write()), or a raw exit_group syscall.  The
 * host sees N & 255, as on Linux. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: exit_status N [return|exit|_exit|exit_group]\n");
		return 2;
	}
	int n = atoi(argv[1]);
	const char *how = argc > 2 ? argv[2] : "exit";
	char line[128];
	int len = snprintf(line, sizeof line, "leaving with %d by %s\n", n, how);

	if (strcmp(how, "return") == 0) {
		fputs(line, stdout);
		return n;
	}
	if (strcmp(how, "exit") == 0) {
		fputs(line, stdout); /* exit() must flush this */
		exit(n);
	}
	write(1, line, len);
	if (strcmp(how, "_exit") == 0)
		_exit(n);
	if (strcmp(how, "exit_group") == 0)
		syscall(SYS_exit_group, n);
	fprintf(stderr, "exit_status: unknown way '%s'\n", how);
	return 2;
}
