/* SPDX-License-Identifier: MIT */
/*
 * Path resolution as the Linux kernel's namei does it, over any tree: the
 * caller says what is a symlink (the host's file system, or the links an
 * image lists), so that the packer can put each file where the guest
 * kernel will look and mirror every link met on the way.  "." and ".."
 * apply to what is resolved so far (a ".." after a link goes to the
 * target's parent), and at most MAX_LINKS links are followed.  It does not
 * check that the components exist or are directories: the callers do.
 */
#include "tools/tools.h"

#include <errno.h>
#include <string.h>

#define MAX_LINKS 40 /* Linux's MAXSYMLINKS */

/* One step of a path walk: the next component of *rest, copied to comp.
 * Returns 0 at the end. */
static int next_comp(const char **rest, char *comp, size_t n)
{
	const char *s = *rest;
	size_t len;

	while (*s == '/')
		s++;
	len = strcspn(s, "/");
	if (!len || len >= n)
		return 0;
	memcpy(comp, s, len);
	comp[len] = '\0';
	*rest = s + len;
	return 1;
}

/* Drops the last component of the resolved prefix ("" is the root). */
static void up(char *done)
{
	char *slash = strrchr(done, '/');

	*(slash ? slash : done) = '\0';
}

/* Replaces the walk's remaining path with target followed by what rest
 * still holds; an absolute target restarts at the root.  Returns 0 or
 * -ENAMETOOLONG. */
static int path_splice(char *done, char *buf, size_t n, const char *target, const char *rest)
{
	char tmp[2 * PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", target, rest) >= n)
		return -ENAMETOOLONG;
	memcpy(buf, tmp, strlen(tmp) + 1);
	if (target[0] == '/')
		done[0] = '\0';
	return 0;
}

int namei_walk(const char *path, char *real, size_t n,
	       int (*readlink_fn)(void *ctx, const char *p, char *t, size_t tn),
	       int (*seen)(void *ctx, const char *p, const char *t), void *ctx)
{
	char buf[2 * PATH_MAX], comp[NAME_MAX + 1], cand[PATH_MAX], target[PATH_MAX];
	const char *rest = buf;
	int links = 0, r;

	real[0] = '\0';
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	while (next_comp(&rest, comp, sizeof(comp))) {
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			up(real);
			continue;
		}
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", real, comp) >= sizeof(cand))
			return -ENAMETOOLONG;
		r = readlink_fn(ctx, cand, target, sizeof(target));
		if (r < 0)
			return r;
		if (r == 1) {
			if ((size_t)snprintf(real, n, "%s", cand) >= n)
				return -ENAMETOOLONG;
			continue;
		}
		if (seen && (r = seen(ctx, cand, target)) < 0)
			return r;
		if (++links > MAX_LINKS)
			return -ELOOP;
		if ((r = path_splice(real, buf, sizeof(buf), target, rest)) < 0)
			return r;
		rest = buf;
	}
	if (!real[0])
		snprintf(real, n, "/");
	return 0;
}
