/* SPDX-License-Identifier: MIT */
/*
 * The report of `elfvm bench`: medians and ranges of every metric over the
 * runs (bench_stat, which the figures use too), the Markdown table with
 * elfvm/Linux ratios and the host's native column, the CSV with every
 * sample, and the image sizes.  It computes from what bench.c's schedule
 * gathered and runs nothing; the figures are bench_plot.c's.
 */
#include "tools/bench.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- small helpers ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the non-negative values among v[0..n); -1 when none. */
static double median(const double *v, int n)
{
	double s[BENCH_MAX_RUNS];
	int k = 0;

	for (int i = 0; i < n; i++)
		if (v[i] >= 0)
			s[k++] = v[i];
	if (!k)
		return -1;
	qsort(s, k, sizeof(s[0]), cmp_double);
	return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

/* ---- sizes ---------------------------------------------------------------------- */

/* Bytes of an ELF file that PT_LOAD copies into memory (debug info and
 * symbols excluded), or -1. */
static long elf_loaded(const char *path)
{
	size_t len = 0;
	unsigned char *f = bench_file_read(path, &len);
	const Elf64_Ehdr *eh = (const void *)f;
	long sum = 0;

	if (!f || len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_phoff > len ||
	    (len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
		sum = -1;
	for (int i = 0; sum >= 0 && i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, f + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD)
			sum += ph.p_filesz;
	}
	free(f);
	return sum;
}

struct sizes {
	long kernel[VM_N], image[VM_N], kernel_loaded;
};

static void sizes_get(const struct bench *b, struct sizes *z)
{
	for (int v = 0; v < VM_N; v++) {
		z->kernel[v] = file_size(b->kernel[v]);
		z->image[v] = b->why[v][P_HELLO][0] ? -1 : file_size(b->image[v][P_HELLO]);
	}
	z->kernel_loaded = elf_loaded(b->kernel[VM_ELFVM]);
}

/* ---- the report ---------------------------------------------------------- */

int bench_metric_prog(enum metric m)
{
	if (m <= M_START)
		return P_HELLO;
	if (m <= M_WRITE_RATIO)
		return P_GETPPID;
	return m == M_CONSOLE ? P_CONSOLE : P_NET;
}

/* The figures that only a vDSO with __elfvm_syscall gives. */
static int metric_direct(enum metric m)
{
	return m == M_DIRECT || m == M_DIRECT_RATIO || m == M_READ_DIRECT || m == M_READ_RATIO ||
	       m == M_WRITE_DIRECT || m == M_WRITE_RATIO;
}

/* direct / trap of one boot, or -1 without both. */
static double ratio(double direct, double trap)
{
	return direct >= 0 && trap > 0 ? direct / trap : -1;
}

static double sample_value(const struct sample *s, enum metric m)
{
	if (!s->ok)
		return -1;
	switch (m) {
	case M_FIRST: return s->first_ms;
	case M_EXIT: return s->exit_ms;
	case M_START: return s->start_ms;
	case M_GETPPID: return s->getppid_ns;
	case M_DIRECT: return s->direct_ns;
	case M_LOOP: return s->loop_ns;
	case M_DIRECT_RATIO: return ratio(s->direct_ns, s->getppid_ns);
	case M_READ: return s->read_ns;
	case M_READ_DIRECT: return s->read_direct_ns;
	case M_READ_RATIO: return ratio(s->read_direct_ns, s->read_ns);
	case M_WRITE: return s->write_ns;
	case M_WRITE_DIRECT: return s->write_direct_ns;
	case M_WRITE_RATIO: return ratio(s->write_direct_ns, s->write_ns);
	case M_CONSOLE: return s->console_mbs;
	case M_RTT_MED: return s->rtt_med_us;
	case M_RTT_P99: return s->rtt_p99_us;
	case M_RX: return s->rx_mbs;
	case M_TX: return s->tx_mbs;
	default: return s->conn_rate;
	}
}

struct stat3 bench_stat(const struct bench *b, int vm, enum metric m)
{
	int prog = bench_metric_prog(m);
	const char *pre = vm < VM_N ? b->why[vm][prog] : "";
	struct stat3 st = { .lo = -1, .hi = -1 };
	double v[BENCH_MAX_RUNS];

	st.why = pre[0] ? pre : "no sample";
	for (int r = 0; r < b->o.runs; r++) {
		const struct sample *s = &b->s[vm][prog][r];

		v[r] = sample_value(s, m);
		if (v[r] < 0 && s->why[0] && !pre[0] && !strcmp(st.why, "no sample")) {
			st.why = s->why;
			st.unavailable = s->unavailable;
		}
		if (v[r] >= 0 && (st.lo < 0 || v[r] < st.lo))
			st.lo = v[r];
		if (v[r] > st.hi)
			st.hi = v[r];
	}
	st.med = median(v, b->o.runs);
	/* Runs that went well but have no direct figure ran on a kernel whose
	 * vDSO has no __elfvm_syscall (Linux, the host): n/a, not a failure. */
	if (metric_direct(m) && st.med < 0 && !strcmp(st.why, "no sample")) {
		for (int r = 0; r < b->o.runs; r++)
			if (b->s[vm][prog][r].ok) {
				st.why = "the kernel's vDSO has no __elfvm_syscall";
				st.unavailable = 1;
				break;
			}
	}
	return st;
}

/* A figure with one decimal, or three significant digits below 1; a
 * ratio (prec3) with three decimals. */
static void num(FILE *f, double v, int prec3)
{
	fprintf(f, prec3 ? "%.3f" : v >= 1 || v == 0 ? "%.1f" : "%.3g", v);
}

/* One table cell: the median (least–most), or "failed: why" ("unavailable:
 * why" for a side that cannot do it yet) with '|' made harmless. */
static void cell(FILE *f, const struct stat3 *st, int prec3)
{
	if (st->med >= 0 && st->lo < st->hi) {
		fputc(' ', f), num(f, st->med, prec3), fputs(" (", f), num(f, st->lo, prec3);
		fputs("–", f), num(f, st->hi, prec3), fputs(") |", f);
	} else if (st->med >= 0)
		fputc(' ', f), num(f, st->med, prec3), fputs(" |", f);
	else {
		fputs(st->unavailable ? " unavailable: " : " failed: ", f);
		for (const char *p = st->why; *p && p - st->why < 120; p++)
			fputc(*p == '|' || *p == '\n' ? '/' : *p, f);
		fputs(" |", f);
	}
}

/* The rows of the table, in order: label, metric, whether the host's
 * native run has it. */
static const struct row {
	const char *label;
	enum metric m;
	int host;
} rows[] = {
	{ "boot: QEMU start → first output byte (hello), ms", M_FIRST, 0 },
	{ "boot: QEMU start → QEMU exit (hello), ms", M_EXIT, 0 },
	{ "boot: QEMU start → @@start record (hello), ms", M_START, 0 },
	{ "getppid on the trap path, ns per call", M_GETPPID, 1 },
	{ "same loop timed by the host's clock, ns per call", M_LOOP, 0 },
	{ "getppid through the vDSO's __elfvm_syscall, ns per call", M_DIRECT, 1 },
	{ "getppid: __elfvm_syscall / trap path, same boot", M_DIRECT_RATIO, 0 },
	{ "read(2) of 1 byte from /dev/zero on the trap path, ns per call", M_READ, 1 },
	{ "read of 1 byte through __elfvm_syscall, ns per call", M_READ_DIRECT, 1 },
	{ "read: __elfvm_syscall / trap path, same boot", M_READ_RATIO, 0 },
	{ "write(2) of 1 byte to /dev/null on the trap path, ns per call", M_WRITE, 1 },
	{ "write of 1 byte through __elfvm_syscall, ns per call", M_WRITE_DIRECT, 1 },
	{ "write: __elfvm_syscall / trap path, same boot", M_WRITE_RATIO, 0 },
	{ "console: cat of a file to stdout, MB/s", M_CONSOLE, 0 },
	{ "TCP round trip, median, µs", M_RTT_MED, 1 },
	{ "TCP round trip, 99th percentile, µs", M_RTT_P99, 1 },
	{ "TCP bulk guest → host, MB/s", M_RX, 1 },
	{ "TCP bulk host → guest, MB/s", M_TX, 1 },
	{ "TCP connections (connect, 64-byte round trip, close) per s", M_CONN, 1 },
};

static void row_timed(FILE *f, const struct bench *b, const struct row *w)
{
	struct stat3 e = bench_stat(b, VM_ELFVM, w->m), l = bench_stat(b, VM_LINUX, w->m);
	int prec3 = w->m == M_DIRECT_RATIO || w->m == M_READ_RATIO || w->m == M_WRITE_RATIO;

	fprintf(f, "| %s |", w->label);
	cell(f, &e, prec3);
	if (w->m == M_START) {
		fputs(" n/a | n/a | |\n", f);
		return;
	}
	cell(f, &l, prec3);
	if (e.med > 0 && l.med > 0)
		fprintf(f, " %.3f |", e.med / l.med);
	else
		fputs(" – |", f);
	if (w->host) {
		struct stat3 h = bench_stat(b, VM_HOST, w->m);
		cell(f, &h, prec3);
		fputc('\n', f);
	} else
		fputs(" |\n", f);
}

static void row_size(FILE *f, const char *label, long e, long l)
{
	fprintf(f, "| %s |", label);
	for (int i = 0; i < 2; i++)
		fprintf(f, (i ? l : e) >= 0 ? " %ld |" : " missing |", i ? l : e);
	if (e > 0 && l > 0)
		fprintf(f, " %.3f | |\n", (double)e / l);
	else
		fputs(" – | |\n", f);
}

/* The servers group: each server's own rows (bench_srv_stat), then the
 * least memory that runs redis. */
static void srv_rows(FILE *f, const struct bench *b)
{
	for (int srv = 0; srv < S_N; srv++)
		for (int k = 0; k < bench_srv_nfig(srv) && b->o.servers & 1u << srv; k++) {
			struct stat3 e = bench_srv_stat(b, srv, VM_ELFVM, k),
				     l = bench_srv_stat(b, srv, VM_LINUX, k),
				     h = bench_srv_stat(b, srv, VM_HOST, k);

			fprintf(f, "| %s |", bench_srv_fig(srv, k)->label);
			cell(f, &e, 0);
			cell(f, &l, 0);
			if (e.med > 0 && l.med > 0)
				fprintf(f, " %.3f |", e.med / l.med);
			else
				fputs(" – |", f);
			cell(f, &h, 0);
			fputc('\n', f);
		}
	if (b->o.servers & 1u << S_REDIS)
		row_size(f, "redis: least memory (--mem / -m) that answers redis-benchmark, MB",
			 b->least_mem[VM_ELFVM], b->least_mem[VM_LINUX]);
}

static void report_md(FILE *f, const struct bench *b, const struct sizes *z)
{
	fprintf(f,
		"# elfvm bench\n\n%s; -M %s -cpu max -m %s -accel %s, 1 vCPU; "
		"median (least–most) of %d runs each; host CPU: %s; Linux: %s + busybox "
		"initramfs.\n\n",
		b->qemu_version, bench_machine(&b->o), b->o.mem, vm_accel_name(b->o.accel), b->o.runs,
		b->host_cpu, b->kernel[VM_LINUX]);
	if (b->o.groups & 1u << P_CONSOLE)
		fprintf(f, "Console: %ld MB (10^6 bytes). ", b->o.console_mb);
	if (b->o.groups & 1u << P_NET)
		fprintf(f,
			"TCP: %ld round trips of %ld bytes, %ld MB each way, %ld connections; "
			"QEMU user networking, hostfwd from 127.0.0.1; the host column is "
			"netsrv natively on the host's loopback.",
			b->o.rtt, b->o.rtt_size, b->o.bulk_mb, b->o.conns);
	if (b->o.groups & BENCH_G_SERVERS)
		fprintf(f,
			"%sServers: Debian's binaries (elfvm run --publish; the Linux VM's busybox "
			"init starts the server once eth0 is up; the host column is it natively on "
			"127.0.0.1), loaded from the host (redis-benchmark -n %ld, memcslap %ld keys, "
			"wrk/dnsperf/sysbench %ld s; docs/bench.md says how); elfvm's start is "
			"`elfvm run`'s (its image cache warm after a first run).",
			b->o.groups & (1u << P_CONSOLE | 1u << P_NET) ? " " : "", b->o.redis_n,
			b->o.redis_n, b->o.srv_secs);
	if (b->o.groups & (1u << P_CONSOLE | 1u << P_NET | BENCH_G_SERVERS))
		fputs("\n\n", f);
	fputs("| measure | elfvm | Linux VM | elfvm / Linux | host natively |\n"
	      "|---|---:|---:|---:|---:|\n",
	      f);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (b->o.groups & 1u << bench_metric_prog(rows[i].m))
			row_timed(f, b, &rows[i]);
	if (b->o.groups & BENCH_G_SERVERS)
		srv_rows(f, b);
	row_size(f, "image: kernel file, bytes", z->kernel[VM_ELFVM], z->kernel[VM_LINUX]);
	if (b->o.groups & 1u << P_HELLO) {
		row_size(f, "image: initramfs with hello, bytes", z->image[VM_ELFVM],
			 z->image[VM_LINUX]);
		row_size(f, "image: kernel + initramfs, bytes",
			 z->kernel[VM_ELFVM] < 0 || z->image[VM_ELFVM] < 0
				 ? -1
				 : z->kernel[VM_ELFVM] + z->image[VM_ELFVM],
			 z->kernel[VM_LINUX] < 0 || z->image[VM_LINUX] < 0
				 ? -1
				 : z->kernel[VM_LINUX] + z->image[VM_LINUX]);
	}
	bench_uefi_md(f, b);
	if (z->kernel_loaded >= 0)
		fprintf(f,
			"\nelfvm's kernel.elf loads %ld bytes (PT_LOAD; the file "
			"carries debug info).",
			z->kernel_loaded);
	fputs("  Under TCG only the ratios mean something.\n", f);
}

static void csv_sample(FILE *f, const char *vm, int prog, int run, const char *metric, double v,
		       const char *unit)
{
	if (v >= 0) /* three decimals for small figures: a serial console's 0.2 MB/s */
		fprintf(f, v < 10 ? "%s,%s,%d,%s,%.3f,%s\n" : "%s,%s,%d,%s,%.1f,%s\n", vm,
			bench_prog_names[prog], run + 1, metric, v, unit);
}

/* The read and write figures of one getppid run, with direct / trap of
 * each operation (getppid's too). */
static void csv_rw(FILE *f, const char *n, int r, const struct sample *s)
{
	int p = P_GETPPID;

	csv_sample(f, n, p, r, "getppid_direct_over_trap", ratio(s->direct_ns, s->getppid_ns), "ratio");
	csv_sample(f, n, p, r, "read_1byte", s->read_ns, "ns");
	csv_sample(f, n, p, r, "read_1byte_direct", s->read_direct_ns, "ns");
	csv_sample(f, n, p, r, "read_1byte_direct_over_trap", ratio(s->read_direct_ns, s->read_ns),
		   "ratio");
	csv_sample(f, n, p, r, "write_1byte", s->write_ns, "ns");
	csv_sample(f, n, p, r, "write_1byte_direct", s->write_direct_ns, "ns");
	csv_sample(f, n, p, r, "write_1byte_direct_over_trap", ratio(s->write_direct_ns, s->write_ns),
		   "ratio");
}

/* One run's rows: its figures, or one "failed" (or "unavailable") row
 * with the reason. */
static void csv_run(FILE *f, const struct bench *b, int vm, int p, int r)
{
	const struct sample *s = &b->s[vm][p][r];
	const char *n = bench_vm_names[vm];

	if (!s->ok) {
		fprintf(f, "%s,%s,%d,%s,,\"", n, bench_prog_names[p], r + 1,
			s->unavailable ? "unavailable" : "failed");
		for (const char *c = s->why[0] || vm == VM_HOST ? s->why : b->why[vm][p]; *c; c++)
			fputs(*c == '"' ? "\"\"" : (char[]){ *c, 0 }, f);
		fputs("\"\n", f);
		return;
	}
	if (p == P_HELLO) {
		csv_sample(f, n, p, r, "first_output", s->first_ms, "ms");
		csv_sample(f, n, p, r, "start_record", s->start_ms, "ms");
	} else if (p == P_GETPPID) {
		csv_sample(f, n, p, r, "getppid", s->getppid_ns, "ns");
		csv_sample(f, n, p, r, "getppid_direct", s->direct_ns, "ns");
		csv_sample(f, n, p, r, "getppid_host_clock", s->loop_ns, "ns");
		csv_rw(f, n, r, s);
	} else if (p == P_CONSOLE) {
		csv_sample(f, n, p, r, "console_throughput", s->console_mbs, "MB/s");
	} else {
		csv_sample(f, n, p, r, "tcp_rtt_median", s->rtt_med_us, "us");
		csv_sample(f, n, p, r, "tcp_rtt_p99", s->rtt_p99_us, "us");
		csv_sample(f, n, p, r, "tcp_round_trips", (double)s->rtt_n, "count");
		csv_sample(f, n, p, r, "tcp_bulk_guest_to_host", s->rx_mbs, "MB/s");
		csv_sample(f, n, p, r, "tcp_bulk_host_to_guest", s->tx_mbs, "MB/s");
		csv_sample(f, n, p, r, "tcp_connections", s->conn_rate, "per_s");
		csv_sample(f, n, p, r, "tcp_connections_made", (double)s->conns_n, "count");
	}
	if (vm != VM_HOST)
		csv_sample(f, n, p, r, "qemu_exit", s->exit_ms, "ms");
}

static void srv_csv(FILE *f, const struct bench *b, int srv, int vm, int r)
{
	const struct srv_sample *s = &b->srv[srv][vm][r];
	const char *n = bench_vm_names[vm], *name = bench_srv_name(srv);

	if (!s->ok) {
		fprintf(f, "%s,%s,%d,%s,,\"", n, name, r + 1, s->unavailable ? "unavailable" : "failed");
		for (const char *c = s->why; *c; c++)
			fputs(*c == '"' ? "\"\"" : (char[]){ *c, 0 }, f);
		fputs("\"\n", f);
		return;
	}
	for (int k = 0; k < bench_srv_nfig(srv); k++)
		if (s->v[k] >= 0)
			fprintf(f, "%s,%s,%d,%s,%.1f,%s\n", n, name, r + 1, bench_srv_fig(srv, k)->csv,
				s->v[k], bench_srv_fig(srv, k)->unit);
}

static void report_csv(FILE *f, const struct bench *b, const struct sizes *z)
{
	fputs("vm,program,run,metric,value,unit\n", f);
	for (int vm = 0; vm <= VM_HOST; vm++)
		for (int p = 0; p < P_N; p++)
			for (int r = 0; r < b->o.runs; r++)
				if (b->o.groups & 1u << p &&
				    (vm != VM_HOST || p == P_GETPPID || p == P_NET))
					csv_run(f, b, vm, p, r);
	if (b->o.groups & BENCH_G_SERVERS) {
		for (int srv = 0; srv < S_N; srv++)
			for (int vm = 0; vm <= VM_HOST && b->o.servers & 1u << srv; vm++)
				for (int r = 0; r < b->o.runs; r++)
					srv_csv(f, b, srv, vm, r);
		for (int vm = 0; vm < VM_N && b->o.servers & 1u << S_REDIS; vm++)
			fprintf(f, "%s,redis,,least_memory,%d,MB\n", bench_vm_names[vm],
				b->least_mem[vm]);
	}
	for (int vm = 0; vm < VM_N; vm++) {
		fprintf(f, "%s,,,kernel_size,%ld,bytes\n", bench_vm_names[vm], z->kernel[vm]);
		if (b->o.groups & 1u << P_HELLO)
			fprintf(f, "%s,hello,,initramfs_size,%ld,bytes\n", bench_vm_names[vm],
				z->image[vm]);
	}
	fprintf(f, "elfvm,,,kernel_loaded_size,%ld,bytes\n", z->kernel_loaded);
	bench_uefi_csv(f, b);
}

/* Writes name in the output directory with fn.  Returns 0 or -1. */
static int report_write(const struct bench *b, const struct sizes *z, const char *name,
			void (*fn)(FILE *, const struct bench *, const struct sizes *))
{
	char path[PATH_MAX];
	FILE *f;

	bench_fmt(path, sizeof(path), "%s/%s", b->o.outdir, name);
	if (!(f = fopen(path, "w"))) {
		fprintf(stderr, "elfvm bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fn(f, b, z);
	return fclose(f) == 0 ? 0 : -1;
}

int bench_report(const struct bench *b)
{
	struct sizes z;
	int r;

	sizes_get(b, &z);
	r = report_write(b, &z, "bench.md", report_md) | report_write(b, &z, "bench.csv", report_csv);
	report_md(stdout, b, &z);
	return r ? -1 : 0;
}
