// SPDX-License-Identifier: MIT
/*
 * The I/O APICs, which carry the interrupt lines of microvm's virtio-mmio
 * devices (and any other pin-based device) to the local APIC.  Only what a
 * driver needs: route one GSI to a vector, level or edge.  kernel/platform.h
 * names where the I/O APICs are (microvm has a second one for GSIs 24-47);
 * one that does not answer is reported, never guessed at.  MSI-capable
 * devices (virtio-pci) bypass this file (intr.c's intr_msi_message).
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_REDTBL 0x10
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)
#define PINS_PER_IOAPIC 24

static const uint64_t ioapic_phys[] = { IOAPIC0_PHYS, IOAPIC1_PHYS };
static volatile uint32_t *ioapic[ARRAY_SIZE(ioapic_phys)];
static struct spinlock ioapic_lock = SPINLOCK_INIT("ioapic");

static uint32_t ioapic_read(volatile uint32_t *base, uint32_t reg)
{
	base[IOAPIC_REGSEL / 4] = reg;
	return base[IOAPIC_WIN / 4];
}

static void ioapic_write(volatile uint32_t *base, uint32_t reg, uint32_t v)
{
	base[IOAPIC_REGSEL / 4] = reg;
	base[IOAPIC_WIN / 4] = v;
}

long ioapic_route(unsigned gsi, int vector, bool level)
{
	unsigned n = gsi / PINS_PER_IOAPIC, pin = gsi % PINS_PER_IOAPIC;

	if (n >= ARRAY_SIZE(ioapic_phys))
		return -EINVAL;
	if (!ioapic[n])
		ioapic[n] = paging_map_mmio(ioapic_phys[n], PAGE_SIZE);
	uint32_t ver = ioapic_read(ioapic[n], IOAPIC_VER);
	/* Bits 16-23: the highest redirection entry; all ones: nothing there. */
	if (ver == 0xffffffff || pin > ((ver >> 16) & 0xff))
		return -ENODEV;
	/* Active high, fixed delivery to the boot CPU (physical mode). */
	uint32_t lo = (uint32_t)vector | (level ? RTE_LEVEL : 0);
	unsigned long flags = spin_lock_irqsave(&ioapic_lock);
	ioapic_write(ioapic[n], IOAPIC_REDTBL + 2 * pin, RTE_MASKED);
	ioapic_write(ioapic[n], IOAPIC_REDTBL + 2 * pin + 1, apic_id() << 24);
	ioapic_write(ioapic[n], IOAPIC_REDTBL + 2 * pin, lo);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}
