/* SPDX-License-Identifier: MIT */
/*
 * The image cache: the content part of an image (program, libraries, /etc,
 * --file and --dir; not the per-run control files) is kept in
 * $XDG_CACHE_HOME/elfvm (else ~/.cache/elfvm) as KEY.cpio, KEY being
 * image_key() of its list, a hash of names and stat data, so that a second
 * run reads no library and writes nothing there.  An entry is written under
 * a temporary name and renamed into place, so a reader sees a whole entry
 * or none; one that does not parse as a complete archive is removed and
 * rebuilt.  The least recently used entries go when there are too many.
 * Any failure of the cache itself only means building without it.
 */
#define _GNU_SOURCE /* mkostemp */
#include "tools/tools.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAX_ENTRIES 64
#define CACHE_MAX_BYTES ((off_t)4 << 30)
#define NEWC_HDR 110
#define PAD4(n) (((n) + 3) & ~(off_t)3)

int cache_dir(char *dir, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	size_t len;

	if (xdg && xdg[0] == '/')
		len = (size_t)snprintf(dir, n, "%s/elfvm", xdg);
	else if (home && home[0] == '/')
		len = (size_t)snprintf(dir, n, "%s/.cache/elfvm", home);
	else
		return -ENOENT;
	if (len >= n)
		return -ENAMETOOLONG;
	for (char *s = strchr(dir + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (!s)
			break;
		*s = '/';
	}
	return access(dir, W_OK | X_OK) < 0 ? -errno : 0;
}

static uint32_t hex8(const char *p, int *ok)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'                     ? c - '0'
			: (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
								 : -1;
		*ok &= d >= 0;
		v = v << 4 | (uint32_t)(d & 0xf);
	}
	return v;
}

/* Is the file on fd one whole cpio archive, ending in its trailer exactly
 * at the end of the file?  Only the headers are read. */
static int cache_valid(int fd)
{
	char h[NEWC_HDR + 11];
	struct stat st;
	off_t off = 0;

	if (fstat(fd, &st) < 0 || st.st_size < NEWC_HDR || st.st_size % 4)
		return 0;
	while (off + NEWC_HDR <= st.st_size) {
		int ok = pread(fd, h, sizeof(h), off) >= NEWC_HDR + 1 && !memcmp(h, "070701", 6);
		off_t namesize = hex8(h + 6 + 8 * 11, &ok), size = hex8(h + 6 + 8 * 6, &ok);

		if (!ok || namesize < 1)
			return 0;
		off += PAD4(NEWC_HDR + namesize) + PAD4(size);
		if (namesize == 11 && !memcmp(h + NEWC_HDR, "TRAILER!!!", 11))
			return off == st.st_size;
	}
	return 0;
}

struct cached {
	char name[NAME_MAX + 1];
	time_t used;
	off_t size;
};

static int older_first(const void *a, const void *b)
{
	const struct cached *x = a, *y = b;

	return (x->used > y->used) - (x->used < y->used);
}

/* Removes the least recently used entries (by access time) beyond
 * CACHE_MAX_ENTRIES or CACHE_MAX_BYTES, keeping keep, and temporary files
 * left for an hour by a writer that died. */
static void cache_prune(const char *dir, const char *keep)
{
	struct cached *v = NULL;
	size_t n = 0, cap = 0;
	off_t total = 0;
	struct dirent *d;
	DIR *dp = opendir(dir);
	int dfd = dp ? dirfd(dp) : -1;

	while (dp && (d = readdir(dp))) {
		struct stat st;
		int tmp = !strncmp(d->d_name, ".tmp-", 5);

		if ((!tmp && !strstr(d->d_name, ".cpio")) || fstatat(dfd, d->d_name, &st, 0) < 0)
			continue;
		if (tmp && st.st_mtime < time(NULL) - 3600)
			unlinkat(dfd, d->d_name, 0);
		if (tmp || !strcmp(d->d_name, keep))
			continue;
		if (n == cap) {
			struct cached *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", d->d_name);
		v[n].used = st.st_atime > st.st_mtime ? st.st_atime : st.st_mtime;
		v[n++].size = st.st_size;
		total += st.st_size;
	}
	qsort(v, n, sizeof(*v), older_first);
	for (size_t i = 0; i < n && (n - i >= CACHE_MAX_ENTRIES || total > CACHE_MAX_BYTES); i++) {
		unlinkat(dfd, v[i].name, 0);
		total -= v[i].size;
	}
	free(v);
	if (dp)
		closedir(dp);
}

/* Writes l into a new entry named name in dir.  Returns an fd open on it
 * at offset 0, or -1 (nothing left behind). */
static int cache_store(const struct image_list *l, const char *dir, const char *name)
{
	char tmp[PATH_MAX], path[PATH_MAX], why[PATH_MAX + 64];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-XXXXXX", dir, name) >= sizeof(tmp) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) < 0 || image_write_list(l, fd, why, sizeof(why)) < 0 ||
	    rename(tmp, path) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		unlink(tmp);
		close(fd);
		return -1;
	}
	cache_prune(dir, name);
	return fd;
}

int cache_open(const struct image_list *l)
{
	char dir[PATH_MAX], name[64], path[PATH_MAX + 64];
	int fd;

	if (cache_dir(dir, sizeof(dir)) < 0)
		return -1;
	image_key(l, name);
	strcat(name, ".cpio");
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && cache_valid(fd))
		return fd;
	if (fd >= 0) { /* damaged: rebuild it */
		close(fd);
		unlink(path);
	}
	return cache_store(l, dir, name);
}
