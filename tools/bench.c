/* SPDX-License-Identifier: MIT */
/*
 * `elfvm bench`: boots the same static programs (tools/guest/) under elfvm
 * and under a Linux VM built from Debian's kernel and a busybox initramfs,
 * with the same QEMU machine, devices, CPU model, memory and accelerator,
 * interleaved in one run; writes the medians as a Markdown table and every
 * sample as CSV (docs/bench.md).  This file holds the options, the schedule
 * and the report; bench_vm.c boots the VMs.  A side that fails becomes
 * "failed: why" in the table, never an abort.
 */
#include "tools/bench.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x86intrin.h>

static const char usage[] =
	"usage: elfvm bench [OPTIONS]\n"
	"\n"
	"Runs the same static programs under elfvm and under a Linux VM (Debian's\n"
	"linux-image-amd64 with a busybox initramfs holding the same binaries) on\n"
	"the same QEMU machine, CPU, memory, accelerator and netdev, interleaved,\n"
	"and reports the medians: QEMU start -> first output byte and -> QEMU exit\n"
	"for hello; getppid round trip on the trap path; console throughput (busybox\n"
	"cat of a file to stdout); TCP round-trip latency, bulk throughput both\n"
	"ways and connection rate against build/bench/netsrv through QEMU's user\n"
	"network and a port published on 127.0.0.1 (natively on the host too, as a\n"
	"reference); image size.  Writes bench.md, bench.csv and one PNG per row\n"
	"group (gnuplot) to the output directory and prints the table.  A side that\n"
	"cannot run a row shows why in its cells.  Under TCG only the ratios mean\n"
	"something.\n"
	"\n"
	"  -o DIR              output directory (default: bench-results beside\n"
	"                      elfvm, i.e. build/bench-results)\n"
	"  --groups LIST       row groups, comma-separated, of: boot, syscall,\n"
	"                      console, tcp (default: all of them)\n"
	"  --runs N            boots of each program on each VM (default 3)\n"
	"  --calls N           getppid calls per boot (default 200000)\n"
	"  --console-mb N      MB (10^6 bytes) the console row copies (default 20)\n"
	"  --rtt N             TCP round trips (default 1000)\n"
	"  --rtt-size N        bytes each way per round trip, 1 to 65536 (default 64)\n"
	"  --bulk-mb N         MB each bulk transfer moves (default 64)\n"
	"  --conns N           connections of the connection rate (default 200)\n"
	"  --accel auto|kvm|tcg  auto: KVM when it runs elfvm's kernel, else TCG\n"
	"  --mem SIZE          guest memory for both VMs (default 256M)\n"
	"  --machine microvm|q35  QEMU machine for both VMs (default microvm)\n"
	"  --kernel PATH       elfvm's kernel (default: kernel.elf beside elfvm)\n"
	"  --linux PATH        the Linux bzImage (default: newest /boot/vmlinuz-*,\n"
	"                      installing linux-image-amd64 when there is none)\n"
	"  --linux-modules DIR that kernel's modules, for its virtio drivers\n"
	"                      (default: /lib/modules/VERSION of vmlinuz-VERSION)\n"
	"  --busybox PATH      a static busybox (default /bin/busybox)\n"
	"  -h, --help          this text\n";

/* ---- options ---------------------------------------------------------------- */

static int bench_bad(const char *what, const char *arg)
{
	fprintf(stderr, "elfvm bench: %s '%s' (see 'elfvm bench --help')\n", what, arg ? arg : "");
	return -1;
}

