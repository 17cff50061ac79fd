// SPDX-License-Identifier: MIT
/*
 * socketpair(AF_UNIX, SOCK_STREAM): two connected ends, each with a 128 KiB
 * ring of the bytes the other sent, and what a program does with them:
 * read, write, recvfrom, sendto, recvmsg, sendmsg (no control messages),
 * shutdown.  The rules are Linux's unix stream sockets' (net/unix/af_unix.c):
 * a reader sleeps until data, an error, or end-of-file (its own SHUT_RD, the
 * peer's SHUT_WR or close); a writer sleeps while the peer's ring is full,
 * and gets -EPIPE plus SIGPIPE (not with MSG_NOSIGNAL) once the peer cannot
 * read.  An end is writable while at most a quarter of its send room is in
 * use (unix_writable), and closing an end with unread bytes gives the peer
 * ECONNRESET.  Datagram and seqpacket pairs, control messages (SCM_RIGHTS)
 * and socket() itself are not here: the network layer owns socket().
 */
#include "syscalls/net.h"

#define SOCK_BUF (128 * 1024)
#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3

/* What the two ends share: one mutex over both rings, both shutdown
 * states, errors and peer pointers (poll and FIONREAD read without it). */
struct upair {
	struct mutex lock;
	int ends; /* open ends: the last one to close frees the pair */
};

struct usock {
	struct upair *pair;
	struct usock *peer; /* NULL once the peer is closed */
	char *buf;          /* the bytes this end has to read */
	size_t head, len;
	unsigned shutdown; /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	int err;           /* reported once by the next read (ECONNRESET) */
	struct socket *sock;
};

/* Copies up to n bytes from the front of s's ring; consumes them unless
 * peek. */
static long ring_get(struct usock *s, struct uio *u, size_t n, bool peek)
{
	size_t done = 0, head = s->head;

	n = MIN(n, s->len);
	while (done < n) {
		size_t c = MIN(n - done, SOCK_BUF - head);
		long r = uio_copy_out(u, s->buf + head, c);
		if (r <= 0) {
			if (!done)
				return r < 0 ? r : 0;
			break;
		}
		head = (head + r) % SOCK_BUF;
		done += r;
		if ((size_t)r < c)
			break;
	}
	if (!peek) {
		s->head = head;
		s->len -= done;
		if (!s->len)
			s->head = 0;
	}
	return done;
}

/* Appends up to n bytes to the tail of s's ring. */
static long ring_put(struct usock *s, struct uio *u, size_t n)
{
	size_t done = 0;

	if (!s->buf && !(s->buf = kmalloc(SOCK_BUF)))
		return -ENOMEM;
	n = MIN(n, SOCK_BUF - s->len);
	while (done < n) {
		size_t tail = (s->head + s->len) % SOCK_BUF;
		size_t c = MIN(n - done, SOCK_BUF - tail);
		long r = uio_copy_in(u, s->buf + tail, c);
		if (r <= 0)
			return done ? (long)done : r;
		s->len += r;
		done += r;
		if ((size_t)r < c)
			break;
	}
	return done;
}

static bool writable(const struct usock *s)
{
	return !s->peer || s->peer->len * 4 <= SOCK_BUF;
}

