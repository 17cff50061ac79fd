/* SPDX-License-Identifier: MIT */
/*
 * What the files of `elfvm bench` share, and nothing else includes:
 * bench.c runs the suite (options, schedule); bench_report.c writes the
 * table and CSV; bench_vm.c boots
 * elfvm and reads the consoles; bench_linux.c builds and starts the Linux
 * VM; bench_net.c is the host's TCP client; bench_srv.c runs the
 * servers group (redis); bench_plot.c draws the figures; bench_uefi.c
 * times the UEFI boot against PVH.  The rest of the elfvm command is in tools/tools.h.
 */
#ifndef TOOLS_BENCH_H
#define TOOLS_BENCH_H

#include "tools/tools.h"

#include <sys/types.h>

#define BENCH_TIMEOUT_S 180.0 /* one boot, under TCG on a loaded host */
#define BENCH_MAX_RUNS 99
#define BENCH_WHY 200
#define BENCH_NET_BUDGET_S 30                   /* each TCP measure stops after this */
#define BENCH_NET_IO_S 20                       /* one connect, send or receive */
#define BENCH_NET_PORT 7777                     /* netsrv's port inside the guest */
#define BENCH_CONSOLE_FILE "/bench/console.dat" /* what the console row cats */
#define BENCH_SRV_READY_S 180                   /* boot to the first PING answered */
#define BENCH_SRV_CMD_S 120                     /* one redis-benchmark run */

struct bench_opts {
	const char *outdir, *mem, *machine, *kernel, *linux_kernel, *linux_modules, *busybox;
	int runs;
	long calls;         /* calls of each loop (getppid, read, write) */
	unsigned groups;    /* 1 << P_*: the rows to measure (--groups) */
	long console_mb;    /* bytes the console row copies, in 10^6 */
	long rtt, rtt_size; /* round trips of rtt_size bytes */
	long bulk_mb;       /* bytes each bulk transfer moves, in 10^6 */
	long conns;         /* connections of the connection rate */
	long redis_n;       /* requests of each redis-benchmark test (memcslap: keys) */
	long srv_secs;      /* seconds of each timed load (wrk, dnsperf, sysbench) */
	unsigned servers;   /* 1 << S_*: the servers group's servers (--servers) */
	enum vm_accel accel;
	char selfdir[PATH_MAX]; /* the directory elfvm runs from */
	char outbuf[PATH_MAX];
	long tsc_khz; /* the host's TSC rate, given to Linux */
};

/* One boot: times in ms from QEMU's spawn, ns per call, rates; -1 when
 * not seen. */
struct sample {
	int ok;
	int unavailable; /* the side cannot do this yet (why says what) */
	double first_ms, start_ms, exit_ms, getppid_ns;
	double direct_ns;              /* getppid through the vDSO's __elfvm_syscall; -1: none */
	double loop_ns;                /* getppid's loop timed by the host: checks the guest clock */
	double console_mbs;            /* console: MB/s from the first to the last byte */
	double rtt_med_us, rtt_p99_us; /* TCP round trips */
	double rx_mbs, tx_mbs;         /* bulk guest → host, host → guest */
	double conn_rate;              /* connections per second */
	long rtt_n, conns_n;           /* how many were done in the budget */
	/* 1 byte read(2) from /dev/zero, write(2) to /dev/null: on the trap
	 * path, and through __elfvm_syscall (-1: none) */
	double read_ns, read_direct_ns, write_ns, write_direct_ns;
	char why[BENCH_WHY];
};

/* The servers group: not one of P_*, its bit in groups is 1 << P_N; out
 * of the default groups because it is slow under TCG.  Each server's
 * figures are its srv_fig list (bench_srv.c); v[0] is always the time
 * from the spawn to its first answer, ms. */
enum { S_REDIS, S_MEMCACHED, S_NGINX, S_DNS, S_MARIADB, S_N };
#define SRV_MAX_FIG 24
struct srv_fig {
	const char *csv, *label, *unit;
	int higher_better;
};
struct srv_sample {
	int ok, unavailable;
	double v[SRV_MAX_FIG]; /* -1: not measured */
	char why[BENCH_WHY];
};
/* One server on one side, as bench_srv.c's helpers see it. */
struct srv_run {
	const struct bench *b;
	int vm, port;      /* port: the host's (published, or native) */
	const char *files; /* the server's files ("" for none) */
	char log[PATH_MAX], image[PATH_MAX];
};
#define BENCH_G_SERVERS (1u << 4) /* == 1 << P_N, checked in bench.c */

