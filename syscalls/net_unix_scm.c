// SPDX-License-Identifier: MIT
/*
 * AF_UNIX control messages (Linux's net/core/scm.c and af_unix's scm
 * glue): SCM_RIGHTS passes open files, SCM_CREDENTIALS a pid, uid and gid;
 * a datagram read adds its timestamp when SO_TIMESTAMP(NS) asks.
 * The send side parses the copied-in control data and takes a reference
 * to each file; the message carries them (net_unix_msg.c) until a reader
 * installs them as new descriptors or the message is dropped.  Unix
 * sockets that only messages in flight keep open, in cycles nobody can
 * read, are collected when a unix socket closes (unix_gc, docs/net.md).
 */
#include "syscalls/net_unix.h"

struct ucred unix_cred_now(void)
{
	/* The one process: proc.c's getpid, getuid and getgid answers. */
	return (struct ucred){ .pid = 1, .uid = 0, .gid = 0 };
}

static long add_fds(struct uscm *scm, const int *fds, int n)
{
	if (n <= 0) /* scm_fp_copy: an empty SCM_RIGHTS passes nothing */
		return 0;
	if (scm->nfds + n > SCM_MAX_FD)
		return -EINVAL;
	struct file **all = kmalloc((scm->nfds + n) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct file *f = fd_get(fds[i]);
		if (!f) {
			for (int j = 0; j < i; j++)
				file_put(all[scm->nfds + j]);
			kfree(all);
			return -EBADF;
		}
		file_get(f);
		all[scm->nfds + i] = f;
	}
	if (scm->nfds)
		memcpy(all, scm->fds, scm->nfds * sizeof(*all));
	kfree(scm->fds);
	scm->fds = all;
	scm->nfds += n;
	return 0;
}

/* __scm_send's SCM_CREDENTIALS: root may claim any pid, uid and gid, but
 * the pid must be a live one (ESRCH) and the ids valid (EINVAL for -1). */
static long creds_in(const void *data, size_t len, struct ucred *out)
{
	struct ucred c;

	if (len != sizeof(c))
		return -EINVAL;
	memcpy(&c, data, sizeof(c));
	if (c.uid == (uint32_t)-1 || c.gid == (uint32_t)-1)
		return -EINVAL;
	if (c.pid <= 0 || !thread_by_tid(c.pid))
		return -ESRCH;
	*out = c;
	return 0;
}

