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
	"Boots build/bench/hello and build/bench/getppid under elfvm and under a\n"
	"Linux VM (Debian's linux-image-amd64 with a busybox initramfs holding the\n"
	"same binaries) on the same QEMU machine, CPU, memory and accelerator, and\n"
	"reports the medians: QEMU start -> first output byte and -> QEMU exit for\n"
	"hello, getppid round trip on the trap path (also on the host), and image\n"
	"size.  Writes bench.md and bench.csv to the output directory and prints\n"
	"the table.  Under TCG only the ratios mean something.\n"
	"\n"
	"  -o DIR              output directory (default: bench-results beside\n"
	"                      elfvm, i.e. build/bench-results)\n"
	"  --runs N            boots of each program on each VM (default 3)\n"
	"  --calls N           getppid calls per boot (default 200000)\n"
	"  --accel auto|kvm|tcg  auto: KVM when it runs elfvm's kernel, else TCG\n"
	"  --mem SIZE          guest memory for both VMs (default 256M)\n"
	"  --machine microvm|q35  QEMU machine for both VMs (default microvm)\n"
	"  --kernel PATH       elfvm's kernel (default: kernel.elf beside elfvm)\n"
	"  --linux PATH        the Linux bzImage (default: newest /boot/vmlinuz-*,\n"
	"                      installing linux-image-amd64 when there is none)\n"
	"  --busybox PATH      a static busybox (default /bin/busybox)\n"
	"  -h, --help          this text\n";


/* ---- options ---------------------------------------------------------------- */

static int bench_bad(const char *what, const char *arg)
{
	fprintf(stderr, "elfvm bench: %s '%s' (see 'elfvm bench --help')\n", what, arg ? arg : "");
	return -1;
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
	else if (!strcmp(name, "--busybox"))
		o->busybox = v;
	else
		return bench_bad("unknown option", name);
	return 0;
}

