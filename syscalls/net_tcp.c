// SPDX-License-Identifier: MIT
/*
 * TCP sockets over lwIP's raw API (Linux's net/ipv4/tcp.c and inet's
 * stream ops).  lwIP's callbacks, which run under net_mutex, queue what
 * arrives (bytes, the peer's FIN, new connections, errors) on the
 * inet_sock and wake its wait queue with the readiness that changed; the
 * system calls take net_mutex, copy to and from the program, and sleep
 * with sock_wait after net_flush.  The receive window opens as the program
 * reads (tcp_recved), so an unread socket holds at most one window.  Sends
 * copy the program's bytes once, into the socket's send queue, which lwIP's
 * segments reference until acknowledged (net_tcp_sndq.c): lwIP never sees
 * a user pointer.
 */
#include "syscalls/net_inet.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#define EPOLLIN_BITS (EPOLLIN | EPOLLRDNORM)
#define EPOLLOUT_BITS (EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND)
/* Writable (poll) once this much send room is free, as lwIP's own sockets. */
#define TCP_WRITABLE_ROOM TCP_SNDLOWAT
/* The most connections a listener queues, whatever its backlog: SOMAXCONN + 1. */
#define ACCEPT_MAX 4097

static long tcp_pcb_new(struct inet_sock *is);
static void tcp_unlisten(struct inet_sock *is);

/* ---- lwIP's callbacks (net_mutex held; they never sleep) ----------------- */

/* The most bytes a socket keeps unacknowledged: SO_SNDBUF (doubled, as
 * Linux reports it) up to lwIP's send buffer. */
static size_t snd_limit(const struct inet_sock *is)
{
	return MIN((size_t)is->sndbuf, (size_t)TCP_SND_BUF);
}

/* Bytes a send may queue now: within the limit, lwIP's send buffer, and
 * its segment queue (tcp_write cuts at most mss_local bytes per segment,
 * as tcp_write computes it, and each segment takes a header pbuf and one
 * or two pbufs of data). */
static size_t snd_room(const struct inet_sock *is)
{
	const struct tcp_pcb *p = is->pcb.tcp;
	size_t queued = sndq_queued(is->sndq), limit = snd_limit(is);

	if (!p || is->state != INET_CONNECTED || p->snd_queuelen + 64 >= TCP_SND_QUEUELEN ||
	    queued >= limit)
		return 0;
	size_t mss = MIN(p->mss, TCPWND_MIN16(p->snd_wnd_max / 2));
	size_t segs = (TCP_SND_QUEUELEN - p->snd_queuelen - 8) / 3;
	return MIN(MIN((size_t)p->snd_buf, limit - queued), segs * (mss ? mss : p->mss));
}

/* Whether a send that still has want bytes may go on: room for them or a
 * full segment, or for a quarter of the limit (so one large send does not
 * wait for the queue to empty). */
static bool snd_may(const struct inet_sock *is, size_t want)
{
	size_t room = snd_room(is);

	return room && (room >= MIN(want, (size_t)TCP_MSS) || room >= snd_limit(is) / 4);
}

static bool tcp_writable(const struct inet_sock *is)
{
	const struct tcp_pcb *p = is->pcb.tcp;

	return !p || (snd_room(is) >= MIN((size_t)TCP_WRITABLE_ROOM, snd_limit(is) / 2) &&
		      p->snd_queuelen < TCP_SNDQUEUELOWAT);
}

static err_t tcp_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct inet_sock *is = arg;

	(void)err;
	if (!p) {
		is->rx_eof = true;
		inet_wake(is, EPOLLIN_BITS | EPOLLRDHUP);
		return ERR_OK;
	}
	if (is->shut_rd) { /* Linux keeps acknowledging and drops it */
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	struct pbuf *last = p;
	while (last->next)
		last = last->next;
	if (is->rx_tail)
		is->rx_tail->next = p;
	else
		is->rx_head = p;
	is->rx_tail = last;
	is->rx_bytes += p->tot_len;
	inet_wake(is, EPOLLIN_BITS);
	return ERR_OK;
}

static err_t tcp_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct inet_sock *is = arg;

	(void)pcb;
	sndq_acked(is->sndq, len);
	if (tcp_writable(is))
		inet_wake(is, EPOLLOUT_BITS);
	return ERR_OK;
}

