// SPDX-License-Identifier: MIT
/* events_pipe_eventfd: pipes and eventfds block and wake as on Linux.
 * Single-threaded: eventfd counting, EFD_SEMAPHORE, EFD_NONBLOCK and
 * EFD_CLOEXEC, EAGAIN on zero and on overflow, EINVAL for short buffers and
 * bad flags; a non-blocking pipe refuses an atomic write that does not fit
 * whole.  With threads: a consumer blocked on an empty pipe is woken by a
 * producer (1 MiB of checked bytes), two writers' 512-byte records never
 * interleave (PIPE_BUF atomicity), a reader blocked on a pipe sees end of
 * file when the last writer closes, a writer blocked on a full pipe is
 * woken by a reader, and eventfds carry a ping-pong and a semaphore between
 * threads, with a writer blocked on overflow woken by a read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check.h"

static int readall(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

static void eventfd_single(void)
{
	uint64_t v;
	int e = eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
	ok(e >= 0, "eventfd(5, EFD_NONBLOCK|EFD_CLOEXEC)");
	ok((fcntl(e, F_GETFL) & O_NONBLOCK) && (fcntl(e, F_GETFD) & FD_CLOEXEC),
	   "eventfd flags show in F_GETFL and F_GETFD");
	ok(read(e, &v, 8) == 8 && v == 5, "read takes the whole count");
	ok(read(e, &v, 8) == -1 && errno == EAGAIN, "read of zero -> EAGAIN");
	v = 3;
	ok(write(e, &v, 8) == 8 && write(e, &v, 8) == 8, "two writes of 3");
	ok(read(e, &v, 8) == 8 && v == 6, "writes add up");
	ok(read(e, &v, 4) == -1 && errno == EINVAL, "read of 4 bytes -> EINVAL");
	ok(write(e, &v, 7) == -1 && errno == EINVAL, "write of 7 bytes -> EINVAL");
	v = UINT64_MAX;
	ok(write(e, &v, 8) == -1 && errno == EINVAL, "write of 0xffffffffffffffff -> EINVAL");
	v = UINT64_MAX - 1;
	ok(write(e, &v, 8) == 8, "write up to the maximum count");
	v = 1;
	ok(write(e, &v, 8) == -1 && errno == EAGAIN, "overflowing write -> EAGAIN");
	struct pollfd p = { e, POLLIN | POLLOUT, 0 };
	ok(poll(&p, 1, 0) == 1 && p.revents == POLLIN, "full counter: readable, not writable");
	ok(read(e, &v, 8) == 8 && v == UINT64_MAX - 1, "read the maximum");
	p.revents = 0;
	ok(poll(&p, 1, 0) == 1 && p.revents == POLLOUT, "empty counter: writable only");
	close(e);

	e = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	int n = 0;
	while (read(e, &v, 8) == 8 && v == 1)
		n++;
	ok(n == 3 && errno == EAGAIN, "EFD_SEMAPHORE: three reads of 1, then EAGAIN");
	close(e);
	ok(eventfd(0, 0x10) == -1 && errno == EINVAL, "unknown eventfd flag -> EINVAL");
	eventfd_t ev;
	e = eventfd(0, 0);
	ok(eventfd_write(e, 41) == 0 && eventfd_write(e, 1) == 0 && eventfd_read(e, &ev) == 0 &&
		   ev == 42,
	   "eventfd_write/eventfd_read (libc)");
	close(e);
}

static void pipe_single(void)
{
	static char buf[65536];
	int p[2];

	ok(pipe2(p, O_NONBLOCK) == 0, "pipe2(O_NONBLOCK)");
	size_t total = 0;
	ssize_t r;
	while ((r = write(p[1], buf, 4096)) == 4096)
		total += r;
	ok(r == -1 && errno == EAGAIN && total == 65536, "a pipe holds 64 KiB");
	struct pollfd pf = { p[1], POLLOUT, 0 };
	ok(poll(&pf, 1, 0) == 0, "full pipe: not writable");
	ok(read(p[0], buf, 100) == 100, "read 100 bytes");
	ok(poll(&pf, 1, 0) == 0, "100 bytes of room: still not writable (PIPE_BUF)");
	ok(write(p[1], buf, 200) == -1 && errno == EAGAIN,
	   "non-blocking atomic write that does not fit whole -> EAGAIN");
	ok(read(p[0], buf, 8092) == 8092, "read 8092 more bytes");
	pf.revents = 0;
	ok(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT, "room for PIPE_BUF: writable");
	close(p[0]);
	close(p[1]);
}

/* ---- threads ---------------------------------------------------------------- */

enum { BIG = 1 << 20, REC = 512, RECS = 600 };
static int pfd[2];
static unsigned char big[BIG];

