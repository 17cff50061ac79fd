// SPDX-License-Identifier: MIT
/*
 * Syscalls that read or change directories: getdents64, getcwd, chdir,
 * fchdir, mkdir, rmdir, unlink, rename (with RENAME_NOREPLACE and
 * RENAME_EXCHANGE), link and symlink, each with Linux's error answers.
 */
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

static bool is_dir(const struct inode *i)
{
	return (i->mode & S_IFMT) == S_IFDIR;
}

/* Emits one record; false when it does not fit. */
static bool emit(char *buf, size_t size, size_t *len, const char *name, size_t nlen, uint64_t ino,
		 uint8_t type, uint64_t next)
{
	size_t rec = (offsetof(struct linux_dirent64, d_name) + nlen + 1 + 7) & ~7UL;

	if (*len + rec > size)
		return false;
	struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + *len);
	d->d_ino = ino;
	d->d_off = next;
	d->d_reclen = rec;
	d->d_type = type;
	memcpy(d->d_name, name, nlen);
	memset(d->d_name + nlen, 0, rec - offsetof(struct linux_dirent64, d_name) - nlen);
	*len += rec;
	return true;
}

/* The position is an index: 0 is ".", 1 "..", then the entries in order.
 * A host-backed directory is listed from a snapshot taken at position 0
 * (minifs/remote.c), kept in f->priv until the next rewind or the close. */
SYSCALL_DEFINE3(getdents64, int, fd, void __user *, ubuf, unsigned, size)
{
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (!f->inode || !is_dir(f->inode))
		return -ENOTDIR;
	struct inode *dir = f->inode;
	if (dir->nlink == 0)
		return -ENOENT; /* removed while open */
	size = MIN(size, 65536u);
	char *buf = kmalloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	mfs_lock();
	if (dir->gen && dir->gen->fill && f->off == 0)
		dir->gen->fill(dir);
	long r = 0;
	if (dir->remote && (f->off == 0 || !f->priv)) {
		mfs_dirsnap_free(f->priv);
		f->priv = NULL;
		r = mfs_remote_snapshot(dir, (struct mfs_dirsnap **)&f->priv);
	}
	size_t len = 0;
	uint64_t i = 0;
	bool full = false;
	/* f->off moves past an entry only once it is in the buffer. */
	if (r == 0 && f->off == i && !(full = !emit(buf, size, &len, ".", 1, dir->ino, DT_DIR, i + 1)))
		f->off++;
	if (r == 0 && !full && f->off == ++i &&
	    !(full = !emit(buf, size, &len, "..", 2, dir->parent->ino, DT_DIR, i + 1)))
		f->off++;
	struct mfs_dirent e;
	const char *name;
	if (f->priv)
		while (!full && mfs_dirsnap_get(f->priv, f->off - 2, &e, &name))
			if (!(full = !emit(buf, size, &len, name, e.len, e.ino, e.type, f->off + 1)))
				f->off++;
	for (struct dentry *d = dir->children; d && !full && !f->priv; d = d->next)
		if (f->off == ++i && !(full = !emit(buf, size, &len, d->name, d->len, d->inode->ino,
						    mfs_dtype(d->inode), i + 1)))
			f->off++;
	mfs_unlock();
	if (r == 0)
		r = len == 0 && full ? -EINVAL : (long)len;
	if (len && copy_to_user(ubuf, buf, len) < 0)
		r = -EFAULT;
	kfree(buf);
	return r;
}

SYSCALL_DEFINE2(getcwd, char __user *, ubuf, size_t, size)
{
	char *buf = kmalloc(PATH_MAX);

	if (!buf)
		return -ENOMEM;
	mfs_lock();
	long n = mfs_dir_path(vfs_cwd(), buf, PATH_MAX);
	mfs_unlock();
	if (n >= 0 && (size_t)n + 1 > size)
		n = -ERANGE;
	if (n >= 0 && copy_to_user(ubuf, buf, n + 1) < 0)
		n = -EFAULT;
	kfree(buf);
	return n < 0 ? n : n + 1;
}

SYSCALL_DEFINE1(chdir, const char __user *, upath)
{
	struct walk w;
	long r = vfs_walk_at(AT_FDCWD, upath, WALK_FOLLOW, &w);

	if (r < 0)
		return r;
	if (!is_dir(w.inode))
		return -ENOTDIR;
	vfs_set_cwd(w.inode);
	return 0;
}