/* The pcb is gone (lwIP freed it): a reset, a timeout, or our abort. */
static void tcp_err_cb(void *arg, err_t err)
{
	struct inet_sock *is = arg;

	is->pcb.tcp = NULL;
	sndq_drop(is->sndq); /* nothing more will be acknowledged */
	if (is->state == INET_CONNECTING)
		is->err = err == ERR_RST ? ECONNREFUSED : ETIMEDOUT;
	else if (err == ERR_RST)
		is->err = is->rx_eof ? EPIPE : ECONNRESET; /* tcp_reset's choice */
	else if (err == ERR_ABRT)
		is->err = ETIMEDOUT;
	if (is->state != INET_LISTEN)
		is->state = INET_CONNECTED;
	is->rx_eof = true;
	inet_wake(is, EPOLLIN_BITS | EPOLLOUT_BITS | EPOLLERR | EPOLLHUP | EPOLLRDHUP);
}

static err_t tcp_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct inet_sock *is = arg;

	(void)err;
	is->state = INET_CONNECTED;
	is->lip = pcb->local_ip;
	is->lport = pcb->local_port;
	inet_wake(is, EPOLLOUT_BITS);
	return ERR_OK;
}

static void tcp_callbacks(struct inet_sock *is, struct tcp_pcb *pcb)
{
	tcp_arg(pcb, is);
	tcp_recv(pcb, tcp_recv_cb);
	tcp_sent(pcb, tcp_sent_cb);
	tcp_err(pcb, tcp_err_cb);
}

static err_t tcp_accept_cb(void *arg, struct tcp_pcb *npcb, err_t err)
{
	struct inet_sock *ls = arg, *is;

	if (err != ERR_OK || !npcb)
		return ERR_VAL;
	/* Beyond backlog + 1 queued connections Linux drops the handshake's
	 * last ACK: the client believes it is connected and is served once
	 * the queue has room.  lwIP cannot leave a handshake unfinished, so
	 * the queue takes such connections at once, up to ACCEPT_MAX, and only
	 * beyond that resets them (docs/net.md). */
	if (ls->acc_len >= MAX(ls->backlog + 1, ACCEPT_MAX) || !(is = inet_sock_new(ls->family))) {
		tcp_abort(npcb);
		return ERR_ABRT;
	}
	is->state = INET_CONNECTED;
	is->bound = true;
	is->v6only = ls->v6only;
	is->nodelay = ls->nodelay;
	is->keepalive = ls->keepalive;
	is->keepidle = ls->keepidle;
	is->keepintvl = ls->keepintvl;
	is->keepcnt = ls->keepcnt;
	is->tos = ls->tos;
	is->ttl = ls->ttl;
	is->pcb.tcp = npcb;
	is->lip = npcb->local_ip;
	is->lport = npcb->local_port;
	is->rip = npcb->remote_ip;
	is->rport = npcb->remote_port;
	tcp_callbacks(is, npcb);
	tcp_sock_apply(is);
	if (ls->acc_tail)
		ls->acc_tail->next = is;
	else
		ls->acc_head = is;
	ls->acc_tail = is;
	ls->acc_len++;
	inet_wake(ls, EPOLLIN_BITS);
	return ERR_OK;
}

/* ---- state helpers (net_mutex held) -------------------------------------- */

void tcp_sock_apply(struct inet_sock *is)
{
	struct tcp_pcb *p = is->pcb.tcp;

	if (!p)
		return;
	if (is->reuseaddr || is->reuseport)
		ip_set_option(p, SOF_REUSEADDR);
	else
		ip_reset_option(p, SOF_REUSEADDR);
	if (is->state == INET_LISTEN)
		return; /* a listening pcb is smaller: no timers, no Nagle */
	if (is->keepalive)
		ip_set_option(p, SOF_KEEPALIVE);
	else
		ip_reset_option(p, SOF_KEEPALIVE);
	if (is->nodelay)
		tcp_nagle_disable(p);
	else
		tcp_nagle_enable(p);
	p->keep_idle = (u32_t)is->keepidle * 1000;
	p->keep_intvl = (u32_t)is->keepintvl * 1000;
	p->keep_cnt = (u32_t)is->keepcnt;
	p->tos = (u8_t)is->tos;
	p->ttl = (u8_t)is->ttl;
}

