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

static int bad;

static void expect_efault(const char *what, long r)
{
	if (r == -1 && errno == EFAULT) {
		printf("ok %s -> EFAULT\n", what);
	} else {
		printf("FAIL: %s returned %ld (%s), expected -1 EFAULT\n", what, r,
		       r == -1 ? strerror(errno) : "no error");
		bad = 1;
	}
	errno = 0;
}

#define KERNEL_PTR ((void *)0xffffffff80000000UL)
#define NONCANON ((void *)0x0000800000000000UL)
#define PAST_END ((void *)0x00007ffffffff000UL) /* last user page, unmapped */

int main(void)
{
	static char buf[64];

	expect_efault("write(1, 1, 10)", syscall(SYS_write, 1, (void *)1, 10));
	expect_efault("write(1, NULL, 10)", syscall(SYS_write, 1, NULL, 10));
	expect_efault("write(1, kernel address, 10)", syscall(SYS_write, 1, KERNEL_PTR, 10));
	expect_efault("write(1, non-canonical, 10)", syscall(SYS_write, 1, NONCANON, 10));
	expect_efault("write(1, top of user space, 8192)", syscall(SYS_write, 1, PAST_END, 8192));

	/* Reads: stdin holds data (the harness gives some), and so does /dev/zero. */
	expect_efault("read(0, 1, 10)", syscall(SYS_read, 0, (void *)1, 10));
	expect_efault("read(0, kernel address, 10)", syscall(SYS_read, 0, KERNEL_PTR, 10));
	int z = open("/dev/zero", O_RDONLY);
	if (z < 0) {
		printf("FAIL: open /dev/zero: %s\n", strerror(errno));
		bad = 1;
	} else {
		expect_efault("read(/dev/zero, 1, 10)", syscall(SYS_read, z, (void *)1, 10));
		expect_efault("read(/dev/zero, kernel address, 4096)",
			      syscall(SYS_read, z, KERNEL_PTR, 4096));
		expect_efault("read(/dev/zero, non-canonical, 10)", syscall(SYS_read, z, NONCANON, 10));
		close(z);
	}

	/* Path names. */
	expect_efault("openat(AT_FDCWD, NULL)", syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY));
	expect_efault("openat(AT_FDCWD, kernel address)",
		      syscall(SYS_openat, AT_FDCWD, KERNEL_PTR, O_RDONLY));
	expect_efault("open(NULL)", syscall(SYS_open, NULL, O_RDONLY));
	expect_efault("stat(NULL, buf)", syscall(SYS_stat, NULL, buf));
	expect_efault("readlink(NULL, buf, 64)", syscall(SYS_readlink, NULL, buf, sizeof buf));

	/* Structures the kernel writes or reads. */
	expect_efault("clock_gettime(CLOCK_MONOTONIC, 1)",
		      syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1));
	expect_efault("clock_gettime(CLOCK_MONOTONIC, kernel address)",
		      syscall(SYS_clock_gettime, CLOCK_MONOTONIC, KERNEL_PTR));
	expect_efault("uname(NULL)", syscall(SYS_uname, NULL));
	expect_efault("fstat(1, NULL)", syscall(SYS_fstat, 1, NULL));
	expect_efault("nanosleep(NULL, NULL)", syscall(SYS_nanosleep, NULL, NULL));
	struct iovec iov[1] = { { (void *)1, 10 } };
	expect_efault("writev(1, NULL, 1)", syscall(SYS_writev, 1, NULL, 1));
	expect_efault("writev(1, {{1, 10}}, 1)", syscall(SYS_writev, 1, iov, 1));
	expect_efault("pipe(NULL)", syscall(SYS_pipe, NULL));

	/* The program is still alive and stdout still works. */
	printf("still running after %s\n", bad ? "failures" : "all EFAULTs");
	return bad;
}
