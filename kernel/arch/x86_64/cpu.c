// SPDX-License-Identifier: MIT
/*
 * The CPU's own tables and modes: GDT with a TSS whose IST stacks serve every
 * vector, the IDT, the syscall MSRs, per-CPU data behind GS, and the FPU
 * with XSAVE enabled for every state component CPUID offers.  One CPU for
 * now; the per-CPU structure is what a second one will get.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"

#define KCS 0x08
#define KDS 0x10
#define TSS_SEL 0x18

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* IST assignment: separate stacks for the vectors that can nest. */
enum { IST_DF = 1, IST_NMI = 2, IST_MC = 3, IST_EXC = 4, IST_IRQ = 5, IST_COUNT = 5 };
#define IST_SIZE 16384

static uint64_t gdt[5];
static struct tss tss;
static struct idt_gate idt[256];
static uint8_t ist_stacks[IST_COUNT][IST_SIZE] __attribute__((aligned(16)));
static struct percpu cpu0;
static uint32_t xsave_size;
static uint64_t xcr0;
static uint32_t feat_ecx1;

extern char vector_stubs[];
extern char syscall_entry[];

static void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL; /* 64-bit code, ring 0 */
	gdt[2] = 0x00cf92000000ffffULL; /* data */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;
	for (int i = 0; i < IST_COUNT; i++)
		tss.ist[i] = (uint64_t)ist_stacks[i] + IST_SIZE;
	tss.iomap_base = sizeof(tss);

	struct desc_ptr d = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %2, %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		"ltr %w3"
		:
		: "m"(d), "i"(KCS), "i"(KDS), "r"(TSS_SEL)
		: "rax", "memory");
}

static uint8_t ist_for(int v)
{
	if (v == 8)
		return IST_DF;
	if (v == 2)
		return IST_NMI;
	if (v == 18)
		return IST_MC;
	return v < 32 ? IST_EXC : IST_IRQ;
}

static void idt_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t h = (uint64_t)vector_stubs + 16 * v;
		idt[v] = (struct idt_gate){
			.off_lo = h & 0xffff,
			.sel = KCS,
			.ist = ist_for(v),
			.type = 0x8e, /* present, interrupt gate: IF cleared */
			.off_mid = (h >> 16) & 0xffff,
			.off_hi = h >> 32,
		};
	}
	struct desc_ptr d = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d));
}

static void syscall_init(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE | EFER_NXE);
	/* syscall loads CS = STAR[47:32] and SS = CS + 8: our ring-0 pair. */
	wrmsr(MSR_STAR, (uint64_t)KCS << 32);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC);
}

static void percpu_init(void)
{
	cpu0.self = &cpu0;
	cpu0.cpu = 0;
	wrmsr(MSR_GS_BASE, (uint64_t)&cpu0);
	wrmsr(MSR_KERNEL_GS_BASE, 0); /* the program's GS until it sets one */
}

/*
 * SSE needs CR4.OSFXSR/OSXMMEXCPT; XSAVE needs CR4.OSXSAVE and XCR0 set to
 * the user state components we will save (x87, SSE, AVX, AVX-512), so that
 * glibc's CPU checks see them enabled and pick its AVX2 routines.
 */
void cpu_fpu_init(void)
{
	uint32_t r[4];
	uint64_t cr4 = read_cr4() | (1 << 9) | (1 << 10);

	cpuid(1, 0, r);
	feat_ecx1 = r[2];
	if (feat_ecx1 & (1u << 26)) { /* XSAVE */
		write_cr4(cr4 | (1 << 18));
		cpuid(0xd, 0, r);
		uint64_t supported = ((uint64_t)r[3] << 32) | r[0];
		xcr0 = supported & 0xe7; /* x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM */
		xsetbv(0, xcr0);
		cpuid(0xd, 0, r);
		xsave_size = r[1];
	} else {
		write_cr4(cr4);
		xsave_size = 512; /* FXSAVE area */
		xcr0 = 3;
	}
	/* MXCSR comes out of reset as 0x1f80, what the ABI wants; fninit sets
	 * the x87 control word to the ABI's 0x37f. */
	__asm__ volatile("fninit");
}

void cpu_init(void)
{
	gdt_init();
	idt_init();
	percpu_init();
	syscall_init();
}

void cpu_set_kstack(uint64_t top)
{
	cpu0.kstack_top = top;
}

/* The program's vector state: XSAVE of every component XCR0 enables (the
 * kernel itself never touches these registers). */
void cpu_fpu_save(void *area)
{
	if (xsave_size > 512)
		__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(-1), "d"(-1) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void cpu_fpu_restore(const void *area)
{
	if (xsave_size > 512)
		__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"(-1), "d"(-1) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

uint64_t cpu_xcr0(void)
{
	return xcr0;
}

uint32_t cpu_xsave_size(void)
{
	return xsave_size;
}
bool cpu_has_rdrand(void)
{
	return feat_ecx1 & (1u << 30);
}

/* RDRAND may fail when the generator is drained; Intel advises ten tries. */
bool cpu_random(uint64_t *v)
{
	if (!cpu_has_rdrand())
		return false;
	for (int i = 0; i < 10; i++) {
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* Linux's x86 AT_HWCAP is CPUID 1 EDX, as the ELF psABI defined it first. */
uint64_t cpu_hwcap(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[3];
}

/* AT_HWCAP2's bits (ring3mwait, fsgsbase) are not offered to the program. */
uint64_t cpu_hwcap2(void)
{
	return 0;
}

void cpu_memory_barrier(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* While the kernel runs, the program's GS base waits in KERNEL_GS_BASE
 * (swapgs exchanged them); FS is never used by the kernel. */
void cpu_set_user_fs(uint64_t v)
{
	wrmsr(MSR_FS_BASE, v);
}
uint64_t cpu_user_fs(void)
{
	return rdmsr(MSR_FS_BASE);
}
void cpu_set_user_gs(uint64_t v)
{
	wrmsr(MSR_KERNEL_GS_BASE, v);
}
uint64_t cpu_user_gs(void)
{
	return rdmsr(MSR_KERNEL_GS_BASE);
}
