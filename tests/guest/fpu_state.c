// SPDX-License-Identifier: MIT
/* fpu_state: x87, SSE, AVX and AVX-512 state survive syscalls and timer
 * interrupts.  The kernel is built without vector instructions and must
 * never let the program's registers change under it.  Each check loads
 * registers with patterns in plain assembly, spins ~200 ms of wall time
 * (busy loops with getppid, sched_yield and clock_gettime syscalls, long
 * enough for many timer interrupts), stores them and compares: the x87
 * control word and register stack, MXCSR, xmm0-15, then ymm0-15 when CPUID
 * and XCR0 offer AVX, and zmm0-31 and k0-7 when they offer AVX-512.
 * stdout does not depend on which of these the CPU has (the host and the VM
 * may differ); stderr says which ran. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GLOBAL(name) ".globl " #name "\n.type " #name ",@function\n" #name ":\n"

/* fpu_spin(deadline_ns): busy-waits with syscalls until CLOCK_MONOTONIC
 * reaches the deadline.  Touches only rax, rcx, rdx, rdi, rsi, r11. */
__asm__(".text\n" GLOBAL(fpu_spin)
	"	pushq %rbx\n"
	"	subq $16, %rsp\n"
	"	movq %rdi, %rbx\n"
	"1:	movl $20000, %ecx\n"
	"2:	decl %ecx\n"
	"	jnz 2b\n"
	"	movl $110, %eax\n" /* getppid */
	"	syscall\n"
	"	movl $24, %eax\n" /* sched_yield */
	"	syscall\n"
	"	movl $228, %eax\n" /* clock_gettime(CLOCK_MONOTONIC) */
	"	movl $1, %edi\n"
	"	movq %rsp, %rsi\n"
	"	syscall\n"
	"	movq (%rsp), %rax\n"
	"	imulq $1000000000, %rax, %rax\n"
	"	addq 8(%rsp), %rax\n"
	"	cmpq %rbx, %rax\n"
	"	jl 1b\n"
	"	addq $16, %rsp\n"
	"	popq %rbx\n"
	"	ret\n");

struct legacy {
	int64_t st[8]; /* integers loaded with fild */
	uint16_t cw;   /* x87 control word */
	uint32_t mxcsr;
	unsigned char xmm[16][16];
};

/* fpu_legacy(in, out, deadline): x87 stack + control word, MXCSR, xmm0-15.
 * Leaves the default control word and MXCSR behind. */
void fpu_legacy(const struct legacy *in, struct legacy *out, long deadline);
#define XLOAD(n) "	movdqu " #n "*16+72(%rdi), %xmm" #n "\n"
#define XSTORE(n) "	movdqu %xmm" #n ", " #n "*16+72(%r12)\n"
__asm__(".text\n" GLOBAL(fpu_legacy)
	"	pushq %r12\n"
	"	subq $16, %rsp\n"
	"	movq %rsi, %r12\n"
	"	fninit\n"
	"	fildq 0(%rdi)\n	fildq 8(%rdi)\n	fildq 16(%rdi)\n	fildq 24(%rdi)\n"
	"	fildq 32(%rdi)\n	fildq 40(%rdi)\n	fildq 48(%rdi)\n	fildq 56(%rdi)\n"
	"	fldcw 64(%rdi)\n"
	"	ldmxcsr 68(%rdi)\n"
	XLOAD(0) XLOAD(1) XLOAD(2) XLOAD(3) XLOAD(4) XLOAD(5) XLOAD(6) XLOAD(7)
	XLOAD(8) XLOAD(9) XLOAD(10) XLOAD(11) XLOAD(12) XLOAD(13) XLOAD(14) XLOAD(15)
	"	movq %rdx, %rdi\n"
	"	call fpu_spin\n"
	XSTORE(0) XSTORE(1) XSTORE(2) XSTORE(3) XSTORE(4) XSTORE(5) XSTORE(6) XSTORE(7)
	XSTORE(8) XSTORE(9) XSTORE(10) XSTORE(11) XSTORE(12) XSTORE(13) XSTORE(14) XSTORE(15)
	"	fnstcw 64(%r12)\n"
	"	stmxcsr 68(%r12)\n"
	"	fistpq 56(%r12)\n	fistpq 48(%r12)\n	fistpq 40(%r12)\n	fistpq 32(%r12)\n"
	"	fistpq 24(%r12)\n	fistpq 16(%r12)\n	fistpq 8(%r12)\n	fistpq 0(%r12)\n"
	"	movw $0x037f, (%rsp)\n"
	"	fldcw (%rsp)\n"
	"	movl $0x1f80, (%rsp)\n"
	"	ldmxcsr (%rsp)\n"
	"	addq $16, %rsp\n"
	"	popq %r12\n"
	"	ret\n");

