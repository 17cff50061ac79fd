/* SPDX-License-Identifier: MIT */
/*
 * The elfvm command's one header: what each file of tools/ exports to the
 * others, grouped by file.  elfvm.c dispatches the verbs; inspect.c finds,
 * reads and checks a program (libelf); needed.c finds what its dynamic
 * linker opens; pack.c lists what its image holds, namei.c resolves paths
 * as the kernel will, image.c writes images, cache.c keeps their content
 * part; disk.c writes UEFI disk images; opts.c parses the options of the
 * `run` and `pack` verbs, run.c and run_pack.c run them; vmm.c starts QEMU and reads the kernel's records
 * (docs/protocol.md), with vmm_argv.c and vmm_lines.c; bench.c is the
 * benchmark suite.
 */
#ifndef TOOLS_TOOLS_H
#define TOOLS_TOOLS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "loader/loader.h"
#include "tools/cpio_write.h"

/* Exit statuses of elfvm itself (DESIGN §1, docs/protocol.md). */
#define ELFVM_EXIT_USAGE 2 /* unknown verb */
#define ELFVM_EXIT_TIMEOUT 124
#define ELFVM_EXIT_FAIL 125 /* elfvm cannot run the program */

/* ---- inspect.c ------------------------------------------------------------ */

struct prog_file {
	char path[PATH_MAX];  /* absolute host path, symlinks resolved; also the
	                         guest path */
	char found[PATH_MAX]; /* the absolute path it was found by, before
	                         symlinks were resolved (e.g. /bin/bash) */
	unsigned char *data;  /* the whole file (malloc) */
	size_t size;
	uint32_t mode; /* st_mode of the file */
	uint32_t mtime;
	struct elf_info elf; /* filled by elf_check() */
	const char *interp;  /* PT_INTERP string inside data, or NULL */
};

/*
 * Finds name (a path when it holds a '/', else looked up in $PATH), reads
 * the whole file and checks it: elf_check(), then PT_INTERP through libelf.
 * A dynamically linked program is accepted (p->interp is set); whether it
 * can run is the verb's decision.  Returns 0 with *p
 * filled (free it with prog_free), or -1 with a one-line reason that
 * starts with the program's name (no "elfvm: ", no newline) in why.
 */
int prog_load(const char *name, struct prog_file *p, char *why, size_t n);
void prog_free(struct prog_file *p);

/* What a dynamic linker reads from an object's PT_DYNAMIC. */
struct dso_info {
	char **needed; /* DT_NEEDED, in order */
	size_t nneeded;
	char *soname;  /* DT_SONAME, or NULL */
	char *rpath;   /* DT_RPATH, or NULL; also NULL when there is a
	                    DT_RUNPATH, which hides it (glibc, musl) */
	char *runpath; /* DT_RUNPATH, or NULL */
	int nodeflib;  /* DF_1_NODEFLIB */
};

struct Elf; /* libelf's */
/* Fills d through e's program headers (PT_DYNAMIC, then DT_STRTAB mapped
 * through PT_LOAD), as a dynamic linker reads it, not through sections.
 * Without PT_DYNAMIC d stays empty.  Returns 0, or -1 when it is malformed
 * or memory runs out (free d with dso_free either way). */
int dso_read(struct Elf *e, struct dso_info *d);
void dso_free(struct dso_info *d);
/* Is the file on fd a 64-bit little-endian x86-64 ELF?  1 yes; 0 another
 * class or machine (a linker skips it and searches on); -1 not an ELF. */
int dso_kind(int fd);

/* ---- needed.c ------------------------------------------------------------- */

/*
 * Finds what p's dynamic linker opens before main, as that linker (glibc's
 * ld.so, or musl's, told by PT_INTERP) would: the interpreter, the
 * DT_NEEDED closure breadth first, then each of libs (a name searched as
 * p's own DT_NEEDED is, or a path) with its closure, as dlopen() would.
 * Calls add(ctx, path) for every file opened, by the path the linker opens
 * it by (symlinks not resolved), so that a file found under two names is
 * reported under both.  Nothing is done for a static p without libs.
 * Returns 0, or -1 with a one-line reason in why, e.g. "PROG: libx.so.1
 * (needed by /usr/lib/.../liby.so.2) not found in DIR:DIR:...".
 */
int needed_resolve(const struct prog_file *p, char *const *libs, int nlibs,
		   int (*add)(void *ctx, const char *path), void *ctx, char *why, size_t n);
/* Is interp musl's dynamic linker (ld-musl-ARCH.so.1)?  Else glibc's. */
int needed_musl(const char *interp);

/* ---- namei.c -------------------------------------------------------------- */

/*
 * Resolves path (absolute) component by component as the kernel does;
 * readlink_fn(ctx, p, target, tn) says whether the absolute path p is a
 * symlink: 0 with its target, 1 when it is not, or -errno.  Each link met
 * (the last component's too) is reported to seen(ctx, p, target) when seen
 * is given (a negative return stops the walk).  The result goes to real
 * ("/" for the root).  Returns 0 or -errno (ELOOP, ENAMETOOLONG, or
 * readlink_fn's or seen's error).
 */
