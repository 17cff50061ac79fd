/* SPDX-License-Identifier: MIT */
/*
 * The servers group of `elfvm bench`: Debian's /usr/bin/redis-server in
 * elfvm (through `elfvm run --publish`, so the image is packed as a user's
 * run packs it), in the Linux VM (bench_linux.c's initramfs with the same
 * binary and its libraries) and natively on 127.0.0.1, measured from the
 * host by redis-benchmark (redis-tools) through the published port: SET
 * and GET, 20 clients, pipelining 1 and 16, and the time from the spawn to
 * the first answered PING.  Every child runs in its own process group and
 * is killed at its deadline; a side that cannot run says why.
 */
#define _GNU_SOURCE
#include "tools/bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const srv_tools[] = { "/usr/bin/redis-server", "/usr/bin/redis-benchmark" };

void bench_srv_prepare(struct bench *b)
{
	char why[BENCH_WHY] = "";

	for (size_t i = 0; i < sizeof(srv_tools) / sizeof(srv_tools[0]); i++)
		if (access(srv_tools[i], X_OK) < 0 && !why[0])
			bench_fmt(why, sizeof(why),
				  "%s missing (apt-get install redis-server redis-tools)", srv_tools[i]);
	for (int vm = 0; vm < VM_N; vm++)
		if (why[0])
			bench_fmt(b->srv_why[vm], BENCH_WHY, "%s", why);
	if (access(b->kernel[VM_ELFVM], R_OK) < 0 && !why[0])
		bench_fmt(b->srv_why[VM_ELFVM], BENCH_WHY, "no kernel %s (make build/kernel.elf)",
			  b->kernel[VM_ELFVM]);
	if (!why[0])
		bench_linux_srv_initrd(b, b->srv_why[VM_LINUX], BENCH_WHY);
}

/* Forks argv in its own process group, stdout and stderr to log. */
static pid_t srv_spawn(char *const *argv, const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY),
		    out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		setpgid(0, 0);
		dup2(in, 0), dup2(out, 1), dup2(out, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

/* Waits for pid until deadline (ns); then kills its group.  Returns its
 * wait status, or -1 when it had to be killed. */
static int srv_reap(pid_t pid, int64_t deadline)
{
	int ws = 0;

	for (;;) {
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid)
			return ws;
		if (r < 0 && errno != EINTR)
			return -1;
		if (vm_now_ns() >= deadline)
			break;
		usleep(50000);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return -1;
}

/* Sends cmd (inline protocol) to 127.0.0.1:port and reads the first
 * reply into out.  Returns 0, or -errno. */
static int srv_cmd(int port, const char *cmd, char *out, size_t n, int timeout_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t k;

	out[0] = '\0';
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) {
		r = -errno;
		goto out;
	}
	if (poll(&p, 1, timeout_ms) != 1) {
		r = -ETIMEDOUT;
		goto out;
	}
	k = recv(fd, out, n - 1, 0);
	if (k <= 0) {
		r = k == 0 ? -EPIPE : -errno;
		goto out;
	}
	out[k] = '\0';
out:
	close(fd);
	return r;
}

/* The requests/s of test (SET, GET) in redis-benchmark --csv output:
 * a line "\"SET\",\"12345.68\",...". */
static double srv_parse(const char *csv, const char *test)
{
	char key[16];
	const char *m;

	bench_fmt(key, sizeof(key), "\"%s\",\"", test);
	for (m = csv; (m = strstr(m, key)); m++)
		if (m == csv || m[-1] == '\n')
			return strtod(m + strlen(key), NULL);
	return -1;
}

/* One redis-benchmark run (SET and GET, pipeline P) into rps[0..1].
 * Returns 0, or -1 with why set. */