static int bench_known(const char *name)
{
	static const char *const names[] = { "-o",    "--output",  "--runs",   "--calls", "--accel",
					     "--mem", "--machine", "--kernel", "--linux", "--busybox" };

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

enum metric { M_FIRST, M_EXIT, M_START, M_GETPPID, M_LOOP };

static double sample_value(const struct sample *s, enum metric m)
{
	if (!s->ok)
		return -1;
	switch (m) {
	case M_FIRST: return s->first_ms;
	case M_EXIT: return s->exit_ms;
	case M_START: return s->start_ms;
	case M_GETPPID: return s->getppid_ns;
	default: return s->loop_ns;
	}
}

/* Metric m of one VM over the runs: median, least and most (-1 when no
 * run gave it, with the first failure's reason in why). */
struct stat3 {
	double med, lo, hi;
	const char *why;
};

static struct stat3 metric_stat(const struct bench *b, int vm, enum metric m)
{
	int prog = m >= M_GETPPID ? P_GETPPID : P_HELLO;
	struct stat3 st = { .lo = -1, .hi = -1 };
	double v[BENCH_MAX_RUNS];

	st.why = b->why[vm][prog][0] ? b->why[vm][prog] : "no sample";
	for (int r = 0; r < b->o.runs; r++) {
		const struct sample *s = &b->s[vm][prog][r];

		v[r] = sample_value(s, m);
		if (v[r] < 0 && s->why[0] && !b->why[vm][prog][0])
			st.why = s->why;
		if (v[r] >= 0 && (st.lo < 0 || v[r] < st.lo))
			st.lo = v[r];
		if (v[r] > st.hi)
			st.hi = v[r];
	}
	st.med = median(v, b->o.runs);
	return st;
}

/* One table cell: the median (least–most), or "failed: why" with '|' made
 * harmless. */
static void cell(FILE *f, const struct stat3 *st)
{
	if (st->med >= 0 && st->lo < st->hi)
		fprintf(f, " %.1f (%.1f–%.1f) |", st->med, st->lo, st->hi);
	else if (st->med >= 0)
		fprintf(f, " %.1f |", st->med);
	else {
		fputs(" failed: ", f);
		for (const char *p = st->why; *p && p - st->why < 120; p++)
			fputc(*p == '|' || *p == '\n' ? '/' : *p, f);
		fputs(" |", f);
	}
}

static void row_timed(FILE *f, const struct bench *b, const char *label, enum metric m)
{
	struct stat3 e = metric_stat(b, VM_ELFVM, m), l = metric_stat(b, VM_LINUX, m);

	fprintf(f, "| %s |", label);
	cell(f, &e);
	if (m == M_START) {
		fputs(" n/a | n/a |\n", f);
		return;
	}
	cell(f, &l);
	if (e.med > 0 && l.med > 0)
		fprintf(f, " %.3f |\n", e.med / l.med);
	else
		fputs(" – |\n", f);
}

static void row_host(FILE *f, const struct bench *b)
{
	struct stat3 h = {
		.med = median(b->host_ns, b->o.runs), .lo = -1, .hi = -1, .why = "the host run failed"
	};

	for (int r = 0; r < b->o.runs; r++) {
		double v = b->host_ns[r];
		if (v >= 0 && (h.lo < 0 || v < h.lo))
			h.lo = v;
		if (v > h.hi)
			h.hi = v;
	}
	fputs("| getppid natively on the host, ns per call |", f);
	cell(f, &h);
	fputs(" | |\n", f);
}

static void row_size(FILE *f, const char *label, long e, long l)
{
	fprintf(f, "| %s |", label);
	for (int i = 0; i < 2; i++)
		fprintf(f, (i ? l : e) >= 0 ? " %ld |" : " missing |", i ? l : e);
	if (e > 0 && l > 0)
		fprintf(f, " %.3f |\n", (double)e / l);
	else
		fputs(" – |\n", f);
}

static void report_md(FILE *f, const struct bench *b, const struct sizes *z)
{
	fprintf(f,
		"# elfvm bench\n\n%s; -M %s -cpu max -m %s -accel %s, 1 vCPU; "
		"median (least–most) of %d boots each; host CPU: %s; Linux: %s + busybox "
		"initramfs.\n\n",
		b->qemu_version, bench_machine(&b->o), b->o.mem, vm_accel_name(b->o.accel), b->o.runs,
		b->host_cpu, b->kernel[VM_LINUX]);
	fputs("| measure | elfvm | Linux VM | elfvm / Linux |\n"
	      "|---|---:|---:|---:|\n",
	      f);
	row_timed(f, b, "boot: QEMU start → first output byte (hello), ms", M_FIRST);
	row_timed(f, b, "boot: QEMU start → QEMU exit (hello), ms", M_EXIT);
	row_timed(f, b, "boot: QEMU start → @@start record (hello), ms", M_START);
	row_timed(f, b, "getppid on the trap path, ns per call", M_GETPPID);
	row_timed(f, b, "same loop timed by the host's clock, ns per call", M_LOOP);
	row_host(f, b);
	row_size(f, "image: kernel file, bytes", z->kernel[VM_ELFVM], z->kernel[VM_LINUX]);
	row_size(f, "image: initramfs with hello, bytes", z->image[VM_ELFVM], z->image[VM_LINUX]);
	row_size(f, "image: kernel + initramfs, bytes",
		 z->kernel[VM_ELFVM] < 0 || z->image[VM_ELFVM] < 0
			 ? -1
			 : z->kernel[VM_ELFVM] + z->image[VM_ELFVM],
		 z->kernel[VM_LINUX] < 0 || z->image[VM_LINUX] < 0
			 ? -1
			 : z->kernel[VM_LINUX] + z->image[VM_LINUX]);
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
	if (v >= 0)
		fprintf(f, "%s,%s,%d,%s,%.1f,%s\n", vm, bench_prog_names[prog], run + 1, metric, v,
			unit);
}

/* One boot's rows: its figures, or one "failed" row with the reason. */
static void csv_boot(FILE *f, const struct bench *b, int vm, int p, int r)
{
	const struct sample *s = &b->s[vm][p][r];
	const char *n = bench_vm_names[vm];

	if (!s->ok) {
		fprintf(f, "%s,%s,%d,failed,,\"", n, bench_prog_names[p], r + 1);
		for (const char *c = s->why[0] ? s->why : b->why[vm][p]; *c; c++)
			fputs(*c == '"' ? "\"\"" : (char[]){ *c, 0 }, f);
		fputs("\"\n", f);
		return;
	}
	if (p == P_HELLO) {
		csv_sample(f, n, p, r, "first_output", s->first_ms, "ms");
		csv_sample(f, n, p, r, "start_record", s->start_ms, "ms");
	} else {
		csv_sample(f, n, p, r, "getppid", s->getppid_ns, "ns");
		csv_sample(f, n, p, r, "getppid_host_clock", s->loop_ns, "ns");
	}
	csv_sample(f, n, p, r, "qemu_exit", s->exit_ms, "ms");
}

static void report_csv(FILE *f, const struct bench *b, const struct sizes *z)
{
	fputs("vm,program,run,metric,value,unit\n", f);
	for (int vm = 0; vm < VM_N; vm++)
		for (int p = 0; p < P_N; p++)
			for (int r = 0; r < b->o.runs; r++)
				csv_boot(f, b, vm, p, r);
	for (int r = 0; r < b->o.runs; r++)
		csv_sample(f, "host", P_GETPPID, r, "getppid", b->host_ns[r], "ns");
	for (int vm = 0; vm < VM_N; vm++) {
		fprintf(f, "%s,,,kernel_size,%ld,bytes\n", bench_vm_names[vm], z->kernel[vm]);
		fprintf(f, "%s,hello,,initramfs_size,%ld,bytes\n", bench_vm_names[vm], z->image[vm]);
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
		bench_fmt(b->prog[p], PATH_MAX, "%s/bench/%s", o->selfdir, bench_prog_names[p]);
		if (access(b->prog[p], X_OK) < 0) {
			fprintf(stderr, "elfvm bench: %s missing (make %s)\n", b->prog[p],
				"build/bench/hello build/bench/getppid");
			return -1;
		}
	}
	o->tsc_khz = tsc_khz();
	first_line(b->qemu_version, sizeof(b->qemu_version), "qemu-system-x86_64 --version 2>/dev/null",
		   NULL, NULL);
	first_line(b->host_cpu, sizeof(b->host_cpu), NULL, "/proc/cpuinfo", "model name");
	return 0;
}

static void bench_boot(struct bench *b, int vm, int prog, int run)
{
	struct sample *s = &b->s[vm][prog][run];

	memset(s, 0, sizeof(*s));
	s->first_ms = s->start_ms = s->exit_ms = s->getppid_ns = s->loop_ns = -1;
	if (b->why[vm][prog][0])
		return;
	if (vm == VM_ELFVM)
		bench_elfvm_boot(b, prog, s);
	else
		bench_linux_boot(b, prog, s);
	fprintf(stderr, "elfvm bench: run %d %-7s %-5s %s", run + 1, bench_prog_names[prog],
		bench_vm_names[vm], s->ok ? "ok" : "failed: ");
	if (s->ok && prog == P_HELLO)
		fprintf(stderr, " first output %.0f ms, exit %.0f ms\n", s->first_ms, s->exit_ms);
	else if (s->ok)
		fprintf(stderr, " %.1f ns per getppid (host clock: %.1f)\n", s->getppid_ns, s->loop_ns);
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
	b->o = (struct bench_opts){ .mem = "256M",
				    .machine = "microvm",
				    .runs = 3,
				    .calls = 200000,
				    .busybox = "/bin/busybox" };
	r = bench_parse(argc, argv, &b->o);
	if (r != 0 || bench_setup(b) < 0) {
		free(b);
		return r > 0 ? 0 : r < 0 ? ELFVM_EXIT_USAGE : ELFVM_EXIT_FAIL;
	}
	bench_linux_prepare(b);
	bench_elfvm_prepare(b);
	/* Both VMs run under what elfvm's kernel can run under. */
	r = accel_choose(b->o.accel, b->kernel[VM_ELFVM], why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "elfvm bench: %s\n", why);
		free(b);
		return ELFVM_EXIT_FAIL;
	}
	fprintf(stderr, "elfvm bench: accelerator %s: %s\n", vm_accel_name(r), why);
	b->o.accel = r;
	for (int vm = 0; vm < VM_N; vm++)
		for (int p = 0; p < P_N; p++)
			if (b->why[vm][p][0])
				fprintf(stderr, "elfvm bench: %s %s cannot run: %s\n",
					bench_vm_names[vm], bench_prog_names[p], b->why[vm][p]);
	for (int run = 0; run < b->o.runs; run++) {
		for (int p = 0; p < P_N; p++)
			for (int vm = 0; vm < VM_N; vm++)
				bench_boot(b, vm, p, run);
		b->host_ns[run] = bench_host_getppid(b);
	}
	sizes_get(b, &z);
	r = report_write(b, &z, "bench.md", report_md) | report_write(b, &z, "bench.csv", report_csv);
	report_md(stdout, b, &z);
	free(b);
	return r ? ELFVM_EXIT_FAIL : 0;
}
