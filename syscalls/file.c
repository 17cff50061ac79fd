// SPDX-License-Identifier: MIT
/*
 * Syscalls on open descriptors: read and write in all their forms (plain,
 * positioned, vectored), lseek, ioctl, close and close_range, dup, fcntl,
 * fstat, ftruncate, fallocate, fsync, sendfile and copy_file_range.  Each
 * checks the descriptor and its access mode as Linux does; the kind of file
 * (console, minifs file, device, pipe) is behind its file_ops.
 */
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

static struct file *readable(int fd, long *err)
{
	struct file *f = fd_get(fd);

	*err = -EBADF;
	if (!f || (f->flags & O_PATH) || (f->flags & O_ACCMODE) == O_WRONLY || !f->ops->read)
		return NULL;
	return f;
}

static struct file *writable(int fd, long *err)
{
	struct file *f = fd_get(fd);

	*err = -EBADF;
	if (!f || (f->flags & O_PATH) || (f->flags & O_ACCMODE) == O_RDONLY)
		return NULL;
	if (!f->ops->write) {
		*err = f->inode && (f->inode->mode & S_IFMT) == S_IFDIR ? -EISDIR : -EINVAL;
		return NULL;
	}
	return f;
}

/* One transfer at *off (the file's offset, or pread's position). */
static long transfer(struct file *f, struct uio *u, uint64_t *off, bool wr)
{
	file_get(f); /* the op may sleep while another thread closes the fd */
	long r = wr ? f->ops->write(f, u, off) : f->ops->read(f, u, off);
	file_put(f);
	return r;
}

/* Where a call reads or writes: the file's offset (pos -1), or the
 * position pread and friends give, in *p. */
static long position(struct file *f, int64_t pos, uint64_t *p, uint64_t **off)
{
	if (pos < 0 && pos != -1)
		return -EINVAL;
	*off = &f->off;
	if (pos == -1)
		return 0;
	if (!f->ops->seekable)
		return -ESPIPE;
	*p = pos;
	*off = p;
	return 0;
}

static long rw(int fd, char __user *buf, size_t len, int64_t pos, bool wr)
{
	long err;
	struct file *f = wr ? writable(fd, &err) : readable(fd, &err);
	uint64_t p, *off;
	struct uio u;

	if (!f)
		return err;
	if ((err = position(f, pos, &p, &off)) < 0)
		return err;
	if (!user_range_ok((uint64_t)buf, len))
		return -EFAULT;
	uio_init_user(&u, buf, MIN(len, MAX_RW_COUNT));
	return transfer(f, &u, off, wr);
}

SYSCALL_DEFINE3(read, int, fd, char __user *, buf, size_t, len)
{
	return rw(fd, buf, len, -1, false);
}

SYSCALL_DEFINE3(write, int, fd, const char __user *, buf, size_t, len)
{
	return rw(fd, (char __user *)buf, len, -1, true);
}

SYSCALL_DEFINE4(pread64, int, fd, char __user *, buf, size_t, len, int64_t, pos)
{
	return pos < 0 ? -EINVAL : rw(fd, buf, len, pos, false);
}

SYSCALL_DEFINE4(pwrite64, int, fd, const char __user *, buf, size_t, len, int64_t, pos)
{
	return pos < 0 ? -EINVAL : rw(fd, (char __user *)buf, len, pos, true);
}

/* The vectored forms: the iovecs are checked up front as Linux does, then
 * moved in one transfer, so a file sees one call however they are split. */
static long rwv(int fd, const struct iovec __user *uiov, int cnt, int64_t pos, bool wr)
{
	long err;
	struct file *f = wr ? writable(fd, &err) : readable(fd, &err);
	struct iovec small[UIO_SMALL], *iov;
	uint64_t p, *off;
	struct uio u;

	if (!f)
		return err;
	if (cnt < 0 || cnt > UIO_MAXIOV)
		return -EINVAL;
	if ((err = position(f, pos, &p, &off)) < 0)
		return err;
	err = uio_import_iovec(&u, uiov, cnt, small, &iov);
	if (err >= 0)
		err = transfer(f, &u, off, wr);
	uio_free_iovec(iov, small);
	return err;
}

SYSCALL_DEFINE3(readv, int, fd, const struct iovec __user *, iov, int, cnt)
{
	return rwv(fd, iov, cnt, -1, false);
}

SYSCALL_DEFINE3(writev, int, fd, const struct iovec __user *, iov, int, cnt)
{
	return rwv(fd, iov, cnt, -1, true);
}

SYSCALL_DEFINE4(preadv, int, fd, const struct iovec __user *, iov, int, cnt, int64_t, pos)
{
	return pos < 0 ? -EINVAL : rwv(fd, iov, cnt, pos, false);
}

SYSCALL_DEFINE4(pwritev, int, fd, const struct iovec __user *, iov, int, cnt, int64_t, pos)
{
	return pos < 0 ? -EINVAL : rwv(fd, iov, cnt, pos, true);
}

