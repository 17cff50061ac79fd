// SPDX-License-Identifier: MIT
/* net_tcp_send: TCP sends over 127.0.0.1 as Linux gives them.  A send
 * from a bad pointer is EFAULT and sends nothing (a small good piece of
 * the same writev included), and the stream goes on intact; non-blocking sends to a peer that does
 * not read stop with EAGAIN, and not writable, and a small SO_SNDBUF stops
 * them sooner; MSG_MORE and TCP_CORK join pieces into one stream; bytes
 * still unacknowledged when the sender closes all reach the reader, then
 * end-of-file; SO_LINGER with a time makes close wait for the peer to
 * take them (until the time is up when it does not read, only as long as
 * it takes when it does), and SO_LINGER {1, 0} resets the connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

#define BAD ((void *)16)
#define BIG (4 << 20)
#define FILL_MAX (256 << 20) /* never reached: EAGAIN comes long before */

static int lsock;
static struct sockaddr_in laddr;

/* A connected pair over 127.0.0.1: *c connected to *s, which accepted. */
static void pair(int *c, int *s)
{
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, (void *)&laddr, sizeof(laddr)) != 0)
		perror("connect");
	*s = accept(lsock, NULL, NULL);
}

/* The byte at stream offset i: a pattern that shows a lost, doubled or
 * stale piece. */
static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 13));
}

static void fill(unsigned char *b, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pat(off + i);
}

/* Reads to end-of-file; checks the pattern.  Returns the bytes read, or
 * -1 at the first wrong byte or error. */
struct reader {
	int fd;
	int delay_ms; /* before reading */
	long got;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	static unsigned char buf[65536];
	size_t off = 0;

	if (r->delay_ms)
		usleep(r->delay_ms * 1000);
	for (;;) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			r->got = -1;
			return NULL;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != pat(off + i)) {
				r->got = -1;
				return NULL;
			}
		}
		off += n;
	}
	r->got = (long)off;
	return NULL;
}

/* Sends non-blocking until EAGAIN (at most FILL_MAX bytes); returns the
 * count. */
