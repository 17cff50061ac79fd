/* SPDX-License-Identifier: MIT */
/*
 * Copies across the user boundary.  Each routine checks that the range lies
 * in the program's half (overflow included); a fault on an address the
 * program has not mapped lands in the page-fault handler, which finds the
 * faulting instruction in __ex_table and resumes at its fixup, so the
 * routine returns -EFAULT instead of taking the kernel down.  Demand-paged
 * pages are filled in by that same handler and the copy simply resumes.
 */
#define USER_TOP 0x00007ffffffff000
#define EFAULT 14
#define ENAMETOOLONG 36

.macro EX insn, fixup
	.pushsection __ex_table, "a"
	.quad \insn, \fixup
	.popsection
.endm

	.text
/* Jumps to efault when [\reg, \reg + \len) leaves the user half. */
.macro CHECK_RANGE reg, len
	movq \reg, %rax
	addq \len, %rax
	jc efault
	movabsq $USER_TOP, %r8
	cmpq %r8, %rax
	ja efault
.endm

/* long copy_from_user(void *dst, const void *src, size_t n) */
	.globl copy_from_user
copy_from_user:
	CHECK_RANGE %rsi, %rdx
	movq %rdx, %rcx
1:	rep movsb
	xorl %eax, %eax
	ret
	EX 1b, efault

/* long copy_to_user(void *dst, const void *src, size_t n) */
	.globl copy_to_user
copy_to_user:
	CHECK_RANGE %rdi, %rdx
	movq %rdx, %rcx
2:	rep movsb
	xorl %eax, %eax
	ret
	EX 2b, efault

/* long clear_user(void *dst, size_t n) */
	.globl clear_user
clear_user:
	CHECK_RANGE %rdi, %rsi
	movq %rsi, %rcx
	xorl %eax, %eax
3:	rep stosb
	ret
	EX 3b, efault

/* long strncpy_from_user(char *dst, const char *src, size_t max) */
	.globl strncpy_from_user
strncpy_from_user:
	xorl %eax, %eax
	movabsq $USER_TOP, %r9
5:	cmpq %rdx, %rax
	jae 6f
	leaq (%rsi, %rax), %r8
	cmpq %r9, %r8
	jae efault
4:	movb (%r8), %cl
	movb %cl, (%rdi, %rax)
	testb %cl, %cl
	jz 7f
	incq %rax
	jmp 5b
6:	movq $-ENAMETOOLONG, %rax
7:	ret
	EX 4b, efault

efault:
	movq $-EFAULT, %rax
	ret

	.section .note.GNU-stack, "", @progbits