static long tcp_pcb_new(struct inet_sock *is)
{
	u8_t type = is->family == AF_INET ? IPADDR_TYPE_V4
		    : is->v6only          ? IPADDR_TYPE_V6
					  : IPADDR_TYPE_ANY;
	struct tcp_pcb *p = tcp_new_ip_type(type);

	if (!p)
		return -ENOBUFS;
	is->pcb.tcp = p;
	tcp_callbacks(is, p);
	tcp_sock_apply(is);
	return 0;
}

long tcp_sock_init(struct inet_sock *is)
{
	return tcp_pcb_new(is);
}

/* Frees the received bytes not read. */
static void rx_drop(struct inet_sock *is)
{
	while (is->rx_head) {
		struct pbuf *q = is->rx_head;
		is->rx_head = q->next;
		q->next = NULL;
		pbuf_free(q);
	}
	is->rx_tail = NULL;
	is->rx_bytes = is->rx_off = 0;
}

/* Lets lwIP open the window by n bytes (tcp_recved takes 16 bits). */
static void rx_window(struct inet_sock *is, size_t n)
{
	while (is->pcb.tcp && n) {
		u16_t c = (u16_t)MIN(n, 0xffffu);
		tcp_recved(is->pcb.tcp, c);
		n -= c;
	}
}

/* Copies up to n received bytes into u; consumes them unless peek. */
static long rx_copy(struct inet_sock *is, struct uio *u, size_t n, bool peek)
{
	struct pbuf *q = is->rx_head;
	size_t off = is->rx_off, done = 0;

	while (q && done < n) {
		size_t c = MIN(n - done, (size_t)q->len - off);
		long r = c ? uio_copy_out(u, (char *)q->payload + off, c) : 0;
		if (r < 0)
			return done ? (long)done : r;
		done += r;
		off += r;
		if ((size_t)r < c)
			break;
		if (off == q->len) {
			struct pbuf *next = q->next;
			if (!peek) {
				is->rx_head = next;
				if (!next)
					is->rx_tail = NULL;
				q->next = NULL;
				pbuf_free(q);
			}
			q = next;
			off = 0;
		}
	}
	if (!peek) {
		is->rx_off = off;
		is->rx_bytes -= done;
		rx_window(is, done);
	}
	return done;
}

/* The error a call reports now, once (SO_ERROR's). */
static int take_err(struct inet_sock *is)
{
	int e = is->err;

	is->err = 0;
	return e;
}

/* ---- the proto_ops --------------------------------------------------------- */

static long tcp_bind_op(struct socket *s, const void *addr, int len)
{
	struct inet_sock *is = s->sk;
	ip_addr_t ip;
	u16_t port;
	long r;

	net_lock();
	if ((r = inet_addr_in(is, addr, len, &ip, &port)) < 0)
		goto out;
	r = -EINVAL;
	if (is->bound || is->state != INET_FRESH || !is->pcb.tcp)
		goto out;
	if ((r = inet_bind_addr(is, &ip)) < 0)
		goto out;
	tcp_sock_apply(is);
	r = -inet_errno(tcp_bind(is->pcb.tcp, &ip, port));
	if (!r) {
		is->bound = true;
		is->lip = is->pcb.tcp->local_ip;
		is->lport = is->pcb.tcp->local_port;
	}
out:
	net_unlock();
	return r;
}

static long tcp_listen_op(struct socket *s, int backlog)
{
	struct inet_sock *is = s->sk;
	struct tcp_pcb *lp;
	err_t e = ERR_OK;
	long r = 0;

	net_lock();
	if (is->state == INET_LISTEN) {
		is->backlog = backlog;
		goto out;
	}
	r = -EINVAL;
	if (is->state != INET_FRESH || !is->pcb.tcp)
		goto out;
	if (!is->bound) {
		const ip_addr_t *any = is->family == AF_INET ? IP4_ADDR_ANY
				       : is->v6only          ? IP6_ADDR_ANY
							     : IP_ANY_TYPE;
		if ((r = -inet_errno(tcp_bind(is->pcb.tcp, any, 0))))
			goto out;
		is->bound = true;
	}
	lp = tcp_listen_with_backlog_and_err(is->pcb.tcp, TCP_DEFAULT_LISTEN_BACKLOG, &e);
	if (!lp) {
		r = -(e == ERR_USE ? EADDRINUSE : ENOBUFS);
		goto out;
	}
	r = 0;
	is->pcb.tcp = lp;
	is->state = INET_LISTEN;
	is->backlog = backlog;
	is->lip = lp->local_ip;
	is->lport = lp->local_port;
	tcp_arg(lp, is);
	tcp_accept(lp, tcp_accept_cb);
out:
	net_unlock();
	return r;
}

