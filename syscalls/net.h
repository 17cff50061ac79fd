/* SPDX-License-Identifier: MIT */
/*
 * The socket layer: what syscalls/net.c (the socket system calls, common to
 * every family) and each address family share.  A socket is a file whose
 * priv is a struct socket; net.c copies addresses, messages and options in
 * and out, handles what Linux handles in net/socket.c and sock_setsockopt
 * (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_RCVTIMEO, SO_SNDTIMEO), and calls the
 * family's proto_ops for the rest.  Families: AF_INET and AF_INET6 over
 * lwIP (net_inet.c), AF_UNIX (net_unix.c), AF_NETLINK (netlink.c).
 */
#ifndef SYSCALLS_NET_H
#define SYSCALLS_NET_H

#include "syscalls/syscalls.h"

struct socket;

/* One send or receive, in kernel terms.  Send: addr/addrlen is the
 * destination, control/controllen the caller's control
 * messages copied in.  Receive: the family fills addr (SOCKADDR_MAX bytes)
 * and sets addrlen (0: no address), writes up to controllen bytes of
 * control messages to control and sets controllen to what it wrote, and
 * sets out_flags (MSG_TRUNC, MSG_CTRUNC, MSG_EOR).  A send's addr is NULL
 * when the caller gave none; addrlen may then still be 0 with addr set
 * (Linux passes that on, and UDP answers it with EINVAL). */
struct sock_msg {
	struct uio *u;
	void *addr;
	int addrlen;
	void *control;
	size_t controllen;
	unsigned flags;     /* MSG_* the caller passed */
	unsigned out_flags; /* receive: MSG_* for msg_flags */
};

/* A family's operations.  Each returns >= 0 or -errno, as a syscall does;
 * addresses are kernel copies, already checked to be at most SOCKADDR_MAX
 * bytes.  nonblock is O_NONBLOCK or MSG_DONTWAIT.  An op left NULL answers
 * Linux's sock_no_* error (-EOPNOTSUPP). */
struct proto_ops {
	int family;
	long (*bind)(struct socket *s, const void *addr, int len);
	long (*connect)(struct socket *s, const void *addr, int len, bool nonblock);
	long (*listen)(struct socket *s, int backlog);
	/* Takes one connection off the queue into a new socket made with
	 * sock_alloc (*out; net.c installs it). */
	long (*accept)(struct socket *s, struct socket **out, bool nonblock);
	/* Writes the local (peer false) or remote address to addr
	 * (SOCKADDR_MAX bytes); returns its length. */
	long (*getname)(struct socket *s, void *addr, bool peer);
	long (*shutdown)(struct socket *s, int how);
	/* Return the bytes moved.  A stream send that moved some bytes before
	 * an error or a signal returns the count, as Linux does. */
	long (*sendmsg)(struct socket *s, struct sock_msg *m, bool nonblock);
	long (*recvmsg)(struct socket *s, struct sock_msg *m, bool nonblock);
	/* EPOLL* readiness now; changes are announced with poll_wake(&s->wq). */
	unsigned (*poll)(struct socket *s);
	/* Socket ioctls (FIONREAD, SIOCOUTQ, SIOCGIF*…); -ENOTTY otherwise. */
	long (*ioctl)(struct socket *s, unsigned cmd, uint64_t arg);
	/* Options net.c does not answer itself; val is a kernel copy of len
	 * bytes (setsockopt), or a buffer of *len bytes that the family fills
	 * and shortens *len to (getsockopt).  -ENOPROTOOPT for unknown ones. */
	long (*setsockopt)(struct socket *s, int level, int name, const void *val, unsigned len);
	long (*getsockopt)(struct socket *s, int level, int name, void *val, unsigned *len);
	/* socketpair: joins two fresh sockets of this family (AF_UNIX only). */
	long (*pair)(struct socket *a, struct socket *b);
	/* The last reference to the file is gone: free the family's state. */
	void (*release)(struct socket *s);
};

/* A family registers its socket() here. create sets s->ops and s->sk for
 * a socket of s->type (already checked < SOCK_MAX) and protocol, or fails
 * with -EPROTONOSUPPORT / -ESOCKTNOSUPPORT. */
struct net_family {
	int family;
	long (*create)(struct socket *s, int protocol);
};

struct socket {
	const struct proto_ops *ops;
	struct file *file; /* the file this socket is the priv of */
	int family, type, protocol;
	struct waitq wq;   /* the file's wait queue: readiness changes */
	uint64_t rcvtimeo; /* SO_RCVTIMEO, SO_SNDTIMEO in ns; 0: none */
	uint64_t sndtimeo;
	void *sk; /* the family's state */
};

/* ---- net.c ---------------------------------------------------------------- */
/* A new socket of family/type with its file (one reference, the caller's),
 * the family's create not yet called; NULL when out of memory. */
struct socket *sock_alloc(int family, int type, unsigned file_flags);
/* Frees a socket from sock_alloc that was never installed. */
void sock_free(struct socket *s);
/* A socket operation's wait: like wait_event_interruptible_mutex (m may be
 * NULL), ending with -EAGAIN when the socket's timeout timeo (ns, 0: none)
 * passes, and with -EINTR rather than a restart when a timeout was set
 * (Linux's sock_intr_errno). */
#define sock_wait(q, cond, nonblock, timeo, m) \
	({ \
		long __sw = 0; \
		uint64_t __dl = (timeo) ? clock_monotonic_ns() + (timeo) : 0; \
		struct mutex *__m = (m); \
		while (!(cond)) { \
			if (nonblock) { \
				__sw = -EAGAIN; \
				break; \
			} \
			if (__m) \
				mutex_unlock(__m); \
			__sw = __wait_event(q, cond, __dl, true); \
			if (__m) \
				mutex_lock(__m); \
			if (__sw) { \
				__sw = __sw == -ETIMEDOUT ? -EAGAIN \
				       : __sw == -EINTR   ? ((timeo) ? -EINTR : -ERESTARTSYS) \
							  : __sw; \
				break; \
			} \
		} \
		__sw; \
	})
/* Option values for families: sockopt_get_int reads an int option being
 * set (-EINVAL when len is short, as Linux); sockopt_put_int answers an
 * int option being read, shortening *len to what was written. */
static inline long sockopt_get_int(const void *val, unsigned len, int *out)
{
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}
static inline long sockopt_put_int(void *val, unsigned *len, int v)
{
	*len = MIN(*len, (unsigned)sizeof(int));
	memcpy(val, &v, *len);
	return 0;
}
/* Sends SIGPIPE to the calling thread unless flags has MSG_NOSIGNAL; for
 * a family's -EPIPE. */
void sock_sigpipe(unsigned flags);

/* ---- netlink.c ------------------------------------------------------------ */
/* The SIOCGIF* ioctls (SIOCGIFCONF, …FLAGS, …ADDR, …INDEX…), which any
 * socket answers as Linux's sock_ioctl does; -ENOTTY for other commands. */
long net_if_ioctl(unsigned cmd, uint64_t arg);

/* The families (their files). */
extern const struct net_family unix_family; /* net_unix.c */
extern const struct net_family inet_family; /* net_inet.c: AF_INET and AF_INET6 */
extern const struct net_family inet6_family;
extern const struct net_family netlink_family; /* netlink.c */

#endif
