// SPDX-License-Identifier: MIT
/* pipe: a pipe inside one program carries bytes in order.  Writes and reads
 * across the buffer size (64 KiB, as Linux), a non-blocking read of an
 * empty pipe gives EAGAIN, poll() reports readiness, closing the write end
 * gives end-of-file, and writing with the read end closed gives EPIPE once
 * SIGPIPE is ignored. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	int p[2];
	static char out[60000], in[60000];
	for (size_t i = 0; i < sizeof out; i++)
		out[i] = (char)(i * 7 + i / 251);

	ok(pipe2(p, O_NONBLOCK) == 0, "pipe2(O_NONBLOCK)");
	char c;
	ok(read(p[0], &c, 1) == -1 && errno == EAGAIN, "empty non-blocking pipe -> EAGAIN");
	struct pollfd pf = { p[0], POLLIN, 0 };
	ok(poll(&pf, 1, 0) == 0, "poll sees an empty pipe as not readable");

	ok(write(p[1], out, sizeof out) == sizeof out, "write 60000 bytes");
	pf.revents = 0;
	ok(poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN), "poll sees data");
	size_t got = 0;
	while (got < sizeof in) {
		ssize_t r = read(p[0], in + got, 7000);
		if (r <= 0)
			break;
		got += r;
	}
	ok(got == sizeof in && memcmp(in, out, sizeof in) == 0, "read back the same bytes");
	close(p[1]);
	ok(read(p[0], &c, 1) == 0, "end-of-file once the write end is closed");
	close(p[0]);

	signal(SIGPIPE, SIG_IGN);
	ok(pipe(p) == 0, "pipe");
	close(p[0]);
	ok(write(p[1], "x", 1) == -1 && errno == EPIPE, "write with no reader -> EPIPE");
	close(p[1]);
	return bad;
}
