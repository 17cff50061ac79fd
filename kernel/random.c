// SPDX-License-Identifier: MIT
/*
 * Random bytes for AT_RANDOM and getrandom: RDSEED or RDRAND when the CPU
 * has them (QEMU's TCG and KVM both offer RDRAND with -cpu max).  Without
 * them we fall back to xorshift128+ seeded from the TSC — not secure, and
 * the boot log says so.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"

static bool hw;
static uint64_t s0, s1;

static bool rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) {
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

static uint64_t next(void)
{
	uint64_t v;

	if (hw && rdrand64(&v))
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
	s0 = rdtsc() * 0x9e3779b97f4a7c15UL | 1;
	s1 = rdtsc() ^ 0xda3e39cb94b95bdbUL;
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