int namei_walk(const char *path, char *real, size_t n,
	       int (*readlink_fn)(void *ctx, const char *p, char *target, size_t tn),
	       int (*seen)(void *ctx, const char *p, const char *target), void *ctx);

/* ---- image.c -------------------------------------------------------------- */

enum image_kind { IMAGE_DIR, IMAGE_FILE, IMAGE_LINK, IMAGE_DATA };

/* One entry of an image's content part; nothing is read until written. */
struct image_entry {
	char *name; /* guest path without the leading '/' */
	enum image_kind kind;
	uint32_t mode; /* with the type bits, e.g. 0100755 */
	uint32_t mtime;
	char *src;           /* FILE: the host path; LINK: the link's target */
	unsigned char *data; /* DATA: the content */
	size_t size;         /* FILE: st_size when listed; LINK, DATA: length */
	uint64_t ino, dev;   /* FILE: for the cache key */
	int64_t mtime_ns;    /* FILE: for the cache key */
};

/* The entries in image order, parents before children, names unique. */
struct image_list {
	struct image_entry *v;
	size_t n, cap;
	size_t *slot; /* open-addressing index: entry number + 1 */
	size_t nslot;
};

/*
 * Each adds one entry at name (a guest path; a leading '/' is dropped) and
 * first every missing parent directory (0755).  An entry of the same name
 * is replaced (a later one wins, as in the image) unless either is a
 * directory: a directory listed twice stays one.  Return 0, -ENOMEM,
 * -EISDIR (a directory is there) or -ENOTDIR (a parent is not one).
 */
int image_add_dir(struct image_list *l, const char *name, uint32_t mode, uint32_t mtime);
int image_add_link(struct image_list *l, const char *name, const char *target, uint32_t mtime);
int image_add_data(struct image_list *l, const char *name, uint32_t mode, const void *data, size_t size,
		   uint32_t mtime);
/* The host file host, listed with the stat data st (read when written). */
int image_add_file(struct image_list *l, const char *name, const char *host, const struct stat *st);
/* Walks the absolute host path as the kernel would, listing every symlink
 * met (the last component's too) as a symlink entry, and puts the path it
 * resolves to in real.  Returns 0 or -errno. */
int image_mirror(struct image_list *l, const char *path, char *real, size_t n);
/* Resolves the guest path through the symlinks listed so far, into out.
 * Returns 0 or -errno (ELOOP, ENAMETOOLONG). */
int image_resolve(const struct image_list *l, const char *guest, char *out, size_t n);
void image_list_free(struct image_list *l);
/* The cache key of l: 32 hex digits hashing every entry's name, kind, mode
 * and mtime, and its host path with size, mtime in ns, inode and device,
 * or its link target, or its data. */
void image_key(const struct image_list *l, char hex[33]);
/* Writes l to fd as one cpio archive with its trailer, one host file in
 * memory at a time.  Returns 0, or -errno with a one-line reason in why. */
int image_write_list(const struct image_list *l, int fd, char *why, size_t n);

struct image_spec {
	const struct prog_file *prog; /* the program */
	char *const *argv;            /* the program's argv, NULL-terminated */
	char *const *envp;            /* its environment, NULL-terminated */
};

/* Writes the per-run part to fd as its own archive: .elfvm/exe, .elfvm/argv,
 * .elfvm/envp, the trailer (stdin streams: docs/terminal.md).  Returns 0 or
 * -errno. */
int image_write_control(int fd, const struct image_spec *s);
/*
 * Appends a program-only image to o (docs/protocol.md): every parent
 * directory, the program at its absolute path without the leading '/',
 * .elfvm/exe, .elfvm/argv, .elfvm/envp, then the trailer; no libraries.  Returns 0, or -ENOMEM.
 */
int image_build(struct cpio_out *o, const struct image_spec *s);
/* Writes the image to path (created or truncated, mode 0644).  Returns 0 or
 * -errno. */
int image_write(const struct cpio_out *o, const char *path);
/* Creates a new file elfvm-XXXXXX in $TMPDIR (else /tmp), its name in
 * path.  Returns the fd open for writing, or -errno. */
int image_temp(char *path, size_t n);
/* Writes the image to a new file from image_temp.  The caller unlinks it.
 * Returns 0 or -errno. */
int image_write_temp(const struct cpio_out *o, char *path, size_t n);
/* The entry that marks an image as sealed (pack --trace): booted with
 * --image it gets no host files. */
#define SEALED_NAME ".elfvm/sealed"
/* Does the image at path hold SEALED_NAME?  1 yes, 0 no, or -errno. */
int image_sealed(const char *path);
/* Writes all of buf to fd; copies what is left of in to out (an in-kernel
 * copy when the files allow it).  Return 0 or -errno. */
int image_write_all(int fd, const void *buf, size_t n);
int image_copy_fd(int in, int out);

/* ---- disk.c --------------------------------------------------------------- */

