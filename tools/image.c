/* SPDX-License-Identifier: MIT */
/*
 * What an image holds and how it is written (docs/protocol.md,
 * docs/packer.md).  An image_list names every entry of the content part
 * (directories, host files, symlinks, generated files) without reading any
 * file, so that its cache key (a hash of names and stat data) is cheap;
 * image_write_list then streams it out as cpio "newc", one file in memory
 * at a time.  The per-run part (.elfvm/exe, argv, envp) is a second
 * archive appended after it.  Host paths are mirrored as the kernel resolves
 * them: every symlink met on the way becomes a symlink entry, so the guest
 * sees the host's names.  Deciding what to list is pack.c's job.
 */
#define _GNU_SOURCE /* copy_file_range, mkostemp */
#include "tools/tools.h"
#include "minifs/minifs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the list and its name index ---------------------------------------- */

static size_t name_hash(const char *s)
{
	size_t h = 14695981039346656037u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* The index of the entry named name, or -1. */
static long find(const struct image_list *l, const char *name)
{
	if (!l->nslot)
		return -1;
	for (size_t i = name_hash(name) & (l->nslot - 1);; i = (i + 1) & (l->nslot - 1)) {
		size_t s = l->slot[i];
		if (!s)
			return -1;
		if (!strcmp(l->v[s - 1].name, name))
			return (long)(s - 1);
	}
}

/* Keeps the table at most half full.  Returns 0 or -ENOMEM. */
static int index_grow(struct image_list *l)
{
	size_t nslot = l->nslot ? l->nslot * 2 : 1024;
	size_t *slot;

	if (2 * (l->n + 1) <= l->nslot)
		return 0;
	slot = calloc(nslot, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t k = 0; k < l->n; k++) {
		size_t i = name_hash(l->v[k].name) & (nslot - 1);
		while (slot[i])
			i = (i + 1) & (nslot - 1);
		slot[i] = k + 1;
	}
	free(l->slot);
	l->slot = slot;
	l->nslot = nslot;
	return 0;
}

static void entry_free(struct image_entry *e)
{
	free(e->name);
	free(e->src);
	free(e->data);
}

/* Appends e (taking its allocations) or, when its name is listed already,
 * replaces that entry: a later entry wins, as in the image itself.  A
 * directory is never replaced by something else, nor repeated.  Returns 0,
 * -ENOMEM or -EISDIR; e is freed on failure. */
static int put(struct image_list *l, struct image_entry *e)
{
	long k = find(l, e->name);

	if (k >= 0 && (l->v[k].kind == IMAGE_DIR || e->kind == IMAGE_DIR)) {
		int same = l->v[k].kind == e->kind;
		if (same && e->kind == IMAGE_DIR && e->mtime) /* a real one wins */
			l->v[k].mode = e->mode, l->v[k].mtime = e->mtime;
		entry_free(e);
		return same ? 0 : l->v[k].kind == IMAGE_DIR ? -EISDIR : -ENOTDIR;
	}
	if (k >= 0) {
		entry_free(&l->v[k]);
		l->v[k] = *e;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct image_entry *v = realloc(l->v, cap * sizeof(*v));
		if (v)
			l->v = v, l->cap = cap;
	}
	if (l->n == l->cap || index_grow(l) < 0) {
		entry_free(e);
		return -ENOMEM;
	}
	size_t i = name_hash(e->name) & (l->nslot - 1);
	while (l->slot[i])
		i = (i + 1) & (l->nslot - 1);
	l->slot[i] = l->n + 1;
	l->v[l->n++] = *e;
	return 0;
}

/* Lists every missing parent directory of name, with the mode of the
 * host directory of the same path when there is one (so /tmp is 1777),
 * else 0755.  Returns 0, -ENOMEM, or -ENOTDIR when a parent is listed as
 * something else. */
static int parents(struct image_list *l, const char *name)
{
	char host[PATH_MAX];

	for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
		struct image_entry e = { .kind = IMAGE_DIR, .mode = 040755 };
		struct stat st;
		long k;

		if (s == name)
			continue;
		snprintf(host, sizeof(host), "/%.*s", (int)(s - name), name);
		k = find(l, host + 1);
		if (k >= 0 && l->v[k].kind != IMAGE_DIR)
			return -ENOTDIR;
		if (k >= 0)
			continue;
		if (stat(host, &st) == 0 && S_ISDIR(st.st_mode))
			e.mode = 040000 | (st.st_mode & 07777);
		if (!(e.name = strdup(host + 1)) || put(l, &e) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Lists e after its parents; name is a guest path, with or without its
 * leading '/'.  Takes e's allocations.  Returns 0 or -errno. */
static int add(struct image_list *l, const char *name, struct image_entry *e)
{
	int r;

	while (*name == '/')
		name++;
	e->name = strdup(name);
	if (!e->name || !*name) {
		entry_free(e);
		return *name ? -ENOMEM : -EISDIR; /* "/" itself is always there */
	}
	r = parents(l, e->name);
	if (r < 0) {
		entry_free(e);
		return r;
	}
	return put(l, e);
}

int image_add_dir(struct image_list *l, const char *name, uint32_t mode, uint32_t mtime)
{
	struct image_entry e = { .kind = IMAGE_DIR, .mode = 040000 | (mode & 07777), .mtime = mtime };
	return add(l, name, &e);
}

int image_add_link(struct image_list *l, const char *name, const char *target, uint32_t mtime)
{
	struct image_entry e = { .kind = IMAGE_LINK,
				 .mode = 0120777,
				 .mtime = mtime,
				 .src = strdup(target),
				 .size = strlen(target) };
	return e.src ? add(l, name, &e) : -ENOMEM;
}

int image_add_data(struct image_list *l, const char *name, uint32_t mode, const void *data, size_t size,
		   uint32_t mtime)
{
	struct image_entry e = { .kind = IMAGE_DATA,
				 .mode = 0100000 | (mode & 07777),
				 .mtime = mtime,
				 .data = malloc(size ? size : 1),
				 .size = size };

	if (!e.data)
		return -ENOMEM;
	memcpy(e.data, data, size);
	return add(l, name, &e);
}

int image_add_file(struct image_list *l, const char *name, const char *host, const struct stat *st)
{
	struct image_entry e = {
		.kind = IMAGE_FILE,
		.mode = 0100000 | (st->st_mode & 07777),
		.mtime = (uint32_t)st->st_mtime,
		.src = strdup(host),
		.size = (size_t)st->st_size,
		.ino = st->st_ino,
		.dev = st->st_dev,
		.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
	};
	return e.src ? add(l, name, &e) : -ENOMEM;
}

/* ---- host paths and guest paths -------------------------------------------- */

struct host_walk {
	struct image_list *l;
	uint32_t mtime; /* of the link just read */
};

static int host_readlink(void *ctx, const char *p, char *t, size_t tn)
{
	struct host_walk *w = ctx;
	struct stat st;
	ssize_t len;

	if (lstat(p, &st) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode))
		return 1;
	len = readlink(p, t, tn);
	if (len < 0)
		return -errno;
	if (len == 0 || (size_t)len >= tn)
		return len ? -ENAMETOOLONG : -ENOENT;
	t[len] = '\0';
	w->mtime = (uint32_t)st.st_mtime;
	return 0;
}

static int host_link_seen(void *ctx, const char *p, const char *t)
{
	struct host_walk *w = ctx;

	return image_add_link(w->l, p, t, w->mtime);
}

int image_mirror(struct image_list *l, const char *path, char *real, size_t n)
{
	struct host_walk w = { .l = l };

	if (path[0] != '/')
		return -EINVAL;
	return namei_walk(path, real, n, host_readlink, host_link_seen, &w);
}

static int list_readlink(void *ctx, const char *p, char *t, size_t tn)
{
	const struct image_list *l = ctx;
	long k = find(l, p + 1);

	if (k < 0 || l->v[k].kind != IMAGE_LINK)
		return 1;
	if ((size_t)snprintf(t, tn, "%s", l->v[k].src) >= tn)
		return -ENAMETOOLONG;
	return 0;
}

int image_resolve(const struct image_list *l, const char *guest, char *out, size_t n)
{
	return namei_walk(guest, out, n, list_readlink, NULL, (void *)l);
}

void image_list_free(struct image_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->v[i]);
	free(l->v);
	free(l->slot);
	memset(l, 0, sizeof(*l));
}

/* ---- the cache key ------------------------------------------------------------ */

/* FNV-1a, 128 bits: no attacker chooses these inputs, so a fast hash with
 * a negligible chance of accidental collision is enough. */
struct fnv128 {
	unsigned __int128 h;
};

static void fnv(struct fnv128 *f, const void *p, size_t n)
{
	const unsigned __int128 prime = ((unsigned __int128)1 << 88) + 0x13b;
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		f->h = (f->h ^ b[i]) * prime;
}

void image_key(const struct image_list *l, char hex[33])
{
	static const char version[] = "elfvm image v1"; /* bump when the writer changes */
	struct fnv128 f = { ((unsigned __int128)0x6c62272e07bb0142u << 64) | 0x62b821756295c58du };

	fnv(&f, version, sizeof(version));
	for (size_t i = 0; i < l->n; i++) {
		const struct image_entry *e = &l->v[i];
		uint64_t num[6] = { e->kind, e->mode, e->mtime, e->size, e->ino, e->dev };

		fnv(&f, e->name, strlen(e->name) + 1);
		fnv(&f, num, sizeof(num));
		fnv(&f, &e->mtime_ns, sizeof(e->mtime_ns));
		if (e->src)
			fnv(&f, e->src, strlen(e->src) + 1);
		if (e->data)
			fnv(&f, e->data, e->size);
	}
	for (int i = 0; i < 32; i++)
		hex[i] = "0123456789abcdef"[(unsigned)(f.h >> (124 - 4 * i)) & 0xf];
	hex[32] = '\0';
}

/* ---- writing ------------------------------------------------------------------ */

int image_write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int image_copy_fd(int in, int out)
{
	static unsigned char buf[1 << 16];
	ssize_t r;

	for (;;) { /* in-kernel copy (or a reflink) when both ends allow it */
		r = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (r <= 0)
			break;
	}
	if (r == 0)
		return 0;
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EBADF &&
	    errno != EOPNOTSUPP)
		return -errno;
	while ((r = read(in, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if ((r = image_write_all(out, buf, (size_t)r)) < 0)
			return (int)r;
	}
	return 0;
}

/* Appends e's record to o, reading a host file now (mapped, so that only
 * the copy in o costs memory).  Returns 0 or -errno with why set. */
static int entry_out(struct cpio_out *o, const struct image_entry *e, char *why, size_t n)
{
	const void *data = e->kind == IMAGE_LINK ? (const void *)e->src : e->data;
	size_t size = e->kind == IMAGE_DIR ? 0 : e->size;
	struct stat st;
	void *map = NULL;
	int fd = -1, r;

	if (e->kind == IMAGE_FILE) {
		fd = open(e->src, O_RDONLY | O_CLOEXEC);
		r = fd < 0 || fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
		if (r < 0) {
			snprintf(why, n, "%s: %s", e->src,
				 r == -EINVAL ? "not a regular file" : strerror(-r));
			goto out;
		}
		size = (size_t)st.st_size;
		map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
		if (map == MAP_FAILED) {
			r = -errno;
			map = NULL;
			snprintf(why, n, "%s: %s", e->src, strerror(-r));
			goto out;
		}
		data = map;
	}
	r = cpio_add(o, e->name, e->mode, data, size, e->mtime) < 0 ? -ENOMEM : 0;
	if (r < 0)
		snprintf(why, n, "out of memory adding %s", e->name);
out:
	if (map)
		munmap(map, size);
	if (fd >= 0)
		close(fd);
	return r;
}

int image_write_list(const struct image_list *l, int fd, char *why, size_t n)
{
	struct cpio_out o = { 0 };
	int r = 0;

	for (size_t i = 0; i <= l->n && r == 0; i++) {
		if (i < l->n)
			r = entry_out(&o, &l->v[i], why, n);
		else
			r = cpio_finish(&o) < 0 ? -ENOMEM : 0;
		if (r == 0 && (i == l->n || o.len >= (1 << 20) || l->v[i].kind == IMAGE_FILE)) {
			r = image_write_all(fd, o.buf, o.len);
			if (r < 0)
				snprintf(why, n, "writing the image: %s", strerror(-r));
			o.len = 0; /* the inode numbers go on */
		}
	}
	cpio_free(&o);
	return r;
}

/* ---- the per-run part -------------------------------------------------------- */

/* Concatenates the strings of v, each ending in NUL.  Returns a malloc'd
 * buffer (length in *len), or NULL when memory runs out. */
static char *join_nul(char *const *v, size_t *len)
{
	size_t n = 0;
	char *buf, *p;

	for (int i = 0; v && v[i]; i++)
		n += strlen(v[i]) + 1;
	buf = p = malloc(n ? n : 1);
	if (!buf)
		return NULL;
	for (int i = 0; v && v[i]; i++)
		p = stpcpy(p, v[i]) + 1;
	*len = n;
	return buf;
}

static int add_strings(struct cpio_out *o, const char *name, char *const *v, uint32_t now)
{
	size_t len;
	char *buf = join_nul(v, &len);
	int r;

	if (!buf)
		return -1;
	r = cpio_add_path(o, name, 0100644, buf, len, now);
	free(buf);
	return r;
}

/* The control files of s, then the trailer. */
static int control_build(struct cpio_out *o, const struct image_spec *s)
{
	const char *exe = s->prog->path;
	uint32_t now = (uint32_t)time(NULL);

	if (cpio_add_path(o, ".elfvm/exe", 0100644, exe, strlen(exe), now) < 0 ||
	    add_strings(o, ".elfvm/argv", s->argv, now) < 0 ||
	    add_strings(o, ".elfvm/envp", s->envp, now) < 0)
		return -ENOMEM;
	return cpio_finish(o) < 0 ? -ENOMEM : 0;
}

int image_build(struct cpio_out *o, const struct image_spec *s)
{
	const struct prog_file *p = s->prog;

	if (cpio_add_path(o, p->path + 1, p->mode, p->data, p->size, p->mtime) < 0)
		return -ENOMEM;
	return control_build(o, s);
}

int image_write_control(int fd, const struct image_spec *s)
{
	struct cpio_out o = { .next_ino = 0x40000000 }; /* clear of the content part's */
	int r = control_build(&o, s);

	if (r == 0)
		r = image_write_all(fd, o.buf, o.len);
	cpio_free(&o);
	return r;
}

int image_write(const struct cpio_out *o, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = image_write_all(fd, o->buf, o->len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int image_temp(char *path, size_t n)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(path, n, "%s/elfvm-XXXXXX", dir) >= n)
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int image_write_temp(const struct cpio_out *o, char *path, size_t n)
{
	int fd = image_temp(path, n), r;

	if (fd < 0)
		return fd;
	r = image_write_all(fd, o->buf, o->len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

int image_sealed(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	struct stat st;
	void *m = MAP_FAILED;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size > 0)
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		r = st.st_size > 0 ? -errno : 0;
		goto out;
	}
	struct cpio_entry e;
	const char *why;
	size_t off = 0;
	while (r == 0 && cpio_next(m, (size_t)st.st_size, &off, &e, &why) == 1)
		r = e.namelen == strlen(SEALED_NAME) && !memcmp(e.name, SEALED_NAME, e.namelen);
	munmap(m, (size_t)st.st_size);
out:
	if (fd >= 0)
		close(fd);
	return r;
}
