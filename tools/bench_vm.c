/* SPDX-License-Identifier: MIT */
/*
 * Boots one program for `elfvm bench` and reads the console with a
 * timestamp per read, so that the first byte of the program's output can be
 * dated.  elfvm boots through vm_run (vmm.c) in a child whose fd 1 is our
 * pipe; the Linux VM (Debian's bzImage, a busybox initramfs) is spawned
 * here with vmm.c's machine and device list, because vm_run expects the
 * kernel's records and Linux sends none.  No figure is computed here:
 * bench.c takes the medians and writes the report.
 */
#define _GNU_SOURCE /* pipe2, memmem, strverscmp */
#include "tools/bench.h"

#include <dirent.h>
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

const char *const bench_vm_names[VM_N] = { "elfvm", "linux" };
const char *const bench_prog_names[P_N] = { "hello", "getppid" };
/* What the programs print: hello's whole output; getppid's figure. */
static const char *const prog_marker[P_N] = { "hello", "@@bench getppid_ns=" };

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

/* Reads fd until end of file or the deadline.  Returns 0 at end of file,
 * 1 on timeout, -1 on error. */
static int capture_fd(struct capture *c, int fd, int64_t deadline)
{
	char buf[4096];

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
	}
}

/* Fills s from a finished run's console: getppid's figures, and whether
 * the program's output is there at all. */
static void sample_parse(struct sample *s, const struct capture *c, int prog, long calls)
{
	int64_t t0 = capture_when(c, "@@bench begin"), t1 = capture_when(c, "getppid:");
	const char *m = c->len ? strstr(c->buf, prog_marker[prog]) : NULL;

	if (!m) {
		s->ok = 0;
		if (!s->why[0])
			bench_fmt(s->why, sizeof(s->why), "no '%s' in the output", prog_marker[prog]);
		return;
	}
	if (prog != P_GETPPID)
		return;
	s->getppid_ns = strtod(m + strlen(prog_marker[prog]), NULL);
	s->loop_ns = t0 && t1 > t0 ? (double)(t1 - t0) / calls : -1;
}

/* Joins dir and name into out (PATH_MAX). */
static void path_join(char *out, const char *dir, const char *name)
{
	bench_fmt(out, PATH_MAX, "%s/%s", dir, name);
}

/* The program's argv in the guest: getppid takes the number of calls. */
static void prog_argv(const struct bench *b, int prog, char *calls, char **argv)
{
	bench_fmt(calls, 24, "%ld", b->o.calls);
	argv[0] = (char *)b->prog[prog];
	argv[1] = prog == P_GETPPID ? calls : NULL;
	argv[2] = NULL;
}

/* Forks and execs argv with stdout on a new pipe (returned in *fd) and
 * stderr appended to errlog (or /dev/null).  Returns the pid or -1. */
