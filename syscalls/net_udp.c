// SPDX-License-Identifier: MIT
/*
 * UDP sockets over lwIP's raw API (Linux's net/ipv4/udp.c): each datagram
 * that arrives is queued whole with its sender until the program reads it,
 * up to SO_RCVBUF bytes (then dropped, as Linux drops).  A send copies the
 * program's bytes straight into a pbuf (the one copy) and hands it to lwIP.
 * Control messages: IP_PKTINFO and IPV6_PKTINFO, both ways; others are
 * EINVAL on send.  Not here: ICMP errors reported to connected sockets
 * (lwIP does not pass them up), multicast (docs/net.md).
 */
#include "syscalls/net_inet.h"

#include "lwip/udp.h"

#define UDP_MAX_PAYLOAD (0xffff - 8 - 20) /* what IPv4 can carry */

static long pktinfo_in(struct inet_sock *is, const struct sock_msg *m, ip_addr_t *src,
		       struct netif **nif);

static void udp_recv_cb(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
			u16_t port)
{
	struct inet_sock *is = arg;
	struct inet_dgram *d;

	(void)pcb;
	if (is->shut_rd || is->dq_bytes + p->tot_len > (size_t)is->rcvbuf ||
	    !(d = kmalloc(sizeof(*d)))) {
		pbuf_free(p);
		return;
	}
	d->next = NULL;
	d->p = p;
	d->from = *addr;
	d->to = *ip_current_dest_addr();
	d->ifindex = netif_get_index(ip_current_input_netif());
	d->port = port;
	if (is->dq_tail)
		is->dq_tail->next = d;
	else
		is->dq_head = d;
	is->dq_tail = d;
	is->dq_bytes += p->tot_len;
	inet_wake(is, EPOLLIN | EPOLLRDNORM);
}

void udp_sock_apply(struct inet_sock *is)
{
	struct udp_pcb *p = is->pcb.udp;

	if (!p)
		return;
	if (is->reuseaddr || is->reuseport)
		ip_set_option(p, SOF_REUSEADDR);
	else
		ip_reset_option(p, SOF_REUSEADDR);
	if (is->broadcast)
		ip_set_option(p, SOF_BROADCAST);
	else
		ip_reset_option(p, SOF_BROADCAST);
	p->tos = (u8_t)is->tos;
	p->ttl = (u8_t)is->ttl;
}

static u8_t udp_type(const struct inet_sock *is)
{
	return is->family == AF_INET ? IPADDR_TYPE_V4 : is->v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY;
}

long udp_sock_init(struct inet_sock *is)
{
	struct udp_pcb *p = udp_new_ip_type(udp_type(is));

	if (!p)
		return -ENOBUFS;
	is->pcb.udp = p;
	udp_recv(p, udp_recv_cb, is);
	udp_sock_apply(is);
	return 0;
}

/* IPV6_V6ONLY may change until bind: the pcb's type follows it. */
static void udp_fix_type(struct inet_sock *is)
{
	struct udp_pcb *p = is->pcb.udp;

	if (!is->bound && is->family == AF_INET6)
		IP_SET_TYPE_VAL(p->local_ip, udp_type(is));
}

static long udp_bind_op(struct socket *s, const void *addr, int len)
{
	struct inet_sock *is = s->sk;
	ip_addr_t ip;
	u16_t port;
	long r;

	net_lock();
	if ((r = inet_addr_in(is, addr, len, &ip, &port)) < 0)
		goto out;
	r = -EINVAL;
	if (is->bound)
		goto out;
	if ((r = inet_bind_addr(is, &ip)) < 0)
		goto out;
	udp_sock_apply(is);
	r = -inet_errno(udp_bind(is->pcb.udp, &ip, port));
	if (!r)
		is->bound = true;
out:
	net_unlock();
	return r;
}

