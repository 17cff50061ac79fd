// SPDX-License-Identifier: MIT
/*
 * Syscalls that change an inode's attributes: truncate, chmod, chown and
 * utimensat in their path, descriptor and *at forms, and umask.  The
 * program is root, so every change is allowed; only /proc and /sys refuse.
 */
#include "kernel/virtio/p9.h"
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"


static unsigned umask_bits = 022;

unsigned vfs_umask(void)
{
	return umask_bits;
}

SYSCALL_DEFINE1(umask, unsigned, mask)
{
	unsigned old = umask_bits;

	umask_bits = mask & 0777;
	return old;
}

/* The inode named by (dirfd, path, flags), or the descriptor's own with
 * AT_EMPTY_PATH and "", or by fd alone when path is NULL. */
static long target(int dirfd, const char __user *upath, int flags, struct inode **out)
{
	struct walk w;

	if (!upath || ((flags & AT_EMPTY_PATH) && vfs_empty_path(upath))) {
		struct file *f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		if (!f->inode)
			return -EINVAL;
		*out = f->inode;
		return 0;
	}
	long r = vfs_walk_at(dirfd, upath, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
	if (r == 0 && w.dir && w.dir->gen)
		r = -EPERM;
	*out = w.inode;
	return r;
}

SYSCALL_DEFINE2(truncate, const char __user *, upath, int64_t, len)
{
	struct inode *ino;
	long r = target(AT_FDCWD, upath, 0, &ino);

	if (r < 0)
		return r;
	if ((ino->mode & S_IFMT) == S_IFDIR)
		return -EISDIR;
	if ((ino->mode & S_IFMT) != S_IFREG || len < 0)
		return -EINVAL;
	return mfs_truncate(ino, len);
}

static long chmod_at(int dirfd, const char __user *upath, unsigned mode, int flags)
{
	struct inode *ino;
	long r = target(dirfd, upath, flags, &ino);

	if (r < 0)
		return r;
	if ((ino->mode & S_IFMT) == S_IFLNK)
		return -EOPNOTSUPP;
	if (mfs_where(ino) != MFS_LOCAL &&
	    (r = mfs_remote_setattr(ino, P9_ATTR_MODE, mode & 07777, 0, 0)) < 0)
		return r;
	ino->mode = (ino->mode & S_IFMT) | (mode & 07777);
	mfs_touch(ino, false);
	ino->ctime = ino->atime;
	return 0;
}

SYSCALL_DEFINE3(fchmodat, int, dirfd, const char __user *, path, unsigned, mode)
{
	return chmod_at(dirfd, path, mode, 0);
}

SYSCALL_DEFINE2(chmod, const char __user *, path, unsigned, mode)
{
	return chmod_at(AT_FDCWD, path, mode, 0);
}

SYSCALL_DEFINE2(fchmod, int, fd, unsigned, mode)
{
	return chmod_at(fd, NULL, mode, 0);
}

static long chown_at(int dirfd, const char __user *upath, int uid, int gid, int flags)
{
	struct inode *ino;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long r = target(dirfd, upath, flags, &ino);
	if (r < 0)
		return r;
	if (mfs_where(ino) != MFS_LOCAL && (uid != -1 || gid != -1))
		return -EROFS; /* host files keep their owners (docs/9p.md) */
	if (uid != -1)
		ino->uid = uid;
	if (gid != -1)
		ino->gid = gid;
	if ((uid != -1 || gid != -1) && (ino->mode & S_IFMT) == S_IFREG)
		ino->mode &= ~06000; /* chown clears set-id bits, as on Linux */
	return 0;
}

SYSCALL_DEFINE5(fchownat, int, dirfd, const char __user *, path, int, uid, int, gid, int, flags)
{
	return chown_at(dirfd, path, uid, gid, flags);
}

SYSCALL_DEFINE3(chown, const char __user *, path, int, uid, int, gid)
{
	return chown_at(AT_FDCWD, path, uid, gid, 0);
}

SYSCALL_DEFINE3(lchown, const char __user *, path, int, uid, int, gid)
{
	return chown_at(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE3(fchown, int, fd, int, uid, int, gid)
{
	return chown_at(fd, NULL, uid, gid, 0);
}

static long pick(const struct timespec *t, int64_t now, int64_t *out)
{
	if (t->tv_nsec == UTIME_OMIT)
		return 0;
	if (t->tv_nsec == UTIME_NOW) {
		*out = now;
		return 0;
	}
	if (t->tv_nsec < 0 || t->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	*out = t->tv_sec * NSEC_PER_SEC + t->tv_nsec;
	return 0;
}

SYSCALL_DEFINE4(utimensat, int, dirfd, const char __user *, upath, const struct timespec __user *,
		utimes, int, flags)
{
	struct timespec t[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct inode *ino;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (utimes && copy_from_user(t, utimes, sizeof(t)) < 0)
		return -EFAULT;
	long r = target(dirfd, upath, flags, &ino);
	if (r < 0)
		return r;
	int64_t now = clock_realtime_ns(), a = ino->atime, m = ino->mtime;
	if ((r = pick(&t[0], now, &a)) < 0 || (r = pick(&t[1], now, &m)) < 0)
		return r;
	if (mfs_where(ino) != MFS_LOCAL &&
	    (r = mfs_remote_setattr(ino,
				    P9_ATTR_ATIME | P9_ATTR_ATIME_SET | P9_ATTR_MTIME |
					    P9_ATTR_MTIME_SET | P9_ATTR_CTIME,
				    0, a, m)) < 0)
		return r;
	ino->atime = a;
	ino->mtime = m;
	ino->ctime = now;
	return 0;
}

/* Extended attributes: minifs stores none.  Reading one answers -ENODATA
 * (no such attribute) for an existing file, listing finds none, and
 * setting one is refused with -EOPNOTSUPP rather than silently dropped. */
static long xattr_target(int fd, const char __user *upath, bool follow)
{
	struct inode *ino;

	return target(fd, upath, follow ? 0 : AT_SYMLINK_NOFOLLOW, &ino);
}

SYSCALL_DEFINE4(getxattr, const char __user *, path, const char __user *, name, void __user *, value,
		size_t, size)
{
	(void)name, (void)value, (void)size;
	long r = xattr_target(AT_FDCWD, path, true);
	return r < 0 ? r : -ENODATA;
}

SYSCALL_DEFINE4(lgetxattr, const char __user *, path, const char __user *, name, void __user *, value,
		size_t, size)
{
	(void)name, (void)value, (void)size;
	long r = xattr_target(AT_FDCWD, path, false);
	return r < 0 ? r : -ENODATA;
}

SYSCALL_DEFINE4(fgetxattr, int, fd, const char __user *, name, void __user *, value, size_t, size)
{
	(void)name, (void)value, (void)size;
	long r = xattr_target(fd, NULL, true);
	return r < 0 ? r : -ENODATA;
}

SYSCALL_DEFINE3(listxattr, const char __user *, path, char __user *, list, size_t, size)
{
	(void)list, (void)size;
	long r = xattr_target(AT_FDCWD, path, true);
	return r < 0 ? r : 0;
}

SYSCALL_DEFINE3(llistxattr, const char __user *, path, char __user *, list, size_t, size)
{
	(void)list, (void)size;
	long r = xattr_target(AT_FDCWD, path, false);
	return r < 0 ? r : 0;
}

SYSCALL_DEFINE3(flistxattr, int, fd, char __user *, list, size_t, size)
{
	(void)list, (void)size;
	long r = xattr_target(fd, NULL, true);
	return r < 0 ? r : 0;
}

SYSCALL_DEFINE5(setxattr, const char __user *, path, const char __user *, name, const void __user *,
		value, size_t, size, int, flags)
{
	(void)name, (void)value, (void)size, (void)flags;
	long r = xattr_target(AT_FDCWD, path, true);
	return r < 0 ? r : -EOPNOTSUPP;
}

SYSCALL_DEFINE5(fsetxattr, int, fd, const char __user *, name, const void __user *, value, size_t, size,
		int, flags)
{
	(void)name, (void)value, (void)size, (void)flags;
	long r = xattr_target(fd, NULL, true);
	return r < 0 ? r : -EOPNOTSUPP;
}