/* fpu_avx(in[16][32], out[16][32], deadline): ymm0-15. */
void fpu_avx(const void *in, void *out, long deadline);
#define YLOAD(n) "	vmovdqu " #n "*32(%rdi), %ymm" #n "\n"
#define YSTORE(n) "	vmovdqu %ymm" #n ", " #n "*32(%r12)\n"
__asm__(".text\n" GLOBAL(fpu_avx)
	"	pushq %r12\n"
	"	movq %rsi, %r12\n"
	YLOAD(0) YLOAD(1) YLOAD(2) YLOAD(3) YLOAD(4) YLOAD(5) YLOAD(6) YLOAD(7)
	YLOAD(8) YLOAD(9) YLOAD(10) YLOAD(11) YLOAD(12) YLOAD(13) YLOAD(14) YLOAD(15)
	"	movq %rdx, %rdi\n"
	"	call fpu_spin\n"
	YSTORE(0) YSTORE(1) YSTORE(2) YSTORE(3) YSTORE(4) YSTORE(5) YSTORE(6) YSTORE(7)
	YSTORE(8) YSTORE(9) YSTORE(10) YSTORE(11) YSTORE(12) YSTORE(13) YSTORE(14) YSTORE(15)
	"	vzeroupper\n"
	"	popq %r12\n"
	"	ret\n");

/* fpu_avx512(in[32][64] + k[8] (uint16), out likewise, deadline). */
void fpu_avx512(const void *in, void *out, long deadline);
#define ZLOAD(n) "	vmovdqu64 " #n "*64(%rdi), %zmm" #n "\n"
#define ZSTORE(n) "	vmovdqu64 %zmm" #n ", " #n "*64(%r12)\n"
#define KLOAD(n) "	kmovw 2048+" #n "*2(%rdi), %k" #n "\n"
#define KSTORE(n) "	kmovw %k" #n ", 2048+" #n "*2(%r12)\n"
__asm__(".text\n" GLOBAL(fpu_avx512)
	"	pushq %r12\n"
	"	movq %rsi, %r12\n"
	ZLOAD(0) ZLOAD(1) ZLOAD(2) ZLOAD(3) ZLOAD(4) ZLOAD(5) ZLOAD(6) ZLOAD(7)
	ZLOAD(8) ZLOAD(9) ZLOAD(10) ZLOAD(11) ZLOAD(12) ZLOAD(13) ZLOAD(14) ZLOAD(15)
	ZLOAD(16) ZLOAD(17) ZLOAD(18) ZLOAD(19) ZLOAD(20) ZLOAD(21) ZLOAD(22) ZLOAD(23)
	ZLOAD(24) ZLOAD(25) ZLOAD(26) ZLOAD(27) ZLOAD(28) ZLOAD(29) ZLOAD(30) ZLOAD(31)
	KLOAD(0) KLOAD(1) KLOAD(2) KLOAD(3) KLOAD(4) KLOAD(5) KLOAD(6) KLOAD(7)
	"	movq %rdx, %rdi\n"
	"	call fpu_spin\n"
	ZSTORE(0) ZSTORE(1) ZSTORE(2) ZSTORE(3) ZSTORE(4) ZSTORE(5) ZSTORE(6) ZSTORE(7)
	ZSTORE(8) ZSTORE(9) ZSTORE(10) ZSTORE(11) ZSTORE(12) ZSTORE(13) ZSTORE(14) ZSTORE(15)
	ZSTORE(16) ZSTORE(17) ZSTORE(18) ZSTORE(19) ZSTORE(20) ZSTORE(21) ZSTORE(22) ZSTORE(23)
	ZSTORE(24) ZSTORE(25) ZSTORE(26) ZSTORE(27) ZSTORE(28) ZSTORE(29) ZSTORE(30) ZSTORE(31)
	KSTORE(0) KSTORE(1) KSTORE(2) KSTORE(3) KSTORE(4) KSTORE(5) KSTORE(6) KSTORE(7)
	"	vzeroupper\n"
	"	popq %r12\n"
	"	ret\n");

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static uint64_t xcr0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static long deadline_in(long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec + ms * 1000000L;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
}

