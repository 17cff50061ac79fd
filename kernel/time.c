// SPDX-License-Identifier: MIT
/*
 * Time: the TSC is the clock.  Its rate comes from the hypervisor's CPUID
 * leaf or CPUID 0x15 when offered, else it is measured against the PIT.
 * CLOCK_MONOTONIC counts from boot; CLOCK_REALTIME starts from the host's
 * clock passed on the command line (realtime=NS, docs/protocol.md), or the
 * CMOS RTC.  The timer interrupt belongs to the scheduler (sched.c).
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

#define NS 1000000000UL

static uint64_t tsc_hz, tsc_boot, mult; /* ns = (tsc - tsc_boot) * mult >> 32 */
static uint64_t realtime_at_boot;

static uint64_t tsc_from_cpuid(void)
{
	uint32_t r[4];

	cpuid(0x40000000, 0, r);
	if (r[0] >= 0x40000010 && r[0] < 0x40010000) {
		cpuid(0x40000010, 0, r);
		if (r[0])
			return (uint64_t)r[0] * 1000;
	}
	cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0];
	}
	return 0;
}

static uint16_t pit_read(void)
{
	outb(PORT_PIT_CMD, 0x00); /* latch channel 0 */
	uint8_t lo = inb(PORT_PIT_CH0);
	return lo | (uint16_t)inb(PORT_PIT_CH0) << 8;
}

/* Counts TSC cycles over 10 ms of the 1.193182 MHz PIT; 0 if none answers. */
static uint64_t tsc_from_pit(void)
{
	outb(PORT_PIT_CMD, 0x34); /* channel 0, lo/hi, mode 2 */
	outb(PORT_PIT_CH0, 0xff);
	outb(PORT_PIT_CH0, 0xff);
	uint16_t last = pit_read();
	uint64_t t0 = rdtsc(), ticks = 0;
	while (ticks < 11932) {
		uint16_t now = pit_read();
		ticks += (uint16_t)(last - now);
		last = now;
		if (ticks == 0 && rdtsc() - t0 > 2000000000UL)
			return 0;
	}
	return (rdtsc() - t0) * 1193182 / ticks;
}

static uint8_t cmos(uint8_t reg)
{
	outb(PORT_CMOS_IDX, reg);
	return inb(PORT_CMOS_DAT);
}

static uint64_t bcd(uint8_t v, bool is_bcd)
{
	return is_bcd ? (v >> 4) * 10 + (v & 15) : v;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static uint64_t rtc_now_ns(void)
{
	for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
		cpu_relax();
	bool b = !(cmos(0x0b) & 4);
	uint64_t s = bcd(cmos(0), b), mi = bcd(cmos(2), b), h = bcd(cmos(4) & 0x7f, b);
	uint64_t d = bcd(cmos(7), b), mo = bcd(cmos(8), b), y = bcd(cmos(9), b);
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	int64_t days = days_from_civil(2000 + y, mo, d);
	return ((uint64_t)days * 86400 + h * 3600 + mi * 60 + s) * NS;
}

void time_init(void)
{
	tsc_boot = rdtsc();
	tsc_hz = tsc_from_cpuid();
	if (!tsc_hz)
		tsc_hz = tsc_from_pit();
	if (!tsc_hz) {
		tsc_hz = 2000000000UL;
		klog("warning: no way to measure the TSC; assuming 2 GHz");
	}
	mult = (NS << 32) / tsc_hz;
	char buf[32];
	const char *rt = cmdline_get("realtime", buf, sizeof(buf));
	uint64_t v = 0;
	for (; rt && *rt >= '0' && *rt <= '9'; rt++)
		v = v * 10 + (*rt - '0');
	/* The host stamped the time when it started QEMU; the TSC has counted
	 * since the VM's reset, which is close to that moment. */
	realtime_at_boot = v ? v + tsc_boot * NS / tsc_hz : rtc_now_ns();
	kdebug("tsc: %lu Hz", tsc_hz);
}

uint64_t time_tsc_hz(void)
{
	return tsc_hz;
}
uint64_t clock_boot_tsc(void)
{
	return tsc_boot;
}

uint64_t clock_monotonic_ns(void)
{
	return (uint64_t)((unsigned __int128)(rdtsc() - tsc_boot) * mult >> 32);
}

uint64_t clock_realtime_base(void)
{
	return realtime_at_boot;
}

uint64_t clock_realtime_ns(void)
{
	return realtime_at_boot + clock_monotonic_ns();
}
