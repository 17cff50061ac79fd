/* SPDX-License-Identifier: MIT */
/*
 * Which files a dynamic program's linker opens before main: PT_INTERP, then
 * the DT_NEEDED closure, breadth first, each name found as the program's
 * own linker finds it.  glibc's ld.so: the DT_RPATH of the loader chain
 * (unless the loader has DT_RUNPATH), the loader's DT_RUNPATH,
 * /etc/ld.so.cache, the system directories; musl's: DT_RUNPATH or DT_RPATH
 * of the loader chain, then /etc/ld-musl-x86_64.path.  Objects are read
 * through their program headers, as a linker reads them (dso_read).  The
 * host's LD_LIBRARY_PATH and LD_PRELOAD are ignored on purpose: they belong
 * to elfvm's environment, not to the guest's.  This file only lists paths;
 * putting them into the image is pack.c's job (docs/packer.md).
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OBJS 4096
#define DST_LIB "lib/x86_64-linux-gnu" /* glibc's $LIB on Debian x86-64 */
#define DST_PLATFORM "x86_64"          /* AT_PLATFORM in the guest */
#define CACHE_ID 0x0303                /* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 */

/* glibc's system search path on Debian x86-64 (`ld.so --help`). */
static const char glibc_dirs[] = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib:/usr/lib";
static const char musl_default[] = "/lib:/usr/local/lib:/usr/lib";

enum ld_flavor { LD_GLIBC, LD_MUSL };

struct obj {
	char *path;   /* as the linker opens it (its l_name) */
	char *origin; /* $ORIGIN: the directory of path */
	char *name;   /* the name it was asked for */
	dev_t dev;
	ino_t ino;
	struct obj *loader;  /* the object that first needed it */
	struct dso_info dyn; /* its DT_NEEDED, DT_SONAME, paths, flags */
};

struct ld {
	enum ld_flavor flavor;
	const char *prog;        /* for messages */
	struct obj *v[MAX_OBJS]; /* every object, in load (BFS) order */
	size_t n;
	struct obj *main, *interp;
	unsigned char *cache; /* /etc/ld.so.cache, read whole, or NULL */
	size_t cache_len;
	char *musl_path; /* musl's system path */
	int (*add)(void *ctx, const char *path);
	void *ctx;
	char *why;
	size_t whyn;
	char searched[4096]; /* where the current name was looked for */
};

static int ld_fail(struct ld *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "PROGRAM: reason" to ld->why.  Returns -1. */
static int ld_fail(struct ld *ld, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(ld->why, ld->whyn, "%s: ", ld->prog);

	va_start(ap, fmt);
	if (k >= 0 && (size_t)k < ld->whyn)
		vsnprintf(ld->why + k, ld->whyn - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static char *dirname_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);

	return strndup(slash ? path : ".", len);
}

/* Opens path as the linker would.  Returns 1 with the fd in *fd, 0 when
 * the linker would search on (no such file, another class), -1 after a
 * message (not an ELF). */
static int candidate(struct ld *ld, const char *name, const char *path, int *fd)
{
	struct stat st;
	int k;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return 0;
	k = fstat(*fd, &st) == 0 && S_ISREG(st.st_mode) ? dso_kind(*fd) : 0;
	if (k == 1)
		return 1;
	close(*fd);
	if (k < 0)
		return ld_fail(ld, "%s: %s: invalid ELF header", name, path);
	return 0;
}

static void obj_free(struct obj *o)
{
	if (!o)
		return;
	dso_free(&o->dyn);
	free(o->path), free(o->origin), free(o->name);
	free(o);
}

/* Makes a new object for the file open on fd, found at path for name, and
 * appends it to the load order.  Returns it, or NULL after a message. */
static struct obj *obj_new(struct ld *ld, int fd, const char *path, const char *name, struct obj *loader)
{
	struct obj *o = calloc(1, sizeof(*o));
	struct stat st;
	Elf *e = NULL;

	if (!o || ld->n == MAX_OBJS || fstat(fd, &st) < 0)
		goto bad;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->loader = loader;
	o->path = strdup(path);
	o->origin = dirname_of(path);
	o->name = strdup(name);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!o->path || !o->origin || !o->name || !e || dso_read(e, &o->dyn) < 0)
		goto bad;
	elf_end(e);
	ld->v[ld->n++] = o;
	return o;
bad:
	if (e)
		elf_end(e);
	obj_free(o);
	ld_fail(ld, "%s: cannot read its dynamic section (%s)", path,
		ld->n == MAX_OBJS ? "too many objects"
		: elf_errno()     ? elf_errmsg(-1)
				  : "malformed");
	return NULL;
}

