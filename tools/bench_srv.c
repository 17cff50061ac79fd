/* SPDX-License-Identifier: MIT */
/*
 * The servers group of `elfvm bench`: Debian's redis-server, memcached,
 * nginx, dnsmasq and mariadbd, each on three sides one after the other:
 * in elfvm (through `elfvm run --publish`, so the image is packed as a
 * user's run packs it), in the Linux VM (bench_linux.c's initramfs with
 * the same files: pack.c's list for the same command) and natively on
 * 127.0.0.1.  Each is measured from the host by its usual load tool
 * (redis-benchmark, memcslap, wrk, dnsperf, sysbench) through the
 * published port, after the time from the spawn to its first answer.
 * Every child runs in its own process group and is killed at its
 * deadline; a side that cannot run says why.  The least memory that runs
 * redis is searched here too (srv_least_mem).
 */
#define _GNU_SOURCE
#include "tools/bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the figures ------------------------------------------------------------ */

/* redis-benchmark: each test at 20 and 50 clients, pipelining 1 and 16. */
#define REDIS_FIG(t, T) \
	{ "redis_" t "_c20", "redis " T ", 20 clients, requests/s", "per_s", 1 }, \
		{ "redis_" t "_c50", "redis " T ", 50 clients, requests/s", "per_s", 1 }, \
		{ "redis_" t "_c20_p16", "redis " T ", 20 clients, pipeline 16, requests/s", "per_s", \
		  1 }, \
	{ \
		"redis_" t "_c50_p16", "redis " T ", 50 clients, pipeline 16, requests/s", "per_s", 1 \
	}
static const struct srv_fig redis_figs[] = {
	{ "ready", "redis: start → first PING answered, ms", "ms", 0 },
	REDIS_FIG("set", "SET"),
	REDIS_FIG("get", "GET"),
	REDIS_FIG("incr", "INCR"),
	REDIS_FIG("lpush", "LPUSH"),
	REDIS_FIG("lrange_100", "LRANGE_100"),
};
static const char *const redis_tests[] = { "SET", "GET", "INCR", "LPUSH",
					   "LRANGE_100 (first 100 elements)" };
#define REDIS_NTEST 5

static const struct srv_fig mc_figs[] = {
	{ "ready", "memcached: start → first version answered, ms", "ms", 0 },
	{ "mc_set", "memcached set, memcslap 4 threads, keys/s", "per_s", 1 },
	{ "mc_get", "memcached get, memcslap 4 threads, keys/s", "per_s", 1 },
	{ "mc_set_binary", "memcached set, binary protocol, keys/s", "per_s", 1 },
	{ "mc_get_binary", "memcached get, binary protocol, keys/s", "per_s", 1 },
};
static const struct srv_fig ng_figs[] = {
	{ "ready", "nginx: start → first page served, ms", "ms", 0 },
	{ "nginx_small", "nginx 1 KB file, wrk 32 connections, requests/s", "per_s", 1 },
	{ "nginx_1m", "nginx 1 MB file, sendfile on, requests/s", "per_s", 1 },
	{ "nginx_1m_nosendfile", "nginx 1 MB file, sendfile off, requests/s", "per_s", 1 },
};
static const struct srv_fig dns_figs[] = {
	{ "ready", "dnsmasq: start → first query answered, ms", "ms", 0 },
	{ "dns_qps", "dnsmasq, dnsperf 4 clients over UDP, queries/s", "per_s", 1 },
	{ "dns_lost", "dnsmasq, dnsperf queries lost, count", "count", 0 },
};
static const struct srv_fig db_figs[] = {
	{ "ready", "mariadbd: start → first greeting, ms", "ms", 0 },
	{ "db_tps", "MariaDB sysbench oltp_read_only 4 threads, transactions/s", "per_s", 1 },
	{ "db_qps", "MariaDB sysbench oltp_read_only 4 threads, queries/s", "per_s", 1 },
};

/* ---- running the load tools ----------------------------------------------- */

/* Runs the shell command cmd (its stderr appended to log), its output in
 * out (cut at n).  Returns its wait status, or -1. */
static int srv_popen(const char *cmd, const char *log, char *out, size_t n)
{
	char full[4096];
	size_t len = 0;
	FILE *f;

	bench_fmt(full, sizeof(full), "timeout -s KILL %d %s 2>>'%s'", BENCH_SRV_CMD_S, cmd, log);
	out[0] = '\0';
	if (!(f = popen(full, "r")))
		return -1;
	while (len < n - 1) {
		size_t k = fread(out + len, 1, n - 1 - len, f);
		if (!k)
			break;
		len += k;
	}
	out[len] = '\0';
	while (fgetc(f) != EOF) /* the rest, so the tool is not cut off by a pipe */
		;
	return pclose(f);
}

