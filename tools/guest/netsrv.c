// SPDX-License-Identifier: MIT
/*
 * The TCP server of `elfvm bench`'s network rows: it runs unchanged inside
 * elfvm and inside the Linux VM (and natively, as the host's reference),
 * and the host's client (tools/bench_net.c) reaches it through QEMU's
 * hostfwd.  It serves one connection at a time; each starts with a 16-byte
 * request (struct req) saying what to do:
 *
 *   'E' echo:    count times, read size bytes and write them back
 *   'S' send:    write count bytes, then close
 *   'R' receive: read count bytes, then write the total as 8 bytes
 *   'Q' quit:    print "@@bench done" and exit 0
 *
 * It prints "@@bench listening" once it accepts, and "@@bench error WHAT:
 * REASON" on stdout (the only channel both VMs give the host) when it
 * cannot.  It never runs longer than SECONDS (alarm).  Usage: netsrv PORT
 * SECONDS [ADDR]: it listens on ADDR (default 0.0.0.0; the host's
 * reference run gives 127.0.0.1).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct req {
	char op, pad[3];
	uint32_t size;  /* echo: bytes per round trip */
	uint64_t count; /* echo: round trips; send, receive: bytes */
};

#define BUF (64 * 1024)
static char buf[BUF];

static void say(const char *fmt, const char *a, const char *b)
{
	char line[256];
	int n = snprintf(line, sizeof(line), fmt, a, b);

	if (n > 0 && write(1, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		exit(3);
}

static void die(const char *what)
{
	say("@@bench error %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Reads exactly n bytes.  Returns 0, or -1 at end of file or error. */
static int read_full(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p = (char *)p + r, n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p = (const char *)p + r, n -= (size_t)r;
	}
	return 0;
}

/* One connection.  Returns 1 after 'Q', else 0 (a client that goes away
 * early only ends its own connection). */
static int serve(int c)
{
	struct req q;
	uint64_t n;

	if (read_full(c, &q, sizeof(q)) < 0)
		return 0;
	switch (q.op) {
	case 'E':
		if (!q.size || q.size > BUF)
			return 0;
		for (n = 0; n < q.count; n++)
			if (read_full(c, buf, q.size) < 0 || write_full(c, buf, q.size) < 0)
				break;
		return 0;
	case 'S':
		for (n = q.count; n;) {
			size_t k = n < BUF ? (size_t)n : BUF;
			if (write_full(c, buf, k) < 0)
				break;
			n -= k;
		}
		return 0;
	case 'R':
		for (n = 0; n < q.count;) {
			ssize_t r = read(c, buf, q.count - n < BUF ? (size_t)(q.count - n) : BUF);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			n += (uint64_t)r;
		}
		write_full(c, &n, sizeof(n));
		return 0;
	case 'Q': return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	int port = argc > 1 ? atoi(argv[1]) : 0, secs = argc > 2 ? atoi(argv[2]) : 0, one = 1, s;

	if (argc < 3 || argc > 4 || port < 1 || port > 65535 || secs < 1 ||
	    (argc == 4 && inet_pton(AF_INET, argv[3], &a.sin_addr) != 1)) {
		say("@@bench error usage: %s%s\n", "netsrv PORT SECONDS [ADDR]", "");
		return 2;
	}
	alarm((unsigned)secs); /* the default action ends the program */
	memset(buf, 'x', sizeof(buf));
	a.sin_port = htons((uint16_t)port);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket(AF_INET, SOCK_STREAM)");
	/* Only the host's run can meet a port in TIME_WAIT: not worth failing
	 * a guest whose stack lacks the option. */
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	if (listen(s, 64) < 0)
		die("listen");
	say("@@bench listening%s%s\n", "", "");
	for (;;) {
		int c = accept(s, NULL, NULL), quit;

		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0)
			die("accept");
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		quit = serve(c);
		close(c);
		if (quit)
			break;
	}
	say("@@bench done%s%s\n", "", "");
	return 0;
}
