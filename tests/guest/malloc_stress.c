// SPDX-License-Identifier: MIT
/* malloc_stress: the heap works — brk, small and large (mmap) blocks,
 * realloc, calloc — and memory keeps what was written to it.
 * First moves the program break with raw brk syscalls (musl's sbrk refuses
 * to), touches and checks every page, shrinks and regrows it (regrown pages
 * must read as zero), and puts it back before malloc runs again.  Then
 * ten thousand random malloc/realloc/free, blocks of 1..8 MiB that take
 * the mmap path, realloc doubling to 32 MiB, and calloc of dirty memory.
 * Every block is filled with a pattern and checked before it is freed.
 * Peak use stays under about 64 MiB. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t seed = 1;
static uint32_t rnd(void)
{
	seed = seed * 1664525u + 1013904223u;
	return seed >> 4;
}

static unsigned char pat(uintptr_t tag, size_t i)
{
	return (unsigned char)(tag * 131 + i * 7 + (i >> 12));
}

/* Blocks of 64 KiB and more get one byte in every 64 (every cache line,
 * so every page) plus their last byte: full coverage would make the test
 * take minutes under an emulator without proving more. */
static size_t stride(size_t n)
{
	return n >= 65536 ? 64 : 1;
}

static void fill(unsigned char *p, size_t n, uintptr_t tag)
{
	for (size_t i = 0; i < n; i += stride(n))
		p[i] = pat(tag, i);
	if (n)
		p[n - 1] = pat(tag, n - 1);
}

static int check(const unsigned char *p, size_t n, uintptr_t tag)
{
	for (size_t i = 0; i < n; i += stride(n))
		if (p[i] != pat(tag, i))
			return 0;
	return !n || p[n - 1] == pat(tag, n - 1);
}

static int failed;
#define FAIL(...) \
	do { \
		printf("FAIL: " __VA_ARGS__); \
		printf("\n"); \
		failed = 1; \
	} while (0)

static const char *brk_test(void)
{
	/* No stdio or malloc in here: the break belongs to malloc too. */
	const long mib = 1 << 20;
	char *b0 = (char *)syscall(SYS_brk, 0);
	if ((char *)syscall(SYS_brk, b0 + 16 * mib) != b0 + 16 * mib)
		return "brk could not grow by 16 MiB";
	for (long i = 0; i < 16 * mib; i += 4096)
		if (b0[i] != 0)
			return "fresh brk memory is not zero";
	for (long i = 0; i < 16 * mib; i += 512)
		b0[i] = (char)(i >> 9);
	for (long i = 0; i < 16 * mib; i += 512)
		if (b0[i] != (char)(i >> 9))
			return "brk memory lost what was written";
	if ((char *)syscall(SYS_brk, b0 + 4 * mib) != b0 + 4 * mib)
		return "brk could not shrink";
	if ((char *)syscall(SYS_brk, b0 + 16 * mib) != b0 + 16 * mib)
		return "brk could not grow again";
	for (long i = 0; i < 4 * mib; i += 512)
		if (b0[i] != (char)(i >> 9))
			return "brk shrink lost memory below the new break";
	for (long i = 4 * mib + 4096; i < 16 * mib; i += 4096)
		if (b0[i] != 0)
			return "regrown brk memory is not zero";
	/* A request below the initial break is refused: the break stays. */
	if ((char *)syscall(SYS_brk, 4096) != b0 + 16 * mib)
		return "brk(4096) moved the break";
	if ((char *)syscall(SYS_brk, b0) != b0)
		return "brk could not return to its start";
	return NULL;
}

#define SLOTS 1000
static unsigned char *slot[SLOTS];
static size_t slot_len[SLOTS];
static uintptr_t slot_tag[SLOTS];

