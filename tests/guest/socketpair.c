// SPDX-License-Identifier: MIT
/* socketpair: AF_UNIX stream pairs as on Linux.  Bytes go both ways with
 * read/write, send/recv, sendto/recvfrom and sendmsg/recvmsg (several
 * iovecs); MSG_PEEK, MSG_DONTWAIT and SOCK_NONBLOCK give EAGAIN on an empty
 * socket; shutdown(SHUT_WR) is end-of-file for the peer and EPIPE for us,
 * shutdown(SHUT_RD) turns the peer's writes into EPIPE; closing with unread
 * bytes gives the peer ECONNRESET once; SIGPIPE comes with EPIPE unless
 * MSG_NOSIGNAL; fstat says S_IFSOCK; threads stream 1 MiB each way at once
 * through blocking ends; and the error paths (EAFNOSUPPORT, EOPNOTSUPP,
 * EINVAL, EPROTONOSUPPORT, ENOTSOCK, EBADF, EISCONN) answer as Linux does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t pipes;
static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

static void basics(void)
{
	int s[2];
	char buf[64];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "socketpair(AF_UNIX, SOCK_STREAM)");
	struct stat st;
	ok(fstat(s[0], &st) == 0 && S_ISSOCK(st.st_mode), "fstat: a socket");
	ok(write(s[0], "ping", 4) == 4 && read(s[1], buf, sizeof buf) == 4 && !memcmp(buf, "ping", 4),
	   "write one end, read the other");
	ok(send(s[1], "pong", 4, 0) == 4 && recv(s[0], buf, sizeof buf, 0) == 4 &&
		   !memcmp(buf, "pong", 4),
	   "and back with send/recv");
	ok(recv(s[0], buf, sizeof buf, MSG_DONTWAIT) == -1 && errno == EAGAIN, "MSG_DONTWAIT -> EAGAIN");
	send(s[0], "abcdef", 6, 0);
	ok(recv(s[1], buf, 3, MSG_PEEK) == 3 && !memcmp(buf, "abc", 3), "MSG_PEEK looks");
	ok(recv(s[1], buf, sizeof buf, 0) == 6 && !memcmp(buf, "abcdef", 6),
	   "then reads the same bytes");

	struct sockaddr_un from;
	socklen_t flen = sizeof from;
	sendto(s[0], "xyz", 3, 0, NULL, 0);
	ok(recvfrom(s[1], buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 3 && flen == 0,
	   "recvfrom: an unnamed peer has no address");
	struct sockaddr_un to = { .sun_family = AF_UNIX, .sun_path = "x" };
	ok(sendto(s[0], "xyz", 3, 0, (struct sockaddr *)&to, sizeof to) == -1 && errno == EISCONN,
	   "sendto with an address -> EISCONN");

	char a[3] = "ab", b[5] = "cdef";
	struct iovec out[2] = { { a, 2 }, { b, 4 } };
	struct msghdr m = { .msg_iov = out, .msg_iovlen = 2 };
	ok(sendmsg(s[0], &m, 0) == 6, "sendmsg of two iovecs");
	char x[2], y[10];
	struct iovec in[2] = { { x, 2 }, { y, sizeof y } };
	struct msghdr mi = { .msg_iov = in, .msg_iovlen = 2, .msg_flags = 0x1234 };
	ok(recvmsg(s[1], &mi, 0) == 6 && !memcmp(x, "ab", 2) && !memcmp(y, "cdef", 4) &&
		   mi.msg_flags == 0 && mi.msg_controllen == 0,
	   "recvmsg scatters them");
	int n = -1;
	send(s[0], "12345", 5, 0);
	ok(ioctl(s[1], FIONREAD, &n) == 0 && n == 5, "FIONREAD counts unread bytes");
	read(s[1], buf, 5);
	close(s[0]);
	close(s[1]);

	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s) == 0,
	   "SOCK_NONBLOCK|SOCK_CLOEXEC");
	ok((fcntl(s[0], F_GETFL) & O_NONBLOCK) && (fcntl(s[1], F_GETFD) & FD_CLOEXEC), "the flags show");
	ok(read(s[0], buf, 1) == -1 && errno == EAGAIN, "empty non-blocking read -> EAGAIN");
	static char big[65536];
	size_t total = 0;
	ssize_t r;
	while ((r = write(s[0], big, sizeof big)) > 0)
		total += r;
	ok(r == -1 && errno == EAGAIN && total >= 65536, "writes fill the peer, then EAGAIN");
	close(s[0]);
	close(s[1]);
}

static void shutdowns(void)
{
	int s[2];
	char buf[8];
	signal(SIGPIPE, on_pipe);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	write(s[0], "last", 4);
	ok(shutdown(s[0], SHUT_WR) == 0, "shutdown(SHUT_WR)");
	ok(read(s[1], buf, sizeof buf) == 4 && read(s[1], buf, sizeof buf) == 0,
	   "the peer reads what was sent, then end of file");
	ok(write(s[0], "x", 1) == -1 && errno == EPIPE && pipes == 1, "our write -> EPIPE and SIGPIPE");
	ok(send(s[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE && pipes == 1,
	   "MSG_NOSIGNAL: EPIPE without SIGPIPE");
	ok(write(s[1], "back", 4) == 4 && read(s[0], buf, sizeof buf) == 4,
	   "the other direction still works");
	ok(shutdown(s[0], SHUT_RD) == 0, "shutdown(SHUT_RD)");
	ok(read(s[0], buf, sizeof buf) == 0, "our reads see end of file");
	ok(write(s[1], "x", 1) == -1 && errno == EPIPE && pipes == 2, "the peer's writes -> EPIPE");
	ok(shutdown(s[0], 3) == -1 && errno == EINVAL, "shutdown(3) -> EINVAL");
	close(s[0]);
	close(s[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	write(s[0], "unread", 6);
	close(s[1]);
	ok(read(s[0], buf, sizeof buf) == -1 && errno == ECONNRESET,
	   "peer closed with unread bytes -> ECONNRESET");
	ok(read(s[0], buf, sizeof buf) == 0, "once; then end of file");
	ok(write(s[0], "x", 1) == -1 && errno == EPIPE && pipes == 3,
	   "writing to a closed peer -> EPIPE");
	close(s[0]);
	signal(SIGPIPE, SIG_DFL);
}

static void errors(void)
{
	int s[2], p[2];
	pipe(p);
	ok(socketpair(AF_INET, SOCK_STREAM, 0, s) == -1 && errno == EOPNOTSUPP, "AF_INET -> EOPNOTSUPP");
	ok(socketpair(12345, SOCK_STREAM, 0, s) == -1 && errno == EAFNOSUPPORT,
	   "unknown family -> EAFNOSUPPORT");
	ok(socketpair(AF_UNIX, SOCK_STREAM, 7, s) == -1 && errno == EPROTONOSUPPORT,
	   "protocol 7 -> EPROTONOSUPPORT");
	ok(socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, s) == -1 && errno == EINVAL,
	   "unknown type flag -> EINVAL");
	ok(shutdown(p[0], SHUT_RD) == -1 && errno == ENOTSOCK, "shutdown on a pipe -> ENOTSOCK");
	ok(shutdown(999, SHUT_RD) == -1 && errno == EBADF, "shutdown on a bad fd -> EBADF");
	char c;
	ok(recv(p[0], &c, 1, MSG_DONTWAIT) == -1 && errno == ENOTSOCK, "recv on a pipe -> ENOTSOCK");
	ok(send(p[1], &c, 1, 0) == -1 && errno == ENOTSOCK, "send on a pipe -> ENOTSOCK");
	close(p[0]);
	close(p[1]);
}

enum { BIG = 1 << 20 };
static unsigned char out0[BIG], out1[BIG], in0[BIG], in1[BIG];
struct dir {
	int fd;
	unsigned char *buf;
	int wr;
};

static void *pump(void *arg)
{
	struct dir *d = arg;
	size_t done = 0;
	while (done < BIG) {
		size_t n = 1 + done * 40503 % 50000;
		if (n > BIG - done)
			n = BIG - done;
		ssize_t r = d->wr ? write(d->fd, d->buf + done, n) : read(d->fd, d->buf + done, n);
		if (r <= 0)
			return (void *)1;
		done += r;
	}
	return NULL;
}

static void streams(void)
{
	int s[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	for (size_t i = 0; i < BIG; i++) {
		out0[i] = (unsigned char)(i * 7 + i / 977);
		out1[i] = (unsigned char)(i * 13 + i / 1009);
	}
	struct dir d[4] = { { s[0], out0, 1 }, { s[1], in1, 0 }, { s[1], out1, 1 }, { s[0], in0, 0 } };
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, pump, &d[i]);
	int fine = 1;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		fine &= r == NULL;
	}
	ok(fine && !memcmp(in1, out0, BIG) && !memcmp(in0, out1, BIG),
	   "four threads stream 1 MiB each way at once");
	close(s[0]);
	close(s[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	basics();
	shutdowns();
	errors();
	streams();
	return bad;
}