/* ---- where to look ---------------------------------------------------------- */

/* Is the token at s ("$NAME" or "${NAME}")?  Returns its length or 0. */
static size_t is_dst(const char *s, const char *name)
{
	size_t len = strlen(name);

	if (s[1] == '{')
		return !strncmp(s + 2, name, len) && s[2 + len] == '}' ? len + 3 : 0;
	if (strncmp(s + 1, name, len))
		return 0;
	char c = s[1 + len];
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
		       ? 0
		       : len + 1;
}

/* Expands $ORIGIN (and, for glibc, $LIB and $PLATFORM) in [s, s+len) into
 * out.  Returns 0, or -1 when the element must be dropped (too long). */
static int dst_expand(const struct ld *ld, const struct obj *o, const char *s, size_t len, char *out,
		      size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		const char *repl = NULL;
		size_t t = 0;

		if (s[i] == '$' && (t = is_dst(s + i, "ORIGIN")))
			repl = o->origin;
		else if (s[i] == '$' && ld->flavor == LD_GLIBC && (t = is_dst(s + i, "LIB")))
			repl = DST_LIB;
		else if (s[i] == '$' && ld->flavor == LD_GLIBC && (t = is_dst(s + i, "PLATFORM")))
			repl = DST_PLATFORM;
		if (t && t > len - i)
			repl = NULL; /* the token runs past the element */
		if (repl) {
			k += (size_t)snprintf(out + k, k < n ? n - k : 0, "%s", repl);
			i += t - 1;
		} else if (k < n) {
			out[k++] = s[i];
		}
	}
	if (k >= n)
		return -1;
	out[k] = '\0';
	return 0;
}

static void note_searched(struct ld *ld, const char *what)
{
	size_t k = strlen(ld->searched);

	snprintf(ld->searched + k, sizeof(ld->searched) - k, "%s%s", k ? ":" : "", what);
}

/* Looks for name in one directory.  Returns as candidate(), the path
 * where it was found in found. */
static int try_dir(struct ld *ld, const char *dir, const char *name, char *found, size_t n, int *fd)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	note_searched(ld, len ? dir : "."); /* the message shows what was tried */
	if (!len || (size_t)snprintf(found, n, "%.*s%s%s", (int)len, dir, dir[len - 1] == '/' ? "" : "/",
				     name) >= n)
		return 0;
	return candidate(ld, name, found, fd);
}

/* Searches a colon-separated list of directories, each element expanded
 * with o's $ORIGIN when o is given.  Returns as try_dir(). */
static int try_list(struct ld *ld, const struct obj *o, const char *list, const char *name, char *found,
		    size_t n, int *fd)
{
	char dir[PATH_MAX];

	for (const char *s = list; *s;) {
		size_t len = strcspn(s, ":\n");
		int r = 0;

		if (len && (!o || dst_expand(ld, o, s, len, dir, sizeof(dir)) == 0)) {
			if (!o)
				snprintf(dir, sizeof(dir), "%.*s", (int)len, s);
			if (dir[0] == '/') /* a relative one depends on the cwd: skipped */
				r = try_dir(ld, dir, name, found, n, fd);
		}
		if (r)
			return r;
		s += len + (s[len] != '\0');
	}
	return 0;
}

