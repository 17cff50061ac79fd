/* SPDX-License-Identifier: MIT */
/*
 * What the VM may read or write of the host's files, as virtio-9p shares
 * (docs/hostfiles.md): the host's system directories, read-only, as a
 * fallback under the image (/usr, and /lib, /lib64, /bin, /sbin as the host
 * has them: links into /usr become sub-mounts of the one /usr share); an
 * allow-list of /etc entries, copied into a private directory for the run
 * so that nothing else of /etc (shadow, ssh keys, ssl/private) is ever
 * exported; and each --volume.  It produces QEMU's -fsdev/-device
 * arguments and the kernel's mount= words (docs/protocol.md); the kernel
 * side is kernel/virtio/9p.c and minifs/remote.c.  --sealed exports
 * nothing but volumes.
 */
#define _GNU_SOURCE /* mkdtemp */
#include "tools/tools.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* microvm has 8 virtio-mmio transports; the console and the network card
 * take two. */
#define MICROVM_SLOTS 6

/* The system directories a program may read from the host.  Each is either
 * a directory of its own (one share) or, on a merged-/usr host, a link into
 * /usr (a sub-mount of the /usr share). */
static const char *const sys_dirs[] = { "/lib", "/lib64", "/bin", "/sbin" };

/* The /etc entries a program may read: configuration that libraries and
 * interpreters look for, never credentials.  ssl/ is listed entry by entry
 * because /etc/ssl/private holds private keys. */
static const char *const etc_allow[] = {
	"alternatives",
	"ca-certificates",
	"ca-certificates.conf",
	"debian_version",
	"ethertypes",
	"gai.conf",
	"host.conf",
	"inputrc",
	"java-17-openjdk",
	"java-21-openjdk",
	"ld.so.cache",
	"ld.so.conf",
	"ld.so.conf.d",
	"ld-musl-x86_64.path",
	"locale.alias",
	"locale.conf",
	"localtime",
	"magic",
	"magic.mime",
	"mailcap",
	"mime.types",
	"networks",
	"os-release",
	"perl",
	"protocols",
	"python3",
	"python3.11",
	"rpc",
	"services",
	"ssl/certs",
	"ssl/openssl.cnf",
	"terminfo",
	"timezone",
	"tcl",
	"X11/Xresources",
	NULL,
};

int shares_set(struct run_opts *o, const char *name, const char *v)
{
	if (!strcmp(name, "--volume")) {
		if (!*v || *v == ':' || !strchr(v, ':'))
			return opts_bad(o, "--volume wants HOST:GUEST[:ro], not '%s'", v);
		o->sh.volumes[o->sh.nvolumes++] = v;
		return 0;
	}
	return 1;
}

/* A string kept until shares_cleanup. */
static const char *keep(struct share_plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *keep(struct share_plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s && p->nstrs < SHARE_MAX_ARGS)
		p->strs[p->nstrs++] = s;
	else if (s) {
		free(s);
		s = NULL;
	}
	return s;
}

/* QEMU's option syntax doubles a comma inside a value. */
static const char *qemu_escape(struct share_plan *p, const char *path)
{
	char buf[2 * PATH_MAX], *o = buf;

	for (const char *c = path; *c && o < buf + sizeof(buf) - 2; c++) {
		*o++ = *c;
		if (*c == ',')
			*o++ = ',';
	}
	*o = 0;
	return keep(p, "%s", buf);
}

/* Adds share number p->nshares for host directory dir; returns its tag
 * number or -1 (too many, or no memory). */
