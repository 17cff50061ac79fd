// SPDX-License-Identifier: MIT
/*
 * Syscalls that take path names: open, the stat family, access, readlink,
 * getdents64, the working directory, and the calls that change the tree
 * (mkdir, rmdir, unlink, rename, link, symlink, truncate, chmod, chown,
 * utimensat, umask).  Paths resolve in minifs (minifs/path.c) relative to
 * the working directory or a directory descriptor.  The program runs as
 * root, so permission bits never refuse it (X_OK still needs an x bit).
 */
#include "loader/loader.h"
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

static bool is_type(const struct inode *i, unsigned type)
{
	return (i->mode & S_IFMT) == type;
}

/* /proc/self/fd/N and its aliases reopen the file behind descriptor N. */
static long magic_fd(const char *p)
{
	static const char *const pre[] = { "/proc/self/fd/", "/proc/1/fd/", "/dev/fd/" };
	long n = -1;

	for (size_t i = 0; i < ARRAY_SIZE(pre) && n < 0; i++)
		if (strncmp(p, pre[i], strlen(pre[i])) == 0)
			p += strlen(pre[i]), n = 0;
	if (n < 0) {
		if (strcmp(p, "/dev/stdin") == 0)
			return 0;
		if (strcmp(p, "/dev/stdout") == 0)
			return 1;
		return strcmp(p, "/dev/stderr") == 0 ? 2 : -1;
	}
	if (!*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || n > FD_MAX)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

static long open_existing(struct walk *w, unsigned flags, long mode)
{
	struct inode *ino = w->inode;
	struct file *f;

	(void)mode;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if ((flags & O_DIRECTORY) && !is_type(ino, S_IFDIR))
		return -ENOTDIR;
	if (is_type(ino, S_IFLNK) && !(flags & O_PATH))
		return -ELOOP; /* O_NOFOLLOW met a link */
	if (is_type(ino, S_IFDIR) && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)))
		return -EISDIR;
	bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	long r = 0;
	if (is_type(ino, S_IFREG) && !(flags & O_PATH) && mfs_remote_volume(ino))
		r = writes && mfs_where(ino) == MFS_READONLY ? -EROFS : mfs_remote_refresh(ino);
	if (r == 0 && mfs_where(ino) == MFS_HOST && (flags & O_ACCMODE) != O_RDONLY && !(flags & O_PATH))
		r = mfs_remote_open(ino, true); /* the host's refusal comes at open */
	else if (is_type(ino, S_IFREG) && !(flags & O_PATH) && writes && mfs_where(ino) != MFS_LOCAL)
		r = -EROFS; /* a host file a sys mount brought in */
	if (r < 0)
		return r;
	if ((flags & O_TRUNC) && is_type(ino, S_IFREG) && !(flags & O_PATH) && /* even O_RDONLY */
	    (r = mfs_truncate(ino, 0)) < 0)
		return r;
	r = vfs_open(ino, flags, &f);
	if (r < 0)
		return r;
	return fd_install(f, 0, flags & O_CLOEXEC);
}

SYSCALL_DEFINE4(openat, int, dirfd, const char __user *, upath, unsigned, flags, unsigned, mode)
{
	char path[64];
	struct walk w;

	if (strncpy_from_user(path, upath, sizeof(path)) >= 0) {
		long n = magic_fd(path);
		if (n >= 0) {
			struct file *f = fd_get(n);
			if (!f)
				return -ENOENT;
			file_get(f);
			return fd_install(f, 0, flags & O_CLOEXEC);
		}
	}
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return -EOPNOTSUPP;
	int wf = (flags & O_CREAT) ? WALK_PARENT : 0;
	if (!(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL)))
		wf |= WALK_FOLLOW;
	long r = vfs_walk_at(dirfd, upath, wf, &w);
	if (r < 0)
		return r;
	if (w.inode)
		return open_existing(&w, flags, mode);
	if ((w.len == 1 && w.name[0] == '.') || w.slash)
		return -EISDIR;
	if (w.dir->nlink == 0)
		return -ENOENT; /* a removed directory takes no new entries */
	if (w.dir->gen)
		return -EACCES;
	if (mfs_where(w.dir) != MFS_LOCAL) {
		struct inode *made;
		r = mfs_remote_create(w.dir, w.name, flags, mode & 07777 & ~vfs_umask(), &made);
		if (r < 0)
			return r;
		w.inode = made;
		return open_existing(&w, flags & ~(O_EXCL | O_TRUNC), mode);
	}
	char full[PATH_MAX];
	mfs_lock();
	struct inode *ino = mfs_create(w.dir, w.name, S_IFREG | (mode & 07777 & ~vfs_umask()));
	long plen = ino ? mfs_dir_path(w.dir, full, sizeof(full)) : 0;
	mfs_unlock();
	if (!ino)
		return -ENOSPC;
	if (plen > 0 && (size_t)plen + w.len + 2 < sizeof(full)) {
		snprintf(full + plen, sizeof(full) - plen, "%s%s", plen > 1 ? "/" : "", w.name);
		ino->path = kmalloc(strlen(full) + 1);
		if (ino->path)
			memcpy(ino->path, full, strlen(full) + 1);
	}
	w.inode = ino;
	return open_existing(&w, flags & ~O_EXCL, mode);
}