/* The number after key on the first line that holds it; -1 if none. */
static double srv_after(const char *text, const char *key)
{
	const char *m = strstr(text, key);

	if (!m)
		return -1;
	m += strlen(key);
	while (*m == ' ' || *m == '\t' || *m == '"' || *m == ',' || *m == ':' || *m == '(')
		m++;
	return *m >= '0' && *m <= '9' ? strtod(m, NULL) : -1;
}

/* Why a tool gave no figure: killed at its time, or its status. */
static void srv_tool_why(char *why, const char *tool, int st, const char *what)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 137)
		bench_fmt(why, BENCH_WHY, "%s: killed after %d s", tool, BENCH_SRV_CMD_S);
	else
		bench_fmt(why, BENCH_WHY, "%s: %s (status %d)", tool, what,
			  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int redis_load(const struct srv_run *r, double *v, char *why)
{
	static const int clients[2] = { 20, 50 }, pipes[2] = { 1, 16 };
	char cmd[512], out[8192];

	for (int c = 0; c < 2; c++)
		for (int p = 0; p < 2; p++) {
			bench_fmt(cmd, sizeof(cmd),
				  "/usr/bin/redis-benchmark -h 127.0.0.1 -p %d -c %d -n %ld -P %d "
				  "-t set,get,incr,lpush,lrange_100 --csv",
				  r->port, clients[c], r->b->o.redis_n, pipes[p]);
			int st = srv_popen(cmd, r->log, out, sizeof(out));
			for (int t = 0; t < REDIS_NTEST; t++) {
				char key[64];
				bench_fmt(key, sizeof(key), "\"%s\",", redis_tests[t]);
				double x = srv_after(out, key);
				if (x < 0) {
					srv_tool_why(why, "redis-benchmark", st,
						     "no figures in its output");
					return -1;
				}
				v[1 + 4 * t + 2 * p + c] = x;
			}
		}
	return 0;
}

/* memcslap prints "Time to set  N keys by  4 threads:  S seconds." and
 * exits 0 even when requests fail: any stderr line is a failure. */
static int mc_load(const struct srv_run *r, double *v, char *why)
{
	char cmd[512], out[4096];
	long per = r->b->o.redis_n / 4 > 0 ? r->b->o.redis_n / 4 : 1;

	for (int k = 0; k < 4; k++) {
		const char *test = k % 2 ? "get" : "set";
		char key[32], err[PATH_MAX + 8];
		struct stat st;

		bench_fmt(err, sizeof(err), "%s.err", r->log);
		bench_fmt(cmd, sizeof(cmd),
			  "/usr/bin/memcslap --servers=127.0.0.1:%d --concurrency=4 "
			  "--execute-number=%ld --test=%s %s 2>'%s'",
			  r->port, per, test, k >= 2 ? "--binary" : "", err);
		int s = srv_popen(cmd, r->log, out, sizeof(out));
		if (stat(err, &st) == 0 && st.st_size > 0) {
			bench_fmt(why, BENCH_WHY, "memcslap --test=%s%s: failures (see %s)", test,
				  k >= 2 ? " --binary" : "", err);
			return -1;
		}
		bench_fmt(key, sizeof(key), "Time to %s", test);
		const char *m = strstr(out, key), *by = m ? strstr(m, "threads:") : NULL;
		double keys = m ? strtod(m + strlen(key), NULL) : 0,
		       secs = by ? strtod(by + 8, NULL) : 0;
		if (keys <= 0 || secs <= 0) {
			srv_tool_why(why, "memcslap", s, "no timing in its output");
			return -1;
		}
		v[1 + k] = keys / secs;
	}
	return 0;
}

static int ng_load(const struct srv_run *r, double *v, char *why)
{
	static const char *const path[3] = { "s.html", "1m.bin", "nosf/1m.bin" };
	char cmd[512], out[4096];

	for (int k = 0; k < 3; k++) {
		bench_fmt(cmd, sizeof(cmd),
			  "/usr/bin/wrk -t2 -c32 -d%lds --timeout 10s http://127.0.0.1:%d/%s",
			  r->b->o.srv_secs, r->port, path[k]);
		int st = srv_popen(cmd, r->log, out, sizeof(out));
		const char *bad = strstr(out, "Socket errors") ? strstr(out, "Socket errors")
							       : strstr(out, "Non-2xx");
		if (bad) {
			bench_fmt(why, BENCH_WHY, "wrk /%s: %.*s", path[k], (int)strcspn(bad, "\n"),
				  bad);
			return -1;
		}
		if ((v[1 + k] = srv_after(out, "Requests/sec:")) < 0) {
			srv_tool_why(why, "wrk", st, "no Requests/sec");
			return -1;
		}
	}
	return 0;
}

static int dns_load(const struct srv_run *r, double *v, char *why)
{
	char cmd[PATH_MAX + 256], out[8192];

	bench_fmt(cmd, sizeof(cmd), "/usr/bin/dnsperf -s 127.0.0.1 -p %d -d '%s/queries' -c 4 -l %ld",
		  r->port, r->files, r->b->o.srv_secs);
	int st = srv_popen(cmd, r->log, out, sizeof(out));
	v[1] = srv_after(out, "Queries per second:");
	v[2] = srv_after(out, "Queries lost:");
	if (v[1] <= 0 || v[2] < 0) {
		srv_tool_why(why, "dnsperf", st, "no queries per second");
		return -1;
	}
	return 0;
}

static int db_load(const struct srv_run *r, double *v, char *why)
{
	char sb[256], cmd[512], out[8192];

	bench_fmt(sb, sizeof(sb),
		  "--db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=%d --mysql-user=root "
		  "--mysql-password= --mysql-db=sbtest --tables=1 --table-size=10000",
		  r->port);
	bench_fmt(cmd, sizeof(cmd), "/usr/bin/sysbench oltp_read_only %s prepare", sb);
	int st = srv_popen(cmd, r->log, out, sizeof(out));
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		srv_tool_why(why, "sysbench prepare", st, "failed");
		return -1;
	}
	bench_fmt(cmd, sizeof(cmd), "/usr/bin/sysbench oltp_read_only %s --threads=4 --time=%ld run", sb,
		  r->b->o.srv_secs);
	st = srv_popen(cmd, r->log, out, sizeof(out));
	/* "transactions:  1234  (123.40 per sec.)": the rate in parentheses */
	const char *t = strstr(out, "transactions:"), *q = strstr(out, "queries:");
	v[1] = t ? srv_after(t, "(") : -1;
	v[2] = q ? srv_after(q, "(") : -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) || v[1] <= 0 || v[2] <= 0) {
		srv_tool_why(why, "sysbench run", st, "no transactions");
		return -1;
	}
	return 0;
}

