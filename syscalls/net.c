// SPDX-License-Identifier: MIT
/*
 * The socket system calls, common to every address family (Linux's
 * net/socket.c): socket and socketpair make a socket file, the others find
 * the socket behind a descriptor, copy addresses, messages and options in
 * and out of the program, and call the family's proto_ops (syscalls/net.h).
 * The options every socket has (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, the two
 * timeouts) are answered here.  What a family does with a message — TCP,
 * UDP, AF_UNIX, netlink — is in its own file; a family that is not linked
 * into the kernel answers EAFNOSUPPORT.
 */
#include "syscalls/net.h"

#define OPTVAL_MAX 256   /* the longest option value copied in or out */
#define OPTMEM_MAX 20480 /* net.core.optmem_max: control data per call */
#define RECV_CONTROL_MAX 4096

/* A family missing from the link leaves its entry NULL. */
extern const struct net_family unix_family __attribute__((weak));
extern const struct net_family inet_family __attribute__((weak));
extern const struct net_family inet6_family __attribute__((weak));
extern const struct net_family netlink_family __attribute__((weak));

static const struct net_family *family_find(int family)
{
	const struct net_family *all[] = { &unix_family, &inet_family, &inet6_family, &netlink_family };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] && all[i]->family == family)
			return all[i];
	return NULL;
}

/* ---- the socket as a file ------------------------------------------------ */

static const struct file_ops sock_fops;

struct socket *sock_of_file(const struct file *f)
{
	return f->ops == &sock_fops ? f->priv : NULL;
}

static bool sock_nonblock(const struct socket *s, unsigned flags)
{
	return (s->file->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
}

static long sock_transfer(struct socket *s, struct sock_msg *m, bool send)
{
	long (*op)(struct socket *, struct sock_msg *, bool) = send ? s->ops->sendmsg : s->ops->recvmsg;

	return op ? op(s, m, sock_nonblock(s, m->flags)) : -EOPNOTSUPP;
}

static long sock_read(struct file *f, struct uio *u, uint64_t *off)
{
	struct sock_msg m = { .u = u };

	(void)off;
	return u->count ? sock_transfer(f->priv, &m, false) : 0;
}

static long sock_write(struct file *f, struct uio *u, uint64_t *off)
{
	struct sock_msg m = { .u = u };

	(void)off;
	return sock_transfer(f->priv, &m, true);
}

static unsigned sock_poll(struct file *f)
{
	struct socket *s = f->priv;

	return s->ops->poll ? s->ops->poll(s) : 0;
}

static long sock_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct socket *s = f->priv;

	if (cmd >= SIOCGIFNAME && cmd <= SIOCGIFINDEX) /* the 0x89xx device calls */
		return net_if_ioctl(cmd, arg);
	return s->ops->ioctl ? s->ops->ioctl(s, cmd, arg) : -ENOTTY;
}

static void sock_release(struct file *f)
{
	struct socket *s = f->priv;

	if (s->ops && s->ops->release)
		s->ops->release(s);
	kfree(s);
}

static const struct file_ops sock_fops = {
	.read = sock_read,
	.write = sock_write,
	.ioctl = sock_ioctl,
	.poll = sock_poll,
	.release = sock_release,
};

/* An unfinished socket answers every op with EOPNOTSUPP until its
 * family's create sets the real ones. */
static const struct proto_ops no_ops;

struct socket *sock_alloc(int family, int type, unsigned file_flags)
{
	struct socket *s = kzalloc(sizeof(*s));
	struct file *f = s ? file_alloc(&sock_fops, O_RDWR | (file_flags & O_NONBLOCK)) : NULL;

	if (!f) {
		kfree(s);
		return NULL;
	}
	s->ops = &no_ops;
	s->family = family;
	s->type = type;
	s->file = f;
	f->priv = s;
	f->wq = &s->wq;
	return s;
}

void sock_free(struct socket *s)
{
	file_put(s->file);
}

void sock_sigpipe(unsigned flags)
{
	if (!(flags & MSG_NOSIGNAL))
		signal_send(current, SIGPIPE, SI_USER);
}

/* The socket behind fd, with a reference the caller drops with file_put:
 * a call may sleep while another thread closes fd. */
static struct socket *sockfd_get(int fd, long *err)
{
	struct file *f = fd_get(fd);
	struct socket *s = f ? sock_of_file(f) : NULL;

