// SPDX-License-Identifier: MIT
/* net_unix_scm: control messages on AF_UNIX sockets, as on Linux.
 * SCM_RIGHTS passes a pipe's write end over a stream pair, a datagram pair
 * and a connection made by path between threads, and the receiver's new
 * descriptor writes into the same pipe; MSG_CMSG_CLOEXEC sets FD_CLOEXEC;
 * a short control buffer installs what fits and sets MSG_CTRUNC (the rest
 * are closed: the pipe sees end of file); files in a message nobody reads
 * are closed when the socket goes, and cycles of sockets in flight are
 * collected; MSG_PEEK passes copies; a stream read
 * stops after the bytes that carried files.  SCM_CREDENTIALS: with
 * SO_PASSCRED the receiver gets the sender's pid, uid and gid (getpid,
 * getuid, getgid) or what it sent; bad control messages answer EBADF and
 * EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

/* Sends len bytes of data with n fds (n may be 0). */
static ssize_t send_fds(int s, const char *data, size_t len, const int *fds, int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n) {
		memset(ctl, 0, sizeof ctl);
		m.msg_control = ctl;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(s, &m, 0);
}

/* Receives into buf; the fds that came go to fds (at most room of them,
 * given a control buffer of ctlroom fds), their count to *n. */
static ssize_t recv_fds(int s, char *buf, size_t len, int *fds, int ctlroom, int *n, int flags,
			int *mflags)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (ctlroom >= 0) {
		m.msg_control = ctl;
		m.msg_controllen = ctlroom ? CMSG_LEN(sizeof(int) * ctlroom) : sizeof(struct cmsghdr);
	}
	ssize_t r = recvmsg(s, &m, flags);
	*n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); r >= 0 && c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + *n, CMSG_DATA(c), k * sizeof(int));
			*n += k;
		}
	if (mflags)
		*mflags = m.msg_flags;
	return r;
}

/* The pipe's write end went over s0 -> s1: write through what arrived,
 * read it from the pipe's read end. */
static void pass_pipe(int s0, int s1, const char *what)
{
	int p[2], fds[8], n, fl;
	char buf[32], msg[160];
	pipe(p);
	snprintf(msg, sizeof msg, "%s: sendmsg with SCM_RIGHTS", what);
	ok(send_fds(s0, "fd", 2, &p[1], 1) == 2, msg);
	close(p[1]); /* the one in flight keeps the pipe's write side open */
	snprintf(msg, sizeof msg, "%s: recvmsg installs one new descriptor", what);
	ok(recv_fds(s1, buf, sizeof buf, fds, 4, &n, 0, &fl) == 2 && n == 1 && fds[0] >= 0 &&
		   !(fl & MSG_CTRUNC),
	   msg);
	snprintf(msg, sizeof msg, "%s: it writes into the same pipe", what);
	ok(n == 1 && write(fds[0], "through", 7) == 7 && read(p[0], buf, sizeof buf) == 7 &&
		   !memcmp(buf, "through", 7),
	   msg);
	if (n == 1)
		close(fds[0]);
	snprintf(msg, sizeof msg, "%s: its last close ends the pipe", what);
	ok(read(p[0], buf, sizeof buf) == 0, msg);
	close(p[0]);
}

struct srv {
	int l, fd;
};

static void *accept_one(void *p)
{
	struct srv *s = p;
	s->fd = accept(s->l, NULL, NULL);
	return NULL;
}

