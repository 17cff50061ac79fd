// SPDX-License-Identifier: MIT
/*
 * The vDSO: a tiny shared object the kernel maps into every program and
 * names in AT_SYSINFO_EHDR.  It exports what Linux's x86-64 vDSO exports
 * (clock_gettime, clock_getres, gettimeofday, time, getcpu, each also as
 * __vdso_NAME, version LINUX_2.6), so glibc and musl find and use it.  The
 * program runs in ring 0 beside the kernel, so a clock read is a plain call
 * through a pointer in the vvar page (loader/vvar.h) into the kernel's
 * clock code: no trap.  Whatever the fast path cannot answer (an unknown or
 * CPU-time clock, a pointer outside the user half) goes to the real
 * `syscall` instruction, so errors come from the kernel exactly as on Linux.
 * It also exports an entry of ours, __elfvm_syscall (version ELFVM_1): any
 * syscall as a function call, into the same dispatcher as the trap.
 * Built as user code, not with the kernel's flags (Makefile, "the vDSO");
 * it must need no relocations, since nobody relocates it.
 */
#include <stddef.h>
#include <stdint.h>

#include "loader/vvar.h"

/* kernel/kernel.h's, restated: the vDSO includes no kernel header. */
#define NSEC_PER_SEC 1000000000L

/* Linux's uapi numbers (uapi/asm/unistd_64.h, uapi/linux/time.h). */
#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_getcpu 309
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

/* The uapi structs (uapi/linux/time_types.h, uapi/linux/time.h), named
 * apart so that no libc header is needed. */
struct vdso_timespec {
	int64_t tv_sec, tv_nsec;
};
struct vdso_timeval {
	int64_t tv_sec, tv_usec;
};
struct vdso_timezone {
	int tz_minuteswest, tz_dsttime;
};

/* Linux's vDSO carries its kernel's version in a "Linux" note, which
 * glibc has read to learn the kernel version without uname; this one says
 * 6.1.0, the release uname reports (syscalls/proc.c). */
static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
	uint32_t version;
} linux_note __attribute__((section(".note.Linux"), aligned(4), used)) = {
	6, 4, 0, "Linux", (6 << 16) | (1 << 8) | 0,
};

/* The vvar page sits one page below the vDSO's ELF header; the linker
 * script defines the symbol there, so the access is %rip-relative. */
extern const struct vvar vvar_page __attribute__((visibility("hidden")));

static long syscall2(long nr, long a, long b)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static long syscall3(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

/* True when n bytes at p lie in the user half: the vDSO writes them itself
 * (a fault there is the program's SIGSEGV, as with Linux's vDSO).  NULL and
 * kernel addresses go to the syscall instead, which answers -EFAULT. */
static int user_ok(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	return a >= VDSO_USER_MIN && a < VDSO_USER_TOP && n <= VDSO_USER_TOP - a;
}

/* The clock's reading in ns, or -1 for a clock only the kernel answers.
 * The mapping is syscalls/time.c's; the CPU-time clocks stay with the
 * syscall (as on Linux), so CPU accounting lives in one place. */
static int64_t clock_ns(int clk)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE: return vvar_page.realtime_ns();
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME: return vvar_page.monotonic_ns();
	default: return -1;
	}
}

int __vdso_clock_gettime(int clk, struct vdso_timespec *ts)
{
	int64_t ns;

	if (!user_ok(ts, sizeof(*ts)) || (ns = clock_ns(clk)) < 0)
		return syscall2(SYS_clock_gettime, clk, (long)ts);
	ts->tv_sec = ns / NSEC_PER_SEC;
	ts->tv_nsec = ns % NSEC_PER_SEC;
	return 0;
}