static pid_t spawn_piped(char *const *argv, const char *errlog, int *fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
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

/* Reads a child's stdout to the end (killing it at the deadline) and reaps
 * it; *t_eof is when the pipe closed, i.e. when QEMU ended (vm_run takes
 * t_exit the same way).  Returns the wait status, or -1 after a timeout. */
static int follow_child(pid_t pid, int fd, struct capture *c, int64_t deadline, int64_t *t_eof)
{
	int r = capture_fd(c, fd, deadline), ws = 0;

	*t_eof = vm_now_ns();
	close(fd);
	if (r != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return r == 1 ? -1 : ws;
}

/* ---- the host reference --------------------------------------------------- */

double bench_host_getppid(const struct bench *b)
{
	char calls[24], *argv[3];
	struct capture c = { 0 };
	struct sample s = { .getppid_ns = -1 };
	int64_t t_eof;
	int fd;
	pid_t pid;

	prog_argv(b, P_GETPPID, calls, argv);
	pid = spawn_piped(argv, NULL, &fd);
	if (pid < 0)
		return -1;
	if (follow_child(pid, fd, &c, vm_now_ns() + 60 * 1000000000LL, &t_eof) == 0) {
		s.ok = 1;
		sample_parse(&s, &c, P_GETPPID, b->o.calls);
	}
	capture_free(&c);
	return s.ok ? s.getppid_ns : -1;
}

/* ---- the Linux VM --------------------------------------------------------------- */

/* Mirrors vmm.c's build_argv: same machine, CPU, devices; Linux's console
 * is COM1.  With pic=off Linux cannot calibrate the TSC against the PIT
 * and stalls, so it is told the host's TSC rate (tsc_early_khz). */
const char *bench_machine(const struct bench_opts *o)
{
	return !strcmp(o->machine, "q35") ? "q35" : "microvm,isa-serial=off,pit=on,pic=off,rtc=on";
}

static void linux_argv(const struct bench *b, int prog, char *cmdline, const char **argv)
{
	const char *qemu = getenv("ELFVM_QEMU");
	int kvm = b->o.accel == VM_ACCEL_KVM, i = 0;

	bench_fmt(cmdline, 256,
		  "console=ttyS0 loglevel=1 edd=off reboot=t "
		  "panic=-1 tsc_early_khz=%ld",
		  b->o.tsc_khz);
	const char *fixed[] = {
		qemu && *qemu ? qemu : "qemu-system-x86_64",
		"-M",
		bench_machine(&b->o),
		"-cpu",
		"max",
		"-m",
		b->o.mem,
		"-accel",
		kvm ? "kvm" : "tcg",
		"-nodefaults",
		"-no-user-config",
		"-display",
		"none",
		"-no-reboot",
		"-kernel",
		b->kernel[VM_LINUX],
		"-initrd",
		b->image[VM_LINUX][prog],
		"-append",
		cmdline,
		"-chardev",
		"file,id=out,path=/proc/self/fd/1,append=on",
		"-chardev",
		"null,id=err",
		"-chardev",
		"null,id=log",
		"-device",
		"isa-serial,chardev=out,index=0",
		"-device",
		"isa-serial,chardev=err,index=1",
		"-device",
		"isa-debugcon,iobase=0xe9,chardev=log",
		"-device",
		"isa-debug-exit,iobase=0xf4,iosize=4",
		NULL,
	};
	for (; fixed[i]; i++)
		argv[i] = fixed[i];
	argv[i] = NULL;
}

void bench_linux_boot(struct bench *b, int prog, struct sample *s)
{
	const char *argv[40];
	char cmdline[256], errlog[PATH_MAX];
	struct capture c = { 0 };
	int64_t t0, t_eof;
	int fd, ws;
	pid_t pid;

	linux_argv(b, prog, cmdline, argv);
	path_join(errlog, b->o.outdir, "linux-qemu.log");
	t0 = vm_now_ns();
	pid = spawn_piped((char *const *)argv, errlog, &fd);
	if (pid < 0) {
		bench_fmt(s->why, sizeof(s->why), "fork: %s", strerror(errno));
		return;
	}
	ws = follow_child(pid, fd, &c, t0 + (int64_t)(BENCH_TIMEOUT_S * 1e9), &t_eof);
	s->exit_ms = ws >= 0 ? ms_since(t0, t_eof) : -1;
	s->first_ms = ms_since(t0, capture_when(&c, prog_marker[P_HELLO]));
	s->ok = ws == 0;
	if (ws < 0)
		bench_fmt(s->why, sizeof(s->why), "timed out after %g s", BENCH_TIMEOUT_S);
	else if (ws)
		bench_fmt(s->why, sizeof(s->why), "qemu exit status %d (see %s)",
			  WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws), errlog);
	sample_parse(s, &c, prog, b->o.calls);
	capture_free(&c);
}

/* The newest /boot/vmlinuz-* (by version) into out; 0, or -1 if none. */
static int linux_newest(char *out)
{
	DIR *d = opendir("/boot");
	struct dirent *e;
	char best[256] = "";

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vmlinuz-", 8) && strlen(e->d_name) < sizeof(best) &&
		    strverscmp(e->d_name, best) > 0)
			bench_fmt(best, sizeof(best), "%s", e->d_name);
	closedir(d);
	if (!best[0])
		return -1;
	path_join(out, "/boot", best);
	return 0;
}

/* Finds (or installs) Debian's kernel.  Returns 0, or -1 with why set. */
static int linux_kernel(struct bench *b, char *why, size_t n)
{
	char *k = b->kernel[VM_LINUX];

	if (b->o.linux_kernel)
		bench_fmt(k, PATH_MAX, "%s", b->o.linux_kernel);
	else if (linux_newest(k) < 0) {
		fprintf(stderr,
			"elfvm bench: no /boot/vmlinuz-*; installing "
			"linux-image-amd64\n");
		if (geteuid() != 0 ||
		    system("DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
			   "linux-image-amd64 >&2") != 0 ||
		    linux_newest(k) < 0) {
			bench_fmt(why, n,
				  "no Linux kernel: run apt-get install "
				  "linux-image-amd64 as root, or give --linux PATH");
			return -1;
		}
	}
	if (access(k, R_OK) < 0) {
		bench_fmt(why, n, "cannot read %s: %s%s", k, strerror(errno),
			  errno == EACCES ? " (Debian makes it root-only: run as root "
					    "or give --linux PATH to a readable copy)"
					  : "");
		return -1;
	}
	return 0;
}

/* The initramfs: busybox, the program at its host path, and /init, which
 * runs it, waits for nothing else and resets the VM (reboot=t: a triple
 * fault, which -no-reboot turns into QEMU's exit). */