/* The path /etc/ld.so.cache gives for name (glibc's search_cache: the first
 * entry for x86-64 libc6 without a hwcap), or NULL. */
static const char *cache_lookup(const struct ld *ld, const char *name)
{
	static const char magic[] = "glibc-ld.so.cache1.1";
	const unsigned char *c = ld->cache;
	size_t len = ld->cache_len, base = 0, nlibs;
	uint32_t nlibs32;

	if (c && len >= 16 && !memcmp(c, "ld.so-1.7.0", 11)) { /* old format first */
		uint32_t nold;
		memcpy(&nold, c + 12, 4);
		base = (16 + (size_t)nold * 12 + 7) & ~(size_t)7;
	}
	if (!c || base > len || len - base < 48 || memcmp(c + base, magic, 20))
		return NULL;
	memcpy(&nlibs32, c + base + 20, 4);
	nlibs = nlibs32;
	for (size_t i = 0; i < nlibs && base + 48 + (i + 1) * 24 <= len; i++) {
		const unsigned char *e = c + base + 48 + i * 24;
		uint32_t flags, key, value;
		uint64_t hwcap;

		memcpy(&flags, e, 4), memcpy(&key, e + 4, 4), memcpy(&value, e + 8, 4);
		memcpy(&hwcap, e + 16, 8);
		if (flags != CACHE_ID || hwcap || base + key >= len || base + value >= len ||
		    !memchr(c + base + value, '\0', len - base - value) ||
		    strncmp((const char *)c + base + key, name, len - base - key) != 0)
			continue;
		return (const char *)c + base + value;
	}
	return NULL;
}

/* Does path lie in one of glibc's system directories? */
static int in_system_dir(const char *path)
{
	for (const char *d = glibc_dirs; *d;) {
		size_t len = strcspn(d, ":");

		if (!strncmp(path, d, len) && path[len] == '/')
			return 1;
		d += len + (d[len] != '\0');
	}
	return 0;
}

/* glibc's order (elf/dl-load.c, _dl_map_object): the DT_RPATH of the loader
 * and of its loaders up to the program, unless the loader has DT_RUNPATH;
 * the loader's own DT_RUNPATH; /etc/ld.so.cache; the system directories,
 * both skipped for a loader marked DF_1_NODEFLIB.  LD_LIBRARY_PATH would
 * come second; it is ignored (see the top). */
static int search_glibc(struct ld *ld, struct obj *loader, const char *name, char *found, size_t n,
			int *fd)
{
	const char *cached;
	int r = 0, did_main = 0;

	for (struct obj *l = loader; !loader->dyn.runpath && l && !r; l = l->loader) {
		if (l->dyn.rpath)
			r = try_list(ld, l, l->dyn.rpath, name, found, n, fd);
		did_main |= l == ld->main;
	}
	if (!r && !loader->dyn.runpath && !did_main && ld->main->dyn.rpath)
		r = try_list(ld, ld->main, ld->main->dyn.rpath, name, found, n, fd);
	if (!r && loader->dyn.runpath)
		r = try_list(ld, loader, loader->dyn.runpath, name, found, n, fd);
	if (r)
		return r;
	if (ld->cache)
		note_searched(ld, "/etc/ld.so.cache");
	cached = cache_lookup(ld, name);
	if (cached && loader->dyn.nodeflib && in_system_dir(cached))
		cached = NULL;
	if (cached && (r = candidate(ld, name, cached, fd)) != 0) {
		snprintf(found, n, "%s", cached);
		return r;
	}
	return loader->dyn.nodeflib ? 0 : try_list(ld, NULL, glibc_dirs, name, found, n, fd);
}

/* musl's order (ldso/dynlink.c, load_library): DT_RUNPATH, else DT_RPATH,
 * of the loader and of its loaders, then the system path. */