/* VM_HOST: the program run natively, as a reference (not a VM). */
enum { VM_ELFVM, VM_LINUX, VM_N, VM_HOST = VM_N };
/* hello, getppid, busybox cat of a file to stdout, netsrv. */
enum { P_HELLO, P_GETPPID, P_CONSOLE, P_NET, P_N };
extern const char *const bench_vm_names[VM_N + 1]; /* "elfvm", "linux", "host" */
extern const char *const bench_prog_names[P_N];    /* "hello", "getppid", "console", "net" */

/* The two boots of the UEFI rows, both on q35. */
enum { BENCH_UEFI_PVH, BENCH_UEFI_UEFI, BENCH_UEFI_N };

struct bench {
	struct bench_opts o;
	char prog[P_N][PATH_MAX];        /* build/bench/NAME; busybox for console */
	char image[VM_N][P_N][PATH_MAX]; /* elfvm image; Linux initramfs */
	char kernel[VM_N][PATH_MAX];     /* kernel.elf; vmlinuz */
	char why[VM_N][P_N][BENCH_WHY];  /* set when a side cannot run */
	char qemu_version[128], host_cpu[128];
	struct sample s[VM_N + 1][P_N][BENCH_MAX_RUNS]; /* [VM_HOST]: getppid, net */
	struct srv_sample srv[S_N][VM_N + 1][BENCH_MAX_RUNS];
	char srv_image[S_N][PATH_MAX];      /* the Linux VM's initramfs for each server */
	char srv_dir[S_N][PATH_MAX];        /* the VMs' files of a server ("" none) */
	char srv_why[S_N][VM_N][BENCH_WHY]; /* set when a side cannot run a server */
	int least_mem[VM_N];                /* MB that still run redis, or -1 */
	/* The UEFI rows (bench_uefi.c): PVH and UEFI on q35. */
	char uefi_disk[PATH_MAX];                           /* hello's disk */
	char uefi_why[BENCH_WHY];                           /* set when it cannot run */
	char uefi_run_why[BENCH_UEFI_N][BENCH_WHY];         /* a side's first failure */
	double uefi_first_ms[BENCH_UEFI_N][BENCH_MAX_RUNS]; /* -1: failed */
	long disk_apparent, disk_allocated;                 /* the disk's bytes, -1 */
	unsigned char *console;                             /* the console row's file */
	size_t console_len;
};

/* What the report shows: one figure of a sample (bench.c says which). */
enum metric {
	M_FIRST,
	M_EXIT,
	M_START,
	M_GETPPID,
	M_DIRECT,
	M_LOOP,
	M_DIRECT_RATIO, /* direct / trap of one boot: getppid's, */
	M_READ,
	M_READ_DIRECT,
	M_READ_RATIO, /* read's, */
	M_WRITE,
	M_WRITE_DIRECT,
	M_WRITE_RATIO, /* write's */
	M_CONSOLE,
	M_RTT_MED,
	M_RTT_P99,
	M_RX,
	M_TX,
	M_CONN,
	M_N
};

/* Metric m of one side over the runs: median, least and most (-1 when no
 * run gave it, with the first failure's reason in why). */
struct stat3 {
	double med, lo, hi;
	const char *why;
	int unavailable; /* why is "the side cannot do this yet" */
};

/* ---- bench_report.c --------------------------------------------------------- */

/* The program a metric comes from (P_*). */
int bench_metric_prog(enum metric m);
/* The median and range of m on vm (VM_HOST included) over the runs. */
struct stat3 bench_stat(const struct bench *b, int vm, enum metric m);
/* Writes bench.md and bench.csv to the output directory and prints the
 * table.  Returns 0, or -1 when a file could not be written. */
int bench_report(const struct bench *b);

/* ---- bench_vm.c ----------------------------------------------------------- */

/* snprintf that may cut: reasons and paths are bounded on purpose. */
void bench_fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
/* Reads the whole file (malloc'd, *len bytes).  Returns it or NULL. */
unsigned char *bench_file_read(const char *path, size_t *len);
/* Joins dir and name into out (PATH_MAX). */
void bench_path_join(char *out, const char *dir, const char *name);
/* The program's argv inside a VM (argv[0] is its path); bufs holds the
 * numbers.  At most 6 entries with the NULL. */
void bench_prog_argv(const struct bench *b, int prog, char bufs[2][24], char **argv);
/* Forks and execs argv with stdout on a new pipe (returned in *fd) and
 * stderr appended to errlog (or /dev/null).  Returns the pid or -1. */
