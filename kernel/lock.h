/* SPDX-License-Identifier: MIT */
/*
 * Locks, with the API an SMP kernel keeps: spinlocks that also disable
 * interrupts (for what interrupt handlers touch: the run queue, timers,
 * wait queues, futex buckets, the page and heap allocators, the fd table),
 * and sleeping mutexes (for long work: the address space, the file tree).
 * On one CPU with a kernel that is not preempted, a spinlock is interrupts
 * off plus a check that nobody takes it twice; an SMP build swaps in an
 * atomic exchange without touching the callers.
 */
#ifndef KERNEL_LOCK_H
#define KERNEL_LOCK_H

#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"

struct spinlock {
	volatile int locked;
	const char *name;
};
#define SPINLOCK_INIT(n) \
	{ \
		0, n \
	}

/* Takes the lock with interrupts disabled; returns the flags to restore. */
static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t flags = read_rflags();

	irq_disable();
	if (l->locked)
		panic("spinlock %s taken twice", l->name);
	l->locked = 1;
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
	l->locked = 0;
	if (flags & RFLAGS_IF)
		irq_enable();
}

struct mutex {
	struct thread *owner;
	struct waitq waiters;
	const char *name;
};
#define MUTEX_INIT(n) \
	{ \
		NULL, { NULL }, n \
	}

/* Sleeps (not interruptibly) until the mutex is free, then owns it. */
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);

#endif