long unix_scm_send(const struct sock_msg *m, struct uscm *scm)
{
	const uint8_t *p = m->control;
	size_t left = m->controllen;
	long r = 0;

	scm->fds = NULL;
	scm->nfds = 0;
	scm->cred = unix_cred_now();
	/* __scm_send: walk the headers as CMSG_NXTHDR does; a header whose
	 * length is short or runs past the end is EINVAL. */
	while (left >= sizeof(struct cmsghdr)) {
		struct cmsghdr h;
		memcpy(&h, p, sizeof(h));
		if (h.len < sizeof(h) || h.len > left) {
			r = -EINVAL;
			break;
		}
		size_t dlen = h.len - sizeof(h);
		const void *data = p + sizeof(h);
		if (h.level == SOL_SOCKET) {
			if (h.type == SCM_RIGHTS) {
				int fds[SCM_MAX_FD];
				int n = dlen / sizeof(int);
				if (n > SCM_MAX_FD) {
					r = -EINVAL;
					break;
				}
				memcpy(fds, data, n * sizeof(int));
				r = add_fds(scm, fds, n);
			} else if (h.type == SCM_CREDENTIALS) {
				r = creds_in(data, dlen, &scm->cred);
			} else {
				r = -EINVAL;
			}
			if (r < 0)
				break;
		}
		size_t step = CMSG_ALIGN(h.len);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	if (r < 0)
		unix_scm_destroy(scm);
	return r;
}

void unix_scm_destroy(struct uscm *scm)
{
	for (int i = 0; i < scm->nfds; i++)
		file_put(scm->fds[i]);
	kfree(scm->fds);
	scm->fds = NULL;
	scm->nfds = 0;
}

/* put_cmsg: one control message into what is left of m->control; a short
 * buffer cuts it and sets MSG_CTRUNC. */
static void put_cmsg(struct sock_msg *m, size_t *used, int type, const void *data, size_t len)
{
	size_t room = m->controllen - *used;
	size_t full = sizeof(struct cmsghdr) + len;

	if (room < sizeof(struct cmsghdr)) {
		m->out_flags |= MSG_CTRUNC;
		return;
	}
	if (room < full) {
		m->out_flags |= MSG_CTRUNC;
		full = room;
	}
	struct cmsghdr h = { .len = full, .level = SOL_SOCKET, .type = type };
	memcpy((uint8_t *)m->control + *used, &h, sizeof(h));
	memcpy((uint8_t *)m->control + *used + sizeof(h), data, full - sizeof(h));
	*used += MIN(CMSG_ALIGN(full), room);
}

void unix_scm_recv(struct sock_msg *m, int tstamp, bool passcred, const struct ucred *cred,
		   struct file **fds, int nfds)
{
	uint64_t now = clock_realtime_ns();
	size_t used = 0;

	if (!m->control)
		m->controllen = 0;
	if (tstamp == SO_TIMESTAMP) { /* __sock_recv_timestamp: the time of the read */
		struct timeval tv = { now / NSEC_PER_SEC, now % NSEC_PER_SEC / 1000 };
		put_cmsg(m, &used, SO_TIMESTAMP, &tv, sizeof(tv));
	} else if (tstamp == SO_TIMESTAMPNS) {
		struct timespec ts = { now / NSEC_PER_SEC, now % NSEC_PER_SEC };
		put_cmsg(m, &used, SO_TIMESTAMPNS, &ts, sizeof(ts));
	}
	if (passcred)
		put_cmsg(m, &used, SCM_CREDENTIALS, cred, sizeof(*cred));
	if (nfds) {
		/* scm_detach_fds: as many as fit, the rest are closed. */
		size_t room = m->controllen - used;
		int fit = room > sizeof(struct cmsghdr) ? (room - sizeof(struct cmsghdr)) / sizeof(int)
							: 0;
		int nums[SCM_MAX_FD], n = 0;
		bool cloexec = m->flags & MSG_CMSG_CLOEXEC;
		for (int i = 0; i < nfds; i++) {
			if (i >= fit || n < i) { /* no room, or the table is full */
				file_put(fds[i]);
				continue;
			}
			long fd = fd_install(fds[i], 0, cloexec); /* drops it on failure */
			if (fd >= 0)
				nums[n++] = fd;
		}
		if (n) {
			struct cmsghdr h = { .len = sizeof(h) + n * sizeof(int),
					     .level = SOL_SOCKET,
					     .type = SCM_RIGHTS };
			memcpy((uint8_t *)m->control + used, &h, sizeof(h));
			memcpy((uint8_t *)m->control + used + sizeof(h), nums, n * sizeof(int));
			used += MIN(CMSG_ALIGN(h.len), m->controllen - used);
		}
		if (n < nfds)
			m->out_flags |= MSG_CTRUNC;
	}
	kfree(fds);
	m->controllen = used;
}

/* ---- files in flight ---------------------------------------------------------- */

static int inflight_total; /* unix sockets' files held by queued messages */

static struct usock *unix_of(struct file *f)
{
	struct socket *s = sock_of_file(f);

	return s && s->family == AF_UNIX ? s->sk : NULL;
}

void unix_inflight(struct file **fds, int n, int delta)
{
	for (int i = 0; i < n; i++) {
		struct usock *v = unix_of(fds[i]);
		if (v) {
			v->inflight += delta;
			inflight_total += delta;
		}
	}
}

/* Calls fn on every collector candidate whose file a message queued on u
 * holds (on a listener, also those queued on its connections waiting for
 * accept: Linux's scan_children). */
static void scan(struct usock *u, bool (*fn)(struct usock *v), bool *changed)
{
	for (struct umsg *m = u->rq; m; m = m->next) {
		if (m->embryo)
			scan(m->embryo, fn, changed);
		for (int i = 0; i < m->nfds; i++) {
			struct usock *v = unix_of(m->fds[i]);
			if (v && v->gc_cand && fn(v))
				*changed = true;
		}
	}
}

static bool dec_refs(struct usock *v)
{
	v->gc_refs--;
	return false;
}

static bool mark_alive(struct usock *v)
{
	if (v->gc_alive)
		return false;
	v->gc_alive = true;
	return true;
}

/* The candidates are the sockets whose every file reference is a message
 * in flight.  Taking away the references candidates hold on each other
 * leaves those still referenced from outside; they and whatever they
 * hold stay, the rest is a cycle nobody can read: its queues are
 * emptied, which drops the last references. */
void unix_gc(void)
{
	static bool running; /* the drops below close sockets, which call here */
	struct umsg *drop = NULL;
	bool changed = false;

	if (running || !inflight_total)
		return;
	running = true;
	mutex_lock(&unix_lock);
	for (struct usock *u = unix_all(); u; u = u->all_next) {
		u->gc_cand = u->sock && u->inflight && u->sock->file->refs == u->inflight;
		u->gc_refs = u->inflight;
		u->gc_alive = false;
	}
	for (struct usock *u = unix_all(); u; u = u->all_next)
		if (u->gc_cand)
			scan(u, dec_refs, &changed);
	for (struct usock *u = unix_all(); u; u = u->all_next)
		if (u->gc_cand && u->gc_refs > 0)
			u->gc_alive = true;
	do {
		changed = false;
		for (struct usock *u = unix_all(); u; u = u->all_next)
			if (u->gc_cand && u->gc_alive)
				scan(u, mark_alive, &changed);
	} while (changed);
	for (struct usock *u = unix_all(); u; u = u->all_next) {
		if (!u->gc_cand || u->gc_alive)
			continue;
		/* Connections waiting for accept stay: the listener's close
		 * resets them once the drops below release it. */
		for (struct umsg **pp = &u->rq, *m; (m = *pp);) {
			if (m->embryo) {
				pp = &m->next;
				continue;
			}
			*pp = m->next;
			u->rq_count--;
			u->rq_bytes -= m->len - m->off;
			unix_msg_free(m, &drop);
		}
		u->rq_tail = &u->rq;
		while (*u->rq_tail)
			u->rq_tail = &(*u->rq_tail)->next;
	}
	mutex_unlock(&unix_lock);
	unix_drop_files(drop);
	running = false;
}
