// SPDX-License-Identifier: MIT
/* stdfds: fds 0, 1 and 2 are open and usable.  fstat succeeds on each;
 * isatty(1) is false (the harness never gives stdout a terminal, natively
 * or in the VM); fcntl(F_GETFL) shows fd 1 and 2 writable; write() to fd
 * 1 and 2 and writev() to fd 1 arrive in order.  The first fd a program
 * opens is 3. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	struct stat st;
	ok(fstat(0, &st) == 0, "fstat(0)");
	ok(fstat(1, &st) == 0, "fstat(1)");
	ok(fstat(2, &st) == 0, "fstat(2)");
	ok(!isatty(1), "isatty(1) is false");
	int f1 = fcntl(1, F_GETFL), f2 = fcntl(2, F_GETFL);
	ok(f1 >= 0 && (f1 & O_ACCMODE) != O_RDONLY, "fd 1 is open for writing");
	ok(f2 >= 0 && (f2 & O_ACCMODE) != O_RDONLY, "fd 2 is open for writing");
	ok(write(2, "to stderr\n", 10) == 10, "write to fd 2");
	struct iovec iov[3] = { { "writev ", 7 }, { "in three ", 9 }, { "pieces\n", 7 } };
	ok(writev(1, iov, 3) == 23, "writev of three pieces to fd 1");
	int fd = open("/dev/null", O_RDONLY);
	ok(fd == 3, "the first fd opened is 3");
	return bad;
}
