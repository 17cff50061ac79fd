/* SPDX-License-Identifier: MIT */
/*
 * The host's side of `elfvm bench`'s TCP rows: a client that talks to
 * build/bench/netsrv (tools/guest/netsrv.c) on 127.0.0.1, where QEMU's
 * hostfwd leads to the guest (or where netsrv runs natively, for the
 * host's reference).  It measures request/response latency, bulk
 * throughput in both directions and the connection rate; every loop is
 * bounded by a count and by BENCH_NET_BUDGET_S, and every socket operation
 * by BENCH_NET_IO_S.  Booting the VMs is bench_vm.c's; the report is
 * bench.c's.
 */
#include "tools/bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* netsrv's request (see tools/guest/netsrv.c); both ends are x86-64. */
struct net_req {
	char op, pad[3];
	uint32_t size;
	uint64_t count;
};

#define NET_BUF (64 * 1024)

int bench_net_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A connection to 127.0.0.1:port with TCP_NODELAY and BENCH_NET_IO_S on
 * every send and receive.  Returns the fd, or -errno. */
static int net_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = BENCH_NET_IO_S };
	struct pollfd p;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1, err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		goto fail;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, BENCH_NET_IO_S * 1000) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		errno = err ? err : errno;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) < 0)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	return -err;
}

/* Whole transfers; 0, or -errno (-EPIPE when the other side closed). */
static int net_io(int fd, void *p, size_t n, int out)
{
	while (n) {
		ssize_t r = out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (r == 0)
			return -EPIPE;
		p = (char *)p + r, n -= (size_t)r;
	}
	return 0;
}

static int net_request(int fd, char op, uint32_t size, uint64_t count)
{
	struct net_req q = { .op = op, .size = size, .count = count };

	return net_io(fd, &q, sizeof(q), 1);
}

static void net_why(struct sample *s, const char *what, int err)
{
	if (!s->why[0])
		bench_fmt(s->why, sizeof(s->why), "%s: %s", what,
			  err == -EPIPE ? "the server closed the connection" : strerror(-err));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* o->rtt round trips of o->rtt_size bytes on one connection: median and
 * 99th percentile (nearest rank) in µs. */
static void net_latency(const struct bench_opts *o, int port, struct sample *s)
{
	int64_t *t = calloc((size_t)o->rtt, sizeof(*t)),
		end = vm_now_ns() + BENCH_NET_BUDGET_S * 1000000000LL;
	char buf[NET_BUF];
	long n = 0;
	int fd = net_connect(port), r = fd;

	memset(buf, 'r', sizeof(buf));
	if (!t || fd < 0 || (r = net_request(fd, 'E', (uint32_t)o->rtt_size, (uint64_t)o->rtt)) < 0)
		goto out;
	for (; n < o->rtt && vm_now_ns() < end; n++) {
		int64_t t0 = vm_now_ns();
		if ((r = net_io(fd, buf, (size_t)o->rtt_size, 1)) < 0 ||
		    (r = net_io(fd, buf, (size_t)o->rtt_size, 0)) < 0)
			break;
		t[n] = vm_now_ns() - t0;
	}
	if (n) {
		qsort(t, (size_t)n, sizeof(*t), cmp_i64);
		s->rtt_med_us = (n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2) / 1e3;
		s->rtt_p99_us = t[(99 * n + 99) / 100 - 1] / 1e3; /* rank ceil(0.99 n) */
		s->rtt_n = n;
	}
out:
	if (r < 0)
		net_why(s, "round trips", r);
	if (fd >= 0)
		close(fd);
	free(t);
}

/* o->bulk_mb MB one way: 'S' guest to host (rx), 'R' host to guest (tx),
 * from the request to the last byte (rx) or to the guest's count (tx). */
static void net_bulk(const struct bench_opts *o, int port, char op, struct sample *s)
{
	uint64_t total = (uint64_t)o->bulk_mb * 1000000, done = 0, got = 0;
	static char buf[NET_BUF];
	int fd = net_connect(port), r = fd;
	int64_t t0 = vm_now_ns(), end = t0 + BENCH_NET_BUDGET_S * 1000000000LL;

	if (fd < 0 || (r = net_request(fd, op, 0, total)) < 0)
		goto out;
	while (done < total && vm_now_ns() < end) {
		size_t k = total - done < NET_BUF ? (size_t)(total - done) : NET_BUF;
		ssize_t n = op == 'S' ? recv(fd, buf, k, 0) : send(fd, buf, k, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? -EPIPE : errno == EAGAIN ? -ETIMEDOUT : -errno;
			break;
		}
		done += (uint64_t)n;
	}
	if (r >= 0 && done < total)
		r = -ETIMEDOUT;
	if (r >= 0 && op == 'R' && (r = net_io(fd, &got, sizeof(got), 0)) >= 0 && got != total)
		r = -EIO;
	if (r >= 0)
		*(op == 'S' ? &s->rx_mbs : &s->tx_mbs) = total / 1e6 / ((vm_now_ns() - t0) / 1e9);
out:
	if (r < 0)
		net_why(s, op == 'S' ? "bulk guest to host" : "bulk host to guest", r);
	if (fd >= 0)
		close(fd);
}

/* o->conns times: connect, one 64-byte round trip, close. */
static void net_conns(const struct bench_opts *o, int port, struct sample *s)
{
	int64_t t0 = vm_now_ns(), end = t0 + BENCH_NET_BUDGET_S * 1000000000LL;
	char buf[64];
	long n = 0;
	int r = 0;

	memset(buf, 'c', sizeof(buf));
	for (; n < o->conns && vm_now_ns() < end; n++) {
		int fd = r = net_connect(port);
		if (fd < 0)
			break;
		if ((r = net_request(fd, 'E', sizeof(buf), 1)) >= 0 &&
		    (r = net_io(fd, buf, sizeof(buf), 1)) >= 0)
			r = net_io(fd, buf, sizeof(buf), 0);
		close(fd);
		if (r < 0)
			break;
	}
	if (n)
		s->conn_rate = n / ((vm_now_ns() - t0) / 1e9);
	s->conns_n = n;
	if (r < 0)
		net_why(s, "connections", r);
}

void bench_net_client(const struct bench_opts *o, int port, struct sample *s)
{
	/* The first failure ends it: each could wait BENCH_NET_IO_S again. */
	net_latency(o, port, s);
	if (!s->why[0])
		net_bulk(o, port, 'S', s);
	if (!s->why[0])
		net_bulk(o, port, 'R', s);
	if (!s->why[0])
		net_conns(o, port, s);
	s->ok = s->rtt_med_us >= 0 && s->rx_mbs >= 0 && s->tx_mbs >= 0 && s->conn_rate >= 0;
}

int bench_net_quit(int port)
{
	int fd = net_connect(port), r = fd;

	if (fd >= 0) {
		r = net_request(fd, 'Q', 0, 0);
		close(fd);
	}
	return r < 0 ? r : 0;
}