static void *producer(void *arg)
{
	(void)arg;
	usleep(20000); /* let the consumer block on the empty pipe first */
	for (size_t off = 0; off < BIG;) {
		size_t n = 1 + (off * 7919) % 70000; /* odd sizes, some over 64 KiB */
		if (n > BIG - off)
			n = BIG - off;
		ssize_t w = write(pfd[1], big + off, n);
		if (w <= 0)
			return (void *)1;
		off += w;
	}
	close(pfd[1]);
	return NULL;
}

static void *recwriter(void *arg)
{
	char rec[REC];
	memset(rec, (int)(intptr_t)arg, sizeof(rec));
	for (int i = 0; i < RECS; i++)
		if (write(pfd[1], rec, REC) != REC)
			return (void *)1;
	return NULL;
}

static void *late_closer(void *arg)
{
	(void)arg;
	usleep(30000);
	close(pfd[1]);
	return NULL;
}

static void *drainer(void *arg)
{
	static char sink[8192];
	(void)arg;
	usleep(30000); /* the writer is blocked on the full pipe by now */
	size_t got = 0;
	ssize_t r;
	while ((r = read(pfd[0], sink, sizeof sink)) > 0)
		got += r;
	return (void *)(uintptr_t)got;
}

static int efd_ping, efd_pong;
static void *ponger(void *arg)
{
	uint64_t v;
	(void)arg;
	for (int i = 0; i < 100; i++) {
		if (read(efd_ping, &v, 8) != 8 || v != (uint64_t)i + 1)
			return (void *)1;
		v = (uint64_t)i + 1;
		if (write(efd_pong, &v, 8) != 8)
			return (void *)1;
	}
	return NULL;
}

static void *overflow_reader(void *arg)
{
	uint64_t v;
	(void)arg;
	usleep(30000);
	return (void *)(uintptr_t)(read(efd_ping, &v, 8) == 8 && v == UINT64_MAX - 1);
}

static void threads(void)
{
	static unsigned char got[BIG];
	pthread_t t, t2;
	void *res;

	for (size_t i = 0; i < BIG; i++)
		big[i] = (unsigned char)(i * 131 + i / 4099);
	pipe(pfd);
	pthread_create(&t, NULL, producer, NULL);
	int rok = readall(pfd[0], got, BIG) == 0;
	char c;
	ok(rok && memcmp(got, big, BIG) == 0, "blocking reader gets 1 MiB in order from a thread");
	ok(read(pfd[0], &c, 1) == 0, "then end of file");
	pthread_join(t, &res);
	ok(res == NULL, "the producer's writes all completed");
	close(pfd[0]);

	pipe(pfd);
	pthread_create(&t, NULL, recwriter, (void *)'a');
	pthread_create(&t2, NULL, recwriter, (void *)'b');
	int na = 0, nb = 0, mixed = 0;
	char rec[REC];
	for (int i = 0; i < 2 * RECS; i++) {
		if (readall(pfd[0], rec, REC) < 0) {
			mixed = 1;
			break;
		}
		for (int j = 1; j < REC; j++)
			mixed |= rec[j] != rec[0];
		na += rec[0] == 'a';
		nb += rec[0] == 'b';
	}
	pthread_join(t, NULL);
	pthread_join(t2, NULL);
	ok(!mixed && na == RECS && nb == RECS, "512-byte writes from two threads never interleave");
	close(pfd[0]);
	close(pfd[1]);

	pipe(pfd);
	pthread_create(&t, NULL, late_closer, NULL);
	ok(read(pfd[0], &c, 1) == 0, "blocked reader sees end of file when the writer closes");
	pthread_join(t, NULL);
	close(pfd[0]);

	pipe(pfd);
	pthread_create(&t, NULL, drainer, NULL);
	ok(write(pfd[1], big, 200000) == 200000, "write of 200000 bytes blocks until drained");
	close(pfd[1]);
	pthread_join(t, &res);
	ok((uintptr_t)res == 200000, "the reader got all of it");
	close(pfd[0]);

	efd_ping = eventfd(0, 0);
	efd_pong = eventfd(0, 0);
	pthread_create(&t, NULL, ponger, NULL);
	int pp = 1;
	for (int i = 0; i < 100 && pp; i++) {
		uint64_t v = (uint64_t)i + 1;
		pp = write(efd_ping, &v, 8) == 8 && read(efd_pong, &v, 8) == 8 && v == (uint64_t)i + 1;
	}
	pthread_join(t, &res);
	ok(pp && res == NULL, "100 eventfd ping-pongs between two threads");

	uint64_t v = UINT64_MAX - 1;
	write(efd_ping, &v, 8);
	pthread_create(&t, NULL, overflow_reader, NULL);
	v = 7;
	ok(write(efd_ping, &v, 8) == 8, "write blocked on overflow completes after a read");
	pthread_join(t, &res);
	ok(res == (void *)1, "the reader took the full count");
	ok(read(efd_ping, &v, 8) == 8 && v == 7, "then the blocked write's value is there");
	close(efd_ping);
	close(efd_pong);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	eventfd_single();
	pipe_single();
	threads();
	return bad;
}