/* What goes on the ESP of a UEFI disk image (docs/uefi.md). */
struct disk_files {
	const char *loader;  /* BOOTX64.EFI: /EFI/BOOT/BOOTX64.EFI */
	const char *kernel;  /* /EFI/elfvm/kernel.elf */
	const char *image;   /* /EFI/elfvm/image.cpio */
	const char *cmdline; /* the words of /EFI/elfvm/cmdline (one line) */
};
/*
 * Writes a raw GPT disk image to path (created or truncated, sparse): the
 * ESP from LBA 2048, FAT32 made by mkfs.fat and filled by mtools.  size
 * is the whole disk in bytes (rounded down to MiB), or 0 for what the
 * files need.  Returns 0, or -1 with a one-line reason in why (a missing
 * tool or file; files that do not fit: "the kernel and image (N MiB) do
 * not fit in a SIZE disk"); path is removed then.
 */
int disk_write(const char *path, const struct disk_files *f, uint64_t size, char *why, size_t n);
/* Is path an elfvm disk: a GPT whose header and entries' CRC32 hold, an
 * ESP named "elfvm" with /EFI/elfvm/kernel.elf and the loader on it?
 * Returns 0, or -1 with "PATH: not an elfvm disk image (what)" (or why it
 * cannot tell). */
int disk_check(const char *path, char *why, size_t n);
/* Parses SIZE: digits with an optional K, M, G or T suffix (any case), into
 * bytes, at most 1 PiB.  Returns 0 or -EINVAL (also --mem's check). */
int disk_parse_size(const char *s, uint64_t *out);
/* Finds the program name in $PATH, then /usr/sbin and /sbin (mkfs.fat's
 * home).  Returns 0 with its path, or -ENOENT. */
int disk_tool(const char *name, char *path, size_t n);
/* The OVMF image to boot a disk with: $ELFVM_OVMF, else Debian's
 * /usr/share/ovmf/OVMF.fd (not checked). */
const char *disk_firmware(void);
/* The loader, BOOTX64.EFI beside elfvm (as kernel.elf), in path.  Returns
 * 0, or -1 with a one-line reason in why when it is not there. */
int disk_loader(char *path, size_t n, char *why, size_t whyn);

/* ---- cache.c -------------------------------------------------------------- */

/* An fd open for reading at offset 0 on l written as an archive, from the
 * cache when a whole entry is there, else written into it now.  Returns -1
 * when the cache cannot be used (no directory, not writable, a file of l
 * unreadable): the caller then writes l itself. */
int cache_open(const struct image_list *l);
/* Puts elfvm's cache directory ($XDG_CACHE_HOME/elfvm, else ~/.cache/elfvm)
 * in dir, creating it (0700) when missing.  Returns 0 or -errno. */
int cache_dir(char *dir, size_t n);

/* ---- pack.c --------------------------------------------------------------- */

struct pack_add {
	int dir;          /* --dir, else --file */
	const char *spec; /* HOST[:GUEST] */
};

struct pack_opts {
	struct pack_add *adds; /* in command-line order: a later one wins */
	int nadds;
	char **libs; /* --lib NAME|PATH */
	int nlibs;
	struct prog_file *also; /* the program a dynamic linker run as the
	                           program will load (ld.so PROG …), or NULL */
	const char *dns;        /* /etc/resolv.conf's nameserver (NULL: 10.0.2.3) */
	char **used;            /* pack --trace: the guest paths the run brought
	                           in from the host, packed as the host has them */
	int nused;
	int sealed;     /* the image says it wants no host files (.elfvm/sealed) */
	int libc_stock; /* --libc stock: a musl program keeps the host's
	                   dynamic linker, not libc-aware's */
};

/* Writes a one-line reason, as vsnprintf would, to why.  Returns -1 (the
 * failure the callers of pack.c and shares.c return). */
int pack_fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Lists the content part of p's image: the program, what its linker opens
 * (needed_resolve), /etc, then o's files and directories.  Returns 0, or
 * -1 with a one-line reason in why. */
int pack_list(struct image_list *l, const struct prog_file *p, const struct pack_opts *o, char *why,
	      size_t n);
/* The libraries p's linker is asked for beyond its DT_NEEDED: o's --lib,
 * and libgcc_s.so.1 for a dynamic glibc program when the host has it
 * (also what `analyze` examines).  Returns *n of them (free the array,
 * not the strings), or NULL when memory runs out. */
char **pack_libs(const struct prog_file *p, const struct pack_opts *o, int *n);

/* ---- vmm.c, vmm_argv.c, vmm_lines.c --------------------------------------- */

enum vm_accel { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG };

