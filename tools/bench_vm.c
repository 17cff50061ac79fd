/* SPDX-License-Identifier: MIT */
/*
 * Runs one program for `elfvm bench` and reads its console with a
 * timestamp per read, so that the first byte of the program's output can be
 * dated.  elfvm boots through vm_run (vmm.c) in a child whose fd 1 is our
 * pipe; the Linux VM is started by bench_linux.c; the host's reference runs
 * the program directly.  For the network rows the program (netsrv) is
 * started, the host's client (bench_net.c) runs once it listens, then it is
 * told to quit.  No median is computed here: bench.c writes the report.
 */
#define _GNU_SOURCE /* pipe2, memmem */
#include "tools/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const bench_vm_names[VM_N + 1] = { "elfvm", "linux", "host" };
const char *const bench_prog_names[P_N] = { "hello", "getppid", "console", "net" };
/* What the programs print: hello's whole output; getppid's figure; the
 * start of the console's file; netsrv's records. */
static const char *const prog_marker[P_N] = { "hello", "@@bench getppid_ns=", "@@bench data ",
					      "@@bench done" };
/* netsrv's own bound: every measure's budget and a margin. */
#define NETSRV_SECS (4 * BENCH_NET_BUDGET_S + 60)

void bench_fmt(char *out, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(out, n, f, ap);
	va_end(ap);
}

static double ms_since(int64_t t0, int64_t t)
{
	return t > 0 ? (t - t0) / 1e6 : -1;
}

unsigned char *bench_file_read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !(buf = malloc(st.st_size + 1)))
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, st.st_size - got);
		if (r <= 0) {
			free(buf);
			buf = NULL;
			goto out;
		}
		got += r;
	}
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* ---- reading a VM's console ---------------------------------------------- */

/* The console output of one run, with the arrival time of each read so
 * that the first byte of a marker can be dated. */
struct capture {
	char *buf;
	size_t len, cap;
	int64_t *chunk_t;  /* chunk i: time it arrived, */
	size_t *chunk_end; /*   and the offset just past it */
	size_t nchunk, chunk_cap;
};

static void capture_free(struct capture *c)
{
	free(c->buf), free(c->chunk_t), free(c->chunk_end);
	memset(c, 0, sizeof(*c));
}

/* Appends what one read returned.  Returns 0, or -1 out of memory. */
static int capture_add(struct capture *c, const char *p, size_t n, int64_t t)
{
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *b = realloc(c->buf, cap);
		if (!b)
			return -1;
		c->buf = b, c->cap = cap;
	}
	if (c->nchunk == c->chunk_cap) {
		size_t cap = c->chunk_cap ? c->chunk_cap * 2 : 64;
		int64_t *ct = realloc(c->chunk_t, cap * sizeof(*ct));
		if (ct)
			c->chunk_t = ct;
		size_t *ce = realloc(c->chunk_end, cap * sizeof(*ce));
		if (!ct || !ce)
			return -1;
		c->chunk_end = ce, c->chunk_cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->buf[c->len] = '\0';
	c->chunk_t[c->nchunk] = t;
	c->chunk_end[c->nchunk++] = c->len;
	return 0;
}

/* When the first byte of marker arrived; 0 when it never did. */
static int64_t capture_when(const struct capture *c, const char *marker)
{
	const char *m = c->len ? memmem(c->buf, c->len, marker, strlen(marker)) : NULL;

	if (!m)
		return 0;
	for (size_t i = 0; i < c->nchunk; i++)
		if (c->chunk_end[i] > (size_t)(m - c->buf))
			return c->chunk_t[i];
	return 0;
}

/* The line that starts with prefix, when the whole line has arrived;
 * else NULL. */
static const char *capture_line(const struct capture *c, const char *prefix)
{
	const char *m = c->len ? memmem(c->buf, c->len, prefix, strlen(prefix)) : NULL;

	return m && memchr(m, '\n', c->len - (size_t)(m - c->buf)) ? m : NULL;
}

/* When capture_fd may stop before the end: a whole line that starts with
 * line, or len bytes that start with the 13 bytes at head (the console
 * file, "@@bench data ..."). */
