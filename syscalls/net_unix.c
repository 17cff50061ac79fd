// SPDX-License-Identifier: MIT
/*
 * AF_UNIX (Linux's net/unix/af_unix.c): SOCK_STREAM, SOCK_SEQPACKET and
 * SOCK_DGRAM (SOCK_RAW is taken as SOCK_DGRAM, as Linux does), socket and
 * socketpair, connect, listen and accept, shutdown, options and readiness.
 * A stream or seqpacket connect makes the server's end at once and queues
 * it on the listener for accept, so a client may write before it is
 * accepted; a full backlog (more than `backlog` waiting) blocks the
 * connect or answers EAGAIN.  Names are in net_unix_addr.c, sending and
 * receiving in net_unix_msg.c, control messages in net_unix_scm.c.
 * MSG_OOB is not implemented (EOPNOTSUPP).
 */
#include "syscalls/net_unix.h"

struct mutex unix_lock = MUTEX_INIT("af_unix");
static struct usock *all_usocks;

#define SOCK_MIN_SNDBUF 4608 /* 2 * (2048 + sizeof(struct sk_buff)), roughly */
#define SOCK_MIN_RCVBUF 2304

/* The SOL_SOCKET options Linux's sock_setsockopt keeps for any socket and
 * AF_UNIX has no use for: kept (a flag as 0 or 1) so that getsockopt
 * reads them back, changing nothing else. */
static const struct {
	int name;
	bool flag;
	int initial;
} generic[UNIX_GENERIC_OPTS] = {
	{ SO_DEBUG, true, 0 },      { SO_REUSEADDR, true, 0 },
	{ SO_DONTROUTE, true, 0 },  { SO_BROADCAST, true, 0 },
	{ SO_KEEPALIVE, true, 0 },  { SO_OOBINLINE, true, 0 },
	{ SO_NO_CHECK, true, 0 },   { SO_WIFI_STATUS, true, 0 },
	{ SO_NOFCS, true, 0 },      { SO_LOCK_FILTER, true, 0 },
	{ SO_PRIORITY, false, 0 },  { SO_MARK, false, 0 },
	{ SO_BUSY_POLL, false, 0 }, { SO_INCOMING_CPU, false, -1 },
	{ SO_PASSSEC, true, 0 }, /* no security module: no SCM_SECURITY comes */
};

static int *generic_int(struct usock *u, int name, bool *flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(generic); i++)
		if (generic[i].name == name) {
			*flag = generic[i].flag;
			return &u->generic[i];
		}
	return NULL;
}

struct usock *unix_alloc(struct socket *s)
{
	struct usock *u = kzalloc(sizeof(*u));

	if (!u)
		return NULL;
	u->sock = s;
	u->refs = 1;
	u->type = s->type;
	u->rq_tail = &u->rq;
	u->sndbuf = UNIX_SNDBUF;
	u->rcvbuf = UNIX_RCVBUF;
	u->backlog = UNIX_DGRAM_QLEN;
	u->rcvlowat = 1;
	u->peek_off = -1;
	for (size_t i = 0; i < ARRAY_SIZE(generic); i++)
		u->generic[i] = generic[i].initial;
	u->cred = unix_cred_now();
	u->peercred = (struct ucred){ .pid = 0, .uid = -1, .gid = -1 };
	s->sk = u;
	mutex_lock(&unix_lock);
	u->all_next = all_usocks;
	u->all_pprev = &all_usocks;
	if (all_usocks)
		all_usocks->all_pprev = &u->all_next;
	all_usocks = u;
	mutex_unlock(&unix_lock);
	return u;
}

struct usock *unix_all(void)
{
	return all_usocks;
}

void unix_get(struct usock *u)
{
	u->refs++;
}

void unix_put(struct usock *u)
{
	if (--u->refs)
		return;
	*u->all_pprev = u->all_next;
	if (u->all_next)
		u->all_next->all_pprev = u->all_pprev;
	kfree(u);
}

void unix_wake(struct usock *u, unsigned key)
{
	if (u->sock)
		poll_wake(&u->sock->wq, key);
}

