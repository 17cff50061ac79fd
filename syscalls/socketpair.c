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
#include "syscalls/syscalls.h"

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
	struct waitq wq;
};

static const struct file_ops usock_ops;

bool is_unix_socket(const struct file *f)
{
	return f->ops == &usock_ops;
}

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

static long us_recv(struct file *f, struct uio *u, int flags)
{
	struct usock *s = f->priv;
	bool nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
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
				poll_wake(&s->peer->wq, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
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
		r = wait_event_interruptible_mutex(
			&s->wq, s->len || s->err || (s->shutdown & RCV_SHUTDOWN), nonblock,
			&s->pair->lock);
		if (r)
			break;
	}
	mutex_unlock(&s->pair->lock);
	return done ? (long)done : r;
}

static long us_send(struct file *f, struct uio *u, int flags)
{
	struct usock *s = f->priv, *p;
	bool nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	size_t len = u->count, done = 0;
	long r = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	mutex_lock(&s->pair->lock);
	while (done < len) {
		p = s->peer;
		if ((s->shutdown & SEND_SHUTDOWN) || !p || (p->shutdown & RCV_SHUTDOWN)) {
			if (!(flags & MSG_NOSIGNAL))
				signal_send(current, SIGPIPE, SI_USER);
			r = -EPIPE;
			break;
		}
		if (p->len < SOCK_BUF) {
			r = ring_put(p, u, len - done);
			if (r <= 0)
				break;
			done += r;
			poll_wake(&p->wq, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND);
			continue;
		}
		r = wait_event_interruptible_mutex(
			&s->wq, s->peer != p || p->len < SOCK_BUF || (p->shutdown & RCV_SHUTDOWN),
			nonblock, &s->pair->lock);
		if (r)
			break;
	}
	mutex_unlock(&s->pair->lock);
	return done ? (long)done : r;
}

static long usock_read(struct file *f, struct uio *u, uint64_t *off)
{
	(void)off;
	return us_recv(f, u, 0);
}

static long usock_write(struct file *f, struct uio *u, uint64_t *off)
{
	(void)off;
	return us_send(f, u, 0);
}

static unsigned usock_poll(struct file *f)
{
	struct usock *s = f->priv;
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

static long usock_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct usock *s = f->priv;

	if (cmd != SIOCINQ)
		return -ENOTTY;
	int n = s->len;
	return copy_to_user((void *)arg, &n, sizeof(n));
}

static void usock_release(struct file *f)
{
	struct usock *s = f->priv, *p;
	struct upair *pair = s->pair;

	mutex_lock(&pair->lock);
	if ((p = s->peer)) {
		p->peer = NULL;
		p->shutdown = SHUTDOWN_MASK;
		if (s->len)
			p->err = ECONNRESET;
		poll_wake(&p->wq, 0);
	}
	bool last = !--pair->ends;
	mutex_unlock(&pair->lock);
	kfree(s->buf);
	kfree(s);
	if (last)
		kfree(pair);
}

static const struct file_ops usock_ops = {
	.read = usock_read,
	.write = usock_write,
	.ioctl = usock_ioctl,
	.poll = usock_poll,
	.release = usock_release,
};

