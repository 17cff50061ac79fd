// SPDX-License-Identifier: MIT
/*
 * The physical page allocator: one bit per 4 KiB page of the memory map,
 * set when the page is free.  Single pages come from a moving hint, so the
 * common case is a word scan; runs of pages (rare: big kernel objects) scan
 * for a long enough run.  Pages are zeroed when handed out and counted:
 * a page shared by a file and the mappings of it is freed by its last
 * user.  One CPU for now; the state is in one struct so a lock can wrap it.
 */
#include "kernel/kernel.h"
#include "kernel/lock.h"

static struct spinlock lock = SPINLOCK_INIT("pages");

static struct {
	uint64_t *bits;  /* 1 = free */
	uint16_t *refs;  /* users of each page in use */
	uint64_t npages; /* pages covered by bits: [0, npages) */
	uint64_t hint;   /* the lowest word that may have a free page */
	uint64_t total, nfree;
} pm;

static bool is_free(uint64_t pfn)
{
	return pm.bits[pfn / 64] >> (pfn % 64) & 1;
}
static void set_free(uint64_t pfn, bool f)
{
	if (f)
		pm.bits[pfn / 64] |= 1UL << (pfn % 64);
	else
		pm.bits[pfn / 64] &= ~(1UL << (pfn % 64));
}

static bool overlaps(uint64_t pa, const struct mem_range *used, int n)
{
	for (int i = 0; i < n; i++)
		if (pa + PAGE_SIZE > used[i].base && pa < used[i].base + used[i].len)
			return true;
	return false;
}

/*
 * ram lists usable RAM; used lists what must never be handed out (kernel
 * image, the image module, boot data).  The bitmap itself is carved from the
 * first RAM range that fits it below 1 GiB, where the boot page tables map.
 */
void mem_init(const struct mem_range *ram, int n, const struct mem_range *used, int nused)
{
	uint64_t top = 0;
	for (int i = 0; i < n; i++)
		top = MAX(top, ram[i].base + ram[i].len);
	pm.npages = top / PAGE_SIZE;
	uint64_t bitmap = (pm.npages + 63) / 64 * 8;
	uint64_t bytes = PAGE_UP(bitmap + pm.npages * sizeof(uint16_t));

	struct mem_range all[16];
	int nall = 0;
	for (int i = 0; i < nused && nall < 15; i++)
		all[nall++] = used[i];
	for (int i = 0; i < n && !pm.bits; i++) {
		uint64_t b = PAGE_UP(MAX(ram[i].base, 0x100000UL));
		for (; b + bytes <= ram[i].base + ram[i].len && b + bytes <= (1UL << 30);
		     b += PAGE_SIZE) {
			struct mem_range r = { b, bytes };
			bool clash = false;
			for (int j = 0; j < nall; j++)
				clash |= b < all[j].base + all[j].len && all[j].base < b + bytes;
			if (!clash) {
				pm.bits = phys_to_virt(b);
				all[nall++] = r;
				break;
			}
		}
	}
	if (!pm.bits)
		panic("no room for the page bitmap (%lu pages)", pm.npages);
	memset(pm.bits, 0, bytes);
	pm.refs = (uint16_t *)((char *)pm.bits + bitmap);
	for (int i = 0; i < n; i++) {
		uint64_t a = PAGE_UP(MAX(ram[i].base, 0x100000UL));
		for (; a + PAGE_SIZE <= ram[i].base + ram[i].len; a += PAGE_SIZE) {
			if (overlaps(a, all, nall))
				continue;
			set_free(a / PAGE_SIZE, true);
			pm.total++;
		}
	}
	pm.nfree = pm.total;
}

static uint64_t take_one(void)
{
	for (uint64_t w = pm.hint; w < (pm.npages + 63) / 64; w++) {
		if (!pm.bits[w])
			continue;
		uint64_t pfn = w * 64 + __builtin_ctzl(pm.bits[w]);
		set_free(pfn, false);
		pm.refs[pfn] = 1;
		pm.hint = w;
		pm.nfree--;
		return pfn * PAGE_SIZE;
	}
	return 0;
}

uint64_t page_alloc(void)
{
	uint64_t f = spin_lock_irqsave(&lock), pa = take_one();

	spin_unlock_irqrestore(&lock, f);
	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

static uint64_t take_run(size_t n)
{
	uint64_t run = 0;
	for (uint64_t pfn = pm.hint * 64; pfn < pm.npages; pfn++) {
		run = is_free(pfn) ? run + 1 : 0;
		if (run < n)
			continue;
		uint64_t first = pfn + 1 - n;
		for (uint64_t p = first; p <= pfn; p++) {
			set_free(p, false);
			pm.refs[p] = 1;
		}
		pm.nfree -= n;
		return first * PAGE_SIZE;
	}
	return 0;
}

uint64_t pages_alloc(size_t n)
{
	if (n == 1)
		return page_alloc();
	uint64_t f = spin_lock_irqsave(&lock), pa = take_run(n);

	spin_unlock_irqrestore(&lock, f);
	if (pa)
		memset(phys_to_virt(pa), 0, n * PAGE_SIZE);
	return pa;
}

void page_get(uint64_t pa)
{
	uint64_t pfn = pa / PAGE_SIZE;

	uint64_t f = spin_lock_irqsave(&lock);
	BUG_ON(pfn >= pm.npages || is_free(pfn) || pm.refs[pfn] == 0xffff);
	pm.refs[pfn]++;
	spin_unlock_irqrestore(&lock, f);
}

void page_free(uint64_t pa)
{
	uint64_t pfn = pa / PAGE_SIZE;

	uint64_t f = spin_lock_irqsave(&lock);
	BUG_ON(pfn >= pm.npages || is_free(pfn) || pm.refs[pfn] == 0);
	if (--pm.refs[pfn] == 0) {
		set_free(pfn, true);
		pm.nfree++;
		if (pfn / 64 < pm.hint)
			pm.hint = pfn / 64;
	}
	spin_unlock_irqrestore(&lock, f);
}

void pages_free(uint64_t pa, size_t n)
{
	for (size_t i = 0; i < n; i++)
		page_free(pa + i * PAGE_SIZE);
}

uint64_t mem_total_pages(void)
{
	return pm.total;
}
uint64_t mem_free_pages(void)
{
	return pm.nfree;
}
uint64_t mem_top(void)
{
	return pm.npages * PAGE_SIZE;
}