static long tcp_accept_op(struct socket *s, struct socket **out, bool nonblock)
{
	struct inet_sock *ls = s->sk, *is;
	struct socket *ns;
	long r = 0;

	net_lock();
	for (;;) {
		if (ls->state != INET_LISTEN) {
			r = -EINVAL;
			goto out;
		}
		if (ls->acc_head)
			break;
		net_flush();
		r = sock_wait(&s->wq, ls->acc_head || ls->state != INET_LISTEN, nonblock, s->rcvtimeo,
			      &net_mutex);
		if (r)
			goto out;
	}
	if (!(ns = sock_alloc(s->family, SOCK_STREAM, 0))) {
		r = -ENOMEM;
		goto out;
	}
	is = ls->acc_head;
	ls->acc_head = is->next;
	if (!ls->acc_head)
		ls->acc_tail = NULL;
	ls->acc_len--;
	is->next = NULL;
	is->sock = ns;
	ns->protocol = IPPROTO_TCP;
	ns->ops = s->ops;
	ns->sk = is;
	*out = ns;
out:
	net_unlock();
	return r;
}

static long tcp_connect_op(struct socket *s, const void *addr, int len, bool nonblock)
{
	struct inet_sock *is = s->sk;
	ip_addr_t ip;
	u16_t port;
	long r;

	net_lock();
	if (is->state == INET_CONNECTING) {
		r = nonblock ? -EALREADY : 0;
		goto wait;
	}
	r = -EISCONN;
	if (is->state == INET_CONNECTED && is->pcb.tcp)
		goto out;
	if (is->state == INET_LISTEN)
		goto out;
	if ((r = inet_peer_in(is, addr, len, &ip, &port)) < 0)
		goto out;
	/* A socket whose last connection failed or ended gets a new pcb. */
	if (!is->pcb.tcp) {
		if ((r = tcp_pcb_new(is)) < 0)
			goto out;
		is->state = INET_FRESH;
		is->bound = false; /* the old port went with the old pcb */
		is->rx_eof = is->shut_rd = is->shut_wr = false;
		rx_drop(is);
	}
	r = -ECONNREFUSED;
	if (!port) /* Linux: a SYN to port 0 is answered by a reset */
		goto out;
	if (is->family == AF_INET6 && IP_IS_V4(&ip) && is->bound &&
	    IP_IS_V6_VAL(is->pcb.tcp->local_ip)) {
		r = -ENETUNREACH; /* bound to a v6 address, asked for a v4 peer */
		goto out;
	}
	is->err = 0;
	r = -inet_errno(tcp_connect(is->pcb.tcp, &ip, port, tcp_connected_cb));
	if (r == -ENOMEM)
		r = -EAGAIN; /* no ephemeral port or segment: Linux's EAGAIN */
	if (r)
		goto out;
	is->state = INET_CONNECTING;
	is->bound = true;
	is->rip = ip;
	is->rport = port;
	is->lip = is->pcb.tcp->local_ip;
	is->lport = is->pcb.tcp->local_port;
	r = nonblock ? -EINPROGRESS : 0;
wait:
	if (!r) {
		net_flush();
		r = sock_wait(&s->wq, is->state != INET_CONNECTING, false, s->sndtimeo, &net_mutex);
		if (r == -EAGAIN)
			r = -EINPROGRESS; /* SO_SNDTIMEO passed */
		else if (!r && (!is->pcb.tcp || is->err))
			r = -(take_err(is) ?: ECONNRESET);
	}
out:
	net_unlock();
	return r;
}

