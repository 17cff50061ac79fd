// SPDX-License-Identifier: MIT
/* procfs: /proc, /sys and /dev say what Linux says about the program.
 * /proc/self/exe names the program (same basename as argv[0]);
 * /proc/self/cmdline is argv, NUL-separated, and environ is envp;
 * /proc/self/maps shows the stack and the executable's own mappings;
 * status, stat and comm carry pid and name in Linux's layout; auxv holds
 * AT_PAGESZ; /proc/self/fd lists 0, 1 and 2 as links; /proc/cpuinfo,
 * meminfo, uptime, version, mounts and osrelease read as on Linux;
 * /sys/devices/system/cpu/online exists; the /dev nodes are character
 * devices with Linux's numbers and stdin/stdout/stderr link into
 * /proc/self/fd.  Only "ok" lines are printed, so the output is the same
 * on any host; a failure says what was expected and what came. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

/* argv or envp as the kernel lays it out: each string and its NUL. */
static char *joined(char **v, int n, size_t *len)
{
	size_t size = 1;
	for (int i = 0; i < n; i++)
		size += strlen(v[i]) + 1;
	char *buf = malloc(size);
	*len = 0;
	for (int i = 0; buf && i < n; i++) {
		memcpy(buf + *len, v[i], strlen(v[i]) + 1);
		*len += strlen(v[i]) + 1;
	}
	return buf;
}

/* The whole file, read in small pieces (procfs files report size 0), with
 * a NUL after it; *len is its length.  NULL when it cannot be opened. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	size_t n = 0, cap = 256;
	char *buf = malloc(cap + 1);
	ssize_t r;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + n, 100)) > 0) {
		n += r;
		if (cap - n < 100 && !(buf = realloc(buf, (cap *= 2) + 1)))
			exit(2);
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* The line of text that starts with prefix, or NULL. */
static const char *line_starting(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return p;
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void check_exe(const char *argv0, char *exe, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", exe, size - 1);

	exe[n > 0 ? n : 0] = 0;
	ok_got(n > 0 && exe[0] == '/', "/proc/self/exe is an absolute path", exe);
	ok_got(strcmp(base_name(exe), base_name(argv0)) == 0, "/proc/self/exe has argv[0]'s basename",
	       exe);
}

static void check_cmdline(int argc, char **argv)
{
	size_t len, want;
	char *c = slurp("/proc/self/cmdline", &len), *w = joined(argv, argc, &want);

	ok_got(c && w && len == want && memcmp(c, w, len) == 0, "/proc/self/cmdline is argv", c);
	free(c);
	free(w);

	int n = 0;
	while (environ[n])
		n++;
	c = slurp("/proc/self/environ", &len);
	w = joined(environ, n, &want);
	ok_got(c && w && len == want && memcmp(c, w, len) == 0, "/proc/self/environ is envp", c);
	free(c);
	free(w);
}

static void check_maps(const char *exe)
{
	char *m = slurp("/proc/self/maps", NULL);
	char *own = malloc(strlen(exe) + 3);

	sprintf(own, " %s\n", exe);
	ok_got(m && strstr(m, " [stack]\n"), "/proc/self/maps has the [stack]", m);
	ok_got(m && strstr(m, own), "/proc/self/maps names the executable", m);
	ok_got(m && strchr(m, '-') && strstr(m, " r-xp "), "/proc/self/maps has an r-xp mapping", m);
	free(own);
	free(m);
}

static void check_status(const char *exe)
{
	char name[16], want[64], *s = slurp("/proc/self/status", NULL);

	snprintf(name, sizeof(name), "%s", base_name(exe)); /* TASK_COMM_LEN */
	snprintf(want, sizeof(want), "Name:\t%s\n", name);
	ok_got(s && line_starting(s, want), "/proc/self/status has Name: and the comm", s);
	snprintf(want, sizeof(want), "Pid:\t%d\n", (int)getpid());
	ok_got(s && line_starting(s, want), "/proc/self/status has Pid: and getpid()", s);
	ok_got(s && line_starting(s, "VmRSS:\t") && line_starting(s, "Threads:\t1\n"),
	       "/proc/self/status has VmRSS: and Threads:", s);
	free(s);

	s = slurp("/proc/self/comm", NULL);
	snprintf(want, sizeof(want), "%s\n", name);
	ok_got(s && strcmp(s, want) == 0, "/proc/self/comm is the name and a newline", s);
	free(s);

	s = slurp("/proc/self/stat", NULL);
	snprintf(want, sizeof(want), "%d (%s) R ", (int)getpid(), name);
	int fields = 2;
	for (const char *p = s && strrchr(s, ')') ? strrchr(s, ')') + 1 : ""; *p; p++)
		fields += *p == ' ';
	ok_got(s && strncmp(s, want, strlen(want)) == 0, "/proc/self/stat starts pid (comm) R", s);
	ok_got(s && fields == 52 && s[strlen(s) - 1] == '\n', "/proc/self/stat has 52 fields", s);
	free(s);
}

static void check_auxv(void)
{
	size_t len;
	unsigned long *a = (unsigned long *)slurp("/proc/self/auxv", &len), page = 0;

	for (size_t i = 0; a && i + 1 < len / sizeof(*a) && a[i]; i += 2)
		if (a[i] == AT_PAGESZ)
			page = a[i + 1];
	ok_got(page == getauxval(AT_PAGESZ) && page == 4096, "/proc/self/auxv has AT_PAGESZ 4096", NULL);
	free(a);
}

static void check_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int seen = 0;
	struct dirent *e;
	char link[64];

	while (d && (e = readdir(d)))
		if (strlen(e->d_name) == 1 && e->d_name[0] >= '0' && e->d_name[0] <= '2')
			seen |= 1 << (e->d_name[0] - '0');
	if (d)
		closedir(d);
	ok_got(seen == 7, "/proc/self/fd lists 0, 1 and 2", NULL);
	ok_got(readlink("/proc/self/fd/1", link, sizeof(link)) > 0, "/proc/self/fd/1 is a link", NULL);
}