static long udp_connect_op(struct socket *s, const void *addr, int len, bool nonblock)
{
	struct inet_sock *is = s->sk;
	ip_addr_t ip;
	u16_t port;
	uint16_t fam;
	long r;

	(void)nonblock;
	if (len < (int)sizeof(fam))
		return -EINVAL;
	memcpy(&fam, addr, sizeof(fam));
	net_lock();
	if (fam == AF_UNSPEC) { /* dissolves the association */
		udp_disconnect(is->pcb.udp);
		is->state = INET_FRESH;
		r = 0;
		goto out;
	}
	if ((r = inet_peer_in(is, addr, len, &ip, &port)) < 0)
		goto out;
	udp_fix_type(is);
	r = -inet_errno(udp_connect(is->pcb.udp, &ip, port));
	if (!r) {
		is->state = INET_CONNECTED;
		is->bound = true;
		is->rip = ip;
		is->rport = port;
	}
out:
	net_unlock();
	return r;
}

static long udp_getname_op(struct socket *s, void *addr, bool peer)
{
	struct inet_sock *is = s->sk;
	struct udp_pcb *p = is->pcb.udp;
	long r;

	net_lock();
	if (peer && is->state != INET_CONNECTED)
		r = -ENOTCONN;
	else if (peer)
		r = inet_addr_out(is, &p->remote_ip, p->remote_port, addr);
	else if (is->state == INET_CONNECTED && ip_addr_isany(&p->local_ip)) {
		/* Linux reports the source address the route chose. */
		struct netif *n = ip_route(&p->local_ip, &p->remote_ip);
		const ip_addr_t *src = n ? ip_netif_get_local_ip(n, &p->remote_ip) : NULL;
		r = inet_addr_out(is, src ? src : &p->local_ip, p->local_port, addr);
	} else
		r = inet_addr_out(is, &p->local_ip, p->local_port, addr);
	net_unlock();
	return r;
}

static long udp_shutdown_op(struct socket *s, int how)
{
	struct inet_sock *is = s->sk;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	net_lock();
	if (is->state != INET_CONNECTED) {
		net_unlock();
		return -ENOTCONN;
	}
	if (how != SHUT_WR)
		is->shut_rd = true;
	if (how != SHUT_RD)
		is->shut_wr = true;
	inet_wake(is, EPOLLIN | EPOLLRDNORM | EPOLLRDHUP);
	net_unlock();
	return 0;
}

static long udp_send_op(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct inet_sock *is = s->sk;
	size_t len = m->u->count;
	ip_addr_t ip;
	u16_t port = 0;
	struct pbuf *p;
	long r;

	(void)nonblock; /* lwIP takes a datagram at once or refuses it */
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	net_lock();
	if (m->addr && (r = inet_peer_in(is, m->addr, m->addrlen, &ip, &port)) < 0)
		goto out;
	r = -EPIPE;
	if (is->shut_wr)
		goto out;
	r = -EDESTADDRREQ;
	if (!m->addr && is->state != INET_CONNECTED)
		goto out;
	r = -EINVAL;
	if (m->addr && !port)
		goto out;
	r = -ENOBUFS;
	if (!(p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM)))
		goto out;
	if (len && uio_copy_in(m->u, p->payload, len) != (long)len) {
		pbuf_free(p);
		r = -EFAULT;
		goto out;
	}
	udp_fix_type(is);
	ip_addr_t src = { 0 };
	struct netif *nif = NULL;
	if (m->controllen && (r = pktinfo_in(is, m, &src, &nif)) < 0) {
		pbuf_free(p);
		goto out;
	}
	if (!m->addr) {
		ip = is->pcb.udp->remote_ip;
		port = is->pcb.udp->remote_port;
	}
	err_t e;
	if (!nif && ip_addr_isany(&src))
		e = udp_sendto(is->pcb.udp, p, &ip, port);
	else if (!(nif = nif ? nif : ip_route(&src, &ip)))
		e = ERR_RTE;
	else if (ip_addr_isany(&src))
		e = udp_sendto_if(is->pcb.udp, p, &ip, port, nif);
	else
		e = udp_sendto_if_src(is->pcb.udp, p, &ip, port, nif, &src);
	pbuf_free(p);
	is->bound = true;
	r = e == ERR_OK ? (long)len : e == ERR_VAL ? -EAFNOSUPPORT : -inet_errno(e);
out:
	if (r == -EPIPE)
		sock_sigpipe(m->flags);
	net_unlock();
	return r;
}

