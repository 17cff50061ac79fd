/* SPDX-License-Identifier: MIT */
/*
 * PVH entry.  The VMM starts us in 32-bit protected mode, paging off, with
 * %ebx pointing at struct hvm_start_info.  We switch to long mode on static
 * page tables that map the first GiB three ways (identity, -2 GiB for the
 * kernel image, the direct map), jump to the upper half and call kmain().
 * kernel/arch/x86_64/paging.c replaces these tables with the real ones.
 */
#define KOFF 0xffffffff80000000
#define PA(x) ((x) - KOFF)

	.section .note.pvh, "a"
	.balign 4
	.long 4          /* name size: "Xen\0" */
	.long 8          /* descriptor size: the entry as 8 bytes */
	.long 18         /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.quad PA(pvh_start)

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl %ebx, %edi                    /* hvm_start_info, kmain's argument */
	movl $PA(boot_stack_top), %esp

	movl %cr4, %eax
	orl $(1 << 5), %eax                /* PAE */
	movl %eax, %cr4
	movl $PA(boot_pml4), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx             /* EFER: long mode, NX, syscall */
	rdmsr
	orl $((1 << 8) | (1 << 11) | (1 << 0)), %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax /* PG, WP, PE */
	movl %eax, %cr0
	lgdt PA(boot_gdt_desc)
	ljmp $0x08, $PA(long_mode)

	.code64
long_mode:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movabsq $upper_half, %rax
	jmp *%rax
upper_half:
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl %edi, %edi
	call kmain
1:	hlt
	jmp 1b

	.section .rodata
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff           /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff           /* 0x10: data */
boot_gdt_desc:
	.word boot_gdt_desc - boot_gdt - 1
	.quad PA(boot_gdt)

	/* The boot page tables: PML4[0] and PML4[273] (the direct map) and
	 * PML4[511] -> PDPT[510] (-2 GiB) all lead to one 1 GiB of 2 MiB pages. */
	.section .data.boot_pt, "aw"
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad PA(boot_pdpt_low) + 3
	.fill 272, 8, 0
	.quad PA(boot_pdpt_low) + 3        /* 273: 0xffff888000000000 */
	.fill 237, 8, 0
	.quad PA(boot_pdpt_high) + 3       /* 511 */
boot_pdpt_low:
	.quad PA(boot_pd) + 3
	.fill 511, 8, 0
boot_pdpt_high:
	.fill 510, 8, 0
	.quad PA(boot_pd) + 3
	.quad 0
boot_pd:
	.set i, 0
	.rept 512
	.quad (i << 21) | 0x83
	.set i, i + 1
	.endr

	.section .bss
	.balign 16
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
