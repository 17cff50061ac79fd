// SPDX-License-Identifier: MIT
/* net_unix_stream: AF_UNIX stream sockets by name, as on Linux.  bind on a
 * path makes an S_IFSOCK node (stat, readdir's DT_SOCK, open -> ENXIO,
 * EADDRINUSE when the name exists, unlink removes it); abstract names are
 * length-significant; bind with only the family autobinds "\0XXXXX".
 * listen/accept/connect between threads, with the addresses and lengths
 * getsockname, getpeername and accept report, SO_PEERCRED, a backlog that
 * answers EAGAIN to a non-blocking connect when full and holds a blocking
 * one until accept; MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT, FIONREAD,
 * shutdown, ECONNRESET, EPIPE with SIGPIPE unless MSG_NOSIGNAL; poll and
 * edge-triggered epoll (EPOLLIN, EPOLLRDHUP, EPOLLHUP); the options servers
 * set; and the errors connect, listen, accept and friends give. */
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
#include <unistd.h>

#include "check.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
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

/* An abstract name: "\0" then name, len bytes of sun_path in all. */
static socklen_t abstract_of(struct sockaddr_un *a, const char *name, size_t len)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path + 1, name, len - 1);
	return offsetof(struct sockaddr_un, sun_path) + len;
}

static int listener(const char *path, int backlog)
{
	struct sockaddr_un a = addr_of(path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(s, (struct sockaddr *)&a, PATHLEN(path)) != 0 || listen(s, backlog) != 0)
		return -1;
	return s;
}

static int client(const char *path, int flags)
{
	struct sockaddr_un a = addr_of(path);
	int c = socket(AF_UNIX, SOCK_STREAM | flags, 0);
	if (connect(c, (struct sockaddr *)&a, PATHLEN(path)) != 0) {
		int e = errno;
		close(c);
		errno = e;
		return -1;
	}
	return c;
}

