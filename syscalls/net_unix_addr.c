// SPDX-License-Identifier: MIT
/*
 * AF_UNIX names (Linux's unix_bind, unix_find_other, unix_getname).  A
 * path name is an S_IFSOCK node in minifs whose inode points at the bound
 * socket; unlink removes the name and connect then finds nothing, while
 * the socket keeps working.  An abstract name (sun_path[0] == 0) lives in
 * a list here: every byte of its length counts, NULs included.  Autobind
 * gives an unnamed socket "\0" and five hex digits.  Connections and
 * messages themselves are in net_unix.c and net_unix_msg.c.
 */
#include "minifs/minifs.h"
#include "syscalls/net_unix.h"

static struct usock *abstract; /* bound abstract names (unix_lock) */
static unsigned autobind_next;

static bool is_abstract(const struct sockaddr_un *a)
{
	return a->sun_path[0] == 0;
}

/* unix_validate_addr plus unix_mkname_bsd: the address's length as Linux
 * keeps it (a path's ends at its NUL), or -EINVAL.  a is a copy in a
 * sockaddr_storage (SOCKADDR_MAX bytes), so a NUL fits after len. */
static long addr_check(struct sockaddr_un *a, int len)
{
	if (len <= UNIX_ADDR_MIN || len > (int)sizeof(*a) || a->sun_family != AF_UNIX)
		return -EINVAL;
	if (is_abstract(a))
		return len;
	((char *)a)[len] = 0; /* room: the copy is a sockaddr_storage */
	return UNIX_ADDR_MIN + strlen(a->sun_path) + 1;
}

static struct usock *abstract_find(const struct sockaddr_un *a, int len)
{
	for (struct usock *u = abstract; u; u = u->abs_next)
		if (u->addrlen == len && memcmp(&u->addr, a, len) == 0)
			return u;
	return NULL;
}

static void abstract_add(struct usock *u, const struct sockaddr_un *a, int len)
{
	memcpy(&u->addr, a, len);
	u->addrlen = len;
	u->abs_next = abstract;
	abstract = u;
}

long unix_autobind(struct usock *u)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (u->addrlen)
		return 0;
	for (unsigned tries = 0; tries < 0x100000; tries++) {
		snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "%05x", autobind_next++ & 0xfffff);
		if (!abstract_find(&a, UNIX_ADDR_MIN + 6)) {
			abstract_add(u, &a, UNIX_ADDR_MIN + 6);
			return 0;
		}
	}
	return -ENOSPC;
}

/* A path: a new S_IFSOCK node (EADDRINUSE when the name exists). */
static long bind_path(struct usock *u, struct sockaddr_un *a, int len)
{
	struct walk w;

	mfs_lock();
	long r = mfs_walk(vfs_cwd(), a->sun_path, WALK_PARENT, &w);
	if (r == 0 && w.inode)
		r = -EADDRINUSE;
	else if (r == 0 && u->addrlen)
		r = -EINVAL;
	else if (r == 0 && w.slash)
		r = -ENOENT;
	else if (r == 0 && w.dir->nlink == 0)
		r = -ENOENT; /* a removed directory takes no new entries */
	else if (r == 0 && w.dir->gen)
		r = -EACCES;
	struct inode *ino = NULL;
	if (r == 0 && !(ino = mfs_new(S_IFSOCK | (0777 & ~vfs_umask()))))
		r = -ENOMEM;
	if (r == 0 && (r = mfs_link(w.dir, w.name, w.len, ino)) < 0)
		kfree(ino);
	if (r == 0) {
		mfs_get(ino); /* the socket's, until it closes */
		ino->sock = u;
		u->inode = ino;
		memcpy(&u->addr, a, len);
		u->addrlen = len;
	}
	mfs_unlock();
	return r;
}

long unix_bind(struct socket *s, const void *addr, int len)
{
	struct usock *u = s->sk;
	struct sockaddr_storage st;
	struct sockaddr_un *a = (struct sockaddr_un *)&st;
	long r;

	memcpy(&st, addr, sizeof(st)); /* net.c's copy: SOCKADDR_MAX bytes */
	mutex_lock(&unix_lock);
	if (len == UNIX_ADDR_MIN && a->sun_family == AF_UNIX) {
		r = unix_autobind(u);
	} else if ((len = addr_check(a, len)) < 0) {
		r = len;
	} else if (!is_abstract(a)) {
		r = bind_path(u, a, len);
	} else if (u->addrlen) {
		r = -EINVAL;
	} else if (abstract_find(a, len)) {
		r = -EADDRINUSE;
	} else {
		abstract_add(u, a, len);
		r = 0;
	}
	mutex_unlock(&unix_lock);
	return r;
}

long unix_addr_valid(const void *addr, int len)
{
	struct sockaddr_storage st;

	memcpy(&st, addr, sizeof(st)); /* net.c's copy: SOCKADDR_MAX bytes */
	return addr_check((struct sockaddr_un *)&st, len);
}

long unix_find(const void *addr, int len, int type, struct usock **out)
{
	struct sockaddr_storage st;
	struct sockaddr_un *a = (struct sockaddr_un *)&st;
	struct usock *u;
	long r;

	memcpy(&st, addr, sizeof(st)); /* net.c's copy: SOCKADDR_MAX bytes */
	if ((r = addr_check(a, len)) < 0)
		return r;
	if (is_abstract(a)) {
		u = abstract_find(a, r);
	} else {
		struct walk w; /* unix_lock, then the tree's: bind's order */
		mfs_lock();
		r = mfs_walk(vfs_cwd(), a->sun_path, WALK_FOLLOW, &w);
		u = r == 0 && (w.inode->mode & S_IFMT) == S_IFSOCK ? w.inode->sock : NULL;
		mfs_unlock();
		if (r < 0)
			return r;
	}
	if (!u || !u->sock)
		return -ECONNREFUSED;
	if (u->type != type)
		return -EPROTOTYPE;
	unix_get(u);
	*out = u;
	return 0;
}

void unix_unbind(struct usock *u)
{
	if (u->inode) {
		u->inode->sock = NULL;
		mfs_put(u->inode);
		u->inode = NULL;
	} else if (u->addrlen) {
		for (struct usock **pp = &abstract; *pp; pp = &(*pp)->abs_next)
			if (*pp == u) {
				*pp = u->abs_next;
				break;
			}
	}
}

long unix_getname(struct socket *s, void *addr, bool peer)
{
	struct usock *u = s->sk;
	long r;

	mutex_lock(&unix_lock);
	if (peer)
		u = u->state == US_CONNECTED ? u->peer : NULL;
	if (!u) {
		r = -ENOTCONN;
	} else if (u->addrlen) {
		memcpy(addr, &u->addr, u->addrlen);
		r = u->addrlen;
	} else {
		*(uint16_t *)addr = AF_UNIX; /* unnamed: the family alone */
		r = UNIX_ADDR_MIN;
	}
	mutex_unlock(&unix_lock);
	return r;
}
