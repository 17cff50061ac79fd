// SPDX-License-Identifier: MIT
/*
 * The program's address space: a sorted list of VMAs (what may be mapped,
 * with what protection, backed by what) and the demand pager that fills
 * them.  Nothing is allocated when an area is recorded; a page arrives on
 * first touch: zeroed for anonymous memory, the object's own page for a
 * shared mapping or a read of a private one, a private copy on the first
 * write (copy on write).  Policy (where mmap puts things, brk) lives in
 * syscalls/mm.c; page-table edits in the arch's paging.c; the objects
 * (files) in minifs, behind struct vm_backing.
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

static bool is_private_object(const struct vma *v)
{
	return v->backing && !(v->flags & VMA_SHARED);
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

static long map_new(uint64_t va, uint64_t pa, uint64_t flags)
{
	if (paging_map(va, pa, flags) < 0) {
		page_free(pa);
		return -EFAULT;
	}
	resident++;
	return 0;
}

/* A write to a present read-only page of a private object mapping. */
static long copy_on_write(struct vma *v, uint64_t va, uint64_t *pte)
{
	uint64_t old = *pte & PTE_ADDR, pa = page_alloc();

	if (!pa)
		return -EFAULT;
	memcpy(phys_to_virt(pa), phys_to_virt(old), PAGE_SIZE);
	*pte = pa | pte_flags(v->prot);
	paging_flush_page(va);
	page_free(old);
	return 0;
}

long vm_fault(uint64_t addr, uint64_t err)
{
	struct vma *v = vm_find(addr);
	uint64_t va = PAGE_DOWN(addr);
	bool write = err & 2;

	if (!v || v->prot == PROT_NONE)
		return -EFAULT;
	if ((write && !(v->prot & PROT_WRITE)) || ((err & 16) && !(v->prot & PROT_EXEC)))
		return -EFAULT;
	uint64_t *pte = paging_pte(va, false);
	if (pte && (*pte & PTE_HELD))
		return -EFAULT;
	if (err & 1) { /* present: only a private object page may be written */
		if (write && pte && (*pte & PTE_OBJ) && is_private_object(v))
			return copy_on_write(v, va, pte);
		return -EFAULT;
	}
	if (!v->backing) {
		uint64_t pa = page_alloc();
		return pa ? map_new(va, pa, pte_flags(v->prot)) : -EFAULT;
	}
	uint64_t pa = v->backing->page(v->obj, v->pgoff + (va - v->start) / PAGE_SIZE);
	if (!pa)
		return -EIO;
	if (v->flags & VMA_SHARED)
		return map_new(va, pa, pte_flags(v->prot) | PTE_OBJ);
	if (!write) /* share the object's page until the first write */
		return map_new(va, pa, (pte_flags(v->prot) & ~PTE_W) | PTE_OBJ);
	uint64_t copy = page_alloc();
	if (copy)
		memcpy(phys_to_virt(copy), phys_to_virt(pa), PAGE_SIZE);
	page_free(pa);
	return copy ? map_new(va, copy, pte_flags(v->prot)) : -EFAULT;
}

void *vm_populate(uint64_t va)
{
	uint64_t *pte = paging_pte(va, false);

	if (pte && (*pte & PTE_P) && !(*pte & PTE_OBJ))
		return phys_to_virt(*pte & PTE_ADDR);
	if (pte && (*pte & PTE_P))
		return NULL;
	struct vma *v = vm_find(va);
	uint64_t pa = page_alloc();
	if (!v || v->backing || !pa || map_new(va, pa, pte_flags(v->prot)) < 0) {
		if (pa && (!v || v->backing))
			page_free(pa);
		return NULL;
	}
	return phys_to_virt(pa);
}

static void free_pte(uint64_t va, uint64_t *pte, void *arg)
{
	(void)arg;
	page_free(*pte & PTE_ADDR);
	*pte = 0;
	paging_flush_page(va);
	resident--;
}

void vm_discard(uint64_t start, uint64_t len)
{
	paging_for_each(start, start + len, free_pte, NULL);
}

static struct vma *vma_copy(const struct vma *v)
{
	struct vma *n = kmalloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *v;
	if (n->backing)
		n->backing->get(n->obj);
	return n;
}

static void vma_free(struct vma *v)
{
	if (v->backing)
		v->backing->put(v->obj);
	kfree(v);
}

/* Splits the VMA holding addr so that one starts exactly at addr. */
static long split_at(uint64_t addr)
{
	struct vma *v = vm_find(addr);

	if (!v || v->start == addr)
		return 0;
	struct vma *n = vma_copy(v);
	if (!n)
		return -ENOMEM;
	n->start = addr;
	n->pgoff += (addr - v->start) / PAGE_SIZE;
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
			vma_free(v);
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

	if (!n || v->end != n->start || v->prot != n->prot || v->flags != n->flags ||
	    v->backing != n->backing || v->obj != n->obj ||
	    (v->backing && v->pgoff + (v->end - v->start) / PAGE_SIZE != n->pgoff))
		return;
	v->end = n->end;
	v->next = n->next;
	vma_free(n);
}

