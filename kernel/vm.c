// SPDX-License-Identifier: MIT
/*
 * The program's address space: a sorted list of VMAs (what may be mapped,
 * with what protection) and the demand pager that fills them.  Nothing is
 * allocated when an area is recorded; a page arrives zeroed on first touch,
 * so a gigabyte of PROT_NONE reservation costs one list node.  Policy (where
 * mmap puts things, brk) lives in syscalls/mm.c; page-table edits live in
 * arch/x86_64/paging.c.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"

/* Linux without randomisation puts the mmap base 128 MiB below the stack. */
#define MMAP_BASE (USER_TOP - (128UL << 20))

static struct vma *vmas;
static uint64_t resident;

static uint64_t pte_flags(int prot)
{
	uint64_t f = PTE_P;

	if (prot & PROT_WRITE)
		f |= PTE_W;
	if (!(prot & PROT_EXEC))
		f |= PTE_NX;
	return f;
}

struct vma *vm_find(uint64_t addr)
{
	for (struct vma *v = vmas; v && v->start <= addr; v = v->next)
		if (addr < v->end)
			return v;
	return NULL;
}

struct vma *vm_first_after(uint64_t addr)
{
	struct vma *v = vmas;

	while (v && v->end <= addr)
		v = v->next;
	return v;
}

long vm_fault(uint64_t addr, uint64_t err)
{
	struct vma *v = vm_find(addr);

	if (!v || v->prot == PROT_NONE || (err & 1)) /* present: a protection fault */
		return -EFAULT;
	uint64_t *pte = paging_pte(addr, false);
	if (pte && (*pte & PTE_HELD))
		return -EFAULT;
	if ((err & 2) && !(v->prot & PROT_WRITE))
		return -EFAULT;
	if ((err & 16) && !(v->prot & PROT_EXEC))
		return -EFAULT;
	uint64_t pa = page_alloc();
	if (!pa)
		return -EFAULT; /* out of memory: the program gets SIGSEGV, as on Linux without swap it gets killed */
	if (paging_map(PAGE_DOWN(addr), pa, pte_flags(v->prot)) < 0) {
		page_free(pa);
		return -EFAULT;
	}
	resident++;
	return 0;
}

void *vm_populate(uint64_t va)
{
	uint64_t *pte = paging_pte(va, false);

	if (pte && (*pte & PTE_P))
		return phys_to_virt(*pte & PTE_ADDR);
	struct vma *v = vm_find(va);
	uint64_t pa = page_alloc();
	if (!v || !pa || paging_map(va, pa, pte_flags(v->prot)) < 0) {
		if (pa)
			page_free(pa);
		return NULL;
	}
	resident++;
	return phys_to_virt(pa);
}

static void free_pte(uint64_t va, uint64_t *pte, void *arg)
{
	(void)arg;
	page_free(*pte & PTE_ADDR);
	*pte = 0;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	resident--;
}

void vm_discard(uint64_t start, uint64_t len)
{
	paging_for_each(start, start + len, free_pte, NULL);
}

/* Splits the VMA holding addr so that one starts exactly at addr. */
static long split_at(uint64_t addr)
{
	struct vma *v = vm_find(addr);

	if (!v || v->start == addr)
		return 0;
	struct vma *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *v;
	n->start = addr;
	v->end = addr;
	v->next = n;
	return 0;
}

long vm_unmap(uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	long r = split_at(start);

	if (r == 0)
		r = split_at(end);
	if (r < 0)
		return r;
	vm_discard(start, len);
	for (struct vma **pp = &vmas; *pp;) {
		struct vma *v = *pp;
		if (v->start >= start && v->end <= end) {
			*pp = v->next;
			kfree(v);
		} else {
			pp = &v->next;
		}
	}
	return 0;
}

/* Joins v with its successor when they touch and agree, so that one
 * mapping grown in pieces (brk, mremap) stays one VMA, as on Linux. */
static void merge_next(struct vma *v)
{
	struct vma *n = v ? v->next : NULL;

	if (n && v->end == n->start && v->prot == n->prot && v->flags == n->flags) {
		v->end = n->end;
		v->next = n->next;
		kfree(n);
	}
}

long vm_map(uint64_t start, uint64_t len, int prot, int flags)
{
	struct vma *n = kmalloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	long r = vm_unmap(start, len);
	if (r < 0) {
		kfree(n);
		return r;
	}
	*n = (struct vma){ start, start + len, prot, flags, NULL };
	struct vma **pp = &vmas, *prev = NULL;
	while (*pp && (*pp)->start < start) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	n->next = *pp;
	*pp = n;
	merge_next(n);
	merge_next(prev);
	return 0;
}

struct reprotect {
	uint64_t flags;
};

static void set_prot(uint64_t va, uint64_t *pte, void *arg)
{
	struct reprotect *p = arg;

	*pte = (*pte & PTE_ADDR) | p->flags;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

long vm_protect(uint64_t start, uint64_t len, int prot)
{
	uint64_t end = start + len;

	for (uint64_t a = start; a < end;) {
		struct vma *v = vm_find(a);
		if (!v)
			return -ENOMEM;
		a = v->end;
	}
	long r = split_at(start);
	if (r == 0)
		r = split_at(end);
	if (r < 0)
		return r;
	for (struct vma *v = vm_first_after(start); v && v->start < end; v = v->next)
		v->prot = prot;
	/* Under PROT_NONE a page is not present but stays the program's. */
	struct reprotect p = { prot == PROT_NONE ? PTE_HELD : pte_flags(prot) };
	paging_for_each(start, end, set_prot, &p);
	return 0;
}

uint64_t vm_find_free(uint64_t len)
{
	uint64_t top = MMAP_BASE;

	/* Walk the list from the highest VMA below top downwards. */
	for (;;) {
		uint64_t lo = top - len;
		if (len > top || lo < USER_MIN)
			return 0;
		struct vma *clash = NULL;
		for (struct vma *v = vmas; v && v->start < top; v = v->next)
			if (v->end > lo)
				clash = v; /* the highest clash wins: keep the last */
		if (!clash)
			return lo;
		top = clash->start;
	}
}

struct move {
	uint64_t delta;
	long err;
};

static void move_pte(uint64_t va, uint64_t *pte, void *arg)
{
	struct move *m = arg;
	uint64_t e = *pte;

	*pte = 0;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	if (paging_map(va + m->delta, e & PTE_ADDR, e & ~PTE_ADDR) < 0) {
		page_free(e & PTE_ADDR);
		resident--;
		m->err = -ENOMEM;
	}
}

long vm_move(uint64_t from, uint64_t to, uint64_t len)
{
	struct vma *v = vm_find(from);

	if (!v)
		return -EFAULT;
	long r = vm_map(to, len, v->prot, v->flags);
	if (r < 0)
		return r;
	struct move m = { to - from, 0 };
	paging_for_each(from, from + len, move_pte, &m);
	r = vm_unmap(from, len);
	return m.err ? m.err : r;
}

uint64_t vm_mmap_base(void)
{
	return MMAP_BASE;
}

uint64_t vm_resident_pages(void)
{
	return resident;
}

void vm_log_maps(void)
{
	for (struct vma *v = vmas; v; v = v->next)
		klog("  %012lx-%012lx %c%c%c%s", v->start, v->end,
		     v->prot & PROT_READ ? 'r' : '-', v->prot & PROT_WRITE ? 'w' : '-',
		     v->prot & PROT_EXEC ? 'x' : '-',
		     v->flags & VMA_STACK ? " [stack]" : v->flags & VMA_HEAP ? " [heap]" : "");
}
