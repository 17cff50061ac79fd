/* SPDX-License-Identifier: MIT */
/*
 * Where the VM's devices are: the one place on the guest side that knows the
 * device mapping of docs/protocol.md, so another VMM only changes this file
 * (the host side's twin is tools/vmm.c).
 */
#ifndef KERNEL_PLATFORM_H
#define KERNEL_PLATFORM_H

#define PORT_STDOUT_UART 0x3f8 /* COM1: the program's stdout */
#define PORT_STDERR_UART 0x2f8 /* COM2: the program's stderr */
#define PORT_DEBUGCON 0xe9     /* kernel log and @@ records */
#define PORT_EXIT 0xf4         /* isa-debug-exit, iosize 4 */

#define LAPIC_PHYS 0xfee00000UL
#define IOAPIC0_PHYS 0xfec00000UL /* GSIs 0-23 */
#define IOAPIC1_PHYS 0xfec10000UL /* GSIs 24-47: microvm's second I/O APIC */
/* PCI configuration mechanism #1 (q35). */
#define PORT_PCI_ADDR 0xcf8
#define PORT_PCI_DATA 0xcfc

/* PIT and CMOS, used only to calibrate the TSC and read the wall clock. */
#define PORT_PIT_CH0 0x40
#define PORT_PIT_CMD 0x43
#define PORT_CMOS_IDX 0x70
#define PORT_CMOS_DAT 0x71

#endif
