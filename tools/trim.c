/* SPDX-License-Identifier: MIT */
/*
 * `elfvm run --trim[=static|dynamic|both]`: the syscall list of the program
 * (static: `elfvm analyze`; dynamic: a `--profile` run of the same command,
 * stdin from /dev/null, its output dropped; both: `elfvm analyze --profile`,
 * their union), then a kernel with only those syscalls, built by `make
 * SYSCALLS=LIST` in the source tree elfvm was built from (elfvm is its
 * build/elfvm) and kept in the cache directory keyed by the list and the
 * full kernel's state.  Each step is a subprocess, so nothing here knows
 * the analyzer, the VM or the Makefile's insides (docs/trim.md).
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

/* A run's scratch files, in one temporary directory. */
struct trim_tmp {
	char dir[PATH_MAX];
	char prof[PATH_MAX + 16], list[PATH_MAX + 16], err[PATH_MAX + 16], names[PATH_MAX + 16];
};

static int trim_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "elfvm: --trim: " and the message.  Returns 125. */
static int trim_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("elfvm: --trim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return ELFVM_EXIT_FAIL;
}

/* Runs argv (argv[0] a path) in dir (NULL: here) with fds 0, 1, 2 from
 * in, out, err (-1: /dev/null).  Returns its exit status, 128+N for a
 * signal, or -1 when it could not start. */
static int spawn(char *const *argv, const char *dir, int in, int out, int err)
{
	int fds[3] = { in, out, err }, status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		for (int i = 0; i < 3; i++)
			dup2(fds[i] >= 0 ? fds[i] : null, i);
		if (dir && chdir(dir) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first line of path, for a message ("" when there is none). */
static const char *first_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)n, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
	return buf;
}

