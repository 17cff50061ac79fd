/* SPDX-License-Identifier: MIT */
/* libc-aware/aware.c: the entry every rewritten musl syscall site goes
 * through (aware.h).  Copied into musl's src/internal/ at build time.
 * __aware_init looks up the kernel's direct entry in the vDSO once, as
 * musl looks up __vdso_clock_gettime; __aware_trap is the `syscall`
 * instruction for when there is none (Linux); __aware_cp_direct lets the
 * cancellation handler treat the direct path of __syscall_cp_asm
 * (syscall_cp.s) as it treats __cp_begin … __cp_end. */
#define _GNU_SOURCE /* the gregs and REG_ names of ucontext_t */
#include <signal.h>
#include <stdint.h>

#include "syscall.h"

__aware_fn __aware_entry;

long __aware_trap(long n, long a, long b, long c, long d, long e, long f)
{
	return __syscall6(n, a, b, c, d, e, f);
}

void __aware_init(void)
{
	__aware_entry = (__aware_fn)__vdsosym("ELFVM_1", "__elfvm_syscall");
}

extern hidden const char __cp_direct_begin[1], __cp_direct_ret[1];

/* How far past __elfvm_syscall's start a program counter inside it can
 * be; the stub is about 70 bytes (kernel/arch/x86_64/vdso/vdso.c). */
#define AWARE_STUB_MAX 256

/* A cancellation request (SIGCANCEL) interrupted the thread at ctx.  It is
 * a cancellation point, as pc in [__cp_begin, __cp_end) is for the trap
 * path, when the flag check is done and the syscall not yet made, or made
 * and about to be restarted:
 * - pc in [__cp_direct_begin, __cp_direct_ret): the check, the argument
 *   moves, or the call itself (the stack holds syscall_cp.s's push);
 * - pc inside __elfvm_syscall called from there (the return address at sp
 *   is __cp_direct_ret), anywhere but its `ret` (0xc3): the kernel comes
 *   back to that `ret` when the syscall is done, and to the 2 bytes before
 *   it to restart one a signal interrupted.
 * Then the stack pointer is put back where __syscall_cp_asm's entry had it,
 * for the handler's jump to __cp_cancel.  Returns 1 then, else 0. */
int __aware_cp_direct(void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t pc = uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t sp = uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t entry = (uintptr_t)__aware_entry;

	if (!entry)
		return 0;
	if (pc >= (uintptr_t)__cp_direct_begin && pc < (uintptr_t)__cp_direct_ret)
		sp += 8;
	else if (pc - entry < AWARE_STUB_MAX && *(const uintptr_t *)sp == (uintptr_t)__cp_direct_ret &&
		 *(const unsigned char *)pc != 0xc3)
		sp += 16;
	else
		return 0;
	uc->uc_mcontext.gregs[REG_RSP] = sp;
	return 1;
}
