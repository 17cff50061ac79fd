/* SPDX-License-Identifier: MIT */
/*
 * The last step of the UEFI loader: leave the firmware's long mode and enter
 * the kernel's PVH entry exactly as a PVH VMM does, in 32-bit protected mode
 * with paging off and %ebx pointing at hvm_start_info.  loader.c copies this
 * code to a page below 1 GiB (UEFI maps memory one to one, so the copy runs
 * where it lies) and calls it there as
 *     efi_enter(uint64_t entry, uint64_t start_info)
 * after ExitBootServices.  The code is position-independent: it finds its
 * GDT relative to %rip and patches the descriptor's base before loading it.
 */
	.section .text.efi_enter, "ax"
	.globl efi_enter, efi_enter_end
	.code64
efi_enter:
	cli
	/* CR0.PG cannot be cleared while CR4.PCIDE is set. */
	movq %cr4, %rax
	andq $~(1 << 17), %rax
	movq %rax, %cr4
	leaq gdt(%rip), %rax
	movq %rax, gdt_desc+2(%rip)
	lgdt gdt_desc(%rip)
	/* A far return into the 32-bit code segment: compatibility mode. */
	leaq prot32(%rip), %rax
	pushq $0x10
	pushq %rax
	lretq

	.code32
prot32:
	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	/* Paging off leaves long mode; then EFER and CR4 are cleared, so the
	 * kernel starts from the state a PVH VMM leaves (its boot.S sets the
	 * bits it needs). */
	movl %cr0, %eax
	andl $~(1 << 31), %eax
	movl %eax, %cr0
	movl $0xc0000080, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
	xorl %eax, %eax
	movl %eax, %cr4
	movl %esi, %ebx
	jmp *%edi

	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code (unused, kept for order) */
	.quad 0x00cf9a000000ffff /* 0x10: 32-bit code, flat */
	.quad 0x00cf92000000ffff /* 0x18: data, flat */
gdt_desc:
	.word gdt_desc - gdt - 1
	.quad 0
efi_enter_end:

	.section .note.GNU-stack, "", @progbits
