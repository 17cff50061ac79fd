// SPDX-License-Identifier: MIT
/*
 * AF_NETLINK with NETLINK_ROUTE, as far as programs ask it about the
 * machine: RTM_GETLINK and RTM_GETADDR dumps (glibc's getifaddrs and
 * if_nameindex, getaddrinfo's AI_ADDRCONFIG check, `ip addr`), answered
 * from the stack's interface list (net_if_list, kernel/net/).  A request
 * becomes one datagram of replies ending in NLMSG_DONE, queued on the
 * socket until read.  Anything that would change the machine (RTM_NEW*,
 * RTM_DEL*) or any other netlink protocol is refused with Linux's errors:
 * -EPROTONOSUPPORT at socket(), an NLMSG_ERROR reply of -EOPNOTSUPP for a
 * request.  The SIOCGIF* ioctls, which every socket answers, are here too.
 * Multicast groups (RTMGRP_LINK, RTMGRP_IPV4_IFADDR…, bound through
 * nl_groups; dnsmasq and others watch them) are joined and read back by
 * getsockname; they never carry a message, because nothing changes the
 * interfaces, addresses or routes after boot: they come from the kernel
 * command line and every RTM_NEW and RTM_DEL is refused.
 */
#include "kernel/net/netdev.h"
#include "syscalls/net.h"

#define NL_SEND_MAX 16384 /* one sendmsg's requests */
#define NL_QUEUE_MAX (256 * 1024)
#define NL_IF_MAX 8

struct nl_dgram {
	struct nl_dgram *next;
	size_t len;
	uint8_t data[];
};

struct nlsock {
	struct mutex lock;
	uint32_t portid; /* 0 until bound */
	uint32_t groups; /* the nl_groups joined at bind; see the top */
	struct nl_dgram *head, **tail;
	size_t queued;
};

/* The reply being built: messages appended to a buffer. */
struct nl_reply {
	uint8_t *buf;
	size_t len, cap;
	bool overflow;
};

static void *reply_put(struct nl_reply *r, size_t len)
{
	size_t at = r->len;

	if (r->overflow || at + NLMSG_ALIGN(len) > r->cap) {
		r->overflow = true;
		return NULL;
	}
	r->len += NLMSG_ALIGN(len);
	memset(r->buf + at, 0, NLMSG_ALIGN(len));
	return r->buf + at;
}

static struct nlmsghdr *msg_begin(struct nl_reply *r, const struct nlmsghdr *req, uint16_t type,
				  uint16_t flags, uint32_t portid)
{
	struct nlmsghdr *h = reply_put(r, sizeof(*h));

	if (h)
		*h = (struct nlmsghdr){ sizeof(*h), type, flags, req->seq, portid };
	return h;
}

/* Appends to the message h, which must be the last one in r. */
static void *msg_put(struct nl_reply *r, struct nlmsghdr *h, size_t len)
{
	void *p = h ? reply_put(r, len) : NULL;

	if (p)
		h->len = (uint32_t)((r->buf + r->len) - (uint8_t *)h);
	return p;
}

static void attr_put(struct nl_reply *r, struct nlmsghdr *h, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = msg_put(r, h, sizeof(*a) + len);

	if (a) {
		*a = (struct rtattr){ (uint16_t)(sizeof(*a) + len), type };
		memcpy(a + 1, data, len);
		/* A message's length counts the padding of its last attribute
		 * only when another follows; Linux's nlmsg_end keeps it. */
	}
}

static void dump_links(struct nl_reply *r, const struct nlmsghdr *req, uint32_t portid,
		       const struct net_ifinfo *ifs, int n)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	for (int i = 0; i < n; i++) {
		struct nlmsghdr *h = msg_begin(r, req, RTM_NEWLINK, NLM_F_MULTI, portid);
		struct ifinfomsg *m = msg_put(r, h, sizeof(*m));
		uint32_t txq = 1000;
		if (!m)
			return;
		m->type = ifs[i].has_mac ? ARPHRD_ETHER : ARPHRD_LOOPBACK;
		m->index = ifs[i].index;
		m->flags = ifs[i].flags;
		attr_put(r, h, IFLA_IFNAME, ifs[i].name, strlen(ifs[i].name) + 1);
		attr_put(r, h, IFLA_MTU, &ifs[i].mtu, 4);
		attr_put(r, h, IFLA_TXQLEN, &txq, 4);
		static const uint8_t zero[6];
		attr_put(r, h, IFLA_ADDRESS, ifs[i].has_mac ? ifs[i].mac : zero, 6);
		attr_put(r, h, IFLA_BROADCAST, ifs[i].has_mac ? bcast : zero, 6);
	}
}