static int linux_initrd(struct bench *b, int prog, const unsigned char *bb, size_t bblen, char *why,
			size_t n)
{
	struct cpio_out o = { 0 };
	size_t plen = 0;
	unsigned char *p = bench_file_read(b->prog[prog], &plen);
	char init[PATH_MAX + 128], calls[24], *argv[3];
	int r = -1;

	prog_argv(b, prog, calls, argv);
	bench_fmt(init, sizeof(init),
		  "#!/bin/busybox sh\n%s%s%s\n"
		  "exec /bin/busybox reboot -f\n",
		  argv[0], argv[1] ? " " : "", argv[1] ? argv[1] : "");
	if (!p)
		bench_fmt(why, n, "cannot read %s", b->prog[prog]);
	else if (cpio_add_path(&o, "bin/busybox", 0100755, bb, bblen, 0) < 0 ||
		 cpio_add_path(&o, b->prog[prog] + 1, 0100755, p, plen, 0) < 0 ||
		 cpio_add(&o, "init", 0100755, init, strlen(init), 0) < 0 || cpio_finish(&o) < 0)
		bench_fmt(why, n, "out of memory building the initramfs");
	else if ((r = image_write(&o, b->image[VM_LINUX][prog])) < 0)
		bench_fmt(why, n, "%s: %s", b->image[VM_LINUX][prog], strerror(-r));
	free(p);
	cpio_free(&o);
	return r < 0 ? -1 : 0;
}

/* Prepares the Linux side; a failure is recorded in b->why. */
void bench_linux_prepare(struct bench *b)
{
	char why[BENCH_WHY] = "";
	unsigned char *bb = NULL;
	size_t bblen = 0;

	if (linux_kernel(b, why, sizeof(why)) == 0 && !(bb = bench_file_read(b->o.busybox, &bblen)))
		bench_fmt(why, sizeof(why),
			  "cannot read %s (apt-get install "
			  "busybox-static)",
			  b->o.busybox);
	for (int p = 0; p < P_N; p++) {
		char name[64];

		bench_fmt(name, sizeof(name), "linux-%s.cpio", bench_prog_names[p]);
		path_join(b->image[VM_LINUX][p], b->o.outdir, name);
		if (!why[0] && bb)
			linux_initrd(b, p, bb, bblen, b->why[VM_LINUX][p], BENCH_WHY);
		else
			bench_fmt(b->why[VM_LINUX][p], BENCH_WHY, "%s", why);
	}
	free(bb);
}

/* ---- elfvm ------------------------------------------------------------------------ */

/* Runs in a child whose fd 1 is the capture pipe (vm_run hands fd 1 to
 * QEMU for COM1); sends the vm_result back on fd res and exits. */
static void elfvm_child(struct bench *b, int prog, int res)
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
		.timeout = BENCH_TIMEOUT_S,
	};

	bench_fmt(name, sizeof(name), "elfvm-%s.log", bench_prog_names[prog]);
	path_join(logpath, b->o.outdir, name);
	cfg.log = fopen(logpath, "w");
	vm_run(&cfg, &r);
	if (cfg.log)
		fclose(cfg.log);
	if (write(res, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
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

void bench_elfvm_boot(struct bench *b, int prog, struct sample *s)
{
	struct vm_result r;
	struct capture c = { 0 };
	int64_t t_eof;
	int out[2], res[2];
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0) {
		bench_fmt(s->why, sizeof(s->why), "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(out[0]), close(res[0]);
		dup2(out[1], 1);
		elfvm_child(b, prog, res[1]);
	}
	close(out[1]), close(res[1]);
	if (pid < 0) {
		close(out[0]), close(res[0]);
		bench_fmt(s->why, sizeof(s->why), "fork: %s", strerror(errno));
		return;
	}
	/* vm_run enforces the timeout; the margin covers a lost child. */
	follow_child(pid, out[0], &c, vm_now_ns() + (int64_t)(BENCH_TIMEOUT_S * 1.2e9), &t_eof);
	if (read_result(res[0], &r) < 0)
		bench_fmt(s->why, sizeof(s->why), "the vm_run child died");
	else
		elfvm_judge(s, &r, &c);
	close(res[0]);
	sample_parse(s, &c, prog, b->o.calls);
	capture_free(&c);
}

/* Builds elfvm's images as `elfvm run` would (image_build); failures are
 * recorded in b->why. */
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
		char calls[24], *argv[3], name[64], *why = b->why[VM_ELFVM][p];
		struct image_spec spec = { .prog = &pf, .argv = argv, .envp = envp };
		int r;

		bench_fmt(name, sizeof(name), "elfvm-%s.cpio", bench_prog_names[p]);
		path_join(b->image[VM_ELFVM][p], b->o.outdir, name);
		prog_argv(b, p, calls, argv);
		if (access(k, R_OK) < 0)
			bench_fmt(why, BENCH_WHY, "no kernel %s (make build/kernel.elf)", k);
		else if (prog_load(b->prog[p], &pf, why, BENCH_WHY) < 0)
			continue;
		else if (image_build(&o, &spec) < 0)
			bench_fmt(why, BENCH_WHY, "out of memory building the image");
		else if ((r = image_write(&o, b->image[VM_ELFVM][p])) < 0)
			bench_fmt(why, BENCH_WHY, "%s: %s", b->image[VM_ELFVM][p], strerror(-r));
		cpio_free(&o);
		if (pf.data)
			prog_free(&pf);
	}
}