SYSCALL_DEFINE3(lseek, int, fd, int64_t, off, int, whence)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (!f->ops->seekable)
		return -ESPIPE;
	if (whence == SEEK_END && f->inode)
		mfs_remote_refresh(f->inode); /* a volume file: the host's size */
	int64_t size = f->inode ? (int64_t)f->inode->size : 0, base;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = f->off; break;
	case SEEK_END: base = size; break;
	case SEEK_DATA:
	case SEEK_HOLE: /* no holes are reported: all data, then the end */
		if (off < 0 || off >= size)
			return -ENXIO;
		return f->off = whence == SEEK_DATA ? off : size;
	default: return -EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->off = base + off;
	return f->off;
}

SYSCALL_DEFINE3(ioctl, int, fd, unsigned, cmd, uint64_t, arg)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX: fd_set_cloexec(fd, cmd == FIOCLEX); return 0;
	case FIONBIO: {
		int on;
		if (copy_from_user(&on, (void *)arg, sizeof(on)) < 0)
			return -EFAULT;
		f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
		return 0;
	}
	}
	return f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
}

SYSCALL_DEFINE1(close, int, fd)
{
	return fd_close(fd);
}

SYSCALL_DEFINE3(close_range, unsigned, first, unsigned, last, unsigned, flags)
{
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last)
		return -EINVAL;
	for (uint64_t fd = first; fd <= last && fd < FD_MAX; fd++) {
		if (flags & CLOSE_RANGE_CLOEXEC)
			fd_set_cloexec(fd, true);
		else
			fd_close(fd);
	}
	return 0;
}

SYSCALL_DEFINE1(dup, int, fd)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	file_get(f);
	return fd_install(f, 0, false);
}

SYSCALL_DEFINE3(dup3, int, old, int, new, int, flags)
{
	struct file *f = fd_get(old);

	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (old == new)
		return -EINVAL;
	file_get(f);
	return fd_install_at(f, new, flags & O_CLOEXEC);
}

SYSCALL_DEFINE2(dup2, int, old, int, new)
{
	if (old == new)
		return fd_get(old) ? new : -EBADF;
	return do_sys_dup3(old, new, 0);
}

static long lock_op(struct file *f, unsigned cmd, uint64_t arg)
{
	struct {
		int16_t type, whence;
		int64_t start, len;
		int32_t pid;
	} lk;

	if (copy_from_user(&lk, (void *)arg, sizeof(lk)) < 0)
		return -EFAULT;
	if (lk.type != F_RDLCK && lk.type != F_WRLCK && lk.type != F_UNLCK)
		return -EINVAL;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	if ((cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW) && lk.pid)
		return -EINVAL;
	/* Only taking a lock needs the matching access mode; asking does not. */
	if (!get && ((lk.type == F_RDLCK && (f->flags & O_ACCMODE) == O_WRONLY) ||
		     (lk.type == F_WRLCK && (f->flags & O_ACCMODE) == O_RDONLY)))
		return -EBADF;
	/* One process: no other owner can hold a conflicting lock. */
	if (get) {
		lk.type = F_UNLCK;
		return copy_to_user((void *)arg, &lk, sizeof(lk));
	}
	return 0;
}

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC)

SYSCALL_DEFINE3(fcntl, int, fd, unsigned, cmd, uint64_t, arg)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= fd_limit())
			return -EINVAL;
		file_get(f);
		return fd_install(f, arg, cmd == F_DUPFD_CLOEXEC);
	case F_GETFD: return fd_cloexec(fd) ? FD_CLOEXEC : 0;
	case F_SETFD: fd_set_cloexec(fd, arg & FD_CLOEXEC); return 0;
	case F_GETFL: return f->flags;
	case F_SETFL: f->flags = (f->flags & ~SETFL_MASK) | (arg & SETFL_MASK); return 0;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW: return (f->flags & O_PATH) ? -EBADF : lock_op(f, cmd, arg);
	case F_GETOWN: return 0;
	case F_GETPIPE_SZ: return is_pipe(f) ? 65536 : -EBADF;
	default: return -EINVAL;
	}
}

SYSCALL_DEFINE2(fstat, int, fd, struct stat __user *, ust)
{
	struct file *f = fd_get(fd);
	struct stat st;

	if (!f)
		return -EBADF;
	if (f->inode)
		mfs_remote_refresh(f->inode); /* a volume file: the host's attributes */
	file_stat(f, &st);
	return copy_to_user(ust, &st, sizeof(st));
}

/* The regular file behind fd, open for writing; not_writable is the
 * answer when it is open read-only (ftruncate: -EINVAL, fallocate: -EBADF). */
static struct inode *regular(int fd, long *err, long not_writable)
{
	struct file *f = fd_get(fd);

