// SPDX-License-Identifier: MIT
/*
 * The program's stdout and stderr, and the kernel log.  The program's bytes
 * leave through the virtio console when the VM has one (kernel/virtio/
 * console.c: a ring per stream, console_flush waits until the host has
 * them), else on the serial lines (the arch's uart.c), where a write has
 * reached the VMM when it returns.  The log goes to the platform's log port
 * (the arch's platform.c); kernel/platform.h has the mapping.
 */
#include "kernel/kernel.h"
#include "kernel/virtio/virtio.h"

bool klog_verbose;

void console_init(void)
{
	uart_init();
}

/* The host may run a VM again that failed before its first output
 * (docs/protocol.md), so it must learn of that output first. */
static void first_output(size_t len)
{
	static bool wrote;

	if (!wrote && len) {
		wrote = true;
		klog("@@output");
	}
}

void console_write(int stream, const void *buf, size_t len)
{
	first_output(len);
	if (virtio_console_ready())
		virtio_console_write(stream, buf, len);
	else
		uart_write(stream, buf, len);
}

void console_flush(void)
{
	if (virtio_console_ready())
		virtio_console_flush();
}

void klog_raw(const char *s, size_t len)
{
	platform_log_write(s, len);
}

void klog(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	if (n == 0 || buf[n - 1] != '\n')
		buf[n++] = '\n';
	klog_raw(buf, n);
}

long console_write_uio(int stream, struct uio *u)
{
	char tmp[4096];
	size_t done = 0;

	if (virtio_console_ready()) {
		first_output(u->count);
		return virtio_console_write_uio(stream, u);
	}
	while (u->count) {
		long n = uio_copy_in(u, tmp, sizeof(tmp));
		if (n < 0)
			return done ? (long)done : n;
		console_write(stream, tmp, n);
		done += n;
		if ((size_t)n < sizeof(tmp) && u->count)
			break; /* a fault part-way: what was read is written */
	}
	return done;
}
