/* SPDX-License-Identifier: MIT */
/*
 * `elfvm run --gdb[=ADDR:PORT|unix:PATH]` (docs/debugging.md): where QEMU's
 * gdb stub listens (loopback only: the stub has no authentication and can
 * write any guest memory), and the gdb command file made from the kernel's
 * `@@gdb` records (docs/protocol.md) once the kernel waits for the
 * debugger.  The file lives in its own mkdtemp directory, printed on stderr
 * with the command line to use, and is removed when the VM ends.  Shared
 * libraries and program threads are the helper's business
 * (tools/elfvm_gdb.py, copied beside elfvm as elfvm-gdb.py), which the
 * command file sources.
 */
#include "tools/tools.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The image's files whose host file is not at their guest path
 * (libc-aware's musl in place of the host's, a --file HOST:GUEST): guest
 * path, host path, noted once per run by gdb_note_image. */
static char **subst;
static int nsubst;

void gdb_note_image(const struct image_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct image_entry *e = &l->v[i];
		char **v;
		if (e->kind != IMAGE_FILE || (e->src[0] == '/' && !strcmp(e->src + 1, e->name)))
			continue;
		if (!(v = realloc(subst, (size_t)(nsubst + 2) * sizeof(*v))))
			return;
		subst = v;
		if (!(subst[nsubst] = malloc(strlen(e->name) + 2)))
			return;
		snprintf(subst[nsubst], strlen(e->name) + 2, "/%s", e->name);
		if (!(subst[nsubst + 1] = strdup(e->src))) {
			free(subst[nsubst]);
			return;
		}
		nsubst += 2;
	}
}

/* The host file gdb reads for guest path: the host's own file at that path
 * (the image mirrors the host's symlinks), unless the image put another
 * there.  Returns path or a string of the map. */
static const char *host_path(const char *path)
{
	char real[PATH_MAX];

	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	for (int i = 0; i < nsubst; i += 2)
		if (!strcmp(subst[i], path) || !strcmp(subst[i], real))
			return subst[i + 1];
	return path;
}

/* Appends s to buf (n bytes, *len used) while it fits; *len counts on. */
static void add(char *buf, size_t n, size_t *len, const char *s)
{
	size_t k = strlen(s);

	if (*len + k < n)
		memcpy(buf + *len, s, k + 1);
	*len += k;
}

/* Appends the words, each in single quotes when a shell needs them, a
 * space before each but the first. */
static void shell_words(char *buf, size_t n, size_t *len, const char *const *words)
{
	for (int w = 0; words[w]; w++) {
		const char *s = words[w];
		int plain = *s && strspn(s,
					 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_-+=.,/:@%") == strlen(s);
		add(buf, n, len, w ? " " : "");
		add(buf, n, len, plain ? s : "'");
		for (; !plain && *s; s++)
			add(buf, n, len, *s == '\'' ? "'\\''" : (char[]){ *s, 0 });
		if (!plain)
			add(buf, n, len, "'");
	}
}

/* The image's own libraries are found by name in their host directories
 * (solib-search-path) once the sysroot (the host's /) is out of the way;
 * the host's library directories follow for the rest. */
void gdb_core_command(const char *prog, const char *core, char *buf, size_t n)
{
	char dirs[4 * PATH_MAX] = "", path_opt[sizeof(dirs) + 96];
	size_t len = 0, dl = 0;

	buf[0] = '\0';
	for (int i = 0; i < nsubst; i += 2) {
		const char *slash = strrchr(subst[i + 1], '/');
		if (slash && dl < sizeof(dirs))
			dl += (size_t)snprintf(dirs + dl, sizeof(dirs) - dl,
					       "%.*s:", (int)(slash - subst[i + 1]), subst[i + 1]);
	}
	snprintf(path_opt, sizeof(path_opt),
		 "set solib-search-path %s/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu", dirs);
	const char *plain[] = { "gdb", prog, core, NULL };
	const char *subst_words[] = { "gdb", "-iex", "set sysroot /nonexistent", "-iex", path_opt, prog,
				      core,  NULL };
	shell_words(buf, n, &len, dl ? subst_words : plain);
}

/* A loopback port nobody listens on now, or 0.  QEMU binds it a moment
 * later; another program taking it in between makes QEMU fail to start
 * (its message says so), nothing worse. */
static int free_port(const char *addr, int v6)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

	if (fd < 0)
		return 0;
	if (v6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s->sin6_addr);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s->sin_addr);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	close(fd);
	return port;
}

