// SPDX-License-Identifier: MIT
/*
 * The two 16550 UARTs that carry the program's stdout (COM1) and stderr
 * (COM2); kernel/platform.h says which port is which.  The FIFO is enabled
 * so that one status read lets us push 16 bytes; under a VMM the "line" is
 * as fast as the host side reads it.  No interrupts, no buffering: the
 * console's policy (the @@output record, the kernel log) is kernel/console.c's.
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

static void uart_setup(uint16_t base)
{
	outb(base + UART_IER, 0);    /* no interrupts: we poll */
	outb(base + UART_LCR, 0x80); /* divisor latch: 115200 baud */
	outb(base + 0, 1);
	outb(base + 1, 0);
	outb(base + UART_LCR, 0x03); /* 8N1 */
	outb(base + UART_FCR, 0x07); /* FIFO on, cleared */
	outb(base + UART_MCR, 0x03);
}

void uart_init(void)
{
	uart_setup(PORT_STDOUT_UART);
	uart_setup(PORT_STDERR_UART);
}

void uart_write(int stream, const void *buf, size_t len)
{
	uint16_t base = stream == 2 ? PORT_STDERR_UART : PORT_STDOUT_UART;
	const uint8_t *p = buf;

	while (len) {
		while (!(inb(base + UART_LSR) & LSR_THRE))
			cpu_relax();
		size_t n = MIN(len, (size_t)UART_FIFO);
		outsb(base + UART_THR, p, n);
		p += n;
		len -= n;
	}
}