struct stop {
	const char *line;
	const unsigned char *head;
	size_t len;
};

static int capture_stop(const struct capture *c, const struct stop *stop)
{
	const char *m;

	if (stop->line)
		return capture_line(c, stop->line) != NULL;
	m = c->len ? memmem(c->buf, c->len, stop->head, 13) : NULL;
	return m && c->len - (size_t)(m - c->buf) >= stop->len;
}

/* Reads fd until end of file, the deadline, or (stop not NULL) what stop
 * says.  Returns 0 at end of file, 1 on timeout, 2 at stop, -1 on
 * error. */
static int capture_fd(struct capture *c, int fd, int64_t deadline, const struct stop *stop)
{
	char buf[65536];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - vm_now_ns();

		if (left <= 0)
			return 1;
		if (poll(&p, 1, (int)(left / 1000000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!p.revents)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && capture_add(c, buf, r, vm_now_ns()) < 0)
			return -1;
		if (stop && capture_stop(c, stop))
			return 2;
	}
}

/* getppid's "@@bench NAME_ns=X NAME_direct_ns=Y calls=N" into trap and
 * direct (-1 for "n/a").  Returns 0, or -1 when the line or its trap
 * figure is missing. */
static int rw_parse(const struct capture *c, const char *name, double *trap, double *direct)
{
	char key[32], fmt[64], *end;
	const char *l;
	int at = -1;

	bench_fmt(key, sizeof(key), "@@bench %s_ns=", name);
	bench_fmt(fmt, sizeof(fmt), "%s%%lf %s_direct_ns=%%n", key, name);
	if (!(l = capture_line(c, key)) || sscanf(l, fmt, trap, &at) != 1 || at < 0)
		return -1;
	*direct = strtod(l + at, &end);
	if (end == l + at)
		*direct = -1;
	return 0;
}

/* getppid's read and write rows, or s->ok 0 with why: its own "@@bench
 * error" line (it exits 1 after it) before the bare exit status. */
static void rw_judge(struct sample *s, const struct capture *c)
{
	const char *e = capture_line(c, "@@bench error ");

	if (e) {
		s->ok = 0;
		bench_fmt(s->why, sizeof(s->why), "%.*s", (int)strcspn(e + 14, "\r\n"), e + 14);
	} else if (rw_parse(c, "read", &s->read_ns, &s->read_direct_ns) < 0 ||
		   rw_parse(c, "write", &s->write_ns, &s->write_direct_ns) < 0) {
		if (s->ok)
			bench_fmt(s->why, sizeof(s->why), "no read or write figure in the output");
		s->ok = 0;
	}
}

/* Fills s from a finished run's console: getppid's figures, and whether
 * the program's output is there at all. */
static void sample_parse(struct sample *s, const struct capture *c, int prog, long calls)
{
	int64_t t0 = capture_when(c, "@@bench begin"), t1 = capture_when(c, "getppid:");
	const char *m = c->len ? strstr(c->buf, prog_marker[prog]) : NULL;

	if (prog == P_GETPPID)
		rw_judge(s, c);
	if (!m) {
		s->ok = 0;
		if (!s->why[0])
			bench_fmt(s->why, sizeof(s->why), "no '%s' in the output", prog_marker[prog]);
		return;
	}
	if (prog != P_GETPPID)
		return;
	s->getppid_ns = strtod(m + strlen(prog_marker[prog]), NULL);
	/* "=n/a" where the vDSO has no direct entry (Linux's): no figure. */
	const char *d = strstr(c->buf, "@@bench getppid_direct_ns=");
	char *end;
	if (d) {
		d += strlen("@@bench getppid_direct_ns=");
		s->direct_ns = strtod(d, &end);
		if (end == d)
			s->direct_ns = -1;
	}
	s->loop_ns = t0 && t1 > t0 ? (double)(t1 - t0) / calls : -1;
}

/* The console row: the whole file must have arrived unchanged; the rate
 * is the bytes after the first read that held the file's first byte,
 * over the time from that read to the read that held its last byte. */
