/* SPDX-License-Identifier: MIT */
/*
 * The figures of `elfvm bench`: one PNG per row group (boot, syscall,
 * console, TCP latency, TCP throughput, TCP connections), a bar per side
 * (elfvm, the Linux VM and, where it exists, the host's native run) at the
 * median, with the least and most of the runs as an error bar.  Each
 * figure is a data file and a gnuplot script in the output directory, so
 * it can be redrawn or restyled by hand; gnuplot draws it.  No gnuplot
 * means no PNG and one line saying so; the table and CSV (bench.c) are
 * written either way.
 */
#include "tools/bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLOT_MAX_METRICS 4
#define PLOT_READY S_N

/* srv: 0 for the program rows (m, label, n); 1 + S_*: that server's
 * per-second figures; 1 + PLOT_READY: each server's start to its first
 * answer. */
static const struct group {
	const char *name, *title, *unit;
	enum metric m[PLOT_MAX_METRICS];
	const char *label[PLOT_MAX_METRICS];
	int n, host, higher_better, srv;
} groups[] = {
	{ "boot",
	  "Boot of hello: QEMU start to",
	  "ms",
	  { M_FIRST, M_EXIT },
	  { "first output byte", "QEMU exit" },
	  2,
	  0,
	  0,
	  0 },
	{ "syscall",
	  "getppid: the trap path, and through __elfvm_syscall (elfvm only)",
	  "ns per call",
	  { M_GETPPID, M_LOOP, M_DIRECT },
	  { "trap, guest clock", "trap, host clock", "__elfvm_syscall" },
	  3,
	  1,
	  0,
	  0 },
	{ "syscall-rw",
	  "1-byte read of /dev/zero, write to /dev/null: trap, __elfvm_syscall",
	  "ns per call",
	  { M_READ, M_READ_DIRECT, M_WRITE, M_WRITE_DIRECT },
	  { "read, trap", "read, __elfvm_syscall", "write, trap", "write, __elfvm_syscall" },
	  4,
	  1,
	  0,
	  0 },
	{ "console",
	  "Console: busybox cat of a file to stdout",
	  "MB/s",
	  { M_CONSOLE },
	  { "cat" },
	  1,
	  0,
	  1,
	  0 },
	{ "tcp-latency",
	  "TCP round trip",
	  "µs",
	  { M_RTT_MED, M_RTT_P99 },
	  { "median", "99th percentile" },
	  2,
	  1,
	  0,
	  0 },
	{ "tcp-throughput",
	  "TCP bulk transfer",
	  "MB/s",
	  { M_RX, M_TX },
	  { "guest to host", "host to guest" },
	  2,
	  1,
	  1,
	  0 },
	{ "tcp-connections",
	  "TCP connect, 64-byte round trip, close",
	  "connections per s",
	  { M_CONN },
	  { "connections" },
	  1,
	  1,
	  1,
	  0 },
	{ "servers-redis", "redis-benchmark against redis-server", "requests per s", .host = 1,
	  .higher_better = 1, .srv = 1 + S_REDIS },
	{ "servers-memcached", "memcslap against memcached", "keys per s", .host = 1, .higher_better = 1,
	  .srv = 1 + S_MEMCACHED },
	{ "servers-nginx", "wrk -c 32 against nginx", "requests per s", .host = 1, .higher_better = 1,
	  .srv = 1 + S_NGINX },
	{ "servers-dnsmasq", "dnsperf against dnsmasq", "queries per s", .host = 1, .higher_better = 1,
	  .srv = 1 + S_DNS },
	{ "servers-mariadb", "sysbench oltp_read_only against mariadbd", "per s", .host = 1,
	  .higher_better = 1, .srv = 1 + S_MARIADB },
	{ "servers-ready", "Servers: start to first answer", "ms", .host = 1, .srv = 1 + PLOT_READY },
};
#define PLOT_NGROUPS (sizeof(groups) / sizeof(groups[0]))

/* One side of a figure: how many of its bars have a figure, and the
 * first missing one's reason. */
struct side {
	int got;
	struct stat3 miss;
};