	*err = -EBADF;
	if (!f || (f->flags & O_PATH))
		return NULL;
	*err = -EINVAL;
	if (!f->inode || (f->inode->mode & S_IFMT) != S_IFREG)
		return NULL;
	*err = not_writable;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return NULL;
	return f->inode;
}

SYSCALL_DEFINE2(ftruncate, int, fd, int64_t, len)
{
	long err;
	struct inode *ino = regular(fd, &err, -EINVAL);

	if (!ino)
		return err;
	return len < 0 ? -EINVAL : mfs_truncate(ino, len);
}

SYSCALL_DEFINE4(fallocate, int, fd, int, mode, int64_t, off, int64_t, len)
{
	long err;
	struct inode *ino = regular(fd, &err, -EBADF);

	if (!ino)
		return err;
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if ((uint64_t)(off + len) > ino->size && !(mode & FALLOC_FL_KEEP_SIZE))
		return mfs_truncate(ino, off + len);
	return 0;
}

/* Memory is the storage: there is nothing to flush, and nothing persists
 * after the VM ends (docs/status.md), except on a volume, whose host file
 * gets its mapped pages and a Tfsync (docs/9p.md). */
static long sync_fd(int fd, bool datasync)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (f->inode && mfs_remote_volume(f->inode) && !(f->flags & O_PATH))
		return mfs_remote_fsync(f->inode, datasync);
	return 0;
}

SYSCALL_DEFINE1(fsync, int, fd)
{
	return sync_fd(fd, false);
}

SYSCALL_DEFINE1(fdatasync, int, fd)
{
	return sync_fd(fd, true);
}

/* Copies at most len bytes from a regular file (or a generated one's
 * snapshot) to any writable file through a kernel page: the same read and
 * write ops as read(2) and write(2), on a kernel uio. */
static long copy_between(struct file *in, uint64_t *in_off, struct file *out, uint64_t *out_off,
			 size_t len)
{
	if (!in->inode || (in->inode->mode & S_IFMT) != S_IFREG)
		return -EINVAL;
	char *buf = kmalloc(PAGE_SIZE);
	long total = 0;
	struct uio u;

	if (!buf)
		return -ENOMEM;
	while ((size_t)total < len) {
		uio_init_kernel(&u, buf, MIN(len - total, PAGE_SIZE));
		long r = transfer(in, &u, in_off, false);
		if (r <= 0) {
			if (r < 0 && !total)
				total = r;
			break;
		}
		uio_init_kernel(&u, buf, r);
		long w = transfer(out, &u, out_off, true);
		if (w < 0) {
			if (!total)
				total = w;
			break;
		}
		total += w;
		if (w < r)
			break;
	}
	kfree(buf);
	return total;
}

SYSCALL_DEFINE4(sendfile, int, out_fd, int, in_fd, int64_t __user *, uoff, size_t, count)
{
	long err;
	struct file *in = readable(in_fd, &err), *out = in ? writable(out_fd, &err) : NULL;
	int64_t pos;

	if (!out)
		return err;
	if (uoff && copy_from_user(&pos, uoff, sizeof(pos)) < 0)
		return -EFAULT;
	if (uoff && pos < 0)
		return -EINVAL;
	uint64_t p = uoff ? (uint64_t)pos : in->off, dummy = out->off;
	long r = copy_between(in, &p, out, &dummy, MIN(count, MAX_RW_COUNT));
	if (r > 0 && out->ops->seekable)
		out->off = dummy;
	if (uoff) {
		pos = p;
		if (copy_to_user(uoff, &pos, sizeof(pos)) < 0)
			return -EFAULT;
	} else {
		in->off = p;
	}
	return r;
}

SYSCALL_DEFINE6(copy_file_range, int, in_fd, int64_t __user *, uin, int, out_fd, int64_t __user *, uout,
		size_t, len, unsigned, flags)
{
	long err;
	struct file *in = readable(in_fd, &err), *out = in ? writable(out_fd, &err) : NULL;
	int64_t a, b;

	if (!out)
		return err;
	if (flags)
		return -EINVAL;
	if (!in->inode || !out->inode || (in->inode->mode & S_IFMT) != S_IFREG ||
	    (out->inode->mode & S_IFMT) != S_IFREG)
		return -EINVAL;
	if ((uin && copy_from_user(&a, uin, 8) < 0) || (uout && copy_from_user(&b, uout, 8) < 0))
		return -EFAULT;
	uint64_t pi = uin ? (uint64_t)a : in->off, po = uout ? (uint64_t)b : out->off;
	long r = copy_between(in, &pi, out, &po, MIN(len, MAX_RW_COUNT));
	a = pi, b = po;
	if (uin ? copy_to_user(uin, &a, 8) < 0 : (in->off = pi, false))
		return -EFAULT;
	if (uout ? copy_to_user(uout, &b, 8) < 0 : (out->off = po, false))
		return -EFAULT;
	return r;
}