void unix_wake_senders(struct usock *u)
{
	wake_up(&u->peer_wait);
	for (struct usock *o = all_usocks; o; o = o->all_next)
		if (o->peer == u && o->type != SOCK_STREAM)
			unix_wake(o, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
}

/* ---- connections ----------------------------------------------------------- */

static void join(struct usock *a, struct usock *b)
{
	a->peer = b;
	unix_get(b);
	b->peer = a;
	unix_get(a);
	a->state = b->state = US_CONNECTED;
}

static long unix_pair(struct socket *sa, struct socket *sb)
{
	mutex_lock(&unix_lock);
	struct usock *a = sa->sk, *b = sb->sk;
	join(a, b);
	a->peercred = b->peercred = unix_cred_now();
	mutex_unlock(&unix_lock);
	return 0;
}

/* unix_stream_connect: a new socket for the server's end, queued on the
 * listener; the caller is connected to it at once. */
static long stream_connect(struct socket *s, const void *addr, int len, bool nonblock)
{
	struct usock *u = s->sk, *other;
	struct socket *ns = sock_alloc(AF_UNIX, s->type, O_RDWR);
	struct umsg *msg = kzalloc(sizeof(*msg));
	long r = -ENOMEM;

	if (ns) {
		ns->ops = s->ops;
		ns->protocol = s->protocol;
	}
	if (!ns || !msg || !unix_alloc(ns))
		goto out_free;
	mutex_lock(&unix_lock);
	if ((r = unix_find(addr, len, s->type, &other)) < 0) {
		mutex_unlock(&unix_lock);
		goto out_free;
	}
	for (;;) {
		if (!other->sock || other->state != US_LISTEN || (other->shutdown & RCV_SHUTDOWN)) {
			r = -ECONNREFUSED;
			break;
		}
		if (other->rq_count > other->backlog) {
			r = sock_wait(&other->peer_wait,
				      !other->sock || other->state != US_LISTEN ||
					      other->rq_count <= other->backlog,
				      nonblock, s->sndtimeo, &unix_lock);
			if (r)
				break;
			continue;
		}
		if (u->state != US_CLOSE) {
			r = u->state == US_CONNECTED ? -EISCONN : -EINVAL;
			break;
		}
		if (u->passcred && !u->addrlen && (r = unix_autobind(u)) < 0)
			break;
		struct usock *nu = ns->sk;
		join(u, nu);
		nu->peercred = unix_cred_now();
		u->peercred = other->peercred;
		nu->addrlen = other->addrlen; /* accept's end has the listener's name */
		memcpy(&nu->addr, &other->addr, other->addrlen);
		msg->embryo = nu;
		unix_queue(other, msg);
		unix_wake(other, EPOLLIN | EPOLLRDNORM);
		msg = NULL;
		ns = NULL;
		r = 0;
		break;
	}
	unix_put(other);
	mutex_unlock(&unix_lock);
out_free:
	kfree(msg);
	if (ns)
		sock_free(ns);
	return r;
}

static long dgram_connect(struct socket *s, const void *addr, int len, bool nonblock)
{
	struct usock *u = s->sk, *other = NULL, *old;
	long r;

	(void)nonblock;
	mutex_lock(&unix_lock);
	if (len < (int)sizeof(uint16_t) || *(const uint16_t *)addr != AF_UNSPEC) {
		if ((r = unix_find(addr, len, s->type, &other)) < 0)
			goto out;
		if (u->passcred && !u->addrlen && (r = unix_autobind(u)) < 0)
			goto out;
		if (other->peer && other->peer != u) {
			r = -EPERM;
			goto out;
		}
	}
	old = u->peer;
	u->peer = other;
	u->state = other ? US_CONNECTED : US_CLOSE;
	other = old;
	r = 0;
out:
	if (other)
		unix_put(other);
	mutex_unlock(&unix_lock);
	return r;
}

static long unix_listen(struct socket *s, int backlog)
{
	struct usock *u = s->sk;
	long r = 0;

	mutex_lock(&unix_lock);
	if (!u->addrlen || (u->state != US_CLOSE && u->state != US_LISTEN)) {
		r = -EINVAL;
	} else {
		if (backlog > u->backlog)
			wake_up(&u->peer_wait);
		u->backlog = backlog;
		u->state = US_LISTEN;
		u->peercred = unix_cred_now();
	}
	mutex_unlock(&unix_lock);
	return r;
}

static long unix_accept(struct socket *s, struct socket **out, bool nonblock)
{
	struct usock *u = s->sk;
	struct umsg *drop = NULL;
	long r;

	mutex_lock(&unix_lock);
	if (u->state != US_LISTEN) {
		r = -EINVAL;
		goto out;
	}
	r = sock_wait(&s->wq, u->rq || (u->shutdown & RCV_SHUTDOWN) || u->state != US_LISTEN, nonblock,
		      s->rcvtimeo, &unix_lock);
	if (!r && !u->rq)
		r = -EINVAL;
	if (!r) {
		struct umsg *msg = u->rq;
		u->rq = msg->next;
		if (!u->rq)
			u->rq_tail = &u->rq;
		u->rq_count--;
		msg->embryo->passcred = u->passcred;
		*out = msg->embryo->sock;
		unix_msg_free(msg, &drop);
		wake_up(&u->peer_wait);
	}
out:
	mutex_unlock(&unix_lock);
	return r;
}

static long unix_shutdown(struct socket *s, int how)
{
	struct usock *u = s->sk, *p;
	unsigned mode = how + 1; /* SHUT_RD: RCV_SHUTDOWN, SHUT_WR: SEND_SHUTDOWN */

	mutex_lock(&unix_lock);
	u->shutdown |= mode;
	unix_wake(u, 0);
	if ((p = u->peer) && u->type != SOCK_DGRAM) {
		p->shutdown |= (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) |
			       (mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
		unix_wake(p, 0);
	}
	mutex_unlock(&unix_lock);
	return 0;
}

static void unix_release(struct socket *s)
{
	struct usock *u = s->sk, *p;
	struct umsg *drop = NULL, *msg;
	struct usock *embryos = NULL;

	if (!u)
		return;
	mutex_lock(&unix_lock);
	unix_unbind(u);
	u->sock = NULL;
	u->shutdown = SHUTDOWN_MASK;
	if ((p = u->peer)) {
		if (u->type != SOCK_DGRAM) {
			p->shutdown = SHUTDOWN_MASK;
			if (u->rq || u->embryo_reset)
				p->err = ECONNRESET;
			unix_wake(p, 0);
		}
		u->peer = NULL;
		unix_put(p);
	}
	while ((msg = u->rq)) {
		u->rq = msg->next;
		if (msg->embryo) { /* never accepted: their clients see a reset */
			msg->embryo->embryo_reset = true;
			msg->embryo->abs_next = embryos; /* unbound: the link is free */
			embryos = msg->embryo;
		}
		unix_msg_free(msg, &drop);
	}
	u->rq_tail = &u->rq;
	u->rq_count = 0;
	u->rq_bytes = 0;
	unix_wake_senders(u);
	unix_put(u);
	s->sk = NULL;
	mutex_unlock(&unix_lock);
	while (embryos) {
		struct usock *e = embryos;
		embryos = e->abs_next;
		sock_free(e->sock);
	}
	unix_drop_files(drop);
	unix_gc();
}

/* ---- readiness and ioctls --------------------------------------------------- */

static unsigned poll_common(const struct usock *u)
{
	unsigned mask = 0;

	if (u->err)
		mask |= EPOLLERR;
	if (u->shutdown == SHUTDOWN_MASK)
		mask |= EPOLLHUP;
	if (u->shutdown & RCV_SHUTDOWN)
		mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (u->rq)
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* unix_poll: a connection-oriented socket that is not connected hangs up. */
static unsigned stream_poll(struct socket *s)
{
	struct usock *u = s->sk;
	unsigned mask = poll_common(u);

	if (u->state == US_CLOSE)
		mask |= EPOLLHUP;
	if (u->state != US_LISTEN && u->wmem * 4 <= (size_t)u->sndbuf)
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	return mask;
}

/* unix_dgram_poll: not writable while the connected peer's queue is full
 * (and it is not connected back). */
static unsigned dgram_poll(struct socket *s)
{
	struct usock *u = s->sk, *p = u->peer;
	unsigned mask = poll_common(u);

	if (u->type == SOCK_SEQPACKET && u->state == US_CLOSE)
		mask |= EPOLLHUP;
	bool w = u->state != US_LISTEN && u->wmem * 4 <= (size_t)u->sndbuf;
	if (w && p && p->peer != u && p->sock && p->rq_count > p->backlog)
		w = false;
	if (w)
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	return mask;
}

static long unix_ioctl(struct socket *s, unsigned cmd, uint64_t arg)
{
	struct usock *u = s->sk;
	int n = 0;

	if (cmd == SIOCATMARK) /* never at an urgent mark: there is no MSG_OOB */
		return copy_to_user((void __user *)arg, &n, sizeof(n));
	if (cmd != SIOCINQ && cmd != SIOCOUTQ)
		return -ENOTTY;
	mutex_lock(&unix_lock);
	if (cmd == SIOCINQ)
		n = u->type == SOCK_DGRAM ? (u->rq ? (int)u->rq->len : 0) : (int)u->rq_bytes;
	else
		n = u->wmem;
	bool listening = u->state == US_LISTEN;
	mutex_unlock(&unix_lock);
	if (listening)
		return -EINVAL;
	return copy_to_user((void __user *)arg, &n, sizeof(n));
}

/* ---- options ------------------------------------------------------------------ */

/* SO_TIMESTAMP and SO_TIMESTAMPNS (sock_set_timestamp): setting either
 * chooses the format of the receive timestamp; clearing either clears it. */
static void tstamp_set(struct usock *u, int name, int v)
{
	u->tstamp = !v ? 0 : name == SO_TIMESTAMP ? SO_TIMESTAMP : SO_TIMESTAMPNS;
}

/* sock_setsockopt's SO_SNDBUF/SO_RCVBUF: the value doubled (for the
 * kernel's overhead), capped at net.core.*mem_max unless forced. */
static int buf_size(int v, bool capped, int min)
{
	if (capped)
		v = MIN((unsigned)v, (unsigned)UNIX_BUF_MAX);
	else if (v < 0)
		v = 0;
	v = MIN(v, 0x7fffffff / 2);
	return MAX(v * 2, min);
}

static long unix_setsockopt(struct socket *s, int level, int name, const void *val, unsigned len)
{
	struct usock *u = s->sk;
	struct linger l;
	int v, *p;
	bool flag;
	long r;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	if (name == SO_LINGER) {
		if (len < sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		u->linger = (struct linger){ .onoff = !!l.onoff, .linger = l.onoff ? l.linger : 0 };
		return 0;
	}
	if ((r = sockopt_get_int(val, len, &v)) < 0)
		return r;
	mutex_lock(&unix_lock);
	r = 0;
	switch (name) {
	case SO_PASSCRED: u->passcred = v != 0; break;
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		u->sndbuf = buf_size(v, name == SO_SNDBUF, SOCK_MIN_SNDBUF);
		unix_wake(u, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
		break;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE: u->rcvbuf = buf_size(v, name == SO_RCVBUF, SOCK_MIN_RCVBUF); break;
	case SO_PEEK_OFF: u->peek_off = v; break;
	case SO_RCVLOWAT: u->rcvlowat = v < 0 ? 0x7fffffff : v ? v : 1; break;
	case SO_TIMESTAMP:
	case SO_TIMESTAMPNS: tstamp_set(u, name, v); break;
	case SO_BSDCOMPAT: break;                          /* accepted and ignored, as by Linux */
	case SO_REUSEPORT: r = v ? -EOPNOTSUPP : 0; break; /* Linux: inet sockets only */
	case SO_ZEROCOPY: r = -EOPNOTSUPP; break;
	default:
		if ((p = generic_int(u, name, &flag)))
			*p = flag ? v != 0 : v;
		else
			r = -ENOPROTOOPT;
	}
	mutex_unlock(&unix_lock);
	return r;
}

static long unix_getsockopt(struct socket *s, int level, int name, void *val, unsigned *len)
{
	struct usock *u = s->sk;
	int *p;
	bool flag;
	long r = 0;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	mutex_lock(&unix_lock);
	switch (name) {
	case SO_PEERCRED: {
		struct ucred c = u->state == US_CLOSE ? (struct ucred){ 0, -1, -1 } : u->peercred;
		*len = MIN(*len, (unsigned)sizeof(c));
		memcpy(val, &c, *len);
		break;
	}
	case SO_LINGER:
		*len = MIN(*len, (unsigned)sizeof(u->linger));
		memcpy(val, &u->linger, *len);
		break;
	case SO_ERROR:
		r = sockopt_put_int(val, len, u->err);
		u->err = 0;
		break;
	case SO_ACCEPTCONN: r = sockopt_put_int(val, len, u->state == US_LISTEN); break;
	case SO_PASSCRED: r = sockopt_put_int(val, len, u->passcred); break;
	case SO_SNDBUF: r = sockopt_put_int(val, len, u->sndbuf); break;
	case SO_RCVBUF: r = sockopt_put_int(val, len, u->rcvbuf); break;
	case SO_RCVLOWAT: r = sockopt_put_int(val, len, u->rcvlowat); break;
	case SO_SNDLOWAT: r = sockopt_put_int(val, len, 1); break;
	case SO_PEEK_OFF: r = sockopt_put_int(val, len, u->peek_off); break;
	case SO_TIMESTAMP:
	case SO_TIMESTAMPNS: r = sockopt_put_int(val, len, u->tstamp == name); break;
	case SO_REUSEPORT:
	case SO_ZEROCOPY:
	case SO_BSDCOMPAT: r = sockopt_put_int(val, len, 0); break;
	default:
		if ((p = generic_int(u, name, &flag)))
			r = sockopt_put_int(val, len, *p);
		else
			r = -ENOPROTOOPT;
	}
	mutex_unlock(&unix_lock);
	return r;
}

/* ---- the family ------------------------------------------------------------ */

static const struct proto_ops stream_ops = {
	.family = AF_UNIX,
	.bind = unix_bind,
	.connect = stream_connect,
	.listen = unix_listen,
	.accept = unix_accept,
	.getname = unix_getname,
	.shutdown = unix_shutdown,
	.sendmsg = unix_stream_sendmsg,
	.recvmsg = unix_stream_recvmsg,
	.poll = stream_poll,
	.ioctl = unix_ioctl,
	.setsockopt = unix_setsockopt,
	.getsockopt = unix_getsockopt,
	.pair = unix_pair,
	.release = unix_release,
};

static const struct proto_ops seqpacket_ops = {
	.family = AF_UNIX,
	.bind = unix_bind,
	.connect = stream_connect,
	.listen = unix_listen,
	.accept = unix_accept,
	.getname = unix_getname,
	.shutdown = unix_shutdown,
	.sendmsg = unix_dgram_sendmsg,
	.recvmsg = unix_dgram_recvmsg,
	.poll = dgram_poll,
	.ioctl = unix_ioctl,
	.setsockopt = unix_setsockopt,
	.getsockopt = unix_getsockopt,
	.pair = unix_pair,
	.release = unix_release,
};

static const struct proto_ops dgram_ops = {
	.family = AF_UNIX,
	.bind = unix_bind,
	.connect = dgram_connect,
	.getname = unix_getname,
	.shutdown = unix_shutdown,
	.sendmsg = unix_dgram_sendmsg,
	.recvmsg = unix_dgram_recvmsg,
	.poll = dgram_poll,
	.ioctl = unix_ioctl,
	.setsockopt = unix_setsockopt,
	.getsockopt = unix_getsockopt,
	.pair = unix_pair,
	.release = unix_release,
};

static long unix_create(struct socket *s, int protocol)
{
	if (protocol && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	switch (s->type) {
	case SOCK_STREAM: s->ops = &stream_ops; break;
	case SOCK_SEQPACKET: s->ops = &seqpacket_ops; break;
	case SOCK_RAW: /* Linux takes it as SOCK_DGRAM */
		s->type = SOCK_DGRAM;
		/* fall through */
	case SOCK_DGRAM: s->ops = &dgram_ops; break;
	default: return -ESOCKTNOSUPPORT;
	}
	return unix_alloc(s) ? 0 : -ENOMEM;
}

const struct net_family unix_family = { .family = AF_UNIX, .create = unix_create };
