// SPDX-License-Identifier: MIT
/*
 * What happens after a vector fires: page faults go to the demand pager
 * (kernel/vm.c); a fault inside a user-copy routine resumes at its fixup
 * (-EFAULT); a fault in the program becomes its signal (kernel/signal.h
 * decides between a handler and the default action); a fault in the kernel
 * itself prints a report and ends the VM with a panic record.  The timer
 * goes to kernel/time.c; device vectors go to their drivers (intr.c).
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/abi.h"

#define VEC_TIMER 32
#define VEC_SPURIOUS 255

struct ex_entry {
	uint64_t insn, fixup;
};
extern struct ex_entry __ex_table_start[], __ex_table_end[];

static const char *const names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection",
	"page fault",
	"reserved",
	"x87 floating point",
	"alignment check",
	"machine check",
	"SIMD floating point",
	"virtualization",
	"control protection",
};

static bool fixup(struct regs *r)
{
	for (struct ex_entry *e = __ex_table_start; e < __ex_table_end; e++) {
		if (e->insn == r->rip) {
			r->rip = e->fixup;
			return true;
		}
	}
	return false;
}

void traps_report(const struct regs *r, const char *what)
{
	klog("%s at rip %lx (vector %lu, error %lx, cr2 %lx)", what, r->rip, r->nr, r->error,
	     read_cr2());
	klog(" rax %016lx rbx %016lx rcx %016lx rdx %016lx", r->rax, r->rbx, r->rcx, r->rdx);
	klog(" rsi %016lx rdi %016lx rbp %016lx rsp %016lx", r->rsi, r->rdi, r->rbp, r->rsp);
	klog(" r8  %016lx r9  %016lx r10 %016lx r11 %016lx", r->r8, r->r9, r->r10, r->r11);
	klog(" r12 %016lx r13 %016lx r14 %016lx r15 %016lx", r->r12, r->r13, r->r14, r->r15);
	klog(" rflags %016lx fs.base %016lx", r->rflags, rdmsr(MSR_FS_BASE));
}

/* A frame-pointer walk of the kernel's own stack (it keeps frame pointers). */
static void kernel_backtrace(const struct regs *r)
{
	uint64_t *fp = (uint64_t *)r->rbp;

	klog(" backtrace: %lx", r->rip);
	for (int i = 0; i < 16 && (uint64_t)fp >= KERNEL_VMA && ((uint64_t)fp & 7) == 0; i++) {
		klog("  %lx", fp[1]);
		fp = (uint64_t *)fp[0];
	}
}

static noreturn void kernel_fault(struct regs *r)
{
	const char *n = r->nr < 32 && names[r->nr] ? names[r->nr] : "exception";
	traps_report(r, n);
	kernel_backtrace(r);
	panic("%s in the kernel at %lx (cr2 %lx)", n, r->rip, read_cr2());
}

/* Which signal a CPU exception means to the program (Linux's mapping). */
static int signal_for(uint64_t vec)
{
	switch (vec) {
	case 0:
	case 16:
	case 19: return SIGFPE;
	case 1:
	case 3: return SIGTRAP;
	case 6: return SIGILL;
	case 17: return SIGBUS;
	default: return SIGSEGV;
	}
}

/* si_code of a fault (include/uapi/asm-generic/siginfo.h). */
static int code_for(uint64_t vec, long err, uint64_t pf_error)
{
	switch (vec) {
	case 14: /* ACCERR where a mapping refused the access, else MAPERR */
		return err == -EIO ? BUS_ADRERR : pf_error ? SEGV_ACCERR : SEGV_MAPERR;
	case 0: return FPE_INTDIV;
	case 6: return ILL_ILLOPN;
	case 3: return TRAP_BRKPT;
	case 1: return TRAP_TRACE;
	default: return SI_KERNEL;
	}
}

static void page_fault(struct regs *r)
{
	uint64_t addr = read_cr2();
	long err = addr < USER_TOP ? vm_fault(addr, r->error) : -EFAULT;

	if (err == 0)
		return;
	if (r->rip >= KERNEL_VMA) {
		if (fixup(r))
			return;
		kernel_fault(r);
	}
	signal_fault(r, err == -EIO ? SIGBUS : SIGSEGV, addr,
		     code_for(14, err, addr < USER_TOP && vm_find(addr)));
}

static bool from_program(const struct regs *r)
{
	return r->rip < KERNEL_VMA;
}

/* A frame from the program moves from the per-CPU IST stack to the top of
 * the thread's kernel stack (empty while the program runs), so that the
 * thread can be switched away or handed a signal before it returns. */
struct regs *trap_enter(struct regs *r)
{
	if (!from_program(r) || !current)
		return r;
	struct regs *k = (struct regs *)(current->kstack + KSTACK_SIZE) - 1;
	*k = *r;
	return k;
}

void trap_dispatch(struct regs *r)
{
	if (r->nr == 14) {
		page_fault(r);
	} else if (r->nr < 32) {
		if (!from_program(r) || r->nr == 8 || r->nr == 18 || r->nr == 2)
			kernel_fault(r);
		signal_fault(r, signal_for(r->nr), r->rip, code_for(r->nr, 0, 0));
	} else if (r->nr == VEC_TIMER) {
		apic_eoi();
		sched_tick();
	} else if (r->nr != VEC_SPURIOUS && !intr_dispatch(r->nr)) {
		apic_eoi();
	}
	if (from_program(r))
		sched_return_to_user(r, false);
}
