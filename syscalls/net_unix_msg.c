// SPDX-License-Identifier: MIT
/*
 * AF_UNIX messages: each socket has one receive queue of struct umsg, and
 * every send appends to the peer's.  A stream send is cut into messages of
 * under 64 KiB that a reader takes bytes from across their boundaries
 * (stopping after one that carried files, as Linux does); a datagram or a
 * seqpacket record is one message, read whole or cut with MSG_TRUNC.  A
 * sender may have at most SO_SNDBUF bytes unread by its peer; a datagram
 * socket's queue holds UNIX_DGRAM_QLEN+1 messages from senders it is not
 * connected back to (net.unix.max_dgram_qlen).  Connections, options and
 * readiness are in net_unix.c.
 */
#include "syscalls/net_unix.h"

/* A stream message's bytes: with its header, 16 pages of kmalloc. */
#define STREAM_CHUNK (65536 - sizeof(struct umsg) - 16)

static bool writable(const struct usock *u)
{
	return u->wmem * 4 <= (size_t)u->sndbuf;
}

void unix_queue(struct usock *to, struct umsg *m)
{
	m->next = NULL;
	*to->rq_tail = m;
	to->rq_tail = &m->next;
	to->rq_count++;
	to->rq_bytes += m->len - m->off;
}

static struct umsg *dequeue(struct usock *u)
{
	struct umsg *m = u->rq;

	if (m) {
		u->rq = m->next;
		if (!u->rq)
			u->rq_tail = &u->rq;
		u->rq_count--;
		u->rq_bytes -= m->len - m->off;
	}
	return m;
}

void unix_msg_free(struct umsg *m, struct umsg **drop)
{
	struct usock *from = m->from;

	if (from) {
		from->wmem -= m->truesize;
		if (writable(from))
			unix_wake(from, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
		unix_put(from);
	}
	if (m->nfds) {
		unix_inflight(m->fds, m->nfds, -1);
		m->next = *drop;
		*drop = m;
	} else {
		kfree(m);
	}
}

void unix_drop_files(struct umsg *list)
{
	while (list) {
		struct umsg *m = list;
		list = m->next;
		for (int i = 0; i < m->nfds; i++)
			file_put(m->fds[i]);
		kfree(m->fds);
		kfree(m);
	}
}

/* A message of len bytes from u (unix_lock held), charged to u's wmem;
 * it takes the files of scm when fds is set.  NULL without memory. */
static struct umsg *msg_new(struct usock *u, size_t len, struct uscm *scm, bool fds)
{
	struct umsg *m = kmalloc(sizeof(*m) + len);

	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->len = len;
	m->truesize = len + UNIX_MSG_OVERHEAD;
	m->cred = scm->cred;
	if (fds) {
		m->fds = scm->fds;
		m->nfds = scm->nfds;
		scm->fds = NULL;
		scm->nfds = 0;
		unix_inflight(m->fds, m->nfds, 1);
	}
	m->addrlen = u->addrlen;
	memcpy(&m->addr, &u->addr, u->addrlen);
	m->from = u;
	unix_get(u);
	u->wmem += m->truesize;
	return m;
}

/* ---- streams --------------------------------------------------------------- */

static bool stream_broken(const struct usock *u)
{
	const struct usock *p = u->peer;

	return (u->shutdown & SEND_SHUTDOWN) || !p || !p->sock || (p->shutdown & RCV_SHUTDOWN);
}

long unix_stream_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct usock *u = s->sk;
	struct umsg *drop = NULL;
	size_t len = m->u->count, sent = 0;
	struct uscm scm;
	long r;

	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (m->addr && m->addrlen)
		return u->state == US_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	if ((r = unix_scm_send(m, &scm)) < 0)
		return r;
	mutex_lock(&unix_lock);
	if (u->state != US_CONNECTED) {
		r = -ENOTCONN;
		goto out;
	}
	while (sent < len) {
		r = sock_wait(&s->wq, u->wmem < (size_t)u->sndbuf || stream_broken(u), nonblock,
			      s->sndtimeo, &unix_lock);
		if (r)
			break;
		if (stream_broken(u)) {
			if (!sent)
				sock_sigpipe(m->flags);
			r = -EPIPE;
			break;
		}
		size_t n = MIN(len - sent, MIN((size_t)u->sndbuf / 2 - 64, STREAM_CHUNK));
		struct umsg *msg = msg_new(u, n, &scm, sent == 0); /* files go with the first */
		if (!msg) {
			r = -ENOMEM;
			break;
		}
		if (uio_copy_in(m->u, msg->data, n) != (long)n) {
			unix_msg_free(msg, &drop);
			r = -EFAULT;
			break;
		}
		unix_queue(u->peer, msg);
		unix_wake(u->peer, EPOLLIN | EPOLLRDNORM);
		sent += n;
	}
	if (!len && stream_broken(u)) {
		sock_sigpipe(m->flags);
		r = -EPIPE;
	}
out:
	mutex_unlock(&unix_lock);
	unix_drop_files(drop);
	unix_scm_destroy(&scm);
	return sent ? (long)sent : r;
}