static long insert(const struct vma *tmpl)
{
	struct vma *n = vma_copy(tmpl);

	if (!n)
		return -ENOMEM;
	long r = vm_unmap(n->start, n->end - n->start);
	if (r < 0) {
		vma_free(n);
		return r;
	}
	struct vma **pp = &vmas, *prev = NULL;
	while (*pp && (*pp)->start < n->start) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	n->next = *pp;
	*pp = n;
	merge_next(n);
	merge_next(prev);
	return 0;
}

long vm_map(uint64_t start, uint64_t len, int prot, int flags)
{
	struct vma t = { .start = start, .end = start + len, .prot = prot, .flags = flags };

	return insert(&t);
}

long vm_map_object(uint64_t start, uint64_t len, int prot, int flags, const struct vm_backing *b,
		   void *obj, uint64_t pgoff)
{
	struct vma t = { .start = start,
			 .end = start + len,
			 .prot = prot,
			 .flags = flags,
			 .backing = b,
			 .obj = obj,
			 .pgoff = pgoff };

	return insert(&t);
}

/* A private object page is never made writable: the first write copies. */
static void set_prot(uint64_t va, uint64_t *pte, void *arg)
{
	const struct vma *v = arg;
	uint64_t f = v->prot == PROT_NONE ? PTE_HELD : pte_flags(v->prot);

	if ((*pte & PTE_OBJ) && is_private_object(v))
		f &= ~PTE_W;
	*pte = (*pte & (PTE_ADDR | PTE_OBJ)) | f;
	paging_flush_page(va);
}

/* Makes [start, end) whole VMAs, when all of it is mapped (-ENOMEM, as
 * Linux answers, when not); with prot_write, -EACCES for a shared mapping
 * of a file opened read-only. */
static long isolate(uint64_t start, uint64_t end, bool prot_write)
{
	for (uint64_t a = start; a < end;) {
		struct vma *v = vm_find(a);
		if (!v)
			return -ENOMEM;
		if (prot_write && (v->flags & VMA_SHARED) && v->backing && !(v->flags & VMA_MAYWRITE))
			return -EACCES; /* the file was opened read-only */
		a = v->end;
	}
	long r = split_at(start);
	return r ? r : split_at(end);
}

long vm_protect(uint64_t start, uint64_t len, int prot)
{
	uint64_t end = start + len;
	long r = isolate(start, end, prot & PROT_WRITE);

	if (r < 0)
		return r;
	/* Under PROT_NONE a page is not present but stays the program's. */
	for (struct vma *v = vm_first_after(start); v && v->start < end; v = v->next) {
		v->prot = prot;
		paging_for_each(v->start, v->end, set_prot, v);
	}
	return 0;
}

long vm_set_dump(uint64_t start, uint64_t len, bool dump)
{
	uint64_t end = start + len;
	long r = isolate(start, end, false);

	if (r < 0)
		return r;
	for (struct vma *v = vm_first_after(start); v && v->start < end; v = v->next)
		v->flags = dump ? v->flags & ~VMA_DONTDUMP : v->flags | VMA_DONTDUMP;
	return 0;
}

uint64_t vm_find_free(uint64_t len)
{
	uint64_t top = MMAP_BASE;

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
	paging_flush_page(va);
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
	struct vma t = *v;
	t.start = to;
	t.end = to + len;
	t.pgoff += (from - v->start) / PAGE_SIZE;
	long r = insert(&t);
	if (r < 0)
		return r;
	struct move m = { to - from, 0 };
	paging_for_each(from, from + len, move_pte, &m);
	r = vm_unmap(from, len);
	return m.err ? m.err : r;
}

uint64_t vm_resident_pages(void)
{
	return resident;
}

const char *vm_name(const struct vma *v, char *buf, size_t size)
{
	if (v->backing)
		return v->backing->name(v->obj, buf, size);
	if (v->flags & VMA_STACK)
		return "[stack]";
	if (v->flags & VMA_HEAP)
		return "[heap]";
	if (v->flags & VMA_VDSO)
		return "[vdso]";
	if (v->flags & VMA_VVAR)
		return "[vvar]";
	return "";
}

/* Linux's format: the name, when there is one, starts at column 74. */
size_t vm_format_maps(char *buf, size_t size)
{
	size_t len = 0;
	char name[256];

	for (struct vma *v = vmas; v; v = v->next) {
		const char *n = vm_name(v, name, sizeof(name));
		size_t at = MIN(len, size);
		int w = snprintf(buf + at, size - at, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
				 v->start, v->end, v->prot & PROT_READ ? 'r' : '-',
				 v->prot & PROT_WRITE ? 'w' : '-', v->prot & PROT_EXEC ? 'x' : '-',
				 v->flags & VMA_SHARED ? 's' : 'p', v->pgoff * PAGE_SIZE, 0,
				 v->backing ? 0x16 : 0, v->backing ? v->backing->ino(v->obj) : 0UL);
		len += w;
		at = MIN(len, size);
		if (*n)
			len += snprintf(buf + at, size - at, "%*s%s", w < 73 ? 73 - w : 0, "", n);
		at = MIN(len, size);
		len += snprintf(buf + at, size - at, "\n");
	}
	return len;
}

void vm_log_maps(void)
{
	char buf[2048];

	vm_format_maps(buf, sizeof(buf));
	klog_raw(buf, strnlen(buf, sizeof(buf)));
}
