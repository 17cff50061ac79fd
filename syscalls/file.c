// SPDX-License-Identifier: MIT
/*
 * Reading and writing open files: read, write, readv, writev, lseek, ioctl,
 * close, and the stat family.  Paths resolve only to the image's files for
 * now (minifs is read-only until the file-system issue); /proc/self/exe is
 * answered here for readlink.
 */
#include "loader/loader.h"
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

SYSCALL_DEFINE3(read, int, fd, char __user *, buf, size_t, len)
{
	struct file *f = fd_get(fd);

	if (!f || !f->ops->read)
		return -EBADF;
	if (!user_range_ok((uint64_t)buf, len))
		return -EFAULT;
	return f->ops->read(f, buf, len);
}

SYSCALL_DEFINE3(write, int, fd, const char __user *, buf, size_t, len)
{
	struct file *f = fd_get(fd);

	if (!f || !f->ops->write)
		return -EBADF;
	if (!user_range_ok((uint64_t)buf, len))
		return -EFAULT;
	return f->ops->write(f, buf, len);
}

/* readv and writev: each iovec in turn; a short transfer or a fault after
 * some bytes moved ends the call with the count so far, as on Linux. */
static long do_iov(int fd, const struct iovec __user *uiov, int cnt, bool wr)
{
	struct file *f = fd_get(fd);
	struct iovec iov[64];
	long total = 0;

	if (!f || !(wr ? (void *)f->ops->write : (void *)f->ops->read))
		return -EBADF;
	if (cnt < 0 || cnt > UIO_MAXIOV)
		return -EINVAL;
	for (int i = 0; i < cnt; i += 64) {
		int n = MIN(cnt - i, 64);
		if (copy_from_user(iov, uiov + i, n * sizeof(*iov)) < 0)
			return -EFAULT;
		for (int j = 0; j < n; j++) {
			if ((int64_t)iov[j].len < 0 || (uint64_t)total + iov[j].len > (1UL << 62))
				return -EINVAL;
			if (!iov[j].len)
				continue;
			long r;
			if (!user_range_ok(iov[j].base, iov[j].len))
				r = -EFAULT;
			else if (wr)
				r = f->ops->write(f, (const char *)iov[j].base, iov[j].len);
			else
				r = f->ops->read(f, (char *)iov[j].base, iov[j].len);
			if (r < 0)
				return total ? total : r;
			total += r;
			if ((uint64_t)r < iov[j].len)
				return total;
		}
	}
	return total;
}

SYSCALL_DEFINE3(readv, int, fd, const struct iovec __user *, iov, int, cnt)
{
	return do_iov(fd, iov, cnt, false);
}

SYSCALL_DEFINE3(writev, int, fd, const struct iovec __user *, iov, int, cnt)
{
	return do_iov(fd, iov, cnt, true);
}

SYSCALL_DEFINE3(lseek, int, fd, int64_t, off, int, whence)
{
	(void)off;
	(void)whence;
	return fd_get(fd) ? -ESPIPE : -EBADF; /* the console files are pipes */
}

SYSCALL_DEFINE3(ioctl, int, fd, unsigned, cmd, uint64_t, arg)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	return f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
}

SYSCALL_DEFINE1(close, int, fd)
{
	return fd_close(fd);
}

static long stat_file(const struct mfs_file *m, struct stat __user *ust)
{
	struct stat st = {
		.st_dev = 1, .st_ino = (uint64_t)m, .st_nlink = 1, .st_mode = m->mode,
		.st_size = m->size, .st_blksize = PAGE_SIZE,
		.st_blocks = (m->size + 511) / 512,
		.st_atim = { m->mtime, 0 }, .st_mtim = { m->mtime, 0 }, .st_ctim = { m->mtime, 0 },
	};
	return copy_to_user(ust, &st, sizeof(st));
}

SYSCALL_DEFINE2(fstat, int, fd, struct stat __user *, ust)
{
	struct file *f = fd_get(fd);
	struct stat st;

	if (!f)
		return -EBADF;
	long r = f->ops->stat(f, &st);
	return r < 0 ? r : copy_to_user(ust, &st, sizeof(st));
}

/* Resolves a path against "/" (the only working directory for now). */
static long lookup(const char __user *upath, const struct mfs_file **out, char *path)
{
	long n = strncpy_from_user(path + 1, upath, 4095);

	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	const char *p = path[1] == '/' ? path + 1 : (path[0] = '/', path);
	*out = mfs_lookup(p);
	return *out ? 0 : -ENOENT;
}

SYSCALL_DEFINE4(newfstatat, int, dirfd, const char __user *, upath,
		struct stat __user *, ust, int, flags)
{
	char path[4097];
	const struct mfs_file *m;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 /* AT_NO_AUTOMOUNT */))
		return -EINVAL;
	if (flags & AT_EMPTY_PATH) {
		char c;
		if (copy_from_user(&c, upath, 1) < 0)
			return -EFAULT;
		if (c == 0)
			return do_sys_fstat(dirfd, ust);
	}
	long r = lookup(upath, &m, path);
	return r < 0 ? r : stat_file(m, ust);
}

SYSCALL_DEFINE2(stat, const char __user *, path, struct stat __user *, ust)
{
	return do_sys_newfstatat(AT_FDCWD, path, ust, 0);
}

SYSCALL_DEFINE2(lstat, const char __user *, path, struct stat __user *, ust)
{
	return do_sys_newfstatat(AT_FDCWD, path, ust, AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE4(readlinkat, int, dirfd, const char __user *, upath, char __user *, buf,
		int, size)
{
	char path[4097];
	const struct mfs_file *m;

	(void)dirfd;
	if (size <= 0)
		return -EINVAL;
	long n = strncpy_from_user(path, upath, sizeof(path));
	if (n < 0)
		return n;
	if (strcmp(path, "/proc/self/exe") == 0 || strcmp(path, "/proc/1/exe") == 0) {
		size_t len = MIN(strlen(program.exe_path), (size_t)size);
		return copy_to_user(buf, program.exe_path, len) < 0 ? -EFAULT : (long)len;
	}
	long r = lookup(upath, &m, path);
	if (r < 0)
		return r;
	if ((m->mode & S_IFMT) != S_IFLNK)
		return -EINVAL;
	size_t len = MIN(m->size, (size_t)size);
	return copy_to_user(buf, m->data, len) < 0 ? -EFAULT : (long)len;
}

SYSCALL_DEFINE3(readlink, const char __user *, path, char __user *, buf, int, size)
{
	return do_sys_readlinkat(AT_FDCWD, path, buf, size);
}

/* There is no chdir yet, so the working directory is always the root. */
SYSCALL_DEFINE2(getcwd, char __user *, buf, size_t, size)
{
	if (size < 2)
		return -ERANGE;
	return copy_to_user(buf, "/", 2) < 0 ? -EFAULT : 2;
}
