/* SPDX-License-Identifier: MIT */
/*
 * What goes into a program's image besides the control files: the program
 * at its absolute path, what its dynamic linker will open (needed.c), a
 * small /etc, and the user's --file, --dir and --lib.  Every host path is
 * mirrored with its symlinks (image_mirror), so the guest finds each file
 * under every name the host's linker used.  /etc/passwd and /etc/group are
 * written here, never copied: the guest runs as uid 0 and sees only root
 * and nobody, and no host account leaks into an image (docs/packer.md).
 * This file only lists entries; image.c writes them, cache.c keeps them.
 */
#include "tools/tools.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char etc_passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char etc_group[] = "root:x:0:\nnogroup:x:65534:\n";
static const char etc_hosts[] = /* "elfvm" is the guest's uname nodename */
	"127.0.0.1\tlocalhost\n127.0.1.1\telfvm\n::1\tlocalhost ip6-localhost ip6-loopback\n";
/* Only what glibc has built in: no NSS module is ever dlopen()ed. */
static const char etc_nsswitch[] =
	"passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
	"networks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n";
/* QEMU's user-mode network answers DNS at 10.0.2.3 (DESIGN §8) unless
 * --dns says otherwise. */
#define DEFAULT_DNS "10.0.2.3"
/* Files of /etc that name resolution and getservbyname read; none is a
 * secret. */
static const char *const etc_host_files[] = { "/etc/localtime", "/etc/timezone", "/etc/services",
					      "/etc/protocols", NULL };

int pack_fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* path made absolute against the current directory, in out. */
static int absolute(const char *path, char *out, size_t n)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return (size_t)snprintf(out, n, "%s", path) < n ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return (size_t)snprintf(out, n, "%s/%s", cwd, path) < n ? 0 : -ENAMETOOLONG;
}

/* Lists the host file at path where the guest will look for it: each
 * symlink on the way, then the file at its real path.  Returns 0 or
 * -errno (-EINVAL: not a regular file). */
static int add_host_file(struct image_list *l, const char *path)
{
	char abs[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int r = absolute(path, abs, sizeof(abs));

	if (r == 0)
		r = image_mirror(l, abs, real, sizeof(real));
	if (r == 0 && stat(real, &st) < 0)
		r = -errno;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	return r < 0 ? r : image_add_file(l, real, real, &st);
}

/* needed.c's callback: one file the dynamic linker opens. */
static int add_needed(void *ctx, const char *path)
{
	return add_host_file(ctx, path);
}

/* The host's search and domain lines after our nameserver. */
static int add_resolv(struct image_list *l, const char *dns)
{
	char buf[8192], line[512];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "nameserver %s\n", dns ? dns : DEFAULT_DNS);
	FILE *f = fopen("/etc/resolv.conf", "re");

	while (f && fgets(line, sizeof(line), f))
		if ((!strncmp(line, "search", 6) || !strncmp(line, "domain", 6)) &&
		    len + strlen(line) < sizeof(buf))
			len += (size_t)sprintf(buf + len, "%s", line);
	if (f)
		fclose(f);
	return image_add_data(l, "etc/resolv.conf", 0644, buf, len, 0);
}

/* Lists the host file at path when there is one. */
static int add_if_present(struct image_list *l, const char *path, char *why, size_t n)
{
	int r = add_host_file(l, path);

	if (r < 0 && r != -ENOENT) /* absent on this host: absent in the guest */
		return pack_fail(why, n, "%s: %s", path, strerror(-r));
	return 0;
}

/* The small /etc every program gets, and the configuration of a dynamic
 * one's linker. */
static int add_etc(struct image_list *l, const struct prog_file *p, const char *dns, char *why, size_t n)
{
	int r = 0;

	r = r ? r : image_add_data(l, "etc/passwd", 0644, etc_passwd, strlen(etc_passwd), 0);
	r = r ? r : image_add_data(l, "etc/group", 0644, etc_group, strlen(etc_group), 0);
	r = r ? r : image_add_data(l, "etc/hosts", 0644, etc_hosts, strlen(etc_hosts), 0);
	r = r ? r : image_add_data(l, "etc/nsswitch.conf", 0644, etc_nsswitch, strlen(etc_nsswitch), 0);
	r = r ? r : add_resolv(l, dns);
	if (r < 0)
		return pack_fail(why, n, "/etc: %s", strerror(-r));
	for (int i = 0; etc_host_files[i]; i++)
		if (add_if_present(l, etc_host_files[i], why, n) < 0)
			return -1;
	if (!p->interp)
		return 0;
	return add_if_present(
		l, needed_musl(p->interp) ? "/etc/ld-musl-x86_64.path" : "/etc/ld.so.cache", why, n);
}

/* Splits "HOST[:GUEST]" at the last ':' followed by '/'.  *guest is NULL
 * when there is none. */