static void console_parse(struct sample *s, const struct capture *c, const struct bench *b)
{
	const char *m = c->len ? memmem(c->buf, c->len, b->console, 13) : NULL;
	size_t at = m ? (size_t)(m - c->buf) : 0, end = at + b->console_len, i = 0, j;

	if (!m) {
		bench_fmt(s->why, sizeof(s->why), "the file's first bytes never arrived");
		s->ok = 0;
		return;
	}
	if (c->len < end || memcmp(m, b->console, b->console_len)) {
		size_t k = 0, have = c->len - at < b->console_len ? c->len - at : b->console_len;
		while (k < have && m[k] == (char)b->console[k])
			k++;
		if (k == have && have < b->console_len)
			bench_fmt(s->why, sizeof(s->why), "only %zu of the file's %zu bytes arrived",
				  have, b->console_len);
		else
			bench_fmt(s->why, sizeof(s->why),
				  "the console's copy differs from the file at byte %zu of %zu", k,
				  b->console_len);
		s->ok = 0;
		return;
	}
	while (c->chunk_end[i] <= at)
		i++;
	for (j = i; c->chunk_end[j] < end; j++)
		;
	if (j == i) {
		bench_fmt(s->why, sizeof(s->why), "the whole file came in one read: no rate");
		s->ok = 0;
		return;
	}
	s->console_mbs = (end - c->chunk_end[i]) / 1e6 / ((c->chunk_t[j] - c->chunk_t[i]) / 1e9);
}

void bench_path_join(char *out, const char *dir, const char *name)
{
	bench_fmt(out, PATH_MAX, "%s/%s", dir, name);
}

void bench_prog_argv(const struct bench *b, int prog, char bufs[2][24], char **argv)
{
	int i = 0;

	argv[i++] = (char *)b->prog[prog];
	if (prog == P_GETPPID) {
		bench_fmt(bufs[0], 24, "%ld", b->o.calls);
		argv[i++] = bufs[0];
	} else if (prog == P_CONSOLE) {
		argv[i++] = "cat";
		argv[i++] = BENCH_CONSOLE_FILE;
	} else if (prog == P_NET) {
		bench_fmt(bufs[0], 24, "%d", BENCH_NET_PORT);
		bench_fmt(bufs[1], 24, "%d", NETSRV_SECS);
		argv[i++] = bufs[0];
		argv[i++] = bufs[1];
	}
	argv[i] = NULL;
}

