/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 side of kernel/arch.h's interrupt interface: the interrupt
 * flag (cli/sti, saved and restored through RFLAGS.IF), the atomic
 * enable-and-halt of an idle CPU, and the spin-wait hint.  Inline because
 * every lock and wait goes through them.
 */
#ifndef ARCH_X86_64_IRQ_H
#define ARCH_X86_64_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#define ARCH_IRQ_FLAG (1ul << 9) /* RFLAGS.IF */

static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}
static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}
static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}
/* Enables interrupts and halts atomically: a wake-up between the two is
 * never lost because sti takes effect only after hlt has begun. */
static inline void irq_enable_and_halt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}
/* Disables interrupts; returns what irq_restore needs to put them back. */
static inline unsigned long irq_save(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}
static inline void irq_restore(unsigned long flags)
{
	if (flags & ARCH_IRQ_FLAG)
		irq_enable();
}
static inline bool irq_enabled(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	return flags & ARCH_IRQ_FLAG;
}

#endif
