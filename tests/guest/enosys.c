// SPDX-License-Identifier: MIT
/* enosys: an unknown syscall returns -1 ENOSYS and the program continues.
 * Tries numbers past the end of the table (1000, 100000, 2^31-1) and -1
 * (which must not index the table backwards).  Numbers in the gap after
 * rseq (334) are avoided: Linux 6.11+ gives 335 and 336 to uprobes, and
 * 335 raises SIGILL when called outside a uretprobe. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static const long nrs[] = { 1000, 100000, 0x7fffffff, -1 };
	int bad = 0;

	for (unsigned i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
		errno = 0;
		long r = syscall(nrs[i], 1, 2, 3, 4, 5, 6);
		if (r == -1 && errno == ENOSYS) {
			printf("ok syscall(%ld) -> ENOSYS\n", nrs[i]);
		} else {
			printf("FAIL: syscall(%ld) returned %ld (%s), expected -1 ENOSYS\n", nrs[i], r,
			       strerror(errno));
			bad = 1;
		}
	}
	printf("still running after unknown syscalls\n");
	return bad;
}