static void rights(void)
{
	int s[2], p[2], fds[8], n, fl;
	char buf[32];

	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	pass_pipe(s[0], s[1], "stream pair");
	close(s[0]);
	close(s[1]);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
	pass_pipe(s[0], s[1], "datagram pair");
	close(s[0]);
	close(s[1]);

	/* A connection by path, accepted by another thread. */
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "scm.sock" };
	struct srv sv = { .l = socket(AF_UNIX, SOCK_STREAM, 0) };
	bind(sv.l, (struct sockaddr *)&a, sizeof a);
	listen(sv.l, 1);
	pthread_t t;
	pthread_create(&t, NULL, accept_one, &sv);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, sizeof a);
	pthread_join(t, NULL);
	pass_pipe(c, sv.fd, "a named connection");

	/* MSG_CMSG_CLOEXEC. */
	pipe(p);
	send_fds(c, "x", 1, &p[1], 1);
	ok(recv_fds(sv.fd, buf, sizeof buf, fds, 4, &n, MSG_CMSG_CLOEXEC, NULL) == 1 && n == 1 &&
		   (fcntl(fds[0], F_GETFD) & FD_CLOEXEC),
	   "MSG_CMSG_CLOEXEC: the new descriptor is close-on-exec");
	if (n)
		close(fds[0]);

	/* Room for one of two: one installed, MSG_CTRUNC, the other closed. */
	int two[2] = { p[1], p[1] };
	send_fds(c, "y", 1, two, 2);
	close(p[1]);
	ok(recv_fds(sv.fd, buf, sizeof buf, fds, 1, &n, 0, &fl) == 1 && n == 1 && (fl & MSG_CTRUNC),
	   "room for one of two files: one installed, MSG_CTRUNC");
	if (n)
		close(fds[0]);
	ok(read(p[0], buf, sizeof buf) == 0, "the one that did not fit was closed");
	close(p[0]);

	/* No control buffer at all. */
	pipe(p);
	send_fds(c, "z", 1, &p[1], 1);
	close(p[1]);
	ok(recv_fds(sv.fd, buf, sizeof buf, fds, -1, &n, 0, &fl) == 1 && n == 0 && (fl & MSG_CTRUNC),
	   "no control buffer: MSG_CTRUNC");
	ok(read(p[0], buf, sizeof buf) == 0, "and the file was closed");
	close(p[0]);

	/* MSG_PEEK passes copies; the real read passes them again. */
	pipe(p);
	send_fds(c, "pk", 2, &p[1], 1);
	int peeked = -1, got = -1;
	recv_fds(sv.fd, buf, sizeof buf, fds, 4, &n, MSG_PEEK, NULL);
	if (n)
		peeked = fds[0];
	recv_fds(sv.fd, buf, sizeof buf, fds, 4, &n, 0, NULL);
	if (n)
		got = fds[0];
	ok(peeked >= 0 && got >= 0 && peeked != got, "MSG_PEEK installs a copy, the read another");
	close(peeked);
	close(got);
	close(p[1]);
	close(p[0]);

	/* A stream read stops after the bytes that carried files. */
	pipe(p);
	send_fds(c, "abc", 3, &p[1], 1);
	send(c, "def", 3, 0);
	ok(recv_fds(sv.fd, buf, sizeof buf, fds, 4, &n, 0, NULL) == 3 && n == 1,
	   "a stream read stops after the message with files");
	if (n)
		close(fds[0]);
	ok(recv(sv.fd, buf, sizeof buf, 0) == 3 && !memcmp(buf, "def", 3), "the next read has the rest");

	/* Files in flight when the receiver closes are closed with it. */
	send_fds(c, "w", 1, &p[1], 1);
	close(p[1]);
	close(sv.fd);
	ok(read(p[0], buf, sizeof buf) == 0, "unread files are closed with the socket");
	close(p[0]);
	close(c);
	close(sv.l);
	unlink("scm.sock");

	/* A socket passed over a socket, then used. */
	int q[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	send_fds(s[0], "s", 1, &q[1], 1);
	close(q[1]);
	ok(recv_fds(s[1], buf, sizeof buf, fds, 4, &n, 0, NULL) == 1 && n == 1 &&
		   write(fds[0], "via", 3) == 3 && read(q[0], buf, sizeof buf) == 3 &&
		   !memcmp(buf, "via", 3),
	   "a socket passed over a socket works at the other end");
	if (n)
		close(fds[0]);
	ok(read(q[0], buf, sizeof buf) == 0, "its last close is its peer's end of file");
	close(q[0]);
	/* A socket in flight to itself: nothing will read it; closing must
	 * not hang or crash (Linux's collector frees it, elfvm keeps it). */
	send_fds(s[0], "self", 4, &s[1], 1);
	send_fds(s[1], "self", 4, &s[0], 1);
	close(s[0]);
	close(s[1]);
	ok(1, "sockets in flight to themselves close");

	/* A cycle: each end of a pair in flight in the other's queue, with a
	 * pipe's write end beside them.  Once the program closes them nothing
	 * can read those messages; the next unix socket to close sets off the
	 * collector, which closes the pipe's end (Linux does the same). */
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	pipe(p);
	send_fds(s[0], "c", 1, &s[0], 1);
	send_fds(s[1], "c", 1, &s[1], 1);
	send_fds(s[1], "c", 1, &p[1], 1);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, q);
	close(q[0]);
	close(q[1]);
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	ok(poll(&pf, 1, 5000) == 1 && read(p[0], buf, sizeof buf) == 0,
	   "a cycle of sockets in flight is collected: the pipe it held sees end of file");
	close(p[0]);

	/* Bad control messages. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	int badfd = 999;
	fails(send_fds(s[0], "x", 1, &badfd, 1), EBADF, "SCM_RIGHTS with a closed fd -> EBADF");
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "x", 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = sizeof ctl + 8;
	fails(sendmsg(s[0], &m, 0), EINVAL, "a control message longer than the buffer -> EINVAL");
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	cm->cmsg_type = 77;
	fails(sendmsg(s[0], &m, 0), EINVAL, "an unknown SOL_SOCKET control message -> EINVAL");
	fails(recv(s[1], buf, 1, MSG_DONTWAIT), EAGAIN, "nothing was sent");
	close(s[0]);
	close(s[1]);
}

static int recv_cred(int s, struct ucred *cr)
{
	char buf[8], ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, sizeof buf };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl
	};
	if (recvmsg(s, &m, 0) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS ||
	    c->cmsg_len != CMSG_LEN(sizeof(struct ucred)))
		return 0;
	memcpy(cr, CMSG_DATA(c), sizeof *cr);
	return 1;
}

static void credentials(void)
{
	int types[2] = { SOCK_STREAM, SOCK_DGRAM };
	for (int i = 0; i < 2; i++) {
		int s[2], on = 1;
		struct ucred cr = { 0 };
		const char *name = types[i] == SOCK_STREAM ? "stream" : "datagram";
		char what[128];
		socketpair(AF_UNIX, types[i], 0, s);
		send(s[0], "nocred", 6, 0);
		snprintf(what, sizeof what, "%s: without SO_PASSCRED no credentials come", name);
		ok(recv_cred(s[1], &cr) == 0, what);
		setsockopt(s[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
		send(s[0], "cred", 4, 0);
		snprintf(what, sizeof what, "%s: SO_PASSCRED: the sender's pid, uid, gid", name);
		ok(recv_cred(s[1], &cr) == 1 && cr.pid == getpid() && cr.uid == getuid() &&
			   cr.gid == getgid(),
		   what);

		char ctl[CMSG_SPACE(sizeof(struct ucred))] = { 0 };
		struct iovec iov = { "sent", 4 };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof ctl };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
		struct ucred mine = { getpid(), getuid(), getgid() };
		memcpy(CMSG_DATA(c), &mine, sizeof mine);
		snprintf(what, sizeof what, "%s: sendmsg with SCM_CREDENTIALS", name);
		ok(sendmsg(s[0], &m, 0) == 4, what);
		memset(&cr, 0, sizeof cr);
		snprintf(what, sizeof what, "%s: they arrive as sent", name);
		ok(recv_cred(s[1], &cr) == 1 && cr.pid == mine.pid && cr.uid == mine.uid &&
			   cr.gid == mine.gid,
		   what);
		struct ucred bad = { 0x3ffffff0, getuid(), getgid() }; /* above any pid_max */
		memcpy(CMSG_DATA(c), &bad, sizeof bad);
		snprintf(what, sizeof what, "%s: SCM_CREDENTIALS with no such pid -> ESRCH", name);
		fails(sendmsg(s[0], &m, 0), ESRCH, what);
		bad = (struct ucred){ getpid(), (uid_t)-1, getgid() };
		memcpy(CMSG_DATA(c), &bad, sizeof bad);
		snprintf(what, sizeof what, "%s: SCM_CREDENTIALS with uid -1 -> EINVAL", name);
		fails(sendmsg(s[0], &m, 0), EINVAL, what);
		c->cmsg_len = CMSG_LEN(sizeof(struct ucred) - 4);
		snprintf(what, sizeof what, "%s: SCM_CREDENTIALS of the wrong size -> EINVAL", name);
		fails(sendmsg(s[0], &m, 0), EINVAL, what);
		struct ucred peer;
		socklen_t len = sizeof peer;
		snprintf(what, sizeof what, "%s pair: SO_PEERCRED is ours", name);
		ok(getsockopt(s[0], SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.pid == getpid() &&
			   peer.uid == getuid(),
		   what);
		close(s[0]);
		close(s[1]);
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	enter_workdir("unix-scm");
	rights();
	credentials();
	leave_workdir();
	return bad;
}
