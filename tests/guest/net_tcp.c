// SPDX-License-Identifier: MIT
/* net_tcp: TCP over loopback as on Linux, IPv4 and IPv6.  A server thread
 * and a client move 1 MiB each way over 127.0.0.1, ::1 and a dual-stack
 * listener on :: reached from IPv4 (the peer shows as ::ffff:127.0.0.1);
 * getsockname/getpeername agree on both ends; MSG_PEEK, MSG_DONTWAIT,
 * MSG_WAITALL and FIONREAD behave; shutdown(SHUT_WR) is end-of-file for the
 * peer; a non-blocking connect ends writable with SO_ERROR 0; the socket
 * options a server sets read back as set; TCP_INFO says established.  With the argument "bench" it
 * prints round-trip latency and throughput instead (not a test). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define BIG (1 << 20)

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 11));
}

/* A listener on addr (port 0: the kernel's choice); its address in *out. */
static int listener(int fam, const char *addr, struct sockaddr_storage *out, socklen_t *len)
{
	int s = socket(fam, SOCK_STREAM, 0), one = 1;
	struct sockaddr_storage a = { 0 };
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (void *)&a;
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&a;
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		*len = sizeof(*sin6);
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (void *)&a, *len) || listen(s, 16))
		return -1;
	*len = sizeof(*out);
	getsockname(s, (void *)out, len);
	return s;
}

static size_t read_all(int fd, unsigned char *buf, size_t max)
{
	size_t n = 0;
	ssize_t r;
	while (n < max && (r = read(fd, buf + n, max - n)) > 0)
		n += r;
	return n;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	size_t n = 0;
	while (n < len) {
		ssize_t r = write(fd, buf + n, len - n);
		if (r <= 0)
			return -1;
		n += r;
	}
	return 0;
}

struct client {
	struct sockaddr_storage to;
	socklen_t tolen;
	int connect_fam;
	size_t got;
	int pattern_ok, eof;
};

static void *client(void *arg)
{
	struct client *c = arg;
	static unsigned char out[BIG], in[BIG + 1];
	int s = socket(c->connect_fam, SOCK_STREAM, 0);
	if (connect(s, (void *)&c->to, c->tolen)) {
		perror("connect");
		return NULL;
	}
	for (size_t i = 0; i < BIG; i++)
		out[i] = pattern(i);
	write_all(s, out, BIG);
	shutdown(s, SHUT_WR);
	c->got = read_all(s, in, BIG + 1);
	c->pattern_ok = c->got == BIG;
	for (size_t i = 0; c->pattern_ok && i < BIG; i++)
		c->pattern_ok = in[i] == (unsigned char)~pattern(i);
	close(s);
	return NULL;
}

static void roundtrip(int fam, const char *laddr, int cfam, const char *caddr, const char *name)
{
	struct sockaddr_storage la, pa, ca;
	socklen_t ll, pl = sizeof(pa), cl = sizeof(ca);
	static unsigned char buf[BIG + 1];
	char what[128], txt[64];
	int ls = listener(fam, laddr, &la, &ll);
	snprintf(what, sizeof(what), "%s: listen", name);
	ok(ls >= 0, what);
	if (ls < 0)
		return;
	struct client c = { .connect_fam = cfam };
	uint16_t port = fam == AF_INET ? ((struct sockaddr_in *)&la)->sin_port
				       : ((struct sockaddr_in6 *)&la)->sin6_port;
	if (cfam == AF_INET) {
		struct sockaddr_in *sin = (void *)&c.to;
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		inet_pton(AF_INET, caddr, &sin->sin_addr);
		c.tolen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&c.to;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		inet_pton(AF_INET6, caddr, &sin6->sin6_addr);
		c.tolen = sizeof(*sin6);
	}
	pthread_t t;
	pthread_create(&t, NULL, client, &c);
	int s = accept(ls, (void *)&pa, &pl);
	snprintf(what, sizeof(what), "%s: accept", name);
	ok(s >= 0, what);
	/* The peer's address as accept and getpeername give it. */
	getpeername(s, (void *)&ca, &cl);
	snprintf(what, sizeof(what), "%s: accept's address is getpeername's", name);
	ok(pl == cl && memcmp(&pa, &ca, pl) == 0, what);
	if (pa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&pa)->sin6_addr, txt, sizeof(txt));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&pa)->sin_addr, txt, sizeof(txt));
	printf("%s: peer family %s address %s\n", name, pa.ss_family == AF_INET6 ? "inet6" : "inet",
	       txt);
	size_t n = read_all(s, buf, BIG + 1);
	int good = n == BIG;
	for (size_t i = 0; good && i < BIG; i++)
		good = buf[i] == pattern(i);
	snprintf(what, sizeof(what), "%s: server read 1 MiB intact, then end-of-file", name);
	ok_vals(good, what, n, BIG);
	for (size_t i = 0; i < BIG; i++)
		buf[i] = ~buf[i];
	snprintf(what, sizeof(what), "%s: server wrote 1 MiB back", name);
	ok(write_all(s, buf, BIG) == 0, what);
	close(s);
	pthread_join(t, NULL);
	snprintf(what, sizeof(what), "%s: client read 1 MiB intact, then end-of-file", name);
	ok_vals(c.pattern_ok, what, c.got, BIG);
	close(ls);
}