static int srv_bench(const struct bench *b, int port, int pipeline, double *rps, char *why,
		     const char *log)
{
	char ps[16], ns[24], pp[16], cmd[PATH_MAX + 256], buf[4096];
	size_t len = 0;
	FILE *f;

	bench_fmt(ps, sizeof(ps), "%d", port);
	bench_fmt(ns, sizeof(ns), "%ld", b->o.redis_n);
	bench_fmt(pp, sizeof(pp), "%d", pipeline);
	bench_fmt(cmd, sizeof(cmd),
		  "timeout -s KILL %d /usr/bin/redis-benchmark -h 127.0.0.1 -p %s -c 20 -n %s -P %s "
		  "-t set,get --csv 2>>%s",
		  BENCH_SRV_CMD_S, ps, ns, pp, log);
	if (!(f = popen(cmd, "r"))) {
		bench_fmt(why, BENCH_WHY, "popen: %s", strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) - 1) {
		size_t k = fread(buf + len, 1, sizeof(buf) - 1 - len, f);
		if (!k)
			break;
		len += k;
	}
	buf[len] = '\0';
	int st = pclose(f);
	rps[0] = srv_parse(buf, "SET");
	rps[1] = srv_parse(buf, "GET");
	if (rps[0] < 0 || rps[1] < 0) {
		bench_fmt(why, BENCH_WHY, "redis-benchmark -P %d: %s", pipeline,
			  WIFEXITED(st) && WEXITSTATUS(st) == 137 ? "killed after its time"
			  : len                                   ? "no SET/GET figures in its output"
								  : "no output");
		return -1;
	}
	return 0;
}

