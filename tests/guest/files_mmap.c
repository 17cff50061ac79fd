// SPDX-License-Identifier: MIT
/* files_mmap: mmap of files behaves as on Linux.  Whole files and page
 * offsets, the tail of the last page reading as zeros; MAP_PRIVATE writes
 * stay private (the file and other mappings are unchanged) while pages not
 * yet written follow write(); MAP_SHARED writes are seen by read() and by
 * other mappings, and write() is seen through the mapping; msync; partial
 * munmap leaves the rest mapped and the hole free (MAP_FIXED_NOREPLACE
 * takes it); a mapping outlives close and unlink; ftruncate growth is seen
 * through a shared mapping; errors EINVAL (offset, length, munmap), EACCES
 * (write-only fd, shared writable on a read-only fd), EBADF, ENODEV (a
 * directory).  Nothing is accessed past the end of a file (no SIGBUS: signal
 * delivery is a later issue).  Works in a fresh /tmp/elfvm-t-files_mmap.PID,
 * removed at the end; prints only "ok" lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PG 4096
#define FSIZE (3 * PG + 100)
static unsigned char pat[FSIZE];

static int make_file(const char *path)
{
	for (size_t i = 0; i < FSIZE; i++)
		pat[i] = (unsigned char)(i * 29 + i / PG + 1);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, pat, FSIZE) != FSIZE)
		return -1;
	return fd;
}

static int file_is(int fd, off_t off, const void *want, size_t n)
{
	static unsigned char buf[FSIZE + PG];
	return pread(fd, buf, n, off) == (ssize_t)n && !memcmp(buf, want, n);
}

static int zeros(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_read_mappings(void)
{
	int fd = make_file("m");
	unsigned char *p = mmap(NULL, FSIZE, PROT_READ, MAP_SHARED, fd, 0);
	ok(p != MAP_FAILED, "mmap a 3-page-and-100-byte file read-only, shared");
	ok(p != MAP_FAILED && !memcmp(p, pat, FSIZE), "the mapping shows the file's bytes");
	ok(p != MAP_FAILED && zeros(p + FSIZE, 4 * PG - FSIZE),
	   "the rest of the last page reads as zeros");
	munmap(p, FSIZE);
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, PG);
	ok(p != MAP_FAILED && !memcmp(p, pat + PG, 2 * PG), "mmap at offset one page, two pages long");
	munmap(p, 2 * PG);
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 3 * PG);
	ok(p != MAP_FAILED && !memcmp(p, pat + 3 * PG, 100) && zeros(p + 100, PG - 100),
	   "mmap of the last, partial page");
	munmap(p, PG);
	p = mmap(NULL, 8 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ok(p != MAP_FAILED && !memcmp(p, pat, FSIZE),
	   "a mapping longer than the file succeeds (only its pages are touched)");
	munmap(p, 8 * PG);

	fails((long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL,
	      "mmap at an offset that is not page aligned -> EINVAL");
	fails((long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL, "mmap of length 0 -> EINVAL");
	fails((long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 9999, 0), EBADF,
	      "mmap of a closed fd -> EBADF");
	fails((long)mmap(NULL, PG, PROT_READ, 0, fd, 0), EINVAL,
	      "mmap with neither MAP_PRIVATE nor MAP_SHARED -> EINVAL");
	int wo = open("m", O_WRONLY);
	fails((long)mmap(NULL, PG, PROT_READ, MAP_SHARED, wo, 0), EACCES,
	      "mmap of a write-only fd -> EACCES");
	close(wo);
	int ro = open("m", O_RDONLY);
	fails((long)mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES,
	      "a shared writable mapping of a read-only fd -> EACCES");
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	ok(p != MAP_FAILED, "a private writable mapping of a read-only fd is allowed");
	if (p != MAP_FAILED) {
		p[0] ^= 0xff;
		ok(file_is(fd, 0, pat, 1), "writing to it leaves the file alone");
		munmap(p, PG);
	}
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
	ok(p != MAP_FAILED && mprotect(p, PG, PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
	   "mprotect to writable of a shared mapping of a read-only fd -> EACCES");
	munmap(p, PG);
	close(ro);
	mkdir("dir", 0755);
	int dfd = open("dir", O_RDONLY | O_DIRECTORY);
	fails((long)mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dfd, 0), ENODEV,
	      "mmap of a directory -> ENODEV");
	close(dfd);
	rmdir("dir");
	close(fd);
}

static void test_private(void)
{
	int fd = make_file("p");
	unsigned char *a = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	unsigned char *b = mmap(NULL, FSIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	ok(a != MAP_FAILED && b != MAP_FAILED, "two private mappings of one file");
	if (a == MAP_FAILED || b == MAP_FAILED)
		return;
	memset(a + PG - 10, 'P', 20);
	ok(a[PG - 11] == pat[PG - 11] && a[PG - 10] == 'P' && a[PG + 9] == 'P' &&
		   a[PG + 10] == pat[PG + 10],
	   "a private write across a page boundary shows in that mapping");
	ok(file_is(fd, 0, pat, FSIZE), "the file is unchanged (copy on write)");
	ok(!memcmp(b, pat, FSIZE), "the other private mapping is unchanged");
	ok(pwrite(fd, "WRITE", 5, 2 * PG + 1) == 5, "pwrite into the third page");
	ok(!memcmp(a + 2 * PG + 1, "WRITE", 5) && !memcmp(b + 2 * PG + 1, "WRITE", 5),
	   "pages not written privately follow the file (as Linux)");
	ok(pwrite(fd, "again", 5, PG) == 5 && a[PG] == 'P' && !memcmp(b + PG, "again", 5),
	   "a privately written page keeps its copy; the other mapping sees the file");
	ok(mprotect(b, PG, PROT_READ | PROT_WRITE) == 0,
	   "mprotect of a private read-only file mapping to writable");
	b[0] = 'B';
	ok(file_is(fd, 0, pat, 1) && a[0] == pat[0], "the write after mprotect is private too");
	munmap(a, FSIZE);
	munmap(b, FSIZE);
	close(fd);
}

static void test_shared(void)
{
	int fd = make_file("s");
	unsigned char *a = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned char *b = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, PG);
	ok(a != MAP_FAILED && b != MAP_FAILED, "two shared mappings, the second at offset one page");
	if (a == MAP_FAILED || b == MAP_FAILED)
		return;
	memcpy(a + PG - 3, "shared!", 7);
	ok(file_is(fd, PG - 3, "shared!", 7), "a shared write across a page boundary is seen by read()");
	ok(!memcmp(b, "red!", 4), "and by the other shared mapping");
	ok(pwrite(fd, "from write", 10, 2 * PG + 50) == 10 &&
		   !memcmp(a + 2 * PG + 50, "from write", 10) && !memcmp(b + PG + 50, "from write", 10),
	   "write() is seen through both mappings");
	ok(msync(a, FSIZE, MS_SYNC) == 0 && msync(a, PG, MS_ASYNC) == 0 &&
		   msync(a, PG, MS_INVALIDATE) == 0,
	   "msync succeeds");
	fails(msync(a + 1, PG, MS_SYNC), EINVAL, "msync of an unaligned address -> EINVAL");
	fails(msync(a, PG, MS_SYNC | MS_ASYNC), EINVAL, "msync with MS_SYNC|MS_ASYNC -> EINVAL");
	a[3 * PG + 99] = 'E';
	ok(file_is(fd, 3 * PG + 99, "E", 1), "the last byte of the file written through the mapping");
	struct stat st;
	ok(fstat(fd, &st) == 0 && st.st_size == FSIZE,
	   "writing the zero tail's page does not change the size");

	ok(ftruncate(fd, 4 * PG) == 0, "ftruncate grows the file to 4 pages");
	unsigned char *c = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(c != MAP_FAILED && zeros(c + FSIZE, 4 * PG - FSIZE) && c[3 * PG + 99] == 'E',
	   "a new mapping sees the grown part as zeros");
	if (c != MAP_FAILED) {
		c[4 * PG - 1] = 'Z';
		ok(file_is(fd, 4 * PG - 1, "Z", 1), "writes to the grown part reach the file");
		munmap(c, 4 * PG);
	}
	munmap(b, 2 * PG);

	/* Partial munmap: unmap the middle page of a three-page mapping. */
	ok(munmap(a + PG, PG) == 0, "munmap the middle page of a 3-page shared mapping");
	ok(!memcmp(a, pat, PG - 3) && a[2 * PG] == pat[2 * PG] &&
		   !memcmp(a + 2 * PG + 50, "from write", 10),
	   "the first and last pages are still mapped and right");
	a[0] = 'F';
	a[2 * PG] = 'L';
	ok(file_is(fd, 0, "F", 1) && file_is(fd, 2 * PG, "L", 1),
	   "and writes through them still reach the file");
	fails(msync(a + PG, PG, MS_SYNC), ENOMEM, "msync of the unmapped hole -> ENOMEM");
	void *h = mmap(a + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ok(h == a + PG, "the hole is free: MAP_FIXED_NOREPLACE maps there");
	void *h2 = mmap(a, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ok(h2 == MAP_FAILED && errno == EEXIST,
	   "MAP_FIXED_NOREPLACE on the still-mapped first page -> EEXIST");
	fails(munmap(a + 1, PG), EINVAL, "munmap of an unaligned address -> EINVAL");
	ok(munmap(a, 4 * PG) == 0, "munmap of the whole range, hole included");

	/* A mapping outlives its fd and its name. */
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int fd2 = open("s", O_RDONLY);
	ok(a != MAP_FAILED && close(fd) == 0 && unlink("s") == 0,
	   "map, then close the fd and unlink the file");
	if (a != MAP_FAILED) {
		a[1] = 'x';
		ok(a[0] == 'F' && file_is(fd2, 0, "Fx", 2),
		   "the mapping still works and reaches the file through another fd");
		munmap(a, PG);
	}
	close(fd2);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter_workdir("files_mmap");
	test_read_mappings();
	test_private();
	test_shared();
	unlink("m");
	unlink("p");
	leave_workdir();
	return bad;
}
