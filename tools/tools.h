/* SPDX-License-Identifier: MIT */
/*
 * The elfvm command's one header: what each file of tools/ exports to the
 * others, grouped by file.  elfvm.c dispatches the verbs; inspect.c finds,
 * reads and checks a program (libelf); run.c builds images and runs the
 * `run` and `pack` verbs; vmm.c starts QEMU and reads the kernel's records
 * (docs/protocol.md); bench.c is the benchmark suite.
 */
#ifndef TOOLS_TOOLS_H
#define TOOLS_TOOLS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "loader/loader.h"
#include "tools/cpio_write.h"

/* Exit statuses of elfvm itself (DESIGN §1, docs/protocol.md). */
#define ELFVM_EXIT_USAGE 2    /* unknown verb */
#define ELFVM_EXIT_TIMEOUT 124
#define ELFVM_EXIT_FAIL 125   /* elfvm cannot run the program */

/* ---- inspect.c ------------------------------------------------------------ */

struct prog_file {
	char path[PATH_MAX];  /* absolute host path; also the guest path */
	unsigned char *data;  /* the whole file (malloc) */
	size_t size;
	uint32_t mode;        /* st_mode of the file */
	uint32_t mtime;
	struct elf_info elf;  /* filled by elf_check() */
	const char *interp;   /* PT_INTERP string inside data, or NULL */
};

/*
 * Finds name (a path when it holds a '/', else looked up in $PATH), reads
 * the whole file and checks it: elf_check(), then PT_INTERP through libelf.
 * Dynamically linked programs are refused for now.  Returns 0 with *p
 * filled (free it with prog_free), or -1 with a one-line reason that
 * starts with the program's name (no "elfvm: ", no newline) in why.
 */
int prog_load(const char *name, struct prog_file *p, char *why, size_t n);
void prog_free(struct prog_file *p);

/* ---- run.c ---------------------------------------------------------------- */

/* The verbs: argv[0] is the verb's name.  Return the process exit status. */
int run_main(int argc, char **argv);
int pack_main(int argc, char **argv);

struct image_spec {
	const struct prog_file *prog;
	char *const *argv;      /* the program's argv, NULL-terminated */
	char *const *envp;      /* its environment, NULL-terminated */
	const void *stdin_data; /* .elfvm/stdin content; NULL: no such file */
	size_t stdin_len;
};

/*
 * Appends a complete image to o (docs/protocol.md): every parent directory,
 * the program at its absolute path without the leading '/', .elfvm/exe,
 * .elfvm/argv, .elfvm/envp, .elfvm/stdin when stdin_data is set, then the
 * trailer.  Returns 0, or -ENOMEM.
 */
int image_build(struct cpio_out *o, const struct image_spec *s);
/* Writes the image to path (created or truncated, mode 0644).  Returns 0 or
 * -errno. */
int image_write(const struct cpio_out *o, const char *path);
/* Writes the image to a new file elfvm-XXXXXX in $TMPDIR (else /tmp) and
 * puts its name in path (n bytes).  The caller unlinks it.  Returns 0 or
 * -errno. */
int image_write_temp(const struct cpio_out *o, char *path, size_t n);

/* ---- vmm.c ---------------------------------------------------------------- */

enum vm_accel { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG };

struct vm_config {
	const char *kernel;   /* the PVH kernel ELF (see vm_default_kernel) */
	const char *initrd;   /* the image file */
	const char *cmdline;  /* kernel command line words, or NULL; vm_run
	                         appends realtime=NS itself */
	const char *mem;      /* QEMU -m value, e.g. "256M" (NULL: 256M) */
	int cpus;             /* 0 or 1: one CPU */
	enum vm_accel accel;
	const char *machine;  /* "microvm" (also when NULL) or "q35" */
	double timeout;       /* seconds; 0: none */
	FILE *log;            /* kernel log lines and QEMU's own stderr
	                         ("qemu: " prefix); NULL drops them */
	FILE *trace;          /* @@strace records, prefix removed; NULL drops */
};

enum vm_end {
	VM_END_EXIT,        /* @@exit N: status N */
	VM_END_SIGNAL,      /* @@signal N: status 128+N, code N */
	VM_END_ERROR,       /* @@error R: status 125, message R */
	VM_END_PANIC,       /* @@panic R: status 125, message R */
	VM_END_TIMEOUT,     /* --timeout expired: status 124, QEMU killed */
	VM_END_QEMU,        /* QEMU failed or ended without a record: 125,
	                       message = its first stderr line or why */
	VM_END_INTERRUPTED, /* elfvm got SIGINT/TERM/HUP/PIPE (code): QEMU
	                       killed, status 128+code */
};

#define VM_TAIL_LINES 50
#define VM_LINE_MAX 256

struct vm_result {
	int status;            /* the host exit status to return */
	enum vm_end end;
	int code;              /* exit status or signal number (see vm_end) */
	char message[512];     /* reason for ERROR, PANIC, QEMU; else "" */
	int64_t t_spawn;       /* CLOCK_MONOTONIC ns before QEMU was forked */
	int64_t t_start;       /* when @@start arrived; 0 if it never did */
	int64_t t_exit;        /* when QEMU was seen to end */
	/* The last kernel log lines (not records), a ring: the oldest is at
	 * tail_next when tail_count == VM_TAIL_LINES. */
	char tail[VM_TAIL_LINES][VM_LINE_MAX];
	int tail_count, tail_next;
};

/*
 * Boots cfg->kernel with cfg->initrd under qemu-system-x86_64 (found in
 * $PATH; $ELFVM_QEMU overrides it, for tests) with the devices of
 * docs/protocol.md, reads the debugcon log until QEMU ends, and fills *res.
 * COM1/COM2 write straight to the host's fds 1 and 2.  SIGINT, SIGTERM,
 * SIGHUP and SIGPIPE (unless ignored) are caught while it runs (QEMU is
 * killed, end = INTERRUPTED), so the caller can clean up and re-raise.  ELFVM_PRINT_QEMU=1 prints QEMU's argv to
 * stderr.  Returns res->status (>= 0).
 */
int vm_run(const struct vm_config *cfg, struct vm_result *res);
/* Prints res's kept log lines, oldest first, to f. */
void vm_print_tail(const struct vm_result *res, FILE *f);
/* AUTO becomes KVM when /dev/kvm opens read-write, else TCG. */
enum vm_accel vm_accel_resolve(enum vm_accel a);
const char *vm_accel_name(enum vm_accel a); /* "auto", "kvm", "tcg" */
/* Parses "auto", "kvm" or "tcg".  Returns 0, or -EINVAL. */
int vm_parse_accel(const char *s, enum vm_accel *out);
/* Checks a --mem SIZE: digits with an optional K, M, G or T suffix (what
 * QEMU's -m takes).  Returns 0, or -EINVAL. */
int vm_check_mem(const char *s);
/* Puts kernel.elf next to the running binary in path.  Returns 0 or
 * -errno. */
int vm_default_kernel(char *path, size_t n);
/* CLOCK_MONOTONIC in ns. */
int64_t vm_now_ns(void);

/* ---- bench.c -------------------------------------------------------------- */

int bench_main(int argc, char **argv);

#endif