static void check_system(void)
{
	char *s = slurp("/proc/cpuinfo", NULL);
	ok_got(s && line_starting(s, "processor\t: 0\n") && line_starting(s, "flags\t\t: "),
	       "/proc/cpuinfo has processor 0 and flags", s);
	free(s);
	s = slurp("/proc/meminfo", NULL);
	ok_got(s && line_starting(s, "MemTotal: ") && strstr(s, " kB\n"),
	       "/proc/meminfo has MemTotal: in kB", s);
	free(s);
	double up = -1, idle = -1;
	s = slurp("/proc/uptime", NULL);
	ok_got(s && sscanf(s, "%lf %lf", &up, &idle) == 2 && up > 0 && idle >= 0,
	       "/proc/uptime has two positive numbers", s);
	free(s);
	s = slurp("/proc/version", NULL);
	ok_got(s && strncmp(s, "Linux version ", 14) == 0, "/proc/version starts Linux version", s);
	free(s);
	s = slurp("/proc/self/mounts", NULL);
	ok_got(s && strstr(s, " /proc proc "), "/proc/self/mounts has /proc as proc", s);
	free(s);
	struct utsname u;
	char want[80];
	uname(&u);
	snprintf(want, sizeof(want), "%s\n", u.release);
	s = slurp("/proc/sys/kernel/osrelease", NULL);
	ok_got(s && strcmp(s, want) == 0, "/proc/sys/kernel/osrelease is uname's release", s);
	free(s);
	s = slurp("/sys/devices/system/cpu/online", NULL);
	ok_got(s && s[0] == '0', "/sys/devices/system/cpu/online starts with cpu 0", s);
	free(s);
}

static void check_dev(void)
{
	static const struct {
		const char *path;
		unsigned major, minor;
	} devs[] = {
		{ "/dev/null", 1, 3 },   { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
		{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
	};
	struct stat st;
	char what[80], link[64];

	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		int r = stat(devs[i].path, &st);
		snprintf(what, sizeof(what), "%s is character device %u,%u", devs[i].path, devs[i].major,
			 devs[i].minor);
		ok_got(r == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == devs[i].major &&
			       minor(st.st_rdev) == devs[i].minor,
		       what, NULL);
	}
	static const char *const std[] = { "stdin", "stdout", "stderr" };
	for (int i = 0; i < 3; i++) {
		char path[32], want[32];
		snprintf(path, sizeof(path), "/dev/%s", std[i]);
		snprintf(want, sizeof(want), "/proc/self/fd/%d", i);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		snprintf(what, sizeof(what), "%s links to %s", path, want);
		ok_got(strcmp(link, want) == 0, what, link);
	}
}

int main(int argc, char **argv)
{
	static char exe[4096];

	check_exe(argv[0], exe, sizeof(exe));
	check_cmdline(argc, argv);
	check_maps(exe);
	check_status(exe);
	check_auxv();
	check_fds();
	check_system();
	check_dev();
	return bad;
}
