// SPDX-License-Identifier: MIT
/*
 * Core dumps (`elfvm run --core FILE`, docs/debugging.md).  When the program
 * dies of a signal whose default action dumps core (signal(7)) and
 * RLIMIT_CORE is not 0, the dying thread writes an ELF core file the way
 * Linux's fs/binfmt_elf.c does, so that `gdb PROGRAM FILE` reads it:
 *
 *   ELF header (ET_CORE), one PT_NOTE, one PT_LOAD per mapping;
 *   notes: for the dying thread NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO,
 *   NT_AUXV, NT_FILE, NT_FPREGSET, NT_X86_XSTATE, then for every other
 *   thread NT_PRSTATUS, NT_FPREGSET, NT_X86_XSTATE;
 *   then, from the first page boundary, the contents of the mappings.
 *
 * Which mappings carry their bytes follows Linux's default coredump_filter
 * (0x33): anonymous memory and written private file mappings whole, the
 * first page of a file mapping that starts with an ELF header (for the
 * build id), nothing of other file mappings (gdb reads those from the
 * files NT_FILE names), nothing of MADV_DONTDUMP, PROT_NONE or [vvar].
 * The file streams out on the virtio console's elfvm.core port, cut at
 * RLIMIT_CORE bytes as Linux cuts it; the host keeps it once `@@core N`
 * says how long it is.  Other program threads never return to the program
 * while the dump runs (core_park), so the memory does not change under it.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "kernel/virtio/virtio.h"
#include "loader/elf64.h"
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

#define NT_PRSTATUS 1
#define NT_FPREGSET 2
#define NT_PRPSINFO 3
#define NT_AUXV 6
#define NT_X86_XSTATE 0x202
#define NT_SIGINFO 0x53494749
#define NT_FILE 0x46494c45
#define FXSAVE_SIZE 512
#define XSTATE_XCR0_OFFSET 464 /* the sw_usable bytes: XCR0 (asm/user.h) */
#define CHUNK (64 * 1024)
#define USER_CS 0x33 /* Linux's __USER_CS and __USER_DS, as gdb expects them */
#define USER_SS 0x2b

/* Linux's struct elf_prstatus and struct elf_prpsinfo on x86-64. */
struct prstatus {
	int32_t si_signo, si_code, si_errno;
	int16_t cursig;
	uint16_t pad0;
	uint64_t sigpend, sighold;
	int32_t pid, ppid, pgrp, sid;
	uint64_t utime[2], stime[2], cutime[2], cstime[2];
	uint64_t reg[27]; /* struct user_regs_struct */
	int32_t fpvalid, pad1;
};
_Static_assert(sizeof(struct prstatus) == 336, "struct elf_prstatus");
struct prpsinfo {
	char state, sname, zomb, nice;
	uint32_t pad0;
	uint64_t flag;
	uint32_t uid, gid;
	int32_t pid, ppid, pgrp, sid;
	char fname[16];
	char psargs[80];
};
_Static_assert(sizeof(struct prpsinfo) == 136, "struct elf_prpsinfo");

static struct thread *dumper; /* the thread writing a core, or NULL */
static struct waitq parked;   /* nothing wakes it */

static bool dumps_core(int sig)
{
	switch (sig) {
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGXCPU:
	case SIGXFSZ:
	case SIGSYS: return true;
	default: return false;
	}
}

void core_park(void)
{
	if (!dumper || dumper == current)
		return;
	irq_enable();
	wait_event_uninterruptible(&parked, false);
}

/* ---- the notes --------------------------------------------------------------- */

/* A growing buffer; with p NULL only the length is counted. */
struct notes {
	uint8_t *p;
	size_t len;
};

static void put(struct notes *n, const void *src, size_t len)
{
	if (n->p)
		memcpy(n->p + n->len, src, len);
	n->len += len;
}

static void pad4(struct notes *n)
{
	static const uint8_t zero[4];

	put(n, zero, (4 - n->len % 4) % 4);
}