/* "N" in lo..hi into *out.  Returns 0 or -1. */
static int bench_long(const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

/* --groups: names to the bits of bench_opts.groups. */
static int bench_groups(const char *v, unsigned *out)
{
	static const char *const names[P_N] = { "boot", "syscall", "console", "tcp" };
	const char *p = v;

	*out = 0;
	while (*p) {
		size_t n = strcspn(p, ","), i;
		for (i = 0; i < P_N; i++)
			if (strlen(names[i]) == n && !strncmp(p, names[i], n))
				break;
		if (i == P_N)
			return -1;
		*out |= 1u << i;
		p += n + (p[n] == ',');
	}
	return *out ? 0 : -1;
}

static int bench_value(struct bench_opts *o, const char *name, const char *v)
{
	char *end;

	if (!strcmp(name, "-o") || !strcmp(name, "--output"))
		o->outdir = v;
	else if (!strcmp(name, "--runs")) {
		o->runs = (int)strtol(v, &end, 10);
		if (*end || o->runs < 1 || o->runs > BENCH_MAX_RUNS)
			return bench_bad("--runs takes 1 to 99, not", v);
	} else if (!strcmp(name, "--calls")) {
		o->calls = strtol(v, &end, 10);
		if (*end || o->calls < 1)
			return bench_bad("--calls takes a positive number, not", v);
	} else if (!strcmp(name, "--groups")) {
		if (bench_groups(v, &o->groups) < 0)
			return bench_bad(
				"--groups takes boot, syscall, console, tcp (comma-separated), not", v);
	} else if (!strcmp(name, "--console-mb")) {
		if (bench_long(v, 1, 4000, &o->console_mb) < 0)
			return bench_bad("--console-mb takes 1 to 4000, not", v);
	} else if (!strcmp(name, "--rtt")) {
		if (bench_long(v, 1, 10000000, &o->rtt) < 0)
			return bench_bad("--rtt takes 1 to 10000000, not", v);
	} else if (!strcmp(name, "--rtt-size")) {
		if (bench_long(v, 1, 65536, &o->rtt_size) < 0)
			return bench_bad("--rtt-size takes 1 to 65536, not", v);
	} else if (!strcmp(name, "--bulk-mb")) {
		if (bench_long(v, 1, 100000, &o->bulk_mb) < 0)
			return bench_bad("--bulk-mb takes 1 to 100000, not", v);
	} else if (!strcmp(name, "--conns")) {
		if (bench_long(v, 1, 1000000, &o->conns) < 0)
			return bench_bad("--conns takes 1 to 1000000, not", v);
	} else if (!strcmp(name, "--accel")) {
		if (vm_parse_accel(v, &o->accel) < 0)
			return bench_bad("unknown accelerator", v);
	} else if (!strcmp(name, "--mem")) {
		if (vm_check_mem(v) < 0)
			return bench_bad("bad memory size", v);
		o->mem = v;
	} else if (!strcmp(name, "--machine")) {
		if (strcmp(v, "microvm") && strcmp(v, "q35"))
			return bench_bad("unknown machine", v);
		o->machine = v;
	} else if (!strcmp(name, "--kernel"))
		o->kernel = v;
	else if (!strcmp(name, "--linux"))
		o->linux_kernel = v;
	else if (!strcmp(name, "--linux-modules"))
		o->linux_modules = v;
	else if (!strcmp(name, "--busybox"))
		o->busybox = v;
	else
		return bench_bad("unknown option", name);
	return 0;
}

static int bench_known(const char *name)
{
	static const char *const names[] = {
		"-o",        "--output",   "--runs",    "--calls",         "--groups", "--console-mb",
		"--rtt",     "--rtt-size", "--bulk-mb", "--conns",         "--accel",  "--mem",
		"--machine", "--kernel",   "--linux",   "--linux-modules", "--busybox"
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

/* Returns 0 to go on, 1 after --help, -1 on a bad option. */
static int bench_parse(int argc, char **argv, struct bench_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		char name[32];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 1;
		}
		if (a[0] != '-')
			return bench_bad("unexpected argument", a);
		if (eq && a[1] == '-' && (size_t)(eq - a) < sizeof(name)) {
			bench_fmt(name, sizeof(name), "%.*s", (int)(eq - a), a);
			if (bench_value(o, name, eq + 1) < 0)
				return -1;
			continue;
		}
		if (!bench_known(a))
			return bench_bad("unknown option", a);
		if (i + 1 >= argc)
			return bench_bad("missing value after", a);
		if (bench_value(o, a, argv[++i]) < 0)
			return -1;
	}
	return 0;
}

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

/* The host's TSC rate in kHz, against CLOCK_MONOTONIC over 20 ms.  Under
 * TCG the guest reads the host's TSC, so Linux gets it as tsc_early_khz. */
static long tsc_khz(void)
{
	int64_t t0 = vm_now_ns(), t;
	unsigned long long c0 = __rdtsc(), c;

	while ((t = vm_now_ns()) - t0 < 20000000)
		;
	c = __rdtsc();
	return (long)((c - c0) * 1e6 / (t - t0));
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
	return m <= M_START ? P_HELLO : m <= M_LOOP ? P_GETPPID : m == M_CONSOLE ? P_CONSOLE : P_NET;
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
	case M_LOOP: return s->loop_ns;
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
	return st;
}

/* A figure with one decimal, or three significant digits below 1. */
static void num(FILE *f, double v)
{
	fprintf(f, v >= 1 || v == 0 ? "%.1f" : "%.3g", v);
}

/* One table cell: the median (least–most), or "failed: why" ("unavailable:
 * why" for a side that cannot do it yet) with '|' made harmless. */
static void cell(FILE *f, const struct stat3 *st)
{
	if (st->med >= 0 && st->lo < st->hi) {
		fputc(' ', f), num(f, st->med), fputs(" (", f), num(f, st->lo);
		fputs("–", f), num(f, st->hi), fputs(") |", f);
	} else if (st->med >= 0)
		fputc(' ', f), num(f, st->med), fputs(" |", f);
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

	fprintf(f, "| %s |", w->label);
	cell(f, &e);
	if (w->m == M_START) {
		fputs(" n/a | n/a | |\n", f);
		return;
	}
	cell(f, &l);
	if (e.med > 0 && l.med > 0)
		fprintf(f, " %.3f |", e.med / l.med);
	else
		fputs(" – |", f);
	if (w->host) {
		struct stat3 h = bench_stat(b, VM_HOST, w->m);
		cell(f, &h);
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
	if (b->o.groups & (1u << P_CONSOLE | 1u << P_NET))
		fputs("\n\n", f);
	fputs("| measure | elfvm | Linux VM | elfvm / Linux | host natively |\n"
	      "|---|---:|---:|---:|---:|\n",
	      f);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (b->o.groups & 1u << bench_metric_prog(rows[i].m))
			row_timed(f, b, &rows[i]);
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
		csv_sample(f, n, p, r, "getppid_host_clock", s->loop_ns, "ns");
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

static void report_csv(FILE *f, const struct bench *b, const struct sizes *z)
{
	fputs("vm,program,run,metric,value,unit\n", f);
	for (int vm = 0; vm <= VM_HOST; vm++)
		for (int p = 0; p < P_N; p++)
			for (int r = 0; r < b->o.runs; r++)
				if (b->o.groups & 1u << p &&
				    (vm != VM_HOST || p == P_GETPPID || p == P_NET))
					csv_run(f, b, vm, p, r);
	for (int vm = 0; vm < VM_N; vm++) {
		fprintf(f, "%s,,,kernel_size,%ld,bytes\n", bench_vm_names[vm], z->kernel[vm]);
		if (b->o.groups & 1u << P_HELLO)
			fprintf(f, "%s,hello,,initramfs_size,%ld,bytes\n", bench_vm_names[vm],
				z->image[vm]);
	}
	fprintf(f, "elfvm,,,kernel_loaded_size,%ld,bytes\n", z->kernel_loaded);
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

/* ---- the run ------------------------------------------------------------ */

/* First line of a command's output, or of a file's line starting with key. */
static void first_line(char *out, size_t n, const char *cmd, const char *file, const char *key)
{
	FILE *f = cmd ? popen(cmd, "r") : fopen(file, "r");
	char line[256];

	bench_fmt(out, n, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		if (key && strncmp(line, key, strlen(key)))
			continue;
		line[strcspn(line, "\n")] = '\0';
		bench_fmt(out, n, "%s", key ? line + strcspn(line, ":") + 2 : line);
		break;
	}
	if (f && cmd)
		pclose(f);
	else if (f)
		fclose(f);
}

/* The console row's file: "@@bench data " and then pseudo-random bytes
 * from '0' to 'z': no newline (a Linux tty would turn it into two bytes)
 * and no space, so the header is found once. */
static int console_make(struct bench *b)
{
	static const char head[] = "@@bench data ";
	size_t n = (size_t)b->o.console_mb * 1000000;
	unsigned char *d = malloc(n);
	uint32_t x = 2463534242u;

	if (!d)
		return -1;
	memcpy(d, head, sizeof(head) - 1);
	for (size_t i = sizeof(head) - 1; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
		d[i] = (unsigned char)('0' + x % 75);    /* '0' to 'z' */
	}
	b->console = d, b->console_len = n;
	return 0;
}

/* Paths, options' defaults and the facts the table states.  Returns 0 or
 * -1 (already reported). */
static int bench_setup(struct bench *b)
{
	struct bench_opts *o = &b->o;
	char *slash;
	ssize_t len = readlink("/proc/self/exe", o->selfdir, PATH_MAX - 1);

	if (len < 0)
		return -1;
	o->selfdir[len] = '\0';
	if ((slash = strrchr(o->selfdir, '/')))
		*slash = '\0';
	if (!o->outdir) {
		bench_fmt(o->outbuf, PATH_MAX, "%s/bench-results", o->selfdir);
		o->outdir = o->outbuf;
	}
	if (mkdir(o->outdir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "elfvm bench: %s: %s\n", o->outdir, strerror(errno));
		return -1;
	}
	for (int p = 0; p < P_N; p++) {
		static const char *const file[P_N] = { "hello", "getppid", NULL, "netsrv" };

		if (!(o->groups & 1u << p))
			continue;
		if (file[p])
			bench_fmt(b->prog[p], PATH_MAX, "%s/bench/%s", o->selfdir, file[p]);
		else
			bench_fmt(b->prog[p], PATH_MAX, "%s", o->busybox);
		if (access(b->prog[p], X_OK) < 0) {
			fprintf(stderr, "elfvm bench: %s missing (%s)\n", b->prog[p],
				file[p] ? "make build/bench/hello build/bench/getppid build/bench/netsrv"
					: "apt-get install busybox-static, or give --busybox PATH");
			return -1;
		}
	}
	if (o->groups & 1u << P_CONSOLE && console_make(b) < 0) {
		fprintf(stderr, "elfvm bench: no memory for the console's %ld MB\n", o->console_mb);
		return -1;
	}
	o->tsc_khz = tsc_khz();
	first_line(b->qemu_version, sizeof(b->qemu_version), "qemu-system-x86_64 --version 2>/dev/null",
		   NULL, NULL);
	first_line(b->host_cpu, sizeof(b->host_cpu), NULL, "/proc/cpuinfo", "model name");
	return 0;
}

/* One run of prog on vm (VM_HOST: natively), with a line on stderr. */
static void bench_one(struct bench *b, int vm, int prog, int run)
{
	struct sample *s = &b->s[vm][prog][run];

	memset(s, 0, sizeof(*s));
	s->first_ms = s->start_ms = s->exit_ms = s->getppid_ns = s->loop_ns = -1;
	s->console_mbs = s->rtt_med_us = s->rtt_p99_us = s->rx_mbs = s->tx_mbs = s->conn_rate = -1;
	if (vm < VM_N && b->why[vm][prog][0])
		return;
	bench_run(b, vm, prog, s);
	fprintf(stderr, "elfvm bench: run %d %-7s %-5s %s", run + 1, bench_prog_names[prog],
		bench_vm_names[vm],
		s->ok            ? "ok"
		: s->unavailable ? "unavailable: "
				 : "failed: ");
	if (s->ok && prog == P_HELLO)
		fprintf(stderr, " first output %.0f ms, exit %.0f ms\n", s->first_ms, s->exit_ms);
	else if (s->ok && prog == P_GETPPID)
		fprintf(stderr, " %.1f ns per getppid (host clock: %.1f)\n", s->getppid_ns, s->loop_ns);
	else if (s->ok && prog == P_CONSOLE)
		fprintf(stderr, " %.2f MB/s\n", s->console_mbs);
	else if (s->ok)
		fprintf(stderr,
			" round trip %.0f µs (p99 %.0f), bulk out %.1f MB/s, in %.1f MB/s, "
			"%.0f connections/s\n",
			s->rtt_med_us, s->rtt_p99_us, s->rx_mbs, s->tx_mbs, s->conn_rate);
	else
		fprintf(stderr, "%s\n", s->why);
}

int bench_main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct sizes z;
	char why[1024];
	int r;

	if (!b)
		return ELFVM_EXIT_FAIL;
	b->o = (struct bench_opts){
		.mem = "256M",
		.machine = "microvm",
		.runs = 3,
		.calls = 200000,
		.groups = (1u << P_N) - 1,
		.console_mb = 20,
		.rtt = 1000,
		.rtt_size = 64,
		.bulk_mb = 64,
		.conns = 200,
		.busybox = "/bin/busybox"
	};
	r = bench_parse(argc, argv, &b->o);
	if (r != 0 || bench_setup(b) < 0) {
		free(b->console);
		free(b);
		return r > 0 ? 0 : r < 0 ? ELFVM_EXIT_USAGE : ELFVM_EXIT_FAIL;
	}
	bench_linux_prepare(b);
	bench_elfvm_prepare(b);
	/* Both VMs run under what elfvm's kernel can run under. */
	r = accel_choose(b->o.accel, b->kernel[VM_ELFVM], why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "elfvm bench: %s\n", why);
		free(b->console);
		free(b);
		return ELFVM_EXIT_FAIL;
	}
	fprintf(stderr, "elfvm bench: accelerator %s: %s\n", vm_accel_name(r), why);
	b->o.accel = r;
	for (int vm = 0; vm < VM_N; vm++)
		for (int p = 0; p < P_N; p++)
			if (b->o.groups & 1u << p && b->why[vm][p][0])
				fprintf(stderr, "elfvm bench: %s %s cannot run: %s\n",
					bench_vm_names[vm], bench_prog_names[p], b->why[vm][p]);
	/* Interleaved, so that a change in the host's load hits every side. */
	for (int run = 0; run < b->o.runs; run++)
		for (int p = 0; p < P_N; p++) {
			if (!(b->o.groups & 1u << p))
				continue;
			for (int vm = 0; vm < VM_N; vm++)
				bench_one(b, vm, p, run);
			if (p == P_GETPPID || p == P_NET)
				bench_one(b, VM_HOST, p, run);
		}
	sizes_get(b, &z);
	r = report_write(b, &z, "bench.md", report_md) | report_write(b, &z, "bench.csv", report_csv);
	report_md(stdout, b, &z);
	bench_plot(b);
	free(b->console);
	free(b);
	return r ? ELFVM_EXIT_FAIL : 0;
}
