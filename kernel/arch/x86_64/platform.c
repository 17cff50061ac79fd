// SPDX-License-Identifier: MIT
/*
 * QEMU's two ISA debug devices, at the ports kernel/platform.h names: the
 * debugcon port, which carries the kernel log and its @@ records, and
 * isa-debug-exit, which stops the VM with a status.  What is written and
 * when is kernel/console.c's and kernel/exit.c's business; this file only
 * knows how the bytes reach the VMM.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

void platform_log_write(const char *s, size_t len)
{
	outsb(PORT_DEBUGCON, s, len);
}

/* If no debug-exit device answers, we halt with interrupts off so that
 * the host's --timeout still ends the run. */
noreturn void platform_exit(int status)
{
	irq_disable();
	outl(PORT_EXIT, (uint32_t)status);
	for (;;)
		__asm__ volatile("hlt");
}
