/* SPDX-License-Identifier: MIT */
/*
 * What the two files of `elfvm bench` share, and nothing else includes:
 * bench.c runs the suite (options, schedule, report); bench_vm.c boots
 * elfvm and the Linux VM and reads their consoles.  The rest of the elfvm
 * command is in tools/tools.h.
 */
#ifndef TOOLS_BENCH_H
#define TOOLS_BENCH_H

#include "tools/tools.h"

#define BENCH_TIMEOUT_S 180.0 /* one boot, under TCG on a loaded host */
#define BENCH_MAX_RUNS 99
#define BENCH_WHY 200

struct bench_opts {
	const char *outdir, *mem, *machine, *kernel, *linux_kernel, *busybox;
	int runs;
	long calls; /* getppid calls per boot */
	enum vm_accel accel;
	char selfdir[PATH_MAX]; /* the directory elfvm runs from */
	char outbuf[PATH_MAX];
	long tsc_khz; /* the host's TSC rate, given to Linux */
};

/* One boot: times in ms from QEMU's spawn, ns per call; -1 when not seen. */
struct sample {
	int ok;
	double first_ms, start_ms, exit_ms, getppid_ns;
	double loop_ns; /* getppid's loop timed by the host: checks the guest clock */
	char why[BENCH_WHY];
};

enum { VM_ELFVM, VM_LINUX, VM_N };
enum { P_HELLO, P_GETPPID, P_N };
extern const char *const bench_vm_names[VM_N];  /* "elfvm", "linux" */
extern const char *const bench_prog_names[P_N]; /* "hello", "getppid" */

struct bench {
	struct bench_opts o;
	char prog[P_N][PATH_MAX];        /* build/bench/NAME */
	char image[VM_N][P_N][PATH_MAX]; /* elfvm image; Linux initramfs */
	char kernel[VM_N][PATH_MAX];     /* kernel.elf; vmlinuz */
	char why[VM_N][P_N][BENCH_WHY];  /* set when a side cannot run */
	char qemu_version[128], host_cpu[128];
	struct sample s[VM_N][P_N][BENCH_MAX_RUNS];
	double host_ns[BENCH_MAX_RUNS];
};

/* ---- bench_vm.c ----------------------------------------------------------- */

/* snprintf that may cut: reasons and paths are bounded on purpose. */
void bench_fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
/* Reads the whole file (malloc'd, *len bytes).  Returns it or NULL. */
unsigned char *bench_file_read(const char *path, size_t *len);
/* The -M value of both VMs for o->machine (vmm.c uses the same). */
const char *bench_machine(const struct bench_opts *o);
/* Find the kernels and write the images or initramfs of each program into
 * the output directory; a side that cannot run gets b->why set. */
void bench_linux_prepare(struct bench *b);
void bench_elfvm_prepare(struct bench *b);
/* One boot of program prog; fills s (s->ok, or s->why). */
void bench_linux_boot(struct bench *b, int prog, struct sample *s);
void bench_elfvm_boot(struct bench *b, int prog, struct sample *s);
/* getppid natively: ns per call, or -1. */
double bench_host_getppid(const struct bench *b);

#endif
