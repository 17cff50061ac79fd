// SPDX-License-Identifier: MIT
/*
 * The kernel command line the VMM passed (docs/protocol.md: verbose,
 * realtime=NS, strace, selftest…): kept once at boot, before the boot
 * information can be overwritten, and looked up by key by whichever layer
 * has a knob.  It is its own file so that time.c and syscalls/ need not
 * depend on the boot sequence (main.c).
 */
#include "kernel/kernel.h"

static char cmdline[2048];

void cmdline_init(const char *line)
{
	size_t n = strnlen(line, sizeof(cmdline) - 1);

	memcpy(cmdline, line, n);
	cmdline[n] = 0;
}

/* Calls fn(value, len, arg) for each key=value word, in order, until fn
 * returns false; returns how many words it was called for. */
int cmdline_each(const char *key, bool (*fn)(const char *value, size_t len, void *arg), void *arg)
{
	size_t klen = strlen(key);
	int n = 0;

	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ' ');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			n++;
			if (!fn(p + klen + 1, (size_t)(end - p - klen - 1), arg))
				break;
		}
		p = end;
	}
	return n;
}

struct first_value {
	char *buf;
	size_t size;
};

static bool copy_first(const char *value, size_t len, void *arg)
{
	struct first_value *f = arg;
	size_t n = MIN(len, f->size - 1);

	memcpy(f->buf, value, n);
	f->buf[n] = 0;
	return false;
}

const char *cmdline_get(const char *key, char *buf, size_t size)
{
	struct first_value f = { buf, size };

	return cmdline_each(key, copy_first, &f) ? buf : NULL;
}
