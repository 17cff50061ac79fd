// SPDX-License-Identifier: MIT
/* net_udp: UDP over loopback as on Linux, IPv4 and IPv6.  Datagrams go
 * both ways between two bound sockets with sendto/recvfrom (the sender's
 * address comes back), through connect/send/recv, and with sendmmsg and
 * recvmmsg; boundaries are kept (a short read truncates with MSG_TRUNC and
 * the rest of that datagram is gone); MSG_PEEK leaves it; FIONREAD is the
 * next datagram's size; a dual-stack socket talks to IPv4 through
 * v4-mapped addresses; an empty socket answers EAGAIN to MSG_DONTWAIT;
 * IP_PKTINFO and IPV6_RECVPKTINFO tell each datagram's destination, and
 * IP_PKTINFO on send picks the source. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

/* A socket bound to addr with the kernel's port; its address in *a. */
static int bound(int fam, const char *addr, struct sockaddr_storage *a, socklen_t *len)
{
	int s = socket(fam, SOCK_DGRAM, 0);
	memset(a, 0, sizeof(*a));
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (void *)a;
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)a;
		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		*len = sizeof(*sin6);
	}
	if (bind(s, (void *)a, *len))
		return -1;
	*len = sizeof(*a);
	getsockname(s, (void *)a, len);
	return s;
}

static void both_ways(int fam, const char *addr, const char *name)
{
	struct sockaddr_storage aa, ba, from;
	socklen_t al, bl, fl;
	char buf[2048], what[128];
	int a = bound(fam, addr, &aa, &al), b = bound(fam, addr, &ba, &bl);
	snprintf(what, sizeof(what), "%s: two bound sockets", name);
	ok(a >= 0 && b >= 0, what);
	snprintf(what, sizeof(what), "%s: sendto a -> b", name);
	ok(sendto(a, "ping", 4, 0, (void *)&ba, bl) == 4, what);
	fl = sizeof(from);
	snprintf(what, sizeof(what), "%s: recvfrom gives the datagram and a's address", name);
	ok(recvfrom(b, buf, sizeof(buf), 0, (void *)&from, &fl) == 4 && !memcmp(buf, "ping", 4) &&
		   fl == al && !memcmp(&from, &aa, al),
	   what);
	snprintf(what, sizeof(what), "%s: sendto b -> a", name);
	ok(sendto(b, "pong!", 5, 0, (void *)&aa, al) == 5, what);
	snprintf(what, sizeof(what), "%s: recv on a", name);
	ok(recv(a, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "pong!", 5), what);

	/* Boundaries, truncation, peek, FIONREAD. */
	sendto(a, "0123456789", 10, 0, (void *)&ba, bl);
	sendto(a, "abc", 3, 0, (void *)&ba, bl);
	int v = 0;
	snprintf(what, sizeof(what), "%s: FIONREAD is the first datagram's size", name);
	ok(ioctl(b, FIONREAD, &v) == 0 && v == 10, what);
	snprintf(what, sizeof(what), "%s: MSG_PEEK", name);
	ok(recv(b, buf, sizeof(buf), MSG_PEEK) == 10, what);
	struct iovec iov = { buf, 4 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	snprintf(what, sizeof(what), "%s: a short read truncates with MSG_TRUNC", name);
	ok(recvmsg(b, &mh, 0) == 4 && (mh.msg_flags & MSG_TRUNC) && !memcmp(buf, "0123", 4), what);
	snprintf(what, sizeof(what), "%s: the next datagram is the next one", name);
	ok(recv(b, buf, sizeof(buf), MSG_TRUNC) == 3 && !memcmp(buf, "abc", 3), what);
	snprintf(what, sizeof(what), "%s: MSG_DONTWAIT on nothing: EAGAIN", name);
	fails(recv(b, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, what);

	/* connect, send, recv; poll. */
	snprintf(what, sizeof(what), "%s: connect a to b", name);
	ok(connect(a, (void *)&ba, bl) == 0, what);
	snprintf(what, sizeof(what), "%s: send on the connected socket", name);
	ok(send(a, "connected", 9, 0) == 9, what);
	struct pollfd p = { b, POLLIN, 0 };
	snprintf(what, sizeof(what), "%s: poll: b readable", name);
	ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), what);
	snprintf(what, sizeof(what), "%s: b receives it", name);
	ok(recv(b, buf, sizeof(buf), 0) == 9, what);
	struct sockaddr_storage peer;
	fl = sizeof(peer);
	snprintf(what, sizeof(what), "%s: getpeername is b", name);
	ok(getpeername(a, (void *)&peer, &fl) == 0 && fl == bl && !memcmp(&peer, &ba, bl), what);

	/* sendmmsg / recvmmsg: three datagrams. */
	char m0[] = "one", m1[] = "two!", m2[] = "three";
	struct iovec iv[3] = { { m0, 3 }, { m1, 4 }, { m2, 5 } };
	struct mmsghdr mm[3];
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &iv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	snprintf(what, sizeof(what), "%s: sendmmsg sends 3", name);
	ok(sendmmsg(a, mm, 3, 0) == 3, what);
	char r0[16], r1[16], r2[16];
	struct iovec ri[3] = { { r0, 16 }, { r1, 16 }, { r2, 16 } };
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov = &ri[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	snprintf(what, sizeof(what), "%s: recvmmsg receives 3 with their lengths", name);
	ok(recvmmsg(b, mm, 3, MSG_DONTWAIT, NULL) == 3 && mm[0].msg_len == 3 && mm[1].msg_len == 4 &&
		   mm[2].msg_len == 5 && !memcmp(r2, "three", 5),
	   what);
	close(a);
	close(b);
}

static void dual_stack(void)
{
	struct sockaddr_storage sa, from;
	socklen_t sl, fl = sizeof(from);
	char buf[64], txt[64];
	int s6 = bound(AF_INET6, "::", &sa, &sl);
	int s4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = ((struct sockaddr_in6 *)&sa)->sin6_port };
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	ok(sendto(s4, "v4", 2, 0, (void *)&to, sizeof(to)) == 2, "dual-stack: IPv4 sendto ::'s port");
	ok(recvfrom(s6, buf, sizeof(buf), 0, (void *)&from, &fl) == 2 &&
		   fl == sizeof(struct sockaddr_in6),
	   "dual-stack: the AF_INET6 socket receives it");
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, txt, sizeof(txt));
	printf("dual-stack: sender %s\n", txt);
	ok(sendto(s6, "back", 4, 0, (void *)&from, fl) == 4,
	   "dual-stack: reply to the v4-mapped sender");
	ok(recv(s4, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "back", 4), "dual-stack: IPv4 gets it");
	close(s4);
	close(s6);
}