static void addr_msg(struct nl_reply *r, const struct nlmsghdr *req, uint32_t portid,
		     const struct net_ifinfo *ifi, int family, const void *addr, int prefix)
{
	struct nlmsghdr *h = msg_begin(r, req, RTM_NEWADDR, NLM_F_MULTI, portid);
	struct ifaddrmsg *m = msg_put(r, h, sizeof(*m));
	size_t alen = family == AF_INET ? 4 : 16;
	const uint8_t *a = addr;

	if (!m)
		return;
	m->family = family;
	m->prefixlen = prefix;
	m->flags = IFA_F_PERMANENT;
	m->scope = (ifi->flags & IFF_LOOPBACK) ? RT_SCOPE_HOST
		   : family == AF_INET6 && a[0] == 0xfe && (a[1] & 0xc0) == 0x80
			   ? RT_SCOPE_LINK
			   : RT_SCOPE_UNIVERSE;
	m->index = ifi->index;
	attr_put(r, h, IFA_ADDRESS, addr, alen);
	if (family == AF_INET) {
		uint32_t bcast = ifi->addr4 | ~ifi->mask4;
		attr_put(r, h, IFA_LOCAL, addr, alen);
		if (!(ifi->flags & IFF_LOOPBACK))
			attr_put(r, h, IFA_BROADCAST, &bcast, 4);
		attr_put(r, h, IFA_LABEL, ifi->name, strlen(ifi->name) + 1);
	}
}

static void dump_addrs(struct nl_reply *r, const struct nlmsghdr *req, uint32_t portid,
		       const struct net_ifinfo *ifs, int n, int family)
{
	for (int i = 0; i < n; i++) {
		if (ifs[i].addr4 && family != AF_INET6)
			addr_msg(r, req, portid, &ifs[i], AF_INET, &ifs[i].addr4, ifs[i].prefix4);
		for (int j = 0; j < ifs[i].naddr6 && family != AF_INET; j++)
			addr_msg(r, req, portid, &ifs[i], AF_INET6, ifs[i].addr6[j], ifs[i].prefix6[j]);
	}
}

static void reply_error(struct nl_reply *r, const struct nlmsghdr *req, uint32_t portid, int err)
{
	struct nlmsghdr *h = msg_begin(r, req, NLMSG_ERROR, 0, portid);
	struct nlmsgerr *e = msg_put(r, h, sizeof(*e));

	if (e) {
		e->error = err;
		e->msg = *req;
	}
}

/* Answers one request into r. */
static void nl_request(struct nl_reply *r, const struct nlmsghdr *req, size_t len, uint32_t portid)
{
	struct net_ifinfo ifs[NL_IF_MAX];
	bool dump = (req->flags & NLM_F_DUMP) == NLM_F_DUMP;
	int family = len >= sizeof(*req) + 1 ? ((const uint8_t *)(req + 1))[0] : AF_UNSPEC;

	if (!(req->flags & NLM_F_REQUEST))
		return; /* Linux ignores what is not a request */
	if (!dump || (req->type != RTM_GETLINK && req->type != RTM_GETADDR)) {
		reply_error(r, req, portid, -EOPNOTSUPP);
		return;
	}
	int n = net_if_list(ifs, NL_IF_MAX);
	if (req->type == RTM_GETLINK)
		dump_links(r, req, portid, ifs, n);
	else
		dump_addrs(r, req, portid, ifs, n, family);
	struct nlmsghdr *done = msg_begin(r, req, NLMSG_DONE, NLM_F_MULTI, portid);
	int32_t *zero = msg_put(r, done, sizeof(int32_t));
	if (zero)
		*zero = 0;
	else if (req->flags & NLM_F_ACK)
		reply_error(r, req, portid, 0);
}

/* A kernel without the stack has no interfaces at all; the stack's own
 * net_if_list (kernel/net/) replaces this one when it is linked. */
__attribute__((weak)) int net_if_list(struct net_ifinfo *out, int max)
{
	(void)out;
	(void)max;
	return 0;
}

/* ---- the socket ----------------------------------------------------------- */

/* Linux's netlink_autobind: the process's pid for the first socket, then
 * numbers counting down from -4096.  A port id is never reused here. */
static void nl_autobind(struct nlsock *n)
{
	static bool pid_taken;
	static int32_t next = -4096;

	if (n->portid)
		return;
	if (!pid_taken) {
		pid_taken = true;
		n->portid = 1; /* getpid() */
	} else {
		n->portid = (uint32_t)next--;
	}
}

