/* SPDX-License-Identifier: MIT */
/*
 * Every way into the kernel: the `syscall` instruction (LSTAR), its twin
 * that the vDSO's __elfvm_syscall jumps to, the 256 interrupt and
 * exception vectors, and the first jump into the program.
 * The program runs in ring 0 beside us, so nothing here changes privilege:
 * the syscall entry switches to the kernel stack before it pushes anything
 * (the program's red zone below rsp stays intact), every vector runs on an
 * IST stack, and the way back restores flags and jumps with `jmp *%rcx`
 * without touching the program's stack.  Both build a struct regs
 * (kernel/kernel.h) for the C code.
 */
#define PERCPU_KSTACK 8
#define PERCPU_USER_RSP 16
#define KCS 0x08
#define KDS 0x10
#define SYSCALL_TRAP 0 /* kernel/kernel.h's: a syscall frame's error slot */
#define SYSCALL_DIRECT 1

.macro PUSH_GPRS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm
.macro POP_GPRS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm

/* The syscall path sits in .text.entry with syscall_dispatch, on a page of
 * its own at the start of .text (kernel.ld): see __entry_text. */
	.section .text.entry, "ax"
/* syscall: rcx = return rip, r11 = rflags, FMASK has cleared IF/DF/TF/AC. */
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:PERCPU_USER_RSP
	movq %gs:PERCPU_KSTACK, %rsp
	pushq $KDS
	pushq %gs:PERCPU_USER_RSP
	pushq %r11
	pushq $KCS
	pushq %rcx
	pushq $SYSCALL_TRAP
.Lsyscall_frame:
	pushq %rax
	PUSH_GPRS
	sti                            /* on our own stack now: interrupts may come */
	movq %rsp, %rdi
	xorl %ebp, %ebp
	call syscall_dispatch          /* nonzero: restore every register */
	testl %eax, %eax
	jnz full_return
	.globl syscall_return
syscall_return:
	cli
	POP_GPRS
	addq $16, %rsp                 /* nr, error */
	movq (%rsp), %rcx              /* rip */
	movq 16(%rsp), %r11            /* rflags, as Linux leaves it in r11 */
	btrq $9, 16(%rsp)              /* IF stays off until the last moment */
	jnc 1f
	leaq 16(%rsp), %rsp
	popfq
	swapgs
	movq (%rsp), %rsp
	sti                            /* takes effect after the jmp */
	jmp *%rcx
1:	leaq 16(%rsp), %rsp
	popfq
	swapgs
	movq (%rsp), %rsp
	jmp *%rcx

/*
 * The vDSO's __elfvm_syscall jumps here (through the vvar page) having done
 * what the `syscall` instruction does: rcx = where to go back, r11 = rflags,
 * IF/DF/TF/AC cleared, the program's GS loaded, nothing pushed but
 * __elfvm_syscall's own return address.  Only the frame's error slot
 * differs (SYSCALL_DIRECT, for --strace); the rest is the trap path's code.
 * It sits after the trap path, which keeps its place on the entry page.
 */
	.globl syscall_entry_direct
syscall_entry_direct:
	swapgs
	movq %rsp, %gs:PERCPU_USER_RSP
	movq %gs:PERCPU_KSTACK, %rsp
	pushq $KDS
	pushq %gs:PERCPU_USER_RSP
	pushq %r11
	pushq $KCS
	pushq %rcx
	pushq $SYSCALL_DIRECT
	jmp .Lsyscall_frame

	.text

/*
 * Interrupts and exceptions.  The CPU has pushed ss, rsp, rflags, cs, rip
 * (and an error code for some vectors) on this vector's IST stack.  Kernel
 * GS may or may not be loaded (the program can be interrupted anywhere), so
 * we look at the GS base: the kernel's per-CPU area is in the upper half.
 */
/* One 16-byte stub per vector, so C finds stub i at vector_stubs + 16 * i. */
	.balign 16
	.globl vector_stubs
vector_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.set has_err, (vec == 8) | ((vec >= 10) & (vec <= 14)) | (vec == 17) | (vec == 21) | (vec == 29) | (vec == 30)
	.if has_err == 0
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	PUSH_GPRS
	cld
	xorl %ebx, %ebx
	movl $0xc0000101, %ecx
	rdmsr
	testl %edx, %edx
	js 1f
	swapgs
	movl $1, %ebx                  /* swap back on the way out */
1:	movq %rsp, %rdi
	xorl %ebp, %ebp
	call trap_enter                /* a frame from the program moves to */
	movq %rax, %rsp                /*   its thread's kernel stack */
	movq %rax, %rdi
	call trap_dispatch
	testl %ebx, %ebx
	jz 2f
	swapgs
2:	POP_GPRS
	addq $16, %rsp
	iretq

/* Back to the program with every register from the frame (after a signal
 * frame was built, or rt_sigreturn): iretq restores rip, rflags and rsp at
 * once and writes nothing below the program's stack pointer. */
full_return:
	cli
	POP_GPRS
	addq $16, %rsp
	swapgs
	iretq

/* A new thread's first switch returns here, above its copied registers. */
	.globl thread_first_return
thread_first_return:
	jmp full_return

/* A kernel thread's first switch returns here with its function in r12
 * and the argument in r13 (set up by kthread_create). */
	.globl kthread_first_return
kthread_first_return:
	movq %r13, %rdi
	sti
	call *%r12
	call kthread_exit

/* switch_stacks(&prev->ksp, next->ksp): saves the callee-saved registers
 * on this stack and resumes the one whose stack pointer is next. */
	.globl switch_stacks
switch_stacks:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* cpu_enter_program(entry, sp): the first jump into the program. */
	.globl cpu_enter_program
cpu_enter_program:
	cli
	movq %rdi, %rcx
	movq %rsi, %rsp
	pushq $0x2                     /* all flags clear (IF comes last) */
	popfq
	swapgs
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %edx, %edx                /* rdx = 0: no atexit function */
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	sti
	jmp *%rcx

	.section .note.GNU-stack, "", @progbits