static void names(void)
{
	struct sockaddr_un a = addr_of("srv.sock"), got;
	socklen_t len;
	struct stat st;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	ok(s >= 0, "socket(AF_UNIX, SOCK_STREAM)");
	len = sizeof got;
	ok(getsockname(s, (struct sockaddr *)&got, &len) == 0 && len == sizeof(sa_family_t) &&
		   got.sun_family == AF_UNIX,
	   "an unbound socket's name is the family alone");
	ok(bind(s, (struct sockaddr *)&a, PATHLEN("srv.sock")) == 0, "bind to a path");
	ok(stat("srv.sock", &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0755,
	   "the path is an S_IFSOCK node, mode 0777 less the umask");
	DIR *d = opendir(".");
	struct dirent *e;
	int dt = -1;
	while (d && (e = readdir(d)))
		if (!strcmp(e->d_name, "srv.sock"))
			dt = e->d_type;
	closedir(d);
	ok(dt == DT_SOCK, "readdir says DT_SOCK");
	fails(open("srv.sock", O_RDWR), ENXIO, "open() of a socket node -> ENXIO");
	len = sizeof got;
	ok(getsockname(s, (struct sockaddr *)&got, &len) == 0 && len == PATHLEN("srv.sock") &&
		   !strcmp(got.sun_path, "srv.sock"),
	   "getsockname: the path, its length up to the NUL");
	struct sockaddr_un b = addr_of("other.sock");
	fails(bind(s, (struct sockaddr *)&b, PATHLEN("other.sock")), EINVAL,
	      "bind a bound socket -> EINVAL");
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	fails(bind(s2, (struct sockaddr *)&a, PATHLEN("srv.sock")), EADDRINUSE,
	      "bind to an existing name -> EADDRINUSE");
	struct sockaddr_un nodir = addr_of("no/such/dir.sock");
	fails(bind(s2, (struct sockaddr *)&nodir, PATHLEN("no/such/dir.sock")), ENOENT,
	      "bind in a missing directory -> ENOENT");
	a.sun_family = AF_INET;
	fails(bind(s2, (struct sockaddr *)&a, PATHLEN("x.sock")), EINVAL,
	      "bind, wrong family -> EINVAL");
	fails(bind(s2, (struct sockaddr *)&a, 1), EINVAL, "bind, 1-byte address -> EINVAL");
	close(s2);

	/* A path with no socket behind it, or one that does not listen. */
	fails(client("missing.sock", 0), ENOENT, "connect to a missing path -> ENOENT");
	put("plain", "x");
	fails(client("plain", 0), ECONNREFUSED, "connect to a regular file -> ECONNREFUSED");
	fails(client("srv.sock", 0), ECONNREFUSED, "connect to a socket not listening -> ECONNREFUSED");
	int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un da = addr_of("dg.sock");
	bind(dg, (struct sockaddr *)&da, PATHLEN("dg.sock"));
	fails(client("dg.sock", 0), EPROTOTYPE, "connect a stream to a datagram socket -> EPROTOTYPE");
	close(dg);
	fails(client("dg.sock", 0), ECONNREFUSED, "a name whose socket closed -> ECONNREFUSED");
	close(s);
	ok(unlink("srv.sock") == 0 && stat("srv.sock", &st) == -1, "unlink removes the name");

	/* Abstract names: the bytes after the NUL, every one of them. */
	struct sockaddr_un x, y;
	/* The pid keeps the native runs of several builds apart: Linux has
	 * one abstract namespace for the whole host. */
	char nm[32];
	int k = snprintf(nm, sizeof nm, "elfvm-abs.%d", (int)getpid());
	socklen_t xl = abstract_of(&x, nm, k + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(bind(s, (struct sockaddr *)&x, xl) == 0 && listen(s, 4) == 0,
	   "bind and listen, an abstract name");
	len = sizeof got;
	ok(getsockname(s, (struct sockaddr *)&got, &len) == 0 && len == xl && !memcmp(&got, &x, xl),
	   "getsockname: the abstract name and its exact length");
	s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	fails(bind(s2, (struct sockaddr *)&x, xl), EADDRINUSE, "the same abstract name -> EADDRINUSE");
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(connect(c, (struct sockaddr *)&x, xl) == 0, "connect to the abstract name");
	int a1 = accept(s, NULL, NULL);
	ok(a1 >= 0 && write(c, "hi", 2) == 2, "accept, write");
	char buf[16];
	ok(read(a1, buf, sizeof buf) == 2 && !memcmp(buf, "hi", 2), "read on the accepted end");
	close(a1);
	close(c);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t yl = abstract_of(&y, nm, k + 2); /* its NUL too */
	fails(connect(c, (struct sockaddr *)&y, yl), ECONNREFUSED,
	      "one more NUL is another abstract name -> ECONNREFUSED");
	yl = abstract_of(&y, nm, k);
	fails(connect(c, (struct sockaddr *)&y, yl), ECONNREFUSED, "one less byte too");
	close(c);
	close(s);
	close(s2);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(bind(s, (struct sockaddr *)&x, xl) == 0, "an abstract name is free again once closed");
	close(s);

	/* Autobind. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	sa_family_t fam = AF_UNIX;
	ok(bind(s, (struct sockaddr *)&fam, sizeof fam) == 0, "bind with the family alone: autobind");
	len = sizeof got;
	ok(getsockname(s, (struct sockaddr *)&got, &len) == 0 &&
		   len == offsetof(struct sockaddr_un, sun_path) + 6 && got.sun_path[0] == 0,
	   "an autobound name: NUL and five hex digits");
	close(s);
}

struct conn_arg {
	const char *path;
	int fd;
	char data[64];
};

static void *connect_and_send(void *p)
{
	struct conn_arg *a = p;
	a->fd = client(a->path, 0);
	if (a->fd >= 0) {
		write(a->fd, "hello ", 6);
		usleep(20000);
		write(a->fd, "world", 5);
	}
	return NULL;
}

static void connections(void)
{
	struct sockaddr_un got;
	socklen_t len;
	int s = listener("conn.sock", 8), v;
	char buf[64];

	ok(s >= 0, "bind and listen on a path");
	len = sizeof v;
	ok(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 1, "SO_ACCEPTCONN: 1");
	struct conn_arg ca = { .path = "conn.sock" };
	pthread_t t;
	pthread_create(&t, NULL, connect_and_send, &ca);
	len = sizeof got;
	memset(&got, 0x55, sizeof got);
	int a = accept(s, (struct sockaddr *)&got, &len);
	ok(a >= 0 && len == sizeof(sa_family_t) && got.sun_family == AF_UNIX,
	   "accept: a client without a name has the family alone");
	ok(recv(a, buf, 11, MSG_WAITALL) == 11 && !memcmp(buf, "hello world", 11),
	   "MSG_WAITALL waits for both writes");
	pthread_join(t, NULL);
	len = sizeof got;
	ok(getpeername(ca.fd, (struct sockaddr *)&got, &len) == 0 && len == PATHLEN("conn.sock") &&
		   !strcmp(got.sun_path, "conn.sock"),
	   "the client's peer is the listener's path");
	len = sizeof got;
	ok(getsockname(a, (struct sockaddr *)&got, &len) == 0 && !strcmp(got.sun_path, "conn.sock"),
	   "the accepted end has the listener's name");
	len = sizeof got;
	ok(getsockname(ca.fd, (struct sockaddr *)&got, &len) == 0 && len == sizeof(sa_family_t),
	   "the client stays unnamed");
	struct ucred cr;
	len = sizeof cr;
	ok(getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof cr &&
		   cr.pid == getpid() && cr.uid == getuid() && cr.gid == getgid(),
	   "SO_PEERCRED on the accepted end: our pid, uid, gid");
	len = sizeof cr;
	ok(getsockopt(ca.fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.pid == getpid(),
	   "SO_PEERCRED on the client: the listener's");

	/* Reading. */
	send(ca.fd, "abcdef", 6, 0);
	int n = -1;
	ok(ioctl(a, FIONREAD, &n) == 0 && n == 6, "FIONREAD: 6 bytes");
	n = -1;
	ok(ioctl(a, SIOCATMARK, &n) == 0 && n == 0, "SIOCATMARK: no urgent mark");
	ok(recv(a, buf, 3, MSG_PEEK) == 3 && !memcmp(buf, "abc", 3), "MSG_PEEK looks");
	ok(recv(a, buf, sizeof buf, 0) == 6 && !memcmp(buf, "abcdef", 6), "then reads the same");
	fails(recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN, "MSG_DONTWAIT on nothing -> EAGAIN");
	struct timeval tv = { 0, 50000 };
	setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	double t0 = now();
	fails(recv(a, buf, sizeof buf, 0), EAGAIN, "SO_RCVTIMEO: a blocking recv ends with EAGAIN");
	ok(now() - t0 > 0.03, "after the timeout");
	tv.tv_usec = 0;
	setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	send(ca.fd, "12", 2, 0);
	send(ca.fd, "345", 3, 0);
	ok(recv(a, buf, sizeof buf, 0) == 5 && !memcmp(buf, "12345", 5), "a stream joins two sends");

	/* Shutdown and close. */
	signal(SIGPIPE, on_pipe);
	ok(shutdown(ca.fd, SHUT_WR) == 0, "shutdown(SHUT_WR)");
	ok(read(a, buf, sizeof buf) == 0, "the peer reads end of file");
	fails(write(ca.fd, "x", 1), EPIPE, "our write -> EPIPE");
	ok(pipes == 1, "and SIGPIPE");
	fails(send(ca.fd, "x", 1, MSG_NOSIGNAL), EPIPE, "MSG_NOSIGNAL: EPIPE");
	ok(pipes == 1, "without SIGPIPE");
	ok(write(a, "back", 4) == 4 && read(ca.fd, buf, sizeof buf) == 4, "the other way still works");
	write(a, "unread", 6);
	close(ca.fd);
	fails(read(a, buf, sizeof buf), ECONNRESET, "closed with unread bytes -> ECONNRESET");
	ok(read(a, buf, sizeof buf) == 0, "once; then end of file");
	fails(send(a, "x", 1, 0), EPIPE, "writing to a closed peer -> EPIPE");
	ok(pipes == 2, "with SIGPIPE");
	signal(SIGPIPE, SIG_DFL);
	close(a);

	/* accept4's flags. */
	int c = client("conn.sock", 0);
	a = accept4(s, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ok(a >= 0 && (fcntl(a, F_GETFL) & O_NONBLOCK) && (fcntl(a, F_GETFD) & FD_CLOEXEC),
	   "accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)");
	fails(read(a, buf, 1), EAGAIN, "the accepted end does not block");
	close(a);
	close(c);
	int fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	fails(accept(s, NULL, NULL), EAGAIN, "a non-blocking accept with nothing queued -> EAGAIN");
	fcntl(s, F_SETFL, fl);
	close(s);
	unlink("conn.sock");
}

static void *accept_later(void *p)
{
	int s = *(int *)p;
	usleep(50000);
	int a = accept(s, NULL, NULL);
	return (void *)(intptr_t)a;
}

static void backlog(void)
{
	int s = listener("bl.sock", 1);
	int c[4];

	/* Linux queues backlog + 1 connections before it refuses. */
	c[0] = client("bl.sock", SOCK_NONBLOCK);
	c[1] = client("bl.sock", SOCK_NONBLOCK);
	ok(c[0] >= 0 && c[1] >= 0, "listen(1): two connections wait");
	c[2] = client("bl.sock", SOCK_NONBLOCK);
	ok(c[2] == -1 && errno == EAGAIN, "a third non-blocking connect -> EAGAIN");
	pthread_t t;
	pthread_create(&t, NULL, accept_later, &s);
	double t0 = now();
	c[3] = client("bl.sock", 0);
	ok(c[3] >= 0 && now() - t0 > 0.03, "a blocking connect waits for an accept");
	void *r;
	pthread_join(t, &r);
	close((int)(intptr_t)r);
	for (int i = 0; i < 4; i++)
		if (c[i] >= 0)
			close(c[i]);
	close(s);
	unlink("bl.sock");
	/* The listener closes with connections never accepted. */
	s = listener("bl.sock", 1);
	c[0] = client("bl.sock", 0);
	write(c[0], "lost", 4);
	close(s);
	char buf[8];
	ssize_t n = read(c[0], buf, sizeof buf);
	ok(n == -1 && errno == ECONNRESET, "the listener closed before accept: ECONNRESET");
	close(c[0]);
	unlink("bl.sock");
}

static void readiness(void)
{
	int s = listener("ev.sock", 4);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, out[4];

	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	ok(epoll_wait(ep, out, 4, 0) == 0, "a listener with nobody waiting: no events");
	int c = client("ev.sock", 0);
	ok(epoll_wait(ep, out, 4, 100) == 1 && out[0].events == EPOLLIN,
	   "a pending connection: EPOLLIN");
	int a = accept(s, NULL, NULL);
	ok(epoll_wait(ep, out, 4, 0) == 0, "accepted: quiet again");
	close(ep);

	ep = epoll_create1(0);
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.fd = a;
	epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
	ok(epoll_wait(ep, out, 4, 0) == 0, "edge-triggered: nothing yet");
	write(c, "one", 3);
	ok(epoll_wait(ep, out, 4, 100) == 1 && out[0].events == EPOLLIN, "a write: EPOLLIN");
	ok(epoll_wait(ep, out, 4, 0) == 0, "edge-triggered: once");
	write(c, "two", 3);
	ok(epoll_wait(ep, out, 4, 100) == 1, "another write: another edge");
	char buf[16];
	read(a, buf, sizeof buf);
	shutdown(c, SHUT_WR);
	ok(epoll_wait(ep, out, 4, 100) == 1 && out[0].events == (EPOLLIN | EPOLLRDHUP),
	   "the peer's SHUT_WR: EPOLLIN | EPOLLRDHUP");
	close(c);
	ok(epoll_wait(ep, out, 4, 100) == 1 && (out[0].events & EPOLLHUP), "the peer's close: EPOLLHUP");
	close(ep);
	struct pollfd pf = { .fd = a, .events = POLLIN | POLLOUT | POLLRDHUP };
	ok(poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP),
	   "poll after the peer closed: IN, OUT, RDHUP, HUP");
	close(a);
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	pf = (struct pollfd){ .fd = u, .events = POLLIN | POLLOUT };
	ok(poll(&pf, 1, 0) == 1 && pf.revents == (POLLOUT | POLLHUP),
	   "an unconnected stream socket polls OUT | HUP");
	close(u);
	close(s);
	unlink("ev.sock");
}

static void options(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), v = 0;
	socklen_t len = sizeof v;

	ok(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM, "SO_TYPE");
	len = sizeof v;
	ok(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == AF_UNIX, "SO_DOMAIN");
	len = sizeof v;
	ok(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v == 0, "SO_ERROR: 0");
	len = sizeof v;
	ok(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 0, "SO_ACCEPTCONN: 0");
	v = 1;
	ok(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v) == 0, "SO_REUSEADDR is accepted");
	v = 0;
	len = sizeof v;
	ok(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &len) == 0 && v == 1, "and reads back");
	v = 1;
	ok(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v) == 0, "SO_KEEPALIVE is accepted");
	v = 7;
	len = sizeof v;
	ok(setsockopt(s, SOL_SOCKET, SO_DEBUG, &v, sizeof v) == 0 &&
		   getsockopt(s, SOL_SOCKET, SO_DEBUG, &v, &len) == 0 && v == 1,
	   "SO_DEBUG: a flag, reads back 1");
	struct linger l = { 1, 5 }, lg;
	len = sizeof lg;
	ok(setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0 &&
		   getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff &&
		   lg.l_linger == 5,
	   "SO_LINGER sets and reads back");
	fails(setsockopt(s, SOL_SOCKET, SO_LINGER, &l, 4), EINVAL, "SO_LINGER, short -> EINVAL");
	v = 65536;
	len = sizeof v;
	ok(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0 &&
		   getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v == 131072,
	   "SO_SNDBUF: set 65536, reads 131072");
	v = 65536;
	len = sizeof v;
	ok(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) == 0 &&
		   getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v == 131072,
	   "SO_RCVBUF: set 65536, reads 131072");
	v = 1;
	ok(setsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, sizeof v) == 0, "SO_PASSCRED");
	fails(setsockopt(s, SOL_SOCKET, SO_PEERCRED, &v, sizeof v), ENOPROTOOPT,
	      "setting SO_PEERCRED -> ENOPROTOOPT");
	fails(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT,
	      "an unknown option -> ENOPROTOOPT");
	fails(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL, "a short int -> EINVAL");
	fails(setsockopt(s, 6 /* IPPROTO_TCP */, 1, &v, sizeof v), EOPNOTSUPP,
	      "another level -> EOPNOTSUPP");
	struct ucred cr;
	len = sizeof cr;
	ok(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.pid == 0 && cr.uid == (uid_t)-1,
	   "SO_PEERCRED unconnected: pid 0, uid -1");
	close(s);
}