	*err = !f ? -EBADF : !s ? -ENOTSOCK : 0;
	if (s)
		file_get(f);
	return s;
}

static void sockfd_put(struct socket *s)
{
	file_put(s->file);
}

/* ---- addresses (move_addr_to_kernel, move_addr_to_user) ------------------ */

static long addr_in(const void __user *uaddr, int len, struct sockaddr_storage *a)
{
	if (len < 0 || len > (int)sizeof(*a))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	return len && copy_from_user(a, uaddr, len) < 0 ? -EFAULT : 0;
}

/* Writes klen bytes of address to uaddr, cut to the room *ulen says, and
 * the full length to *ulen. */
static long addr_out(const void *kaddr, int klen, void __user *uaddr, int32_t __user *ulen)
{
	int32_t len;

	if (copy_from_user(&len, ulen, sizeof(len)) < 0)
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (MIN(len, klen) && copy_to_user(uaddr, kaddr, MIN(len, klen)) < 0)
		return -EFAULT;
	return copy_to_user(ulen, &klen, sizeof(klen));
}

/* ---- making sockets ------------------------------------------------------ */

/* A socket of the given family, type and protocol, not installed. */
static long sock_create(int family, int type, int protocol, unsigned flags, struct socket **out)
{
	const struct net_family *fam;
	struct socket *s;
	long r;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	if (type >= SOCK_MAX) /* type 0 is the family's to refuse */
		return -EINVAL;
	if (family < 0 || family >= AF_MAX)
		return -EAFNOSUPPORT;
	if (!(fam = family_find(family)))
		return -EAFNOSUPPORT;
	if (!(s = sock_alloc(family, type, flags)))
		return -ENOMEM;
	s->protocol = protocol;
	r = fam->create(s, protocol);
	if (r < 0) {
		sock_free(s);
		return r;
	}
	*out = s;
	return 0;
}

SYSCALL_DEFINE3(socket, int, family, int, type, int, protocol)
{
	struct socket *s;
	int flags = type & ~SOCK_TYPE_MASK;
	long r = sock_create(family, type & SOCK_TYPE_MASK, protocol, flags, &s);

	if (r < 0)
		return r;
	r = fd_install(s->file, 0, flags & SOCK_CLOEXEC);
	if (r < 0)
		sock_free(s);
	return r;
}

SYSCALL_DEFINE4(socketpair, int, family, int, type, int, protocol, int __user *, usv)
{
	struct socket *a, *b;
	int flags = type & ~SOCK_TYPE_MASK;
	long r = sock_create(family, type & SOCK_TYPE_MASK, protocol, flags, &a);

	if (r < 0)
		return r;
	r = sock_create(family, type & SOCK_TYPE_MASK, protocol, flags, &b);
	if (r < 0) {
		sock_free(a);
		return r;
	}
	r = a->ops->pair ? a->ops->pair(a, b) : -EOPNOTSUPP;
	if (r < 0) {
		sock_free(a);
		sock_free(b);
		return r;
	}
	return fd_install_pair(a->file, b->file, usv, flags & SOCK_CLOEXEC);
}

/* ---- addresses and connections ------------------------------------------- */

SYSCALL_DEFINE3(bind, int, fd, const void __user *, uaddr, int, len)
{
	struct sockaddr_storage a;
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	r = addr_in(uaddr, len, &a);
	if (!r)
		r = s->ops->bind ? s->ops->bind(s, &a, len) : -EOPNOTSUPP;
	sockfd_put(s);
	return r;
}

SYSCALL_DEFINE3(connect, int, fd, const void __user *, uaddr, int, len)
{
	struct sockaddr_storage a;
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	r = addr_in(uaddr, len, &a);
	if (!r)
		r = s->ops->connect ? s->ops->connect(s, &a, len, sock_nonblock(s, 0)) : -EOPNOTSUPP;
	sockfd_put(s);
	return r;
}

SYSCALL_DEFINE2(listen, int, fd, int, backlog)
{
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	if ((unsigned)backlog > SOMAXCONN) /* a negative backlog too, as Linux */
		backlog = SOMAXCONN;
	r = s->ops->listen ? s->ops->listen(s, backlog) : -EOPNOTSUPP;
	sockfd_put(s);
	return r;
}

