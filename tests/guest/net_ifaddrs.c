// SPDX-License-Identifier: MIT
/*
 * What a program learns about the machine's network and names, compared
 * with Linux: the loopback interface through glibc's and musl's
 * getifaddrs and if_nameindex (netlink's RTM_GETLINK and RTM_GETADDR
 * dumps), through the SIOCGIF* ioctls on any socket, and through raw
 * netlink requests; getaddrinfo and getnameinfo for localhost and numeric
 * addresses with service names from /etc/services; and netlink's refusals.
 * Only facts that hold on any Linux host are printed (lo is index 1 with
 * 127.0.0.1/8), so the output is the same natively and under elfvm.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "check.h"

/* include/uapi/linux/netlink.h, rtnetlink.h (musl-gcc has no kernel
 * headers) */
#define NETLINK_ROUTE 0
#define NLMSG_DONE 3
#define NLM_F_REQUEST 1
#define NLM_F_DUMP 0x300
#define RTM_NEWLINK 16
#define RTM_GETLINK 18
struct nl_hdr {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};
struct nl_sockaddr {
	sa_family_t family;
	unsigned short pad;
	uint32_t pid, groups;
};
struct nl_ifinfo {
	unsigned char family, pad;
	unsigned short type;
	int index;
	unsigned flags, change;
};
#define NL_ALIGN(n) (((n) + 3) & ~3u)

static void ifaddrs(void)
{
	struct ifaddrs *all, *i;
	int lo4 = 0, lo_link = 0;

	ok(getifaddrs(&all) == 0, "getifaddrs");
	if (bad)
		return;
	for (i = all; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo"))
			continue;
		if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *a = (void *)i->ifa_addr, *m = (void *)i->ifa_netmask;
			lo4 |= a->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && m &&
			       m->sin_addr.s_addr == htonl(0xff000000);
		}
		lo_link |= !i->ifa_addr || i->ifa_addr->sa_family == AF_PACKET;
	}
	freeifaddrs(all);
	ok(lo4, "getifaddrs: lo is up, a loopback, with 127.0.0.1/8");
	ok(lo_link, "getifaddrs: lo's link entry");
}

static void nameindex(void)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	int found = 0;

	ok(ni != NULL, "if_nameindex");
	for (p = ni; p && p->if_index; p++)
		found |= p->if_index == 1 && !strcmp(p->if_name, "lo");
	if (ni)
		if_freenameindex(ni);
	ok(found, "if_nameindex: lo is index 1");
	ok(if_nametoindex("lo") == 1, "if_nametoindex(lo) == 1");
	ok(if_nametoindex("no-such-if0") == 0, "if_nametoindex of an unknown name is 0");
}

static void ioctls(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq q;
	struct ifreq list[16];
	struct ifconf c = { .ifc_len = sizeof(list), .ifc_req = list };
	int found = 0;

	ok(s >= 0, "a UDP socket for the ioctls");
	ok(ioctl(s, SIOCGIFCONF, &c) == 0, "SIOCGIFCONF");
	for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++)
		found |= !strcmp(list[i].ifr_name, "lo") &&
			 ((struct sockaddr_in *)&list[i].ifr_addr)->sin_addr.s_addr ==
				 htonl(INADDR_LOOPBACK);
	ok(found, "SIOCGIFCONF lists lo with 127.0.0.1");
	memset(&q, 0, sizeof(q));
	strcpy(q.ifr_name, "lo");
	ok(ioctl(s, SIOCGIFFLAGS, &q) == 0 && (q.ifr_flags & IFF_UP) && (q.ifr_flags & IFF_LOOPBACK),
	   "SIOCGIFFLAGS lo: up, loopback");
	ok(ioctl(s, SIOCGIFINDEX, &q) == 0 && q.ifr_ifindex == 1, "SIOCGIFINDEX lo: 1");
	ok(ioctl(s, SIOCGIFADDR, &q) == 0 &&
		   ((struct sockaddr_in *)&q.ifr_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "SIOCGIFADDR lo: 127.0.0.1");
	q.ifr_ifindex = 1;
	ok(ioctl(s, SIOCGIFNAME, &q) == 0 && !strcmp(q.ifr_name, "lo"), "SIOCGIFNAME 1: lo");
	strcpy(q.ifr_name, "no-such-if0");
	fails(ioctl(s, SIOCGIFFLAGS, &q), ENODEV, "SIOCGIFFLAGS of an unknown interface: ENODEV");
	fails(ioctl(s, SIOCGIFCONF, (void *)8), EFAULT, "SIOCGIFCONF with a bad pointer: EFAULT");
	close(s);
}