/* IP_PKTINFO / IPV6_RECVPKTINFO: the destination and interface of each
 * datagram; IP_PKTINFO on send picks the source; other control messages
 * are EINVAL. */
static void pktinfo(void)
{
	struct sockaddr_storage ba, aa;
	socklen_t bl, al;
	int b = bound(AF_INET, "127.0.0.1", &ba, &bl), a = bound(AF_INET, "127.0.0.1", &aa, &al),
	    one = 1;
	char buf[64], ctl[256];
	ok(setsockopt(b, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) == 0, "set IP_PKTINFO");
	sendto(a, "pi", 2, 0, (void *)&ba, bl);
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
	};
	ok(recvmsg(b, &mh, 0) == 2, "recvmsg with a control buffer");
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi;
	int got = c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO;
	if (got)
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	ok(got && pi.ipi_ifindex == 1 && pi.ipi_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		   pi.ipi_spec_dst.s_addr == htonl(INADDR_LOOPBACK) &&
		   mh.msg_controllen == CMSG_SPACE(sizeof(pi)),
	   "IP_PKTINFO: lo, 127.0.0.1");

	/* Sending with IP_PKTINFO naming the source. */
	union {
		char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr sh = { .msg_name = &ba,
			     .msg_namelen = bl,
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	c = CMSG_FIRSTHDR(&sh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	memset(&pi, 0, sizeof(pi));
	pi.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	iov.iov_len = 3;
	memcpy(buf, "src", 3);
	ok(sendmsg(a, &sh, 0) == 3, "sendmsg with IP_PKTINFO");
	ok(recv(b, buf, sizeof(buf), 0) == 3, "and it arrives");
	c->cmsg_type = 12345;
	fails(sendmsg(a, &sh, 0), EINVAL, "an unknown IPPROTO_IP control message: EINVAL");
	close(a);
	close(b);

	int b6 = bound(AF_INET6, "::1", &ba, &bl), a6 = bound(AF_INET6, "::1", &aa, &al);
	ok(setsockopt(b6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) == 0,
	   "set IPV6_RECVPKTINFO");
	sendto(a6, "pi6", 3, 0, (void *)&ba, bl);
	iov.iov_len = sizeof(buf);
	mh.msg_controllen = sizeof(ctl);
	ok(recvmsg(b6, &mh, 0) == 3, "recvmsg on IPv6");
	c = CMSG_FIRSTHDR(&mh);
	struct in6_pktinfo pi6;
	got = c && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO;
	if (got)
		memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
	ok(got && pi6.ipi6_ifindex == 1 && IN6_IS_ADDR_LOOPBACK(&pi6.ipi6_addr),
	   "IPV6_PKTINFO: lo, ::1");
	close(a6);
	close(b6);
}

int main(void)
{
	both_ways(AF_INET, "127.0.0.1", "127.0.0.1");
	both_ways(AF_INET6, "::1", "::1");
	dual_stack();
	pktinfo();
	return bad;
}