static void errors(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), c;
	char buf[8];

	fails(listen(s, 1), EINVAL, "listen on an unbound socket -> EINVAL");
	fails(accept(s, NULL, NULL), EINVAL, "accept on a socket not listening -> EINVAL");
	fails(send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN, "send unconnected -> ENOTCONN");
	fails(recv(s, buf, 1, MSG_DONTWAIT), EINVAL, "recv unconnected -> EINVAL");
	socklen_t len = 16;
	struct sockaddr_un a;
	fails(getpeername(s, (struct sockaddr *)&a, &len), ENOTCONN,
	      "getpeername unconnected -> ENOTCONN");
	fails(socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT, "protocol 7 -> EPROTONOSUPPORT");
	fails(socket(AF_UNIX, 9, 0), ESOCKTNOSUPPORT, "type 9 -> ESOCKTNOSUPPORT");
	fails(getsockname(s, (struct sockaddr *)8, &len), EFAULT,
	      "getsockname to a bad pointer -> EFAULT");
	struct sockaddr_un p = addr_of("err.sock");
	fails(connect(s, (struct sockaddr *)&p, sizeof(sa_family_t)), EINVAL,
	      "connect with the family alone -> EINVAL");
	fails(connect(s, (struct sockaddr *)16, PATHLEN("err.sock")), EFAULT,
	      "connect from a bad pointer -> EFAULT");
	int l = listener("err.sock", 2);
	fails(connect(l, (struct sockaddr *)&p, PATHLEN("err.sock")), EINVAL,
	      "connect on a listener -> EINVAL");
	ok(connect(s, (struct sockaddr *)&p, PATHLEN("err.sock")) == 0, "connect");
	fails(connect(s, (struct sockaddr *)&p, PATHLEN("err.sock")), EISCONN,
	      "connect again -> EISCONN");
	fails(sendto(s, "x", 1, 0, (struct sockaddr *)&p, PATHLEN("err.sock")), EISCONN,
	      "sendto with an address on a connection -> EISCONN");
	fails(send(s, (void *)8, 1, 0), EFAULT, "send from a bad pointer -> EFAULT");
	c = accept(l, NULL, NULL);
	write(s, "z", 1);
	fails(recv(c, (void *)8, 1, 0), EFAULT, "recv to a bad pointer -> EFAULT");
	close(c);
	close(s);
	close(l);
	unlink("err.sock");
}