/* The message holding byte *pos of u's unread bytes; *pos becomes the
 * offset in it past what was read already. */
static struct umsg *msg_at(struct usock *u, size_t *pos)
{
	struct umsg *m = u->rq;

	while (m && *pos >= m->len - m->off) {
		*pos -= m->len - m->off;
		m = m->next;
	}
	if (m)
		*pos += m->off;
	return m;
}

static struct file **dup_files(const struct umsg *m)
{
	struct file **fds = kmalloc(m->nfds * sizeof(*fds));

	for (int i = 0; fds && i < m->nfds; i++) {
		fds[i] = m->fds[i];
		file_get(fds[i]);
	}
	return fds;
}

/* SO_PEEK_OFF (sk_peek_offset_fwd/bwd): a peek moves the offset on, a
 * read moves it back by what it took; -1 means off. */
static void peek_off_move(struct usock *u, long by)
{
	if (u->peek_off >= 0)
		u->peek_off = MAX(u->peek_off + by, 0L);
}

long unix_stream_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct usock *u = s->sk;
	struct umsg *drop = NULL;
	bool peek = m->flags & MSG_PEEK, got = false;
	size_t base = 0; /* SO_PEEK_OFF: where a peek starts */
	size_t want = m->u->count, done = 0, target = (m->flags & MSG_WAITALL) ? want : 1;
	struct file **fds = NULL;
	int nfds = 0;
	struct ucred cred = { 0 };
	long r = 0;

	m->addrlen = 0;
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	mutex_lock(&unix_lock);
	if (u->state != US_CONNECTED) {
		r = -EINVAL;
		goto out;
	}
	if (peek && u->peek_off > 0)
		base = u->peek_off;
	for (;;) {
		size_t pos = peek ? base + done : 0;
		struct umsg *msg = msg_at(u, &pos);
		if (!msg) {
			if (done >= target)
				break;
			if (u->err) {
				r = -u->err;
				u->err = 0;
				break;
			}
			if (u->shutdown & RCV_SHUTDOWN)
				break;
			r = sock_wait(&s->wq,
				      u->rq_bytes > (peek ? base + done : 0) || u->err ||
					      (u->shutdown & RCV_SHUTDOWN),
				      nonblock, s->rcvtimeo, &unix_lock);
			if (r)
				break;
			continue;
		}
		if (!got) {
			cred = msg->cred;
			if (m->addr) { /* read() asks for no address */
				m->addrlen = msg->addrlen;
				memcpy(m->addr, &msg->addr, msg->addrlen);
			}
			got = true;
		} else if (u->passcred && memcmp(&cred, &msg->cred, sizeof(cred)) != 0) {
			break; /* one read, one sender's credentials */
		}
		size_t n = MIN(msg->len - pos, want - done);
		long c = uio_copy_out(m->u, msg->data + pos, n);
		if (c < 0) {
			r = c;
			break;
		}
		done += c;
		bool had_fds = msg->nfds;
		if (peek) {
			if (had_fds && !fds) {
				fds = dup_files(msg);
				nfds = fds ? msg->nfds : 0;
			}
		} else {
			msg->off += c;
			u->rq_bytes -= c;
			if (had_fds && !fds) {
				fds = msg->fds;
				nfds = msg->nfds;
				msg->fds = NULL;
				msg->nfds = 0;
				unix_inflight(fds, nfds, -1);
			}
			if (msg->off == msg->len)
				unix_msg_free(dequeue(u), &drop);
		}
		if (had_fds || (size_t)c < n || done >= want)
			break;
	}
	peek_off_move(u, peek ? (long)done : -(long)done);