SYSCALL_DEFINE3(open, const char __user *, path, unsigned, flags, unsigned, mode)
{
	return do_sys_openat(AT_FDCWD, path, flags, mode);
}

SYSCALL_DEFINE2(creat, const char __user *, path, unsigned, mode)
{
	return do_sys_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* The inode a stat-like call means: the path, or with AT_EMPTY_PATH and ""
 * the descriptor itself (any kind of file: *fp is set instead). */
static long resolve(int dirfd, const char __user *upath, int flags, struct inode **out, struct file **fp)
{
	struct walk w;

	*fp = NULL;
	if ((flags & AT_EMPTY_PATH) && vfs_empty_path(upath)) {
		*fp = fd_get(dirfd);
		if (dirfd == AT_FDCWD) {
			*fp = NULL;
			*out = vfs_cwd();
			return 0;
		}
		return *fp ? 0 : -EBADF;
	}
	long r = vfs_walk_at(dirfd, upath, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &w);
	*out = w.inode;
	return r;
}

static long stat_at(int dirfd, const char __user *upath, struct stat *st, int flags)
{
	struct inode *ino;
	struct file *f;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	long r = resolve(dirfd, upath, flags, &ino, &f);
	if (r < 0)
		return r;
	if (f && f->inode)
		mfs_remote_refresh(f->inode);
	if (f)
		return file_stat(f, st);
	long e = mfs_remote_refresh(ino); /* a volume's inode: the host's attributes */
	if (e < 0)
		return e;
	mfs_stat(ino, st);
	return 0;
}

SYSCALL_DEFINE4(newfstatat, int, dirfd, const char __user *, upath, struct stat __user *, ust, int,
		flags)
{
	struct stat st;
	long r = stat_at(dirfd, upath, &st, flags);

	return r < 0 ? r : copy_to_user(ust, &st, sizeof(st));
}

SYSCALL_DEFINE2(stat, const char __user *, path, struct stat __user *, ust)
{
	return do_sys_newfstatat(AT_FDCWD, path, ust, 0);
}

SYSCALL_DEFINE2(lstat, const char __user *, path, struct stat __user *, ust)
{
	return do_sys_newfstatat(AT_FDCWD, path, ust, AT_SYMLINK_NOFOLLOW);
}

static struct statx_timestamp stx_time(struct timespec t)
{
	return (struct statx_timestamp){ t.tv_sec, (uint32_t)t.tv_nsec, 0 };
}

SYSCALL_DEFINE5(statx, int, dirfd, const char __user *, upath, int, flags, unsigned, mask,
		struct statx __user *, ux)
{
	struct stat st;
	struct statx x;

	if (mask & STATX__RESERVED)
		return -EINVAL;
	long r = stat_at(dirfd, upath, &st, flags);
	if (r < 0)
		return r;
	memset(&x, 0, sizeof(x));
	x.stx_mask = STATX_BASIC_STATS;
	x.stx_blksize = st.st_blksize;
	x.stx_nlink = st.st_nlink;
	x.stx_uid = st.st_uid;
	x.stx_gid = st.st_gid;
	x.stx_mode = st.st_mode;
	x.stx_ino = st.st_ino;
	x.stx_size = st.st_size;
	x.stx_blocks = st.st_blocks;
	x.stx_atime = stx_time(st.st_atim);
	x.stx_ctime = stx_time(st.st_ctim);
	x.stx_mtime = stx_time(st.st_mtim);
	x.stx_rdev_major = st.st_rdev >> 8;
	x.stx_rdev_minor = st.st_rdev & 0xff;
	x.stx_dev_major = 0;
	x.stx_dev_minor = st.st_dev;
	return copy_to_user(ux, &x, sizeof(x));
}

static long fill_statfs(struct statfs __user *u)
{
	struct statfs s;

	memset(&s, 0, sizeof(s));
	s.f_type = TMPFS_MAGIC;
	s.f_bsize = s.f_frsize = PAGE_SIZE;
	s.f_blocks = mem_total_pages();
	s.f_bfree = s.f_bavail = mem_free_pages();
	s.f_files = s.f_ffree = mem_free_pages();
	s.f_namelen = NAME_MAX;
	return copy_to_user(u, &s, sizeof(s));
}

/* A volume's numbers are the host file system's. */
static long statfs_of(struct inode *ino, struct statfs __user *u)
{
	struct statfs s;

	if (!ino || !mfs_remote_volume(ino))
		return fill_statfs(u);
	long r = mfs_remote_statfs(ino, &s);
	return r < 0 ? r : copy_to_user(u, &s, sizeof(s));
}

SYSCALL_DEFINE2(statfs, const char __user *, upath, struct statfs __user *, u)
{
	struct walk w;
	long r = vfs_walk_at(AT_FDCWD, upath, WALK_FOLLOW, &w);

	return r < 0 ? r : statfs_of(w.inode, u);
}

SYSCALL_DEFINE2(fstatfs, int, fd, struct statfs __user *, u)
{
	struct file *f = fd_get(fd);

	return f ? statfs_of(f->inode, u) : -EBADF;
}

SYSCALL_DEFINE4(faccessat2, int, dirfd, const char __user *, upath, int, mode, int, flags)
{
	struct inode *ino;
	struct file *f;

	if ((mode & ~(R_OK | W_OK | X_OK)) ||
	    (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
		return -EINVAL;
	long r = resolve(dirfd, upath, flags, &ino, &f);
	if (r < 0)
		return r;
	if (f && !(ino = f->inode))
		return 0;
	if ((mode & X_OK) && !is_type(ino, S_IFDIR) && !(ino->mode & 0111))
		return -EACCES; /* root, too, needs an x bit to execute */
	return 0;
}

SYSCALL_DEFINE3(faccessat, int, dirfd, const char __user *, path, int, mode)
{
	return do_sys_faccessat2(dirfd, path, mode, 0);
}

SYSCALL_DEFINE2(access, const char __user *, path, int, mode)
{
	return do_sys_faccessat2(AT_FDCWD, path, mode, 0);
}

SYSCALL_DEFINE4(readlinkat, int, dirfd, const char __user *, upath, char __user *, buf, int, size)
{
	struct walk w;

	if (size <= 0)
		return -EINVAL;
	if (vfs_empty_path(upath)) { /* the O_PATH descriptor of a link itself */
		struct file *f = fd_get(dirfd);
		if (dirfd != AT_FDCWD && !f)
			return -EBADF;
		w.inode = f ? f->inode : NULL;
		if (!w.inode || !is_type(w.inode, S_IFLNK))
			return -ENOENT;
	} else {
		long r = vfs_walk_at(dirfd, upath, 0, &w);
		if (r < 0)
			return r;
	}
	if (!is_type(w.inode, S_IFLNK))
		return -EINVAL;
	size_t len = MIN(strlen(w.inode->target), (size_t)size);
	return copy_to_user(buf, w.inode->target, len) < 0 ? -EFAULT : (long)len;
}

SYSCALL_DEFINE3(readlink, const char __user *, path, char __user *, buf, int, size)
{
	return do_sys_readlinkat(AT_FDCWD, path, buf, size);
}

/* memfd_create: a regular file in no directory, gone with its last fd. */
SYSCALL_DEFINE2(memfd_create, const char __user *, uname, unsigned, flags)
{
	char name[250];
	struct file *f;

	if (flags & ~(1U | 2U | 4U)) /* MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB */
		return -EINVAL;
	if (flags & 4U)
		return -EINVAL; /* no huge pages here */
	long n = strncpy_from_user(name, uname, sizeof(name));
	if (n < 0)
		return n == -ENAMETOOLONG ? -EINVAL : n;
	struct inode *ino = mfs_new(S_IFREG | 0777);
	if (!ino)
		return -ENOMEM;
	ino->path = kmalloc(n + 18);
	if (ino->path)
		snprintf(ino->path, n + 18, "/memfd:%s (deleted)", name);
	long r = vfs_open(ino, O_RDWR, &f);
	if (r < 0) {
		mfs_get(ino);
		mfs_put(ino);
		return r;
	}
	return fd_install(f, 0, flags & 1);
}