/* A small server: each client sends a number, gets it back doubled. */
#define CLIENTS 4
static void *echo_client(void *p)
{
	long i = (long)p, got = -1;
	int c = client("echo.sock", 0);
	if (c < 0)
		return (void *)-1L;
	write(c, &i, sizeof i);
	read(c, &got, sizeof got);
	close(c);
	return (void *)(got == 2 * i ? 0L : -1L);
}

static void server(void)
{
	int s = listener("echo.sock", CLIENTS);
	pthread_t t[CLIENTS];
	for (long i = 0; i < CLIENTS; i++)
		pthread_create(&t[i], NULL, echo_client, (void *)(i + 1));
	int served = 0;
	for (int i = 0; i < CLIENTS; i++) {
		int a = accept(s, NULL, NULL);
		long v;
		if (a >= 0 && read(a, &v, sizeof v) == sizeof v) {
			v *= 2;
			served += write(a, &v, sizeof v) == sizeof v;
		}
		close(a);
	}
	int fine = served == CLIENTS;
	for (int i = 0; i < CLIENTS; i++) {
		void *r;
		pthread_join(t[i], &r);
		fine &= r == NULL;
	}
	ok(fine, "a server answers four client threads");
	close(s);
	unlink("echo.sock");
}

/* An edge-triggered, non-blocking pump: 1 MiB through a connection by
 * path, both ends driven by one epoll set, each waking only on edges. */
