/* SPDX-License-Identifier: MIT */
/*
 * The kernel's public interface, grouped by the file that implements each
 * function (xv6's defs.h).  loader/, minifs/ and syscalls/ include this and
 * nothing else from kernel/ except kernel/abi.h (Linux ABI constants).
 * Internal helpers stay static in their own files.  A section named
 * arch/FILE is implemented by FILE in the architecture's directory (x86-64's,
 * under kernel/arch/): the one place that knows the CPU and the devices
 * behind kernel/platform.h, reached only through these functions.
 */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/abi.h"
#include "kernel/lock.h"

#define PAGE_SIZE 4096UL
#define PAGE_SHIFT 12
#define PAGE_DOWN(x) ((uint64_t)(x) & ~(PAGE_SIZE - 1))
#define PAGE_UP(x) (((uint64_t)(x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

/* The address space (docs/memory.md). */
#define KERNEL_VMA 0xffffffff80000000UL /* kernel image, linked at -2 GiB */
#define DIRECT_MAP 0xffff888000000000UL /* all physical memory */
#define USER_TOP 0x00007ffffffff000UL   /* first address above the program */
#define USER_MIN 0x0000000000010000UL   /* mmap_min_addr: page 0 never maps */

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(pa + DIRECT_MAP);
}
static inline uint64_t virt_to_phys(const void *va)
{
	uint64_t v = (uint64_t)va;
	return v >= KERNEL_VMA ? v - KERNEL_VMA : v - DIRECT_MAP;
}

#define RFLAGS_TF_BIT (1UL << 8)
#define RFLAGS_DF_BIT (1UL << 10)
#define NSEC_PER_SEC 1000000000L
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define noreturn _Noreturn
/* The syscall path (entry.S's syscall entry and exit, the dispatcher) is
 * kept together on one page at the start of .text, so that code added
 * elsewhere never moves it.  Under TCG its speed depended on where it
 * landed: builds that changed none of its instructions measured getppid
 * 30% apart (docs/bench.md). */
#define __entry_text __attribute__((section(".text.entry")))

/*
 * The registers of an interrupted or trapping context, as the entry code in
 * arch/entry.S pushes them.  A syscall builds the same frame, with
 * `nr` holding the syscall number (orig_rax) and rip/rflags from rcx/r11,
 * and `error` saying how it came in: SYSCALL_TRAP by the `syscall`
 * instruction, SYSCALL_DIRECT through the vDSO's __elfvm_syscall
 * (docs/vdso.md).  Either way rip - 2 is where a restarted call begins.
 */
struct regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t nr;    /* vector, or the syscall number */
	uint64_t error; /* exception error code; a syscall's SYSCALL_TRAP or _DIRECT */
	uint64_t rip, cs, rflags, rsp, ss;
};
#define SYSCALL_TRAP 0 /* entry.S pushes these two as numbers */
#define SYSCALL_DIRECT 1

/* ---- arch/string.c -------------------------------------------------------- */
/* As C's: each returns dst. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

/* ---- string.c ------------------------------------------------------------- */
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);

/* ---- printf.c --------------------------------------------------------------- */
/* Formats like C's vsnprintf for %d %i %u %x %X %p %s %c %% with l, ll, z,
 * width (or *), zero-pad/left flags and %.Ns/%.*s; returns the length it
 * wanted. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Text built piece by piece into a buffer of size bytes, snprintf style:
 * what does not fit is cut, and len counts what was wanted, so a caller
 * can retry with a buffer that big (/proc files, /proc/cpuinfo). */
struct out {
	char *buf;
	size_t size, len;
};
void out_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- console.c ------------------------------------------------------------ */
void console_init(void);
/* Writes the program's bytes to stream 1 (stdout) or 2 (stderr): the
 * virtio console's ports when there is one, else COM1 and COM2. */
void console_write(int stream, const void *buf, size_t len);
/* Returns once the host has every byte written so far (the virtio
 * console's rings are empty); the end-of-run records come after it. */
void console_flush(void);
struct uio;
/* Writes all of u to the stream through a kernel bounce buffer; returns
 * the bytes written, or -EFAULT when the first of them cannot be read. */
long console_write_uio(int stream, struct uio *u);
/* The kernel log (debugcon), never mixed with the program's output. */
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void klog_raw(const char *s, size_t len);
extern bool klog_verbose;
#define kdebug(...) \
	do { \
		if (klog_verbose) \
			klog(__VA_ARGS__); \
	} while (0)

