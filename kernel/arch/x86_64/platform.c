// SPDX-License-Identifier: MIT
/*
 * QEMU's two ISA debug devices, at the ports kernel/platform.h names: the
 * debugcon port, which carries the kernel log and its @@ records, and
 * isa-debug-exit, which stops the VM with a status, and what ends the
 * machine where that device is missing (a plain QEMU, a cloud VM).  What
 * is written and when is kernel/console.c's and kernel/exit.c's business;
 * this file only knows how the bytes reach the VMM.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

void platform_log_write(const char *s, size_t len)
{
	outsb(PORT_DEBUGCON, s, len);
}

/* Under a hypervisor, isa-debug-exit stops the VM at once with the status
 * (the port is left alone on bare metal).  Still running means no such
 * device: the end is told on the console (COM1, after the program's
 * output), and the machine is powered off through UEFI's runtime service
 * after a UEFI boot, else ACPI's S5; if neither works we halt with
 * interrupts off, so that a VMM's timeout still ends the run. */
noreturn void platform_exit(int status, const char *why)
{
	uint32_t r[4];

	irq_disable();
	cpuid(1, 0, r);
	if (r[2] & (1u << 31))
		outl(PORT_EXIT, (uint32_t)status);
	uart_write(1, "elfvm: ", 7);
	uart_write(1, why, strlen(why));
	uart_write(1, "\n", 1);
	/* poweroff=acpi skips the firmware's service (and tests ACPI's). */
	char how[8];
	if (!cmdline_get("poweroff", how, sizeof(how)) || strcmp(how, "acpi"))
		efi_poweroff();
	acpi_poweroff();
	for (;;)
		__asm__ volatile("hlt");
}