static int search_musl(struct ld *ld, struct obj *loader, const char *name, char *found, size_t n,
		       int *fd)
{
	int r = 0;

	for (struct obj *l = loader; l && !r; l = l->loader) {
		const char *rp = l->dyn.runpath ? l->dyn.runpath : l->dyn.rpath;
		if (rp)
			r = try_list(ld, l, rp, name, found, n, fd);
	}
	return r ? r : try_list(ld, NULL, ld->musl_path, name, found, n, fd);
}

/* musl answers libc, libpthread, librt, libm, libdl, libutil and libxnet
 * itself, under any version suffix. */
static int musl_reserved(const char *name)
{
	static const char *const own[] = {
		"c.", "pthread.", "rt.", "m.", "dl.", "util.", "xnet.", NULL
	};

	if (strncmp(name, "lib", 3))
		return 0;
	for (int i = 0; own[i]; i++)
		if (!strncmp(name + 3, own[i], strlen(own[i])))
			return 1;
	return 0;
}

/* The object already loaded under name (its path, the name it was asked
 * for or its SONAME), or NULL. */
static struct obj *find_loaded(struct ld *ld, const char *name)
{
	for (size_t i = 0; i < ld->n; i++) {
		struct obj *o = ld->v[i];
		if ((o->path && !strcmp(o->path, name)) || (o->name && !strcmp(o->name, name)) ||
		    (o->dyn.soname && !strcmp(o->dyn.soname, name)))
			return o;
	}
	return NULL;
}

/* Finds name for loader as its linker would and makes the object,
 * unless it is loaded already.  what describes the request for messages.
 * Returns 0, or -1 after a message. */
static int load(struct ld *ld, struct obj *loader, const char *name, const char *what)
{
	char found[PATH_MAX];
	int fd = -1, r;

	if ((ld->flavor == LD_MUSL && musl_reserved(name)) || find_loaded(ld, name))
		return 0;
	ld->searched[0] = '\0';
	if (strchr(name, '/')) {
		r = dst_expand(ld, loader, name, strlen(name), found, sizeof(found)) < 0
			    ? 0
			    : candidate(ld, name, found, &fd);
		if (r == 0)
			return ld_fail(ld, "%s (%s) not found", name, what);
	} else {
		r = (ld->flavor == LD_GLIBC ? search_glibc : search_musl)(
			ld, loader, name, found, sizeof(found), &fd);
		if (r == 0)
			return ld_fail(ld, "%s (%s) not found in %s", name, what,
				       ld->searched[0] ? ld->searched : "no directory");
	}
	if (r < 0)
		return -1;
	r = ld->add(ld->ctx, found); /* the guest must find it where ld.so looks */
	if (r < 0) {
		close(fd);
		return ld_fail(ld, "%s: %s", found, strerror(-r));
	}
	r = 0;
	struct stat st;
	if (fstat(fd, &st) == 0)
		for (size_t i = 0; i < ld->n; i++)
			if (ld->v[i]->dev == st.st_dev && ld->v[i]->ino == st.st_ino)
				r = 1; /* the same file by another name: one object */
	if (!r && !obj_new(ld, fd, found, name, loader))
		r = -1;
	close(fd);
	return r < 0 ? -1 : 0;
}

/* Loads the DT_NEEDED of every object from index from on, breadth first as
 * _dl_map_object_deps does, so that each object's loader chain is ld.so's. */
static int closure(struct ld *ld, size_t from)
{
	char what[PATH_MAX + 16];

	for (size_t i = from; i < ld->n; i++) {
		struct obj *o = ld->v[i];

		snprintf(what, sizeof(what), "needed by %s", o->path);
		for (size_t k = 0; k < o->dyn.nneeded; k++)
			if (load(ld, o, o->dyn.needed[k], what) < 0)
				return -1;
	}
	return 0;
}

/* ---- the whole resolution -------------------------------------------------- */

