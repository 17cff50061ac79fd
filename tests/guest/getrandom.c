// SPDX-License-Identifier: MIT
/* getrandom: random bytes are random.  Three getrandom() calls (blocking
 * and GRND_NONBLOCK) fill 32 bytes each, and all differ; a read of
 * /dev/urandom differs from them; the 16 AT_RANDOM bytes the loader puts
 * on the initial stack are not all zero.  The bytes are never printed. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	unsigned char a[32], b[32], c[32], u[32];
	static const unsigned char zero[32];

	ok(getrandom(a, sizeof a, 0) == sizeof a, "getrandom fills 32 bytes");
	ok(getrandom(b, sizeof b, GRND_NONBLOCK) == sizeof b, "getrandom(GRND_NONBLOCK) fills 32 bytes");
	ok(getrandom(c, sizeof c, 0) == sizeof c, "getrandom fills 32 bytes again");
	ok(memcmp(a, b, 32) && memcmp(b, c, 32) && memcmp(a, c, 32) && memcmp(a, zero, 32),
	   "each call gives different bytes");

	int fd = open("/dev/urandom", O_RDONLY);
	ok(fd >= 0 && read(fd, u, sizeof u) == sizeof u, "/dev/urandom reads 32 bytes");
	ok(memcmp(u, a, 32) && memcmp(u, zero, 32), "/dev/urandom gives other bytes");
	if (fd >= 0)
		close(fd);

	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	ok(r && memcmp(r, zero, 16) != 0, "AT_RANDOM points at 16 non-zero bytes");
	return bad;
}