/* ADDR:PORT, [ADDR]:PORT or ADDR (a free port).  Fills g's stub and target
 * for a loopback address; returns 0, or -1 with the reason in why. */
static int parse_inet(struct gdb_session *g, const char *spec, char *why, size_t n)
{
	char addr[64];
	const char *colon = spec[0] == '[' ? strchr(spec, ']') : strrchr(spec, ':');
	const char *port_s = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	long port = 0;
	int v6;

	if (spec[0] == '[') {
		if (!colon || (colon[1] && colon[1] != ':'))
			return snprintf(why, n, "--gdb=%s: want ADDR:PORT or unix:PATH", spec), -1;
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - spec - 1), spec + 1);
		port_s = colon[1] ? colon + 2 : NULL;
	} else {
		snprintf(addr, sizeof(addr), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec),
			 spec);
		port_s = colon ? colon + 1 : NULL;
	}
	if (!strcmp(addr, "localhost"))
		snprintf(addr, sizeof(addr), "127.0.0.1");
	v6 = inet_pton(AF_INET6, addr, &a6) == 1;
	if (!v6 && inet_pton(AF_INET, addr, &a4) != 1)
		return snprintf(why, n, "--gdb=%s: '%s' is not an IP address", spec, addr), -1;
	if (v6 ? !IN6_IS_ADDR_LOOPBACK(&a6) : (ntohl(a4.s_addr) >> 24) != 127)
		return snprintf(why, n,
				"--gdb=%s: %s is not a loopback address (the stub has no "
				"authentication; forward the port yourself, e.g. ssh -L)",
				spec, addr),
		       -1;
	if (port_s) {
		char *end;
		errno = 0;
		port = strtol(port_s, &end, 10);
		if (errno || end == port_s || *end || port < 0 || port > 65535)
			return snprintf(why, n, "--gdb=%s: bad port '%s'", spec, port_s), -1;
	}
	if (port == 0 && !(port = free_port(addr, v6)))
		return snprintf(why, n, "--gdb: no free port on %s", addr), -1;
	snprintf(g->stub, sizeof(g->stub), v6 ? "tcp:[%s]:%ld" : "tcp:%s:%ld", addr, port);
	snprintf(g->target, sizeof(g->target), v6 ? "[%s]:%ld" : "%s:%ld", addr, port);
	return 0;
}

/* Can s go inside the double quotes of a gdb argument and of a Python
 * string?  No escapes are written: a `@@gdb load` of a path with a quote,
 * a backslash or a newline is dropped (and said in the log). */
static int plain(const char *s)
{
	return !strpbrk(s, "\n\"\\");
}

