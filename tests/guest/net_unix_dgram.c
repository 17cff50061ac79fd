// SPDX-License-Identifier: MIT
/* net_unix_dgram: AF_UNIX datagram and seqpacket sockets, as on Linux.
 * Boundaries are kept (socketpair of each type, named sockets); a short
 * buffer cuts a message with MSG_TRUNC and the rest is gone; MSG_TRUNC
 * asked for returns the real length; empty datagrams count; FIONREAD is
 * the next datagram's size.  recvfrom reports the sender's name (nothing
 * for an unnamed sender); sendto finds paths and abstract names, with
 * ENOENT, ECONNREFUSED, EPROTOTYPE, EPERM, ENOTCONN, EMSGSIZE where Linux
 * gives them; a receiver's queue that is full answers EAGAIN; a connected
 * peer that closed gives ECONNREFUSED.  Seqpacket: listen/accept/connect
 * between threads, records, end of file, EPIPE; SOCK_RAW is a datagram
 * socket; poll and epoll readiness; SO_PEEK_OFF; SO_TIMESTAMP(NS). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define PATHLEN(p) ((socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1))

static volatile sig_atomic_t pipes;
static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

static struct sockaddr_un addr_of(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strncpy(a.sun_path, path, sizeof a.sun_path - 1);
	return a;
}

static int bound(int type, const char *path)
{
	struct sockaddr_un a = addr_of(path);
	int s = socket(AF_UNIX, type, 0);
	if (bind(s, (struct sockaddr *)&a, PATHLEN(path)) != 0)
		return -1;
	return s;
}

static void pairs(int type, const char *name)
{
	int s[2];
	char buf[64], what[128];

	snprintf(what, sizeof what, "socketpair(%s)", name);
	ok(socketpair(AF_UNIX, type, 0, s) == 0, what);
	send(s[0], "one", 3, 0);
	send(s[0], "two!", 4, 0);
	send(s[0], "", 0, 0);
	int n = -1;
	ok(ioctl(s[1], FIONREAD, &n) == 0 && n == (type == SOCK_DGRAM ? 3 : 7),
	   type == SOCK_DGRAM ? "FIONREAD: the next datagram's size" : "FIONREAD: every record's bytes");
	snprintf(what, sizeof what, "%s: each message whole, boundaries kept", name);
	ok(recv(s[1], buf, sizeof buf, 0) == 3 && recv(s[1], buf, sizeof buf, 0) == 4 &&
		   !memcmp(buf, "two!", 4),
	   what);
	snprintf(what, sizeof what, "%s: an empty message is a message", name);
	ok(recv(s[1], buf, sizeof buf, MSG_DONTWAIT) == 0, what);
	snprintf(what, sizeof what, "%s: then nothing -> EAGAIN", name);
	fails(recv(s[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN, what);

	send(s[0], "0123456789", 10, 0);
	send(s[0], "next", 4, 0);
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	snprintf(what, sizeof what, "%s: a short buffer cuts, MSG_TRUNC", name);
	ok(recvmsg(s[1], &m, 0) == 4 && (m.msg_flags & MSG_TRUNC) && !memcmp(buf, "0123", 4), what);
	snprintf(what, sizeof what, "%s: the rest of a cut message is gone", name);
	ok(recv(s[1], buf, sizeof buf, 0) == 4 && !memcmp(buf, "next", 4), what);
	send(s[0], "0123456789", 10, 0);
	snprintf(what, sizeof what, "%s: MSG_PEEK | MSG_TRUNC returns the real length", name);
	ok(recv(s[1], buf, 2, MSG_PEEK | MSG_TRUNC) == 10, what);
	ok(recv(s[1], buf, 2, MSG_TRUNC) == 10, "and MSG_TRUNC alone, consuming it");
	snprintf(what, sizeof what, "%s: both ways", name);
	ok(send(s[1], "back", 4, 0) == 4 && recv(s[0], buf, sizeof buf, 0) == 4, what);
	static char big[200000], in[200001];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + i / 251);
	snprintf(what, sizeof what, "%s: a 200000-byte message goes and comes whole", name);
	ok(send(s[0], big, sizeof big, 0) == (ssize_t)sizeof big &&
		   recv(s[1], in, sizeof in, 0) == (ssize_t)sizeof big && !memcmp(in, big, sizeof big),
	   what);
	int v = 0;
	socklen_t len = sizeof v;
	ok(getsockopt(s[0], SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == type, "SO_TYPE");
	close(s[0]);
	close(s[1]);
}

static void *blocked_send(void *p)
{
	int fd = *(int *)p;
	double t0 = now();
	long r = send(fd, "w", 1, 0);
	return r == 1 && now() - t0 > 0.03 ? NULL : (void *)1;
}

static void datagrams(void)
{
	char buf[256];
	struct sockaddr_un from, to = addr_of("rx.sock");
	socklen_t flen;
	int rx = bound(SOCK_DGRAM, "rx.sock");
	int tx = socket(AF_UNIX, SOCK_DGRAM, 0);

	ok(rx >= 0, "bind a datagram socket to a path");
	ok(sendto(tx, "anon", 4, 0, (struct sockaddr *)&to, PATHLEN("rx.sock")) == 4, "sendto the path");
	flen = sizeof from;
	memset(&from, 0x55, sizeof from);
	ok(recvfrom(rx, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 4 && flen == 0,
	   "recvfrom: an unnamed sender has no address");
	int tx2 = bound(SOCK_DGRAM, "tx2.sock");
	sendto(tx2, "named", 5, 0, (struct sockaddr *)&to, PATHLEN("rx.sock"));
	flen = sizeof from;
	ok(recvfrom(rx, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 5 &&
		   flen == PATHLEN("tx2.sock") && !strcmp(from.sun_path, "tx2.sock"),
	   "recvfrom: a named sender's path");

	struct sockaddr_un abs = { .sun_family = AF_UNIX };
	/* With the pid: native runs share the host's abstract namespace. */
	socklen_t alen =
		offsetof(struct sockaddr_un, sun_path) + 1 +
		snprintf(abs.sun_path + 1, sizeof abs.sun_path - 1, "elfvm-dgram.%d", (int)getpid());
	int ra = socket(AF_UNIX, SOCK_DGRAM, 0);
	ok(bind(ra, (struct sockaddr *)&abs, alen) == 0, "bind an abstract datagram name");
	ok(sendto(tx2, "abs", 3, 0, (struct sockaddr *)&abs, alen) == 3 &&
		   recv(ra, buf, sizeof buf, 0) == 3,
	   "sendto the abstract name");
	close(ra);
	fails(sendto(tx2, "abs", 3, 0, (struct sockaddr *)&abs, alen), ECONNREFUSED,
	      "sendto an abstract name nobody holds -> ECONNREFUSED");

	struct sockaddr_un nowhere = addr_of("nowhere.sock");
	fails(sendto(tx, "x", 1, 0, (struct sockaddr *)&nowhere, PATHLEN("nowhere.sock")), ENOENT,
	      "sendto a missing path -> ENOENT");
	int st = bound(SOCK_STREAM, "stream.sock");
	struct sockaddr_un sa = addr_of("stream.sock");
	fails(sendto(tx, "x", 1, 0, (struct sockaddr *)&sa, PATHLEN("stream.sock")), EPROTOTYPE,
	      "sendto a stream socket -> EPROTOTYPE");
	close(st);
	fails(send(tx, "x", 1, 0), ENOTCONN, "send without an address, unconnected -> ENOTCONN");
	fails(listen(tx, 1), EOPNOTSUPP, "listen on a datagram socket -> EOPNOTSUPP");
	fails(accept(tx, NULL, NULL), EOPNOTSUPP, "accept on a datagram socket -> EOPNOTSUPP");
	static char big[300000];
	fails(sendto(tx, big, sizeof big, 0, (struct sockaddr *)&to, PATHLEN("rx.sock")), EMSGSIZE,
	      "a datagram larger than SO_SNDBUF -> EMSGSIZE");

	/* Connected datagram sockets. */
	ok(connect(tx, (struct sockaddr *)&to, PATHLEN("rx.sock")) == 0, "connect a datagram socket");
	ok(send(tx, "c1", 2, 0) == 2 && recv(rx, buf, sizeof buf, 0) == 2, "send to the connected peer");
	socklen_t plen = sizeof from;
	ok(getpeername(tx, (struct sockaddr *)&from, &plen) == 0 && !strcmp(from.sun_path, "rx.sock"),
	   "getpeername: the peer's path");
	struct sockaddr_un t2 = addr_of("tx2.sock");
	ok(connect(rx, (struct sockaddr *)&t2, PATHLEN("tx2.sock")) == 0,
	   "connect the receiver elsewhere");
	fails(send(tx, "c2", 2, 0), EPERM, "a socket connected elsewhere refuses others -> EPERM");
	struct sockaddr_un unspec = { .sun_family = AF_UNSPEC };
	ok(connect(rx, (struct sockaddr *)&unspec, sizeof unspec) == 0, "AF_UNSPEC disconnects");
	ok(send(tx, "c3", 2, 0) == 2 && recv(rx, buf, sizeof buf, 0) == 2, "and it takes ours again");

	/* A full queue: 11 datagrams wait (max_dgram_qlen 10, plus one). */
	int sent = 0;
	while (send(tx, "q", 1, MSG_DONTWAIT) == 1 && sent < 100)
		sent++;
	ok(sent == 11 && errno == EAGAIN, "the receiver's queue holds 11 datagrams, then EAGAIN");
	struct pollfd pf = { .fd = tx, .events = POLLOUT };
	ok(poll(&pf, 1, 0) == 0, "a sender whose peer is full is not writable");
	recv(rx, buf, sizeof buf, 0);
	ok(poll(&pf, 1, 100) == 1 && (pf.revents & POLLOUT), "one read: writable again");
	ok(send(tx, "q", 1, MSG_DONTWAIT) == 1, "and a send goes");
	pthread_t t;
	pthread_create(&t, NULL, blocked_send, &tx);
	usleep(50000);
	recv(rx, buf, sizeof buf, 0);
	void *r;
	pthread_join(t, &r);
	ok(r == NULL, "a blocking send to a full queue waits for a read");
	for (int i = 0; i < 11; i++)
		recv(rx, buf, sizeof buf, MSG_DONTWAIT);
	fails(recv(rx, buf, sizeof buf, MSG_DONTWAIT), EAGAIN, "drained");

	close(rx);
	fails(send(tx, "x", 1, 0), ECONNREFUSED, "the connected peer closed -> ECONNREFUSED");
	fails(send(tx, "x", 1, 0), ENOTCONN, "then the socket is unconnected -> ENOTCONN");
	close(tx);
	close(tx2);

	/* shutdown */
	int s[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
	shutdown(s[1], SHUT_RD);
	fails(send(s[0], "x", 1, MSG_NOSIGNAL), EPIPE, "sending to a SHUT_RD receiver -> EPIPE");
	ok(recv(s[1], buf, sizeof buf, 0) == 0, "a blocking read after SHUT_RD: 0");
	signal(SIGPIPE, on_pipe);
	shutdown(s[0], SHUT_WR);
	fails(send(s[0], "x", 1, 0), EPIPE, "sending after our own SHUT_WR -> EPIPE");
	ok(pipes == 0, "a datagram EPIPE raises no SIGPIPE");
	signal(SIGPIPE, SIG_DFL);
	fails(recv(s[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN, "a non-blocking one: EAGAIN");
	close(s[0]);
	close(s[1]);

	int raw = socket(AF_UNIX, SOCK_RAW, 0), v = 0;
	socklen_t len = sizeof v;
	ok(raw >= 0 && getsockopt(raw, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_DGRAM,
	   "SOCK_RAW is a datagram socket");
	close(raw);
	unlink("rx.sock");
	unlink("tx2.sock");
	unlink("stream.sock");
}

static void *seq_client(void *p)
{
	(void)p;
	struct sockaddr_un a = addr_of("seq.sock");
	int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (connect(c, (struct sockaddr *)&a, PATHLEN("seq.sock")) != 0)
		return (void *)-1L;
	send(c, "first", 5, 0);
	send(c, "second record", 13, 0);
	char buf[32];
	long n = recv(c, buf, sizeof buf, 0);
	close(c);
	return (void *)n;
}

static void seqpacket(void)
{
	int l = bound(SOCK_SEQPACKET, "seq.sock");
	char buf[64];

	ok(l >= 0 && listen(l, 4) == 0, "bind and listen, SOCK_SEQPACKET");
	struct pollfd lp = { .fd = l, .events = POLLIN | POLLOUT };
	ok(poll(&lp, 1, 0) == 0, "a seqpacket listener with nobody waiting polls nothing");
	int u = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	fails(send(u, "x", 1, MSG_NOSIGNAL), ENOTCONN, "seqpacket send unconnected -> ENOTCONN");
	fails(recv(u, buf, 1, MSG_DONTWAIT), ENOTCONN, "seqpacket recv unconnected -> ENOTCONN");
	close(u);
	pthread_t t;
	pthread_create(&t, NULL, seq_client, NULL);
	int a = accept(l, NULL, NULL);
	ok(a >= 0, "accept a seqpacket connection");
	ok(recv(a, buf, sizeof buf, 0) == 5 && !memcmp(buf, "first", 5), "the first record alone");
	struct iovec iov = { buf, 6 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ok(recvmsg(a, &m, 0) == 6 && (m.msg_flags & MSG_TRUNC), "the second, cut: MSG_TRUNC");
	ok(send(a, "reply", 5, 0) == 5, "reply");
	void *r;
	pthread_join(t, &r);
	ok((long)r == 5, "the client read the reply as one record");
	ok(recv(a, buf, sizeof buf, 0) == 0, "the client closed: end of file");
	signal(SIGPIPE, on_pipe);
	fails(send(a, "x", 1, 0), EPIPE, "sending to the closed peer -> EPIPE");
	ok(pipes == 0, "and no SIGPIPE (a seqpacket send never raises it)");
	signal(SIGPIPE, SIG_DFL);
	struct pollfd pf = { .fd = a, .events = POLLIN | POLLRDHUP };
	ok(poll(&pf, 1, 0) == 1 &&
		   (pf.revents & (POLLIN | POLLRDHUP | POLLHUP)) == (POLLIN | POLLRDHUP | POLLHUP),
	   "poll: IN, RDHUP, HUP after the peer closed");
	close(a);
	close(l);
	unlink("seq.sock");
}

static void readiness(void)
{
	int s[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[2];

	epoll_ctl(ep, EPOLL_CTL_ADD, s[1], &ev);
	ok(epoll_wait(ep, out, 2, 0) == 0, "an empty datagram socket: no EPOLLIN");
	send(s[0], "a", 1, 0);
	ok(epoll_wait(ep, out, 2, 100) == 1 && out[0].events == EPOLLIN, "a datagram: EPOLLIN");
	ok(epoll_wait(ep, out, 2, 0) == 0, "edge-triggered: once");
	send(s[0], "b", 1, 0);
	ok(epoll_wait(ep, out, 2, 100) == 1, "the next datagram: another edge");
	struct pollfd pf = { .fd = s[0], .events = POLLOUT };
	ok(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT, "the sender is writable");
	close(ep);
	close(s[0]);
	close(s[1]);
}

/* SO_PEEK_OFF: peeks start at the offset and move it on, reads move it
 * back; a stream peek crosses sends, a datagram peek stays in one. */
static void peek_offsets(void)
{
	for (int t = 0; t < 2; t++) {
		int s[2], v = 0, type = t ? SOCK_DGRAM : SOCK_STREAM;
		const char *name = t ? "datagram" : "stream";
		char buf[16], what[128];
		socklen_t len = sizeof v;
		socketpair(AF_UNIX, type, 0, s);
		snprintf(what, sizeof what, "%s: SO_PEEK_OFF is -1 (off) at first", name);
		ok(getsockopt(s[1], SOL_SOCKET, SO_PEEK_OFF, &v, &len) == 0 && v == -1, what);
		v = 0;
		snprintf(what, sizeof what, "%s: SO_PEEK_OFF 0", name);
		ok(setsockopt(s[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v) == 0, what);
		send(s[0], "abc", 3, 0);
		send(s[0], "def", 3, 0);
		ok(recv(s[1], buf, 2, MSG_PEEK) == 2 && !memcmp(buf, "ab", 2), "a peek from offset 0");
		snprintf(what, sizeof what, "%s: the next peek goes on from 2", name);
		ok(recv(s[1], buf, 2, MSG_PEEK) == (t ? 1 : 2) &&
			   !memcmp(buf, t ? "c" : "cd", t ? 1 : 2),
		   what);
		snprintf(what, sizeof what, "%s: and on", name);
		ok(recv(s[1], buf, 4, MSG_PEEK) == (t ? 3 : 2) &&
			   !memcmp(buf, t ? "def" : "ef", t ? 3 : 2),
		   what);
		len = sizeof v;
		ok(getsockopt(s[1], SOL_SOCKET, SO_PEEK_OFF, &v, &len) == 0 && v == 6,
		   "the offset is 6");
		ok(recv(s[1], buf, 3, 0) == 3 && !memcmp(buf, "abc", 3), "a read starts at the front");
		len = sizeof v;
		ok(getsockopt(s[1], SOL_SOCKET, SO_PEEK_OFF, &v, &len) == 0 && v == 3,
		   "and moves the offset back");
		fails(recv(s[1], buf, 2, MSG_PEEK | MSG_DONTWAIT), EAGAIN,
		      "nothing past the offset: EAGAIN");
		ok(recv(s[1], buf, 8, 0) == 3 && !memcmp(buf, "def", 3), "the rest reads");
		v = -1;
		setsockopt(s[1], SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v);
		send(s[0], "xyz", 3, 0);
		snprintf(what, sizeof what, "%s: SO_PEEK_OFF -1: peeks look at the front again", name);
		ok(recv(s[1], buf, 2, MSG_PEEK) == 2 && recv(s[1], buf, 2, MSG_PEEK) == 2 &&
			   !memcmp(buf, "xy", 2),
		   what);
		close(s[0]);
		close(s[1]);
	}
}

/* SO_TIMESTAMP / SO_TIMESTAMPNS: a datagram read carries the time of the
 * read first among its control messages; a stream read none. */
static int first_cmsg(int s, int *type, struct timespec *when)
{
	char buf[8], ctl[256];
	struct iovec iov = { buf, sizeof buf };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl
	};
	if (recvmsg(s, &m, MSG_DONTWAIT) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c)
		return 0;
	*type = c->cmsg_type;
	if (c->cmsg_type == SO_TIMESTAMP) {
		struct timeval tv;
		memcpy(&tv, CMSG_DATA(c), sizeof tv);
		*when = (struct timespec){ tv.tv_sec, tv.tv_usec * 1000 };
	} else if (c->cmsg_type == SO_TIMESTAMPNS) {
		memcpy(when, CMSG_DATA(c), sizeof *when);
	}
	return 1;
}

static void timestamps(void)
{
	int s[2], on = 1, type = 0, v = -1;
	struct timespec when = { 0 }, t0;
	socklen_t len = sizeof v;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
	ok(setsockopt(s[1], SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on) == 0 &&
		   getsockopt(s[1], SOL_SOCKET, SO_TIMESTAMP, &v, &len) == 0 && v == 1,
	   "SO_TIMESTAMP sets and reads back");
	clock_gettime(CLOCK_REALTIME, &t0);
	send(s[0], "t", 1, 0);
	ok(first_cmsg(s[1], &type, &when) == 1 && type == SO_TIMESTAMP && when.tv_sec >= t0.tv_sec &&
		   when.tv_sec - t0.tv_sec < 5,
	   "a datagram read carries SCM_TIMESTAMP, the time now");
	setsockopt(s[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	send(s[0], "t", 1, 0);
	ok(first_cmsg(s[1], &type, &when) == 1 && type == SO_TIMESTAMP, "before the credentials");
	ok(setsockopt(s[1], SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0, "SO_TIMESTAMPNS");
	len = sizeof v;
	ok(getsockopt(s[1], SOL_SOCKET, SO_TIMESTAMP, &v, &len) == 0 && v == 0, "replaces SO_TIMESTAMP");
	send(s[0], "t", 1, 0);
	ok(first_cmsg(s[1], &type, &when) == 1 && type == SO_TIMESTAMPNS && when.tv_sec >= t0.tv_sec,
	   "a read carries SCM_TIMESTAMPNS");
	close(s[0]);
	close(s[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	setsockopt(s[1], SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on);
	send(s[0], "t", 1, 0);
	ok(first_cmsg(s[1], &type, &when) == 0, "a stream read carries no timestamp");
	close(s[0]);
	close(s[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	enter_workdir("unix-dgram");
	pairs(SOCK_DGRAM, "SOCK_DGRAM");
	pairs(SOCK_SEQPACKET, "SOCK_SEQPACKET");
	datagrams();
	seqpacket();
	readiness();
	peek_offsets();
	timestamps();
	leave_workdir();
	return bad;
}
