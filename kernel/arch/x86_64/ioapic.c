// SPDX-License-Identifier: MIT
/*
 * The I/O APICs, which carry the interrupt lines of microvm's virtio-mmio
 * devices (and any other pin-based device) to the local APIC.  Only what a
 * driver needs: route one GSI to a vector, level or edge.  The MADT says
 * where the I/O APICs are when the machine has ACPI (acpi.c); otherwise
 * kernel/platform.h names them (microvm has a second one for GSIs 24-47).
 * One that does not answer is reported, never guessed at.  MSI-capable
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

static const struct acpi_ioapic fixed[] = { { IOAPIC0_PHYS, 0 }, { IOAPIC1_PHYS, 24 } };
static volatile uint32_t *ioapic[4];
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

/* The I/O APIC whose pins hold gsi (the one with the highest GSI base not
 * above it): the MADT's when ACPI lists them, else the fixed pair of
 * kernel/platform.h.  -1 when none has that pin. */
static int ioapic_for(unsigned gsi, unsigned *pin)
{
	const struct acpi_ioapic *list;
	int n = acpi_ioapics(&list), best = -1;

	if (!n) {
		list = fixed;
		n = ARRAY_SIZE(fixed);
	}
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(ioapic); i++)
		if (gsi >= list[i].gsi_base && (best < 0 || list[i].gsi_base > list[best].gsi_base))
			best = i;
	if (best < 0)
		return -1;
	if (!ioapic[best])
		ioapic[best] = paging_map_mmio(list[best].phys, PAGE_SIZE);
	uint32_t ver = ioapic_read(ioapic[best], IOAPIC_VER);
	/* Bits 16-23: the highest redirection entry; all ones: nothing there. */
	*pin = gsi - list[best].gsi_base;
	return ver != 0xffffffff && *pin <= ((ver >> 16) & 0xff) ? best : -1;
}

long ioapic_route(unsigned gsi, int vector, bool level)
{
	unsigned pin;
	int n = ioapic_for(gsi, &pin);

	if (n < 0)
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