int gdb_prepare(struct gdb_session *g, const char *spec, const char *kernel, char *why, size_t n)
{
	char dir[PATH_MAX];
	const char *tmp = getenv("TMPDIR");

	memset(g, 0, sizeof(*g));
	/* gdb may run in another directory than elfvm. */
	if (!realpath(kernel, g->kernel))
		return snprintf(why, n, "--gdb: %s: %s", kernel, strerror(errno)), -1;
	if (!plain(g->kernel))
		return snprintf(why, n, "--gdb: the kernel's path has a quote or a backslash: %s",
				g->kernel),
		       -1;
	if (!strncmp(spec, "unix:", 5)) {
		const char *path = spec + 5;
		/* QEMU's option syntax would read a comma as the next option. */
		if (!*path || strchr(path, ',') || strlen(path) >= 100)
			return snprintf(why, n, "--gdb=%s: want unix:PATH (no comma, < 100 bytes)",
					spec),
			       -1;
		snprintf(g->stub, sizeof(g->stub), "unix:%s,server=on,wait=off", path);
		snprintf(g->target, sizeof(g->target), "%s", path);
		g->unix_path = path;
	} else if (parse_inet(g, *spec ? spec : "127.0.0.1", why, n) < 0) {
		return -1;
	}
	if (vm_beside_elfvm("elfvm-gdb.py", g->helper, sizeof(g->helper)) < 0 ||
	    access(g->helper, R_OK) < 0)
		return snprintf(why, n, "--gdb: %s is missing (make)", g->helper), -1;
	snprintf(dir, sizeof(dir), "%s/elfvm-gdb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return snprintf(why, n, "--gdb: cannot create %s: %s", dir, strerror(errno)), -1;
	snprintf(g->dir, sizeof(g->dir), "%s", dir);
	snprintf(g->file, sizeof(g->file), "%s/gdbinit", dir);
	return 0;
}

/* Writes the command file; returns 0 or -errno. */
static int write_file(const struct gdb_session *g, int kvm)
{
	FILE *f = fopen(g->file, "we");

	if (!f)
		return -errno;
	fprintf(f,
		"# elfvm run --gdb (docs/debugging.md); removed when the VM ends\n"
		"set pagination off\nset confirm off\nset breakpoint pending on\n"
		"set trust-readonly-sections on\nset auto-solib-add off\n"
		"symbol-file \"%s\"\n"
		"target remote %s\n",
		g->kernel, g->target);
	for (int i = 0; i < g->nload; i++)
		fprintf(f, "add-symbol-file \"%s\" -o 0x%llx\n", host_path(g->load[i].path),
			(unsigned long long)g->load[i].bias);
	fprintf(f, "source %s\npython elfvm_gdb_start(%d, [", g->helper, kvm);
	for (int i = 0; i < g->nload; i++)
		fprintf(f, "%s(\"%s\", 0x%llx)", i ? ", " : "", host_path(g->load[i].path),
			(unsigned long long)g->load[i].bias);
	fputs("], {", f);
	for (int i = 0, k = 0; i < nsubst; i += 2)
		if (plain(subst[i]) && plain(subst[i + 1]))
			fprintf(f, "%s\"%s\": \"%s\"", k++ ? ", " : "", subst[i], subst[i + 1]);
	/* The program waits in the kernel; a temporary hardware breakpoint
	 * (KVM and TCG both take one, and it writes nothing into the
	 * program's code) stops it at its first instruction. */
	fprintf(f, "})\nset var elfvm_gdb_go = 1\nthbreak *0x%llx\ncontinue\n",
		(unsigned long long)g->entry);
	if (fclose(f) < 0)
		return -errno;
	return 0;
}

void gdb_record(struct gdb_session *g, int kvm, const char *rec, FILE *log)
{
	char *end;

	if (!strncmp(rec, "load ", 5) && g->announced) { /* another VM (KVM failed at boot) */
		g->nload = 0;
		g->announced = 0;
	}
	if (!strncmp(rec, "load ", 5) && g->nload < GDB_MAX_LOADS) {
		errno = 0;
		unsigned long long bias = strtoull(rec + 5, &end, 16);
		if (errno || *end != ' ' || !plain(end + 1))
			goto bad;
		g->load[g->nload].bias = bias;
		snprintf(g->load[g->nload].path, sizeof(g->load[0].path), "%s", end + 1);
		g->nload++;
	} else if (!strncmp(rec, "entry ", 6)) {
		errno = 0;
		g->entry = strtoull(rec + 6, &end, 16);
		if (errno || *end)
			goto bad;
	} else if (!strcmp(rec, "wait") && !g->announced) {
		int r = write_file(g, kvm);
		g->announced = 1;
		if (r < 0)
			fprintf(stderr, "elfvm: --gdb: cannot write %s: %s\n", g->file, strerror(-r));
		else
			/* "\r\n": the terminal may be raw already (docs/terminal.md). */
			fprintf(stderr, "elfvm: gdb stub on %s; debug with: gdb -x %s%s", g->target,
				g->file, isatty(2) ? "\r\n" : "\n");
	}
	return;
bad:
	if (log)
		fprintf(log, "elfvm: malformed record from the kernel: @@gdb %s\n", rec);
}

void gdb_cleanup(struct gdb_session *g)
{
	if (g->file[0])
		unlink(g->file);
	if (g->dir[0])
		rmdir(g->dir);
	struct stat st;
	/* QEMU leaves its socket behind; only a socket is ours to remove. */
	if (g->unix_path && lstat(g->unix_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(g->unix_path);
}