/* ---- arch/uart.c: the program's serial lines --------------------------------- */
/* Sets up COM1 and COM2: 115200 baud 8N1, FIFO on, no interrupts. */
void uart_init(void);
/* Writes len bytes to stream 1 (COM1) or 2 (COM2), waiting while the FIFO
 * is full; when it returns the VMM has them all. */
void uart_write(int stream, const void *buf, size_t len);

/* ---- arch/platform.c: QEMU's debug devices (kernel/platform.h) ------------- */
/* Writes len bytes to the debugcon port, the kernel log; never blocks. */
void platform_log_write(const char *s, size_t len);
/* Stops the VM with status through isa-debug-exit; where no such device
 * answers, writes "elfvm: WHY" on COM1 and powers the machine off (UEFI
 * runtime, then ACPI), or halts with interrupts off for ever.  Never
 * returns. */
noreturn void platform_exit(int status, const char *why);

/* ---- arch/acpi.c, arch/efi.c: what the firmware tells ---------------------- */
struct acpi_ioapic {
	uint64_t phys;
	uint32_t gsi_base;
};
/* Reads the MADT and FADT from the RSDP at rsdp_pa (0: looks in the BIOS
 * area); without valid tables nothing is used. */
void acpi_init(uint64_t rsdp_pa);
/* The MADT's I/O APICs (*out), how many; 0 without ACPI. */
int acpi_ioapics(const struct acpi_ioapic **out);
/* ACPI S5 soft-off; returns only if the machine is still on. */
void acpi_poweroff(void);
/* Finds UEFI's runtime services from the command line's efi_systab=. */
void efi_init(void);
/* UEFI ResetSystem(shutdown); returns only when there is none or it failed. */
void efi_poweroff(void);
/* A page table mapping low memory one to one (executable: 512 GiB, or 4
 * GiB without 1 GiB pages) beside the kernel's upper half, for firmware
 * calls; its physical address or 0. */
uint64_t paging_identity_root(void);

/* ---- core.c: core dumps (run --core) ----------------------------------------- */
struct sig_info;
/* Writes the program's core file for a death by sig (k: its siginfo; r:
 * the dying thread's registers, fault: taken at a fault) when the signal
 * dumps core, RLIMIT_CORE allows it and the host asked for one.  Logs
 * "@@core BYTES"; true when a core was written. */
bool core_dump(const struct regs *r, int sig, const struct sig_info *k, bool fault);
/* On the way back to the program: while another thread writes a core,
 * sleep for good, so the memory stays as it died. */
void core_park(void);

/* ---- profile.c ------------------------------------------------------------- */
/* The syscall profile (docs/trim.md): counters per number, written as
 * @@profile records by the exits below when profile_start was called. */
#define PROFILE_SYSCALLS 512 /* numbers >= this share one counter */
void profile_start(void);
void profile_count(uint64_t nr);
/* Logs one @@profile record per nonzero counter, once; nothing when
 * profiling is off. */
void profile_dump(void);