static void et_pump(void)
{
	enum { TOTAL = 1 << 20 };
	static unsigned char out[TOTAL], in[TOTAL];
	int s = listener("et.sock", 1);
	int c = client("et.sock", SOCK_NONBLOCK);
	int a = accept4(s, NULL, NULL, SOCK_NONBLOCK);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.fd = c }, evs[2];
	size_t sent = 0, got = 0;
	int rounds = 0;

	for (size_t i = 0; i < TOTAL; i++)
		out[i] = (unsigned char)(i * 31 + i / 4093);
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET, .data.fd = a };
	epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
	while (got < TOTAL && rounds < 100000) {
		int n = epoll_wait(ep, evs, 2, 2000);
		if (n <= 0)
			break;
		rounds++;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == c) {
				ssize_t r;
				while (sent < TOTAL &&
				       (r = write(c, out + sent, MIN(TOTAL - sent, 70000))) > 0)
					sent += r;
			} else {
				ssize_t r;
				while ((r = read(a, in + got, TOTAL - got)) > 0)
					got += r;
			}
		}
	}
	ok(got == TOTAL && !memcmp(in, out, TOTAL), "edge-triggered epoll pumps 1 MiB without a stall");
	close(ep);
	close(a);
	close(c);
	close(s);
	unlink("et.sock");
}