/* ---- the servers' files --------------------------------------------------- */

static int srv_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd, r = 0;

	bench_path_join(path, dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	if (image_write_all(fd, data, len) < 0)
		r = -1;
	return close(fd) < 0 ? -1 : r;
}

/* www/ (a 1 KB page, a 1 MB file) and nginx.conf; root is where dir
 * will be seen by nginx, tmp its scratch directory. */
static int ng_files(const struct srv_run *r, const char *root, const char *tmp, int port, char *why)
{
	char www[PATH_MAX], conf[2048], page[1024];
	static char mb[1 << 20];

	bench_path_join(www, r->files, "www");
	mkdir(www, 0755);
	memset(page, 'x', sizeof(page));
	for (size_t i = 0; i < sizeof(mb); i++) /* not compressible, not all zero */
		mb[i] = (char)(i * 2654435761u >> 13);
	bench_fmt(
		conf, sizeof(conf),
		"worker_processes 1;\nerror_log stderr warn;\npid %s/nginx.pid;\n"
		"events { worker_connections 1024; }\n"
		"http {\n\taccess_log off;\n\tclient_body_temp_path %s/body; proxy_temp_path %s/proxy;\n"
		"\tfastcgi_temp_path %s/fcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n"
		"\tkeepalive_requests 1000000;\n\tsendfile on;\n"
		"\tserver {\n\t\tlisten %s%d;\n\t\troot %s/www;\n"
		"\t\tlocation /nosf/ { sendfile off; alias %s/www/; }\n\t}\n}\n",
		tmp, tmp, tmp, tmp, tmp, tmp, r->vm == VM_HOST ? "127.0.0.1:" : "", port, root, root);
	if (srv_write(www, "s.html", page, sizeof(page)) < 0 ||
	    srv_write(www, "1m.bin", mb, sizeof(mb)) < 0 ||
	    srv_write(r->files, "nginx.conf", conf, strlen(conf)) < 0) {
		bench_fmt(why, BENCH_WHY, "writing %s: %s", r->files, strerror(errno));
		return -1;
	}
	return 0;
}

static int dns_files(const struct srv_run *r, const char *root, const char *tmp, int port, char *why)
{
	static const char q[] =
		"www.example.test A\nwww.example.test AAAA\nexample.test MX\n"
		"example.test TXT\nnope.example.test A\n";
	(void)root, (void)tmp, (void)port;
	if (srv_write(r->files, "queries", q, sizeof(q) - 1) < 0) {
		bench_fmt(why, BENCH_WHY, "writing %s: %s", r->files, strerror(errno));
		return -1;
	}
	return 0;
}

/* A data directory made natively as tests/compat/mariadb.lib makes it:
 * root may log in from anywhere without a password (the host's client
 * arrives from QEMU's gateway), a database sbtest, small InnoDB files. */
