// SPDX-License-Identifier: MIT
/*
 * Device interrupt vectors: a driver asks for one (intr_alloc) with the
 * function to call when it fires, then routes its device to it through the
 * I/O APIC (ioapic.c) or an MSI/MSI-X message (intr_msi_message).  Vectors
 * 48-239 are handed out in order and never given back: the VM's devices
 * are found once at boot.  The exceptions (0-31), the timer (32) and the
 * spurious vector (255) are traps.c's.  Handlers run with interrupts off
 * on the IST stack of the interrupt, so they must be short and never
 * sleep: they take completed work off a ring and wake whoever waits.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

#define INTR_FIRST 48
#define INTR_LAST 239

static struct {
	void (*fn)(void *arg);
	void *arg;
} handlers[INTR_LAST + 1];
static int next_vector = INTR_FIRST;
static struct spinlock intr_lock = SPINLOCK_INIT("intr");

int intr_alloc(void (*fn)(void *arg), void *arg)
{
	unsigned long flags = spin_lock_irqsave(&intr_lock);
	int v = next_vector <= INTR_LAST ? next_vector++ : -ENOSPC;

	if (v > 0) {
		handlers[v].fn = fn;
		handlers[v].arg = arg;
	}
	spin_unlock_irqrestore(&intr_lock, flags);
	return v;
}

void intr_msi_message(int vector, uint64_t *addr, uint32_t *data)
{
	/* Fixed delivery, physical destination: the boot CPU's APIC id. */
	*addr = LAPIC_PHYS | ((uint64_t)apic_id() << 12);
	*data = (uint32_t)vector;
}

bool intr_dispatch(uint64_t vector)
{
	if (vector < INTR_FIRST || vector > INTR_LAST || !handlers[vector].fn)
		return false;
	handlers[vector].fn(handlers[vector].arg);
	/* After the handler: a level-triggered line the device has let go
	 * of by now must not fire again for the same event. */
	apic_eoi();
	return true;
}