/* gnuplot in $PATH?  Returns 1 or 0. */
static int have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX], file[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		bench_fmt(dir, sizeof(dir), "%.*s", (int)n, p);
		bench_path_join(file, n ? dir : ".", "gnuplot");
		if (access(file, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* A string for gnuplot's double quotes (no quote, backslash or newline),
 * cut at a word before max characters, with "..." when cut. */
static void plot_str(FILE *f, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		for (n = max; n > max / 2 && s[n] != ' '; n--)
			;
	}
	for (size_t i = 0; i < n; i++)
		fputc(s[i] == '"' || s[i] == '\\' || s[i] == '\n' ? '\'' : s[i], f);
	if (n < strlen(s))
		fputs(" ...", f);
}

/* The servers group's bars: figure k of server srv for bar i. */
static int plot_srv_bar(const struct bench *b, const struct group *g, int i, int *srv, int *k)
{
	int n = 0;

	if (g->srv - 1 == PLOT_READY) {
		for (int s = 0; s < S_N; s++)
			if (b->o.servers & 1u << s && n++ == i) {
				*srv = s, *k = 0;
				return 1;
			}
		return 0;
	}
	*srv = g->srv - 1;
	for (int f = 1; f < bench_srv_nfig(*srv); f++)
		if (!strcmp(bench_srv_fig(*srv, f)->unit, "per_s") && n++ == i) {
			*k = f;
			return 1;
		}
	return 0;
}

/* How many bars g has. */
static int plot_nbars(const struct bench *b, const struct group *g)
{
	int n = 0, srv, k;

	if (!g->srv)
		return g->n;
	while (plot_srv_bar(b, g, n, &srv, &k))
		n++;
	return n;
}

/* Bar i's label and figure on side v. */
static struct stat3 plot_bar(const struct bench *b, const struct group *g, int i, int v,
			     const char **label)
{
	int srv, k;

	if (!g->srv) {
		*label = g->label[i];
		return bench_stat(b, v, g->m[i]);
	}
	plot_srv_bar(b, g, i, &srv, &k);
	/* the figure's CSV name without its server's prefix: set_c20_p16 */
	*label = k ? strchr(bench_srv_fig(srv, k)->csv, '_') + 1 : bench_srv_name(srv);
	return bench_srv_stat(b, srv, v, k);
}

/* The data file: one line per metric, three columns (median, least, most)
 * per side; NaN where a side has no figure.  Returns how many figures it
 * holds, with each side's (first) reason for a missing one in st and the
 * least and most of the medians in range. */
static int plot_data(const struct bench *b, const struct group *g, FILE *f, struct side st[VM_N + 1],
		     double range[2])
{
	int have = 0, sides = g->host ? VM_N + 1 : VM_N;

	range[0] = range[1] = -1;
	fputs("# metric, then median least most for elfvm, Linux VM and the host\n", f);
	for (int i = 0, n = plot_nbars(b, g); i < n; i++) {
		const char *label;
		plot_bar(b, g, i, 0, &label);
		fprintf(f, "\"%s\"", label);
		for (int v = 0; v < sides; v++) {
			struct stat3 s = plot_bar(b, g, i, v, &label);
			if (s.med < 0) {
				fputs(" NaN NaN NaN", f);
				if (!st[v].miss.why)
					st[v].miss = s;
				continue;
			}
			st[v].got++;
			fprintf(f, " %g %g %g", s.med, s.lo, s.hi);
			have++;
			if (range[0] < 0 || s.med < range[0])
				range[0] = s.med;
			if (s.med > range[1])
				range[1] = s.med;
		}
		fputc('\n', f);
	}
	return have;
}

/* One side's key entry: its name, or why it has no bar. */
static void plot_title(FILE *f, const char *name, const struct stat3 *st)
{
	fprintf(f, "title \"%s", name);
	if (st->why) {
		fputs(st->unavailable ? ": unavailable: " : ": failed: ", f);
		plot_str(f, st->why, 100);
	}
	fputc('"', f);
}

/* The script: bars for each side; a side without any figure keeps its
 * place in the key, with its reason, and a bar of 0 (gnuplot refuses a
 * histogram column without one valid point).  Medians that differ by more
 * than 20 times (a VM against the host's loopback, say) get a log scale,
 * or the smaller bars would not show. */
static void plot_script(const struct bench *b, const struct group *g, FILE *f,
			const struct side st[VM_N + 1], const double range[2])
{
	int log = range[0] > 0 && range[1] / range[0] > 20;

	static const char *const side[VM_N + 1] = { "elfvm", "Linux VM", "host natively" };

	fprintf(f,
		"# drawn by elfvm bench; redraw with: gnuplot bench-%s.gp\n"
		"set terminal pngcairo noenhanced size 900,520 font \",10\"\n"
		"set output \"bench-%s.png\"\n"
		"set title \"%s (%s, median of %d runs, bars: least to most)\"\n"
		"set ylabel \"%s%s\"\n"
		"set style data histograms\n"
		"set style histogram errorbars gap 2 lw 1\n"
		"set style fill solid 0.6 border -1\n"
		"set boxwidth 0.9\n"
		"set grid ytics\n"
		"%s\n%s"
		"set key outside below vertical Left reverse maxrows 3 font \",9\"\n",
		g->name, g->name, g->title, g->higher_better ? "higher is better" : "lower is better",
		b->o.runs, g->unit, log ? ", log scale" : "",
		log ? "set logscale y" : "set yrange [0:*]",
		plot_nbars(b, g) > 6 ? "set xtics rotate by 40 right font \",8\"\n" : "");
	fputs("plot ", f);
	for (int v = 0; v < (g->host ? VM_N + 1 : VM_N); v++) {
		if (!st[v].got)
			fprintf(f, "%s\"bench-%s.dat\" using (0):(0):(0)%s ", v ? ", " : "", g->name,
				v ? "" : ":xtic(1)");
		else
			fprintf(f, "%s\"bench-%s.dat\" using %d:%d:%d%s ", v ? ", " : "", g->name,
				2 + 3 * v, 3 + 3 * v, 4 + 3 * v, v ? "" : ":xtic(1)");
		plot_title(f, side[v], &st[v].miss);
	}
	fputc('\n', f);
}

/* Runs gnuplot on name in dir, its messages appended to gnuplot.log.
 * Returns 0 or -1. */
static int plot_run(const char *dir, const char *name)
{
	pid_t pid = fork();
	int ws = 0;

	if (pid == 0) {
		FILE *log;
		if (chdir(dir) < 0 || !(log = freopen("gnuplot.log", "a", stderr)))
			_exit(126);
		execlp("gnuplot", "gnuplot", name, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

static int plot_group(const struct bench *b, const struct group *g)
{
	char path[PATH_MAX], name[64];
	struct side st[VM_N + 1] = { 0 };
	double range[2];
	FILE *f;
	int have;

	bench_fmt(name, sizeof(name), "bench-%s.dat", g->name);
	bench_path_join(path, b->o.outdir, name);
	if (!(f = fopen(path, "w")))
		goto fail;
	have = plot_data(b, g, f, st, range);
	if (fclose(f) != 0)
		goto fail;
	if (!have) {
		fprintf(stderr, "elfvm bench: no figure for %s: no side measured it\n", g->name);
		return 0;
	}
	bench_fmt(name, sizeof(name), "bench-%s.gp", g->name);
	bench_path_join(path, b->o.outdir, name);
	if (!(f = fopen(path, "w")))
		goto fail;
	plot_script(b, g, f, st, range);
	if (fclose(f) != 0)
		goto fail;
	if (plot_run(b->o.outdir, name) < 0) {
		fprintf(stderr, "elfvm bench: gnuplot failed on %s (see %s/gnuplot.log)\n", path,
			b->o.outdir);
		return -1;
	}
	return 0;
fail:
	fprintf(stderr, "elfvm bench: %s: %s\n", path, strerror(errno));
	return -1;
}

int bench_plot(const struct bench *b)
{
	int r = 0;

	if (!have_gnuplot()) {
		fprintf(stderr,
			"elfvm bench: no gnuplot in PATH, so no PNG figures (apt-get install "
			"gnuplot-nox); bench.md and bench.csv are written\n");
		return -1;
	}
	for (size_t i = 0; i < PLOT_NGROUPS; i++)
		if (groups[i].srv
			    ? b->o.groups & BENCH_G_SERVERS && (groups[i].srv - 1 == PLOT_READY ||
								b->o.servers & 1u << (groups[i].srv - 1))
			    : b->o.groups & 1u << bench_metric_prog(groups[i].m[0]))
			r |= plot_group(b, &groups[i]);
	return r ? -1 : 0;
}
