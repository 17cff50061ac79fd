// SPDX-License-Identifier: MIT
/*
 * AF_INET and AF_INET6 (Linux's net/ipv4/af_inet.c and net/ipv6/af_inet6.c):
 * socket() for both families, socket addresses to and from lwIP's, and the
 * options TCP and UDP sockets share.  An AF_INET6 socket is dual-stack
 * unless IPV6_V6ONLY is set: its pcb takes IPv4 too, and IPv4 peers appear
 * as v4-mapped addresses (::ffff:a.b.c.d).  Streams are in net_tcp.c,
 * datagrams in net_udp.c; the stack itself in kernel/net/.
 */
#include "syscalls/net_inet.h"

#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#define RCVBUF_DEFAULT 131072 /* what Linux reports for a fresh socket: 2 × 65536 */
#define SNDBUF_DEFAULT 262144

int inet_errno(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: return ENOMEM;
	case ERR_BUF: return ENOBUFS;
	case ERR_TIMEOUT: return ETIMEDOUT;
	case ERR_RTE: return ENETUNREACH;
	case ERR_INPROGRESS: return EINPROGRESS;
	case ERR_WOULDBLOCK: return EAGAIN;
	case ERR_USE: return EADDRINUSE;
	case ERR_ALREADY: return EALREADY;
	case ERR_ISCONN: return EISCONN;
	case ERR_CONN: return ENOTCONN;
	case ERR_IF: return EIO;
	case ERR_ABRT: return ECONNABORTED;
	case ERR_RST: return ECONNRESET;
	case ERR_CLSD: return ENOTCONN;
	default: return EINVAL;
	}
}

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, 12) == 0;
}

static long addr_in(struct inet_sock *is, const void *addr, int len, ip_addr_t *ip, u16_t *port,
		    bool peer);

long inet_addr_in(struct inet_sock *is, const void *addr, int len, ip_addr_t *ip, u16_t *port)
{
	return addr_in(is, addr, len, ip, port, false);
}

long inet_peer_in(struct inet_sock *is, const void *addr, int len, ip_addr_t *ip, u16_t *port)
{
	return addr_in(is, addr, len, ip, port, true);
}

static long addr_in(struct inet_sock *is, const void *addr, int len, ip_addr_t *ip, u16_t *port,
		    bool peer)
{
	uint16_t fam;

	if (len < (int)sizeof(fam))
		return -EINVAL;
	memcpy(&fam, addr, sizeof(fam));
	memset(ip, 0, sizeof(*ip));
	if (is->family == AF_INET) {
		struct sockaddr_in sin;
		if (len < (int)sizeof(sin))
			return -EINVAL;
		memcpy(&sin, addr, sizeof(sin));
		/* Linux takes AF_UNSPEC with INADDR_ANY at bind, for old programs. */
		if (fam != AF_INET && !(fam == AF_UNSPEC && sin.sin_addr.s_addr == 0))
			return -EAFNOSUPPORT;
		IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V4);
		ip4_addr_set_u32(ip_2_ip4(ip), sin.sin_addr.s_addr);
		*port = lwip_ntohs(sin.sin_port);
		return 0;
	}
	struct sockaddr_in6 sin6;
	if (len < 24) /* SIN6_LEN_RFC2133: without the scope id */
		return -EINVAL;
	memset(&sin6, 0, sizeof(sin6));
	memcpy(&sin6, addr, MIN((size_t)len, sizeof(sin6)));
	if (fam != AF_INET6)
		return -EAFNOSUPPORT;
	*port = lwip_ntohs(sin6.sin6_port);
	if (v4mapped(sin6.sin6_addr.s6_addr)) {
		if (is->v6only) /* Linux: no route to IPv4 from here */
			return peer ? -ENETUNREACH : -EINVAL;
		uint32_t a4;
		memcpy(&a4, sin6.sin6_addr.s6_addr + 12, 4);
		IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V4);
		ip4_addr_set_u32(ip_2_ip4(ip), a4);
		return 0;
	}
	IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V6);
	memcpy(ip_2_ip6(ip)->addr, sin6.sin6_addr.s6_addr, 16);
	ip6_addr_clear_zone(ip_2_ip6(ip));
	if (ip6_addr_islinklocal(ip_2_ip6(ip)))
		ip6_addr_set_zone(ip_2_ip6(ip), sin6.sin6_scope_id ? sin6.sin6_scope_id : 2);
	return 0;
}