int __vdso_clock_getres(int clk, struct vdso_timespec *res)
{
	if ((res && !user_ok(res, sizeof(*res))) || clock_ns(clk) < 0)
		return syscall2(SYS_clock_getres, clk, (long)res);
	if (res) { /* the TSC counts nanoseconds, as syscalls/time.c says */
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
	if ((tv && !user_ok(tv, sizeof(*tv))) || (tz && !user_ok(tz, sizeof(*tz))))
		return syscall2(SYS_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		uint64_t ns = vvar_page.realtime_ns();
		tv->tv_sec = ns / NSEC_PER_SEC;
		tv->tv_usec = ns % NSEC_PER_SEC / 1000;
	}
	if (tz) { /* UTC, as the syscall answers */
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

int64_t __vdso_time(int64_t *t)
{
	if (t && !user_ok(t, sizeof(*t)))
		return syscall2(SYS_time, (long)t, 0);
	int64_t now = vvar_page.realtime_ns() / NSEC_PER_SEC;
	if (t)
		*t = now;
	return now;
}

long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	if ((cpu && !user_ok(cpu, sizeof(*cpu))) || (node && !user_ok(node, sizeof(*node))))
		return syscall3(SYS_getcpu, (long)cpu, (long)node, (long)unused);
	uint64_t v = vvar_page.cpu_node();
	if (cpu)
		*cpu = (unsigned)v;
	if (node)
		*node = (unsigned)(v >> 32);
	return 0;
}

/*
 * long __elfvm_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
 * long a6): any syscall as a plain call, returning what it returns (-errno
 * raw, as the clock calls do).  It does in ring 0 what the `syscall`
 * instruction does (the arguments in rax, rdi, rsi, rdx, r10, r8, r9;
 * rcx = where to come back, r11 = rflags; IF, DF, TF and AC cleared as
 * FMASK clears them) and jumps to the kernel's direct entry, named in the
 * vvar page.  The kernel comes back with `jmp *%rcx` and the flags
 * restored, and we return.  Only our own return address is on the stack
 * when we jump; pushfq/popq uses the slot below it, which a called function
 * may use (the caller's red zone is not live across a call).
 *
 * cli and cld are cheaper than popfq (under TCG the whole call measured
 * ~15% faster); TF and AC, almost never set, take the popfq way.
 *
 * A call a signal interrupts and SA_RESTART restarts comes back 2 bytes
 * before .Lback, as after `syscall`: there lies a 2-byte jump to .Lagain,
 * which redoes the entry with the registers the kernel restored (rax = nr).
 * The jump is written out as bytes so that its size cannot change.
 */
_Static_assert(offsetof(struct vvar, syscall_entry) == VVAR_SYSCALL_ENTRY,
	       "loader/vvar.h's VVAR_SYSCALL_ENTRY must be syscall_entry's offset");
#define STR_(x) #x
#define STR(x) STR_(x)
#define ENTER "leaq .Lback(%rip), %rcx\njmp *vvar_page+" STR(VVAR_SYSCALL_ENTRY) "(%rip)\n"
__asm__(".text\n"
	".globl __elfvm_syscall\n"
	".type __elfvm_syscall, @function\n"
	".hidden vvar_page\n"
	"__elfvm_syscall:\n"
	".cfi_startproc\n"
	"movq %rdi, %rax\n"
	"movq %rsi, %rdi\n"
	"movq %rdx, %rsi\n"
	"movq %rcx, %rdx\n"
	"movq %r8, %r10\n"
	"movq %r9, %r8\n"
	"movq 8(%rsp), %r9\n" /* a6, the caller's first stack argument */
	".Lagain:\n"
	"pushfq\n"
	".cfi_adjust_cfa_offset 8\n"
	"popq %r11\n"
	".cfi_adjust_cfa_offset -8\n"
	"cli\n"
	"cld\n"
	"testl $0x40100, %r11d\n" /* AC or TF */
	"jnz .Lslow\n" ENTER
	".byte 0xeb, .Lagain - .Lback\n" /* jmp .Lagain: the restart point */
	".Lback:\n"
	"ret\n"
	".Lslow:\n"
	"movq %r11, %rcx\n"
	"andq $~0x40700, %rcx\n" /* AC, DF, IF, TF: what cpu.c puts in FMASK */
	"pushq %rcx\n"
	".cfi_adjust_cfa_offset 8\n"
	"popfq\n"
	".cfi_adjust_cfa_offset -8\n" ENTER
	".cfi_endproc\n"
	".size __elfvm_syscall, . - __elfvm_syscall\n");

/* The unprefixed names Linux's vDSO exports too (weak aliases there). */
int clock_gettime(int, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int clock_getres(int, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
int gettimeofday(struct vdso_timeval *, struct vdso_timezone *)
	__attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