SYSCALL_DEFINE1(fchdir, int, fd)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (!f->inode || !is_dir(f->inode))
		return -ENOTDIR;
	vfs_set_cwd(f->inode);
	return 0;
}

/* The parent directory and name of a path whose last part is to be made. */
static long new_entry(int dirfd, const char __user *upath, struct walk *w)
{
	long r = vfs_walk_at(dirfd, upath, WALK_PARENT, w);

	if (r < 0)
		return r;
	if (w->inode)
		return -EEXIST;
	if (w->dir->nlink == 0)
		return -ENOENT; /* a removed directory takes no new entries */
	if (w->dir->gen)
		return -EPERM; /* /proc and /sys take no new entries */
	return 0;
}

SYSCALL_DEFINE3(mkdirat, int, dirfd, const char __user *, upath, unsigned, mode)
{
	struct walk w;
	long r = new_entry(dirfd, upath, &w);

	if (r < 0)
		return r;
	if (mfs_where(w.dir) != MFS_LOCAL)
		return mfs_remote_mkdir(w.dir, w.name, mode & 07777 & ~vfs_umask());
	mfs_lock();
	struct inode *ino = mfs_create(w.dir, w.name, S_IFDIR | (mode & 07777 & ~vfs_umask()));
	mfs_unlock();
	return ino ? 0 : -ENOSPC;
}

SYSCALL_DEFINE2(mkdir, const char __user *, path, unsigned, mode)
{
	return do_sys_mkdirat(AT_FDCWD, path, mode);
}

static long remove(int dirfd, const char __user *upath, bool want_dir)
{
	struct walk w;
	long r = vfs_walk_at(dirfd, upath, 0, &w);

	if (r < 0)
		return r;
	if (!w.dir || w.inode == mfs_root)
		return -EBUSY;
	if (want_dir) {
		if (!is_dir(w.inode))
			return -ENOTDIR;
		if (w.len == 1 && w.name[0] == '.')
			return -EINVAL;
		if (w.len == 2 && w.name[0] == '.' && w.name[1] == '.')
			return -ENOTEMPTY;
		if (w.inode->children && !mfs_remote_volume(w.inode))
			return -ENOTEMPTY; /* a volume's host says (the tree holds what was looked up) */
	} else if (is_dir(w.inode)) {
		return -EISDIR;
	}
	if (w.dir->gen)
		return -EPERM;
	if (mfs_where(w.inode) != MFS_LOCAL)
		return mfs_remote_unlink(w.dir, w.name, w.inode, want_dir);
	mfs_lock();
	r = mfs_unlink(w.dir, w.name, w.len);
	mfs_unlock();
	return r;
}

SYSCALL_DEFINE3(unlinkat, int, dirfd, const char __user *, upath, int, flags)
{
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	return remove(dirfd, upath, flags & AT_REMOVEDIR);
}

SYSCALL_DEFINE1(unlink, const char __user *, path)
{
	return remove(AT_FDCWD, path, false);
}

SYSCALL_DEFINE1(rmdir, const char __user *, path)
{
	return remove(AT_FDCWD, path, true);
}

static bool is_ancestor(const struct inode *a, const struct inode *d)
{
	for (; d != mfs_root; d = d->parent)
		if (d == a)
			return true;
	return a == mfs_root;
}

/* Checks of rename(2) once both ends are known (to may be missing). */
static long rename_check(struct walk *from, struct walk *to, unsigned flags)
{
	struct inode *s = from->inode, *t = to->inode;

	if (!from->dir || (from->len <= 2 && from->name[0] == '.'))
		return -EBUSY;
	if (from->dir->gen || to->dir->gen)
		return -EPERM;
	if (is_dir(s) && is_ancestor(s, to->dir))
		return -EINVAL;
	if (!t)
		return (flags & RENAME_EXCHANGE) ? -ENOENT : 0;
	if (flags & RENAME_NOREPLACE)
		return -EEXIST;
	if (flags & RENAME_EXCHANGE)
		return is_dir(t) && is_ancestor(t, from->dir) ? -EINVAL : 0;
	if (is_dir(s) && !is_dir(t))
		return -ENOTDIR;
	if (!is_dir(s) && is_dir(t))
		return -EISDIR;
	if (is_dir(t) && t->children && !mfs_remote_volume(t))
		return -ENOTEMPTY;
	return 0;
}

