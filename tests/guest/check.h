// SPDX-License-Identifier: MIT
/* check.h: the helpers the self-checking guest programs share.  Include it
 * after the system headers (a program defines _GNU_SOURCE first).  Offers:
 *   bad                  non-zero once a check failed (main returns it)
 *   okf(cond, what, fmt, ...)  prints "ok WHAT", or "FAIL: WHAT (DETAIL)"
 *                        with DETAIL formatted from FMT; every check below
 *                        reports through it
 *   ok(cond, what)       okf with errno as the detail
 *   fails(r, e, what)    ok when R is -1 with errno E
 *   ok_got(cond, what, got)       okf with the string GOT as the detail
 *   ok_vals(cond, what, a, b)     okf with the two numbers that decided it
 *   now()                CLOCK_MONOTONIC in seconds
 *   rmtree(path)         removes PATH and everything under it
 *   enter_workdir(name)  makes and enters a fresh /tmp/elfvm-t-NAME.PID
 *   leave_workdir()      leaves and removes it, checking that it is gone
 *   put(path, text)      PATH holds exactly TEXT (mode 0644); 0 or -1
 *   has(path, text)      PATH holds exactly TEXT (read once, at most 256 bytes)
 *   struct lx_dirent64   a getdents64 record
 * Every program is compiled alone, so all of it is static and marked unused:
 * a program pays only for what it calls. */
#ifndef ELFVM_TESTS_GUEST_CHECK_H
#define ELFVM_TESTS_GUEST_CHECK_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define CHECK_UNUSED __attribute__((unused))

/* getdents64's record (linux/dirent.h), written out: the musl builds have
 * no kernel headers. */
struct lx_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int bad CHECK_UNUSED;

/* okf: the one place a check is reported.  Prints "ok WHAT" when COND holds,
 * else "FAIL: WHAT (DETAIL)" with DETAIL formatted from FMT, as one printf so
 * that lines of checks in several threads do not mix.  stdout is flushed at
 * once: the line is out before a crash, an exit from another thread or a
 * raw write(1) that follows.  errno is cleared for the next check. */
static CHECK_UNUSED __attribute__((format(printf, 3, 4))) void
okf(int cond, const char *what, const char *fmt, ...)
{
	if (cond) {
		printf("ok %s\n", what);
	} else {
		char detail[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof detail, fmt, ap);
		va_end(ap);
		printf("FAIL: %s (%s)\n", what, detail);
	}
	fflush(stdout);
	bad |= !cond;
	errno = 0;
}

/* ok: COND holds; a failure shows errno as it was when ok was called. */
static inline CHECK_UNUSED void ok(int cond, const char *what)
{
	int e = errno;
	okf(cond, what, "errno %d %s", e, strerror(e));
}

/* fails: R is -1 with errno E. */
static inline CHECK_UNUSED void fails(long r, int e, const char *what)
{
	int got = errno;
	okf(r == -1 && got == e, what, "expected -1 errno %d %s, got %ld errno %d %s", e, strerror(e), r,
	    got, strerror(got));
}

/* ok_got: COND holds; a failure shows GOT (at most 200 bytes; NULL is
 * "nothing"), the text the check looked at. */
static inline CHECK_UNUSED void ok_got(int cond, const char *what, const char *got)
{
	okf(cond, what, "got: %.200s", got ? got : "nothing");
}

/* ok_vals: COND holds; a failure shows A and B, the values that decided it. */
static inline CHECK_UNUSED void ok_vals(int cond, const char *what, long long a, long long b)
{
	okf(cond, what, "got %lld and %lld", a, b);
}

static inline CHECK_UNUSED double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* rmtree: remove PATH and everything under it (names read first, then
 * removed, so the directory is not changed while it is read). */
static CHECK_UNUSED void rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	DIR *d = opendir(path);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		sprintf(names[n++], "%s/%s", path, e->d_name);
	}
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++) {
		rmtree(names[i]);
		free(names[i]);
	}
	free(names);
	rmdir(path);
}

static char workdir[64] CHECK_UNUSED;

/* enter_workdir: make and enter a fresh /tmp/elfvm-t-NAME.PID (umask 022);
 * prints FAIL and exits 1 when it cannot. */
static inline CHECK_UNUSED void enter_workdir(const char *name)
{
	snprintf(workdir, sizeof workdir, "/tmp/elfvm-t-%s.%d", name, (int)getpid());
	rmtree(workdir);
	umask(022);
	if (mkdir(workdir, 0755) != 0 || chdir(workdir) != 0) {
		printf("FAIL: cannot make and enter %s\n", workdir);
		exit(1);
	}
}

static inline CHECK_UNUSED void leave_workdir(void)
{
	ok(chdir("/") == 0, "chdir / to leave the work directory");
	rmtree(workdir);
	struct stat st;
	fails(lstat(workdir, &st), ENOENT, "the work directory is gone");
}

/* put: PATH holds exactly TEXT (created with mode 0644). */
static inline CHECK_UNUSED int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	int r = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	return close(fd) == 0 && r ? 0 : -1;
}

/* has: PATH holds exactly TEXT. */
static inline CHECK_UNUSED int has(const char *path, const char *text)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	return n == (ssize_t)strlen(text) && !memcmp(buf, text, n);
}

#endif
