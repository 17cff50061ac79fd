// SPDX-License-Identifier: MIT
/*
 * The one set of 4-level page tables: the program's lower half, the direct
 * map of all RAM at DIRECT_MAP (2 MiB pages), and the kernel image at -2 GiB
 * with W^X per section (4 KiB pages).  Program pages are supervisor pages
 * (the program runs in ring 0), so SMEP/SMAP stay off and CR0.WP makes
 * read-only pages read-only for everyone.  kernel/vm.c decides what the
 * lower half holds; this file only edits entries.
 */
#include "kernel/abi.h"
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"

extern char __kernel_start[], __kernel_end[];

static uint64_t *pml4;

static uint64_t *table_at(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR);
}

/* The entry for va at level (3 = PML4 … 0 = PT), creating tables on the way. */
static uint64_t *walk(uint64_t va, int level, bool create)
{
	uint64_t *t = pml4;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &t[(va >> (12 + 9 * l)) & 511];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			uint64_t pa = page_alloc();
			if (!pa)
				return NULL;
			*e = pa | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		t = table_at(*e);
	}
	return &t[(va >> (12 + 9 * level)) & 511];
}

uint64_t *paging_pte(uint64_t va, bool create)
{
	return walk(va, 0, create);
}

long paging_map(uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *e = walk(va, 0, true);

	if (!e)
		return -ENOMEM;
	*e = pa | flags;
	invlpg(va);
	return 0;
}

void paging_flush_page(uint64_t va)
{
	invlpg(va);
}

void *paging_map_mmio(uint64_t pa, size_t len)
{
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t va = DIRECT_MAP + pa + off;
		uint64_t *big = walk(va, 1, false);
		if (big && (*big & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
			continue; /* RAM's 2 MiB pages: firmware tables beside RAM */
		uint64_t *e = walk(va, 0, true);
		if (!e)
			panic("cannot map device memory at %lx", pa);
		*e = (pa + off) | PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX;
		invlpg(va);
	}
	return phys_to_virt(pa);
}

static void map_kernel_image(void)
{
	extern char __text_end[], __rodata_end[];
	uint64_t text_end = PAGE_UP((uint64_t)__text_end);
	uint64_t ro_end = PAGE_UP((uint64_t)__rodata_end);

	for (uint64_t va = (uint64_t)__kernel_start; va < (uint64_t)__kernel_end; va += PAGE_SIZE) {
		uint64_t flags = PTE_P | PTE_G;
		if (va >= text_end)
			flags |= PTE_NX;
		if (va >= ro_end)
			flags |= PTE_W;
		uint64_t *e = walk(va, 0, true);
		if (!e)
			panic("out of memory mapping the kernel");
		*e = (va - KERNEL_VMA) | flags;
	}
}

static void map_direct(void)
{
	for (uint64_t pa = 0; pa < mem_top(); pa += 1UL << 21) {
		uint64_t *e = walk(DIRECT_MAP + pa, 1, true);
		if (!e)
			panic("out of memory building the direct map");
		*e = pa | PTE_P | PTE_W | PTE_PS | PTE_G | PTE_NX;
	}
}

void paging_init(void)
{
	uint64_t pa = page_alloc();

	if (!pa)
		panic("no memory for page tables");
	pml4 = phys_to_virt(pa);
	map_direct();
	map_kernel_image();
	write_cr4(read_cr4() | (1 << 7)); /* PGE */
	write_cr3(pa);
}

/* 512 GiB in 1 GiB pages where the CPU has them, else the low 4 GiB in
 * 2 MiB pages (where firmware keeps its runtime code on PCs). */
uint64_t paging_identity_root(void)
{
	uint32_t r[4];
	uint64_t root = page_alloc(), pdpt = page_alloc();

	if (!root || !pdpt)
		return 0;
	cpuid(0x80000001, 0, r);
	bool gb_pages = r[3] & (1u << 26);
	uint64_t *t = phys_to_virt(root), *d = phys_to_virt(pdpt);
	for (int i = 0; i < 512; i++) {
		t[i] = i < 256 ? 0 : pml4[i];
		d[i] = gb_pages ? ((uint64_t)i << 30) | PTE_P | PTE_W | PTE_PS : 0;
	}
	for (int g = 0; !gb_pages && g < 4; g++) {
		uint64_t pd = page_alloc();
		if (!pd)
			return 0;
		uint64_t *e = phys_to_virt(pd);
		for (int i = 0; i < 512; i++)
			e[i] = ((uint64_t)g << 30) + ((uint64_t)i << 21) + (PTE_P | PTE_W | PTE_PS);
		d[g] = pd | PTE_P | PTE_W;
	}
	t[0] = pdpt | PTE_P | PTE_W;
	return root;
}

static void for_each_in(uint64_t *t, int level, uint64_t base, uint64_t start, uint64_t end,
			void (*fn)(uint64_t, uint64_t *, void *), void *arg)
{
	uint64_t span = 1UL << (12 + 9 * level);

	for (int i = 0; i < 512; i++) {
		uint64_t va = base + i * span;
		if (va + span <= start || va >= end)
			continue;
		if (level == 0 && (t[i] & (PTE_P | PTE_HELD)))
			fn(va, &t[i], arg);
		else if (level > 0 && (t[i] & PTE_P) && !(t[i] & PTE_PS))
			for_each_in(table_at(t[i]), level - 1, va, start, end, fn, arg);
	}
}

void paging_for_each(uint64_t start, uint64_t end, void (*fn)(uint64_t va, uint64_t *pte, void *arg),
		     void *arg)
{
	/* Only the lower half: the upper half is the kernel's. */
	for_each_in(pml4, 3, 0, start, MIN(end, USER_TOP), fn, arg);
}