#define DB_INNODB "--innodb-log-file-size=8M --innodb-data-file-path=ibdata1:10M:autoextend"
static int db_files(const struct srv_run *r, const char *root, const char *tmp, int port, char *why)
{
	char cmd[4 * PATH_MAX + 1024];

	(void)root, (void)tmp, (void)port;
	bench_fmt(
		cmd, sizeof(cmd),
		"set -e; d='%s'; rm -rf \"$d/data\"; "
		"mariadb-install-db --no-defaults --datadir=\"$d/data\" --user=root --skip-test-db "
		"--auth-root-authentication-method=normal " DB_INNODB
		" >\"$d/install.log\" 2>&1; "
		"printf '%%s\\n' \"CREATE USER 'root'@'%%' IDENTIFIED VIA mysql_native_password USING '';\" "
		"\"GRANT ALL PRIVILEGES ON *.* TO 'root'@'%%' WITH GRANT OPTION;\" \"CREATE DATABASE sbtest;\" | "
		"mariadbd --no-defaults --bootstrap --skip-grant-tables=0 --datadir=\"$d/data\" --user=root " DB_INNODB
		" >>\"$d/install.log\" 2>&1",
		r->files);
	if (system(cmd) != 0) {
		bench_fmt(why, BENCH_WHY, "making MariaDB's data directory failed (see %s/install.log)",
			  r->files);
		return -1;
	}
	return 0;
}

/* ---- the servers ------------------------------------------------------------ */

/* Arguments: %P the port it listens on (the guest's in a VM, the host's
 * natively), %D its files' directory (/srv in a VM), %T a scratch
 * directory (/tmp in a VM). */
static const char *const redis_args[] = {
	"--port",
	"%P",
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
	"--dir",
	"%T",
	NULL
};
static const char *const mc_args[] = {
	"-u", "root", "-p", "%P", "-U", "0", "-t", "4", "-m", "64", NULL
};
static const char *const ng_args[] = {
	"-e", "stderr", "-p", "%D/", "-c", "%D/nginx.conf", "-g", "daemon off; master_process off;", NULL
};
static const char *const dns_args[] = {
	"-d",
	"-u",
	"root",
	"--pid-file=",
	"--no-hosts",
	"--no-resolv",
	"--local=/example.test/",
	"-p",
	"%P",
	"--host-record=www.example.test,192.0.2.10,2001:db8::10",
	"--mx-host=example.test,mail.example.test,10",
	"--txt-record=example.test,v=spf1 -all",
	NULL
};
static const char *const db_args[] = {
	"--no-defaults",
	"--datadir=%D/data",
	"--user=root",
	"--port=%P",
	"--skip-name-resolve",
	"--socket=%T/mysqld.sock",
	"--pid-file=%T/mysqld.pid",
	"--tmpdir=%T",
	"--innodb-buffer-pool-size=64M",
	"--innodb-log-file-size=8M",
	"--innodb-data-file-path=ibdata1:10M:autoextend",
	NULL
};
/* Natively: loopback only, where the VMs take every address. */
static const char *const redis_host[] = { "--bind", "127.0.0.1", NULL };
static const char *const mc_host[] = { "-l", "127.0.0.1", NULL };
static const char *const dns_host[] = { "--listen-address=127.0.0.1", "--bind-interfaces", NULL };
static const char *const db_host[] = { "--bind-address=127.0.0.1", NULL };
static const char *const db_vm[] = { "--bind-address=0.0.0.0", NULL };

#define FIGS(a) a, (int)(sizeof(a) / sizeof(a[0]))
static const struct srv_def {
	const char *name, *bin, *client, *pkgs;
	int gport, udp, mem_mb; /* mem_mb: at least this much, on both VMs */
	const char *const *args, *const *host, *const *vm;
	const char *probe, *expect; /* TCP; NULL probe: a DNS query over UDP */
	int (*files)(const struct srv_run *, const char *root, const char *tmp, int port, char *why);
	int (*load)(const struct srv_run *, double *v, char *why);
	const struct srv_fig *figs;
	int nfigs;
} defs[S_N] = {
	[S_REDIS] = { "redis", "/usr/bin/redis-server", "/usr/bin/redis-benchmark",
		      "redis-server redis-tools", 6379, 0, 0, redis_args, redis_host, NULL, "PING\r\n",
		      "+PONG", NULL, redis_load, FIGS(redis_figs) },
	[S_MEMCACHED] = { "memcached", "/usr/bin/memcached", "/usr/bin/memcslap",
			  "memcached libmemcached-tools", 11211, 0, 0, mc_args, mc_host, NULL,
			  "version\r\n", "VERSION", NULL, mc_load, FIGS(mc_figs) },
	[S_NGINX] = { "nginx", "/usr/sbin/nginx", "/usr/bin/wrk", "nginx-light wrk", 8080, 0, 0, ng_args,
		      NULL, NULL, "GET /s.html HTTP/1.0\r\n\r\n", "HTTP/1.1 200", ng_files, ng_load,
		      FIGS(ng_figs) },
	[S_DNS] = { "dnsmasq", "/usr/sbin/dnsmasq", "/usr/bin/dnsperf", "dnsmasq-base dnsperf", 53, 1, 0,
		    dns_args, dns_host, NULL, NULL, NULL, dns_files, dns_load, FIGS(dns_figs) },
	[S_MARIADB] = { "mariadb", "/usr/sbin/mariadbd", "/usr/bin/sysbench", "mariadb-server sysbench",
			3306, 0, 512, db_args, db_host, db_vm, "", "", db_files, db_load,
			FIGS(db_figs) },
};