/* Two connected sockets over 127.0.0.1: *a the client's, *b the server's. */
static void pair4(int *a, int *b)
{
	struct sockaddr_storage la;
	socklen_t ll;
	int ls = listener(AF_INET, "127.0.0.1", &la, &ll);
	*a = socket(AF_INET, SOCK_STREAM, 0);
	connect(*a, (void *)&la, ll);
	*b = accept(ls, NULL, NULL);
	close(ls);
}

static void flags_and_names(void)
{
	int a, b, v;
	char buf[16];
	pair4(&a, &b);
	ok(a >= 0 && b >= 0, "127.0.0.1: a connected pair");
	struct sockaddr_in an, ap, bn, bp;
	socklen_t l1 = sizeof(an), l2 = sizeof(ap), l3 = sizeof(bn), l4 = sizeof(bp);
	getsockname(a, (void *)&an, &l1);
	getpeername(a, (void *)&ap, &l2);
	getsockname(b, (void *)&bn, &l3);
	getpeername(b, (void *)&bp, &l4);
	ok(l1 == sizeof(an) && an.sin_family == AF_INET && !memcmp(&an, &bp, sizeof(an)),
	   "client's name is the server's peer");
	ok(!memcmp(&ap, &bn, sizeof(ap)), "server's name is the client's peer");
	fails(recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "recv MSG_DONTWAIT on nothing: EAGAIN");
	struct tcp_info ti;
	socklen_t til = sizeof(ti);
	ok(getsockopt(a, IPPROTO_TCP, TCP_INFO, &ti, &til) == 0 && ti.tcpi_state == TCP_ESTABLISHED &&
		   ti.tcpi_snd_mss > 0,
	   "TCP_INFO: established, with an MSS");
	ok(send(b, "hello", 5, 0) == 5, "send 5 bytes");
	struct pollfd p = { a, POLLIN, 0 };
	ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "poll: readable");
	ok(ioctl(a, FIONREAD, &v) == 0 && v == 5, "FIONREAD: 5");
	ok(recv(a, buf, 3, MSG_PEEK) == 3 && !memcmp(buf, "hel", 3), "MSG_PEEK 3 bytes");
	ok(recv(a, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "hello", 5), "recv the 5 bytes");
	ok(send(b, "ab", 2, 0) == 2, "send 2 bytes");
	ok(send(b, "cd", 2, 0) == 2, "send 2 more");
	ok(recv(a, buf, 4, MSG_WAITALL) == 4 && !memcmp(buf, "abcd", 4), "MSG_WAITALL gathers 4");
	ok(shutdown(b, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	ok(recv(a, buf, sizeof(buf), 0) == 0, "the peer reads end-of-file");
	p.events = POLLIN | POLLRDHUP;
	ok(poll(&p, 1, 1000) == 1 && (p.revents & POLLRDHUP), "poll: POLLRDHUP after the FIN");
	ok(send(a, "x", 1, 0) == 1, "the half-closed peer can still send");
	ok(recv(b, buf, 1, 0) == 1, "and the closer still reads");
	close(a);
	close(b);

	/* Options. */
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	socklen_t len = sizeof(v);
	ok(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0, "set TCP_NODELAY");
	ok(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v == 1, "TCP_NODELAY reads 1");
	ok(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0, "set SO_KEEPALIVE");
	len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &len) == 0 && v == 1, "SO_KEEPALIVE reads 1");
	int idle = 30;
	ok(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) == 0, "set TCP_KEEPIDLE 30");
	len = sizeof(v);
	ok(getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len) == 0 && v == 30, "TCP_KEEPIDLE reads 30");
	len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM, "SO_TYPE");
	len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 0, "SO_ACCEPTCONN 0");
	struct linger lg = { 1, 0 }, lg2;
	len = sizeof(lg2);
	ok(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0 &&
		   getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &len) == 0 && lg2.l_onoff == 1,
	   "SO_LINGER reads back");
	int tos = 0x10;
	len = sizeof(v);
	ok(setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) == 0 &&
		   getsockopt(s, IPPROTO_IP, IP_TOS, &v, &len) == 0 && v == 0x10,
	   "IP_TOS reads back");
	close(s);

	/* A non-blocking connect ends writable with SO_ERROR 0. */
	struct sockaddr_storage la;
	socklen_t ll;
	int ls = listener(AF_INET, "127.0.0.1", &la, &ll);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r = connect(s, (void *)&la, ll);
	ok(r == 0 || errno == EINPROGRESS, "non-blocking connect: 0 or EINPROGRESS");
	p = (struct pollfd){ s, POLLOUT, 0 };
	ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT), "poll: writable once connected");
	len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v == 0, "SO_ERROR 0");
	len = sizeof(v);
	ok(getsockopt(ls, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 1,
	   "SO_ACCEPTCONN 1 on the listener");
	int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
	ok(c >= 0 && (fcntl(c, F_GETFL) & O_NONBLOCK), "accept4(SOCK_NONBLOCK)");
	close(c);
	close(s);
	close(ls);
}