out:
	mutex_unlock(&unix_lock);
	unix_drop_files(drop);
	if (got)
		unix_scm_recv(m, 0, u->passcred, &cred, fds, nfds);
	else
		m->controllen = 0;
	return done ? (long)done : r;
}

/* ---- datagrams and seqpacket records ------------------------------------- */

/* The receiver other can take nothing from u now, and nothing else is
 * wrong with it: a sender sleeps on other->peer_wait. */
static bool dgram_full(const struct usock *u, const struct usock *other)
{
	return other->sock && (!other->peer || other->peer == u) && !(other->shutdown & RCV_SHUTDOWN) &&
	       other->peer != u && other->rq_count > other->backlog;
}

/* unix_dgram_sendmsg's checks on the receiver, under unix_lock: 0 when a
 * message may go now, 1 when the receiver's queue is full, else -errno. */
static long dgram_check(struct usock *u, struct usock *other)
{
	if (!other->sock) {
		if (u->type == SOCK_SEQPACKET)
			return -EPIPE;
		if (u->peer == other) { /* our peer is gone: disconnected now */
			u->peer = NULL;
			u->state = US_CLOSE;
			unix_put(other);
		}
		return -ECONNREFUSED;
	}
	if (other->peer && other->peer != u)
		return -EPERM; /* unix_may_send: it is connected elsewhere */
	if (other->shutdown & RCV_SHUTDOWN)
		return -EPIPE;
	return dgram_full(u, other) ? 1 : 0;
}

long unix_dgram_sendmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct usock *u = s->sk, *other = NULL;
	struct umsg *msg = NULL, *drop = NULL;
	size_t len = m->u->count;
	struct uscm scm;
	long r;

	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	bool named = s->type == SOCK_DGRAM && m->addr && m->addrlen;
	if ((r = unix_scm_send(m, &scm)) < 0)
		return r;
	/* Linux's order: the address, the size, room to send, the copy, and
	 * only then the receiver (ENOENT, ECONNREFUSED, EPERM...). */
	if (named && (r = unix_addr_valid(m->addr, m->addrlen)) < 0)
		goto out_unlocked;
	mutex_lock(&unix_lock);
	if (!named) {
		if (s->type == SOCK_SEQPACKET && u->state != US_CONNECTED)
			r = -ENOTCONN;
		else if (!(other = u->peer))
			r = -ENOTCONN;
		else
			unix_get(other);
		if (r < 0)
			goto out;
	}
	if (u->passcred && !u->addrlen && (r = unix_autobind(u)) < 0)
		goto out;
	if (len > (size_t)u->sndbuf - 32) {
		r = -EMSGSIZE;
		goto out;
	}
	/* sock_alloc_send_pskb: room to send, and EPIPE (no SIGPIPE) once
	 * this socket shut its sending side. */
	r = sock_wait(&s->wq, u->wmem < (size_t)u->sndbuf || (u->shutdown & SEND_SHUTDOWN), nonblock,
		      s->sndtimeo, &unix_lock);
	if (!r && (u->shutdown & SEND_SHUTDOWN))
		r = -EPIPE;
	if (r)
		goto out;
	if (!(msg = msg_new(u, len, &scm, true))) {
		r = -ENOMEM;
		goto out;
	}
	if (uio_copy_in(m->u, msg->data, len) != (long)len) {
		r = -EFAULT;
		goto out;
	}
	if (named && (r = unix_find(m->addr, m->addrlen, s->type, &other)) < 0)
		goto out;
	while ((r = dgram_check(u, other)) == 1) {
		r = sock_wait(&other->peer_wait, !dgram_full(u, other), nonblock, s->sndtimeo,
			      &unix_lock);
		if (r)
			goto out;
	}
	if (r < 0)
		goto out;
	unix_queue(other, msg);
	unix_wake(other, EPOLLIN | EPOLLRDNORM);
	msg = NULL;
	r = len;