SYSCALL_DEFINE5(renameat2, int, olddir, const char __user *, oldp, int, newdir, const char __user *,
		newp, unsigned, flags)
{
	struct walk from, to;

	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)))
		return -EINVAL;
	long r = vfs_walk_at(olddir, oldp, 0, &from);
	if (r == 0)
		r = vfs_walk_at(newdir, newp, WALK_PARENT, &to);
	if (r == 0)
		r = rename_check(&from, &to, flags);
	if (r < 0 || from.inode == to.inode)
		return r;
	if (r == 0 && (mfs_where(from.inode) != MFS_LOCAL || mfs_where(to.dir) != MFS_LOCAL)) {
		if (flags)
			return -EINVAL; /* 9P's Trenameat has no flags */
		r = mfs_remote_rename(from.inode, from.dir, from.name, to.dir, to.name);
		if (r < 0)
			return r;
	}
	struct inode *s = from.inode, *t = to.inode;
	mfs_get(s);
	if (t)
		mfs_get(t);
	mfs_lock();
	mfs_unlink(from.dir, from.name, from.len);
	if (t)
		mfs_unlink(to.dir, to.name, to.len);
	r = mfs_link(to.dir, to.name, to.len, s);
	if (r == 0 && is_dir(s))
		s->nlink++; /* its "." went with the unlink */
	if (r == 0 && t && (flags & RENAME_EXCHANGE)) {
		r = mfs_link(from.dir, from.name, from.len, t);
		if (r == 0 && is_dir(t))
			t->nlink++;
	}
	mfs_unlock();
	mfs_put(s);
	if (t)
		mfs_put(t);
	return r;
}

SYSCALL_DEFINE4(renameat, int, olddir, const char __user *, oldp, int, newdir, const char __user *, newp)
{
	return do_sys_renameat2(olddir, oldp, newdir, newp, 0);
}

SYSCALL_DEFINE2(rename, const char __user *, oldp, const char __user *, newp)
{
	return do_sys_renameat2(AT_FDCWD, oldp, AT_FDCWD, newp, 0);
}

SYSCALL_DEFINE5(linkat, int, olddir, const char __user *, oldp, int, newdir, const char __user *, newp,
		int, flags)
{
	struct walk from, to;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	long r = vfs_walk_at(olddir, oldp, (flags & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0, &from);
	if (r < 0)
		return r;
	if (is_dir(from.inode))
		return -EPERM;
	r = new_entry(newdir, newp, &to);
	if (r < 0)
		return r;
	if ((mfs_where(from.inode) != MFS_LOCAL || mfs_where(to.dir) != MFS_LOCAL) &&
	    (r = mfs_remote_link(from.inode, to.dir, to.name)) < 0)
		return r;
	mfs_lock();
	r = mfs_link(to.dir, to.name, to.len, from.inode);
	mfs_unlock();
	return r;
}

SYSCALL_DEFINE2(link, const char __user *, oldp, const char __user *, newp)
{
	return do_sys_linkat(AT_FDCWD, oldp, AT_FDCWD, newp, 0);
}

SYSCALL_DEFINE3(symlinkat, const char __user *, utarget, int, newdir, const char __user *, newp)
{
	char *target = kmalloc(PATH_MAX);
	struct walk w;

	if (!target)
		return -ENOMEM;
	long r = strncpy_from_user(target, utarget, PATH_MAX);
	if (r == 0)
		r = -ENOENT;
	if (r > 0)
		r = new_entry(newdir, newp, &w);
	struct inode *ino = NULL;
	if (r == 0 && mfs_where(w.dir) != MFS_LOCAL) {
		r = mfs_remote_symlink(w.dir, w.name, target);
		kfree(target);
		return r;
	}
	if (r == 0) {
		mfs_lock();
		ino = mfs_create(w.dir, w.name, S_IFLNK | 0777);
		mfs_unlock();
	}
	if (r == 0 && !ino)
		r = -ENOSPC;
	if (r == 0) {
		ino->target = target;
		ino->size = strlen(target);
		return 0;
	}
	kfree(target);
	return r;
}

SYSCALL_DEFINE2(symlink, const char __user *, target, const char __user *, newp)
{
	return do_sys_symlinkat(target, AT_FDCWD, newp);
}