static int first_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return (int)i;
	return -1;
}

static int check_legacy(void)
{
	static struct legacy in, out;
	int bad = 0;
	for (int i = 0; i < 8; i++)
		in.st[i] = (int64_t)0x0123456789abcdLL * (i + 3) - i;
	in.cw = 0x0e7f;    /* 53-bit precision, round toward zero */
	in.mxcsr = 0xff80; /* flush to zero, round toward zero, all masked */
	fill(&in.xmm[0][0], sizeof in.xmm, 1);
	fpu_legacy(&in, &out, deadline_in(200));
	if (out.cw != in.cw || memcmp(out.st, in.st, sizeof in.st) != 0) {
		printf("FAIL: x87 state changed: control word %#x -> %#x\n", in.cw, out.cw);
		bad = 1;
	} else {
		printf("ok x87 control word and register stack\n");
	}
	if (out.mxcsr != in.mxcsr) {
		printf("FAIL: MXCSR changed: %#x -> %#x\n", in.mxcsr, out.mxcsr);
		bad = 1;
	} else {
		printf("ok MXCSR\n");
	}
	int d = first_diff(&in.xmm[0][0], &out.xmm[0][0], sizeof in.xmm);
	if (d >= 0) {
		printf("FAIL: xmm%d changed (byte %d)\n", d / 16, d % 16);
		bad = 1;
	} else {
		printf("ok xmm0-15\n");
	}
	return bad;
}

static int check_wide(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	cpuid(1, 0, r);
	int osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
	uint64_t x = osxsave ? xcr0() : 0;
	int avx512 = 0;
	if (max_leaf >= 7) {
		cpuid(7, 0, r);
		avx512 = (r[1] >> 16) & 1; /* AVX512F */
	}
	int bad = 0;

	if (avx && (x & 6) == 6) {
		static unsigned char in[16][32], out[16][32];
		fill(&in[0][0], sizeof in, 2);
		fpu_avx(in, out, deadline_in(200));
		int d = first_diff(&in[0][0], &out[0][0], sizeof in);
		if (d >= 0) {
			printf("FAIL: ymm%d changed (byte %d)\n", d / 32, d % 32);
			bad = 1;
		}
		fprintf(stderr, "fpu_state: checked ymm0-15\n");
	} else {
		fprintf(stderr, "fpu_state: no AVX here (cpuid %d, xcr0 %#llx)\n", avx,
			(unsigned long long)x);
	}
	if (avx512 && (x & 0xe6) == 0xe6) {
		static unsigned char in[2048 + 16], out[2048 + 16];
		fill(in, sizeof in, 3);
		fpu_avx512(in, out, deadline_in(200));
		int d = first_diff(in, out, sizeof in);
		if (d >= 0 && d < 2048) {
			printf("FAIL: zmm%d changed (byte %d)\n", d / 64, d % 64);
			bad = 1;
		} else if (d >= 2048) {
			printf("FAIL: k%d changed\n", (d - 2048) / 2);
			bad = 1;
		}
		fprintf(stderr, "fpu_state: checked zmm0-31 and k0-7\n");
	} else {
		fprintf(stderr, "fpu_state: no AVX-512 here\n");
	}
	if (!bad)
		printf("ok vector registers wider than xmm, where the CPU has them\n");
	return bad;
}

int main(void)
{
	int bad = check_legacy();
	bad |= check_wide();
	return bad;
}