static long nl_bind(struct socket *s, const void *addr, int len)
{
	struct nlsock *n = s->sk;
	const struct sockaddr_nl *a = addr;

	if (len < (int)sizeof(*a) || a->nl_family != AF_NETLINK)
		return -EINVAL;
	mutex_lock(&n->lock);
	n->groups = a->nl_groups;
	if (a->nl_pid && !n->portid)
		n->portid = a->nl_pid;
	nl_autobind(n);
	mutex_unlock(&n->lock);
	return 0;
}

static long nl_getname(struct socket *s, void *addr, bool peer)
{
	struct nlsock *n = s->sk;
	struct sockaddr_nl *a = addr;

	*a = (struct sockaddr_nl){ .nl_family = AF_NETLINK,
				   .nl_pid = peer ? 0 : n->portid,
				   .nl_groups = peer ? 0 : n->groups };
	return sizeof(*a);
}

static long nl_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct nlsock *n = s->sk;
	size_t len = m->u->count;
	struct nl_reply r = { .cap = NL_SEND_MAX };
	long ret;

	(void)nonblock;
	if (m->addr) {
		const struct sockaddr_nl *a = m->addr;
		if (m->addrlen < (int)sizeof(*a) || a->nl_family != AF_NETLINK)
			return -EINVAL;
		if (a->nl_pid || a->nl_groups)
			return -EOPNOTSUPP; /* only the kernel answers here */
	}
	if (len > NL_SEND_MAX)
		return -EMSGSIZE;
	uint8_t *req = kmalloc(len ? len : 1);
	struct nl_dgram *d = kmalloc(sizeof(*d) + NL_SEND_MAX);
	if (!req || !d) {
		ret = -ENOBUFS;
		goto out;
	}
	if ((ret = uio_copy_in(m->u, req, len)) < 0 || (size_t)ret != len) {
		ret = ret < 0 ? ret : -EFAULT;
		goto out;
	}
	mutex_lock(&n->lock);
	nl_autobind(n);
	r.buf = d->data;
	for (size_t at = 0; at + sizeof(struct nlmsghdr) <= len;) {
		struct nlmsghdr h;
		memcpy(&h, req + at, sizeof(h));
		if (h.len < sizeof(h) || h.len > len - at)
			break;
		nl_request(&r, (struct nlmsghdr *)(req + at), h.len, n->portid);
		at += NLMSG_ALIGN(h.len);
	}
	if (r.len && n->queued + r.len <= NL_QUEUE_MAX) {
		d->len = r.len;
		d->next = NULL;
		*n->tail = d;
		n->tail = &d->next;
		n->queued += r.len;
		d = NULL;
		poll_wake(&s->wq, EPOLLIN | EPOLLRDNORM);
	}
	mutex_unlock(&n->lock);
	ret = r.len && d ? -ENOBUFS : (long)len;
out:
	kfree(req);
	kfree(d);
	return ret;
}

static long nl_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct nlsock *n = s->sk;
	struct nl_dgram *d;
	long r;

	mutex_lock(&n->lock);
	r = sock_wait(&s->wq, n->head, nonblock, s->rcvtimeo, &n->lock);
	if (r < 0) {
		mutex_unlock(&n->lock);
		return r;
	}
	d = n->head;
	r = uio_copy_out(m->u, d->data, MIN(d->len, m->u->count));
	if (r >= 0 && d->len > (size_t)r)
		m->out_flags |= MSG_TRUNC;
	if (r >= 0 && (m->flags & MSG_TRUNC))
		r = d->len;
	if (r >= 0 && !(m->flags & MSG_PEEK)) {
		n->head = d->next;
		if (!n->head)
			n->tail = &n->head;
		n->queued -= d->len;
		kfree(d);
	}
	mutex_unlock(&n->lock);
	*(struct sockaddr_nl *)m->addr = (struct sockaddr_nl){ .nl_family = AF_NETLINK };
	m->addrlen = sizeof(struct sockaddr_nl);
	m->controllen = 0;
	return r;
}

static unsigned nl_poll(struct socket *s)
{
	struct nlsock *n = s->sk;

	return EPOLLOUT | EPOLLWRNORM | (n->head ? EPOLLIN | EPOLLRDNORM : 0);
}

static long nl_setsockopt(struct socket *s, int level, int name, const void *val, unsigned len)
{
	int v;

	(void)s;
	/* Buffer sizes are accepted: the queue has its own fixed bound. */
	if (level == SOL_SOCKET &&
	    (name == SO_RCVBUF || name == SO_SNDBUF || name == SO_RCVBUFFORCE || name == SO_SNDBUFFORCE))
		return sockopt_get_int(val, len, &v);
	return -ENOPROTOOPT;
}