static long us_recv(struct socket *sock, struct sock_msg *m, bool nonblock)
{
	struct usock *s = sock->sk;
	struct uio *u = m->u;
	unsigned flags = m->flags;
	size_t want = u->count, target = flags & MSG_WAITALL ? want : 1, done = 0;
	long r = 0;

	if (!want)
		return 0;
	mutex_lock(&s->pair->lock);
	for (;;) {
		if (s->len) {
			r = ring_get(s, u, want - done, flags & MSG_PEEK);
			if (r <= 0)
				break;
			done += r;
			if (s->peer && !(flags & MSG_PEEK) && writable(s->peer))
				poll_wake(&s->peer->sock->wq, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
			if (done >= target || (flags & MSG_PEEK))
				break;
			continue;
		}
		if (s->err) {
			r = -s->err;
			s->err = 0;
			break;
		}
		if (s->shutdown & RCV_SHUTDOWN)
			break;
		r = sock_wait(&sock->wq, s->len || s->err || (s->shutdown & RCV_SHUTDOWN), nonblock,
			      sock->rcvtimeo, &s->pair->lock);
		if (r)
			break;
	}
	mutex_unlock(&s->pair->lock);
	m->addrlen = 0;
	return done ? (long)done : r;
}

static long us_send(struct socket *sock, struct sock_msg *m, bool nonblock)
{
	struct usock *s = sock->sk, *p;
	struct uio *u = m->u;
	unsigned flags = m->flags;
	size_t len = u->count, done = 0;
	long r = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (m->addr)
		return m->addrlen ? -EISCONN : -EOPNOTSUPP; /* a connected stream */
	if (m->controllen >= sizeof(struct cmsghdr)) {
		klog("sendmsg: AF_UNIX control messages (SCM_*) are not implemented: -EOPNOTSUPP");
		return -EOPNOTSUPP;
	}
	mutex_lock(&s->pair->lock);
	while (done < len) {
		p = s->peer;
		if ((s->shutdown & SEND_SHUTDOWN) || !p || (p->shutdown & RCV_SHUTDOWN)) {
			sock_sigpipe(flags);
			r = -EPIPE;
			break;
		}
		if (p->len < SOCK_BUF) {
			r = ring_put(p, u, len - done);
			if (r <= 0)
				break;
			done += r;
			poll_wake(&p->sock->wq, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND);
			continue;
		}
		r = sock_wait(&sock->wq,
			      s->peer != p || p->len < SOCK_BUF || (p->shutdown & RCV_SHUTDOWN),
			      nonblock, sock->sndtimeo, &s->pair->lock);
		if (r)
			break;
	}
	mutex_unlock(&s->pair->lock);
	return done ? (long)done : r;
}

static unsigned usock_poll(struct socket *sock)
{
	struct usock *s = sock->sk;
	unsigned mask = 0;

	if (s->err)
		mask |= EPOLLERR;
	if (s->shutdown == SHUTDOWN_MASK)
		mask |= EPOLLHUP;
	if (s->shutdown & RCV_SHUTDOWN)
		mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (s->len)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (writable(s))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	return mask;
}

static long usock_ioctl(struct socket *sock, unsigned cmd, uint64_t arg)
{
	struct usock *s = sock->sk;

	if (cmd != SIOCINQ)
		return -ENOTTY;
	int n = s->len;
	return copy_to_user((void *)arg, &n, sizeof(n));
}

static void usock_release(struct socket *sock)
{
	struct usock *s = sock->sk, *p;
	struct upair *pair = s ? s->pair : NULL;

	if (!s)
		return;

	mutex_lock(&pair->lock);
	if ((p = s->peer)) {
		p->peer = NULL;
		p->shutdown = SHUTDOWN_MASK;
		if (s->len)
			p->err = ECONNRESET;
		poll_wake(&p->sock->wq, 0);
	}
	bool last = !--pair->ends;
	mutex_unlock(&pair->lock);
	kfree(s->buf);
	kfree(s);
	if (last)
		kfree(pair);
}

static long usock_shutdown(struct socket *sock, int how)
{
	struct usock *s = sock->sk, *p;
	unsigned mode = how + 1; /* SHUT_RD: RCV_SHUTDOWN, SHUT_WR: SEND_SHUTDOWN */

	if (!s)
		return -ENOTCONN;
	mutex_lock(&s->pair->lock);
	s->shutdown |= mode;
	if ((p = s->peer)) {
		p->shutdown |= (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) |
			       (mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
		poll_wake(&p->sock->wq, 0);
	}
	poll_wake(&sock->wq, 0);
	mutex_unlock(&s->pair->lock);
	return 0;
}

static long usock_getname(struct socket *sock, void *addr, bool peer)
{
	struct usock *s = sock->sk;

	if (peer && (!s || !s->peer))
		return -ENOTCONN;
	*(uint16_t *)addr = AF_UNIX; /* unnamed: the family alone */
	return sizeof(uint16_t);
}

static long usock_pair(struct socket *sa, struct socket *sb);

static const struct proto_ops usock_ops = {
	.family = AF_UNIX,
	.getname = usock_getname,
	.shutdown = usock_shutdown,
	.sendmsg = us_send,
	.recvmsg = us_recv,
	.poll = usock_poll,
	.ioctl = usock_ioctl,
	.pair = usock_pair,
	.release = usock_release,
};

static long usock_pair(struct socket *sa, struct socket *sb)
{
	struct upair *pair = kzalloc(sizeof(*pair));
	struct usock *a = kzalloc(sizeof(*a)), *b = kzalloc(sizeof(*b));

	if (!pair || !a || !b) {
		kfree(a);
		kfree(b);
		kfree(pair);
		return -ENOMEM;
	}
	pair->lock.name = "socketpair";
	pair->ends = 2;
	a->pair = b->pair = pair;
	a->peer = b;
	b->peer = a;
	a->sock = sa;
	b->sock = sb;
	sa->sk = a;
	sb->sk = b;
	return 0;
}

/* socket(AF_UNIX) itself waits for names (bind, connect); socketpair
 * works for streams. */
static long unix_create(struct socket *s, int protocol)
{
	if (protocol && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	if (s->type != SOCK_STREAM) {
		klog("AF_UNIX: only SOCK_STREAM pairs are implemented (type %d): -ESOCKTNOSUPPORT",
		     s->type);
		return -ESOCKTNOSUPPORT;
	}
	s->ops = &usock_ops;
	return 0;
}

const struct net_family unix_family = { .family = AF_UNIX, .create = unix_create };