int inet_addr_out(const struct inet_sock *is, const ip_addr_t *ip, u16_t port, void *addr)
{
	if (is->family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = lwip_htons(port) };
		if (ip && IP_IS_V4(ip))
			sin.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(ip));
		memcpy(addr, &sin, sizeof(sin));
		return sizeof(sin);
	}
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = lwip_htons(port) };
	if (ip && IP_IS_V4(ip) && !IP_IS_ANY_TYPE_VAL(*ip)) {
		uint32_t a4 = ip4_addr_get_u32(ip_2_ip4(ip));
		if (a4 || port) { /* a v4 peer or a v4 bind; unbound stays :: */
			sin6.sin6_addr.s6_addr[10] = sin6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(sin6.sin6_addr.s6_addr + 12, &a4, 4);
		}
	} else if (ip && IP_IS_V6(ip)) {
		memcpy(sin6.sin6_addr.s6_addr, ip_2_ip6(ip)->addr, 16);
		if (ip6_addr_islinklocal(ip_2_ip6(ip)))
			sin6.sin6_scope_id = ip6_addr_zone(ip_2_ip6(ip));
	}
	memcpy(addr, &sin6, sizeof(sin6));
	return sizeof(sin6);
}

bool inet_addr_local(const ip_addr_t *ip)
{
	struct netif *n;

	if (ip_addr_isany(ip))
		return true;
	if (IP_IS_V4(ip)) {
		if (ip4_addr_isloopback(ip_2_ip4(ip)))
			return true;
		NETIF_FOREACH(n)
		{
			if (ip4_addr_cmp(ip_2_ip4(ip), netif_ip4_addr(n)))
				return true;
		}
		return false;
	}
	NETIF_FOREACH(n)
	{
		if (netif_get_ip6_addr_match(n, ip_2_ip6(ip)) >= 0)
			return true;
	}
	return false;
}

long inet_bind_addr(const struct inet_sock *is, ip_addr_t *ip)
{
	if (!inet_addr_local(ip))
		return -EADDRNOTAVAIL;
	if (is->family == AF_INET6 && ip_addr_isany(ip) && IP_IS_V6(ip) && !is->v6only)
		*ip = *IP_ANY_TYPE;
	return 0;
}

struct inet_sock *inet_sock_new(int family)
{
	struct inet_sock *is = kzalloc(sizeof(*is));

	if (!is)
		return NULL;
	is->family = family;
	is->rcvbuf = RCVBUF_DEFAULT;
	is->sndbuf = SNDBUF_DEFAULT;
	is->ttl = 64;
	is->keepidle = 7200;
	is->keepintvl = 75;
	is->keepcnt = 9;
	return is;
}

/* ---- options ------------------------------------------------------------- */

static void apply(struct inet_sock *is)
{
	if (is->sock && is->sock->type == SOCK_DGRAM)
		udp_sock_apply(is);
	else
		tcp_sock_apply(is);
}

long inet_setsockopt(struct inet_sock *is, int level, int name, const void *val, unsigned len)
{
	int v;
	long r;

	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;
		if (len < sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		is->linger_on = l.onoff;
		is->linger_s = l.linger;
		return 0;
	}
	if ((r = sockopt_get_int(val, len, &v)) < 0)
		return r;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR: is->reuseaddr = v; break;
		case SO_REUSEPORT: is->reuseport = v; break; /* as SO_REUSEADDR (docs/net.md) */
		case SO_KEEPALIVE: is->keepalive = v; break;
		case SO_BROADCAST: is->broadcast = v; break;
		/* Recorded and reported (doubled, as Linux); SO_SNDBUF bounds
		 * a TCP socket's unacknowledged bytes (up to lwIP's send
		 * buffer), SO_RCVBUF a UDP socket's queue; lwIP's window is
		 * fixed (lwipopts.h). */
		case SO_RCVBUF:
		case SO_RCVBUFFORCE: is->rcvbuf = MAX(2 * MIN(v, 1 << 29), 2304); break;
		case SO_SNDBUF:
		case SO_SNDBUFFORCE: is->sndbuf = MAX(2 * MIN(v, 1 << 29), 4608); break;
		default: return -ENOPROTOOPT;
		}
	} else if (level == SOL_IP) {
		switch (name) {
		case IP_TOS: is->tos = v & 0xfc; break;
		case IP_PKTINFO: is->pktinfo = v; break;
		case IP_TTL:
			if (v < -1 || v == 0 || v > 255)
				return -EINVAL;
			is->ttl = v == -1 ? 64 : v;
			break;
		default: return -ENOPROTOOPT;
		}
	} else if (level == SOL_IPV6 && is->family == AF_INET6) {
		switch (name) {
		case IPV6_V6ONLY:
			if (is->bound || is->state != INET_FRESH)
				return -EINVAL;
			is->v6only = v;
			break;
		case IPV6_RECVPKTINFO: is->pktinfo6 = v; break;
		case IPV6_TCLASS:
			if (v < -1 || v > 255)
				return -EINVAL;
			is->tos = v == -1 ? 0 : v;
			break;
		case IPV6_UNICAST_HOPS:
			if (v < -1 || v > 255)
				return -EINVAL;
			is->ttl = v == -1 ? 64 : v;
			break;
		default: return -ENOPROTOOPT;
		}
	} else if (level == SOL_IPV6) {
		return -ENOPROTOOPT;
	} else {
		return 1;
	}
	apply(is);
	return 0;
}

