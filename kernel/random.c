// SPDX-License-Identifier: MIT
/*
 * Random bytes for AT_RANDOM and getrandom: the CPU's random number
 * generator when it has one (RDRAND, the arch's cpu.c; QEMU's TCG and KVM
 * both offer it with -cpu max).  Without it we fall back to xorshift128+
 * seeded from the clock source — not secure, and the boot log says so.
 */
#include "kernel/kernel.h"

static bool hw;
static uint64_t s0, s1;

static uint64_t next(void)
{
	uint64_t v;

	if (hw && cpu_random(&v))
		return v;
	uint64_t x = s0, y = s1;
	s0 = y;
	x ^= x << 23;
	s1 = x ^ y ^ (x >> 17) ^ (y >> 26);
	return s1 + y;
}

void random_init(void)
{
	hw = cpu_has_rdrand();
	s0 = clocksource_read() * 0x9e3779b97f4a7c15UL | 1;
	s1 = clocksource_read() ^ 0xda3e39cb94b95bdbUL;
	if (!hw)
		klog("warning: no RDRAND; random bytes come from a TSC-seeded generator");
}

void random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t v = next();
		size_t n = MIN(len, sizeof(v));
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