static void note(struct notes *n, const char *name, uint32_t type, const void *desc, size_t len)
{
	uint32_t h[3] = { (uint32_t)strlen(name) + 1, (uint32_t)len, type };

	put(n, h, sizeof(h));
	put(n, name, h[0]);
	pad4(n);
	put(n, desc, len);
	pad4(n);
}

/* The program registers a thread left at the top of its kernel stack (the
 * dying thread's are r).  A sleeping thread is inside a syscall, whose
 * number orig_rax keeps; a runnable one may have been preempted. */
static void thread_regs(struct prstatus *ps, const struct thread *t, const struct regs *r, bool fault)
{
	uint64_t orig = !fault && t->state == THREAD_SLEEPING ? r->nr : (uint64_t)-1;
	const uint64_t v[27] = { r->r15,     r->r14,     r->r13, r->r12,  r->rbp,    r->rbx, r->r11,
				 r->r10,     r->r9,      r->r8,  r->rax,  r->rcx,    r->rdx, r->rsi,
				 r->rdi,     orig,       r->rip, USER_CS, r->rflags, r->rsp, USER_SS,
				 t->fs_base, t->gs_base, 0,      0,       0,         0 };
	memcpy(ps->reg, v, sizeof(v));
}

static void thread_notes(struct notes *n, struct thread *t, const struct regs *r, int sig, bool fault,
			 const void *extra, size_t extra_len, uint8_t *fpu)
{
	struct prstatus ps;
	uint32_t xs = cpu_xsave_size();

	memset(&ps, 0, sizeof(ps));
	ps.si_signo = sig;
	ps.cursig = (int16_t)sig;
	ps.sigpend = t->sigpending;
	ps.sighold = t->sigmask;
	ps.pid = t->tid;
	ps.pgrp = ps.sid = 1;
	ps.fpvalid = 1;
	thread_regs(&ps, t, r, fault);
	note(n, "CORE", NT_PRSTATUS, &ps, sizeof(ps));
	put(n, extra, extra_len); /* the dying thread's process-wide notes */
	if (t == current)
		cpu_fpu_save(fpu);
	else
		memcpy(fpu, t->fpu, xs);
	uint64_t xcr0 = cpu_xcr0();
	if (xs > FXSAVE_SIZE)
		memcpy(fpu + XSTATE_XCR0_OFFSET, &xcr0, sizeof(xcr0));
	note(n, "CORE", NT_FPREGSET, fpu, FXSAVE_SIZE);
	if (xs > FXSAVE_SIZE)
		note(n, "LINUX", NT_X86_XSTATE, fpu, xs);
}

/* NT_FILE: count, page size, then start, end, offset in pages per file
 * mapping, then their names.  The body is written in place, after the
 * 20 bytes of the note's header and name, so it needs no buffer. */
static void file_note(struct notes *n, char *name, size_t name_size)
{
	uint64_t count = 0, page = PAGE_SIZE;
	struct notes body = { n->p ? n->p + n->len + 20 : NULL, 0 }; /* after the header and "CORE\0" */
	size_t at = n->len;

	for (const struct vma *v = vm_first_after(0); v; v = v->next)
		count += v->backing != NULL;
	put(&body, &count, 8);
	put(&body, &page, 8);
	for (const struct vma *v = vm_first_after(0); v; v = v->next) {
		if (v->backing) {
			uint64_t w[3] = { v->start, v->end, v->pgoff };
			put(&body, w, sizeof(w));
		}
	}
	for (const struct vma *v = vm_first_after(0); v; v = v->next)
		if (v->backing) {
			const char *s = vm_name(v, name, name_size);
			put(&body, s, strlen(s) + 1);
		}
	uint32_t h[3] = { 5, (uint32_t)body.len, NT_FILE };
	put(n, h, sizeof(h));
	put(n, "CORE\0\0\0", 8);
	n->len = at + 20 + body.len;
	pad4(n);
}

