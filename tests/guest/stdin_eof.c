// SPDX-License-Identifier: MIT
/* stdin_eof: all of the host's stdin arrives, then end-of-file.
 * Reads fd 0 with read() in varying chunk sizes until it returns 0, prints
 * the byte count and an FNV-1a checksum, then checks that end-of-file is
 * sticky (read returns 0 again).  An error from read() is reported and
 * fails the test. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned char buf[70000];

int main(void)
{
	static const size_t sizes[] = { 1, 7, 512, 4096, 4097, 65536, 70000 };
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned long long total = 0, lines = 0;
	unsigned calls = 0;

	for (;;) {
		size_t want = sizes[calls++ % (sizeof sizes / sizeof sizes[0])];
		ssize_t r = read(0, buf, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			printf("FAIL: read: %s after %llu bytes\n", strerror(errno), total);
			return 1;
		}
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			h = (h ^ buf[i]) * 0x100000001b3ull;
			lines += buf[i] == '\n';
		}
		total += r;
	}
	printf("bytes=%llu lines=%llu fnv1a64=%016llx\n", total, lines, (unsigned long long)h);
	for (int i = 0; i < 3; i++) {
		ssize_t r = read(0, buf, sizeof buf);
		if (r != 0) {
			printf("FAIL: read after end-of-file returned %zd\n", r);
			return 1;
		}
	}
	printf("ok end-of-file is sticky\n");
	return 0;
}