const char *bench_srv_name(int srv)
{
	return defs[srv].name;
}

int bench_srv_nfig(int srv)
{
	return defs[srv].nfigs;
}

const struct srv_fig *bench_srv_fig(int srv, int k)
{
	return &defs[srv].figs[k];
}

/* --servers: names to bits. */
int bench_srv_parse(const char *v, unsigned *out)
{
	*out = 0;
	while (*v) {
		size_t n = strcspn(v, ",");
		int s = 0;
		for (; s < S_N; s++)
			if (strlen(defs[s].name) == n && !strncmp(v, defs[s].name, n))
				break;
		if (s == S_N)
			return -1;
		*out |= 1u << s;
		v += n + (v[n] == ',');
	}
	return *out ? 0 : -1;
}

/* One argument with %P, %D and %T replaced. */
static void srv_expand(char *out, size_t n, const char *a, int port, const char *dir, const char *tmp)
{
	size_t k = 0;

	for (; *a && k + 1 < n; a++) {
		const char *s = NULL;
		char ps[16];
		if (a[0] == '%' && a[1] == 'P')
			bench_fmt(ps, sizeof(ps), "%d", port), s = ps;
		else if (a[0] == '%' && a[1] == 'D')
			s = dir;
		else if (a[0] == '%' && a[1] == 'T')
			s = tmp;
		if (s) {
			k += snprintf(out + k, n - k, "%s", s);
			a++;
		} else
			out[k++] = *a;
	}
	out[k < n ? k : n - 1] = '\0';
}

#define SRV_MAX_ARGS 40
#define SRV_ARG_LEN (PATH_MAX + 64)

/* The server's argv for vm (args, then the side's own). */
static int srv_argv(const struct srv_def *d, int vm, int port, const char *dir, const char *tmp,
		    char (*buf)[SRV_ARG_LEN], const char **argv)
{
	int i = 0;
	const char *const *lists[2] = { d->args, vm == VM_HOST ? d->host : d->vm };

	argv[i++] = d->bin;
	for (int l = 0; l < 2; l++)
		for (int k = 0; lists[l] && lists[l][k] && i < SRV_MAX_ARGS - 1; k++, i++) {
			srv_expand(buf[i], SRV_ARG_LEN, lists[l][k], port, dir, tmp);
			argv[i] = buf[i];
		}
	argv[i] = NULL;
	return i;
}

/* --mem (checked by vm_check_mem: digits and an optional K, M, G or T) in
 * MB, QEMU's unit when there is no suffix. */
static double srv_mem_mb(const char *mem)
{
	char *end;
	double v = strtod(mem, &end);

	switch (*end) {
	case 'G':
	case 'g': return v * 1024;
	case 'K':
	case 'k': return v / 1024;
	case 'T':
	case 't': return v * 1024 * 1024;
	}
	return v;
}

/* The VMs' memory for d: --mem, or d's least when that is more. */
static void srv_mem(const struct bench *b, const struct srv_def *d, char *out, size_t n)
{
	if (d->mem_mb && srv_mem_mb(b->o.mem) < d->mem_mb)
		bench_fmt(out, n, "%dM", d->mem_mb);
	else
		bench_fmt(out, n, "%s", b->o.mem);
}