static void process_notes(struct notes *n, int sig, const struct sig_info *k)
{
	struct proc_process pp;
	struct prpsinfo ps;
	uint8_t si[128];
	char comm[16], name[256];

	proc_get_process(&pp, comm);
	memset(&ps, 0, sizeof(ps));
	ps.sname = 'R';
	ps.pid = ps.pgrp = ps.sid = 1;
	memcpy(ps.fname, comm, sizeof(ps.fname));
	size_t a = MIN(pp.cmdline_len, sizeof(ps.psargs) - 1);
	memcpy(ps.psargs, pp.cmdline, a);
	for (size_t i = 0; i + 1 < a; i++)
		if (!ps.psargs[i])
			ps.psargs[i] = ' ';
	note(n, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
	signal_fill_info(sig, k, si);
	note(n, "CORE", NT_SIGINFO, si, sizeof(si));
	note(n, "CORE", NT_AUXV, pp.auxv, pp.auxv_len);
	file_note(n, name, sizeof(name));
}

/* Every note, into n (counting only when n->p is NULL). */
static void all_notes(struct notes *n, struct notes *proc, const struct regs *r, int sig, bool fault,
		      uint8_t *fpu)
{
	thread_notes(n, current, r, sig, fault, proc->p, proc->len, fpu);
	for (struct thread *t = sched_all_threads(); t; t = t->all_next) {
		if (t == current || t->kernel || t->state == THREAD_DEAD)
			continue;
		const struct regs *tr = (const struct regs *)(t->kstack + KSTACK_SIZE) - 1;
		thread_notes(n, t, tr, sig, false, NULL, 0, fpu);
	}
}

/* ---- the mappings ------------------------------------------------------------ */

/* A private file mapping the program wrote to holds pages of its own (a
 * copy on write maps a page without PTE_OBJ), as Linux's anon_vma says;
 * relocated data that RELRO made read-only afterwards is such a mapping. */
static bool written(const struct vma *v)
{
	if (v->flags & VMA_SHARED)
		return false;
	for (uint64_t va = v->start; va < v->end; va += PAGE_SIZE) {
		uint64_t *pte = paging_pte(va, false);
		if (pte && (*pte & PTE_P) && !(*pte & PTE_OBJ))
			return true;
	}
	return false;
}

/* How many bytes of v the core carries (coredump_filter 0x33). */
static uint64_t dump_size(const struct vma *v)
{
	if ((v->flags & (VMA_DONTDUMP | VMA_VVAR)) || !(v->prot & PROT_READ))
		return 0;
	if (!v->backing || written(v))
		return v->end - v->start;
	char magic[4];
	if (v->pgoff == 0 && copy_from_user(magic, (const void *)v->start, 4) == 0 &&
	    !memcmp(magic, "\177ELF", 4))
		return PAGE_SIZE;
	return 0;
}

/* The stream to the host, cut at the limit. */
struct core_out {
	uint8_t *buf; /* CHUNK bytes */
	size_t fill;
	uint64_t sent, limit;
	long err;
};

static void out_flush(struct core_out *o)
{
	size_t n = (size_t)MIN((uint64_t)o->fill, o->limit - MIN(o->sent, o->limit));

	if (n && !o->err) {
		long r = virtio_console_core_write(o->buf, n);
		o->err = r < 0 ? r : 0;
	}
	o->sent += n;
	o->fill = 0;
}

static void out_put(struct core_out *o, const void *p, size_t len)
{
	while (len) {
		size_t n = MIN(len, CHUNK - o->fill);
		if (p) {
			memcpy(o->buf + o->fill, p, n);
			p = (const uint8_t *)p + n;
		} else {
			memset(o->buf + o->fill, 0, n);
		}
		o->fill += n;
		len -= n;
		if (o->fill == CHUNK)
			out_flush(o);
	}
}

/* One page of the program's memory as it is now: the page mapped there, the
 * object's page where none is mapped yet, or zeros. */
static void out_page(struct core_out *o, const struct vma *v, uint64_t va)
{
	uint64_t *pte = paging_pte(va, false);

	if (pte && (*pte & PTE_P)) {
		out_put(o, phys_to_virt(*pte & PTE_ADDR), PAGE_SIZE);
		return;
	}
	uint64_t pa = v->backing ? v->backing->page(v->obj, v->pgoff + (va - v->start) / PAGE_SIZE) : 0;
	out_put(o, pa ? phys_to_virt(pa) : NULL, PAGE_SIZE);
	if (pa)
		page_free(pa); /* the reference page() took */
}

/* ---- the file ---------------------------------------------------------------- */

bool core_dump(const struct regs *r, int sig, const struct sig_info *k, bool fault)
{
	uint64_t limit = rlimit_cur(RLIMIT_CORE);

	if (!dumps_core(sig) || !limit || !virtio_console_core_ready())
		return false;
	dumper = current;
	uint32_t xs = cpu_xsave_size();
	uint8_t *fpu = kmalloc(xs + 64), *aligned = (uint8_t *)(((uint64_t)fpu + 63) & ~63UL);
	struct notes proc = { NULL, 0 }, all = { NULL, 0 };
	struct core_out o = { NULL, 0, 0, limit, 0 };
	int nphdr = 1;

	for (const struct vma *v = vm_first_after(0); v; v = v->next)
		nphdr++;
	process_notes(&proc, sig, k);
	proc.p = kmalloc(proc.len);
	all_notes(&all, &proc, r, sig, fault, aligned);
	all.p = kmalloc(all.len);
	o.buf = kmalloc(CHUNK);
	if (!fpu || !proc.p || !all.p || !o.buf || nphdr >= PN_XNUM) {
		klog("core: out of memory (or too many mappings); no core written");
		goto done;
	}
	proc.len = 0;
	process_notes(&proc, sig, k);
	all.len = 0;
	all_notes(&all, &proc, r, sig, fault, aligned);

	struct elf64_ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_CORE,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_phoff = sizeof(eh),
		.e_ehsize = sizeof(eh),
		.e_phentsize = sizeof(struct elf64_phdr),
		.e_phnum = (uint16_t)nphdr,
	};
	uint64_t notes_at = sizeof(eh) + nphdr * sizeof(struct elf64_phdr);
	uint64_t data_at = PAGE_UP(notes_at + all.len), at = data_at;
	out_put(&o, &eh, sizeof(eh));
	struct elf64_phdr ph = { PT_NOTE, 0, notes_at, 0, 0, all.len, 0, 4 };
	out_put(&o, &ph, sizeof(ph));
	for (const struct vma *v = vm_first_after(0); v; v = v->next) {
		uint64_t size = dump_size(v);
		ph = (struct elf64_phdr){
			PT_LOAD,
			(v->prot & PROT_READ ? PF_R : 0) | (v->prot & PROT_WRITE ? PF_W : 0) |
				(v->prot & PROT_EXEC ? PF_X : 0),
			at,
			v->start,
			0,
			size,
			v->end - v->start,
			PAGE_SIZE
		};
		out_put(&o, &ph, sizeof(ph));
		at += size;
	}
	out_put(&o, all.p, all.len);
	out_put(&o, NULL, data_at - notes_at - all.len);
	for (const struct vma *v = vm_first_after(0); v; v = v->next) {
		uint64_t size = dump_size(v);
		for (uint64_t va = v->start; va < v->start + size && o.sent + o.fill < limit;
		     va += PAGE_SIZE)
			out_page(&o, v, va);
	}
	out_flush(&o);
	if (o.err < 0)
		klog("core: the host did not take the core file (error %ld)", o.err);
	else
		klog("@@core %lu", MIN(o.sent, limit));
done:
	kfree(fpu);
	kfree(proc.p);
	kfree(all.p);
	kfree(o.buf);
	return o.err >= 0 && o.sent;
}
