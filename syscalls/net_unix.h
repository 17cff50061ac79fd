/* SPDX-License-Identifier: MIT */
/*
 * AF_UNIX, shared by its files: net_unix.c (the family, connections,
 * options, readiness), net_unix_addr.c (names: paths, abstract names,
 * autobind, lookup), net_unix_msg.c (receive queues, sending and
 * receiving for every type) and net_unix_scm.c (SCM_RIGHTS and
 * SCM_CREDENTIALS).  The rules are Linux's net/unix/af_unix.c.
 *
 * Every unix socket's state is changed under one mutex, unix_lock: a
 * connect, an accept or a datagram touches two or three sockets at once,
 * and one family-wide lock keeps that free of lock-order questions
 * (docs/threads.md).  The socket layer (syscalls/net.c) copies addresses,
 * messages and options; nothing here touches program memory except
 * through a uio or the receive side's file descriptors.
 */
#ifndef SYSCALLS_NET_UNIX_H
#define SYSCALLS_NET_UNIX_H

#include "syscalls/net.h"

#define UNIX_SNDBUF 212992   /* net.core.wmem_default */
#define UNIX_RCVBUF 212992   /* net.core.rmem_default */
#define UNIX_BUF_MAX 212992  /* net.core.wmem_max, rmem_max: SO_SNDBUF's cap */
#define UNIX_DGRAM_QLEN 10   /* net.unix.max_dgram_qlen */
#define UNIX_MSG_OVERHEAD 64 /* what a queued message costs beyond its bytes */
#define UNIX_ADDR_MIN 2      /* offsetof(struct sockaddr_un, sun_path) */
#define UNIX_GENERIC_OPTS 15 /* SOL_SOCKET options only kept (net_unix.c) */

#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3

enum unix_state { US_CLOSE, US_LISTEN, US_CONNECTED };

/* One queued message: a datagram, a seqpacket record, a piece of a stream,
 * or (on a listener) a connection waiting for accept (embryo set, no
 * bytes).  It holds a reference to its sender, whose wmem counts it. */
struct umsg {
	struct umsg *next;
	struct usock *from;
	struct usock *embryo; /* a listener's queue: the new connection */
	size_t len, off;      /* bytes, and those a stream reader took */
	size_t truesize;      /* what it counts in from->wmem */
	struct ucred cred;
	struct file **fds; /* SCM_RIGHTS in flight: one reference each */
	int nfds;
	bool peeked; /* a datagram MSG_PEEK saw it (SO_PEEK_OFF steps over it) */
	int addrlen; /* the sender's name when it had one, else 0 */
	struct sockaddr_un addr;
	char data[];
};

/* A unix socket.  It outlives its struct socket while a peer or a queued
 * message still points at it (refs); sock is NULL once it is closed. */
struct usock {
	struct socket *sock;
	int refs;
	int type;
	enum unix_state state;
	struct usock *peer; /* a reference; a stream's stays after the peer closes */
	struct umsg *rq, **rq_tail;
	int rq_count;
	size_t rq_bytes;
	size_t wmem; /* truesize of what this socket sent and nobody read yet */
	int sndbuf, rcvbuf;
	unsigned shutdown; /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	int err;           /* SO_ERROR: ECONNRESET once */
	int backlog;       /* listeners */
	bool passcred, embryo_reset;
	struct ucred cred, peercred;
	/* Names (net_unix_addr.c). */
	int addrlen; /* 0: unnamed */
	struct sockaddr_un addr;
	struct inode *inode; /* a path's node, referenced */
	struct usock *abs_next;
	struct usock *all_next, **all_pprev; /* every usock, for unix_wake_senders */
	/* Files in flight (net_unix_scm.c): how many queued messages hold
	 * this socket's file, and the collector's marks. */
	int inflight, gc_refs;
	bool gc_cand, gc_alive;
	/* Blocked connectors and datagram senders wait here for room. */
	struct waitq peer_wait;
	/* The generic SOL_SOCKET options, kept for getsockopt. */
	int peek_off;                   /* SO_PEEK_OFF; -1: off */
	int generic[UNIX_GENERIC_OPTS]; /* net_unix.c's table of them */
	int rcvlowat;
	int tstamp; /* SO_TIMESTAMP or SO_TIMESTAMPNS: the receive timestamp; 0 none */
	struct linger linger;
};