long inet_getsockopt(struct inet_sock *is, int level, int name, void *val, unsigned *len)
{
	int v;

	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_LINGER: {
			struct linger l = { is->linger_on ? 1 : 0, is->linger_s };
			*len = MIN(*len, (unsigned)sizeof(l));
			memcpy(val, &l, *len);
			return 0;
		}
		case SO_REUSEADDR: v = is->reuseaddr; break;
		case SO_REUSEPORT: v = is->reuseport; break;
		case SO_KEEPALIVE: v = is->keepalive; break;
		case SO_BROADCAST: v = is->broadcast; break;
		case SO_RCVBUF: v = is->rcvbuf; break;
		case SO_SNDBUF: v = is->sndbuf; break;
		case SO_ERROR:
			v = is->err;
			is->err = 0;
			break;
		case SO_ACCEPTCONN: v = is->state == INET_LISTEN; break;
		default: return -ENOPROTOOPT;
		}
	} else if (level == SOL_IP) {
		switch (name) {
		case IP_TOS: v = is->tos; break;
		case IP_TTL: v = is->ttl; break;
		case IP_PKTINFO: v = is->pktinfo; break;
		default: return -ENOPROTOOPT;
		}
	} else if (level == SOL_IPV6 && is->family == AF_INET6) {
		switch (name) {
		case IPV6_V6ONLY: v = is->v6only; break;
		case IPV6_RECVPKTINFO: v = is->pktinfo6; break;
		case IPV6_TCLASS: v = is->tos; break;
		case IPV6_UNICAST_HOPS: v = is->ttl; break;
		default: return -ENOPROTOOPT;
		}
	} else if (level == SOL_IPV6) {
		return -ENOPROTOOPT;
	} else {
		return 1;
	}
	return sockopt_put_int(val, len, v);
}

/* ---- socket() -------------------------------------------------------------- */

static long inet_create_any(struct socket *s, int protocol, int family)
{
	struct inet_sock *is;
	long r;

	switch (s->type) {
	case SOCK_STREAM:
		if (protocol && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		s->protocol = IPPROTO_TCP;
		break;
	case SOCK_DGRAM:
		if (protocol && protocol != IPPROTO_UDP) {
			klog("socket: datagram protocol %d (ping sockets…) is not implemented: "
			     "-EPROTONOSUPPORT",
			     protocol);
			return -EPROTONOSUPPORT;
		}
		s->protocol = IPPROTO_UDP;
		break;
	case SOCK_RAW:
		klog("socket: SOCK_RAW is not implemented: -EPROTONOSUPPORT");
		return -EPROTONOSUPPORT;
	default: return -ESOCKTNOSUPPORT;
	}
	if (!(is = inet_sock_new(family)))
		return -ENOMEM;
	is->sock = s;
	net_lock();
	r = s->type == SOCK_STREAM ? tcp_sock_init(is) : udp_sock_init(is);
	net_unlock();
	if (r < 0) {
		kfree(is);
		return r;
	}
	s->sk = is;
	if (s->type == SOCK_STREAM)
		s->ops = family == AF_INET ? &inet_stream_ops : &inet6_stream_ops;
	else
		s->ops = family == AF_INET ? &inet_dgram_ops : &inet6_dgram_ops;
	return 0;
}

static long inet_create(struct socket *s, int protocol)
{
	return inet_create_any(s, protocol, AF_INET);
}

static long inet6_create(struct socket *s, int protocol)
{
	return inet_create_any(s, protocol, AF_INET6);
}

const struct net_family inet_family = { .family = AF_INET, .create = inet_create };
const struct net_family inet6_family = { .family = AF_INET6, .create = inet6_create };