static void split_spec(const char *spec, char *host, size_t n, const char **guest)
{
	const char *colon = NULL;

	for (const char *s = strchr(spec, ':'); s; s = strchr(s + 1, ':'))
		if (s[1] == '/')
			colon = s;
	*guest = colon ? colon + 1 : NULL;
	snprintf(host, n, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
}

/* One --file HOST[:GUEST]: a GUEST ending in '/' is a directory to put it in. */
static int add_file_spec(struct image_list *l, const char *spec, char *why, size_t n)
{
	char host[PATH_MAX], gpath[PATH_MAX], real[PATH_MAX];
	const char *guest, *base;
	struct stat st;
	int r;

	split_spec(spec, host, sizeof(host), &guest);
	if (stat(host, &st) < 0)
		return pack_fail(why, n, "--file %s: %s", spec, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return pack_fail(why, n, "--file %s: not a regular file%s", spec,
				 S_ISDIR(st.st_mode) ? " (--dir copies a directory)" : "");
	if (!guest) {
		r = add_host_file(l, host);
	} else {
		base = strrchr(host, '/');
		snprintf(gpath, sizeof(gpath), "%s%s", guest,
			 guest[strlen(guest) - 1] == '/' ? (base ? base + 1 : host) : "");
		r = image_resolve(l, gpath, real, sizeof(real));
		if (r == 0)
			r = absolute(host, gpath, sizeof(gpath));
		if (r == 0)
			r = image_add_file(l, real, gpath, &st);
	}
	if (r < 0)
		return pack_fail(why, n, "--file %s: %s", spec, strerror(-r));
	return 0;
}

/* Lists the tree at host (a directory) at guest: directories and files
 * with their modes and mtimes, symlinks as symlinks; sockets, FIFOs and
 * devices are left out.  Returns 0 or -errno with the failing path in bad. */
static int add_tree(struct image_list *l, const char *host, const char *guest, const struct stat *st,
		    char *bad, size_t n)
{
	struct dirent **names = NULL;
	int k, r = image_add_dir(l, guest, st->st_mode, (uint32_t)st->st_mtime);

	k = r < 0 ? 0 : scandir(host, &names, NULL, alphasort);
	if (k < 0)
		r = -errno;
	for (int i = 0; i < k; i++) {
		char hp[PATH_MAX], gp[PATH_MAX], target[PATH_MAX];
		const char *d = names[i]->d_name;
		struct stat s;
		ssize_t len;

		if (r < 0 || !strcmp(d, ".") || !strcmp(d, ".."))
			goto next;
		if ((size_t)snprintf(hp, sizeof(hp), "%s/%s", host, d) >= sizeof(hp) ||
		    (size_t)snprintf(gp, sizeof(gp), "%s/%s", guest, d) >= sizeof(gp))
			r = -ENAMETOOLONG;
		else if (lstat(hp, &s) < 0)
			r = -errno;
		else if (S_ISDIR(s.st_mode))
			r = add_tree(l, hp, gp, &s, bad, n);
		else if (S_ISREG(s.st_mode))
			r = image_add_file(l, gp, hp, &s);
		else if (S_ISLNK(s.st_mode) && (len = readlink(hp, target, sizeof(target) - 1)) > 0) {
			target[len] = '\0';
			r = image_add_link(l, gp, target, (uint32_t)s.st_mtime);
		}
		if (r < 0 && !bad[0])
			snprintf(bad, n, "%s", hp);
next:
		free(names[i]);
	}
	free(names);
	if (r < 0 && !bad[0])
		snprintf(bad, n, "%s", host);
	return r;
}

/* One --dir HOST[:GUEST]. */
static int add_dir_spec(struct image_list *l, const char *spec, char *why, size_t n)
{
	char host[PATH_MAX], abs[PATH_MAX], real[PATH_MAX], bad[PATH_MAX] = "";
	const char *guest;
	struct stat st;
	int r;

	split_spec(spec, host, sizeof(host), &guest);
	if (stat(host, &st) < 0)
		return pack_fail(why, n, "--dir %s: %s", spec, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pack_fail(why, n, "--dir %s: not a directory", spec);
	r = absolute(host, abs, sizeof(abs));
	if (r == 0)
		r = guest ? image_resolve(l, guest, real, sizeof(real))
			  : image_mirror(l, abs, real, sizeof(real));
	if (r == 0 && !strcmp(real, "/"))
		r = -EINVAL; /* the whole root: never what was meant */
	if (r == 0)
		r = add_tree(l, abs, real, &st, bad, sizeof(bad));
	if (r < 0)
		return pack_fail(why, n, "--dir %s: %s%s%s", spec, bad, bad[0] ? ": " : "",
				 strerror(-r));
	return 0;
}

/* The program at its absolute path, with the symlinks of the path it was
 * found by (e.g. /bin -> usr/bin), so argv[0] names it in the guest too. */
static int add_program(struct image_list *l, const struct prog_file *p, char *why, size_t n)
{
	char real[PATH_MAX];
	struct stat st;
	int r = image_mirror(l, p->found, real, sizeof(real));

	if (r == 0 && strcmp(real, p->path))
		r = image_mirror(l, p->path, real, sizeof(real));
	if (r == 0)
		r = stat(p->path, &st) < 0 ? -errno : image_add_file(l, p->path, p->path, &st);
	return r < 0 ? pack_fail(why, n, "%s: %s", p->path, strerror(-r)) : 0;
}

/* A path a traced run brought in from the host (pack --trace): the
 * symlinks on its way as symlinks, then what it is.  A path gone from the
 * host since is left out. */
static int add_used(struct image_list *l, const char *path, char *why, size_t n)
{
	char real[PATH_MAX];
	struct stat st;
	int r = image_mirror(l, path, real, sizeof(real));

	if (r == 0 && lstat(real, &st) < 0)
		r = -errno;
	if (r == 0 && S_ISDIR(st.st_mode))
		r = image_add_dir(l, real, st.st_mode, (uint32_t)st.st_mtime);
	else if (r == 0 && S_ISREG(st.st_mode))
		r = image_add_file(l, real, real, &st);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? pack_fail(why, n, "%s (used by the traced run): %s", path, strerror(-r)) : 0;
}

/* A dynamic musl program runs with libc-aware's musl (docs/libc-aware.md):
 * its interpreter's file, at the guest path the host's has, holds
 * build/libc-aware/lib/libc.so, found beside elfvm.  musl's dynamic linker
 * is its libc too, so this swaps the whole libc. */
static int add_aware_libc(struct image_list *l, const struct prog_file *p, char *why, size_t n)
{
	char aware[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int r;

	if (!p->interp || !needed_musl(p->interp))
		return 0;
	r = vm_beside_elfvm("libc-aware/lib/libc.so", aware, sizeof(aware));
	if (r == 0 && stat(aware, &st) < 0)
		return pack_fail(why, n,
				 "%s: %s (make builds it; --libc stock keeps the program's own musl)",
				 aware, strerror(errno));
	if (r == 0)
		r = image_mirror(l, p->interp, real, sizeof(real));
	if (r == 0)
		r = image_add_file(l, real, aware, &st);
	return r < 0 ? pack_fail(why, n, "%s: %s", p->interp, strerror(-r)) : 0;
}

/* glibc dlopen()s libgcc_s.so.1 to unwind for pthread_exit and
 * pthread_cancel ("libgcc_s.so.1 must be installed" otherwise): a dynamic
 * glibc program gets it as if --lib libgcc_s.so.1 had been given, when the
 * host has it. */
char **pack_libs(const struct prog_file *p, const struct pack_opts *o, int *n)
{
	static const char *const where[] = { "/lib/x86_64-linux-gnu/libgcc_s.so.1",
					     "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1" };
	char **libs = calloc((size_t)o->nlibs + 1, sizeof(*libs));

	*n = o->nlibs;
	if (!libs)
		return NULL;
	memcpy(libs, o->libs, (size_t)o->nlibs * sizeof(*libs));
	if (p->interp && strstr(p->interp, "ld-linux"))
		for (size_t i = 0; i < sizeof(where) / sizeof(*where); i++)
			if (access(where[i], R_OK) == 0) {
				libs[(*n)++] = (char *)"libgcc_s.so.1";
				break;
			}
	return libs;
}

int pack_list(struct image_list *l, const struct prog_file *p, const struct pack_opts *o, char *why,
	      size_t n)
{
	int nlibs;
	char **libs = pack_libs(p, o, &nlibs);

	if (!libs)
		return pack_fail(why, n, "out of memory");
	int r = add_program(l, p, why, n);
	if (r == 0)
		r = needed_resolve(p, libs, nlibs, add_needed, l, why, n);
	free(libs);
	if (r == 0 && !o->libc_stock)
		r = add_aware_libc(l, p, why, n);
	for (int i = 0; r == 0 && i < o->nused; i++)
		r = add_used(l, o->used[i], why, n);
	if (r == 0 && o->sealed && (r = image_add_data(l, SEALED_NAME, 0100644, "", 0, 0)) < 0)
		r = pack_fail(why, n, "%s: %s", SEALED_NAME, strerror(-r));
	if (r < 0 || add_etc(l, p, o->dns, why, n) < 0)
		return -1;
	if (o->also && (add_program(l, o->also, why, n) < 0 ||
			needed_resolve(o->also, NULL, 0, add_needed, l, why, n) < 0))
		return -1;
	for (int i = 0; i < o->nadds; i++)
		if ((o->adds[i].dir ? add_dir_spec : add_file_spec)(l, o->adds[i].spec, why, n) < 0)
			return -1;
	return 0;
}