pid_t bench_spawn(char *const *argv, const char *errlog, int *fd);
/* Build elfvm's images into the output directory; a program that cannot
 * run gets b->why set. */
void bench_elfvm_prepare(struct bench *b);
/* One boot of program prog on vm (VM_HOST: run natively, getppid and net
 * only); fills s: s->ok, or s->why (and s->unavailable). */
void bench_run(struct bench *b, int vm, int prog, struct sample *s);

/* ---- bench_uefi.c ----------------------------------------------------------- */

/* Writes hello's UEFI disk (pack --disk's layout) into the output
 * directory, or sets b->uefi_why; only with the boot group. */
void bench_uefi_prepare(struct bench *b);
/* Run number run of hello on q35 through PVH and through UEFI. */
void bench_uefi_one(struct bench *b, int run);
/* The UEFI rows: a small table of their own (Markdown), every sample and
 * the disk's sizes (CSV). */
void bench_uefi_md(FILE *f, const struct bench *b);
void bench_uefi_csv(FILE *f, const struct bench *b);

/* ---- bench_linux.c ---------------------------------------------------------- */

/* The -M value of both VMs for o->machine (vmm.c uses the same). */
const char *bench_machine(const struct bench_opts *o);
/* Find the kernel and write the initramfs of each program into the output
 * directory; a program that cannot run gets b->why set. */
void bench_linux_prepare(struct bench *b);
/* Starts QEMU on the Linux VM for prog, with a virtio-net device on netdev
 * when it is not NULL; QEMU's stderr goes to errlog.  Returns the pid with
 * the console's pipe in *fd, or -1. */
pid_t bench_linux_spawn(const struct bench *b, int prog, const char *netdev, const char *errlog,
			int *fd);

/* ---- bench_net.c ------------------------------------------------------------ */

/* A TCP port on 127.0.0.1 nobody listens on now, or -1. */
int bench_net_free_port(void);
/* The TCP rows against netsrv on 127.0.0.1:port; fills s's figures and
 * s->ok, or s->why with the first failure. */
void bench_net_client(const struct bench_opts *o, int port, struct sample *s);
/* Asks netsrv to exit.  Returns 0 or -errno. */
int bench_net_quit(int port);

/* ---- bench_srv.c ------------------------------------------------------------ */

/* Checks each server's programs, makes its files and the Linux VM's
 * initramfs; a side that cannot run gets b->srv_why set. */
void bench_srv_prepare(struct bench *b);
/* One run of server s on vm (VM_HOST: natively): start to its first
 * answer, then its load tool from the host. */
void bench_srv_run(struct bench *b, int s, int vm, struct srv_sample *sm);
/* The least memory (MB, by halving then bisecting) in which redis on vm
 * answers redis-benchmark, into b->least_mem[vm]. */
void bench_srv_least_mem(struct bench *b, int vm);
/* Median/range of server s's figure k on vm. */
struct stat3 bench_srv_stat(const struct bench *b, int s, int vm, int k);
const char *bench_srv_name(int s);
int bench_srv_nfig(int s);
const struct srv_fig *bench_srv_fig(int s, int k);
/* --servers LIST into bits 1 << S_*.  Returns 0, or -1 for a bad name. */
int bench_srv_parse(const char *v, unsigned *out);

/* ---- bench_linux.c (servers) --------------------------------------------- */

/* Writes out: busybox, the virtio modules and an /init that brings eth0
 * up, runs argv and resets the VM when it ends; then the files elfvm run
 * would pack for argv[0] with --dir DIR:/srv (dir "" for none).  Returns
 * 0, or -1 with why set. */
int bench_linux_srv_initrd(struct bench *b, const char *out, const char *dir, const char *const *argv,
			   char *why, size_t n);
/* Starts QEMU on the Linux VM with initramfs initrd, mem and a virtio-net
 * device on netdev.  Returns the pid with the console's pipe in *fd, or -1. */
pid_t bench_linux_srv_spawn(const struct bench *b, const char *initrd, const char *mem,
			    const char *netdev, const char *errlog, int *fd);

/* ---- bench_plot.c ----------------------------------------------------------- */

/* Writes the data and a gnuplot script for each measured row group into
 * the output directory and runs gnuplot on them.  Returns 0, or -1 with a
 * message on stderr (gnuplot missing or failing); never aborts the bench. */
int bench_plot(const struct bench *b);

#endif