void bench_srv_prepare(struct bench *b)
{
	for (int s = 0; s < S_N; s++) {
		const struct srv_def *d = &defs[s];
		char why[BENCH_WHY] = "";
		struct srv_run r = { .b = b, .vm = VM_LINUX };

		if (!(b->o.servers & 1u << s))
			continue;
		if (access(d->bin, X_OK) < 0 || access(d->client, X_OK) < 0)
			bench_fmt(why, sizeof(why), "%s or %s missing (apt-get install %s)", d->bin,
				  d->client, d->pkgs);
		for (int vm = 0; vm < VM_N; vm++)
			bench_fmt(b->srv_why[s][vm], BENCH_WHY, "%s", why);
		if (why[0])
			continue;
		if (access(b->kernel[VM_ELFVM], R_OK) < 0)
			bench_fmt(b->srv_why[s][VM_ELFVM], BENCH_WHY,
				  "no kernel %s (make build/kernel.elf)", b->kernel[VM_ELFVM]);
		/* The VMs' files, made once: both VMs see them as /srv. */
		bench_fmt(b->srv_dir[s], PATH_MAX, "%s/srv-%s", b->o.outdir, d->name);
		r.files = b->srv_dir[s];
		if (d->files && mkdir(r.files, 0755) < 0 && errno != EEXIST)
			bench_fmt(why, sizeof(why), "%s: %s", r.files, strerror(errno));
		else if (d->files)
			d->files(&r, "/srv", "/tmp", d->gport, why);
		if (why[0]) {
			for (int vm = 0; vm < VM_N; vm++)
				bench_fmt(b->srv_why[s][vm], BENCH_WHY, "%s", why);
			continue;
		}
		if (!d->files)
			b->srv_dir[s][0] = '\0';
		char buf[SRV_MAX_ARGS][SRV_ARG_LEN];
		const char *argv[SRV_MAX_ARGS];
		char name[64];
		srv_argv(d, VM_LINUX, d->gport, "/srv", "/tmp", buf, argv);
		bench_fmt(name, sizeof(name), "linux-%s.cpio", d->name);
		bench_path_join(b->srv_image[s], b->o.outdir, name);
		bench_linux_srv_initrd(b, b->srv_image[s], b->srv_dir[s], argv, b->srv_why[s][VM_LINUX],
				       BENCH_WHY);
	}
}

/* Forks argv in its own process group, stdout and stderr to log. */
static pid_t srv_spawn(const char *const *argv, const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY),
		    out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		setpgid(0, 0);
		dup2(in, 0), dup2(out, 1), dup2(out, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

/* Ends pid's process group: SIGTERM (a clean shutdown for every server
 * natively; elfvm run and QEMU end their VM), then SIGKILL after 20 s. */
static void srv_stop(pid_t pid)
{
	int ws;
	int64_t deadline = vm_now_ns() + 20000000000LL;

	kill(-pid, SIGTERM);
	kill(pid, SIGTERM); /* QEMU may have exec'd before its group was set */
	for (;;) {
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		if (vm_now_ns() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
				;
			break;
		}
		usleep(20000);
	}
	kill(-pid, SIGKILL); /* what the group left behind */
}

/* A DNS query for www.example.test A; 1 when an answer with that id and
 * no error came back within timeout_ms. */
static int srv_dns_probe(int port, int timeout_ms)
{
	static const unsigned char q[] = { 0x12, 0x34, 1,   0,   0,   1,   0,   0,   0,   0,   0,   0,
					   3,    'w',  'w', 'w', 7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',
					   4,    't',  'e', 's', 't', 0,   0,   1,   0,   1 };
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char ans[512];

	if (fd < 0)
		return 0;
	if (sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&a, sizeof(a)) == sizeof(q) &&
	    poll(&p, 1, timeout_ms) == 1) {
		ssize_t k = recv(fd, ans, sizeof(ans), 0);
		ok = k >= 12 && ans[0] == 0x12 && ans[1] == 0x34 && (ans[3] & 15) == 0 && ans[7] > 0;
	}
	close(fd);
	return ok;
}

/* Sends probe to 127.0.0.1:port and reads the first bytes of the answer;
 * 1 when they start with expect (any answer for an empty expect). */
static int srv_tcp_probe(int port, const char *probe, const char *expect, int timeout_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char out[256];

	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    (!*probe || send(fd, probe, strlen(probe), MSG_NOSIGNAL) > 0) &&
	    poll(&p, 1, timeout_ms) == 1) {
		ssize_t k = recv(fd, out, sizeof(out) - 1, 0);
		ok = k > 0 && (size_t)k >= strlen(expect) && !strncmp(out, expect, strlen(expect));
	}
	close(fd);
	return ok;
}

/* Starts d on vm listening on (or published at) port, with mem (VMs);
 * returns the pid, or -1 with why set. */
