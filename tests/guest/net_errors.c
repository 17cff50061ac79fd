// SPDX-License-Identifier: MIT
/* net_errors: the errors of inet sockets, as Linux gives them.  Families
 * and protocols that do not fit (EPROTONOSUPPORT, EAFNOSUPPORT, EINVAL for
 * a short address), a port taken twice (EADDRINUSE) or an address that is
 * not the machine's (EADDRNOTAVAIL), connecting to a port nobody listens
 * on (ECONNREFUSED, blocking and non-blocking with POLLERR and SO_ERROR
 * read once), calls in the wrong state (EISCONN, ENOTCONN, EINVAL, EPIPE),
 * shutdown(SHUT_RD) of a listener (accept: EINVAL), a peer that closes
 * with unread bytes (ECONNRESET), bad pointers (EFAULT;
 * TCP keeps the bytes, UDP drops the datagram), datagrams with nowhere to go (EDESTADDRREQ) or too big
 * (EMSGSIZE), and unknown options (ENOPROTOOPT). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define BAD ((void *)16)

static struct sockaddr_in lo4(unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A port nobody listens on: bound by a socket that stays open, never
 * listening (Linux answers a SYN there with a reset, as for any closed
 * port), so that no other program can take it meanwhile. */
static int closed_port(int *holder)
{
	struct sockaddr_in a = lo4(0);
	socklen_t l = sizeof(a);
	*holder = socket(AF_INET, SOCK_STREAM, 0);
	bind(*holder, (void *)&a, sizeof(a));
	getsockname(*holder, (void *)&a, &l);
	return ntohs(a.sin_port);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int s, t, v, h, r;
	socklen_t len;
	char buf[64];

	fails(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT,
	      "socket(AF_INET, SOCK_STREAM, IPPROTO_UDP): EPROTONOSUPPORT");
	fails(socket(AF_INET6, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT,
	      "socket(AF_INET6, SOCK_DGRAM, IPPROTO_TCP): EPROTONOSUPPORT");

	/* Addresses. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	fails(bind(s, (void *)&a, 4), EINVAL, "bind with a short address: EINVAL");
	fails(bind(s, (void *)&a6, sizeof(a6)), EAFNOSUPPORT,
	      "bind AF_INET to an AF_INET6 address: EAFNOSUPPORT");
	fails(bind(s, BAD, sizeof(a)), EFAULT, "bind from a bad pointer: EFAULT");
	struct sockaddr_in far = lo4(0);
	inet_pton(AF_INET, "192.0.2.1", &far.sin_addr);
	fails(bind(s, (void *)&far, sizeof(far)), EADDRNOTAVAIL, "bind to 192.0.2.1: EADDRNOTAVAIL");
	ok(bind(s, (void *)&a, sizeof(a)) == 0, "bind 127.0.0.1:0");
	fails(bind(s, (void *)&a, sizeof(a)), EINVAL, "bind twice: EINVAL");
	len = sizeof(a);
	getsockname(s, (void *)&a, &len);
	t = socket(AF_INET, SOCK_STREAM, 0);
	fails(bind(t, (void *)&a, sizeof(a)), EADDRINUSE, "bind a taken port: EADDRINUSE");
	close(t);
	fails(getpeername(s, (void *)&a, &len), ENOTCONN, "getpeername unconnected: ENOTCONN");
	fails(getsockname(s, BAD, &len), EFAULT, "getsockname to a bad pointer: EFAULT");
	fails(recv(s, buf, sizeof(buf), 0), ENOTCONN, "recv unconnected: ENOTCONN");
	fails(send(s, "x", 1, MSG_NOSIGNAL), EPIPE, "send unconnected: EPIPE");
	fails(accept(s, NULL, NULL), EINVAL, "accept without listen: EINVAL");
	fails(shutdown(s, SHUT_RDWR), ENOTCONN, "shutdown unconnected: ENOTCONN");
	close(s);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	int one = 1;
	ok(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0, "set IPV6_V6ONLY");
	a6.sin6_addr.s6_addr[10] = a6.sin6_addr.s6_addr[11] = 0xff;
	a6.sin6_addr.s6_addr[12] = 127;
	a6.sin6_addr.s6_addr[15] = 1;
	fails(bind(s, (void *)&a6, sizeof(a6)), EINVAL, "bind V6ONLY to a v4-mapped address: EINVAL");
	a6.sin6_port = htons(9);
	fails(connect(s, (void *)&a6, sizeof(a6)), ENETUNREACH,
	      "connect V6ONLY to a v4-mapped address: ENETUNREACH");
	close(s);

	/* UDP: two binds, no destination, too big, bad pointers. */
	struct sockaddr_in u = lo4(0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	bind(s, (void *)&u, sizeof(u));
	len = sizeof(u);
	getsockname(s, (void *)&u, &len);
	t = socket(AF_INET, SOCK_DGRAM, 0);
	fails(bind(t, (void *)&u, sizeof(u)), EADDRINUSE, "UDP: bind a taken port: EADDRINUSE");
	fails(send(t, "x", 1, 0), EDESTADDRREQ, "UDP: send with no destination: EDESTADDRREQ");
	static char huge[70000];
	fails(sendto(t, huge, sizeof(huge), 0, (void *)&u, sizeof(u)), EMSGSIZE,
	      "UDP: 70000 bytes: EMSGSIZE");
	fails(sendto(t, BAD, 10, 0, (void *)&u, sizeof(u)), EFAULT,
	      "UDP: send from a bad pointer: EFAULT");
	ok(sendto(t, "kept", 4, 0, (void *)&u, sizeof(u)) == 4, "UDP: a datagram");
	fails(recv(s, BAD, 10, 0), EFAULT, "UDP: recv to a bad pointer: EFAULT");
	fails(recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN,
	      "UDP: and the datagram is dropped, as Linux");
	close(s);
	close(t);

	/* Connecting where nobody listens. */
	int port = closed_port(&h);
	a = lo4(port);
	s = socket(AF_INET, SOCK_STREAM, 0);
	fails(connect(s, (void *)&a, sizeof(a)), ECONNREFUSED, "connect to a closed port: ECONNREFUSED");
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	fails(connect(s, (void *)&a, sizeof(a)), EINPROGRESS,
	      "non-blocking connect to a closed port: EINPROGRESS");
	struct pollfd p = { s, POLLOUT, 0 };
	ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLOUT) && (p.revents & POLLERR),
	   "poll: POLLOUT and POLLERR");
	len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v == ECONNREFUSED,
	   "SO_ERROR: ECONNREFUSED");
	len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v == 0, "SO_ERROR is read once");
	close(s);
	close(h);

	/* A connection: wrong-state calls, EFAULT, ECONNRESET. */
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	a = lo4(0);
	bind(ls, (void *)&a, sizeof(a));
	listen(ls, 4);
	len = sizeof(a);
	getsockname(ls, (void *)&a, &len);
	fails(recv(ls, buf, sizeof(buf), 0), ENOTCONN, "recv on a listener: ENOTCONN");
	s = socket(AF_INET, SOCK_STREAM, 0);
	ok(connect(s, (void *)&a, sizeof(a)) == 0, "connect");
	fails(connect(s, (void *)&a, sizeof(a)), EISCONN, "connect again: EISCONN");
	t = accept(ls, NULL, NULL);
	ok(t >= 0, "accept");
	fails(send(s, BAD, 10, 0), EFAULT, "send from a bad pointer: EFAULT");
	ok(send(s, "abc", 3, 0) == 3, "send 3");
	p = (struct pollfd){ t, POLLIN, 0 };
	poll(&p, 1, 5000);
	fails(recv(t, BAD, 3, 0), EFAULT, "recv to a bad pointer: EFAULT");
	ok(recv(t, buf, sizeof(buf), 0) == 3, "the bytes are still there");
	fails(setsockopt(s, IPPROTO_TCP, 9999, &one, sizeof(one)), ENOPROTOOPT,
	      "unknown TCP option: ENOPROTOOPT");
	fails(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &one, 1), EINVAL, "SO_RCVBUF with 1 byte: EINVAL");
	fails(shutdown(s, 7), EINVAL, "shutdown(7): EINVAL");
	ok(send(s, "unread", 6, 0) == 6, "send bytes the peer will not read");
	p = (struct pollfd){ t, POLLIN, 0 };
	poll(&p, 1, 5000);
	close(t); /* with unread bytes: a reset */
	p = (struct pollfd){ s, POLLIN, 0 };
	ok(poll(&p, 1, 5000) == 1 && (p.revents & (POLLERR | POLLHUP)), "poll: the reset is seen");
	fails(recv(s, buf, sizeof(buf), 0), ECONNRESET, "recv after the reset: ECONNRESET");
	ok(recv(s, buf, sizeof(buf), 0) == 0, "then end-of-file");
	fails(send(s, "x", 1, MSG_NOSIGNAL), EPIPE, "send after the reset: EPIPE");
	close(s);

	/* shutdown(SHUT_RD) stops a listener: accept is EINVAL, and a
	 * connection it had queued is reset. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	ok(connect(s, (void *)&a, sizeof(a)) == 0, "a connection left in the accept queue");
	ok(shutdown(ls, SHUT_RD) == 0, "shutdown(SHUT_RD) of the listener");
	fails(accept(ls, NULL, NULL), EINVAL, "accept after it: EINVAL");
	p = (struct pollfd){ s, POLLIN, 0 };
	ok(poll(&p, 1, 5000) == 1, "the queued connection sees its end");
	r = recv(s, buf, sizeof(buf), 0);
	okf(r == 0 || (r == -1 && errno == ECONNRESET), "recv: end-of-file or ECONNRESET", "%d", r);
	close(s);
	close(ls);
	return bad;
}