/* Many short connections at once: 8 client threads, 200 connections
 * each (every other one non-blocking, retrying on EAGAIN while the
 * backlog of 4 is full), served by one epoll loop on an abstract name. */
#define STRESS_T 8
#define STRESS_N 200
static struct sockaddr_un stress_addr = { AF_UNIX };
static socklen_t stress_len; /* "\0elfvm-stress.PID" */
static int stress_fails;

static void *stress_client(void *p)
{
	long id = (long)p;
	for (int i = 0; i < STRESS_N; i++) {
		int c = socket(AF_UNIX, SOCK_STREAM | ((i & 1) ? 0 : SOCK_NONBLOCK), 0);
		while (connect(c, (struct sockaddr *)&stress_addr, stress_len) != 0) {
			if (errno != EAGAIN) {
				__atomic_add_fetch(&stress_fails, 1, __ATOMIC_RELAXED);
				break;
			}
			usleep(100);
		}
		fcntl(c, F_SETFL, 0);
		long v = id * 1000 + i, got = -1;
		if (write(c, &v, sizeof v) != sizeof v || read(c, &got, sizeof got) != sizeof got ||
		    got != v + 1)
			__atomic_add_fetch(&stress_fails, 1, __ATOMIC_RELAXED);
		close(c);
	}
	return NULL;
}

