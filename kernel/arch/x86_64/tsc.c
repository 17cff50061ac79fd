// SPDX-License-Identifier: MIT
/*
 * The clock's hardware: the TSC as the clock source, its rate from the
 * hypervisor's CPUID leaf or CPUID 0x15 when offered, else measured against
 * the PIT, and the CMOS RTC for the wall clock when the host gave none.
 * What the kernel makes of them (CLOCK_MONOTONIC, CLOCK_REALTIME) is
 * kernel/time.c's.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

uint64_t clocksource_read(void)
{
	return rdtsc();
}

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

uint64_t clocksource_measure_hz(void)
{
	uint64_t hz = tsc_from_cpuid();

	return hz ? hz : tsc_from_pit();
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

uint64_t rtc_read_ns(void)
{
	for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); i++)
		cpu_relax();
	bool b = !(cmos(0x0b) & 4);
	uint64_t s = bcd(cmos(0), b), mi = bcd(cmos(2), b), h = bcd(cmos(4) & 0x7f, b);
	uint64_t d = bcd(cmos(7), b), mo = bcd(cmos(8), b), y = bcd(cmos(9), b);
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	int64_t days = days_from_civil(2000 + y, mo, d);
	return ((uint64_t)days * 86400 + h * 3600 + mi * 60 + s) * NSEC_PER_SEC;
}