void bench_srv_run(struct bench *b, int vm, struct srv_sample *s)
{
	int port = bench_net_free_port(), ws;
	char pubspec[64], ps[16], mem[32], log[PATH_MAX], name[64], reply[256], dir[PATH_MAX];
	char elfvm[PATH_MAX], tmo[16];
	int64_t t0, ready_by;
	pid_t pid = -1;

	for (int k = 0; k < SRV_N; k++)
		s->rps[k] = -1;
	s->ready_ms = -1;
	if (vm < VM_N && b->srv_why[vm][0]) {
		bench_fmt(s->why, sizeof(s->why), "%s", b->srv_why[vm]);
		s->unavailable = 1;
		return;
	}
	if (vm == VM_HOST && (access(srv_tools[0], X_OK) < 0 || access(srv_tools[1], X_OK) < 0)) {
		bench_fmt(s->why, sizeof(s->why), "apt-get install redis-server redis-tools");
		s->unavailable = 1;
		return;
	}
	if (port < 0) {
		bench_fmt(s->why, sizeof(s->why), "no free port on 127.0.0.1");
		return;
	}
	bench_fmt(ps, sizeof(ps), "%d", port);
	bench_fmt(name, sizeof(name), "redis-%s.log", bench_vm_names[vm]);
	bench_path_join(log, b->o.outdir, name);
	bench_fmt(mem, sizeof(mem), "%s", b->o.mem);
	bench_fmt(tmo, sizeof(tmo), "%d", BENCH_SRV_READY_S + 4 * BENCH_SRV_CMD_S + 30);
	t0 = vm_now_ns();
	if (vm == VM_HOST) {
		bench_path_join(dir, b->o.outdir, ".");
		const char *a[] = {
			"/usr/bin/redis-server",
			"--port",
			ps,
			"--bind",
			"127.0.0.1",
			"--save",
			"",
			"--appendonly",
			"no",
			"--daemonize",
			"no",
			"--logfile",
			"",
			"--dir",
			dir,
			NULL
		};
		pid = srv_spawn((char *const *)a, log);
	} else if (vm == VM_ELFVM) {
		bench_fmt(elfvm, sizeof(elfvm), "%s/elfvm", b->o.selfdir);
		bench_fmt(pubspec, sizeof(pubspec), "127.0.0.1:%d:6379", port);
		const char *a[] = {
			elfvm,
			"run",
			"--kernel",
			b->kernel[VM_ELFVM],
			"--mem",
			mem,
			"--machine",
			b->o.machine,
			"--accel",
			vm_accel_name(b->o.accel),
			"--timeout",
			tmo,
			"--publish",
			pubspec,
			"/usr/bin/redis-server",
			"--save",
			"",
			"--appendonly",
			"no",
			"--protected-mode",
			"no",
			"--daemonize",
			"no",
			"--logfile",
			"",
			NULL
		};
		pid = srv_spawn((char *const *)a, log);
	} else {
		struct net_opts no = { .mode = "user", .npublish = 1 };
		static struct net_plan plan;
		const char *pub[1] = { pubspec };
		char why[BENCH_WHY] = "";
		int fd;

		bench_fmt(pubspec, sizeof(pubspec), "127.0.0.1:%d:6379", port);
		no.publish = pub;
		if (netopts_prepare(&no, &plan, why, sizeof(why)) < 0) {
			bench_fmt(s->why, sizeof(s->why), "%s", why);
			return;
		}
		pid = bench_linux_spawn(b, P_N, plan.netdev, log, &fd);
		if (pid > 0) {
			setpgid(pid, pid);
			/* the console is not read: to /dev/null by a child */
			if (fork() == 0) {
				char c[4096];
				while (read(fd, c, sizeof(c)) > 0)
					;
				_exit(0);
			}
			close(fd);
		}
	}
	if (pid < 0) {
		bench_fmt(s->why, sizeof(s->why), "fork: %s", strerror(errno));
		return;
	}
	/* Boot to ready: the first +PONG. */
	ready_by = t0 + (int64_t)BENCH_SRV_READY_S * 1000000000LL;
	for (;;) {
		if (srv_cmd(port, "PING\r\n", reply, sizeof(reply), 1000) == 0 &&
		    !strncmp(reply, "+PONG", 5)) {
			s->ready_ms = (vm_now_ns() - t0) / 1e6;
			break;
		}
		if (waitpid(pid, &ws, WNOHANG) == pid) {
			pid = -1;
			bench_fmt(s->why, sizeof(s->why),
				  "redis-server ended before answering PING (see %s)", log);
			break;
		}
		if (vm_now_ns() >= ready_by) {
			bench_fmt(s->why, sizeof(s->why), "no PONG in %d s (see %s)", BENCH_SRV_READY_S,
				  log);
			break;
		}
		usleep(20000);
	}
	if (s->ready_ms >= 0) {
		char blog[PATH_MAX];

		bench_path_join(blog, b->o.outdir, "redis-benchmark.log");
		if (srv_bench(b, port, 1, &s->rps[SRV_SET1], s->why, blog) == 0)
			srv_bench(b, port, 16, &s->rps[SRV_SET16], s->why, blog);
		srv_cmd(port, "SHUTDOWN NOSAVE\r\n", reply, sizeof(reply), 2000);
	}
	s->ok = s->ready_ms >= 0 && !s->why[0];
	/* SHUTDOWN NOSAVE ends the server and so its VM; one that does not
	 * end in 20 s is killed (the figures stand). */
	if (pid > 0)
		srv_reap(pid, vm_now_ns() + 20000000000LL);
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the Linux console's reader */
		;
}

/* ---- the report's figures --------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 bench_srv_stat(const struct bench *b, int vm, enum metric m)
{
	struct stat3 st = { .med = -1, .lo = -1, .hi = -1, .why = "no sample" };
	double v[BENCH_MAX_RUNS];
	int k = 0;

	for (int r = 0; r < b->o.runs; r++) {
		const struct srv_sample *s = &b->srv[vm][r];
		double x = m == M_SRV_READY ? s->ready_ms : s->rps[m - M_SRV_SET1];

		if (!s->ok || x < 0) {
			if (s->why[0] && !strcmp(st.why, "no sample"))
				st.why = s->why, st.unavailable = s->unavailable;
			continue;
		}
		v[k++] = x;
	}
	if (!k)
		return st;
	qsort(v, k, sizeof(v[0]), cmp_d);
	st.lo = v[0], st.hi = v[k - 1];
	st.med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	return st;
}