static void stress(void)
{
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = epoll_create1(0), served = 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
	pthread_t t[STRESS_T];

	stress_len = sizeof(sa_family_t) + 1 +
		     snprintf(stress_addr.sun_path + 1, sizeof stress_addr.sun_path - 1,
			      "elfvm-stress.%d", (int)getpid());
	bind(l, (struct sockaddr *)&stress_addr, stress_len);
	listen(l, 4);
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	for (long i = 0; i < STRESS_T; i++)
		pthread_create(&t[i], NULL, stress_client, (void *)i);
	while (served < STRESS_T * STRESS_N) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, 5000);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, a;
			long v;
			if (fd == l) {
				while ((a = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP,
								 .data.fd = a };
					epoll_ctl(ep, EPOLL_CTL_ADD, a, &e);
				}
			} else if (read(fd, &v, sizeof v) == sizeof v) {
				v++;
				served += write(fd, &v, sizeof v) == sizeof v;
			} else {
				close(fd); /* the client is gone: end of file */
			}
		}
	}
	for (int i = 0; i < STRESS_T; i++)
		pthread_join(t[i], NULL);
	ok_vals(served == STRESS_T * STRESS_N && stress_fails == 0,
		"1600 connections from 8 threads through one epoll server", served, stress_fails);
	close(ep);
	close(l);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	enter_workdir("unix-stream");
	names();
	connections();
	backlog();
	readiness();
	options();
	errors();
	server();
	et_pump();
	stress();
	leave_workdir();
	return bad;
}
