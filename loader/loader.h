/* SPDX-License-Identifier: MIT */
/*
 * The loader's public interface.  elf.c and stack.c are pure code: they
 * touch no kernel state, so the host command, the unit tests and the fuzzer
 * compile exactly the code the kernel runs.  load.c (kernel only) maps a
 * checked image into the program's address space.
 */
#ifndef LOADER_LOADER_H
#define LOADER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- elf.c ---------------------------------------------------------------- */

#define ELF_MAX_PHNUM 128 /* more program headers than this is refused */

struct elf_info {
	uint16_t type;  /* ET_EXEC (2) or ET_DYN (3) */
	uint64_t entry; /* e_entry, unrelocated */
	uint64_t phoff; /* offset of the program headers in the file */
	uint16_t phnum;
	uint64_t lo, hi;     /* page-aligned [lo, hi) spanned by PT_LOAD vaddrs */
	uint64_t max_align;  /* largest PT_LOAD p_align (at least 4096) */
	uint64_t interp_off; /* PT_INTERP string: offset and length (0 if none); */
	uint64_t interp_len; /*   the string is checked to be NUL-terminated    */
	int has_dynamic;     /* a PT_DYNAMIC is present */
	int exec_stack;      /* PT_GNU_STACK asks for PF_X */
};

/*
 * Checks every header of the ELF file in [file, file+size) before any field
 * is trusted: magic, class, data, version, machine, type, header sizes,
 * program header table bounds, and each PT_LOAD (file range inside the file,
 * filesz <= memsz, no address overflow, p_offset % p_align == p_vaddr %
 * p_align, ascending and non-overlapping).  Returns NULL and fills *out when
 * the file can be loaded; otherwise returns a one-line reason (a static
 * string, no trailing newline) and leaves *out undefined.
 */
const char *elf_check(const void *file, size_t size, struct elf_info *out);

/* ---- stack.c -------------------------------------------------------------- */

struct auxv_pair {
	uint64_t type, val;
};

struct stack_spec {
	int argc;
	const char *const *argv;
	int envc;
	const char *const *envp;
	const char *execfn;          /* AT_EXECFN: absolute guest path */
	const char *platform;        /* AT_PLATFORM: "x86_64" */
	const uint8_t *random;       /* 16 bytes for AT_RANDOM */
	const struct auxv_pair *aux; /* every other auxv entry, in order, */
	int naux;                    /*   without AT_NULL */
};

/*
 * Builds the initial process stack as Linux does, downward from top
 * (exclusive) inside [top - room, top): the strings, the 16 random bytes,
 * then (16-byte aligned) argc, argv[], NULL, envp[], NULL, auxv (the
 * caller's entries, then AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL).
 * Pointers stored are addresses in the same memory as top, so the kernel
 * passes the program's real stack top and a test passes a buffer.
 * Returns the new stack pointer (pointing at argc, 16-byte aligned), or NULL
 * when room is too small.
 */
char *stack_build(char *top, size_t room, const struct stack_spec *s);

/* ---- load.c (kernel only) ------------------------------------------------ */
struct program {
	uint64_t brk_start, brk; /* the heap: [brk_start, brk) */
	const char *exe_path;    /* absolute guest path, for /proc/self/exe */
};
extern struct program program;
/* Loads the program the image names and jumps to it; never returns (a bad
 * program ends the VM with an @@error record). */
_Noreturn void loader_start(void);

/* ---- gdb.c (kernel only): `elfvm run --gdb` ----------------------------- */
/* True with gdb=1 on the command line (set by loader_gdb_init). */
extern bool loader_debugged;
void loader_gdb_init(void);
/* Under a debugger, faults in the pages of [start, start+len) now as the
 * program's first access would (its ends only when it is large), so that
 * gdb reads them and single steps do not fault; otherwise nothing.  Call
 * with the mm lock held (or before the program runs). */
void loader_gdb_prefault(uint64_t start, uint64_t len);
/* Logs `@@gdb load BIAS PATH` under a debugger. */
void loader_gdb_record(const char *path, uint64_t bias);
/* Under a debugger, logs `@@gdb entry` and `@@gdb wait` and sleeps until
 * the debugger sets elfvm_gdb_go; otherwise returns at once. */
void loader_gdb_wait(uint64_t entry);

/* ---- vdso.c (kernel only) ------------------------------------------------- */
/* Maps the vvar page and the vDSO into the program, at the top of the mmap
 * area (docs/vdso.md), and returns the vDSO's base for AT_SYSINFO_EHDR; ends
 * the VM when memory runs out. */
uint64_t vdso_map(void);

#endif
