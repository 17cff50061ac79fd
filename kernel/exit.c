// SPDX-License-Identifier: MIT
/*
 * The end of the VM: each way out writes its @@ record (docs/protocol.md)
 * to the log and then the status to isa-debug-exit, which stops QEMU at
 * once.  If no debug-exit device answers, we halt with interrupts off so
 * the host's --timeout still ends the run.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

static noreturn void vm_stop(int status)
{
	irq_disable();
	outl(PORT_EXIT, (uint32_t)status);
	for (;;)
		__asm__ volatile("hlt");
}

noreturn void vm_exit_status(int status)
{
	klog("@@exit %d", status & 0xff);
	vm_stop(status & 0xff);
}

noreturn void vm_exit_signal(int sig)
{
	klog("@@signal %d", sig);
	vm_stop(128 + sig);
}

noreturn void vm_exit_error(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	klog("@@error %s", buf);
	vm_stop(125);
}

noreturn void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	klog("kernel panic: %s", buf);
	klog("@@panic %s", buf);
	vm_stop(125);
}