static long do_accept(int fd, void __user *uaddr, int32_t __user *ulen, int flags)
{
	struct socket *s, *n = NULL;
	long r;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	if (!(s = sockfd_get(fd, &r)))
		return r;
	r = s->ops->accept ? s->ops->accept(s, &n, sock_nonblock(s, 0)) : -EOPNOTSUPP;
	if (r < 0)
		goto out;
	n->file->flags = O_RDWR | (flags & SOCK_NONBLOCK);
	if (uaddr) {
		struct sockaddr_storage a;
		long len = n->ops->getname ? n->ops->getname(n, &a, true) : -EOPNOTSUPP;
		r = len < 0 ? len : addr_out(&a, len, uaddr, ulen);
		if (r < 0) {
			sock_free(n);
			goto out;
		}
	}
	r = fd_install(n->file, 0, flags & SOCK_CLOEXEC);
	if (r < 0)
		sock_free(n);
out:
	sockfd_put(s);
	return r;
}

SYSCALL_DEFINE3(accept, int, fd, void __user *, uaddr, int32_t __user *, ulen)
{
	return do_accept(fd, uaddr, ulen, 0);
}

SYSCALL_DEFINE4(accept4, int, fd, void __user *, uaddr, int32_t __user *, ulen, int, flags)
{
	return do_accept(fd, uaddr, ulen, flags);
}

static long do_getname(int fd, void __user *uaddr, int32_t __user *ulen, bool peer)
{
	struct sockaddr_storage a;
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	memset(&a, 0, sizeof(a));
	r = s->ops->getname ? s->ops->getname(s, &a, peer) : -EOPNOTSUPP;
	if (r >= 0)
		r = addr_out(&a, r, uaddr, ulen);
	sockfd_put(s);
	return r;
}

SYSCALL_DEFINE3(getsockname, int, fd, void __user *, uaddr, int32_t __user *, ulen)
{
	return do_getname(fd, uaddr, ulen, false);
}

SYSCALL_DEFINE3(getpeername, int, fd, void __user *, uaddr, int32_t __user *, ulen)
{
	return do_getname(fd, uaddr, ulen, true);
}

SYSCALL_DEFINE2(shutdown, int, fd, int, how)
{
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	if (how < SHUT_RD || how > SHUT_RDWR)
		r = -EINVAL;
	else
		r = s->ops->shutdown ? s->ops->shutdown(s, how) : -EOPNOTSUPP;
	sockfd_put(s);
	return r;
}

/* ---- sending and receiving ----------------------------------------------- */

SYSCALL_DEFINE6(sendto, int, fd, const char __user *, buf, size_t, len, unsigned, flags,
		const void __user *, uaddr, int, alen)
{
	struct sockaddr_storage a;
	struct uio u;
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	len = MIN(len, MAX_RW_COUNT);
	uio_init_user(&u, (char __user *)buf, len);
	struct sock_msg m = { .u = &u, .flags = flags };
	if (uaddr) {
		r = addr_in(uaddr, alen, &a);
		m.addr = &a;
		m.addrlen = alen;
	}
	if (!r)
		r = user_range_ok((uint64_t)buf, len) ? sock_transfer(s, &m, true) : -EFAULT;
	sockfd_put(s);
	return r;
}

SYSCALL_DEFINE6(recvfrom, int, fd, char __user *, buf, size_t, len, unsigned, flags, void __user *,
		uaddr, int32_t __user *, ulen)
{
	struct sockaddr_storage a;
	struct uio u;
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	len = MIN(len, MAX_RW_COUNT);
	uio_init_user(&u, buf, len);
	struct sock_msg m = { .u = &u, .flags = flags, .addr = &a };
	r = user_range_ok((uint64_t)buf, len) ? sock_transfer(s, &m, false) : -EFAULT;
	if (r >= 0 && uaddr && ulen) {
		long e = addr_out(&a, m.addrlen, uaddr, ulen);
		if (e < 0)
			r = e;
	}
	sockfd_put(s);
	return r;
}

/* One sendmsg or recvmsg on s, its msghdr at umsg (Linux's ___sys_sendmsg
 * and ___sys_recvmsg); returns the bytes moved. */
