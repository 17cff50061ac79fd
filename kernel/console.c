// SPDX-License-Identifier: MIT
/*
 * The program's stdout and stderr on two 16550 UARTs, and the kernel log on
 * the debugcon port (kernel/platform.h has the mapping).  The UART FIFO is
 * enabled so that one status read lets us push 16 bytes; under a VMM the
 * "line" is as fast as the host side reads it.  Nothing here buffers: a
 * write has reached the VMM when it returns.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define UART_FIFO 16

bool klog_verbose;

static void uart_init(uint16_t base)
{
	outb(base + UART_IER, 0);    /* no interrupts: we poll */
	outb(base + UART_LCR, 0x80); /* divisor latch: 115200 baud */
	outb(base + 0, 1);
	outb(base + 1, 0);
	outb(base + UART_LCR, 0x03); /* 8N1 */
	outb(base + UART_FCR, 0x07); /* FIFO on, cleared */
	outb(base + UART_MCR, 0x03);
}

void console_init(void)
{
	uart_init(PORT_STDOUT_UART);
	uart_init(PORT_STDERR_UART);
}

void console_write(int stream, const void *buf, size_t len)
{
	static bool wrote;
	uint16_t base = stream == 2 ? PORT_STDERR_UART : PORT_STDOUT_UART;
	const uint8_t *p = buf;

	/* The host may run a VM again that failed before its first output
	 * (docs/protocol.md), so it must learn of that output first. */
	if (!wrote && len) {
		wrote = true;
		klog("@@output");
	}

	while (len) {
		while (!(inb(base + UART_LSR) & LSR_THRE))
			cpu_relax();
		size_t n = MIN(len, (size_t)UART_FIFO);
		outsb(base + UART_THR, p, n);
		p += n;
		len -= n;
	}
}

void klog_raw(const char *s, size_t len)
{
	outsb(PORT_DEBUGCON, s, len);
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