static int open_out(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* Appends s to the argument vector v (room for argc + 16 kept by the
 * caller). */
#define ARG(v, k, s) ((v)[(k)++] = (char *)(s))

/* The profile run: `run --profile PROF` with argv's options less --trim,
 * --log, --profile, --verbose and --strace, then PROGRAM ARGS.  Returns 0 or
 * 125 after a message. */
static int profile_run(const char *self, int argc, char **argv, int i, const struct trim_tmp *t)
{
	char **v = calloc((size_t)argc + 16, sizeof(*v)), line[512];
	int k = 0, err = open_out(t->err), status;

	if (!v || err < 0) {
		free(v);
		if (err >= 0)
			close(err);
		return trim_fail("out of memory or no temporary file");
	}
	ARG(v, k, self);
	ARG(v, k, "run");
	ARG(v, k, "--profile");
	ARG(v, k, t->prof);
	for (int j = 1; j < i; j++) {
		const char *a = argv[j];
		if (!strcmp(a, "--log") || !strcmp(a, "--profile"))
			j++; /* and its value */
		else if (strncmp(a, "--trim", 6) && strncmp(a, "--log=", 6) &&
			 strncmp(a, "--profile=", 10) && strcmp(a, "--verbose") && strcmp(a, "--strace"))
			ARG(v, k, a);
	}
	for (int j = i; j < argc; j++)
		ARG(v, k, argv[j]);
	status = spawn(v, NULL, -1, -1, err);
	close(err);
	free(v);
	if (status == ELFVM_EXIT_FAIL || status < 0 || access(t->prof, R_OK) < 0)
		return trim_fail("the profile run (--trim=dynamic) failed with status %d: %s", status,
				 first_line(t->err, line, sizeof(line)));
	return 0;
}

/* `analyze [--profile PROF] [--lib L]… PROGRAM ARGS` into t->list.
 * Returns 0 or 125 after a message. */
static int analyze_run(const char *self, const struct run_opts *o, int argc, char **argv, int i,
		       const struct trim_tmp *t, int with_profile)
{
	char **v = calloc((size_t)(argc + 2 * o->pk.nlibs) + 16, sizeof(*v)), line[512];
	int k = 0, out = open_out(t->list), err = open_out(t->err), status = -1;

	if (v && out >= 0 && err >= 0) {
		ARG(v, k, self);
		ARG(v, k, "analyze");
		if (with_profile) {
			ARG(v, k, "--profile");
			ARG(v, k, t->prof);
		}
		for (int j = 0; j < o->pk.nlibs; j++) {
			ARG(v, k, "--lib");
			ARG(v, k, o->pk.libs[j]);
		}
		for (int j = i; j < argc; j++)
			ARG(v, k, argv[j]);
		status = spawn(v, NULL, -1, out, err);
	}
	free(v);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	first_line(t->err, line, sizeof(line));
	if (status == ELFVM_EXIT_USAGE && strstr(line, "unknown verb"))
		return trim_fail(
			"--trim=%s needs `elfvm analyze`, which this elfvm does not "
			"have (--trim=dynamic works without it)",
			o->trim);
	if (status != 0)
		return trim_fail("elfvm analyze failed with status %d: %s", status, line);
	return 0;
}

/* FNV-1a, 64 bits: the cache key of a list and a full kernel. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (size_t j = 0; j < n; j++)
		h = (h ^ ((const unsigned char *)p)[j]) * 0x100000001b3ULL;
	return h;
}

/* sh SRC/tools/trim_table.sh MODE LIST [ARG] with stdout into path.
 * Returns its status, or -1. */
static int table_script(const char *src, const char *mode, const char *list, const char *arg,
			const char *path)
{
	char script[PATH_MAX + 32];
	char *v[] = { "/bin/sh", script, (char *)mode, (char *)list, (char *)arg, NULL };
	int out = open_out(path), status;

	snprintf(script, sizeof(script), "%s/tools/trim_table.sh", src);
	status = out < 0 ? -1 : spawn(v, NULL, -1, out, -1);
	if (out >= 0)
		close(out);
	return status;
}

/* The list's entries as tools/trim_table.sh reads them, hashed with the
 * full kernel's size and mtime into key; how many of syscalls/table.h's
 * entries it keeps in *count.  Returns 0 or 125 after a message. */
static int list_key(const char *src, const char *full, const struct trim_tmp *t, char *key, size_t n,
		    int *count)
{
	char line[256], table[PATH_MAX + 32];
	uint64_t h = 0xcbf29ce484222325ULL;
	int status = table_script(src, "names", t->list, NULL, t->names);
	struct stat st;
	FILE *f;

	if (status != 0 || !(f = fopen(t->names, "re")))
		return trim_fail("tools/trim_table.sh names %s failed (status %d)", t->list, status);
	while (fgets(line, sizeof(line), f))
		h = fnv(h, line, strlen(line));
	fclose(f);
	snprintf(table, sizeof(table), "%s/syscalls/table.h", src);
	*count = -1;
	if (table_script(src, "count", t->list, table, t->names) == 0 && (f = fopen(t->names, "re"))) {
		if (fscanf(f, "%d", count) != 1)
			*count = -1;
		fclose(f);
	}
	if (stat(full, &st) < 0)
		return trim_fail("%s: %s (build it with make)", full, strerror(errno));
	h = fnv(h, &st.st_size, sizeof(st.st_size));
	h = fnv(h, &st.st_mtim, sizeof(st.st_mtim));
	snprintf(key, n, "%016llx", (unsigned long long)h);
	return 0;
}

/* `make -s SYSCALLS=LIST trim` in src (one at a time per tree: a lock on
 * build/trim/.lock), then the trimmed kernel copied to the cache path in
 * kernel, or when kernel is "" its path in src put there.  Returns 0 or
 * 125 after a message. */
static int build(const char *src, const struct trim_tmp *t, char *kernel, size_t n, int verbose)
{
	char var[PATH_MAX + 32], lock[PATH_MAX + 32], made[PATH_MAX + 64], tmp[PATH_MAX + 32];
	char out_path[PATH_MAX + 16], line[PATH_MAX + 64] = "";
	/* A make above elfvm (make test) must not pass its flags and jobserver
	 * down to this one, which is no part of that build. */
	char *v[] = { "/usr/bin/env", "-u",   "MAKEFLAGS", "-u", "MFLAGS", "-u",
		      "MAKELEVEL",    "make", "-s",        var,  "trim",   NULL };
	int out, err, lk, status, r = 0;
	FILE *f;

	snprintf(var, sizeof(var), "SYSCALLS=%s", t->list);
	snprintf(out_path, sizeof(out_path), "%s/make.out", t->dir);
	snprintf(lock, sizeof(lock), "%s/build/trim", src);
	mkdir(lock, 0755);
	snprintf(lock, sizeof(lock), "%s/build/trim/.lock", src);
	lk = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lk >= 0)
		flock(lk, LOCK_EX);
	out = open_out(out_path);
	err = open_out(t->err);
	status = out < 0 || err < 0 ? -1 : spawn(v, src, -1, out, err);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	if (lk >= 0)
		close(lk);
	/* make's stderr (the compiler's, the list's notes) is shown when it
	 * failed or with --verbose. */
	if ((status != 0 || verbose) && (f = fopen(t->err, "re"))) {
		char l[1024];
		while (fgets(l, sizeof(l), f))
			fprintf(stderr, "elfvm: make: %s", l);
		fclose(f);
	}
	if (status != 0)
		return trim_fail("make SYSCALLS=%s in %s failed (status %d)", t->list, src, status);
	if ((f = fopen(out_path, "re"))) {
		char l[PATH_MAX + 64];
		while (fgets(l, sizeof(l), f)) {
			if (verbose)
				fprintf(stderr, "elfvm: make: %s", l);
			if (!strncmp(l, "trimmed kernel: ", 16))
				snprintf(line, sizeof(line), "%s", l + 16);
		}
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	if (!line[0])
		return trim_fail("make SYSCALLS=… trim in %s named no kernel", src);
	snprintf(made, sizeof(made), "%s/%s", src, line);
	if (!kernel[0]) {
		snprintf(kernel, n, "%s", made);
		return 0;
	}
	/* Copied under a name of its own, then renamed: a run that finds
	 * KEY.elf finds all of it. */
	snprintf(tmp, sizeof(tmp), "%s.%d", kernel, (int)getpid());
	char *cp[] = { "/bin/cp", made, tmp, NULL };
	if (spawn(cp, NULL, -1, -1, 2) != 0 || rename(tmp, kernel) < 0) {
		unlink(tmp);
		r = trim_fail("cannot copy %s to %s", made, kernel);
	}
	return r;
}

int trim_kernel_sizes(const char *path, uint64_t *text, uint64_t *loaded)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;
	Elf *e;
	size_t shstr, nph;

	*text = *loaded = 0;
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE || !(e = elf_begin(fd, ELF_C_READ, NULL))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (elf_getshdrstrndx(e, &shstr) == 0 && elf_getphdrnum(e, &nph) == 0) {
		GElf_Shdr sh;
		GElf_Phdr ph;
		for (Elf_Scn *s = elf_nextscn(e, NULL); s; s = elf_nextscn(e, s)) {
			const char *name =
				gelf_getshdr(s, &sh) ? elf_strptr(e, shstr, sh.sh_name) : NULL;
			if (name && !strcmp(name, ".text"))
				*text = sh.sh_size;
		}
		for (size_t j = 0; j < nph; j++)
			if (gelf_getphdr(e, (int)j, &ph) && ph.p_type == PT_LOAD)
				*loaded += ph.p_memsz;
		r = 0;
	}
	elf_end(e);
	close(fd);
	return r;
}