extern struct mutex unix_lock;

/* ---- net_unix.c ----------------------------------------------------------- */
/* A new usock for s (one reference, the socket's), or NULL. */
struct usock *unix_alloc(struct socket *s);
void unix_get(struct usock *u);
/* Drops a reference (unix_lock held); the last frees the usock. */
void unix_put(struct usock *u);
/* Wakes u's socket when it still has one. */
void unix_wake(struct usock *u, unsigned key);
/* Wakes the sockets connected to u (unix_lock held): u's datagram queue
 * has room again, or u is gone (Linux's unix_dgram_peer_wake_relay). */
void unix_wake_senders(struct usock *u);
/* Every usock, linked through all_next (unix_lock held). */
struct usock *unix_all(void);
/* The credentials of the caller (getpid, getuid, getgid's answers). */
struct ucred unix_cred_now(void);

/* ---- net_unix_addr.c ---------------------------------------------------- */
/* bind: a path (an S_IFSOCK node), an abstract name, or autobind. */
long unix_bind(struct socket *s, const void *addr, int len);
/* Gives u an abstract name "\0XXXXX" when it has none (unix_lock held). */
long unix_autobind(struct usock *u);
/* addr's length as Linux keeps it, or -EINVAL (unix_validate_addr). */
long unix_addr_valid(const void *addr, int len);
/* The socket bound to addr, with a reference, for connect and sendto
 * (unix_lock held; the tree's lock is taken inside): -EINVAL for a bad
 * address, the walk's error for a path, -ECONNREFUSED when no socket is
 * bound there, -EPROTOTYPE for another type. */
long unix_find(const void *addr, int len, int type, struct usock **out);
/* Takes u's name out of the tables (unix_lock held); the address stays. */
void unix_unbind(struct usock *u);
/* The proto_ops getname: the name's length, or -ENOTCONN for a peer. */
long unix_getname(struct socket *s, void *addr, bool peer);

/* ---- net_unix_msg.c ----------------------------------------------------- */
/* Appends m to to's receive queue (unix_lock held). */
void unix_queue(struct usock *to, struct umsg *m);
/* Frees m (unix_lock held): its sender's wmem goes down and the sender
 * may write again; its file references are handed to *drop for
 * unix_drop_files after the lock is let go. */
void unix_msg_free(struct umsg *m, struct umsg **drop);
/* Puts the file references of the messages on the list (no lock held). */
void unix_drop_files(struct umsg *list);
/* The proto_ops sendmsg and recvmsg of each kind (seqpacket uses the
 * datagram pair): bytes moved, or -errno as Linux answers. */
long unix_stream_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock);
long unix_stream_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock);
long unix_dgram_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock);
long unix_dgram_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock);

/* ---- net_unix_scm.c ----------------------------------------------------- */
/* What a sendmsg's control messages ask for. */
struct uscm {
	struct file **fds;
	int nfds;
	struct ucred cred;
};
/* Parses m's control messages: SCM_RIGHTS takes a reference to each file,
 * SCM_CREDENTIALS replaces the caller's credentials.  0, -EINVAL, -EBADF,
 * -ESRCH or -ENOMEM; on error nothing is held.  Call without unix_lock. */
long unix_scm_send(const struct sock_msg *m, struct uscm *scm);
void unix_scm_destroy(struct uscm *scm);
/* Writes the receive side's control messages (a receive timestamp when
 * tstamp is SO_TIMESTAMP or SO_TIMESTAMPNS, credentials when the receiver
 * asked for them, then the files, installed as new descriptors)
 * into m->control, setting m->controllen and MSG_CTRUNC.  Takes over the
 * file references in fds (nfds of them); call without unix_lock. */
/* Counts fds (n files) into (delta 1) or out of (-1) a queued message,
 * for the collector (unix_lock held). */
void unix_inflight(struct file **fds, int n, int delta);
/* Frees the unix sockets that only messages in flight keep open, in
 * cycles no program can reach any more (Linux's unix_gc); call without
 * unix_lock, after a unix socket was closed. */
void unix_gc(void);
void unix_scm_recv(struct sock_msg *m, int tstamp, bool passcred, const struct ucred *cred,
		   struct file **fds, int nfds);

#endif
