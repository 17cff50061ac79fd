/* SPDX-License-Identifier: MIT */
/*
 * What the AF_INET/AF_INET6 files share (net_inet.c: the families, socket
 * addresses and options; net_tcp.c: streams; net_udp.c: datagrams).  An
 * inet_sock is the family's state behind a struct socket (s->sk); every
 * field below pcb-and-after is read and written with net_mutex held, from
 * system calls and from lwIP's callbacks (which run under it too).
 */
#ifndef SYSCALLS_NET_INET_H
#define SYSCALLS_NET_INET_H

#include "kernel/net/stack.h"
#include "syscalls/net.h"

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

struct tcp_pcb;
struct udp_pcb;
struct tcp_sndq;

/* A TCP socket's state, as Linux's socket state sees it. */
enum inet_state {
	INET_FRESH,      /* never connected nor listening */
	INET_LISTEN,     /* pcb is a listening pcb */
	INET_CONNECTING, /* SYN sent */
	INET_CONNECTED,  /* established, or closed by an error or the peer */
};

/* One received datagram (UDP). */
struct inet_dgram {
	struct inet_dgram *next;
	struct pbuf *p;
	ip_addr_t from, to; /* to: for IP_PKTINFO / IPV6_PKTINFO */
	u16_t port;
	u8_t ifindex;
};

struct inet_sock {
	struct socket *sock; /* NULL while waiting in an accept queue */
	int family;          /* AF_INET or AF_INET6 */
	union {
		struct tcp_pcb *tcp; /* NULL once lwIP freed it (reset, closed) */
		struct udp_pcb *udp;
	} pcb;
	enum inet_state state;
	int err; /* SO_ERROR: a positive errno, reported once */
	bool bound;
	bool v6only; /* IPV6_V6ONLY */
	bool rx_eof; /* the peer's FIN */
	bool shut_rd, shut_wr;
	/* Received bytes (TCP): a list of pbufs linked through next, each
	 * freed alone; rx_off is how much of the first one was read. */
	struct pbuf *rx_head, *rx_tail;
	size_t rx_off, rx_bytes;
	/* Received datagrams (UDP), at most rcvbuf bytes of them. */
	struct inet_dgram *dq_head, *dq_tail;
	size_t dq_bytes;
	/* The accept queue of a listener: children linked through next. */
	struct inet_sock *acc_head, *acc_tail, *next;
	int acc_len, backlog;
	struct tcp_sndq *sndq; /* TCP: bytes sent and not yet acknowledged */
	/* Addresses, kept for getsockname/getpeername once the pcb is gone. */
	ip_addr_t lip, rip;
	u16_t lport, rport;
	/* Options, kept here and applied to each pcb the socket gets. */
	bool reuseaddr, reuseport, keepalive, nodelay, cork, broadcast;
	bool pktinfo, pktinfo6; /* IP_PKTINFO, IPV6_RECVPKTINFO (UDP) */
	int linger_on, linger_s;
	int rcvbuf, sndbuf; /* what the program asked for, doubled as Linux does */
	int tos, ttl;
	int keepidle, keepintvl, keepcnt; /* seconds, seconds, probes */
};

/* ---- net_inet.c ----------------------------------------------------------- */
/* A socket address (len bytes) to lwIP's form for a socket of is's family:
 * v4-mapped addresses on AF_INET6 become IPv4 (EINVAL on a V6ONLY
 * socket, EAFNOSUPPORT for another family, EINVAL for a short address).
 * inet_peer_in is the same for a peer (connect, sendto), where a v4-mapped
 * address on a V6ONLY socket is ENETUNREACH. */
long inet_addr_in(struct inet_sock *is, const void *addr, int len, ip_addr_t *ip, u16_t *port);
long inet_peer_in(struct inet_sock *is, const void *addr, int len, ip_addr_t *ip, u16_t *port);
/* lwIP's address to a socket address for is's family; returns its length. */
int inet_addr_out(const struct inet_sock *is, const ip_addr_t *ip, u16_t port, void *addr);
/* Whether ip is one of the machine's (or any, or 127/8); EADDRNOTAVAIL
 * for bind otherwise. */
bool inet_addr_local(const ip_addr_t *ip);
/* The address bind gives lwIP for ip: EADDRNOTAVAIL unless local, and
 * "::" on a dual-stack AF_INET6 socket widened to take IPv4 too. */
long inet_bind_addr(const struct inet_sock *is, ip_addr_t *ip);
/* The errno of an lwIP error. */
int inet_errno(err_t e);
/* Wakes the socket's waiters with the readiness bits that changed. */
static inline void inet_wake(struct inet_sock *is, unsigned key)
{
	if (is->sock)
		poll_wake(&is->sock->wq, key);
}
/* Options every inet socket shares (SOL_SOCKET, SOL_IP, SOL_IPV6); 1 when
 * name is not one of them. */
long inet_setsockopt(struct inet_sock *is, int level, int name, const void *val, unsigned len);
long inet_getsockopt(struct inet_sock *is, int level, int name, void *val, unsigned *len);
struct inet_sock *inet_sock_new(int family);

/* ---- net_tcp.c, net_udp.c ------------------------------------------------- */
extern const struct proto_ops inet_stream_ops, inet6_stream_ops;
extern const struct proto_ops inet_dgram_ops, inet6_dgram_ops;
long tcp_sock_init(struct inet_sock *is);
long udp_sock_init(struct inet_sock *is);
/* Applies is's options to its pcb (after each new pcb, and on a change). */
void tcp_sock_apply(struct inet_sock *is);
void udp_sock_apply(struct inet_sock *is);

/* ---- net_tcp_sndq.c: the send queue (net_mutex held) ----------------------- */
/* Copies up to n bytes of u into *qp's queue (made on first use) and hands
 * them to lwIP without a copy (tcp_write, flags as given); returns the
 * bytes queued (fewer at a chunk's end), or -EFAULT with nothing given to
 * lwIP, -ENOMEM, or lwIP's error as an errno. */
long sndq_write(struct tcp_sndq **qp, struct tcp_pcb *p, struct uio *u, size_t n, u8_t flags);
/* lwIP's sent callback: n more bytes were acknowledged. */
void sndq_acked(struct tcp_sndq *q, size_t n);
/* Bytes written and not yet acknowledged (0 for no queue). */
size_t sndq_queued(const struct tcp_sndq *q);
/* The connection is gone: nothing will be acknowledged; the memory is
 * freed once the devices let go of it.  sndq_free does that and frees q. */
void sndq_drop(struct tcp_sndq *q);
void sndq_free(struct tcp_sndq *q);
/* The socket closes with bytes unacknowledged: q becomes pcb's (its arg,
 * sent and err callbacks) and is freed once they are acknowledged or the
 * connection dies. */
void sndq_give_to_pcb(struct tcp_sndq *q, struct tcp_pcb *pcb);

#endif