static long tcp_getname_op(struct socket *s, void *addr, bool peer)
{
	struct inet_sock *is = s->sk;
	long r;

	net_lock();
	if (peer && is->state != INET_CONNECTED)
		r = -ENOTCONN;
	else if (peer)
		r = inet_addr_out(is, &is->rip, is->rport, addr);
	else if (is->pcb.tcp && is->bound)
		r = inet_addr_out(is, &is->pcb.tcp->local_ip, is->pcb.tcp->local_port, addr);
	else
		r = inet_addr_out(is, is->bound ? &is->lip : NULL, is->bound ? is->lport : 0, addr);
	net_unlock();
	return r;
}

static long tcp_shutdown_op(struct socket *s, int how)
{
	struct inet_sock *is = s->sk;
	long r = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	net_lock();
	if (is->state == INET_LISTEN) {
		/* Linux: SHUT_RD disconnects a listener (a blocked accept
		 * returns EINVAL, queued connections are reset); SHUT_WR alone
		 * does nothing. */
		if (how != SHUT_WR) {
			tcp_unlisten(is);
			r = tcp_pcb_new(is);
			inet_wake(is, EPOLLIN_BITS | EPOLLOUT_BITS | EPOLLHUP);
		}
		goto out;
	} else if (is->state != INET_CONNECTED && is->state != INET_CONNECTING) {
		r = -ENOTCONN;
		goto out;
	}
	if (how != SHUT_WR)
		is->shut_rd = true;
	if (how != SHUT_RD && !is->shut_wr) {
		is->shut_wr = true;
		if (is->pcb.tcp && is->state == INET_CONNECTED)
			tcp_shutdown(is->pcb.tcp, 0, 1);
	}
	inet_wake(is, EPOLLIN_BITS | EPOLLOUT_BITS | EPOLLRDHUP | EPOLLHUP);
out:
	net_unlock();
	return r;
}

static long tcp_send_op(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct inet_sock *is = s->sk;
	struct uio *u = m->u;
	size_t done = 0, len = u->count;
	long r = 0;

	if (m->flags & MSG_OOB) {
		klog("send: MSG_OOB (urgent data) is not implemented: -EOPNOTSUPP");
		return -EOPNOTSUPP;
	}
	net_lock();
	if (m->addr && is->state != INET_CONNECTED) {
		r = is->state == INET_FRESH ? -EPIPE : -ENOTCONN; /* no TCP Fast Open */
		goto out;
	}
	while (done < len || !len) {
		struct tcp_pcb *p = is->pcb.tcp;
		if (is->err) {
			r = -take_err(is);
			break;
		}
		if (is->state != INET_CONNECTED && is->state != INET_CONNECTING) {
			r = -EPIPE; /* Linux's sk_stream_wait_connect, listeners included */
			break;
		}
		if (is->shut_wr || (!p && is->state == INET_CONNECTED)) {
			r = -EPIPE;
			break;
		}
		if (!len)
			break;
		/* Room for the bytes and for the segments lwIP cuts them into. */
		if (snd_may(is, len - done)) {
			size_t n = MIN(snd_room(is), len - done);
			u8_t fl = 0;
			if ((m->flags & MSG_MORE) || is->cork || done + n < len)
				fl |= TCP_WRITE_FLAG_MORE;
			long c = sndq_write(&is->sndq, p, u, n, fl);
			if (c < 0) {
				r = c;
				break;
			}
			done += c;
			if (!(m->flags & MSG_MORE) && !is->cork)
				tcp_output(p);
			continue;
		}
		if (done && nonblock)
			break;
		if (p)
			tcp_output(p);
		net_flush();
		r = sock_wait(&s->wq, is->err || !is->pcb.tcp || is->shut_wr || snd_may(is, len - done),
			      nonblock, s->sndtimeo, &net_mutex);
		if (r)
			break;
	}
	if (r == -EPIPE && !done)
		sock_sigpipe(m->flags);
out:
	net_unlock();
	return done ? (long)done : r;
}

