// SPDX-License-Identifier: MIT
/*
 * Credentials: the real, effective, saved and filesystem user and group
 * ids of the one process, with Linux's rules for changing them (a process
 * whose effective uid is 0 holds CAP_SETUID/CAP_SETGID and may set any id;
 * any other may only swap among its own real, effective and saved ids).
 * The program starts as root, so servers that drop privileges
 * (memcached -u, nginx's user directive) go through the same calls as on
 * Linux.  The ids are kept per process, not per thread: glibc and musl
 * broadcast a change to every thread anyway.  Nothing else consults them
 * yet: minifs does not check permissions, and /proc/self/status and
 * SO_PEERCRED still report 0.  Supplementary groups are in proc.c.
 */
#include "syscalls/syscalls.h"

/* The ids, in the order Linux keeps them: real, effective, saved, fs. */
struct cred_ids {
	uint32_t r, e, s, fs;
};
static struct cred_ids uids, gids;

#define ID_KEEP 0xffffffffu /* (uid_t)-1: leave this id as it is */

/* Whether the caller holds the capability to set any id: effective uid 0. */
static bool cred_capable(void)
{
	return uids.e == 0;
}

static bool cred_own(const struct cred_ids *c, uint32_t id)
{
	return id == c->r || id == c->e || id == c->s;
}

/* setuid/setgid: root sets all four; others only the effective (and fs) id. */
static long cred_set1(struct cred_ids *c, uint32_t id)
{
	if (id == ID_KEEP)
		return -EINVAL;
	if (cred_capable()) {
		*c = (struct cred_ids){ id, id, id, id };
		return 0;
	}
	if (id != c->r && id != c->s)
		return -EPERM;
	c->e = c->fs = id;
	return 0;
}

/* setresuid/setresgid: each id either kept (-1), or set when privileged or
 * when it is one of the caller's current three. */
static long cred_setres(struct cred_ids *c, uint32_t r, uint32_t e, uint32_t s)
{
	if (!cred_capable()) {
		if ((r != ID_KEEP && !cred_own(c, r)) || (e != ID_KEEP && !cred_own(c, e)) ||
		    (s != ID_KEEP && !cred_own(c, s)))
			return -EPERM;
	}
	if (r != ID_KEEP)
		c->r = r;
	if (e != ID_KEEP)
		c->e = e;
	if (s != ID_KEEP)
		c->s = s;
	c->fs = c->e;
	return 0;
}

/* setreuid/setregid: as Linux's __sys_setreuid, the saved id follows the
 * effective one when the real id is set or the effective id differs from
 * the old real id. */
static long cred_setre(struct cred_ids *c, uint32_t r, uint32_t e)
{
	uint32_t old_r = c->r, s = ID_KEEP;

	if (!cred_capable()) {
		if (r != ID_KEEP && r != c->r && r != c->e)
			return -EPERM;
		if (e != ID_KEEP && !cred_own(c, e))
			return -EPERM;
	}
	if (r != ID_KEEP || (e != ID_KEEP && e != old_r))
		s = e != ID_KEEP ? e : c->e;
	return cred_setres(c, r, e, s);
}

static long cred_get3(const struct cred_ids *c, uint32_t __user *r, uint32_t __user *e,
		      uint32_t __user *s)
{
	if (copy_to_user(r, &c->r, sizeof(c->r)) < 0 || copy_to_user(e, &c->e, sizeof(c->e)) < 0 ||
	    copy_to_user(s, &c->s, sizeof(c->s)) < 0)
		return -EFAULT;
	return 0;
}

/* setfsuid/setfsgid return the old fs id whether or not the change was made. */
static long cred_setfs(struct cred_ids *c, uint32_t id)
{
	uint32_t old = c->fs;

	if (id != ID_KEEP && (cred_capable() || cred_own(c, id) || id == c->fs))
		c->fs = id;
	return old;
}

SYSCALL_DEFINE0(getuid)
{
	return uids.r;
}
SYSCALL_DEFINE0(geteuid)
{
	return uids.e;
}
SYSCALL_DEFINE0(getgid)
{
	return gids.r;
}
SYSCALL_DEFINE0(getegid)
{
	return gids.e;
}

SYSCALL_DEFINE1(setuid, uint32_t, uid)
{
	return cred_set1(&uids, uid);
}
SYSCALL_DEFINE1(setgid, uint32_t, gid)
{
	return cred_set1(&gids, gid);
}
SYSCALL_DEFINE2(setreuid, uint32_t, r, uint32_t, e)
{
	return cred_setre(&uids, r, e);
}
SYSCALL_DEFINE2(setregid, uint32_t, r, uint32_t, e)
{
	return cred_setre(&gids, r, e);
}
SYSCALL_DEFINE3(setresuid, uint32_t, r, uint32_t, e, uint32_t, s)
{
	return cred_setres(&uids, r, e, s);
}
SYSCALL_DEFINE3(getresuid, uint32_t __user *, r, uint32_t __user *, e, uint32_t __user *, s)
{
	return cred_get3(&uids, r, e, s);
}
SYSCALL_DEFINE3(setresgid, uint32_t, r, uint32_t, e, uint32_t, s)
{
	return cred_setres(&gids, r, e, s);
}
SYSCALL_DEFINE3(getresgid, uint32_t __user *, r, uint32_t __user *, e, uint32_t __user *, s)
{
	return cred_get3(&gids, r, e, s);
}
SYSCALL_DEFINE1(setfsuid, uint32_t, uid)
{
	return cred_setfs(&uids, uid);
}
SYSCALL_DEFINE1(setfsgid, uint32_t, gid)
{
	return cred_setfs(&gids, gid);
}
