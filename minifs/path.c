// SPDX-License-Identifier: MIT
/*
 * Path walks, as Linux does them: components are looked up one by one from
 * the root or a starting directory, "." and ".." included; a symlink in the
 * middle is always followed, in the last component only on request; 40
 * links at most (-ELOOP); a component longer than NAME_MAX and a path
 * longer than PATH_MAX are -ENAMETOOLONG; a trailing slash asks for a
 * directory.  Synthetic directories (/proc) are refilled before a lookup.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "minifs/minifs.h"

#define MAX_LINKS 40

static bool is_dir(const struct inode *i)
{
	return (i->mode & S_IFMT) == S_IFDIR;
}

static bool is_link(const struct inode *i)
{
	return (i->mode & S_IFMT) == S_IFLNK;
}

/* Replaces buf with target followed by rest (a trailing slash of the
 * link's name is kept: it still asks for a directory); -ENAMETOOLONG if
 * too long. */
static long splice(char *buf, const char *target, const char *rest, bool slash)
{
	size_t t = strlen(target), r = strlen(rest);

	if (t + r + 2 > PATH_MAX)
		return -ENAMETOOLONG;
	memmove(buf + t + (r || slash ? 1 : 0), rest, r + 1);
	memcpy(buf, target, t);
	if (r || slash)
		buf[t] = '/';
	return 0;
}

static long walk(struct inode *cur, char *buf, int flags, struct walk *w)
{
	int links = 0;
	char *p = buf;

	for (;;) {
		if (*p == '/')
			cur = mfs_root;
		while (*p == '/')
			p++;
		if (!*p) { /* "/" or a path ending in slashes: the directory itself */
			w->dir = cur->parent;
			w->inode = cur;
			w->name[0] = '.';
			w->name[1] = 0;
			w->len = 1;
			w->slash = false;
			return 0;
		}
		if (!is_dir(cur))
			return -ENOTDIR;
		char *q = p;
		while (*q && *q != '/')
			q++;
		size_t len = q - p;
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		char *rest = q;
		while (*rest == '/')
			rest++;
		bool last = !*rest, slash = *q == '/';
		if (cur->gen && cur->gen->fill)
			cur->gen->fill(cur);
		struct inode *next = mfs_dir_lookup(cur, p, len);
		if (!next && cur->remote) {
			long r = mfs_remote_lookup(cur, p, len, &next);
			if (r < 0)
				return r;
		}
		if (last) {
			w->dir = cur;
			memcpy(w->name, p, len);
			w->name[len] = 0;
			w->len = len;
			w->slash = slash;
		}
		if (!next) {
			if (last && (flags & WALK_PARENT)) {
				w->inode = NULL;
				return 0;
			}
			return -ENOENT;
		}
		if (is_link(next) && (!last || slash || (flags & WALK_FOLLOW))) {
			if (++links > MAX_LINKS)
				return -ELOOP;
			long r = splice(buf, next->target, rest, slash);
			if (r < 0)
				return r;
			p = buf;
			continue; /* relative targets resolve from cur */
		}
		if (last) {
			if ((slash || (flags & WALK_DIR)) && !is_dir(next))
				return -ENOTDIR;
			w->inode = next;
			return 0;
		}
		cur = next;
		p = rest;
	}
}

long mfs_walk(struct inode *start, const char *path, int flags, struct walk *w)
{
	size_t n = strnlen(path, PATH_MAX);

	mfs_assert_locked();
	if (n == PATH_MAX)
		return -ENAMETOOLONG;
	if (n == 0)
		return -ENOENT;
	char *buf = kmalloc(PATH_MAX);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, path, n + 1);
	long r = walk(start ? start : mfs_root, buf, flags, w);
	kfree(buf);
	return r;
}

struct inode *mfs_lookup(const char *path)
{
	struct walk w;

	mfs_lock();
	long r = mfs_walk(mfs_root, path, WALK_FOLLOW, &w);
	mfs_unlock();
	return r < 0 ? NULL : w.inode;
}

const struct dentry *mfs_entry_of(const struct inode *dir, const struct inode *child)
{
	for (const struct dentry *d = dir->children; d; d = d->next)
		if (d->inode == child)
			return d;
	return NULL;
}

long mfs_dir_path(struct inode *dir, char *buf, size_t size)
{
	size_t len = 0;

	mfs_assert_locked();
	if (size < 2)
		return -ERANGE;
	buf[size - 1] = 0;
	for (struct inode *i = dir; i != mfs_root; i = i->parent) {
		const struct dentry *d = mfs_entry_of(i->parent, i);
		if (!d)
			return -ENOENT; /* removed from the tree */
		if (len + d->len + 1 >= size)
			return -ERANGE;
		len += d->len + 1;
		memcpy(buf + size - 1 - len + 1, d->name, d->len);
		buf[size - 1 - len] = '/';
	}
	if (len == 0) {
		buf[0] = '/';
		buf[1] = 0;
		return 1;
	}
	memmove(buf, buf + size - 1 - len, len + 1);
	return len;
}