/* Reads a small file whole (NUL-terminated), or returns NULL. */
static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf = NULL;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (64 << 20) &&
	    (buf = malloc((size_t)st.st_size + 1)) && read(fd, buf, (size_t)st.st_size) == st.st_size) {
		buf[st.st_size] = '\0';
		*len = (size_t)st.st_size;
	} else {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* The program's object, read from memory: it is the first of the load
 * order and has no name to be found by. */
static int main_obj(struct ld *ld, const struct prog_file *p)
{
	struct obj *o = calloc(1, sizeof(*o));
	Elf *e = elf_memory((char *)p->data, p->size);
	struct stat st;
	int r = -1;

	if (o && e && (o->path = strdup(p->path)) && (o->origin = dirname_of(p->path)) &&
	    dso_read(e, &o->dyn) == 0) {
		if (stat(p->path, &st) == 0)
			o->dev = st.st_dev, o->ino = st.st_ino;
		ld->v[ld->n++] = ld->main = o;
		r = 0;
	} else {
		obj_free(o);
		ld_fail(ld, "cannot read its dynamic section");
	}
	if (e)
		elf_end(e);
	return r;
}

/* The interpreter: opened by its PT_INTERP path; glibc's ld.so answers to
 * that path and to its SONAME, musl's to libc's names as well. */
static int interp_obj(struct ld *ld, const char *interp)
{
	int fd, r = candidate(ld, interp, interp, &fd);

	if (r == 0)
		return ld_fail(ld,
			       "its interpreter %s (PT_INTERP) not found or not "
			       "an x86-64 ELF",
			       interp);
	if (r < 0)
		return -1;
	r = ld->add(ld->ctx, interp);
	if (r < 0)
		ld_fail(ld, "%s: %s", interp, strerror(-r));
	else if (!(ld->interp = obj_new(ld, fd, interp, interp, NULL)))
		r = -1;
	close(fd);
	return r < 0 ? -1 : 0;
}

static void ld_free(struct ld *ld)
{
	for (size_t i = 0; i < ld->n; i++)
		obj_free(ld->v[i]);
	free(ld->cache);
	free(ld->musl_path);
	free(ld);
}

/* Sets the flavor from the interpreter's name, and reads its configuration. */
static int ld_setup(struct ld *ld, const char *interp)
{
	size_t len;

	ld->flavor = interp && needed_musl(interp) ? LD_MUSL : LD_GLIBC;
	if (ld->flavor == LD_GLIBC) {
		ld->cache = slurp("/etc/ld.so.cache", &ld->cache_len);
		return 0;
	}
	ld->musl_path = (char *)slurp("/etc/ld-musl-x86_64.path", &len);
	if (!ld->musl_path)
		ld->musl_path = strdup(musl_default);
	return ld->musl_path ? 0 : ld_fail(ld, "out of memory");
}

int needed_musl(const char *interp)
{
	const char *base = strrchr(interp, '/');

	return !strncmp(base ? base + 1 : interp, "ld-musl-", 8);
}

int needed_resolve(const struct prog_file *p, char *const *libs, int nlibs,
		   int (*add)(void *ctx, const char *path), void *ctx, char *why, size_t n)
{
	struct ld *ld;
	int r;

	if (!p->interp && nlibs == 0)
		return 0; /* a static program opens nothing */
	if (elf_version(EV_CURRENT) == EV_NONE || !(ld = calloc(1, sizeof(*ld)))) {
		snprintf(why, n, "%s: libelf cannot start", p->path);
		return -1;
	}
	ld->prog = p->path;
	ld->add = add;
	ld->ctx = ctx;
	ld->why = why;
	ld->whyn = n;
	r = ld_setup(ld, p->interp);
	if (r == 0)
		r = main_obj(ld, p);
	if (r == 0 && p->interp)
		r = interp_obj(ld, p->interp);
	if (r == 0)
		r = closure(ld, 0);
	for (int i = 0; r == 0 && i < nlibs; i++) {
		size_t from = ld->n;

		r = load(ld, ld->main, libs[i], "--lib");
		if (r == 0)
			r = closure(ld, from);
	}
	ld_free(ld);
	return r;
}
