/* SPDX-License-Identifier: MIT */
/*
 * `elfvm bench`: boots the same static programs (tools/guest/) under elfvm
 * and under a Linux VM built from Debian's kernel and a busybox initramfs,
 * with the same QEMU machine, devices, CPU model, memory and accelerator,
 * interleaved in one run; writes the medians as a Markdown table and every
 * sample as CSV, and gnuplot figures (docs/bench.md).  This file holds
 * the options and the schedule; bench_report.c writes the report,
 * bench_plot.c the figures, bench_vm.c runs each program.  A side that
 * fails becomes "failed: why" in the table, never an abort.
 */
#include "tools/bench.h"

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
	"for hello, and its first output byte on q35 booted through UEFI (OVMF,\n"
	"the disk of `elfvm pack --disk`, whose size is given) against PVH; getppid, a 1-byte read of /dev/zero and a 1-byte write to\n"
	"/dev/null, each on the trap path and through elfvm's vDSO entry\n"
	"__elfvm_syscall (n/a on Linux); console throughput (busybox\n"
	"cat of a file to stdout); TCP round-trip latency, bulk throughput both\n"
	"ways and connection rate against build/bench/netsrv through QEMU's user\n"
	"network and a port published on 127.0.0.1 (natively on the host too, as a\n"
	"reference); image size; with --groups servers, Debian's redis-server,\n"
	"memcached, nginx, dnsmasq and mariadbd in each VM and natively, loaded\n"
	"from the host by redis-benchmark, memcslap, wrk, dnsperf and sysbench,\n"
	"each server's start to its first answer, and the least memory that\n"
	"runs redis.  Writes bench.md, bench.csv and one PNG per row\n"
	"group (gnuplot) to the output directory and prints the table.  A side that\n"
	"cannot run a row shows why in its cells.  Under TCG only the ratios mean\n"
	"something.\n"
	"\n"
	"  -o DIR              output directory (default: bench-results beside\n"
	"                      elfvm, i.e. build/bench-results)\n"
	"  --groups LIST       row groups, comma-separated, of: boot, syscall,\n"
	"                      console, tcp, servers (default: all but servers,\n"
	"                      which boots each server in each VM and loads it:\n"
	"                      half an hour under TCG)\n"
	"  --servers LIST      the servers group's servers, comma-separated, of:\n"
	"                      redis, memcached, nginx, dnsmasq, mariadb (default all)\n"
	"  --redis-n N         requests of each redis-benchmark test, keys of each\n"
	"                      memcslap test (default 20000)\n"
	"  --srv-seconds N     seconds of each wrk, dnsperf, sysbench run (default 10)\n"
	"  --runs N            boots of each program on each VM (default 3)\n"
	"  --calls N           calls of each syscall loop: getppid, read, write, each\n"
	"                      on the trap path and direct (default 200000)\n"
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
	static const char *const names[P_N + 1] = { "boot", "syscall", "console", "tcp", "servers" };
	const char *p = v;

	*out = 0;
	while (*p) {
		size_t n = strcspn(p, ","), i;
		for (i = 0; i <= P_N; i++)
			if (strlen(names[i]) == n && !strncmp(p, names[i], n))
				break;
		if (i > P_N)
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
				"--groups takes boot, syscall, console, tcp, servers (comma-separated), not",
				v);
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
	} else if (!strcmp(name, "--redis-n")) {
		if (bench_long(v, 1, 10000000, &o->redis_n) < 0)
			return bench_bad("--redis-n takes 1 to 10000000, not", v);
	} else if (!strcmp(name, "--srv-seconds")) {
		if (bench_long(v, 1, 3600, &o->srv_secs) < 0)
			return bench_bad("--srv-seconds takes 1 to 3600, not", v);
	} else if (!strcmp(name, "--servers")) {
		if (bench_srv_parse(v, &o->servers) < 0)
			return bench_bad(
				"--servers takes redis, memcached, nginx, dnsmasq, mariadb "
				"(comma-separated), not",
				v);
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
		"-o",        "--output",     "--runs",        "--calls",
		"--groups",  "--console-mb", "--rtt",         "--rtt-size",
		"--bulk-mb", "--conns",      "--accel",       "--mem",
		"--machine", "--kernel",     "--linux",       "--linux-modules",
		"--busybox", "--redis-n",    "--srv-seconds", "--servers"
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
	struct stat st;
	if ((mkdir(o->outdir, 0755) < 0 && errno != EEXIST) || stat(o->outdir, &st) < 0 ||
	    (!S_ISDIR(st.st_mode) && (errno = ENOTDIR))) {
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

/* The end of the syscall group's line on stderr: each operation's ns per
 * call on the trap path, then through __elfvm_syscall where there is one. */
static void syscall_line(const struct sample *s)
{
	const double v[3][2] = { { s->getppid_ns, s->direct_ns },
				 { s->read_ns, s->read_direct_ns },
				 { s->write_ns, s->write_direct_ns } };
	static const char *const op[3] = { "getppid", "read", "write" };

	for (int i = 0; i < 3; i++) {
		fprintf(stderr, "%s %s %.1f ns", i ? ";" : "", op[i], v[i][0]);
		if (i == 0)
			fprintf(stderr, " (host clock: %.1f)", s->loop_ns);
		if (v[i][1] >= 0)
			fprintf(stderr, ", direct %.1f", v[i][1]);
	}
	fputc('\n', stderr);
}

/* One run of prog on vm (VM_HOST: natively), with a line on stderr. */
static void bench_one(struct bench *b, int vm, int prog, int run)
{
	struct sample *s = &b->s[vm][prog][run];

	memset(s, 0, sizeof(*s));
	s->first_ms = s->start_ms = s->exit_ms = s->getppid_ns = s->direct_ns = s->loop_ns = -1;
	s->read_ns = s->read_direct_ns = s->write_ns = s->write_direct_ns = -1;
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
		syscall_line(s);
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

_Static_assert(BENCH_G_SERVERS == 1u << P_N, "servers' bit follows the programs'");

/* One run of server srv on vm, with a line on stderr. */
static void bench_srv_one(struct bench *b, int srv, int vm, int run)
{
	struct srv_sample *s = &b->srv[srv][vm][run];

	memset(s, 0, sizeof(*s));
	bench_srv_run(b, srv, vm, s);
	fprintf(stderr, "elfvm bench: run %d %-9s %-5s ", run + 1, bench_srv_name(srv),
		bench_vm_names[vm]);
	if (s->ok) {
		fprintf(stderr, "ok ready %.0f ms;", s->v[0]);
		for (int k = 1; k < bench_srv_nfig(srv); k++)
			fprintf(stderr, " %s %.0f", bench_srv_fig(srv, k)->csv, s->v[k]);
		fputc('\n', stderr);
	} else
		fprintf(stderr, "%s%s\n", s->unavailable ? "unavailable: " : "failed: ", s->why);
}

int bench_main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
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
		.redis_n = 20000,
		.srv_secs = 10,
		.servers = (1u << S_N) - 1,
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
	bench_uefi_prepare(b);
	if (b->o.groups & BENCH_G_SERVERS)
		bench_srv_prepare(b);
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
	for (int run = 0; run < b->o.runs; run++) {
		for (int p = 0; p < P_N; p++) {
			if (!(b->o.groups & 1u << p))
				continue;
			for (int vm = 0; vm < VM_N; vm++)
				bench_one(b, vm, p, run);
			if (p == P_GETPPID || p == P_NET)
				bench_one(b, VM_HOST, p, run);
		}
		bench_uefi_one(b, run);
		if (b->o.groups & BENCH_G_SERVERS)
			for (int srv = 0; srv < S_N; srv++)
				for (int vm = 0; vm <= VM_HOST && b->o.servers & 1u << srv; vm++)
					bench_srv_one(b, srv, vm, run);
	}
	for (int vm = 0; vm < VM_N; vm++)
		b->least_mem[vm] = -1;
	if (b->o.groups & BENCH_G_SERVERS)
		for (int vm = 0; vm < VM_N; vm++)
			bench_srv_least_mem(b, vm);
	r = bench_report(b);
	bench_plot(b);
	free(b->console);
	free(b);
	return r ? ELFVM_EXIT_FAIL : 0;
}
