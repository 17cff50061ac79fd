// SPDX-License-Identifier: MIT
/*
 * The boot-time probe of `elfvm bench`: writes "hello\n" with one raw write
 * syscall as soon as it starts, then exits 0.  The host times the first
 * byte on the console and QEMU's exit; nothing else may come first, so this
 * avoids stdio and runs the same under elfvm, a Linux VM and the host.
 */
#include <unistd.h>

int main(void)
{
	static const char msg[] = "hello\n";

	return write(1, msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1;
}