/* ---- exit.c ------------------------------------------------------------------ */
/* Ends the VM after the @@ record for docs/protocol.md; never returns. */
noreturn void vm_exit_status(int status);
noreturn void vm_exit_signal(int sig);
noreturn void vm_exit_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define BUG_ON(c) \
	do { \
		if (c) \
			panic("BUG_ON(%s) at %s:%d", #c, __FILE__, __LINE__); \
	} while (0)

/* ---- cmdline.c: the kernel command line ------------------------------------ */
/* Keeps a copy of the VMM's command line (at most 2047 bytes of it). */
void cmdline_init(const char *line);
/* The value of key=value on the command line, copied into buf (size > 0,
 * truncated to size - 1 bytes); NULL when the key is absent. */
const char *cmdline_get(const char *key, char *buf, size_t size);
/* Calls fn(value, len, arg) (value not NUL-terminated) for every key=value
 * word in order, until fn returns false; returns the calls made.  For keys
 * that may come several times (virtio_mmio.device). */
int cmdline_each(const char *key, bool (*fn)(const char *value, size_t len, void *arg), void *arg);

/* ---- mem.c: physical pages --------------------------------------------------- */
struct mem_range {
	uint64_t base, len;
};
void mem_init(const struct mem_range *ram, int n, const struct mem_range *used, int nused);
/* A zeroed page (physical address), or 0 when memory is exhausted. */
uint64_t page_alloc(void);
/* n physically contiguous zeroed pages, or 0. */
uint64_t pages_alloc(size_t n);
/* Another user of a page; page_free drops one, the last frees it. */
void page_get(uint64_t pa);
void page_free(uint64_t pa);
void pages_free(uint64_t pa, size_t n);
uint64_t mem_total_pages(void);
uint64_t mem_free_pages(void);
uint64_t mem_top(void);

/* ---- heap.c: kernel objects ------------------------------------------------ */
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

/* ---- arch/paging.c --------------------------------------------------------- */
#define PTE_P (1UL << 0)
#define PTE_W (1UL << 1)
#define PTE_U (1UL << 2)
#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4)
#define PTE_A (1UL << 5)
#define PTE_D (1UL << 6)
#define PTE_PS (1UL << 7)
#define PTE_G (1UL << 8)
#define PTE_NX (1UL << 63)
/* Software bit: a page that stays the program's under PROT_NONE. */
#define PTE_HELD (1UL << 9)
/* Software bit: the page is the backing object's own, never private. */
#define PTE_OBJ (1UL << 10)
#define PTE_ADDR 0x000ffffffffff000UL
void paging_init(void);
/* The leaf entry for va, creating page tables when create is set; NULL when
 * absent (or when a table cannot be allocated). */
uint64_t *paging_pte(uint64_t va, bool create);
/* Maps one 4 KiB page; returns 0 or -ENOMEM. */
long paging_map(uint64_t va, uint64_t pa, uint64_t flags);
/* Drops this CPU's TLB entry for the page at va, after its PTE changed. */
void paging_flush_page(uint64_t va);
/* Calls fn for every present (or PTE_HELD) leaf entry in [start, end), skipping absent
 * tables whole, so a huge PROT_NONE reservation costs nothing to walk. */
void paging_for_each(uint64_t start, uint64_t end, void (*fn)(uint64_t va, uint64_t *pte, void *arg),
		     void *arg);
/* Maps device memory (uncached) into the direct map. */
void *paging_map_mmio(uint64_t pa, size_t len);

/* ---- arch/cpu.c -------------------------------------------------------------- */
struct percpu {
	struct percpu *self;
	uint64_t kstack_top; /* syscall entry switches here */
	uint64_t user_rsp;   /* scratch for the entry path */
	uint32_t cpu;
};
void cpu_init(void);
/* Enables SSE and XSAVE state (CR4, XCR0) and resets the FPU. */
void cpu_fpu_init(void);
uint32_t cpu_xsave_size(void);
uint64_t cpu_xcr0(void);
/* Where the syscall entry switches stacks: the running thread's. */
void cpu_set_kstack(uint64_t top);
/* Saves or loads the program's x87/SSE/AVX state (XSAVE, 64-byte aligned). */
void cpu_fpu_save(void *area);
void cpu_fpu_restore(const void *area);
bool cpu_has_rdrand(void);
/* Puts 64 bits from the CPU's random number generator (RDRAND) in *v;
 * false when the CPU has none or it stayed drained for ten tries. */
bool cpu_random(uint64_t *v);
/* The values of AT_HWCAP and AT_HWCAP2, as Linux on this CPU gives them. */
uint64_t cpu_hwcap(void);
uint64_t cpu_hwcap2(void);
/* A full memory barrier: every earlier load and store is done before any
 * later one starts (membarrier). */
void cpu_memory_barrier(void);
/* Jumps to the program with rsp = sp, rdx = 0 and all other registers zero;
 * never returns. */
noreturn void cpu_enter_program(uint64_t entry, uint64_t sp);
/* arch/entry.S: the syscall entry the vDSO's __elfvm_syscall jumps to
 * (through the vvar page) with the registers the `syscall` instruction
 * would have set; not a C function. */
extern char syscall_entry_direct[];
/* The user's FS and GS bases (arch_prctl). */
void cpu_set_user_fs(uint64_t v);
uint64_t cpu_user_fs(void);
void cpu_set_user_gs(uint64_t v);
uint64_t cpu_user_gs(void);

/* ---- arch/traps.c ------------------------------------------------------------ */
/* Prints registers and a backtrace to the log. */
void traps_report(const struct regs *r, const char *what);

/* ---- arch/cpuinfo.c --------------------------------------------------------- */
/* Formats /proc/cpuinfo into buf, snprintf style (buf may be NULL when size
 * is 0); returns the length it needed. */
size_t cpuinfo_format(char *buf, size_t size);

/* ---- arch/apic.c ------------------------------------------------------------- */
void apic_init(void);
/* Arms the one-shot timer to fire after ns nanoseconds. */
void apic_timer_oneshot(uint64_t ns);
void apic_eoi(void);
/* Moves both 8259 PICs to vectors 240-255 (dropping what they hold
 * pending) and masks every line; where there are none, as on microvm with
 * pic=off, the writes go nowhere.  q35's firmware leaves the PIT's line
 * open on vector 8: called before interrupts are first enabled. */
void pic_disable(void);
/* The boot CPU's local APIC id, where device interrupts are sent. */
uint32_t apic_id(void);

/* ---- arch/intr.c: device interrupt vectors -------------------------------- */

/* A vector of its own for a device: fn(arg) runs when it fires, with
 * interrupts off, and must not sleep (take work off a ring, wake a
 * waiter).  Returns the vector, or -ENOSPC when all are taken. */
int intr_alloc(void (*fn)(void *arg), void *arg);
/* The MSI/MSI-X message (address and data) that raises vector. */
void intr_msi_message(int vector, uint64_t *addr, uint32_t *data);
/* Runs the handler of a device vector and signals the end of the
 * interrupt; false when vector is not a device's (traps.c). */
bool intr_dispatch(uint64_t vector);

/* ---- arch/ioapic.c ------------------------------------------------------------ */

/* Routes GSI gsi to vector on the boot CPU, level-triggered (a line that
 * stays up until the device is answered) or edge-triggered, active high.
 * Returns 0, -EINVAL for a GSI beyond the I/O APICs kernel/platform.h
 * names, -ENODEV when its I/O APIC does not answer or lacks the pin. */
long ioapic_route(unsigned gsi, int vector, bool level);

/* ---- arch/pci.c: PCI configuration space --------------------------------- */

/* bdf: bus << 8 | device << 3 | function; off: a byte offset, 4-aligned. */
#define PCI_BDF(bus, dev, fn) ((unsigned)(bus) << 8 | (unsigned)(dev) << 3 | (unsigned)(fn))
uint32_t pci_read32(unsigned bdf, unsigned off);
void pci_write32(unsigned bdf, unsigned off, uint32_t v);

/* ---- arch/tsc.c: the clock source and the RTC ------------------------------- */
/* The clock source (the TSC): counts at a constant rate since the CPU's
 * reset, never backwards. */
uint64_t clocksource_read(void);
/* Its rate in Hz: from the hypervisor's CPUID leaf or CPUID 0x15, else
 * measured over 10 ms of the PIT; 0 when nothing could tell. */
uint64_t clocksource_measure_hz(void);
/* The wall clock from the CMOS RTC, in ns since the epoch to the second;
 * 0 when the RTC reads as no valid date. */
uint64_t rtc_read_ns(void);

/* ---- time.c ------------------------------------------------------------------ */
void time_init(void);
/* The clock source's rate, as time_init settled it. */
uint64_t time_tsc_hz(void);
uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC: turns a wall-clock deadline into a
 * monotonic one exactly, with no second clock read in between. */
uint64_t clock_realtime_base(void);
/* Moves CLOCK_REALTIME forward to ns (the host's clock, elfvm.ctl); never
 * back. */
void clock_realtime_step(uint64_t ns);


/* ---- vm.c: the program's address space ------------------------------------ */
/* What a mapping of an object (a file) needs from it; minifs provides it. */
struct vm_backing {
	/* The physical page at index with a reference taken for the caller;
	 * 0 when index lies past the object's end (SIGBUS) or memory ran out. */
	uint64_t (*page)(void *obj, uint64_t index);
	void (*get)(void *obj);
	void (*put)(void *obj);
	/* The name and inode number /proc/self/maps shows. */
	const char *(*name)(void *obj, char *buf, size_t size);
	uint64_t (*ino)(void *obj);
};
struct vma {
	uint64_t start, end;              /* page-aligned [start, end) */
	int prot;                         /* PROT_* */
	int flags;                        /* VMA_* */
	const struct vm_backing *backing; /* NULL: anonymous */
	void *obj;
	uint64_t pgoff;   /* page index in obj of start */
	struct vma *next; /* sorted by address */
};
#define VMA_STACK 1
#define VMA_HEAP 2
#define VMA_IMAGE 4  /* a segment of the program or its interpreter */
#define VMA_SHARED 8 /* MAP_SHARED: writes reach the object */
#define VMA_VDSO 16
#define VMA_VVAR 32
#define VMA_MAYWRITE 64  /* a shared mapping of a file open for writing */
#define VMA_DONTDUMP 128 /* madvise(MADV_DONTDUMP): left out of a core dump */
/* Resolves a fault at addr (error code err): a zeroed page, the object's
 * page, or a private copy of it (copy on write).  Returns 0; -EFAULT when
 * no VMA allows the access (SIGSEGV); -EIO past the end of a mapped object
 * (SIGBUS). */
long vm_fault(uint64_t addr, uint64_t err);
struct vma *vm_find(uint64_t addr);
/* The name /proc/self/maps shows for v (a path, [stack], …, or ""). */
const char *vm_name(const struct vma *v, char *buf, size_t size);
/* madvise's MADV_DONTDUMP (dump false) and MADV_DODUMP over a range,
 * splitting VMAs at its ends; -ENOMEM where part of it is not mapped. */
long vm_set_dump(uint64_t start, uint64_t len, bool dump);
/* The first VMA ending above addr, or NULL. */
struct vma *vm_first_after(uint64_t addr);
/* Records [start, start+len) as mapped with prot, replacing whatever was
 * there (its pages are freed).  Returns 0 or -ENOMEM. */
long vm_map(uint64_t start, uint64_t len, int prot, int flags);
/* The same for a mapping of obj from page pgoff on; takes a reference. */
long vm_map_object(uint64_t start, uint64_t len, int prot, int flags, const struct vm_backing *b,
		   void *obj, uint64_t pgoff);
/* Removes every mapping in the range; returns 0 or -ENOMEM (a split needs
 * a new VMA). */
long vm_unmap(uint64_t start, uint64_t len);
/* Changes the protection of a fully mapped range; -ENOMEM when part of it
 * is not mapped (Linux's answer). */
long vm_protect(uint64_t start, uint64_t len, int prot);
/* A free range of len bytes, highest first below the mmap base, or 0. */
uint64_t vm_find_free(uint64_t len);
/* Moves the mapping and pages of [from, from+len) to [to, to+len) (mremap). */
long vm_move(uint64_t from, uint64_t to, uint64_t len);
/* Frees the pages in the range but keeps the mapping (MADV_DONTNEED). */
void vm_discard(uint64_t start, uint64_t len);
/* Maps a zeroed page at va now (loader); returns its kernel address. */
void *vm_populate(uint64_t va);
uint64_t vm_resident_pages(void);
/* Formats /proc/self/maps into buf; returns the length it needed. */
size_t vm_format_maps(char *buf, size_t size);
/* Writes the maps to the log. */
void vm_log_maps(void);

/* ---- signal.c: signal state and the fate of a faulting program ----------- */
struct k_sigaction;
struct thread;
struct sig_info;
long signal_action(int sig, const struct k_sigaction *act, struct k_sigaction *old);
uint64_t *signal_mask(void);
/* A synchronous fault in the program: its handler when one can run, else
 * the default action (a crash report and the end of the VM). */
void signal_fault(struct regs *r, int sig, uint64_t addr, int code);
/* Sends sig to the process (t NULL: a thread that does not block it) or
 * to thread t, with kill's siginfo (code SI_USER or SI_TKILL).  The signal
 * is acted on when the thread next returns to the program.  0 or -EINVAL. */
long signal_send(struct thread *t, int sig, int code);
/* The same with the siginfo given (rt_sigqueueinfo: code < 0, the value in
 * addr).  0, -EINVAL, or -EAGAIN when the real-time queue is full. */
long signal_send_info(struct thread *t, int sig, const struct sig_info *info);
/* Thread t is going: its queued real-time instances with it. */
void signal_thread_gone(struct thread *t);
/* Signals sent to the process that no thread has taken yet. */
extern uint64_t signal_shared_pending;
/* Takes the lowest pending signal in set off t's queue (its own first,
 * then the process's); 0 if none. */
int signal_dequeue(struct thread *t, uint64_t set, struct sig_info *info);
/* Builds the siginfo the program sees. */
void signal_fill_info(int sig, const struct sig_info *k, void *siginfo128);
/* rt_sigreturn: restores the registers, vector state and mask saved by the
 * signal frame at r->rsp - 8.  Returns the restored rax, or ends the
 * program with SIGSEGV when the frame is unreadable. */
long signal_return(struct regs *r);
/* True when a signal waits that would interrupt t's sleep. */
bool signal_wakes(const struct thread *t);
/* On the way back to the program: acts on the lowest pending signal the
 * thread does not block (a handler frame, the default action, or nothing),
 * and finishes an interrupted syscall (-EINTR or a restart). */
void signal_deliver(struct regs *r, bool syscall);
/* The loader registers how to turn a program address into "symbol+off". */
void signal_set_symbolizer(int (*fn)(uint64_t addr, char *buf, size_t size));

/* ---- sched.c: threads, sleeping and waking ------------------------------- */
/*
 * One CPU, preemptive round-robin for program threads; the kernel itself is
 * not preempted (a thread switches only when it sleeps, or on its way back
 * to the program).  Shared kernel data is still protected by the locks
 * docs/threads.md lists, so that SMP changes the lock, not its callers.
 *
 * A waitq holds waiters: a thread to wake, or a callback (epoll) to call.
 * Every blocking path waits through wait_event_* below, which owns the
 * whole dance: mark the thread sleeping, test the condition, sleep, retry
 * on a spurious wake-up, give up on a signal or a deadline.
 */
struct thread;
struct waiter {
	struct waiter *next;
	struct waitq *q;
	struct thread *thread;                      /* woken by wake_up, or */
	void (*fn)(struct waiter *w, unsigned key); /* called by wake_up (any context) */
	void *arg;
};
struct waitq {
	struct spinlock lock; /* the list of waiters */
	struct waiter *head;
};
#define KSTACK_SIZE 32768
#define WAKE_EVENT 0
#define WAKE_TIMEOUT 1
#define WAKE_SIGNAL 2
struct thread {
	int tid;
	int state;                 /* THREAD_* */
	uint64_t ksp;              /* saved kernel rsp while switched out */
	uint64_t kstack;           /* base of its kernel stack */
	uint8_t *fpu;              /* XSAVE area (64-byte aligned) */
	uint64_t fs_base, gs_base; /* the program's */
	uint64_t clear_child_tid, robust_list;
	uint64_t sigmask, sigpending;
	uint64_t sigwait;    /* rt_sigtimedwait: these wake it too */
	uint64_t saved_mask; /* rt_sigsuspend's mask to restore */
	bool restore_mask;
	struct sig_info {
		int32_t code, pid;
		uint64_t addr; /* a fault's address; sigqueue's value */
	} siginfo[64];         /* of each pending signal (the last instance's) */
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;
	bool full_restore;       /* leave the next syscall through iretq */
	bool kernel;             /* a kernel thread: never runs the program */
	bool queued;             /* on the run queue */
	int policy;              /* SCHED_OTHER, BATCH or IDLE: all run alike */
	int nice;                /* recorded; the round robin ignores it */
	char comm[16];           /* prctl(PR_SET_NAME) */
	uint64_t deadline;       /* monotonic ns while sleeping, 0: none */
	int wake;                /* WAKE_* of the last sleep */
	struct thread *run_next; /* run queue */
	struct thread *all_next; /* every thread */
};
#define THREAD_RUNNABLE 0
#define THREAD_SLEEPING 1
#define THREAD_DEAD 2
extern struct thread *current;
/* Makes the boot context the first program thread (tid 1). */
void sched_init(void);
/* A new thread that will enter the program with the registers in *r (rax
 * 0, rsp and the FS base as given); runnable at once.  NULL without memory. */
struct thread *thread_create(const struct regs *r, uint64_t sp, uint64_t fs);
/* Ends the calling thread; the last one ends the VM with status. */
noreturn void thread_exit(int status);
/* A kernel thread running fn(arg) on its own stack, with interrupts on;
 * it ends when fn returns.  Kernel threads do not keep the VM alive. */
struct thread *kthread_create(void (*fn)(void *arg), void *arg);
noreturn void kthread_exit(void);
struct thread *thread_by_tid(int tid);
/* The list of every thread, linked through all_next. */
struct thread *sched_all_threads(void);
/* Queue w on q, or take it off (a no-op when it is on none); each takes
 * q's lock.  The _locked forms are for a caller that holds it already
 * (inside a wake_up callback or a walk of the queue). */
void waitq_add(struct waitq *q, struct waiter *w);
void waitq_remove(struct waiter *w);
void waitq_add_locked(struct waitq *q, struct waiter *w);
void waitq_remove_locked(struct waiter *w);
/* Wakes every waiter of q, telling callbacks which readiness changed (key:
 * EPOLL* bits, 0: anything; Linux's wake-up key); returns how many. */
int wake_up_key(struct waitq *q, unsigned key);
static inline int wake_up(struct waitq *q)
{
	return wake_up_key(q, 0);
}
/* Makes a sleeping thread runnable; why is WAKE_EVENT or WAKE_SIGNAL. */
void sched_wake(struct thread *t, int why);

/* The steps of a wait, for wait_event_* only: wait_prepare queues w on q
 * (when q is not NULL and w is not queued yet) and marks the thread
 * sleeping until deadline (monotonic ns, 0: none); wait_schedule sleeps
 * unless a wake-up, a signal (when intr) or the deadline came first, and
 * returns 0, -EINTR or -ETIMEDOUT; wait_finish makes the thread runnable
 * and takes w off its queue. */
void wait_prepare(struct waitq *q, struct waiter *w, uint64_t deadline);
long wait_schedule(bool intr);
void wait_finish(struct waiter *w);

/* Sleeps on q (NULL: the caller queued its own waiters, or only a
 * deadline or a signal can end the wait) until cond holds: 0; until
 * deadline passes: -ETIMEDOUT; or until a signal the thread does not block
 * arrives: -EINTR.  cond is tested after the thread is marked sleeping, so
 * a wake-up between the test and the sleep is never lost; it may be tested
 * several times and must not sleep itself.  Call with interrupts enabled
 * and no spinlock held. */
#define wait_event_deadline(q, cond, deadline) __wait_event(q, cond, deadline, true)

/* A blocking file operation's wait: 0 once cond holds; -EAGAIN at once
 * when nonblock (O_NONBLOCK, MSG_DONTWAIT); -ERESTARTSYS when a signal
 * comes first, which the signal code turns into -EINTR or a restart. */
#define wait_event_interruptible(q, cond, nonblock) \
	({ \
		long __we = 0; \
		if (!(cond)) \
			__we = (nonblock) ? -EAGAIN : __wait_event(q, cond, 0, true); \
		__we == -EINTR ? -ERESTARTSYS : __we; \
	})

/* wait_event_interruptible for a caller that holds mutex m over what cond
 * reads (a pipe, an eventfd): cond is tested with m held, m is let go for
 * each sleep and held again when this returns, whatever it returns. */
#define wait_event_interruptible_mutex(q, cond, nonblock, m) \
	({ \
		long __wm = 0; \
		while (!(cond)) { \
			if (nonblock) { \
				__wm = -EAGAIN; \
				break; \
			} \
			mutex_unlock(m); \
			__wm = __wait_event(q, cond, 0, true); \
			mutex_lock(m); \
			if (__wm) { \
				__wm = __wm == -EINTR ? -ERESTARTSYS : __wm; \
				break; \
			} \
		} \
		__wm; \
	})

/* Sleeps until cond holds; signals do not end the wait (mutexes). */
#define wait_event_uninterruptible(q, cond) ((void)__wait_event(q, cond, 0, false))

#define __wait_event(q, cond, deadline, intr) \
	({ \
		struct waiter __w = { 0 }; \
		long __r = 0; \
		for (;;) { \
			wait_prepare(q, &__w, deadline); \
			if (cond) \
				break; \
			__r = wait_schedule(intr); \
			if (__r) \
				break; \
		} \
		wait_finish(&__w); \
		__r; \
	})

/* Gives the CPU to another runnable thread, if any. */
void sched_yield_cpu(void);
/* Set by the timer when the slice is over and another thread waits. */
extern bool sched_need_resched;
/* Called on the way back to the program (syscall or interrupt): switch if
 * the time slice is over, then deliver pending signals into *r. */
void sched_return_to_user(struct regs *r, bool syscall);
/* The timer interrupt. */
void sched_tick(void);
/* Program-wide timers (setitimer, alarm, timerfd): fn runs from the timer
 * interrupt at deadline (monotonic ns).  timer_cancel is safe at any time. */
struct ktimer {
	struct ktimer *next;
	uint64_t deadline;
	void (*fn)(struct ktimer *t);
	void *arg;
	bool armed;
};
void timer_arm(struct ktimer *t, uint64_t deadline);
void timer_cancel(struct ktimer *t);

/* Sleeping mutexes, for long work (the address space, the file tree). */
struct mutex {
	struct thread *owner;
	struct waitq waiters;
	const char *name;
};
#define MUTEX_INIT(n) \
	{ \
		NULL, { { 0, n }, NULL }, n \
	}
/* Sleeps (not interruptibly) until the mutex is free, then owns it. */
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);

