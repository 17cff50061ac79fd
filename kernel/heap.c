// SPDX-License-Identifier: MIT
/*
 * kmalloc: power-of-two size classes from 32 bytes to 2 KiB, each a free
 * list refilled a page at a time; anything larger takes whole pages.  Every
 * block starts with a 16-byte header holding its class (or page count), so
 * kfree needs no size and the returned pointer stays 16-byte aligned.
 */
#include "kernel/kernel.h"
#include "kernel/lock.h"

#define MIN_SHIFT 5
#define MAX_SHIFT 11
#define HDR 16

struct free_block {
	struct free_block *next;
};

static struct free_block *classes[MAX_SHIFT + 1];
static struct spinlock lock = SPINLOCK_INIT("heap");

static int class_of(size_t total)
{
	int s = MIN_SHIFT;

	while ((1UL << s) < total)
		s++;
	return s;
}

static bool refill(int s)
{
	uint64_t pa = page_alloc();

	if (!pa)
		return false;
	char *p = phys_to_virt(pa);
	for (size_t off = 0; off + (1UL << s) <= PAGE_SIZE; off += 1UL << s) {
		struct free_block *b = (struct free_block *)(p + off);
		b->next = classes[s];
		classes[s] = b;
	}
	return true;
}

void *kmalloc(size_t size)
{
	if (size > (1UL << MAX_SHIFT) - HDR) {
		size_t n = PAGE_UP(size + HDR) / PAGE_SIZE;
		uint64_t pa = pages_alloc(n);
		if (!pa)
			return NULL;
		uint64_t *h = phys_to_virt(pa);
		h[0] = 0;
		h[1] = n;
		return (char *)h + HDR;
	}
	int s = class_of(size + HDR);
	uint64_t f = spin_lock_irqsave(&lock);
	if (!classes[s] && !refill(s)) {
		spin_unlock_irqrestore(&lock, f);
		return NULL;
	}
	struct free_block *b = classes[s];
	classes[s] = b->next;
	spin_unlock_irqrestore(&lock, f);
	uint64_t *h = (uint64_t *)b;
	h[0] = s;
	h[1] = 0;
	return (char *)h + HDR;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	if (!p)
		return;
	uint64_t *h = (uint64_t *)((char *)p - HDR);
	if (h[0] == 0) {
		pages_free(virt_to_phys(h), h[1]);
		return;
	}
	uint64_t s = h[0];
	BUG_ON(s < MIN_SHIFT || s > MAX_SHIFT);
	struct free_block *b = (struct free_block *)h; /* overwrites the header */
	uint64_t f = spin_lock_irqsave(&lock);
	b->next = classes[s];
	classes[s] = b;
	spin_unlock_irqrestore(&lock, f);
}
