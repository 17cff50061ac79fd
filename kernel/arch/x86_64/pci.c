// SPDX-License-Identifier: MIT
/*
 * PCI configuration space through the legacy ports (configuration
 * mechanism #1, kernel/platform.h), which q35 and every PC chipset answer.
 * Bus 0 only is enough for QEMU's q35, where -device without a bus puts a
 * device on the root bus; bridges are not walked.  Enumeration, BARs and
 * capabilities are the caller's (kernel/virtio/pci.c): this file only
 * moves 32-bit words through the ports, which is why it is here.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

static struct spinlock pci_lock = SPINLOCK_INIT("pci");

static uint32_t pci_addr(unsigned bdf, unsigned off)
{
	return 0x80000000u | (bdf << 8) | (off & 0xfc);
}

uint32_t pci_read32(unsigned bdf, unsigned off)
{
	unsigned long flags = spin_lock_irqsave(&pci_lock);
	outl(PORT_PCI_ADDR, pci_addr(bdf, off));
	uint32_t v = inl(PORT_PCI_DATA);
	spin_unlock_irqrestore(&pci_lock, flags);
	return v;
}

void pci_write32(unsigned bdf, unsigned off, uint32_t v)
{
	unsigned long flags = spin_lock_irqsave(&pci_lock);
	outl(PORT_PCI_ADDR, pci_addr(bdf, off));
	outl(PORT_PCI_DATA, v);
	spin_unlock_irqrestore(&pci_lock, flags);
}