pid_t bench_spawn(char *const *argv, const char *errlog, int *fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int err = open(errlog ? errlog : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(in, 0), dup2(p[1], 1), dup2(err, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	*fd = p[0];
	return pid;
}

/* ---- one run: start, wait for a record, end ------------------------------ */

struct proc {
	int vm, prog;
	pid_t pid;
	int fd, res;          /* the console; elfvm: the vm_result pipe, else -1 */
	int64_t t0, deadline; /* just before the fork; when to give up */
	int stopped;          /* the host ended it on purpose (stop_now) */
	struct capture c;
	char errlog[PATH_MAX];
};

/* Runs in a child whose fd 1 is the capture pipe (vm_run hands fd 1 to
 * QEMU for the program's stdout); sends the vm_result back on fd res and
 * exits. */
static void elfvm_child(struct bench *b, int prog, const char *netdev, double timeout, int res)
{
	char logpath[PATH_MAX], name[64];
	struct vm_result r;
	struct vm_config cfg = {
		.kernel = b->kernel[VM_ELFVM],
		.initrd = b->image[VM_ELFVM][prog],
		.mem = b->o.mem,
		.cpus = 1,
		.accel = b->o.accel,
		.machine = b->o.machine,
		.timeout = timeout,
		.netdev = netdev,
	};

	bench_fmt(name, sizeof(name), "elfvm-%s.log", bench_prog_names[prog]);
	bench_path_join(logpath, b->o.outdir, name);
	cfg.log = fopen(logpath, "w");
	vm_run(&cfg, &r);
	if (cfg.log)
		fclose(cfg.log);
	if (write(res, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

static pid_t elfvm_spawn(struct bench *b, int prog, const char *netdev, double timeout, int *fd,
			 int *res)
{
	int out[2], rp[2];
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(rp, O_CLOEXEC) < 0) {
		close(out[0]), close(out[1]);
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(out[0]), close(rp[0]);
		dup2(out[1], 1);
		elfvm_child(b, prog, netdev, timeout, rp[1]);
	}
	close(out[1]), close(rp[1]);
	if (pid < 0) {
		close(out[0]), close(rp[0]);
		return -1;
	}
	*fd = out[0], *res = rp[0];
	return pid;
}

/* Starts prog on p->vm (timeout in s; netdev for a virtio-net device, or
 * NULL; argv for the host).  Returns 0, or -1 with s->why set. */
static int proc_start(struct bench *b, struct proc *p, const char *netdev, double timeout,
		      char *const *argv, struct sample *s)
{
	char name[64];

	bench_fmt(name, sizeof(name), "%s-qemu.log", bench_vm_names[p->vm]);
	bench_path_join(p->errlog, b->o.outdir, name);
	p->res = -1;
	p->t0 = vm_now_ns();
	p->deadline = p->t0 + (int64_t)(timeout * 1.2e9); /* vm_run's own timeout comes first */
	if (p->vm == VM_ELFVM)
		p->pid = elfvm_spawn(b, p->prog, netdev, timeout, &p->fd, &p->res);
	else if (p->vm == VM_LINUX)
		p->pid = bench_linux_spawn(b, p->prog, netdev, p->errlog, &p->fd);
	else
		p->pid = bench_spawn(argv, NULL, &p->fd);
	if (p->pid < 0)
		bench_fmt(s->why, sizeof(s->why), "fork: %s", strerror(errno));
	return p->pid < 0 ? -1 : 0;
}

/* Reads the child's vm_result.  Returns 0 or -1. */
static int read_result(int fd, struct vm_result *r)
{
	size_t got = 0;

	while (got < sizeof(*r)) {
		ssize_t n = read(fd, (char *)r + got, sizeof(*r) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

static void elfvm_judge(struct sample *s, const struct vm_result *r, const struct capture *c)
{
	s->first_ms = ms_since(r->t_spawn, capture_when(c, prog_marker[P_HELLO]));
	s->start_ms = ms_since(r->t_spawn, r->t_start);
	s->exit_ms = ms_since(r->t_spawn, r->t_exit);
	s->ok = r->status == 0;
	if (r->status && r->message[0])
		bench_fmt(s->why, sizeof(s->why), "%s", r->message);
	else if (r->status)
		bench_fmt(s->why, sizeof(s->why), "exit status %d", r->status);
}

/* Reads the console to its end (killing the child at the deadline), reaps
 * the child and judges the run: s->ok, the boot times, s->why.  The pipe
 * closes when QEMU ends (vm_run takes t_exit the same way). */
static void proc_end(struct proc *p, struct sample *s)
{
	int r = p->stopped ? 1 : capture_fd(&p->c, p->fd, p->deadline, NULL), ws = 0;
	int64_t t_eof = vm_now_ns();
	struct vm_result res;

	close(p->fd);
	if (r != 0)
		kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (p->stopped) { /* nothing to judge: the caller has what it wanted */
		if (p->res >= 0)
			close(p->res);
		s->ok = 1;
		return;
	}
	if (p->vm == VM_ELFVM) {
		if (read_result(p->res, &res) < 0)
			bench_fmt(s->why, sizeof(s->why), "the vm_run child died");
		else
			elfvm_judge(s, &res, &p->c);
		close(p->res);
		return;
	}
	s->exit_ms = r == 0 ? ms_since(p->t0, t_eof) : -1;
	s->first_ms = ms_since(p->t0, capture_when(&p->c, prog_marker[P_HELLO]));
	s->ok = r == 0 && ws == 0;
	if (r != 0)
		bench_fmt(s->why, sizeof(s->why), "timed out after %.0f s", (p->deadline - p->t0) / 1e9);
	else if (ws)
		bench_fmt(s->why, sizeof(s->why), "%s exit status %d%s%s",
			  p->vm == VM_LINUX ? "qemu" : "the program",
			  WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws),
			  p->vm == VM_LINUX ? " (see " : "", p->vm == VM_LINUX ? p->errlog : "");
	if (ws && p->vm == VM_LINUX)
		strcat(s->why, ")");
}

/* ---- the network rows ------------------------------------------------------ */

/* netsrv's "@@bench error WHAT: REASON" line, into s->why. */
static void net_error(struct sample *s, const char *line, const char *vm)
{
	const char *t = line + strlen("@@bench error ");
	int n = (int)strcspn(t, "\r\n");

	bench_fmt(s->why, sizeof(s->why), "%s in %s: %.*s", "netsrv could not start", vm, n, t);
}

/* Ends a TCP run: the side's end judged apart from the client's figures,
 * which stand only when the run ended well and netsrv said it was done;
 * the client's reason comes first. */
static void net_end(struct proc *p, struct sample *s)
{
	struct sample end = *s;

	end.why[0] = '\0';
	proc_end(p, &end);
	s->first_ms = end.first_ms, s->start_ms = end.start_ms, s->exit_ms = end.exit_ms;
	s->ok = s->ok && end.ok && capture_line(&p->c, prog_marker[P_NET]);
	if (!s->why[0] && end.why[0])
		bench_fmt(s->why, sizeof(s->why), "%s", end.why);
}

/* Boots netsrv with hostfwd from a free port on 127.0.0.1 to its port (on
 * the host: netsrv listens on that port), runs the client once it
 * listens, and tells it to quit.  A side whose netsrv cannot create a
 * socket, or whose port nothing forwards (no network device), is
 * "unavailable"; any other error is a failure. */
static void net_run(struct bench *b, struct proc *p, struct sample *s)
{
	int port = bench_net_free_port(), r;
	const char *pub[1];
	char pubspec[64], why[BENCH_WHY] = "", bufs[2][24], *argv[6];
	struct net_opts no = { .mode = "user", .publish = pub, .npublish = 1 };
	static struct net_plan plan;
	const char *line;

	bench_prog_argv(b, P_NET, bufs, argv);
	if (port < 0) {
		bench_fmt(s->why, sizeof(s->why), "no free port on 127.0.0.1: %s", strerror(errno));
		return;
	}
	bench_fmt(pubspec, sizeof(pubspec), "127.0.0.1:%d:%d", port, BENCH_NET_PORT);
	bench_fmt(bufs[0], 24, "%d", port); /* the host's netsrv, on loopback only */
	argv[3] = "127.0.0.1", argv[4] = NULL;
	pub[0] = pubspec;
	if (p->vm != VM_HOST && netopts_prepare(&no, &plan, why, sizeof(why)) < 0) {
		bench_fmt(s->why, sizeof(s->why), "%s", why);
		return;
	}
	if (proc_start(b, p, p->vm == VM_HOST ? NULL : plan.netdev, BENCH_TIMEOUT_S + NETSRV_SECS, argv,
		       s) < 0)
		return;
	r = capture_fd(&p->c, p->fd, p->deadline, &(struct stop){ .line = "@@bench " });
	line = capture_line(&p->c, "@@bench ");
	if (r == 2 && !strncmp(line, "@@bench listening", 17)) {
		bench_net_client(&b->o, port, s);
		if ((r = bench_net_quit(port)) < 0) {
			if (!s->why[0])
				bench_fmt(s->why, sizeof(s->why), "telling netsrv to quit: %s",
					  strerror(-r));
			p->deadline = vm_now_ns(); /* it would wait for its alarm: end it now */
		}
	}
	net_end(p, s);
	line = capture_line(&p->c, "@@bench "); /* the capture may have moved */
	if (line && !strncmp(line, "@@bench error ", 14)) {
		/* No socket at all is a side without a network yet; a bind or
		 * listen that fails on a side that has one is a failure. */
		net_error(s, line, bench_vm_names[p->vm]);
		s->unavailable = !strncmp(line, "@@bench error socket(", 21);
	} else if (p->vm != VM_HOST && strstr(s->why, strerror(ECONNREFUSED))) {
		/* slirp accepts for a forwarded port even when the guest does
		 * not: a refusal means QEMU was given no hostfwd at all. */
		bench_fmt(s->why, sizeof(s->why),
			  "netsrv listens in %s, but nothing forwards 127.0.0.1:%d to it "
			  "(the VM has no network device)",
			  bench_vm_names[p->vm], port);
		s->unavailable = 1;
	} else if (!line && !s->why[0])
		bench_fmt(s->why, sizeof(s->why), "netsrv never said it listens");
	else if (!s->ok && !s->why[0])
		bench_fmt(s->why, sizeof(s->why), "no '%s' in the output", prog_marker[P_NET]);
}

/* Seconds the console row may take: a boot plus the copy at 0.1 MB/s,
 * the speed of a slow serial console under TCG. */
static double console_timeout(const struct bench *b)
{
	return BENCH_TIMEOUT_S + 10.0 * (double)b->o.console_mb;
}

void bench_run(struct bench *b, int vm, int prog, struct sample *s)
{
	struct proc p = { .vm = vm, .prog = prog, .fd = -1, .res = -1 };
	char bufs[2][24], *argv[6];

	bench_prog_argv(b, prog, bufs, argv);
	if (prog == P_NET)
		net_run(b, &p, s);
	else if (proc_start(b, &p, NULL, prog == P_CONSOLE ? console_timeout(b) : BENCH_TIMEOUT_S, argv,
			    s) == 0) {
		/* Linux's virtio-serial driver returns from write() while the
		 * data still waits in the virtqueue, so QEMU may still hold
		 * megabytes when cat ends and /init resets the VM: /init waits
		 * (at most 60 s), and the host ends QEMU once it has the file. */
		if (prog == P_CONSOLE && vm == VM_LINUX)
			p.stopped = capture_fd(&p.c, p.fd, p.deadline,
					       &(struct stop){ .head = b->console,
							       .len = b->console_len }) == 2;
		proc_end(&p, s);
		if (prog == P_CONSOLE && s->ok)
			console_parse(s, &p.c, b);
		else
			sample_parse(s, &p.c, prog, b->o.calls);
	}
	capture_free(&p.c);
}

/* ---- elfvm's images ----------------------------------------------------------- */

/* Builds elfvm's images as `elfvm run` would (image_build), the console
 * row's with its file; failures are recorded in b->why. */
void bench_elfvm_prepare(struct bench *b)
{
	char *envp[] = { "HOME=/", "TERM=linux", NULL };
	char *k = b->kernel[VM_ELFVM];

	if (b->o.kernel)
		bench_fmt(k, PATH_MAX, "%s", b->o.kernel);
	else if (vm_default_kernel(k, PATH_MAX) < 0)
		bench_fmt(k, PATH_MAX, "kernel.elf");
	for (int p = 0; p < P_N; p++) {
		struct cpio_out o = { 0 };
		struct prog_file pf = { 0 };
		char bufs[2][24], *argv[6], name[64], *why = b->why[VM_ELFVM][p];
		struct image_spec spec = { .prog = &pf, .argv = argv, .envp = envp };
		int r;

		bench_fmt(name, sizeof(name), "elfvm-%s.cpio", bench_prog_names[p]);
		bench_path_join(b->image[VM_ELFVM][p], b->o.outdir, name);
		if (!(b->o.groups & 1u << p))
			continue;
		bench_prog_argv(b, p, bufs, argv);
		if (access(k, R_OK) < 0)
			bench_fmt(why, BENCH_WHY, "no kernel %s (make build/kernel.elf)", k);
		else if (prog_load(b->prog[p], &pf, why, BENCH_WHY) < 0)
			continue;
		else if ((p == P_CONSOLE && cpio_add_path(&o, BENCH_CONSOLE_FILE + 1, 0100644,
							  b->console, b->console_len, 0) < 0) ||
			 image_build(&o, &spec) < 0)
			bench_fmt(why, BENCH_WHY, "out of memory building the image");
		else if ((r = image_write(&o, b->image[VM_ELFVM][p])) < 0)
			bench_fmt(why, BENCH_WHY, "%s: %s", b->image[VM_ELFVM][p], strerror(-r));
		cpio_free(&o);
		if (pf.data)
			prog_free(&pf);
	}
}