static long tcp_recv_op(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct inet_sock *is = s->sk;
	struct uio *u = m->u;
	unsigned flags = m->flags;
	size_t want = u->count, target = flags & MSG_WAITALL ? want : 1, done = 0;
	long r = 0;

	if (flags & MSG_OOB) {
		klog("recv: MSG_OOB (urgent data) is not implemented: -EINVAL");
		return -EINVAL;
	}
	if (m->addr)
		m->addrlen = 0;
	m->controllen = 0; /* no control messages on a stream */
	net_lock();
	if (is->state == INET_LISTEN || is->state == INET_FRESH) {
		r = -ENOTCONN;
		goto out;
	}
	while (want) {
		if (is->rx_bytes) {
			r = rx_copy(is, u, want - done, flags & MSG_PEEK);
			if (r <= 0)
				break;
			done += r;
			r = 0;
			if (done >= target || (flags & MSG_PEEK) || !u->count)
				break;
			continue;
		}
		if (done && !(flags & MSG_WAITALL))
			break;
		if (is->err) {
			if (!done)
				r = -take_err(is);
			break;
		}
		if (is->rx_eof || is->shut_rd)
			break;
		net_flush();
		r = sock_wait(&s->wq, is->rx_bytes || is->err || is->rx_eof || is->shut_rd, nonblock,
			      s->rcvtimeo, &net_mutex);
		if (r)
			break;
	}
out:
	net_unlock();
	return done ? (long)done : r;
}

static unsigned tcp_poll_op(struct socket *s)
{
	struct inet_sock *is = s->sk;
	unsigned mask = 0;

	if (is->state == INET_LISTEN)
		return is->acc_head ? EPOLLIN_BITS : 0;
	if (is->state == INET_FRESH)
		return EPOLLOUT_BITS | EPOLLHUP; /* Linux: a closed socket */
	if (is->err)
		mask |= EPOLLERR;
	bool gone = !is->pcb.tcp;
	if (gone || (is->shut_wr && (is->rx_eof || is->shut_rd)))
		mask |= EPOLLHUP;
	if (gone || is->rx_eof || is->shut_rd)
		mask |= EPOLLIN_BITS | EPOLLRDHUP;
	if (is->rx_bytes)
		mask |= EPOLLIN_BITS;
	if (is->state == INET_CONNECTED && (gone || is->shut_wr || tcp_writable(is)))
		mask |= EPOLLOUT_BITS;
	return mask;
}

static long tcp_ioctl_op(struct socket *s, unsigned cmd, uint64_t arg)
{
	struct inet_sock *is = s->sk;
	int v;

	net_lock();
	switch (cmd) {
	case SIOCINQ: v = is->state == INET_LISTEN ? -1 : (int)is->rx_bytes; break;
	case SIOCOUTQ: v = is->pcb.tcp ? (int)(TCP_SND_BUF - is->pcb.tcp->snd_buf) : 0; break;
	default: v = -2;
	}
	net_unlock();
	if (v == -2)
		return -ENOTTY;
	if (v == -1)
		return -EINVAL; /* Linux: FIONREAD on a listener */
	return copy_to_user((void __user *)arg, &v, sizeof(v));
}

static long tcp_setsockopt_op(struct socket *s, int level, int name, const void *val, unsigned len)
{
	struct inet_sock *is = s->sk;
	int v;
	long r;

	net_lock();
	if ((r = inet_setsockopt(is, level, name, val, len)) != 1)
		goto out;
	r = -ENOPROTOOPT;
	if (level != SOL_TCP)
		goto out;
	if ((r = sockopt_get_int(val, len, &v)) < 0)
		goto out;
	switch (name) {
	case TCP_NODELAY: is->nodelay = v; break;
	case TCP_CORK: /* held back with TCP_WRITE_FLAG_MORE; flushed on uncork */
		is->cork = v;
		if (!v && is->pcb.tcp && is->state == INET_CONNECTED)
			tcp_output(is->pcb.tcp);
		break;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		if (v < 1 || v > 32767) {
			r = -EINVAL;
			goto out;
		}
		*(name == TCP_KEEPIDLE ? &is->keepidle : &is->keepintvl) = v;
		break;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127) {
			r = -EINVAL;
			goto out;
		}
		is->keepcnt = v;
		break;
	default:
		klog("setsockopt: TCP option %d is not implemented: -ENOPROTOOPT", name);
		r = -ENOPROTOOPT;
		goto out;
	}
	tcp_sock_apply(is);
	r = 0;
out:
	net_unlock();
	return r;
}

/* include/uapi/linux/tcp.h: struct tcp_info up to tcpi_total_retrans. */
struct tcp_info_k {
	uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
	uint32_t rcv_rtt, rcv_space, total_retrans;
};
#define TCPI_OPT_WSCALE 4

