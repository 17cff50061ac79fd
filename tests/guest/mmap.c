// SPDX-License-Identifier: MIT
/* mmap: anonymous mappings behave as on Linux.
 * A PROT_NONE reservation of 1 GiB (and one of 64 GiB, as glibc and
 * jemalloc make) succeeds without costing memory; mprotect to read-write
 * makes its pages usable and zero-filled; MAP_FIXED into a hole left by
 * munmap and over live pages gives fresh zero pages; mremap grows a
 * mapping keeping its contents (and shrinks it); MAP_SHARED anonymous
 * memory works; MAP_FIXED_NOREPLACE refuses an occupied range with EEXIST;
 * bad arguments give EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define MIB (1UL << 20)

static int all_zero(const unsigned char *p, size_t n, size_t step)
{
	for (size_t i = 0; i < n; i += step)
		if (p[i])
			return 0;
	return 1;
}

static void fill(unsigned char *p, size_t n, size_t step, unsigned tag)
{
	for (size_t i = 0; i < n; i += step)
		p[i] = (unsigned char)(i / step * 31 + tag);
}

static int check(const unsigned char *p, size_t n, size_t step, unsigned tag)
{
	for (size_t i = 0; i < n; i += step)
		if (p[i] != (unsigned char)(i / step * 31 + tag))
			return 0;
	return 1;
}

int main(void)
{
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

	unsigned char *huge = mmap(NULL, 64UL << 30, PROT_NONE, anon, -1, 0);
	ok(huge != MAP_FAILED, "PROT_NONE reservation of 64 GiB");
	if (huge != MAP_FAILED)
		ok(munmap(huge, 64UL << 30) == 0, "munmap of the 64 GiB reservation");

	unsigned char *r = mmap(NULL, 1UL << 30, PROT_NONE, anon, -1, 0);
	ok(r != MAP_FAILED, "PROT_NONE reservation of 1 GiB");
	if (r == MAP_FAILED)
		return 1;
	ok(((uintptr_t)r & (pg - 1)) == 0, "mmap returns a page-aligned address");

	unsigned char *w = r + 256 * MIB;
	ok(mprotect(w, 16 * MIB, PROT_READ | PROT_WRITE) == 0, "mprotect 16 MiB of it read-write");
	ok(all_zero(w, 16 * MIB, pg), "the pages read as zero on first touch");
	fill(w, 16 * MIB, 64, 1);
	ok(check(w, 16 * MIB, 64, 1), "16 MiB written and read back");

	ok(munmap(w + 4 * MIB, MIB) == 0, "munmap 1 MiB in the middle");
	unsigned char *h = mmap(w + 4 * MIB, MIB, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0);
	ok(h == w + 4 * MIB && all_zero(h, MIB, pg), "MAP_FIXED into the hole gives zero pages");
	ok(check(w, 4 * MIB, 64, 1) && check(w + 5 * MIB, 11 * MIB, 64, 1 + (5 * MIB / 64) * 31),
	   "the pages around the hole kept their contents");
	h = mmap(w + 8 * MIB, MIB, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0);
	ok(h == w + 8 * MIB && all_zero(h, MIB, 64), "MAP_FIXED over live pages replaces them");

	errno = 0;
	void *n = mmap(w, pg, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0);
	ok(n == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE on a used range -> EEXIST");
	ok(munmap(r, 1UL << 30) == 0, "munmap of the whole 1 GiB");

	unsigned char *g = mmap(NULL, MIB, PROT_READ | PROT_WRITE, anon, -1, 0);
	fill(g, MIB, 1, 7);
	unsigned char *g2 = mremap(g, MIB, 8 * MIB, MREMAP_MAYMOVE);
	ok(g2 != MAP_FAILED && check(g2, MIB, 1, 7) && all_zero(g2 + MIB, 7 * MIB, 64),
	   "mremap grows 1 MiB to 8 MiB keeping contents");
	if (g2 != MAP_FAILED) {
		fill(g2, 8 * MIB, 64, 9);
		unsigned char *g3 = mremap(g2, 8 * MIB, 2 * MIB, 0);
		ok(g3 == g2 && check(g3, 2 * MIB, 64, 9), "mremap shrinks in place");
		munmap(g3, 2 * MIB);
	}

	unsigned char *s = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ok(s != MAP_FAILED && all_zero(s, 4 * pg, 1), "MAP_SHARED|MAP_ANONYMOUS is zeroed");
	if (s != MAP_FAILED) {
		fill(s, 4 * pg, 1, 3);
		ok(check(s, 4 * pg, 1, 3), "MAP_SHARED|MAP_ANONYMOUS holds data");
	}

	errno = 0;
	ok(mmap(NULL, 0, PROT_READ, anon, -1, 0) == MAP_FAILED && errno == EINVAL,
	   "mmap of length 0 -> EINVAL");
	errno = 0;
	ok(munmap((void *)(uintptr_t)(pg + 1), pg) == -1 && errno == EINVAL,
	   "munmap of an unaligned address -> EINVAL");
	errno = 0;
	/* raw syscall: musl's mprotect() rounds the address down itself */
	ok(syscall(SYS_mprotect, (uintptr_t)s + 1, pg, PROT_READ) == -1 && errno == EINVAL,
	   "mprotect of an unaligned address -> EINVAL");
	munmap(s, 4 * pg);
	return bad;
}