static long fill_until_eagain(int c, unsigned char *b)
{
	long total = 0;

	for (;;) {
		fill(b, total, 65536);
		ssize_t n = send(c, b, 65536, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? total : -1;
		total += n;
		if (total >= FILL_MAX)
			return total;
	}
}

int main(void)
{
	static unsigned char b[65536];
	int c, s, one = 1;
	ssize_t n;
	socklen_t len = sizeof(laddr);

	signal(SIGPIPE, SIG_IGN);
	lsock = socket(AF_INET, SOCK_STREAM, 0);
	laddr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(lsock, (void *)&laddr, sizeof(laddr));
	listen(lsock, 16);
	getsockname(lsock, (void *)&laddr, &len);

	/* A bad pointer: EFAULT, nothing of that call is sent (a small good
	 * piece before it included), and the stream goes on. */
	pair(&c, &s);
	fill(b, 0, 200);
	ok(send(c, b, 100, 0) == 100, "send 100");
	struct iovec iv[2] = { { b + 100, 50 }, { BAD, 100 } };
	fails(writev(c, iv, 2), EFAULT, "writev of a small piece and a bad pointer: EFAULT");
	fails(send(c, BAD, 100, 0), EFAULT, "send from a bad pointer: EFAULT");
	ok(send(c, b + 100, 100, 0) == 100, "send the next 100");
	shutdown(c, SHUT_WR);
	struct reader r = { s, 0, 0 };
	read_all(&r);
	ok_vals(r.got == 200, "the reader gets exactly the 200 good bytes, in order", r.got, 200);
	close(c);
	close(s);

	/* Back-pressure: EAGAIN when the peer does not read, not writable
	 * then; writable again once it reads; a small SO_SNDBUF stops sooner. */
	pair(&c, &s);
	long dflt = fill_until_eagain(c, b);
	ok(dflt > 0 && dflt < FILL_MAX, "non-blocking sends to a peer that does not read end in EAGAIN");
	struct pollfd p = { c, POLLOUT, 0 };
	ok(poll(&p, 1, 0) == 0, "and the socket is not writable");
	pthread_t th;
	r = (struct reader){ s, 0, 0 };
	pthread_create(&th, NULL, read_all, &r);
	p = (struct pollfd){ c, POLLOUT, 0 };
	ok(poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT), "writable again once the peer reads");
	shutdown(c, SHUT_WR);
	pthread_join(th, NULL);
	ok_vals(r.got == dflt, "the reader gets every byte sent", r.got, dflt);
	close(c);
	close(s);

	int small = 8192;
	c = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	connect(c, (void *)&laddr, sizeof(laddr));
	s = accept(lsock, NULL, NULL);
	long lim = fill_until_eagain(c, b);
	okf(lim > 0 && lim < dflt, "with SO_SNDBUF 8192 EAGAIN comes sooner", "%ld, default %ld", lim,
	    dflt);
	shutdown(c, SHUT_WR);
	r = (struct reader){ s, 0, 0 };
	read_all(&r);
	ok_vals(r.got == lim, "and the reader gets every byte sent", r.got, lim);
	close(c);
	close(s);

	/* MSG_MORE and TCP_CORK only hold pieces back. */
	pair(&c, &s);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fill(b, 0, 300);
	ok(send(c, b, 100, MSG_MORE) == 100, "send with MSG_MORE");
	setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	ok(send(c, b + 100, 100, 0) == 100, "send while corked");
	int zero = 0;
	setsockopt(c, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	ok(send(c, b + 200, 100, 0) == 100, "send after uncorking");
	shutdown(c, SHUT_WR);
	r = (struct reader){ s, 0, 0 };
	read_all(&r);
	ok_vals(r.got == 300, "the reader gets the 300 bytes in order", r.got, 300);
	close(c);
	close(s);

	/* Close with bytes unacknowledged: they all arrive, then EOF. */
	pair(&c, &s);
	r = (struct reader){ s, 200, 0 };
	pthread_create(&th, NULL, read_all, &r);
	long sent = 0;
	while (sent < BIG) {
		fill(b, sent, sizeof(b));
		n = send(c, b, sizeof(b), 0);
		if (n <= 0)
			break;
		sent += n;
	}
	ok_vals(sent == BIG, "4 MiB sent to a slow reader", sent, BIG);
	close(c);
	pthread_join(th, NULL);
	ok_vals(r.got == BIG, "closed at once: the reader still gets all of it, then EOF", r.got, BIG);
	close(s);

	/* SO_LINGER {1, 1} with a peer that does not read: close waits the
	 * second out; the bytes still arrive afterwards. */
	pair(&c, &s);
	long queued = fill_until_eagain(c, b);
	struct linger lg = { 1, 1 };
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	double t0 = now();
	ok(close(c) == 0, "close with SO_LINGER {1, 1} and a peer that does not read");
	double dt = now() - t0;
	okf(dt >= 0.9 && dt < 3, "it waits the linger time out", "%.3f s", dt);
	r = (struct reader){ s, 0, 0 };
	read_all(&r);
	ok_vals(r.got == queued, "and the peer still gets every byte, then EOF", r.got, queued);
	close(s);

	/* SO_LINGER {1, 10} with a peer that reads: close returns once the
	 * peer took everything, well before the time. */
	pair(&c, &s);
	r = (struct reader){ s, 1000, 0 };
	pthread_create(&th, NULL, read_all, &r);
	queued = fill_until_eagain(c, b);
	lg = (struct linger){ 1, 10 };
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	t0 = now();
	ok(close(c) == 0, "close with SO_LINGER {1, 10} and a peer that reads");
	dt = now() - t0;
	okf(dt >= 0.3 && dt < 5, "it waits until the peer has the bytes, not the whole time", "%.3f s",
	    dt);
	pthread_join(th, NULL);
	ok_vals(r.got == queued, "the peer gets every byte, then EOF", r.got, queued);
	close(s);

	/* SO_LINGER {1, 0}: a reset, and the peer sees it. */
	pair(&c, &s);
	ok(send(c, "x", 1, 0) == 1, "send a byte");
	lg = (struct linger){ 1, 0 };
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	t0 = now();
	close(c);
	okf(now() - t0 < 0.5, "close with SO_LINGER {1, 0} does not wait", "%.3f s", now() - t0);
	p = (struct pollfd){ s, POLLIN, 0 };
	poll(&p, 1, 5000);
	char ch;
	recv(s, &ch, 1, 0);
	n = recv(s, &ch, 1, 0);
	okf(n == -1 && errno == ECONNRESET, "the peer gets ECONNRESET", "%zd", n);
	close(s);
	close(lsock);
	return bad;
}