struct vm_config {
	const char *kernel;       /* the PVH kernel ELF (see vm_default_kernel) */
	const char *initrd;       /* the image file (PVH), or NULL */
	const char *disk;         /* a UEFI disk image (disk.c) booted by
	                             firmware instead of kernel and initrd */
	const char *firmware;     /* the OVMF image, with disk */
	const char *cmdline;      /* kernel command line words, or NULL; vm_run
	                         appends realtime=NS itself */
	const char *mem;          /* QEMU -m value, e.g. "256M" (NULL: 256M) */
	int cpus;                 /* 0 or 1: one CPU */
	enum vm_accel accel;      /* KVM or TCG, as accel_choose decided */
	const char *machine;      /* "microvm" (also when NULL) or "q35" */
	double timeout;           /* seconds; 0: none */
	FILE *log;                /* kernel log lines and QEMU's own stderr
	                         ("qemu: " prefix); NULL drops them */
	FILE *trace;              /* @@strace records, prefix removed; NULL drops */
	int quiet;                /* the program's stdout and stderr go nowhere */
	const char *netdev;       /* QEMU -netdev value for a virtio-net device, or
	                        NULL for none */
	FILE *used;               /* @@used records' paths, one a line, or NULL */
	const char *const *extra; /* more QEMU arguments (the 9p shares),
	                             NULL-terminated, or NULL */
	int relay_stdin;          /* 1: elfvm's fd 0 streams into the program's;
	                             0: it reads end-of-file at once; -1: it
	                             stays open and empty (a background job) */
	int tty;                  /* the host terminal is raw and the guest has
	                             a tty (term.c): Ctrl-] q, SIGWINCH */
	struct vm_profile *prof;  /* @@profile records land here, or NULL */
	const char *core;         /* a file for the elfvm.core port (run --core),
	                             or NULL for no such port */
	struct gdb_session *gdb;  /* --gdb: QEMU's stub, @@gdb records; or NULL */
};

/* The syscall profile of a run (`run --profile`, docs/trim.md): count[nr]
 * for nr < VM_PROFILE_NRS, count[VM_PROFILE_NRS] for every larger number. */
#define VM_PROFILE_NRS 512
struct vm_profile {
	uint64_t count[VM_PROFILE_NRS + 1];
	int records; /* @@profile records received */
	int bad;     /* malformed ones (ignored) */
};

enum vm_end {
	VM_END_EXIT,        /* @@exit N: status N */
	VM_END_SIGNAL,      /* @@signal N: status 128+N, code N */
	VM_END_ERROR,       /* @@error R: status 125, message R */
	VM_END_PANIC,       /* @@panic R: status 125, message R */
	VM_END_TIMEOUT,     /* --timeout expired: status 124, QEMU killed */
	VM_END_QEMU,        /* QEMU failed or ended without a record: 125,
	                       message = its first stderr line or why */
	VM_END_STOPPED,     /* QEMU stopped the VM for good without a record
	                       (a KVM internal error, say): QEMU killed, 125,
	                       message = what QEMU said */
	VM_END_INTERRUPTED, /* elfvm got SIGINT/TERM/HUP/PIPE (code): QEMU
	                       killed, status 128+code; message says why
	                       when a forwarded signal's grace ran out */
	VM_END_ESCAPED,     /* Ctrl-] q typed at the terminal: QEMU killed,
	                       status 130, message */
};

#define VM_TAIL_LINES 50
#define VM_LINE_MAX 256