static void nl_release(struct socket *s)
{
	struct nlsock *n = s->sk;

	while (n && n->head) {
		struct nl_dgram *d = n->head;
		n->head = d->next;
		kfree(d);
	}
	kfree(n);
}

static const struct proto_ops nl_ops = {
	.family = AF_NETLINK,
	.bind = nl_bind,
	.getname = nl_getname,
	.sendmsg = nl_sendmsg,
	.recvmsg = nl_recvmsg,
	.poll = nl_poll,
	.setsockopt = nl_setsockopt,
	.release = nl_release,
};

static long nl_create(struct socket *s, int protocol)
{
	struct nlsock *n;

	if (s->type != SOCK_RAW && s->type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != NETLINK_ROUTE) {
		klog("netlink: only NETLINK_ROUTE is implemented (protocol %d)", protocol);
		return -EPROTONOSUPPORT;
	}
	if (!(n = kzalloc(sizeof(*n))))
		return -ENOMEM;
	n->lock.name = "netlink";
	n->tail = &n->head;
	s->sk = n;
	s->ops = &nl_ops;
	return 0;
}

const struct net_family netlink_family = { .family = AF_NETLINK, .create = nl_create };

/* ---- SIOCGIF*: interface queries through any socket ------------------------ */

static bool if_find(const struct ifreq *q, struct net_ifinfo *out, bool by_index)
{
	struct net_ifinfo ifs[NL_IF_MAX];
	int n = net_if_list(ifs, NL_IF_MAX);

	for (int i = 0; i < n; i++)
		if (by_index ? ifs[i].index == q->ivalue : !strncmp(ifs[i].name, q->name, IFNAMSIZ)) {
			*out = ifs[i];
			return true;
		}
	return false;
}

static void put_in(struct sockaddr_k *sa, uint32_t addr)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr = { addr } };

	memcpy(sa, &in, sizeof(*sa));
}

static long ifconf(uint64_t arg)
{
	struct net_ifinfo ifs[NL_IF_MAX];
	struct ifconf c;
	int n = net_if_list(ifs, NL_IF_MAX), used = 0;

	if (copy_from_user(&c, (void *)arg, sizeof(c)) < 0)
		return -EFAULT;
	for (int i = 0; i < n; i++) {
		struct ifreq q = { 0 };
		if (!ifs[i].addr4)
			continue;
		if (c.buf && used + (int)sizeof(q) > c.len)
			break;
		if (c.buf) {
			memcpy(q.name, ifs[i].name, IFNAMSIZ);
			put_in(&q.addr, ifs[i].addr4);
			if (copy_to_user((void *)(c.buf + used), &q, sizeof(q)) < 0)
				return -EFAULT;
		}
		used += sizeof(q);
	}
	c.len = used;
	return copy_to_user((void *)arg, &c, sizeof(c));
}

long net_if_ioctl(unsigned cmd, uint64_t arg)
{
	struct net_ifinfo ifi;
	struct ifreq q;

	if (cmd == SIOCGIFCONF)
		return ifconf(arg);
	if (copy_from_user(&q, (void *)arg, sizeof(q)) < 0)
		return -EFAULT;
	if (!if_find(&q, &ifi, cmd == SIOCGIFNAME))
		return -ENODEV;
	switch (cmd) {
	case SIOCGIFNAME: memcpy(q.name, ifi.name, IFNAMSIZ); break;
	case SIOCGIFINDEX: q.ivalue = ifi.index; break;
	case SIOCGIFFLAGS: q.flags = (int16_t)ifi.flags; break;
	case SIOCGIFMTU: q.ivalue = ifi.mtu; break;
	case SIOCGIFADDR:
	case SIOCGIFNETMASK:
		if (!ifi.addr4)
			return -EADDRNOTAVAIL;
		put_in(&q.addr, cmd == SIOCGIFADDR ? ifi.addr4 : ifi.mask4);
		break;
	case SIOCGIFHWADDR:
		memset(&q.addr, 0, sizeof(q.addr));
		q.addr.sa_family = ifi.has_mac ? ARPHRD_ETHER : ARPHRD_LOOPBACK;
		memcpy(q.addr.sa_data, ifi.mac, ifi.has_mac ? 6 : 0);
		break;
	default: return -ENOTTY;
	}
	return copy_to_user((void *)arg, &q, sizeof(q));
}
