// SPDX-License-Identifier: MIT
/* bigout: 1 MiB of stdout and interleaved stderr arrive byte for byte.
 * Writes exactly 1048576 deterministic bytes to stdout through stdio lines,
 * one write() of every byte value 0..255 (so no \n -> \r\n or NUL
 * translation can hide), one 256 KiB write(), and fwrite()s of odd sizes;
 * stderr gets a line every 64 KiB and a final checksum line.  The harness
 * compares both streams with the native run. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TOTAL (1u << 20)

static size_t written;
static size_t next_mark = 65536;
static uint64_t fnv = 0xcbf29ce484222325ull;
static uint32_t lcg = 12345;

static uint32_t rnd(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return lcg >> 8;
}

static void account(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fnv = (fnv ^ p[i]) * 0x100000001b3ull;
	written += n;
	while (written >= next_mark) {
		fprintf(stderr, "stderr: passed %zu KiB of stdout\n", next_mark / 1024);
		next_mark += 65536;
	}
}

static int write_all(const unsigned char *p, size_t n)
{
	fflush(stdout); /* keep the order of stdio and raw writes */
	account(p, n);
	while (n) {
		ssize_t r = write(1, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

static unsigned char big[256 * 1024];

int main(void)
{
	/* Part 1: text lines through stdio, up to 256 KiB. */
	for (int line = 0; written < 256 * 1024 - 200; line++) {
		char buf[200];
		int len = snprintf(buf, sizeof buf, "line %06d:", line);
		int words = rnd() % 12;
		for (int w = 0; w < words; w++) {
			buf[len++] = ' ';
			for (int k = 1 + rnd() % 9; k > 0; k--)
				buf[len++] = 'a' + rnd() % 26;
		}
		buf[len++] = '\n';
		fwrite(buf, 1, len, stdout);
		account((unsigned char *)buf, len);
	}
	fprintf(stderr, "stderr: text part done\n");

	/* Part 2: every byte value, 64 times, in one write(). */
	static unsigned char all[256 * 64];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)i;
	if (write_all(all, sizeof all))
		return 1;

	/* Part 3: one 256 KiB write() of pseudo-random bytes. */
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = rnd();
	if (write_all(big, sizeof big))
		return 1;
	fprintf(stderr, "stderr: binary part done\n");

	/* Part 4: fwrite()s of odd sizes until exactly 1 MiB. */
	while (written < TOTAL) {
		size_t n = 1 + rnd() % 4099;
		if (n > TOTAL - written)
			n = TOTAL - written;
		unsigned char chunk[4100];
		for (size_t i = 0; i < n; i++)
			chunk[i] = "0123456789abcdef\n"[rnd() % 17];
		fwrite(chunk, 1, n, stdout);
		account(chunk, n);
	}
	if (fflush(stdout) != 0)
		return 1;
	fprintf(stderr, "stderr: stdout bytes=%zu fnv1a64=%016llx\n", written, (unsigned long long)fnv);
	return 0;
}