/* A raw RTM_GETLINK dump: messages until NLMSG_DONE, lo among them. */
static void raw_netlink(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct {
		struct nl_hdr h;
		struct nl_ifinfo m;
	} req = { { sizeof(req), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 42, 0 }, { AF_UNSPEC } };
	struct nl_sockaddr k = { .family = AF_NETLINK }, me;
	socklen_t len = sizeof(me);
	char buf[16384];
	int done = 0, lo = 0;

	ok(s >= 0, "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)");
	ok(sendto(s, &req, sizeof(req), 0, (void *)&k, sizeof(k)) == sizeof(req),
	   "RTM_GETLINK dump request");
	ok(getsockname(s, (void *)&me, &len) == 0 && me.family == AF_NETLINK && me.pid != 0,
	   "getsockname: autobound to a port id");
	while (!done) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (ssize_t at = 0; at + (ssize_t)sizeof(struct nl_hdr) <= n;) {
			struct nl_hdr *h = (void *)(buf + at);
			if (h->len < sizeof(*h) || h->len > n - at)
				break;
			at += NL_ALIGN(h->len);
			if (h->seq != 42)
				continue;
			if (h->type == NLMSG_DONE)
				done = 1;
			if (h->type != RTM_NEWLINK)
				continue;
			struct nl_ifinfo *m = (void *)(h + 1);
			lo |= m->index == 1 && (m->flags & IFF_LOOPBACK);
		}
	}
	ok(done, "the dump ends with NLMSG_DONE");
	ok(lo, "the dump has lo as index 1");
	close(s);
	fails(socket(AF_NETLINK, SOCK_RAW, 31), EPROTONOSUPPORT,
	      "socket(AF_NETLINK) of an unknown protocol: EPROTONOSUPPORT");
}

static void resolve(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	char host[64], serv[32];

	ok(getaddrinfo("localhost", "http", &hints, &res) == 0 && res &&
		   ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		   ((struct sockaddr_in *)res->ai_addr)->sin_port == htons(80),
	   "getaddrinfo(localhost, http, AF_INET): 127.0.0.1 port 80");
	if (res)
		freeaddrinfo(res);
	hints = (struct addrinfo){ .ai_family = AF_INET6, .ai_flags = AI_NUMERICHOST };
	ok(getaddrinfo("::1", "443", &hints, &res) == 0 && res &&
		   !memcmp(&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, &in6addr_loopback, 16),
	   "getaddrinfo(::1, numeric host)");
	if (res)
		freeaddrinfo(res);
	struct sockaddr_in a = {
		.sin_family = AF_INET, .sin_port = htons(22), .sin_addr = { htonl(INADDR_LOOPBACK) }
	};
	ok(getnameinfo((void *)&a, sizeof(a), host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST) ==
			   0 &&
		   !strcmp(host, "127.0.0.1") && !strcmp(serv, "ssh"),
	   "getnameinfo(127.0.0.1:22): service ssh");
	hints = (struct addrinfo){ .ai_family = AF_INET, .ai_flags = AI_NUMERICHOST };
	ok(getaddrinfo("not-an-address", NULL, &hints, &res) == EAI_NONAME,
	   "getaddrinfo(AI_NUMERICHOST) of a name: EAI_NONAME");
}

int main(void)
{
	ifaddrs();
	nameindex();
	ioctls();
	raw_netlink();
	resolve();
	return bad;
}