/* ---- selftest.c ------------------------------------------------------------------ */
void selftest_run(void);

/* ---- random.c ------------------------------------------------------------------ */
void random_init(void);
void random_bytes(void *buf, size_t len);

/* ---- arch/uaccess.S: the only way across the user boundary ----------------- */
#define __user
/* Each returns 0, or -EFAULT when any byte of the user range is outside the
 * program's half or not mapped with the needed access. */
long copy_from_user(void *dst, const void __user *src, size_t n);
long copy_to_user(void __user *dst, const void *src, size_t n);
long clear_user(void __user *dst, size_t n);
/* Copies a NUL-terminated string of at most max-1 bytes; returns its length,
 * -ENAMETOOLONG when no NUL fits, or -EFAULT. */
long strncpy_from_user(char *dst, const char __user *src, size_t max);
static inline bool user_range_ok(uint64_t p, size_t n)
{
	return p < USER_TOP && n <= USER_TOP - p;
}

/* ---- uio.c: the one way a read or write moves bytes ----------------------- */
/*
 * The other side of a transfer: the program's buffer or iovecs, or kernel
 * memory (sendfile, the kernel writing to a file).  Every file_ops read
 * and write takes one, so plain, positioned and vectored calls, sendfile,
 * sockets and the console share one copy path and nothing passes a "user"
 * flag around.  A uio is consumed as it is copied; count is what is left.
 */
