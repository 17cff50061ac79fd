/* SPDX-License-Identifier: MIT */
/*
 * The vvar page: the one page the kernel writes and the vDSO reads, mapped
 * read-only just below the vDSO's first page (docs/vdso.md).  Both sides
 * include this header: loader/vdso.c (kernel, fills it at load time) and
 * the vDSO (the arch layer's vdso/vdso.c, built as user code), so it needs
 * nothing but <stdint.h>.  The vDSO calls the kernel through these pointers directly:
 * the program runs in ring 0 and the kernel is mapped in its address space.
 */
#ifndef LOADER_VVAR_H
#define LOADER_VVAR_H

#include <stdint.h>

#define VVAR_MAGIC 0x72617676u /* "vvar" */
#define VVAR_VERSION 2

/* The user half as kernel/kernel.h defines it (USER_MIN, USER_TOP); the
 * vDSO hands a pointer outside it to the real syscall, which answers
 * -EFAULT, rather than writing kernel memory from ring 0. */
#define VDSO_USER_MIN 0x0000000000010000UL
#define VDSO_USER_TOP 0x00007ffffffff000UL

/*
 * Every function here is called on the program's stack, with the program's
 * GS base loaded (not the kernel's per-CPU GS), interrupts enabled and any
 * number of threads calling at once.  So it may only read the TSC and
 * kernel globals: no locks, no per-CPU data, no faults, no user memory.
 */
struct vvar {
	uint32_t magic;                 /* VVAR_MAGIC, once the kernel has filled the page */
	uint32_t version;               /* VVAR_VERSION: the layout below */
	uint64_t (*monotonic_ns)(void); /* CLOCK_MONOTONIC in ns */
	uint64_t (*realtime_ns)(void);  /* CLOCK_REALTIME in ns */
	uint64_t (*cpu_node)(void);     /* cpu | node << 32 */
	/* Not a function: __elfvm_syscall jumps here with the registers the
	 * `syscall` instruction would leave (kernel/arch/x86_64/entry.S's
	 * syscall_entry_direct), and the kernel takes it from there. */
	void *syscall_entry;
};

/* Where syscall_entry lies in the page: the vDSO's assembly uses the
 * number, and both sides check it against the struct. */
#define VVAR_SYSCALL_ENTRY 32

#endif
