/* SPDX-License-Identifier: MIT */
/*
 * Spinlocks, with the API an SMP kernel keeps.  A spinlock also disables
 * interrupts while it is held, so that what an interrupt handler touches
 * (the run queue, timers, wait queues, futex buckets, signal state, epoll
 * ready lists, the page and heap allocators, the fd table) can be changed
 * from anywhere.  On one CPU taking one is interrupts off plus a check that
 * nobody takes it twice; an SMP build swaps in an atomic exchange without
 * touching the callers.  Sleeping mutexes and wait queues build on this in
 * kernel.h; docs/threads.md lists every lock, what it protects and the
 * order in which they nest.
 */
#ifndef KERNEL_LOCK_H
#define KERNEL_LOCK_H

#include <stdint.h>

#include "kernel/arch.h"

struct spinlock {
	volatile int locked;
	const char *name; /* for the panic; NULL in a zeroed lock */
};
#define SPINLOCK_INIT(n) \
	{ \
		0, n \
	}

/* The panic for a lock taken twice or released when free; never returns. */
_Noreturn void spin_bug(const struct spinlock *l, const char *what);

/* Takes the lock; interrupts must already be disabled. */
static inline void spin_lock(struct spinlock *l)
{
	if (l->locked)
		spin_bug(l, "taken twice");
	l->locked = 1;
}

static inline void spin_unlock(struct spinlock *l)
{
	if (!l->locked)
		spin_bug(l, "released while free");
	l->locked = 0;
}

/* Takes the lock with interrupts disabled; returns the flags to restore. */
static inline unsigned long spin_lock_irqsave(struct spinlock *l)
{
	unsigned long flags = irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, unsigned long flags)
{
	spin_unlock(l);
	irq_restore(flags);
}

#endif