#define MAX_RW_COUNT 0x7ffff000UL /* Linux's MAX_RW_COUNT: the most one call moves */
struct uio {
	const struct iovec *iov; /* the current segment */
	unsigned long nsegs;     /* segments left, the current one included */
	size_t seg_off;          /* bytes of the current segment already moved */
	size_t count;            /* bytes left in all */
	bool kernel;             /* kernel addresses, else the program's */
	struct iovec one;        /* the segment of a single buffer */
};
/* A uio over one buffer of the program (whose range the caller checked)
 * or of the kernel. */
void uio_init_user(struct uio *u, void __user *buf, size_t len);
void uio_init_kernel(struct uio *u, void *buf, size_t len);
/* Copies the program's iovec array in (into small when n <= UIO_SMALL, else
 * into *iov, allocated, which the caller frees with uio_free_iovec) and
 * sets u over it, as Linux's import_iovec: -EINVAL for n > UIO_MAXIOV or a
 * negative length, -EFAULT for a segment outside the program, and the
 * total capped at MAX_RW_COUNT.  Returns the total or -errno. */
#define UIO_SMALL 8
long uio_import_iovec(struct uio *u, const struct iovec __user *uiov, unsigned long n,
		      struct iovec *small, struct iovec **iov);
void uio_free_iovec(struct iovec *iov, struct iovec *small);
/* Copies up to n bytes out of kernel memory into the uio (a read) or from
 * the uio into kernel memory (a write), advancing it.  Returns the bytes
 * moved, which is less than asked only when the uio ran out or the
 * program's memory faulted; -EFAULT when it faulted before any byte. */
long uio_copy_out(struct uio *u, const void *src, size_t n);
long uio_copy_in(struct uio *u, void *dst, size_t n);
/* Writes n zero bytes into the uio (reads of holes, /dev/zero). */
long uio_zero(struct uio *u, size_t n);
/* Shortens the uio to at most n bytes from here. */
static inline void uio_truncate(struct uio *u, size_t n)
{
	if (u->count > n)
		u->count = n;
}

#endif
