/* SPDX-License-Identifier: MIT */
/*
 * The network options of `elfvm run` (--net, --publish, --ip, --gateway,
 * --dns) and what they become: QEMU's -netdev argument, the kernel command
 * line words the guest's stack reads (ip=, gw=, dns=, docs/protocol.md),
 * and a check that every published host port can be bound before QEMU
 * starts, so that a busy port is one clear line and status 125 rather than
 * QEMU's message.  The defaults are QEMU user networking's: 10.0.2.15/24
 * via 10.0.2.2, DNS at 10.0.2.3.  Published ports listen on the host's
 * loopback unless an address is given.
 */
#include "tools/tools.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_IP "10.0.2.15"
#define DEFAULT_PREFIX 24

/* A parsed --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]. */
struct publish {
	char host[INET_ADDRSTRLEN];
	unsigned hport, gport;
	int udp;
};

static int parse_port(const char *s, size_t len, unsigned *out)
{
	char buf[8], *end;
	long v;

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtol(buf, &end, 10);
	if (*end || buf[0] < '0' || buf[0] > '9' || v < 1 || v > 65535)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_publish(const char *spec, struct publish *p)
{
	const char *slash = strchr(spec, '/'), *end = slash ? slash : spec + strlen(spec);
	const char *last = NULL, *first = memchr(spec, ':', (size_t)(end - spec));
	struct in_addr a;

	memset(p, 0, sizeof(*p));
	if (slash && strcmp(slash, "/tcp") && strcmp(slash, "/udp"))
		return -1;
	p->udp = slash && !strcmp(slash, "/udp");
	for (const char *c = spec; c < end; c++)
		if (*c == ':')
			last = c;
	if (!first)
		return -1;
	if (first == last) {
		strcpy(p->host, "127.0.0.1");
		first = spec - 1;
	} else {
		size_t n = (size_t)(first - spec);
		if (n >= sizeof(p->host))
			return -1;
		memcpy(p->host, spec, n);
		p->host[n] = '\0';
		if (inet_pton(AF_INET, p->host, &a) != 1)
			return -1;
	}
	if (parse_port(first + 1, (size_t)(last - first - 1), &p->hport) < 0 ||
	    parse_port(last + 1, (size_t)(end - last - 1), &p->gport) < 0)
		return -1;
	return 0;
}

/* "A.B.C.D" (want_prefix 0) or "A.B.C.D/N": the address and prefix. */
static int parse_addr(const char *s, int want_prefix, struct in_addr *a, int *prefix)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash && !want_prefix)
		return -1;
	if (slash) {
		*slash++ = '\0';
		long n = strtol(slash, &end, 10);
		if (*end || !*slash || n < 1 || n > 30)
			return -1;
		*prefix = (int)n;
	}
	return inet_pton(AF_INET, buf, a) == 1 ? 0 : -1;
}

int netopts_set(struct run_opts *o, const char *name, const char *v)
{
	struct net_opts *n = &o->net;
	struct publish p;
	struct in_addr a;
	int prefix = DEFAULT_PREFIX;

	if (!strcmp(name, "--net")) {
		if (strcmp(v, "user") && strcmp(v, "none") && (strncmp(v, "tap:", 4) || !v[4]))
			return opts_bad(o, "bad --net '%s': want user, none or tap:IFNAME", v);
		n->mode = v;
	} else if (!strcmp(name, "--publish")) {
		if (parse_publish(v, &p) < 0)
			return opts_bad(o,
					"bad --publish '%s': want [HOSTADDR:]HOSTPORT:GUESTPORT"
					"[/tcp|/udp]",
					v);
		n->publish[n->npublish++] = v;
	} else if (!strcmp(name, "--ip")) {
		if (strcmp(v, "dhcp") && parse_addr(v, 1, &a, &prefix) < 0)
			return opts_bad(o, "bad --ip '%s': want an IPv4 ADDR/PREFIX or dhcp", v);
		n->ip = v;
	} else if (!strcmp(name, "--gateway") || !strcmp(name, "--dns")) {
		if (parse_addr(v, 0, &a, &prefix) < 0)
			return opts_bad(o, "bad %s: want an IPv4 address", name);
		*(name[2] == 'g' ? &n->gateway : &n->dns) = v;
	} else {
		return 1;
	}
	return 0;
}