static void small_blocks(void)
{
	for (int round = 0; round < 10000 && !failed; round++) {
		int s = rnd() % SLOTS;
		size_t n = rnd() % 8 == 0 ? rnd() % 16384 : rnd() % 512;
		if (slot[s]) {
			if (!check(slot[s], slot_len[s], slot_tag[s]))
				FAIL("small block %d (%zu bytes) corrupted", s, slot_len[s]);
			if (rnd() % 2) {
				unsigned char *q = realloc(slot[s], n + 1);
				if (!q) {
					FAIL("realloc to %zu failed", n + 1);
					return;
				}
				size_t keep = slot_len[s] < n + 1 ? slot_len[s] : n + 1;
				if (!check(q, keep, slot_tag[s]))
					FAIL("realloc lost contents");
				slot[s] = q;
			} else {
				free(slot[s]);
				slot[s] = malloc(n + 1);
			}
		} else {
			slot[s] = malloc(n + 1);
		}
		if (!slot[s]) {
			FAIL("malloc(%zu) failed", n + 1);
			return;
		}
		slot_len[s] = n + 1;
		slot_tag[s] = round;
		fill(slot[s], n + 1, round);
	}
	for (int s = 0; s < SLOTS; s++) {
		if (slot[s] && !check(slot[s], slot_len[s], slot_tag[s]))
			FAIL("small block %d corrupted at the end", s);
		free(slot[s]);
		slot[s] = NULL;
	}
}

static void large_blocks(void)
{
	enum { LIVE = 5 };
	unsigned char *p[LIVE] = { 0 };
	size_t len[LIVE] = { 0 };
	for (int round = 0; round < 16 && !failed; round++) {
		int s = round % LIVE;
		if (p[s]) {
			if (!check(p[s], len[s], s + round))
				FAIL("large block of %zu bytes corrupted", len[s]);
			free(p[s]);
		}
		len[s] = (1 << 20) + (rnd() % (7 << 20)); /* 1..8 MiB */
		p[s] = malloc(len[s]);
		if (!p[s]) {
			FAIL("malloc(%zu) failed", len[s]);
			return;
		}
		fill(p[s], len[s], s + round + LIVE);
		/* tag must match what the next visit checks */
		if (!check(p[s], len[s], s + round + LIVE))
			FAIL("large block does not read back");
		fill(p[s], len[s], s + round + LIVE);
	}
	for (int s = 0; s < LIVE; s++)
		free(p[s]);
}

static void realloc_growth(void)
{
	size_t n = 16;
	unsigned char *p = malloc(n);
	fill(p, n, 99);
	while (n < (32u << 20) && !failed) {
		size_t m = n * 2;
		unsigned char *q = realloc(p, m);
		if (!q) {
			FAIL("realloc from %zu to %zu failed", n, m);
			free(p);
			return;
		}
		if (!check(q, n, 99))
			FAIL("realloc from %zu to %zu lost contents", n, m);
		fill(q, m, 99);
		p = q;
		n = m;
	}
	/* and shrink again */
	while (n > 16 && !failed) {
		n /= 4;
		p = realloc(p, n);
		if (!p || !check(p, n, 99))
			FAIL("shrinking realloc to %zu lost contents", n);
	}
	free(p);
}

static void calloc_zeroes(void)
{
	for (int i = 0; i < 8 && !failed; i++) {
		size_t n = (i & 1) ? 3 << 20 : 1000 + i * 5000;
		unsigned char *p = malloc(n);
		memset(p, 0xa5, n);
		free(p);
		unsigned char *q = calloc(n, 1);
		if (!q) {
			FAIL("calloc(%zu) failed", n);
			return;
		}
		static const unsigned char zero[4096];
		for (size_t k = 0; k < n; k += sizeof zero) {
			size_t m = n - k < sizeof zero ? n - k : sizeof zero;
			if (memcmp(q + k, zero, m) != 0) {
				FAIL("calloc(%zu) is not zero near byte %zu", n, k);
				break;
			}
		}
		free(q);
	}
	volatile size_t huge = (size_t)1 << 62;
	if (calloc(huge, 16) != NULL)
		FAIL("calloc overflow was not refused");
	if (malloc(huge) != NULL)
		FAIL("malloc(2^62) did not fail");
}

int main(void)
{
	const char *why = brk_test();
	if (why)
		FAIL("%s", why);
	else
		printf("ok brk grows, shrinks, regrows zeroed\n");
	small_blocks();
	if (!failed)
		printf("ok 10000 small malloc/realloc/free\n");
	large_blocks();
	if (!failed)
		printf("ok large blocks of 1..8 MiB\n");
	realloc_growth();
	if (!failed)
		printf("ok realloc growth to 32 MiB and back\n");
	calloc_zeroes();
	if (!failed)
		printf("ok calloc zeroes reused memory\n");
	return failed;
}