SYSCALL_DEFINE4(socketpair, int, domain, int, type, int, protocol, int __user *, usv)
{
	int flags = type & ~SOCK_TYPE_MASK;

	type &= SOCK_TYPE_MASK;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	if (domain == AF_INET || domain == AF_INET6)
		return -EOPNOTSUPP; /* Linux's sock_no_socketpair */
	if (domain != AF_UNIX)
		return -EAFNOSUPPORT;
	if (type >= SOCK_MAX)
		return -EINVAL;
	if (protocol && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	if (type != SOCK_STREAM) {
		klog("socketpair: only SOCK_STREAM is implemented (type %d): -EPROTONOSUPPORT", type);
		return -EPROTONOSUPPORT;
	}
	struct upair *pair = kzalloc(sizeof(*pair));
	struct usock *a = kzalloc(sizeof(*a)), *b = kzalloc(sizeof(*b));
	struct file *fa =
		pair && a && b ? file_alloc(&usock_ops, O_RDWR | (flags & SOCK_NONBLOCK)) : NULL;
	struct file *fb = fa ? file_alloc(&usock_ops, O_RDWR | (flags & SOCK_NONBLOCK)) : NULL;
	if (!fb) {
		kfree(fa);
		kfree(a);
		kfree(b);
		kfree(pair);
		return -ENFILE;
	}
	pair->lock.name = "socketpair";
	pair->ends = 2;
	a->pair = b->pair = pair;
	a->peer = b;
	b->peer = a;
	fa->priv = a;
	fb->priv = b;
	fa->wq = &a->wq;
	fb->wq = &b->wq;
	return fd_install_pair(fa, fb, usv, flags & SOCK_CLOEXEC);
}

/* ---- the socket calls, on a socketpair end ---------------------------------- */

static struct file *sock_get(int fd, long *err)
{
	struct file *f = fd_get(fd);

	*err = !f ? -EBADF : !is_unix_socket(f) ? -ENOTSOCK : 0;
	if (*err)
		return NULL;
	file_get(f); /* it may sleep while another thread closes fd */
	return f;
}

SYSCALL_DEFINE2(shutdown, int, fd, int, how)
{
	long err;
	struct file *f = sock_get(fd, &err);

	if (!f)
		return err;
	if (how < SHUT_RD || how > SHUT_RDWR) {
		file_put(f);
		return -EINVAL;
	}
	struct usock *s = f->priv, *p;
	unsigned mode = how + 1; /* SHUT_RD: RCV_SHUTDOWN, SHUT_WR: SEND_SHUTDOWN */
	mutex_lock(&s->pair->lock);
	s->shutdown |= mode;
	if ((p = s->peer)) {
		p->shutdown |= (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) |
			       (mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
		poll_wake(&p->wq, 0);
	}
	poll_wake(&s->wq, 0);
	mutex_unlock(&s->pair->lock);
	file_put(f);
	return 0;
}

/* Linux's move_addr_to_user for an unnamed peer: the length becomes 0. */
static long put_no_addr(void __user *uaddr, int32_t __user *ulen)
{
	int32_t len, zero = 0;

	if (!uaddr || !ulen)
		return 0;
	if (copy_from_user(&len, ulen, sizeof(len)) < 0)
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	return copy_to_user(ulen, &zero, sizeof(zero));
}

SYSCALL_DEFINE6(recvfrom, int, fd, char __user *, buf, size_t, len, unsigned, flags, void __user *,
		uaddr, int32_t __user *, ulen)
{
	long r;
	struct file *f = sock_get(fd, &r);

	if (!f)
		return r;
	struct uio u;
	len = MIN(len, MAX_RW_COUNT);
	uio_init_user(&u, buf, len);
	r = user_range_ok((uint64_t)buf, len) ? us_recv(f, &u, flags) : -EFAULT;
	if (r >= 0) {
		long e = put_no_addr(uaddr, ulen);
		if (e < 0)
			r = e;
	}
	file_put(f);
	return r;
}

SYSCALL_DEFINE6(sendto, int, fd, const char __user *, buf, size_t, len, unsigned, flags,
		const void __user *, uaddr, int32_t, alen)
{
	long r;
	struct file *f = sock_get(fd, &r);

	if (!f)
		return r;
	struct uio u;
	len = MIN(len, MAX_RW_COUNT);
	uio_init_user(&u, (char __user *)buf, len);
	uint8_t addr[128];
	if (uaddr && (alen < 0 || alen > (int32_t)sizeof(addr)))
		r = -EINVAL;
	else if (uaddr && alen && copy_from_user(addr, uaddr, alen) < 0)
		r = -EFAULT;
	else if (uaddr && alen)
		r = -EISCONN; /* a connected stream takes no address */
	else
		r = user_range_ok((uint64_t)buf, len) ? us_send(f, &u, flags) : -EFAULT;
	file_put(f);
	return r;
}

/* Copies in a msghdr and sets u over its iovecs (in small, or in *iov,
 * which the caller frees with uio_free_iovec); returns the total length
 * or -errno. */
static long get_msg(const struct msghdr __user *umsg, struct msghdr *m, struct uio *u,
		    struct iovec *small, struct iovec **iov)
{
	*iov = small;
	if (copy_from_user(m, umsg, sizeof(*m)) < 0)
		return -EFAULT;
	if (m->iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	return uio_import_iovec(u, (const struct iovec __user *)m->iov, m->iovlen, small, iov);
}

SYSCALL_DEFINE3(sendmsg, int, fd, const struct msghdr __user *, umsg, unsigned, flags)
{
	struct iovec small[UIO_SMALL], *iov;
	struct msghdr m;
	struct uio u;
	long r;
	struct file *f = sock_get(fd, &r);

	if (!f)
		return r;
	r = get_msg(umsg, &m, &u, small, &iov);
	if (r >= 0 && m.name && m.namelen)
		r = m.namelen < 0 || m.namelen > 128 ? -EINVAL : -EISCONN;
	if (r >= 0 && m.controllen >= sizeof(struct cmsghdr)) {
		klog("sendmsg: control messages (SCM_*) are not implemented: -EOPNOTSUPP");
		r = -EOPNOTSUPP;
	}
	if (r >= 0)
		r = us_send(f, &u, flags);
	uio_free_iovec(iov, small);
	file_put(f);
	return r;
}

SYSCALL_DEFINE3(recvmsg, int, fd, struct msghdr __user *, umsg, unsigned, flags)
{
	struct iovec small[UIO_SMALL], *iov;
	struct msghdr m;
	struct uio u;
	long r;
	struct file *f = sock_get(fd, &r);

	if (!f)
		return r;
	r = get_msg(umsg, &m, &u, small, &iov);
	if (r >= 0)
		r = us_recv(f, &u, flags);
	if (r >= 0) { /* no address, no control data, no flags */
		int32_t zero = 0;
		uint64_t none = 0;
		uint32_t mflags = 0;
		if ((m.name && copy_to_user(&umsg->namelen, &zero, sizeof(zero)) < 0) ||
		    copy_to_user(&umsg->controllen, &none, sizeof(none)) < 0 ||
		    copy_to_user(&umsg->flags, &mflags, sizeof(mflags)) < 0)
			r = -EFAULT;
	}
	uio_free_iovec(iov, small);
	file_put(f);
	return r;
}
