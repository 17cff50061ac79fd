// SPDX-License-Identifier: MIT
/* redzone: data kept in the 128 bytes below rsp survives syscalls and
 * interrupts.  The x86-64 ABI lets code keep data there; the program runs
 * beside the kernel in ring 0 here, where neither `syscall` nor an interrupt
 * switches stacks by itself, so the kernel must not push onto the
 * program's stack.  redzone_round() (plain assembly, so the compiler's own
 * red-zone use cannot interfere) writes 16 quadwords at -128..-8(%rsp),
 * issues raw getppid, write(1, p, 0) and clock_gettime syscalls (and on
 * some rounds a 1 ms nanosleep and a short busy loop for the timer to hit),
 * then counts the quadwords that changed. */
#include <stdio.h>
#include <time.h>

/* long redzone_round(uint64_t seed, struct timespec *ts, long slow)
 * returns the number of red-zone quadwords that changed. */
long redzone_round(unsigned long seed, struct timespec *ts, long slow);
__asm__(".text\n"
	".globl redzone_round\n"
	".type redzone_round,@function\n"
	"redzone_round:\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	movq %rdi, %rbx\n" /* seed */
	"	movq %rsi, %r12\n" /* timespec */
	"	movq %rdx, %r13\n" /* slow */
	"	movabsq $0x9e3779b97f4a7c15, %r8\n"
	/* fill -128..-8(%rsp) */
	"	movq %rbx, %rax\n"
	"	movq $-128, %rdx\n"
	"1:	movq %rax, (%rsp,%rdx)\n"
	"	addq %r8, %rax\n"
	"	addq $8, %rdx\n"
	"	jnz 1b\n"
	/* getppid() */
	"	movl $110, %eax\n"
	"	syscall\n"
	/* write(1, ts, 0) */
	"	movl $1, %eax\n"
	"	movl $1, %edi\n"
	"	movq %r12, %rsi\n"
	"	xorl %edx, %edx\n"
	"	syscall\n"
	/* clock_gettime(CLOCK_MONOTONIC, ts) */
	"	movl $228, %eax\n"
	"	movl $1, %edi\n"
	"	movq %r12, %rsi\n"
	"	syscall\n"
	"	testq %r13, %r13\n"
	"	jz 3f\n"
	/* nanosleep(&{0, 1 ms}, NULL): the thread sleeps, the CPU idles */
	"	movq $0, (%r12)\n"
	"	movq $1000000, 8(%r12)\n"
	"	movl $35, %eax\n"
	"	movq %r12, %rdi\n"
	"	xorl %esi, %esi\n"
	"	syscall\n"
	/* busy loop, long enough for a timer interrupt now and then */
	"	movl $200000, %ecx\n"
	"2:	decl %ecx\n"
	"	jnz 2b\n"
	/* count changed quadwords */
	"3:	movq %rbx, %rax\n"
	"	movq $-128, %rdx\n"
	"	xorl %ecx, %ecx\n"
	"4:	cmpq %rax, (%rsp,%rdx)\n"
	"	je 5f\n"
	"	incq %rcx\n"
	"5:	addq %r8, %rax\n"
	"	addq $8, %rdx\n"
	"	jnz 4b\n"
	"	movq %rcx, %rax\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	ret\n"
	".size redzone_round, .-redzone_round\n");

int main(void)
{
	enum { ROUNDS = 3000 };
	struct timespec ts;
	long bad_rounds = 0, bad_words = 0;

	for (long i = 0; i < ROUNDS; i++) {
		long n = redzone_round(0x0123456789abcdefUL * (i + 1), &ts, i % 30 == 0);
		if (n) {
			bad_rounds++;
			bad_words += n;
		}
	}
	if (bad_rounds) {
		printf("FAIL: red zone clobbered in %ld of %d rounds (%ld quadwords)\n", bad_rounds,
		       ROUNDS, bad_words);
		return 1;
	}
	printf("ok red zone intact over %d rounds of syscalls\n", ROUNDS);
	return 0;
}