/* --verbose: which kernel, from which list, and how much smaller. */
static void say_trimmed(const struct run_opts *o, const char *kernel, const char *full, int count,
			int cached)
{
	uint64_t ft, fl, tt, tl;

	fprintf(stderr, "elfvm: trimmed kernel (--trim=%s: %d of the kernel's syscalls kept), %s: %s\n",
		o->trim, count, cached ? "from the cache" : "built now", kernel);
	if (trim_kernel_sizes(full, &ft, &fl) == 0 && trim_kernel_sizes(kernel, &tt, &tl) == 0 && ft &&
	    fl)
		fprintf(stderr,
			"elfvm: trimmed kernel: .text %llu of %llu bytes (-%.1f%%), loaded %llu "
			"of %llu (-%.1f%%)\n",
			(unsigned long long)tt, (unsigned long long)ft,
			100.0 * (double)(ft - tt) / (double)ft, (unsigned long long)tl,
			(unsigned long long)fl, 100.0 * (double)(fl - tl) / (double)fl);
}

/* The list for o->trim into t->list (dynamic: the profile file itself). */
static int make_list(const char *self, const struct run_opts *o, int argc, char **argv, int i,
		     struct trim_tmp *t)
{
	int dynamic = strcmp(o->trim, "static"), r;

	if (dynamic && (r = profile_run(self, argc, argv, i, t)))
		return r;
	if (!strcmp(o->trim, "dynamic")) {
		snprintf(t->list, sizeof(t->list), "%s", t->prof);
		return 0;
	}
	return analyze_run(self, o, argc, argv, i, t, dynamic);
}