static int add_share(struct share_plan *p, const char *dir, int readonly, int q35)
{
	int n = p->nshares;
	const char *path = qemu_escape(p, dir);
	const char *fsdev =
		path ? keep(p,
			    "local,id=fs%d,path=%s,security_model=none,"
			    "multidevs=remap%s",
			    n, path, readonly ? ",readonly=on" : "")
		     : NULL;
	const char *dev = keep(p, "%s,fsdev=fs%d,mount_tag=elfvm%d",
			       q35 ? "virtio-9p-pci,disable-legacy=on" : "virtio-9p-device", n, n);

	if (!fsdev || !dev || p->nargs + 5 > SHARE_MAX_ARGS || (!q35 && n >= MICROVM_SLOTS))
		return -1;
	p->args[p->nargs++] = "-fsdev";
	p->args[p->nargs++] = fsdev;
	p->args[p->nargs++] = "-device";
	p->args[p->nargs++] = dev;
	p->args[p->nargs] = NULL;
	p->nshares++;
	return n;
}

/* Appends one mount= word (docs/protocol.md). */
static int add_word(struct share_plan *p, int tag, const char *guest, const char *kind, const char *sub)
{
	size_t len = strlen(p->words);
	int r = snprintf(p->words + len, sizeof(p->words) - len, " mount=elfvm%d:%s:%s%s%s", tag, guest,
			 kind, *sub ? ":" : "", sub);

	return r < 0 || (size_t)r >= sizeof(p->words) - len ? -1 : 0;
}

/* Copies host path src (a file, symlink or directory tree) to dst, keeping
 * symlinks as they are; what others may not read is left out. */
static int copy_tree(const char *src, const char *dst)
{
	struct stat st;
	char t[PATH_MAX];
	ssize_t n;

	if (lstat(src, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlink(src, t, sizeof(t) - 1)) < 0)
			return -errno;
		t[n] = 0;
		return symlink(t, dst) < 0 ? -errno : 0;
	}
	if (!(st.st_mode & S_IROTH))
		return 0;
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *e;
		int r = 0;

		if (!(st.st_mode & S_IXOTH))
			return 0;
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!(d = opendir(src)))
			return -errno;
		while (r == 0 && (e = readdir(d))) {
			char s[PATH_MAX], o[PATH_MAX];
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if ((size_t)snprintf(s, sizeof(s), "%s/%s", src, e->d_name) >= sizeof(s) ||
			    (size_t)snprintf(o, sizeof(o), "%s/%s", dst, e->d_name) >= sizeof(o))
				continue;
			r = copy_tree(s, o);
		}
		closedir(d);
		return r;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	if (in < 0)
		return errno == EACCES ? 0 : -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
	if (out < 0)
		r = -errno;
	else
		r = image_copy_fd(in, out);
	close(in);
	if (out >= 0 && close(out) < 0 && r == 0)
		r = -errno;
	return r;
}

/* FNV-1a over the metadata of path and, for a directory, everything in it:
 * what changes when a file of the allow-list is edited, added or removed. */
static void fingerprint(const char *path, uint64_t *h)
{
	struct stat st;
	char t[PATH_MAX];
	ssize_t n = 0;

	if (lstat(path, &st) < 0)
		st = (struct stat){ 0 };
	if (S_ISLNK(st.st_mode) && (n = readlink(path, t, sizeof(t))) < 0)
		n = 0;
	uint64_t v[] = { st.st_mode, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
			 (uint64_t)st.st_mtim.tv_nsec, st.st_ino };
	const unsigned char *parts[] = { (const void *)path, (const void *)v, (const void *)t };
	size_t lens[] = { strlen(path) + 1, sizeof(v), (size_t)n };
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < lens[k]; i++)
			*h = (*h ^ parts[k][i]) * 0x100000001b3ULL;
	if (!S_ISDIR(st.st_mode) || !(st.st_mode & S_IROTH))
		return;
	struct dirent **list;
	int m = scandir(path, &list, NULL, alphasort);
	for (int i = 0; i < m; i++) {
		char sub[PATH_MAX];
		if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, "..") &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, list[i]->d_name) < sizeof(sub))
			fingerprint(sub, h);
		free(list[i]);
	}
	if (m >= 0)
		free(list);
}