/* Can the host bind p's port?  0, or -errno. */
static int publish_free(const struct publish *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p->hport) };
	int fd = socket(AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0), one = 1, r = 0;

	if (fd < 0)
		return -errno;
	inet_pton(AF_INET, p->host, &sa.sin_addr);
	/* QEMU's slirp sets SO_REUSEADDR on its listeners: a port in
	 * TIME_WAIT is no obstacle to it, so it is none here either. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* The network of addr/prefix, as "A.B.C.D/N", in out. */
static void network_of(struct in_addr addr, int prefix, char *out, size_t size)
{
	uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	struct in_addr net = { addr.s_addr & mask };
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &net, buf, sizeof(buf));
	snprintf(out, size, "%s/%d", buf, prefix);
}

int netopts_prepare(const struct net_opts *n, struct net_plan *plan, char *why, size_t whyn)
{
	char *netdev = plan->netdev, *words = plan->words;
	size_t nn = sizeof(plan->netdev), nw = sizeof(plan->words);
	const char *mode = n->mode ? n->mode : "user";
	int dhcp = n->ip && !strcmp(n->ip, "dhcp");
	/* Under DHCP, QEMU's user network is its default one, whose DHCP
	 * server hands out the default address. */
	const char *ip = n->ip && !dhcp ? n->ip : DEFAULT_IP "/24";
	char net[INET_ADDRSTRLEN + 4], host[INET_ADDRSTRLEN + 4];
	char gw[INET_ADDRSTRLEN], *dns = plan->dns;
	struct in_addr a;
	int prefix = DEFAULT_PREFIX;
	size_t len;

	/* Without --gateway and --dns, QEMU's own choice within the network:
	 * its .2 and .3 (10.0.2.2 and 10.0.2.3 for the default network). */
	parse_addr(ip, 1, &a, &prefix);
	uint32_t base = ntohl(a.s_addr) & (~0u << (32 - prefix));
	struct in_addr g = { htonl(base + 2) }, d = { htonl(base + 3) };
	snprintf(gw, sizeof(gw), "%s", n->gateway ? n->gateway : inet_ntoa(g));
	snprintf(dns, sizeof(plan->dns), "%s", n->dns ? n->dns : inet_ntoa(d));
	netdev[0] = '\0';
	if (dhcp)
		snprintf(words, nw, "ip=dhcp");
	else
		snprintf(words, nw, "ip=%s gw=%s dns=%s", ip, gw, dns);
	if (!strcmp(mode, "none")) {
		if (n->npublish)
			return snprintf(why, whyn, "--publish needs a network (not --net none)"), -1;
		return 0;
	}
	if (!strncmp(mode, "tap:", 4)) {
		if (n->npublish)
			return snprintf(why, whyn, "--publish works with --net user only"), -1;
		snprintf(netdev, nn, "tap,ifname=%s,script=no,downscript=no", mode + 4);
		return 0;
	}
	network_of(a, prefix, net, sizeof(net));
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(ip, "/"), ip);
	len = (size_t)snprintf(netdev, nn, "user,net=%s,host=%s,dns=%s", net, gw, dns);
	for (int i = 0; i < n->npublish && len < nn; i++) {
		struct publish p;
		int r;
		parse_publish(n->publish[i], &p);
		if ((r = publish_free(&p)) < 0)
			return snprintf(why, whyn, "cannot publish %s:%u/%s: %s", p.host, p.hport,
					p.udp ? "udp" : "tcp", strerror(-r)),
			       -1;
		len += (size_t)snprintf(netdev + len, nn - len, ",hostfwd=%s:%s:%u-%s:%u",
					p.udp ? "udp" : "tcp", p.host, p.hport, host, p.gport);
	}
	if (len >= nn)
		return snprintf(why, whyn, "too many --publish options"), -1;
	return 0;
}