static void bench(void)
{
	int a, b;
	char buf[65536] = { 0 };
	pair4(&a, &b);
	int one = 1;
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Latency: 1-byte ping-pong between two threads. */
	pid_t pid;
	(void)pid;
	pthread_t t;
	int n = 2000;
	void *echo(void *arg)
	{
		int fd = *(int *)arg;
		char c;
		while (read(fd, &c, 1) == 1)
			write(fd, &c, 1);
		return NULL;
	}
	pthread_create(&t, NULL, echo, &b);
	double t0 = now();
	for (int i = 0; i < n; i++) {
		write(a, "x", 1);
		read(a, buf, 1);
	}
	double lat = (now() - t0) / n;
	shutdown(a, SHUT_WR);
	pthread_join(t, NULL);
	close(a);
	close(b);
	printf("latency: %.1f us per 1-byte round trip (%d)\n", lat * 1e6, n);
	/* Throughput: 64 MiB one way. */
	pair4(&a, &b);
	size_t total = 64 << 20;
	void *sink(void *arg)
	{
		int fd = *(int *)arg;
		static char in[65536];
		size_t got = 0;
		ssize_t r;
		while ((r = read(fd, in, sizeof(in))) > 0)
			got += r;
		return (void *)got;
	}
	pthread_create(&t, NULL, sink, &b);
	t0 = now();
	for (size_t done = 0; done < total; done += sizeof(buf))
		write_all(a, (unsigned char *)buf, sizeof(buf));
	shutdown(a, SHUT_WR);
	void *got;
	pthread_join(t, &got);
	double sec = now() - t0;
	printf("throughput: %.1f MiB/s (%zu MiB in %.2f s)\n", (size_t)got / sec / 1048576.0,
	       (size_t)got >> 20, sec);
	close(a);
	close(b);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "bench")) {
		bench();
		return 0;
	}
	roundtrip(AF_INET, "127.0.0.1", AF_INET, "127.0.0.1", "127.0.0.1");
	roundtrip(AF_INET6, "::1", AF_INET6, "::1", "::1");
	roundtrip(AF_INET6, "::", AF_INET, "127.0.0.1", "dual-stack :: from 127.0.0.1");
	flags_and_names();
	return bad;
}