struct vm_result {
	int status; /* the host exit status to return */
	enum vm_end end;
	int code;          /* exit status or signal number (see vm_end) */
	char message[512]; /* reason for ERROR, PANIC, QEMU; else "" */
	int64_t t_spawn;   /* CLOCK_MONOTONIC ns before QEMU was forked */
	int64_t t_start;   /* when @@start arrived; 0 if it never did */
	int64_t t_exit;    /* when QEMU was seen to end */
	int output;        /* the program wrote to stdout or stderr
	                          (@@output) */
	int stdin_taken;   /* bytes of elfvm's stdin went to the VM: a second
	                      run could not see them again */
	int core;          /* @@core came: the kernel wrote core_bytes bytes */
	uint64_t core_bytes;
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
 * SIGHUP and SIGPIPE (unless ignored) are caught while it runs; once the
 * kernel has opened elfvm.ctl (@@ctl) SIGINT, SIGTERM and SIGHUP are
 * forwarded to the program instead, and only a second one of a kind, or
 * SIGNAL_GRACE_S without an end, kills QEMU (end = INTERRUPTED), so the
 * caller can clean up and re-raise.  ELFVM_PRINT_QEMU=1 prints QEMU's argv to
 * stderr.  Returns res->status (>= 0).
 */
int vm_run(const struct vm_config *cfg, struct vm_result *res);
/* Prints res's kept log lines, oldest first, to f. */
void vm_print_tail(const struct vm_result *res, FILE *f);
const char *vm_accel_name(enum vm_accel a); /* "auto", "kvm", "tcg" */
/* Parses "auto", "kvm" or "tcg".  Returns 0, or -EINVAL. */
int vm_parse_accel(const char *s, enum vm_accel *out);
/* Checks a --mem SIZE: digits with an optional K, M, G or T suffix (what
 * QEMU's -m takes).  Returns 0, or -EINVAL. */
int vm_check_mem(const char *s);
/* Puts name, relative to the directory of the running binary, in path;
 * vm_default_kernel puts kernel.elf there.  Return 0 or -errno. */
int vm_beside_elfvm(const char *name, char *path, size_t n);
int vm_default_kernel(char *path, size_t n);
/* CLOCK_MONOTONIC in ns. */
int64_t vm_now_ns(void);

/* ---- term.c: the host terminal, the stdin relay, elfvm.ctl ---------------- */

/* Which of fds 0-2 are the terminal elfvm's stdin is (bit i: fd i), with
 * its size in *rows, *cols; 0 when stdin is no terminal or no output fd is
 * the same one (then stdin is streamed like a pipe). */
int term_probe(int *rows, int *cols);
/* Puts fd 0's terminal in raw mode, saving its settings; term_restore
 * (also run at exit and on a crash of elfvm) puts them back.  0 or -errno. */
int term_raw(void);
void term_restore(void);
/* The terminal's size now, when it can be read (else unchanged). */
void term_winsize(int *rows, int *cols);

/* Copies elfvm's stdin into QEMU's elfvm.stdin socket, reading only once
 * the last piece was taken, so that at most buf is held here. */
struct relay {
	int in;   /* elfvm's stdin; -1 at its end */
	int sock; /* our end of elfvm.stdin */
	int ctl;  /* our end of elfvm.ctl */
	int tty;  /* watch for the escape sequence Ctrl-] q */
	int esc;  /* a Ctrl-] was the last byte */
	int shut; /* the write side is shut down */
	size_t off, len;
	char buf[65536];
};
struct pollfd;
/* in -1: the program's stdin ends at once; -2: it stays open, empty. */
void relay_init(struct relay *r, int in, int sock, int ctl, int tty);
/* What to poll for next: stdin or the socket (an fd of -1: neither). */
void relay_events(const struct relay *r, struct pollfd *in, struct pollfd *sock);
/* Moves bytes after a poll; returns 1 when the escape sequence was typed. */
int relay_step(struct relay *r, const struct pollfd *in, const struct pollfd *sock);
/* Ends the stream: shuts down our write side once. */
void relay_eof(struct relay *r);
/* Sends one elfvm.ctl record, printf's fmt ("signal %d\n"). */
void relay_ctl(struct relay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- accel.c -------------------------------------------------------------- */

/*
 * What accelerator a requests for kernel on this host (docs/accel.md): tcg
 * is TCG; auto is KVM when the KVM device opens and a probe boot of kernel
 * under KVM ran a program to its end (the answer kept in the cache
 * directory per boot of the host, kernel file and QEMU binary), else TCG;
 * kvm is KVM under the same test.  Returns VM_ACCEL_KVM or VM_ACCEL_TCG
 * with a one-line reason in why, or -1 when a is kvm and KVM cannot run
 * kernel here (the reason, for "elfvm: ", in why).
 */
int accel_choose(enum vm_accel a, const char *kernel, char *why, size_t n);
/* Keeps a as the answer for kernel on this host: a run under KVM failed
 * where the probe had passed. */
void accel_remember(const char *kernel, enum vm_accel a, const char *why);

/* ---- gdb.c: `run --gdb` (docs/debugging.md) ------------------------------ */
#define GDB_MAX_LOADS 2 /* the program and its interpreter */
struct gdb_session {
	char stub[PATH_MAX + 64];                /* QEMU's -gdb value */
	char target[PATH_MAX + 16];              /* gdb's `target remote` argument */
	const char *unix_path;                   /* unix:PATH's PATH, or NULL */
	char kernel[PATH_MAX];                   /* the kernel ELF booted: its symbols */
	char helper[PATH_MAX];                   /* elfvm-gdb.py beside elfvm */
	char dir[PATH_MAX], file[PATH_MAX + 16]; /* the command file, its directory */
	struct {
		uint64_t bias;
		char path[PATH_MAX];
	} load[GDB_MAX_LOADS]; /* from @@gdb load */
	int nload;
	uint64_t entry; /* from @@gdb entry */
	int announced;  /* the command file is written and its line printed */
};
/* Fills g for --gdb=spec ("" for the default: 127.0.0.1 and a free port)
 * and creates the command file's directory.  Returns 0, or -1 with a
 * one-line reason in why (a non-loopback address, a bad port). */
int gdb_prepare(struct gdb_session *g, const char *spec, const char *kernel, char *why, size_t n);
/* One `@@gdb` record (the text after "@@gdb "): `wait` writes the command
 * file and prints the line that names it on stderr; a malformed record is
 * said on log (when not NULL) and ignored. */
void gdb_record(struct gdb_session *g, int kvm, const char *rec, FILE *log);
/* Notes which of the image's files are not the host's file at the same
 * path (libc-aware's musl), so that gdb reads the right ones. */
void gdb_note_image(const struct image_list *l);
/* The gdb command line that reads core with prog's symbols, into buf:
 * `gdb PROG CORE`, with the options that point gdb at the image's own
 * libraries when gdb_note_image found some (libc-aware's musl). */
void gdb_core_command(const char *prog, const char *core, char *buf, size_t n);
/* Removes the command file, its directory and a unix: socket QEMU left. */
void gdb_cleanup(struct gdb_session *g);

/* ---- opts.c --------------------------------------------------------------- */

/* --net, --publish, --ip, --gateway, --dns (netopts.c); NULL: default. */
struct net_opts {
	const char *mode; /* "user", "none", "tap:IF" */
	const char **publish;
	int npublish;
	const char *ip, *gateway, *dns;
};

/* --volume, --sealed and pack's --trace (shares.c). */
struct share_opts {
	const char **volumes; /* HOST:GUEST[:ro] */
	int nvolumes;
	int sealed; /* no host system files: the image alone */
	int trace;  /* the kernel reports every host file it brings in */
};

struct run_opts {
	const char *verb; /* "run" or "pack" */
	const char *mem, *log, *kernel, *machine, *output, *image;
	const char *disk;     /* run --disk FILE, pack --disk FILE: a UEFI disk */
	uint64_t disk_size;   /* pack --disk-size, in bytes (0: as needed) */
	const char *firmware; /* --firmware: "pvh" (also when NULL) or "uefi" */
	double timeout;
	int cpus, strace, verbose, no_cache;
	const char *profile; /* --profile FILE */
	const char *core;    /* --core FILE */
	const char *trim;    /* --trim[=MODE]: "static", "dynamic", "both" */
	const char *gdb;     /* --gdb[=ADDR:PORT|unix:PATH]: "" for the default */
	enum vm_accel accel;
	char **env;
	int nenv;
	struct pack_opts pk;
	struct net_opts net;
	struct share_opts sh;
	int nvm;    /* options of the VM given (pack takes them with --trace) */
	FILE *used; /* pack --trace: where the kernel's @@used paths go */
};

/* ---- run.c (the run verb; run_pack.c is the pack verb) --------------------- */

/* Prints "elfvm: " and the message.  Returns 125. */
int run_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What both verbs do first: options, the program, the environment.
 * Returns PROGRAM's index (argc with --image or run --disk), 0 after
 * --help, or -1 after a message. */
int run_prepare(struct run_opts *o, int argc, char **argv, struct prog_file *p, char ***envp);
/* Writes p's whole image to out: the content part, from the cache unless
 * --no-cache (or the cache cannot be used), then the control files of s.
 * Returns 0, or 125 after a message. */
int run_write_image(const struct run_opts *o, const struct image_spec *s, int out);
/* The kernel to boot (--kernel, else kernel.elf beside elfvm), in kernel.
 * Returns 0 or 125 after a message. */
int run_find_kernel(const struct run_opts *o, char *kernel, size_t n);
/* Boots s as `run` does (its network, its shares).  Returns the exit
 * status. */
int run_with(struct run_opts *o, struct image_spec *s);

/* Parses the options before PROGRAM into o (o->verb set: "run" or
 * "pack"), allocating its arrays (free them with opts_free).  Returns the
 * index of PROGRAM (argc with --image), 0 when --help was printed, or -1
 * after a message on stderr. */
int opts_parse(int argc, char **argv, struct run_opts *o);
void opts_free(struct run_opts *o);
/* Prints "elfvm VERB: " fmt (with arg) and a pointer to --help.  Returns
 * -1. */
int opts_bad(const struct run_opts *o, const char *fmt, const char *arg);

/* ---- shares.c ------------------------------------------------------------- */

/* --volume: sets it in o->sh.  Returns 0, 1 when name is not it, or -1
 * after a message. */
int shares_set(struct run_opts *o, const char *name, const char *v);
#define SHARE_MAX_ARGS 64
/* The virtio-9p shares of one VM (docs/hostfiles.md). */
struct share_plan {
	const char *args[SHARE_MAX_ARGS + 1]; /* QEMU's -fsdev/-device pairs,
	                                         NULL-terminated */
	int nargs;
	char words[2048];         /* the kernel's mount= (and trace=1) words */
	char share_etc[PATH_MAX]; /* the copy of /etc's allowed entries shared */
	char etc_dir[PATH_MAX];   /* that copy when it is the run's own, to remove */
	char *strs[SHARE_MAX_ARGS];
	int nstrs, nshares;
};
/* Fills p for o on a q35 or microvm machine (the system directories unless
 * --sealed, a copy of /etc's allow-list, kept in the cache when use_cache,
 * each volume).  Returns 0,
 * or -1 with a one-line reason in why (a volume that is not a directory,
 * too many shares); shares_cleanup undoes it either way. */
int shares_prepare(const struct share_opts *o, int q35, int use_cache, struct share_plan *p, char *why,
		   size_t n);
/* Removes the /etc copy and frees p's strings. */
void shares_cleanup(struct share_plan *p);

/* ---- netopts.c ------------------------------------------------------------ */

/* A network option of `run`: sets it in o->net.  Returns 0, 1 when name is
 * not one, or -1 after a message. */
int netopts_set(struct run_opts *o, const char *name, const char *v);
/* What the network options mean for one VM. */
struct net_plan {
	char netdev[2048];        /* QEMU's -netdev value; "" for no network device */
	char words[192];          /* the kernel's ip=, gw=, dns= words */
	char dns[16];             /* the DNS server, for /etc/resolv.conf */
	struct share_plan shares; /* the 9p shares (shares.c): devices too */
};
/* Fills plan from n, checking that every published host port can be
 * bound.  Returns 0, or -1 with a one-line reason in why. */
int netopts_prepare(const struct net_opts *n, struct net_plan *plan, char *why, size_t whyn);

/* ---- hostfwd.c ------------------------------------------------------------ */

/* Raises the listen backlog of QEMU's hostfwd TCP sockets named in netdev
 * (a -netdev value) to SOMAXCONN, from QEMU's parent; a failure is written
 * to log (may be NULL) and changes nothing.  Returns how many ports it
 * could not widen (0: all, or none named). */
int hostfwd_widen(int qemu, const char *netdev, FILE *log);

/* ---- profile.c, trim.c ------------------------------------------------------ */

/* ---- core.c: run --core ------------------------------------------------------ */
/* A temporary file beside file for QEMU to write the core port to (tmp, n
 * bytes); 0, or 125 after one line. */
int core_prepare(const char *file, char *tmp, size_t n);
/* After the run: tmp becomes file when the kernel's @@core record says it
 * is whole, else it is removed; one line on stderr says which, and how to
 * read it with gdb (prog: the program's host path, or NULL). */
void core_finish(const char *file, const char *tmp, const struct vm_result *res, const char *prog);

/* Writes p to path as `NAME NUMBER COUNT` lines sorted by number after one
 * '#' comment line naming prog.  Returns 0, or -1 with a one-line reason
 * in why. */
int profile_write(const struct vm_profile *p, const char *path, const char *prog, char *why, size_t n);
/* --trim: the syscall list for o->trim (from `elfvm analyze`, a --profile
 * run of argv[i..] with the same options, or both), then the trimmed
 * kernel built from it by the source tree's Makefile or taken from the
 * cache; its path goes in kernel.  argv is run's own (argv[0] "run", i
 * PROGRAM's index).  Returns 0, or 125 after a message. */
int trim_kernel(const struct run_opts *o, int argc, char **argv, int i, char *kernel, size_t n);
/* The trimmed kernel for the syscall list in the file list (analyze's
 * output, a profile, or names), from the cache or built now: its path in
 * kernel, how many of the table's syscalls it keeps in *count.  Returns 0,
 * or 125 after a message on stderr. */
int trim_list_kernel(const char *list, char *kernel, size_t n, int *count);
/* The ".text" section's size and the PT_LOAD memory sizes' sum of the ELF
 * at path.  Returns 0, or -1 when it cannot be read. */
int trim_kernel_sizes(const char *path, uint64_t *text, uint64_t *loaded);

/* ---- analyze_walk.c: the backward walk of `elfvm analyze` ----------------- */

/* The 16 general registers, numbered as x86 encodes them. */
enum walk_reg {
	WALK_RAX,
	WALK_RCX,
	WALK_RDX,
	WALK_RBX,
	WALK_RSP,
	WALK_RBP,
	WALK_RSI,
	WALK_RDI,
	WALK_R8,
	WALK_R9,
	WALK_R10,
	WALK_R11,
	WALK_R12,
	WALK_R13,
	WALK_R14,
	WALK_R15,
};
#define WALK_NONE 0xfe /* an indirect call through something else */
#define WALK_MEM 0xff  /* an indirect call through [rip+disp]: address in val */

/* One decoded instruction, what the walk needs of it. */
struct walk_insn {
	uint64_t addr;
	uint64_t val;   /* immediate, branch or call target, rip-relative address */
	uint16_t kills; /* registers (bit per walk_reg) it sets in a way not followed */
	uint8_t size, op, dst, src;
};
struct walk_edge {
	uint32_t to, from; /* instruction indices: a direct branch from -> to */
};
/* A function (or window) decoded from start to end. */
struct walk_fn {
	struct walk_insn *v;
	size_t n, cap;
	struct walk_edge *e; /* sorted by to */
	size_t ne;
	uint64_t start, end;
	int entry; /* v[0] is the function's entry: arguments live there */
	int cut;   /* some bytes decoded as no instruction */
};

#define WALK_NUMS 16
#define WALK_MEMS 4
/* Every value a register may hold at one point, over all paths. */
struct walk_res {
	uint64_t nums[WALK_NUMS]; /* immediates */
	int nnums;
	uint16_t args;            /* bit per walk_reg: that argument register's
	                             value at the function's entry */
	uint64_t mems[WALK_MEMS]; /* loaded from these rip-relative addresses */
	int nmems;
	int unknown;     /* some path gives a value the walk cannot name */
	const char *why; /* the first such reason */
};

/* Decodes [start, end) of code (len bytes at address base) into f; bytes
 * that decode as nothing become one-byte stops.  entry: start is a
 * function's entry.  Returns 0, -EINVAL (start outside code) or -ENOMEM;
 * free f with walk_free. */
int walk_decode(struct walk_fn *f, const uint8_t *code, size_t len, uint64_t base, uint64_t start,
		uint64_t end, int entry);
void walk_free(struct walk_fn *f);
/* The index of the instruction starting at addr, or -1 when none does. */
long walk_index(const struct walk_fn *f, uint64_t addr);
/* The nearest instruction at or before i that starts a function by the
 * way gcc lays code out: aligned to 16, after padding that follows a ret,
 * a jump or a call (a noreturn one), and no jump of f lands on it.
 * Returns its index, or -1. */
long walk_entry_before(const struct walk_fn *f, size_t i);
/* What kind of site instruction i is: one of WALK_SITE_*, or 0. */
enum { WALK_SITE_SYSCALL = 1, WALK_SITE_INT80, WALK_SITE_CALL, WALK_SITE_JMP, WALK_SITE_CALL_IND };
int walk_insn_kind(const struct walk_fn *f, size_t i);
/* Fills r with every value reg may hold just before instruction idx,
 * walking back through every path of f.  Returns 0, -EINVAL or -ENOMEM. */
int walk_back(const struct walk_fn *f, size_t idx, int reg, struct walk_res *r);
/* The whole buffer as one function entered at base: reg just before the
 * instruction at site.  Returns 0, -ENOENT when no instruction starts at
 * site, or walk_decode's error. */
int analyze_walk(const uint8_t *code, size_t len, uint64_t base, uint64_t site, int reg,
		 struct walk_res *r);

/* ---- analyze_elf.c, analyze_sites.c: the analysis of `elfvm analyze` ------ */

struct an_seg {
	uint64_t vaddr;
	const uint8_t *bytes; /* inside the file's data */
	size_t len;
};
struct an_sym {
	uint64_t start, end; /* end == start when not sized */
	char *name;
	int sized, cold; /* cold: a gcc .cold part, no real entry */
};
struct an_import {
	uint64_t addr; /* a PLT entry or a GOT slot */
	char *name;    /* the symbol it binds to */
};
struct an_call {
	uint64_t target, site;
};
/* One object (program, library, vDSO) as the analysis reads it. */
struct an_obj {
	const char *path;
	const unsigned char *data; /* the whole file, the caller's */
	size_t size;
	struct an_seg *segs; /* executable PT_LOAD segments */
	size_t nsegs;
	uint64_t text;       /* their bytes in all */
	struct an_sym *syms; /* function symbols, sorted by start */
	size_t nsyms;
	struct an_import *imps; /* sorted by addr */
	size_t nimps;
	uint64_t *sites; /* byte matches of syscall, int 0x80, sysenter */
	size_t nsites;
	struct an_call *calls; /* rel32 calls and jumps into code or the PLT, by target */
	size_t ncalls;
	struct an_call *gcalls; /* calls through a named GOT slot (or __aware_entry) */
	size_t ngcalls;
	uint64_t *icalls; /* call *%reg matches (libc-aware only) */
	size_t nicalls;
	uint64_t *starts; /* probable function entries, sorted */
	size_t nstarts;
	uint64_t aware_entry; /* libc-aware's __aware_entry, or 0 */
	/* The last two decodings (a guessed entry and the window tried
	 * after it alternate), and fn, the one the last site used. */
	struct an_decoded {
		struct walk_fn f;
		int ok, entry;
		uint64_t start, end;
	} dec[2];
	int dec_next;
	struct walk_fn *fn;
};

/* Reads the object in data (size bytes, kept by the caller while o
 * lives).  Returns 0, or -1 with "PATH: reason" in why (not an x86-64
 * ELF, a truncated executable segment, out of memory).  A corrupt symbol
 * table only loses symbols.  Free o with an_obj_free either way. */
int an_obj_load(struct an_obj *o, const char *path, const unsigned char *data, size_t size, char *why,
		size_t n);
void an_obj_free(struct an_obj *o);
/* The executable segment holding addr, or NULL. */
const struct an_seg *an_seg_of(const struct an_obj *o, uint64_t addr);
/* Makes room for one more element of size sz in *v (n used, cap
 * allocated; 64 at first, then doubling).  Returns 0 or -1 (no memory). */
int an_grow(void **v, size_t *n, size_t *cap, size_t sz);
/* The name an import at addr binds to, or NULL. */
const char *an_import_at(const struct an_obj *o, uint64_t addr);

#define AN_NR_MAX 1024 /* numbers at or above are not system calls */
struct an_unknown {
	uint64_t addr;
	char sym[160]; /* SYMBOL+0xOFF, or "?" */
	const char *file;
	const char *why;     /* static text */
	const char *wrapper; /* the wrapper whose argument was lost, or NULL */
};
struct an_wrapper {
	size_t obj;
	uint64_t addr;
	int reg;          /* the argument register holding the number */
	const char *name; /* its symbol, or NULL */
};
struct an_result {
	uint32_t sites[AN_NR_MAX]; /* static sites per number */
	struct an_unknown *unk;
	size_t nunk, capunk;
	struct an_wrapper *wr;
	size_t nwr, capwr;
	size_t nsyscall;   /* syscall (and int 0x80) instructions examined */
	size_t ncalls;     /* wrapper call sites examined */
	size_t nrecovered; /* sites that gave at least one number */
	size_t nint80;
	size_t nnotinsn; /* byte matches inside other instructions */
};
/* Finds every site of objs[0..n) and what it calls.  Returns 0 or -ENOMEM;
 * free r with an_result_free either way. */
int an_analyze(struct an_obj *objs, size_t n, struct an_result *r);
void an_result_free(struct an_result *r);

/* ---- analyze.c ------------------------------------------------------------ */

int analyze_main(int argc, char **argv);

/* ---- run.c, run_pack.c ----------------------------------------------------- */

/* The verbs: argv[0] is the verb's name.  Return the process exit status. */
int run_main(int argc, char **argv);
int pack_main(int argc, char **argv);

/* ---- bench.c -------------------------------------------------------------- */

int bench_main(int argc, char **argv);

#endif
