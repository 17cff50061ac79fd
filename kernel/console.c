// SPDX-License-Identifier: MIT
/*
 * The program's stdout and stderr, and the kernel log.  The program's bytes
 * leave on the serial lines (the arch's uart.c), the log on the platform's
 * log port (the arch's platform.c); kernel/platform.h has the mapping.
 * Nothing here buffers: a write has reached the VMM when it returns.
 */
#include "kernel/kernel.h"

bool klog_verbose;

void console_init(void)
{
	uart_init();
}

void console_write(int stream, const void *buf, size_t len)
{
	static bool wrote;

	/* The host may run a VM again that failed before its first output
	 * (docs/protocol.md), so it must learn of that output first. */
	if (!wrote && len) {
		wrote = true;
		klog("@@output");
	}
	uart_write(stream, buf, len);
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
