// SPDX-License-Identifier: MIT
/* sysregs: a syscall preserves every register except rax, rcx and r11.
 * Linux guarantees this and hand-written assembly (and some libcs' inline
 * syscalls) rely on it.  sysregs_check() loads rbx, rbp, rdi, rsi, rdx,
 * r8-r10 and r12-r15 with distinct patterns, issues one syscall and
 * returns a bit mask of the registers that changed.  It tries calls that
 * succeed (getpid, getppid, gettid, sched_yield) and one that takes the
 * -ENOSYS path (number 1000). */
#include <stdio.h>

static const char *const names[] = { "rbx", "rbp", "rdi", "rsi", "rdx", "r8",
				     "r9",  "r10", "r12", "r13", "r14", "r15" };

/* long sysregs_check(long nr, unsigned long seed): mask of changed regs */
long sysregs_check(long nr, unsigned long seed);
#define NEXT(reg) "	addq %r11, %rcx\n	movq %rcx, " reg "\n"
#define TEST(reg, bit) \
	"	addq %r11, %rcx\n	cmpq %rcx, " reg \
	"\n	je 1f\n" \
	"	orl $" #bit ", %eax\n1:\n"
__asm__(".text\n"
	".globl sysregs_check\n"
	".type sysregs_check,@function\n"
	"sysregs_check:\n"
	"	pushq %rbx\n"
	"	pushq %rbp\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	pushq %rsi\n" /* the seed, for the check afterwards */
	"	movq %rdi, %rax\n"
	"	movabsq $0x9e3779b97f4a7c15, %r11\n"
	"	movq %rsi, %rcx\n"
	NEXT("%rbx") NEXT("%rbp") NEXT("%rdi") NEXT("%rsi") NEXT("%rdx")
	NEXT("%r8") NEXT("%r9") NEXT("%r10") NEXT("%r12") NEXT("%r13")
	NEXT("%r14") NEXT("%r15")
	"	syscall\n"
	"	movq (%rsp), %rcx\n"
	"	movabsq $0x9e3779b97f4a7c15, %r11\n"
	"	xorl %eax, %eax\n"
	TEST("%rbx", 1) TEST("%rbp", 2) TEST("%rdi", 4) TEST("%rsi", 8)
	TEST("%rdx", 16) TEST("%r8", 32) TEST("%r9", 64) TEST("%r10", 128)
	TEST("%r12", 256) TEST("%r13", 512) TEST("%r14", 1024) TEST("%r15", 2048)
	"	popq %rsi\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbp\n"
	"	popq %rbx\n"
	"	ret\n"
	".size sysregs_check, .-sysregs_check\n");

int main(void)
{
	static const struct {
		long nr;
		const char *name;
	} calls[] = { { 39, "getpid" },
		      { 110, "getppid" },
		      { 186, "gettid" },
		      { 24, "sched_yield" },
		      { 1000, "syscall 1000 (ENOSYS)" } };
	int bad = 0;

	for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		long mask = 0;
		for (unsigned long round = 1; round <= 200 && !mask; round++)
			mask = sysregs_check(calls[i].nr, round * 0x1122334455667788UL);
		if (!mask) {
			printf("ok %s preserves registers\n", calls[i].name);
			continue;
		}
		printf("FAIL: %s changed", calls[i].name);
		for (int b = 0; b < 12; b++)
			if (mask & (1L << b))
				printf(" %s", names[b]);
		printf("\n");
		bad = 1;
	}
	return bad;
}