/* Appends one control message to m's buffer; MSG_CTRUNC when it does
 * not fit (put_cmsg). */
static void cmsg_put(struct sock_msg *m, size_t *used, int level, int type, const void *data, size_t len)
{
	struct cmsghdr h = { sizeof(h) + len, level, type };
	size_t space = CMSG_ALIGN(sizeof(h) + len);

	if (*used + space > m->controllen) {
		m->out_flags |= MSG_CTRUNC;
		return;
	}
	memcpy((char *)m->control + *used, &h, sizeof(h));
	memcpy((char *)m->control + *used + sizeof(h), data, len);
	*used += space;
}

/* The receive side's IP_PKTINFO / IPV6_PKTINFO for datagram d. */
static void pktinfo_out(struct inet_sock *is, struct inet_dgram *d, struct sock_msg *m)
{
	size_t used = 0;

	if (!m->control)
		return;
	if (is->pktinfo && IP_IS_V4(&d->to)) {
		struct in_pktinfo pi = { .ifindex = d->ifindex };
		pi.spec_dst.s_addr = pi.addr.s_addr = ip4_addr_get_u32(ip_2_ip4(&d->to));
		cmsg_put(m, &used, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (is->pktinfo6 && is->family == AF_INET6) {
		struct in6_pktinfo pi = { .ifindex = d->ifindex };
		struct sockaddr_in6 sa;
		inet_addr_out(is, &d->to, 0, &sa);
		pi.addr = sa.sin6_addr;
		cmsg_put(m, &used, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	m->controllen = used;
}

/* The send side's control messages: IP_PKTINFO / IPV6_PKTINFO choose the
 * source address and interface; anything else is EINVAL. */
static long pktinfo_in(struct inet_sock *is, const struct sock_msg *m, ip_addr_t *src,
		       struct netif **nif)
{
	size_t off = 0;

	while (m->controllen - off >= sizeof(struct cmsghdr)) {
		struct cmsghdr h;
		memcpy(&h, (const char *)m->control + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > m->controllen - off)
			return -EINVAL;
		const char *data = (const char *)m->control + off + sizeof(h);
		int ifindex = 0;
		if (h.level == SOL_IP && h.type == IP_PKTINFO &&
		    h.len >= sizeof(h) + sizeof(struct in_pktinfo)) {
			struct in_pktinfo pi;
			memcpy(&pi, data, sizeof(pi));
			ifindex = pi.ifindex;
			if (pi.spec_dst.s_addr) {
				IP_SET_TYPE_VAL(*src, IPADDR_TYPE_V4);
				ip4_addr_set_u32(ip_2_ip4(src), pi.spec_dst.s_addr);
			}
		} else if (h.level == SOL_IPV6 && h.type == IPV6_PKTINFO && is->family == AF_INET6 &&
			   h.len >= sizeof(h) + sizeof(struct in6_pktinfo)) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
			ip_addr_t a;
			u16_t port;
			memcpy(&pi, data, sizeof(pi));
			sa.sin6_addr = pi.addr;
			ifindex = pi.ifindex;
			if (inet_addr_in(is, &sa, sizeof(sa), &a, &port) == 0 && !ip_addr_isany(&a))
				*src = a;
		} else {
			klog("sendmsg: control message level %d type %d on UDP is not implemented: -EINVAL",
			     h.level, h.type);
			return -EINVAL;
		}
		if (ifindex && !(*nif = netif_get_by_index((u8_t)ifindex)))
			return -ENXIO;
		off += CMSG_ALIGN(h.len);
	}
	if (!ip_addr_isany(src) && !inet_addr_local(src))
		return -EINVAL;
	return 0;
}

/* Takes the first datagram off the queue and frees it. */
static void dgram_pop(struct inet_sock *is)
{
	struct inet_dgram *d = is->dq_head;

	is->dq_head = d->next;
	if (!is->dq_head)
		is->dq_tail = NULL;
	is->dq_bytes -= d->p->tot_len;
	pbuf_free(d->p);
	kfree(d);
}

static long udp_recv_op(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct inet_sock *is = s->sk;
	struct inet_dgram *d;
	size_t len = 0, done = 0;
	long r = 0;

	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	net_lock();
	for (;;) {
		if (is->dq_head)
			break;
		if (is->err) {
			r = -is->err;
			is->err = 0;
			goto out;
		}
		if (is->shut_rd)
			goto out; /* 0: end of file */
		net_flush();
		r = sock_wait(&s->wq, is->dq_head || is->err || is->shut_rd, nonblock, s->rcvtimeo,
			      &net_mutex);
		if (r)
			goto out;
	}
	d = is->dq_head;
	len = d->p->tot_len;
	for (struct pbuf *q = d->p; q && m->u->count; q = q->next) {
		long c = uio_copy_out(m->u, q->payload, q->len);
		if (c < 0) {
			r = c;
			break;
		}
		done += c;
		if ((size_t)c < q->len)
			break;
	}
	if (done < len)
		m->out_flags |= MSG_TRUNC;
	if (r < 0) { /* Linux drops a datagram it could not copy out */
		if (!(m->flags & MSG_PEEK))
			dgram_pop(is);
		goto out;
	}
	if (m->addr)
		m->addrlen = inet_addr_out(is, &d->from, d->port, m->addr);
	pktinfo_out(is, d, m);
	if (!(m->flags & MSG_PEEK))
		dgram_pop(is);
	r = m->flags & MSG_TRUNC ? (long)len : (long)done;
out:
	net_unlock();
	return r;
}

static unsigned udp_poll_op(struct socket *s)
{
	struct inet_sock *is = s->sk;
	unsigned mask = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;

	if (is->dq_head)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (is->err)
		mask |= EPOLLERR;
	if (is->shut_rd)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (is->shut_rd && is->shut_wr)
		mask |= EPOLLHUP;
	return mask;
}

static long udp_ioctl_op(struct socket *s, unsigned cmd, uint64_t arg)
{
	struct inet_sock *is = s->sk;
	int v;

	if (cmd != SIOCINQ && cmd != SIOCOUTQ)
		return -ENOTTY;
	net_lock();
	/* FIONREAD: the size of the next datagram, as Linux's udp_ioctl. */
	v = cmd == SIOCINQ && is->dq_head ? is->dq_head->p->tot_len : 0;
	net_unlock();
	return copy_to_user((void __user *)arg, &v, sizeof(v));
}

static long udp_setsockopt_op(struct socket *s, int level, int name, const void *val, unsigned len)
{
	long r;

	net_lock();
	r = inet_setsockopt(s->sk, level, name, val, len);
	net_unlock();
	if (r == 1) {
		klog("setsockopt: level %d option %d on UDP is not implemented: -ENOPROTOOPT", level,
		     name);
		r = -ENOPROTOOPT;
	}
	return r;
}

static long udp_getsockopt_op(struct socket *s, int level, int name, void *val, unsigned *len)
{
	long r;

	net_lock();
	r = inet_getsockopt(s->sk, level, name, val, len);
	net_unlock();
	return r == 1 ? -ENOPROTOOPT : r;
}

static void udp_release_op(struct socket *s)
{
	struct inet_sock *is = s->sk;

	if (!is)
		return;
	net_lock();
	udp_remove(is->pcb.udp);
	while (is->dq_head) {
		struct inet_dgram *d = is->dq_head;
		is->dq_head = d->next;
		pbuf_free(d->p);
		kfree(d);
	}
	net_unlock();
	kfree(is);
}

#define UDP_OPS(fam) \
	{ \
		.family = fam, .bind = udp_bind_op, .connect = udp_connect_op, \
		.getname = udp_getname_op, .shutdown = udp_shutdown_op, .sendmsg = udp_send_op, \
		.recvmsg = udp_recv_op, .poll = udp_poll_op, .ioctl = udp_ioctl_op, \
		.setsockopt = udp_setsockopt_op, .getsockopt = udp_getsockopt_op, \
		.release = udp_release_op, \
	}
const struct proto_ops inet_dgram_ops = UDP_OPS(AF_INET);
const struct proto_ops inet6_dgram_ops = UDP_OPS(AF_INET6);
