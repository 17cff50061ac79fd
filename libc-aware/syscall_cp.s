# SPDX-License-Identifier: MIT
# libc-aware/syscall_cp.s: musl's __syscall_cp_asm (src/thread/x86_64/
# syscall_cp.s), the cancellation points' syscall, with a direct path.
# long __syscall_cp_asm(volatile int *cancel, long nr, u, v, w, x, y, z)
# When the vDSO has the direct entry (__aware_entry), the call goes through
# it from __cp_direct; otherwise through the `syscall` instruction between
# __cp_begin and __cp_end, as in stock musl.  musl's cancellation handler
# acts on a request that finds the thread before its syscall completed: for
# the trap path pc in [__cp_begin, __cp_end); for the direct path
# aware.c's __aware_cp_direct decides, from pc and the return address.
	.text
	.global __cp_begin
	.hidden __cp_begin
	.global __cp_end
	.hidden __cp_end
	.global __cp_cancel
	.hidden __cp_cancel
	.global __cp_direct_begin
	.hidden __cp_direct_begin
	.global __cp_direct_ret
	.hidden __cp_direct_ret
	.hidden __cancel
	.hidden __aware_entry
	.global __syscall_cp_asm
	.hidden __syscall_cp_asm
	.type   __syscall_cp_asm,@function
__syscall_cp_asm:
	cmpq $0,__aware_entry(%rip)
	jne __cp_direct

__cp_begin:
	mov (%rdi),%eax
	test %eax,%eax
	jnz __cp_cancel
	mov %rdi,%r11
	mov %rsi,%rax
	mov %rdx,%rdi
	mov %rcx,%rsi
	mov %r8,%rdx
	mov %r9,%r10
	mov 8(%rsp),%r8
	mov 16(%rsp),%r9
	mov %r11,8(%rsp)
	syscall
__cp_end:
	ret
__cp_cancel:
	jmp __cancel

# __elfvm_syscall(nr, u, v, w, x, y, z): z, the seventh argument, is pushed
# first, so that from the flag check on the stack pointer is 8 below the
# function's entry, and 16 below it inside the call; __aware_cp_direct
# undoes exactly that before sending the thread to __cp_cancel, whose
# `jmp __cancel` must find this function's return address on top (__cancel
# returns -ECANCELED through it when cancellation is masked).
__cp_direct:
	pushq 16(%rsp)
__cp_direct_begin:
	mov (%rdi),%eax
	test %eax,%eax
	jnz 1f
	mov %rsi,%rdi
	mov %rdx,%rsi
	mov %rcx,%rdx
	mov %r8,%rcx
	mov %r9,%r8
	mov 16(%rsp),%r9
	call *__aware_entry(%rip)
__cp_direct_ret:
	add $8,%rsp
	ret
1:	add $8,%rsp
	jmp __cancel
	.size __syscall_cp_asm, . - __syscall_cp_asm