/* TCP_INFO from what lwIP keeps: the state, timers, MSS, window scales,
 * congestion window and threshold (in segments), unacknowledged segments;
 * what lwIP does not track (SACK, losses, last-activity times, totals)
 * reads 0.  RTT and RTO have lwIP's 500 ms granularity. */
static void tcp_info_fill(struct inet_sock *is, struct tcp_info_k *ti)
{
	/* lwIP's enum tcp_state, in order, to Linux's TCP_* numbers */
	static const uint8_t linux_state[] = { 7, 10, 2, 3, 1, 4, 5, 8, 11, 9, 6 };
	struct tcp_pcb *p = is->pcb.tcp;

	memset(ti, 0, sizeof(*ti));
	if (!p) {
		ti->state = 7; /* TCP_CLOSE */
		return;
	}
	ti->state = p->state < sizeof(linux_state) ? linux_state[p->state] : 7;
	if (is->state == INET_LISTEN)
		return;
	u16_t mss = p->mss ? p->mss : 536;
	ti->retransmits = p->nrtx;
	if (p->flags & TF_WND_SCALE) {
		ti->options |= TCPI_OPT_WSCALE;
		ti->wscale = (uint8_t)((p->snd_scale & 0xf) | (p->rcv_scale << 4));
	}
	ti->rto = (uint32_t)p->rto * TCP_SLOW_INTERVAL * 1000;
	ti->snd_mss = ti->rcv_mss = ti->advmss = mss;
	for (struct tcp_seg *g = p->unacked; g; g = g->next)
		ti->unacked++;
	ti->rtt = (uint32_t)(p->sa >> 3) * TCP_SLOW_INTERVAL * 1000;
	ti->rttvar = (uint32_t)(p->sv >> 2) * TCP_SLOW_INTERVAL * 1000;
	ti->snd_ssthresh = p->ssthresh / mss;
	ti->snd_cwnd = p->cwnd / mss;
	ti->rcv_space = p->rcv_wnd;
	ti->rcv_ssthresh = p->rcv_wnd;
	ti->reordering = 3;
}

static long tcp_getsockopt_op(struct socket *s, int level, int name, void *val, unsigned *len)
{
	struct inet_sock *is = s->sk;
	int v;
	long r;

	net_lock();
	if ((r = inet_getsockopt(is, level, name, val, len)) != 1)
		goto out;
	r = -ENOPROTOOPT;
	if (level != SOL_TCP)
		goto out;
	switch (name) {
	case TCP_NODELAY: v = is->nodelay; break;
	case TCP_CORK: v = is->cork; break;
	case TCP_KEEPIDLE: v = is->keepidle; break;
	case TCP_KEEPINTVL: v = is->keepintvl; break;
	case TCP_KEEPCNT: v = is->keepcnt; break;
	case TCP_MAXSEG: v = is->pcb.tcp && is->state != INET_LISTEN ? is->pcb.tcp->mss : 536; break;
	case TCP_INFO: {
		struct tcp_info_k ti;
		tcp_info_fill(is, &ti);
		*len = MIN(*len, (unsigned)sizeof(ti));
		memcpy(val, &ti, *len);
		r = 0;
		goto out;
	}
	default: goto out;
	}
	r = sockopt_put_int(val, len, v);
out:
	net_unlock();
	return r;
}

/* Ends a connection whose socket is gone: lwIP finishes it alone (the FIN,
 * the data still queued, TIME_WAIT), and the send queue goes with the pcb
 * while it holds bytes not yet acknowledged; unread data or SO_LINGER with
 * a zero time reset it, as Linux does. */
