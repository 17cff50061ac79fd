/* SPDX-License-Identifier: MIT */
/*
 * The vDSO image built from the architecture's vdso/ folder (Makefile,
 * "the vDSO"), carried in the kernel's read-only data; loader/vdso.c copies
 * it into each program.  VDSO_IMAGE is the path of build/vdso.so, given by
 * the Makefile.
 */
	.section .rodata.vdso, "a"
	.balign 64
	.globl vdso_image
vdso_image:
	.incbin VDSO_IMAGE
	.globl vdso_image_end
vdso_image_end:

	.section .note.GNU-stack, "", @progbits