static pid_t srv_start(struct srv_run *r, const struct srv_def *d, const char *mem, char *why)
{
	const struct bench *b = r->b;
	char buf[SRV_MAX_ARGS][SRV_ARG_LEN], pub[2][64], elfvm[PATH_MAX], tmo[16], dirspec[PATH_MAX + 8];
	const char *argv[SRV_MAX_ARGS * 2];
	int n = 0;

	if (r->vm == VM_HOST) {
		char tmp[PATH_MAX];
		bench_path_join(tmp, r->files, "tmp");
		mkdir(tmp, 0755);
		srv_argv(d, VM_HOST, r->port, r->files, tmp, buf, argv);
		return srv_spawn(argv, r->log);
	}
	for (int u = 0; u <= d->udp; u++)
		bench_fmt(pub[u], sizeof(pub[u]), "127.0.0.1:%d:%d/%s", r->port, d->gport,
			  u ? "udp" : "tcp");
	if (r->vm == VM_ELFVM) {
		const char *sa[SRV_MAX_ARGS];
		bench_fmt(elfvm, sizeof(elfvm), "%s/elfvm", b->o.selfdir);
		bench_fmt(tmo, sizeof(tmo), "%d", BENCH_SRV_READY_S + 8 * BENCH_SRV_CMD_S + 60);
		const char *pre[] = { elfvm,       "run",
				      "--kernel",  b->kernel[VM_ELFVM],
				      "--mem",     mem,
				      "--machine", b->o.machine,
				      "--accel",   vm_accel_name(b->o.accel),
				      "--timeout", tmo };
		for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
			argv[n++] = pre[i];
		for (int u = 0; u <= d->udp; u++)
			argv[n++] = "--publish", argv[n++] = pub[u];
		if (r->files[0]) {
			bench_fmt(dirspec, sizeof(dirspec), "%s:/srv", r->files);
			argv[n++] = "--dir", argv[n++] = dirspec;
		}
		srv_argv(d, VM_ELFVM, d->gport, "/srv", "/tmp", buf, sa);
		for (int i = 0; sa[i]; i++)
			argv[n++] = sa[i];
		argv[n] = NULL;
		return srv_spawn(argv, r->log);
	}
	/* The Linux VM: its console is not read, but drained by a child. */
	struct net_opts no = { .mode = "user", .npublish = 1 + d->udp };
	static struct net_plan plan;
	const char *pubs[2] = { pub[0], pub[1] };
	int fd;
	pid_t pid;

	no.publish = pubs;
	if (netopts_prepare(&no, &plan, why, BENCH_WHY) < 0)
		return -1;
	pid = bench_linux_srv_spawn(b, r->image, mem, plan.netdev, r->log, &fd);
	if (pid > 0) {
		/* The accept queue of elfvm's published ports (hostfwd.c), once
		 * QEMU has made its sockets: the same for both VMs. */
		for (int i = 0; i < 500 && hostfwd_widen(pid, plan.netdev, NULL); i++)
			usleep(10000);
		FILE *lf = fopen(r->log, "a");
		hostfwd_widen(pid, plan.netdev, lf);
		if (lf)
			fclose(lf);
		setpgid(pid, pid);
		if (fork() == 0) {
			char c[4096];
			while (read(fd, c, sizeof(c)) > 0)
				;
			_exit(0);
		}
		close(fd);
	}
	return pid;
}

/* Waits for d's first answer on r->port until the deadline; sets
 * v[0] (ms from t0) or why.  Returns 0 or -1. */
static int srv_ready(struct srv_run *r, const struct srv_def *d, pid_t pid, int64_t t0, int secs,
		     double *v, char *why)
{
	int64_t by = t0 + (int64_t)secs * 1000000000LL;
	int ws;

	for (;;) {
		if (d->probe ? srv_tcp_probe(r->port, d->probe, d->expect, 1000)
			     : srv_dns_probe(r->port, 1000)) {
			v[0] = (vm_now_ns() - t0) / 1e6;
			return 0;
		}
		if (waitpid(pid, &ws, WNOHANG) == pid) {
			bench_fmt(why, BENCH_WHY, "%s ended before answering (see %s)", d->name, r->log);
			return -2;
		}
		if (vm_now_ns() >= by) {
			bench_fmt(why, BENCH_WHY, "no answer from %s in %d s (see %s)", d->name, secs,
				  r->log);
			return -1;
		}
		usleep(20000);
	}
}

void bench_srv_run(struct bench *b, int s, int vm, struct srv_sample *sm)
{
	const struct srv_def *d = &defs[s];
	struct srv_run r = { .b = b, .vm = vm, .port = bench_net_free_port() };
	char name[64], mem[32], hostdir[PATH_MAX];
	int64_t t0;
	pid_t pid;
	int rr;

	for (int k = 0; k < SRV_MAX_FIG; k++)
		sm->v[k] = -1;
	if (vm < VM_N && b->srv_why[s][vm][0]) {
		bench_fmt(sm->why, sizeof(sm->why), "%s", b->srv_why[s][vm]);
		sm->unavailable = 1;
		return;
	}
	if (vm == VM_HOST && (access(d->bin, X_OK) < 0 || access(d->client, X_OK) < 0)) {
		bench_fmt(sm->why, sizeof(sm->why), "apt-get install %s", d->pkgs);
		sm->unavailable = 1;
		return;
	}
	if (r.port < 0) {
		bench_fmt(sm->why, sizeof(sm->why), "no free port on 127.0.0.1");
		return;
	}
	bench_fmt(name, sizeof(name), "%s-%s.log", d->name, bench_vm_names[vm]);
	bench_path_join(r.log, b->o.outdir, name);
	bench_fmt(r.image, sizeof(r.image), "%s", b->srv_image[s]);
	srv_mem(b, d, mem, sizeof(mem));
	if (vm == VM_HOST) { /* its own files, fresh each run (mariadbd writes to them) */
		bench_fmt(hostdir, sizeof(hostdir), "%s/srv-%s-host", b->o.outdir, d->name);
		mkdir(hostdir, 0755);
		r.files = hostdir;
		if (d->files && d->files(&r, hostdir, hostdir, r.port, sm->why) < 0)
			return;
	} else
		r.files = b->srv_dir[s];
	t0 = vm_now_ns();
	if ((pid = srv_start(&r, d, mem, sm->why)) < 0) {
		if (!sm->why[0])
			bench_fmt(sm->why, sizeof(sm->why), "fork: %s", strerror(errno));
		return;
	}
	rr = srv_ready(&r, d, pid, t0, BENCH_SRV_READY_S, sm->v, sm->why);
	if (rr == 0) {
		char blog[PATH_MAX];
		bench_fmt(name, sizeof(name), "%s-load.log", d->name);
		bench_path_join(blog, b->o.outdir, name);
		struct srv_run lr = r;
		bench_fmt(lr.log, sizeof(lr.log), "%s", blog);
		sm->ok = d->load(&lr, sm->v, sm->why) == 0;
	}
	if (rr != -2)
		srv_stop(pid);
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the Linux console's reader */
		;
}

