// SPDX-License-Identifier: MIT
// libc-aware/syscall.cocci: routes every C syscall site of musl through one
// entry (docs/libc-aware.md).  A site is a call of __syscall, syscall (musl's
// internal macro), or __syscall0 … __syscall6, in a .c file or in an internal
// header's inline function or macro; each is renamed to its __aware_ twin
// (aware.h), which calls the kernel's __elfvm_syscall@ELFVM_1 when the vDSO
// has it and the `syscall` instruction otherwise.  Only the name is
// rewritten, so nested sites (a syscall whose argument is a syscall) need no
// second pass.  Two more rules: the entry is looked up as soon as libc knows
// the auxiliary vector, and the cancellation handler also recognises a
// cancellation point interrupted inside the direct entry (syscall_cp.s).

// Every site, except the plumbing itself: syscall.h's #define lines that
// turn __syscall and syscall into __syscallN.
@ sites @
identifier f =~ "^(__syscall[0-6]?|syscall)$";
expression list L;
position p;
@@
f@p(L)

@ script:python plumbing @
p << sites.p;
@@
import re
line = open(p[0].file).readlines()[int(p[0].line) - 1]
if re.match(r"\s*#\s*define\s+(__syscall[0-7]?|syscall)\b", line):
    cocci.include_match(False)

@ rewrite @
identifier sites.f;
expression list sites.L;
position sites.p;
fresh identifier g = script:python(f) { "__aware_" + f.lstrip("_") };
@@
(
- syscall@p
+ __aware_syscall_errno
  (L)
|
- f@p
+ g
  (L)
)

// aware.h, next to syscall.h, defines the __aware_ names.
@ header @
@@
 #include "syscall_arch.h"
+#include "aware.h"

// The entry is found through AT_SYSINFO_EHDR, so right after libc records
// the auxiliary vector: __init_libc (static) and __dls2b (dynamic, once the
// dynamic linker has relocated itself).  Calls made before that trap.
@ lookup @
symbol libc;
expression E;
@@
 libc.auxv = E;
+__aware_init();

// A cancellation request that lands inside the direct path of
// __syscall_cp_asm is acted on as one that lands between __cp_begin and
// __cp_end (aware.c, __aware_cp_direct).
@ cancel @
typedef uintptr_t, ucontext_t;
symbol __cp_begin, __cp_end;
identifier uc;
expression pc;
@@
 ucontext_t *uc = ...;
 <...
- pc >= (uintptr_t)__cp_begin && pc < (uintptr_t)__cp_end
+ (pc >= (uintptr_t)__cp_begin && pc < (uintptr_t)__cp_end || __aware_cp_direct(uc))
 ...>
