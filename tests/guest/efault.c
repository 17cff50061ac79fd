// SPDX-License-Identifier: MIT
/* efault: a bad pointer passed to a syscall returns -1 EFAULT, and the
 * program carries on.  Uses syscall(2) so that libc cannot check or
 * dereference the pointers first.  Bad pointers: address 1, NULL, an
 * address in the upper (kernel) half, a non-canonical address, and a
 * buffer that runs off the end of the address space.  The program runs in
 * ring 0 beside the kernel here, so a kernel-half pointer must be refused
 * too, not written through.  Reading needs data to be there: the harness
 * gives this program some stdin, and /dev/zero is read too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define KERNEL_PTR ((void *)0xffffffff80000000UL)
#define NONCANON ((void *)0x0000800000000000UL)
#define PAST_END ((void *)0x00007ffffffff000UL) /* last user page, unmapped */

int main(void)
{
	static char buf[64];

	fails(syscall(SYS_write, 1, (void *)1, 10), EFAULT, "write(1, 1, 10) -> EFAULT");
	fails(syscall(SYS_write, 1, NULL, 10), EFAULT, "write(1, NULL, 10) -> EFAULT");
	fails(syscall(SYS_write, 1, KERNEL_PTR, 10), EFAULT, "write(1, kernel address, 10) -> EFAULT");
	fails(syscall(SYS_write, 1, NONCANON, 10), EFAULT, "write(1, non-canonical, 10) -> EFAULT");
	fails(syscall(SYS_write, 1, PAST_END, 8192), EFAULT,
	      "write(1, top of user space, 8192) -> EFAULT");

	/* Reads: stdin holds data (the harness gives some), and so does /dev/zero. */
	fails(syscall(SYS_read, 0, (void *)1, 10), EFAULT, "read(0, 1, 10) -> EFAULT");
	fails(syscall(SYS_read, 0, KERNEL_PTR, 10), EFAULT, "read(0, kernel address, 10) -> EFAULT");
	int z = open("/dev/zero", O_RDONLY);
	if (z < 0) {
		printf("FAIL: open /dev/zero: %s\n", strerror(errno));
		bad = 1;
	} else {
		fails(syscall(SYS_read, z, (void *)1, 10), EFAULT, "read(/dev/zero, 1, 10) -> EFAULT");
		fails(syscall(SYS_read, z, KERNEL_PTR, 4096), EFAULT,
		      "read(/dev/zero, kernel address, 4096) -> EFAULT");
		fails(syscall(SYS_read, z, NONCANON, 10), EFAULT,
		      "read(/dev/zero, non-canonical, 10) -> EFAULT");
		close(z);
	}

	/* Path names. */
	fails(syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY), EFAULT, "openat(AT_FDCWD, NULL) -> EFAULT");
	fails(syscall(SYS_openat, AT_FDCWD, KERNEL_PTR, O_RDONLY), EFAULT,
	      "openat(AT_FDCWD, kernel address) -> EFAULT");
	fails(syscall(SYS_open, NULL, O_RDONLY), EFAULT, "open(NULL) -> EFAULT");
	fails(syscall(SYS_stat, NULL, buf), EFAULT, "stat(NULL, buf) -> EFAULT");
	fails(syscall(SYS_readlink, NULL, buf, sizeof buf), EFAULT, "readlink(NULL, buf, 64) -> EFAULT");

	/* Structures the kernel writes or reads. */
	fails(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT,
	      "clock_gettime(CLOCK_MONOTONIC, 1) -> EFAULT");
	fails(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, KERNEL_PTR), EFAULT,
	      "clock_gettime(CLOCK_MONOTONIC, kernel address) -> EFAULT");
	fails(syscall(SYS_uname, NULL), EFAULT, "uname(NULL) -> EFAULT");
	fails(syscall(SYS_fstat, 1, NULL), EFAULT, "fstat(1, NULL) -> EFAULT");
	fails(syscall(SYS_nanosleep, NULL, NULL), EFAULT, "nanosleep(NULL, NULL) -> EFAULT");
	struct iovec iov[1] = { { (void *)1, 10 } };
	fails(syscall(SYS_writev, 1, NULL, 1), EFAULT, "writev(1, NULL, 1) -> EFAULT");
	fails(syscall(SYS_writev, 1, iov, 1), EFAULT, "writev(1, {{1, 10}}, 1) -> EFAULT");
	fails(syscall(SYS_pipe, NULL), EFAULT, "pipe(NULL) -> EFAULT");

	/* The program is still alive and stdout still works. */
	printf("still running after %s\n", bad ? "failures" : "all EFAULTs");
	return bad;
}