/* Copies the allowed /etc entries into the new directory dir. */
static int fill_etc(const char *dir)
{
	int r = 0;

	for (int i = 0; etc_allow[i] && r == 0; i++) {
		char src[PATH_MAX], dst[PATH_MAX + 64];
		const char *slash = strchr(etc_allow[i], '/');

		snprintf(src, sizeof(src), "/etc/%s", etc_allow[i]);
		snprintf(dst, sizeof(dst), "%.*s/%s", PATH_MAX - 1, dir, etc_allow[i]);
		if (slash) { /* ssl/certs: its parent first */
			char parent[sizeof(dst)];
			snprintf(parent, sizeof(parent), "%.*s/%.*s", PATH_MAX - 1, dir,
				 (int)(slash - etc_allow[i]) & 63, etc_allow[i]);
			if (mkdir(parent, 0755) < 0 && errno != EEXIST)
				r = -errno;
		}
		if (r == 0)
			r = copy_tree(src, dst);
	}
	return r;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Puts the copy of /etc's allowed entries in p->share_etc.  The copy is
 * kept in the cache under a name that hashes the metadata of everything
 * it copies, so a run pays a walk of lstat calls, not a copy (which costs
 * tens of milliseconds); an edit in /etc makes a new one.  Without a
 * usable cache (or with --no-cache) the copy is the run's own, removed at
 * the end.
 */
static int stage_etc(struct share_plan *p, int use_cache, char *why, size_t n)
{
	char cache[PATH_MAX], tmp[PATH_MAX];
	const char *t = getenv("TMPDIR");
	uint64_t h = 0xcbf29ce484222325ULL;
	int r;

	for (int i = 0; etc_allow[i]; i++) {
		char src[PATH_MAX];
		snprintf(src, sizeof(src), "/etc/%s", etc_allow[i]);
		fingerprint(src, &h);
	}
	if (use_cache && cache_dir(cache, sizeof(cache)) == 0 &&
	    (size_t)snprintf(p->share_etc, sizeof(p->share_etc), "%.*s/etc-%016llx", PATH_MAX - 64,
			     cache, (unsigned long long)h) < sizeof(p->share_etc)) {
		struct stat st;
		if (stat(p->share_etc, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		snprintf(tmp, sizeof(tmp), "%.*s.XXXXXX", PATH_MAX - 16, p->share_etc);
		if (mkdtemp(tmp) && fill_etc(tmp) == 0 && chmod(tmp, 0755) == 0) {
			if (rename(tmp, p->share_etc) == 0)
				return 0;
			remove_tree(tmp); /* another run made it meanwhile */
			if (stat(p->share_etc, &st) == 0 && S_ISDIR(st.st_mode))
				return 0;
		} else if (tmp[0]) {
			remove_tree(tmp);
		}
	}
	snprintf(p->etc_dir, sizeof(p->etc_dir), "%s/elfvm-etc-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(p->etc_dir)) {
		r = -errno;
		p->etc_dir[0] = 0;
		return pack_fail(why, n, "cannot create a directory in %s: %s", t ? t : "/tmp",
				 strerror(-r));
	}
	snprintf(p->share_etc, sizeof(p->share_etc), "%s", p->etc_dir);
	if ((r = fill_etc(p->etc_dir)) < 0)
		return pack_fail(why, n, "cannot copy /etc's allowed entries to %s: %s", p->etc_dir,
				 strerror(-r));
	return 0;
}

/* The host's system directories: one share of /usr, the others as links
 * into it or shares of their own. */
static int plan_system(struct share_plan *p, int q35, int use_cache, char *why, size_t n)
{
	int usr = add_share(p, "/usr", 1, q35);

	if (usr < 0 || add_word(p, usr, "/usr", "sys", ""))
		return pack_fail(why, n, "%s", "too many shares");
	for (size_t i = 0; i < sizeof(sys_dirs) / sizeof(sys_dirs[0]); i++) {
		char real[PATH_MAX];
		struct stat st;
		int tag;

		if (!realpath(sys_dirs[i], real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (!strncmp(real, "/usr/", 5)) {
			if (add_word(p, usr, sys_dirs[i], "sys", real + 5))
				return pack_fail(why, n, "%s", "too many shares");
		} else if ((tag = add_share(p, real, 1, q35)) < 0 ||
			   add_word(p, tag, sys_dirs[i], "sys", "")) {
			return pack_fail(why, n, "%s", "too many shares");
		}
	}
	if (stage_etc(p, use_cache, why, n) < 0)
		return -1;
	int etc = add_share(p, p->share_etc, 1, q35);
	if (etc < 0 || add_word(p, etc, "/etc", "sys", ""))
		return pack_fail(why, n, "%s", "too many shares");
	return 0;
}

/* Is guest a path a volume may be mounted at? */
static int guest_ok(const char *g)
{
	static const char *const never[] = { "/proc", "/sys", "/dev", "/.elfvm", NULL };

	if (g[0] != '/' || !g[1] || strpbrk(g, " :,\t\n") || strstr(g, "/../") || strstr(g, "/./"))
		return 0;
	for (int i = 0; never[i]; i++) {
		size_t l = strlen(never[i]);
		if (!strncmp(g, never[i], l) && (g[l] == 0 || g[l] == '/'))
			return 0;
	}
	return 1;
}

static int plan_volume(struct share_plan *p, const char *spec, int q35, char *why, size_t n)
{
	char host[PATH_MAX], guest[PATH_MAX], real[PATH_MAX];
	const char *c = strchr(spec, ':'), *kind = "rw";
	struct stat st;
	size_t gl;
	int tag;

	snprintf(host, sizeof(host), "%.*s", (int)(c - spec), spec);
	snprintf(guest, sizeof(guest), "%s", c + 1);
	gl = strlen(guest);
	if (gl > 3 && (!strcmp(guest + gl - 3, ":ro") || !strcmp(guest + gl - 3, ":rw"))) {
		kind = guest[gl - 2] == 'r' && guest[gl - 1] == 'o' ? "ro" : "rw";
		guest[gl - 3] = 0;
	}
	while ((gl = strlen(guest)) > 1 && guest[gl - 1] == '/')
		guest[gl - 1] = 0;
	if (!realpath(host, real) || stat(real, &st) < 0)
		return pack_fail(why, n, "--volume %s: %s", host, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pack_fail(why, n, "--volume %s: not a directory", host);
	if (!guest_ok(guest))
		return pack_fail(why, n,
				 "--volume %s: the guest path must be absolute, not /, not under "
				 "/proc, /sys or /dev, without spaces, colons or commas",
				 spec);
	tag = add_share(p, real, !strcmp(kind, "ro"), q35);
	if (tag < 0)
		return pack_fail(why, n,
				 "--volume %s: too many shares for microvm (%d devices at most; "
				 "--machine q35 has room for more)",
				 spec, MICROVM_SLOTS);
	if (add_word(p, tag, guest, kind, ""))
		return pack_fail(why, n, "%s", "too many volumes");
	return 0;
}

int shares_prepare(const struct share_opts *o, int q35, int use_cache, struct share_plan *p, char *why,
		   size_t n)
{
	memset(p, 0, sizeof(*p));
	if (!o->sealed && plan_system(p, q35, use_cache, why, n) < 0)
		return -1;
	for (int i = 0; i < o->nvolumes; i++)
		if (plan_volume(p, o->volumes[i], q35, why, n) < 0)
			return -1;
	if (o->trace) {
		size_t len = strlen(p->words);
		snprintf(p->words + len, sizeof(p->words) - len, " trace=1");
	}
	return 0;
}

void shares_cleanup(struct share_plan *p)
{
	if (p->etc_dir[0])
		remove_tree(p->etc_dir);
	for (int i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	memset(p, 0, sizeof(*p));
}
