/* SPDX-License-Identifier: MIT */
/* libc-aware/aware.h: the names syscall.cocci gives musl's syscall sites.
 * Copied next to musl's src/internal/syscall.h, which the patch makes
 * include it, so every file with a site sees it.  Each site becomes a call
 * of __aware_call: through __aware_entry (the kernel's
 * __elfvm_syscall@ELFVM_1, looked up once by __aware_init) when the vDSO
 * has it, else __aware_trap, the one C function left with a `syscall`
 * instruction.  On Linux the entry is absent and the libc traps as stock
 * musl does (docs/libc-aware.md). */
#ifndef LIBC_AWARE_H
#define LIBC_AWARE_H

typedef long (*__aware_fn)(long, long, long, long, long, long, long);

extern __attribute__((__visibility__("hidden"))) __aware_fn __aware_entry;
__attribute__((__visibility__("hidden"))) long __aware_trap(long, long, long, long, long, long, long);
__attribute__((__visibility__("hidden"))) void __aware_init(void);
__attribute__((__visibility__("hidden"))) int __aware_cp_direct(void *);

static __inline long __aware_call(long n, long a, long b, long c, long d, long e, long f)
{
	__aware_fn entry = __aware_entry;

	return entry ? entry(n, a, b, c, d, e, f) : __aware_trap(n, a, b, c, d, e, f);
}

/* musl's own plumbing (syscall.h) with __aware_call at the end: the same
 * argument counting, the same __scc casts, and unused arguments 0. */
#define __aware_syscall0(n) __aware_call(n, 0, 0, 0, 0, 0, 0)
#define __aware_syscall1(n, a) __aware_call(n, __scc(a), 0, 0, 0, 0, 0)
#define __aware_syscall2(n, a, b) __aware_call(n, __scc(a), __scc(b), 0, 0, 0, 0)
#define __aware_syscall3(n, a, b, c) __aware_call(n, __scc(a), __scc(b), __scc(c), 0, 0, 0)
#define __aware_syscall4(n, a, b, c, d) __aware_call(n, __scc(a), __scc(b), __scc(c), __scc(d), 0, 0)
#define __aware_syscall5(n, a, b, c, d, e) \
	__aware_call(n, __scc(a), __scc(b), __scc(c), __scc(d), __scc(e), 0)
#define __aware_syscall6(n, a, b, c, d, e, f) \
	__aware_call(n, __scc(a), __scc(b), __scc(c), __scc(d), __scc(e), __scc(f))
#define __aware_syscall(...) __SYSCALL_DISP(__aware_syscall, __VA_ARGS__)
#define __aware_syscall_errno(...) __syscall_ret(__aware_syscall(__VA_ARGS__))

#endif
