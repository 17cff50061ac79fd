// SPDX-License-Identifier: MIT
/*
 * The end of the VM: each way out waits until the host has all of the
 * program's output (console_flush), writes its @@ record (docs/protocol.md)
 * to the log, after the syscall profile when one was asked for
 * (profile.c), and then hands the status to the platform's exit device
 * (isa-debug-exit, the arch's platform.c), which stops QEMU at once.
 */
#include "kernel/arch.h"
#include "kernel/kernel.h"

noreturn void vm_exit_status(int status)
{
	console_flush();
	profile_dump();
	char why[32];

	klog("@@exit %d", status & 0xff);
	snprintf(why, sizeof(why), "exit status %d", status & 0xff);
	platform_exit(status & 0xff, why);
}

noreturn void vm_exit_signal(int sig)
{
	console_flush();
	profile_dump();
	char why[32];

	klog("@@signal %d", sig);
	snprintf(why, sizeof(why), "killed by signal %d", sig);
	platform_exit(128 + sig, why);
}

noreturn void vm_exit_error(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_flush();
	profile_dump();
	klog("@@error %s", buf);
	platform_exit(125, buf);
}

noreturn void panic(const char *fmt, ...)
{
	static bool panicking;
	char buf[256];
	va_list ap;

	irq_disable();
	/* What the program wrote before still reaches the host, unless the
	 * panic came from the flush itself. */
	if (!panicking) {
		panicking = true;
		console_flush();
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	klog("kernel panic: %s", buf);
	klog("@@panic %s", buf);
	platform_exit(125, "kernel panic");
}