static void tcp_orphan(struct inet_sock *is)
{
	struct tcp_pcb *p = is->pcb.tcp;

	if (!p)
		return;
	is->pcb.tcp = NULL;
	tcp_arg(p, NULL);
	if (is->state == INET_LISTEN) { /* a listening pcb has no other callbacks */
		tcp_accept(p, NULL);
		tcp_close(p);
		return;
	}
	tcp_recv(p, NULL);
	tcp_sent(p, NULL);
	tcp_err(p, NULL);
	/* lwIP's tcp_close resets, and frees the pcb at once, when it holds
	 * bytes the program did not read: the same case as rx_bytes. */
	bool unread = (p->state == ESTABLISHED || p->state == CLOSE_WAIT) &&
		      (p->refused_data || p->rcv_wnd != TCP_WND_MAX(p));
	if (is->rx_bytes || unread || (is->linger_on && !is->linger_s)) {
		tcp_abort(p);
		return;
	}
	if (sndq_queued(is->sndq)) {
		sndq_give_to_pcb(is->sndq, p); /* its callbacks free it */
		is->sndq = NULL;
	}
	if (tcp_close(p) != ERR_OK)
		tcp_abort(p);
}

/* Whether the peer acknowledged our FIN (and so every byte before it). */
static bool fin_acked(const struct tcp_pcb *p)
{
	return p->state == FIN_WAIT_2 || p->state == TIME_WAIT || p->state == CLOSED;
}

/* SO_LINGER with a time: close sends the FIN after the bytes queued and
 * waits, at most that long, until the peer acknowledged it, as Linux's
 * tcp_close (sk_stream_wait_close); a signal ends the wait early, and the
 * connection is then left to lwIP as without SO_LINGER.  Linux lingers on
 * a non-blocking socket too. */
static void tcp_linger(struct socket *s, struct inet_sock *is)
{
	if (!is->linger_on || is->linger_s <= 0 || !is->pcb.tcp || is->state != INET_CONNECTED ||
	    is->rx_bytes)
		return;
	if (!is->shut_wr) {
		is->shut_wr = true;
		tcp_shutdown(is->pcb.tcp, 0, 1);
	}
	uint64_t end = clock_monotonic_ns() + (uint64_t)is->linger_s * NSEC_PER_SEC;
	while (is->pcb.tcp && !fin_acked(is->pcb.tcp)) {
		uint64_t now = clock_monotonic_ns();
		if (now >= end)
			break;
		/* An acknowledgement of the FIN alone calls none of lwIP's
		 * callbacks: once only the FIN is outstanding, look again
		 * every 10 ms; before, the sent callback wakes us. */
		bool data = sndq_queued(is->sndq) != 0;
		uint64_t t = data ? end - now : MIN(end - now, (uint64_t)10000000);
		net_flush();
		long r = sock_wait(
			&s->wq,
			!is->pcb.tcp || fin_acked(is->pcb.tcp) || (data && !sndq_queued(is->sndq)),
			false, t, &net_mutex);
		if (r && r != -EAGAIN)
			break; /* a signal */
	}
}

/* A listener stops: connections nobody accepted are reset, the listening
 * pcb is closed; the socket is as if never bound. */
static void tcp_unlisten(struct inet_sock *is)
{
	while (is->acc_head) {
		struct inet_sock *c = is->acc_head;
		is->acc_head = c->next;
		c->linger_on = 1;
		c->linger_s = 0;
		tcp_orphan(c);
		rx_drop(c);
		sndq_free(c->sndq);
		kfree(c);
	}
	is->acc_tail = NULL;
	is->acc_len = 0;
	tcp_orphan(is);
	is->state = INET_FRESH;
	is->bound = false;
}

static void tcp_release_op(struct socket *s)
{
	struct inet_sock *is = s->sk;

	if (!is)
		return;
	net_lock();
	if (is->state == INET_LISTEN)
		tcp_unlisten(is);
	else
		tcp_linger(s, is);
	tcp_orphan(is);
	rx_drop(is);
	sndq_free(is->sndq);
	net_unlock();
	kfree(is);
}

#define TCP_OPS(fam) \
	{ \
		.family = fam, .bind = tcp_bind_op, .connect = tcp_connect_op, .listen = tcp_listen_op, \
		.accept = tcp_accept_op, .getname = tcp_getname_op, .shutdown = tcp_shutdown_op, \
		.sendmsg = tcp_send_op, .recvmsg = tcp_recv_op, .poll = tcp_poll_op, \
		.ioctl = tcp_ioctl_op, .setsockopt = tcp_setsockopt_op, \
		.getsockopt = tcp_getsockopt_op, .release = tcp_release_op, \
	}
const struct proto_ops inet_stream_ops = TCP_OPS(AF_INET);
const struct proto_ops inet6_stream_ops = TCP_OPS(AF_INET6);