out:
	if (msg)
		unix_msg_free(msg, &drop);
	if (other)
		unix_put(other);
	mutex_unlock(&unix_lock);
out_unlocked:
	unix_drop_files(drop);
	unix_scm_destroy(&scm);
	return r;
}

/* The message a datagram read takes (the first), or a peek looks at:
 * with SO_PEEK_OFF, the one holding that offset (whole messages before it
 * are stepped over, as __skb_try_recv_from_queue does); *skip is the
 * offset in it. */
static struct umsg *dgram_next(struct usock *u, unsigned flags, size_t *skip)
{
	struct umsg *m = u->rq;
	size_t off = (flags & MSG_PEEK) && u->peek_off >= 0 ? (size_t)u->peek_off : 0;

	while (m && off && off >= m->len) {
		off -= m->len;
		m = m->next;
	}
	while (m && (flags & MSG_PEEK) && u->peek_off >= 0 && !off && !m->len && m->peeked)
		m = m->next; /* an empty message already peeked at */
	*skip = off;
	return m;
}

long unix_dgram_recvmsg(struct socket *s, struct sock_msg *m, bool nonblock)
{
	struct usock *u = s->sk;
	struct umsg *msg, *drop = NULL;
	struct file **fds = NULL;
	int nfds = 0;
	size_t skip = 0;
	struct ucred cred;
	long r = 0;

	m->addrlen = 0;
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	mutex_lock(&unix_lock);
	if (s->type == SOCK_SEQPACKET && u->state != US_CONNECTED) {
		r = -ENOTCONN;
		goto out;
	}
	for (;;) {
		if (u->err) {
			r = -u->err;
			u->err = 0;
			goto out;
		}
		if ((msg = dgram_next(u, m->flags, &skip)))
			break;
		if (u->shutdown & RCV_SHUTDOWN) {
			/* Blocking reads see end of file; a non-blocking
			 * datagram read EAGAIN, a seqpacket one 0. */
			r = nonblock && s->type == SOCK_DGRAM ? -EAGAIN : 0;
			goto out;
		}
		r = sock_wait(&s->wq,
			      dgram_next(u, m->flags, &skip) || u->err || (u->shutdown & RCV_SHUTDOWN),
			      nonblock, s->rcvtimeo, &unix_lock);
		if (r)
			goto out;
	}
	size_t n = MIN(msg->len - skip, m->u->count);
	long c = uio_copy_out(m->u, msg->data + skip, n);
	if (n && c <= 0)
		r = c < 0 ? c : -EFAULT;
	else
		r = (m->flags & MSG_TRUNC) ? (long)(msg->len - skip) : c;
	if (msg->len - skip > n)
		m->out_flags |= MSG_TRUNC;
	peek_off_move(u, (m->flags & MSG_PEEK) ? (long)n : -(long)msg->len);
	if (m->addr) {
		m->addrlen = msg->addrlen;
		memcpy(m->addr, &msg->addr, msg->addrlen);
	}
	cred = msg->cred;
	if (m->flags & MSG_PEEK) {
		msg->peeked = true;
		if (msg->nfds && (fds = dup_files(msg)))
			nfds = msg->nfds;
	} else {
		bool was_full = u->rq_count > u->backlog;
		fds = msg->fds;
		nfds = msg->nfds;
		msg->fds = NULL;
		msg->nfds = 0;
		unix_inflight(fds, nfds, -1);
		unix_msg_free(dequeue(u), &drop);
		wake_up(&u->peer_wait);
		if (was_full)
			unix_wake_senders(u);
	}
	mutex_unlock(&unix_lock);
	unix_drop_files(drop);
	if (r < 0) {
		m->controllen = 0;
		for (int i = 0; i < nfds; i++)
			file_put(fds[i]);
		kfree(fds);
		return r;
	}
	unix_scm_recv(m, u->tstamp, u->passcred, &cred, fds, nfds);
	return r;
out:
	mutex_unlock(&unix_lock);
	m->controllen = 0;
	return r;
}