/* ---- the least memory that runs redis ------------------------------------- */

/* One probe: redis on vm with mem MB answers PING and a short
 * redis-benchmark.  Returns 1 or 0. */
static int srv_mem_probe(struct bench *b, int vm, int mb)
{
	const struct srv_def *d = &defs[S_REDIS];
	struct srv_run r = { .b = b, .vm = vm, .port = bench_net_free_port(), .files = "" };
	char mem[32], why[BENCH_WHY] = "", cmd[256], out[4096];
	double v[SRV_MAX_FIG];
	pid_t pid;
	int ok = 0, rr;

	if (r.port < 0)
		return 0;
	bench_fmt(mem, sizeof(mem), "%dM", mb);
	bench_fmt(r.log, sizeof(r.log), "%s/redis-mem-%s.log", b->o.outdir, bench_vm_names[vm]);
	bench_fmt(r.image, sizeof(r.image), "%s", b->srv_image[S_REDIS]);
	if ((pid = srv_start(&r, d, mem, why)) < 0)
		return 0;
	rr = srv_ready(&r, d, pid, vm_now_ns(), vm == VM_LINUX ? 90 : 60, v, why);
	if (rr == 0) {
		bench_fmt(cmd, sizeof(cmd),
			  "/usr/bin/redis-benchmark -h 127.0.0.1 -p %d -c 20 -n 2000 -t set,get --csv",
			  r.port);
		srv_popen(cmd, r.log, out, sizeof(out));
		ok = srv_after(out, "\"SET\",") > 0 && srv_after(out, "\"GET\",") > 0;
	}
	if (rr != -2)
		srv_stop(pid);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	fprintf(stderr, "elfvm bench: redis least memory %-5s %4d MB: %s\n", bench_vm_names[vm], mb,
		ok ? "runs" : "fails");
	return ok;
}

/* Halving from --mem until a probe fails, then bisecting between the
 * last that ran and the first that failed to a 1/16 step (1 MB at least).
 * Sets b->least_mem[vm] (MB), or -1 with why when even --mem fails. */
void bench_srv_least_mem(struct bench *b, int vm)
{
	int good = (int)srv_mem_mb(b->o.mem), bad = 0;

	b->least_mem[vm] = -1;
	if (b->srv_why[S_REDIS][vm][0] || !(b->o.servers & 1u << S_REDIS) || good < 2)
		return;
	if (!srv_mem_probe(b, vm, good))
		return;
	while (good > 1 && srv_mem_probe(b, vm, good / 2))
		good /= 2;
	bad = good / 2;
	while (good - bad > 1 && good - bad > good / 16) {
		int mid = (good + bad) / 2;
		if (srv_mem_probe(b, vm, mid))
			good = mid;
		else
			bad = mid;
	}
	b->least_mem[vm] = good;
}

/* ---- the report's figures --------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 bench_srv_stat(const struct bench *b, int s, int vm, int k)
{
	struct stat3 st = { .med = -1, .lo = -1, .hi = -1, .why = "no sample" };
	double v[BENCH_MAX_RUNS];
	int n = 0;

	for (int r = 0; r < b->o.runs; r++) {
		const struct srv_sample *sm = &b->srv[s][vm][r];
		double x = sm->v[k];

		if (!sm->ok || x < 0) {
			if (sm->why[0] && !strcmp(st.why, "no sample"))
				st.why = sm->why, st.unavailable = sm->unavailable;
			continue;
		}
		v[n++] = x;
	}
	if (!n)
		return st;
	qsort(v, n, sizeof(v[0]), cmp_d);
	st.lo = v[0], st.hi = v[n - 1];
	st.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return st;
}
