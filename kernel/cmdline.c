// SPDX-License-Identifier: MIT
/*
 * The kernel command line the VMM passed (docs/protocol.md: verbose,
 * realtime=NS, strace, selftest…): kept once at boot, before the boot
 * information can be overwritten, and looked up by key by whichever layer
 * has a knob.  It is its own file so that time.c and syscalls/ need not
 * depend on the boot sequence (main.c).
 */
#include "kernel/kernel.h"

static char cmdline[1024];

void cmdline_init(const char *line)
{
	size_t n = strnlen(line, sizeof(cmdline) - 1);

	memcpy(cmdline, line, n);
	cmdline[n] = 0;
}

const char *cmdline_get(const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ' ');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = MIN((size_t)(end - p - klen - 1), size - 1);
			memcpy(buf, p + klen + 1, n);
			buf[n] = 0;
			return buf;
		}
		p = end;
	}
	return NULL;
}