static long msg_send(struct socket *s, struct msghdr __user *umsg, unsigned flags)
{
	struct iovec small[UIO_SMALL], *iov = small;
	struct sockaddr_storage a;
	struct msghdr h;
	struct uio u;
	void *ctl = NULL;
	long r;

	if (copy_from_user(&h, umsg, sizeof(h)) < 0)
		return -EFAULT;
	if (h.iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	if (h.controllen > OPTMEM_MAX)
		return -ENOBUFS;
	struct sock_msg m = { .u = &u, .flags = flags };
	if (h.namelen < 0)
		return -EINVAL;
	h.namelen = MIN(h.namelen, (int32_t)sizeof(a)); /* Linux cuts, it does not fail */
	if (h.name && (r = addr_in((void *)h.name, h.namelen, &a)) < 0)
		return r;
	if (h.name) {
		m.addr = &a;
		m.addrlen = h.namelen;
	}
	if (h.controllen) {
		if (!(ctl = kmalloc(h.controllen)))
			return -ENOBUFS;
		if (copy_from_user(ctl, (void *)h.control, h.controllen) < 0) {
			kfree(ctl);
			return -EFAULT;
		}
		m.control = ctl;
		m.controllen = h.controllen;
	}
	r = uio_import_iovec(&u, (const struct iovec __user *)h.iov, h.iovlen, small, &iov);
	if (r >= 0)
		r = sock_transfer(s, &m, true);
	uio_free_iovec(iov, small);
	kfree(ctl);
	return r;
}

static long msg_recv(struct socket *s, struct msghdr __user *umsg, unsigned flags)
{
	struct iovec small[UIO_SMALL], *iov = small;
	struct sockaddr_storage a;
	struct msghdr h;
	struct uio u;
	void *ctl = NULL;
	long r;

	if (copy_from_user(&h, umsg, sizeof(h)) < 0)
		return -EFAULT;
	if (h.iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	struct sock_msg m = { .u = &u, .flags = flags, .addr = &a };
	if (h.control && h.controllen) {
		m.controllen = MIN(h.controllen, (uint64_t)RECV_CONTROL_MAX);
		if (!(ctl = kzalloc(m.controllen)))
			return -ENOBUFS;
		m.control = ctl;
	}
	r = uio_import_iovec(&u, (const struct iovec __user *)h.iov, h.iovlen, small, &iov);
	if (r >= 0)
		r = sock_transfer(s, &m, false);
	uio_free_iovec(iov, small);
	if (r < 0)
		goto out;
	uint64_t clen = ctl ? m.controllen : 0;
	uint32_t oflags = m.out_flags;
	if ((h.name && addr_out(&a, m.addrlen, (void *)h.name, &umsg->namelen) < 0) ||
	    (clen && copy_to_user((void *)h.control, ctl, clen) < 0) ||
	    copy_to_user(&umsg->controllen, &clen, sizeof(clen)) < 0 ||
	    copy_to_user(&umsg->flags, &oflags, sizeof(oflags)) < 0)
		r = -EFAULT;
out:
	kfree(ctl);
	return r;
}

SYSCALL_DEFINE3(sendmsg, int, fd, struct msghdr __user *, umsg, unsigned, flags)
{
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	r = msg_send(s, umsg, flags);
	sockfd_put(s);
	return r;
}

SYSCALL_DEFINE3(recvmsg, int, fd, struct msghdr __user *, umsg, unsigned, flags)
{
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	r = msg_recv(s, umsg, flags);
	sockfd_put(s);
	return r;
}

/* sendmmsg and recvmmsg: each message's length goes to its msg_len; an
 * error after the first message ends the batch with the count so far. */
static long mmsg_one(struct socket *s, struct mmsghdr __user *mm, unsigned flags, bool send)
{
	long r = send ? msg_send(s, &mm->hdr, flags) : msg_recv(s, &mm->hdr, flags);
	uint32_t len = r;

	if (r >= 0 && copy_to_user(&mm->len, &len, sizeof(len)) < 0)
		return -EFAULT;
	return r;
}

SYSCALL_DEFINE4(sendmmsg, int, fd, struct mmsghdr __user *, umm, unsigned, vlen, unsigned, flags)
{
	long r;
	unsigned n = 0;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	vlen = MIN(vlen, UIO_MAXIOV);
	for (; n < vlen; n++)
		if ((r = mmsg_one(s, &umm[n], flags, true)) < 0)
			break;
	sockfd_put(s);
	return n ? (long)n : r;
}

SYSCALL_DEFINE5(recvmmsg, int, fd, struct mmsghdr __user *, umm, unsigned, vlen, unsigned, flags,
		struct timespec __user *, uts)
{
	struct timespec ts;
	uint64_t deadline = 0;
	unsigned n = 0;
	long r;

	if (uts) {
		if (copy_from_user(&ts, uts, sizeof(ts)) < 0)
			return -EFAULT;
		if ((r = poll_deadline(&ts, &deadline)) < 0)
			return r;
	}
	struct socket *s = sockfd_get(fd, &r);
	if (!s)
		return r;
	vlen = MIN(vlen, UIO_MAXIOV);
	for (; n < vlen; n++) {
		if ((r = mmsg_one(s, &umm[n], flags, false)) < 0)
			break;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		/* Linux checks the timeout only between datagrams. */
		if (deadline && clock_monotonic_ns() >= deadline) {
			n++;
			break;
		}
	}
	sockfd_put(s);
	return n ? (long)n : r;
}

/* ---- options ------------------------------------------------------------- */

static uint64_t timeval_ns(const struct timeval *tv)
{
	if (tv->tv_sec < 0)
		return 1; /* already over: Linux's timeout of 0 jiffies */
	return (uint64_t)tv->tv_sec * NSEC_PER_SEC + tv->tv_usec * 1000;
}

static long timeo_set(uint64_t *timeo, const void *val, unsigned len)
{
	struct timeval tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	*timeo = timeval_ns(&tv);
	return 0;
}

static long timeo_get(uint64_t timeo, void *val, unsigned *len)
{
	struct timeval tv = { timeo / NSEC_PER_SEC, timeo % NSEC_PER_SEC / 1000 };

	*len = MIN(*len, (unsigned)sizeof(tv));
	memcpy(val, &tv, *len);
	return 0;
}

SYSCALL_DEFINE5(setsockopt, int, fd, int, level, int, name, const void __user *, uval, int, len)
{
	uint8_t val[OPTVAL_MAX];
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	if (len < 0) {
		r = -EINVAL;
		goto out;
	}
	len = MIN(len, OPTVAL_MAX);
	if (len && copy_from_user(val, uval, len) < 0) {
		r = -EFAULT;
		goto out;
	}
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
		r = timeo_set(name == SO_RCVTIMEO ? &s->rcvtimeo : &s->sndtimeo, val, len);
	else if (level == SOL_SOCKET && (name == SO_TYPE || name == SO_DOMAIN || name == SO_PROTOCOL))
		r = -ENOPROTOOPT; /* read-only */
	else if (s->ops->setsockopt)
		r = s->ops->setsockopt(s, level, name, val, len);
	else /* Linux: sock_setsockopt for SOL_SOCKET, else the family's or none */
		r = level == SOL_SOCKET ? -ENOPROTOOPT : -EOPNOTSUPP;
out:
	sockfd_put(s);
	return r;
}

static long getsockopt_common(struct socket *s, int name, void *val, unsigned *len)
{
	switch (name) {
	case SO_TYPE: return sockopt_put_int(val, len, s->type);
	case SO_DOMAIN: return sockopt_put_int(val, len, s->family);
	case SO_PROTOCOL: return sockopt_put_int(val, len, s->protocol);
	case SO_RCVTIMEO: return timeo_get(s->rcvtimeo, val, len);
	case SO_SNDTIMEO: return timeo_get(s->sndtimeo, val, len);
	}
	return 1; /* not one of these */
}

SYSCALL_DEFINE5(getsockopt, int, fd, int, level, int, name, void __user *, uval, int32_t __user *, ulen)
{
	uint8_t val[OPTVAL_MAX];
	int32_t len;
	unsigned klen;
	long r;
	struct socket *s = sockfd_get(fd, &r);

	if (!s)
		return r;
	if (copy_from_user(&len, ulen, sizeof(len)) < 0) {
		r = -EFAULT;
		goto out;
	}
	if (len < 0) {
		r = -EINVAL;
		goto out;
	}
	klen = MIN(len, OPTVAL_MAX);
	memset(val, 0, sizeof(val));
	r = level == SOL_SOCKET ? getsockopt_common(s, name, val, &klen) : 1;
	if (r == 1 && s->ops->getsockopt)
		r = s->ops->getsockopt(s, level, name, val, &klen);
	else if (r == 1)
		r = level == SOL_SOCKET ? -ENOPROTOOPT : -EOPNOTSUPP;
	if (r >= 0) {
		len = klen;
		if ((klen && copy_to_user(uval, val, klen) < 0) ||
		    copy_to_user(ulen, &len, sizeof(len)) < 0)
			r = -EFAULT;
	}
out:
	sockfd_put(s);
	return r;
}