static void tmp_remove(const struct trim_tmp *t)
{
	char make_out[PATH_MAX + 16];

	snprintf(make_out, sizeof(make_out), "%s/make.out", t->dir);
	unlink(t->prof);
	unlink(t->list);
	unlink(t->err);
	unlink(t->names);
	unlink(make_out);
	rmdir(t->dir);
}

/* The source tree elfvm was built in (build/elfvm's parent, with its
 * Makefile) in src, and its full kernel in full.  Returns 0 or 125 after
 * a message. */
static int tree_paths(char *src, char *full)
{
	char up[PATH_MAX + 16];
	int r;

	/* build/elfvm → the tree whose Makefile built it. */
	if (vm_beside_elfvm("..", up, sizeof(up)) < 0 || !realpath(up, src))
		return trim_fail("cannot find the source tree above elfvm");
	snprintf(up, sizeof(up), "%s/Makefile", src);
	if (access(up, R_OK) < 0)
		return trim_fail(
			"%s is not the source tree elfvm was built in (no Makefile): "
			"--trim needs it to build the kernel",
			src);
	if ((r = vm_default_kernel(full, PATH_MAX)) < 0)
		return trim_fail("cannot find the full kernel: %s", strerror(-r));
	return 0;
}

/* t's temporary directory and the names of its files.  0 or 125. */
static int tmp_make(struct trim_tmp *t)
{
	const char *tmpdir = getenv("TMPDIR");

	snprintf(t->dir, sizeof(t->dir), "%s/elfvm-trim.XXXXXX",
		 tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp");
	if (!mkdtemp(t->dir))
		return trim_fail("cannot create a temporary directory: %s", strerror(errno));
	snprintf(t->prof, sizeof(t->prof), "%s/profile", t->dir);
	snprintf(t->list, sizeof(t->list), "%s/list", t->dir);
	snprintf(t->err, sizeof(t->err), "%s/stderr", t->dir);
	snprintf(t->names, sizeof(t->names), "%s/names", t->dir);
	return 0;
}

/* The kernel for t->list: from the cache ($XDG_CACHE_HOME/elfvm/trim/
 * KEY.elf) unless !use_cache, else built now (without the cache it is
 * booted where make left it, in the source tree).  Its path in kernel, the
 * table's count in *count, whether it came from the cache in *cached.
 * Returns 0 or 125 after a message. */
static int kernel_for_list(const char *src, const char *full, const struct trim_tmp *t, int use_cache,
			   int verbose, char *kernel, size_t n, int *count, int *cached)
{
	char key[32], cache[PATH_MAX];
	int r = list_key(src, full, t, key, sizeof(key), count);

	*cached = 0;
	if (!r && use_cache && cache_dir(cache, sizeof(cache)) == 0 &&
	    strlen(cache) + 6 < sizeof(cache)) {
		strcat(cache, "/trim");
		mkdir(cache, 0700);
		snprintf(kernel, n, "%s/%s.elf", cache, key);
		*cached = access(kernel, R_OK) == 0;
	} else {
		kernel[0] = '\0';
	}
	if (!r && !*cached)
		r = build(src, t, kernel, n, verbose);
	return r;
}

int trim_kernel(const struct run_opts *o, int argc, char **argv, int i, char *kernel, size_t n)
{
	char self[PATH_MAX], src[PATH_MAX], full[PATH_MAX];
	struct trim_tmp t;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int r, count = 0, cached = 0;

	if (len < 0)
		return trim_fail("cannot find elfvm itself: %s", strerror(errno));
	self[len] = '\0';
	if ((r = tree_paths(src, full)) || (r = tmp_make(&t)))
		return r;
	r = make_list(self, o, argc, argv, i, &t);
	if (!r)
		r = kernel_for_list(src, full, &t, !o->no_cache, o->verbose, kernel, n, &count, &cached);
	if (!r && o->verbose)
		say_trimmed(o, kernel, full, count, cached);
	tmp_remove(&t);
	return r;
}

int trim_list_kernel(const char *list, char *kernel, size_t n, int *count)
{
	char src[PATH_MAX], full[PATH_MAX];
	struct trim_tmp t;
	int r, cached;

	if ((r = tree_paths(src, full)) || (r = tmp_make(&t)))
		return r;
	snprintf(t.list, sizeof(t.list), "%s", list);
	r = kernel_for_list(src, full, &t, 1, 0, kernel, n, count, &cached);
	snprintf(t.list, sizeof(t.list), "%s/list", t.dir); /* the caller's stays */
	tmp_remove(&t);
	return r;
}
