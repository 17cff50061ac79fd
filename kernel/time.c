// SPDX-License-Identifier: MIT
/*
 * Time: the clock source (the TSC, the arch's tsc.c) is the clock, at the
 * rate the arch layer finds for it.  CLOCK_MONOTONIC counts from boot;
 * CLOCK_REALTIME starts from the host's clock passed on the command line
 * (realtime=NS, docs/protocol.md), or the RTC.  The timer interrupt belongs
 * to the scheduler (sched.c).
 */
#include "kernel/kernel.h"

static uint64_t tsc_hz, tsc_boot, mult; /* ns = (tsc - tsc_boot) * mult >> 32 */
static uint64_t realtime_at_boot;

void time_init(void)
{
	tsc_boot = clocksource_read();
	tsc_hz = clocksource_measure_hz();
	if (!tsc_hz) {
		tsc_hz = 2000000000UL;
		klog("warning: no way to measure the TSC; assuming 2 GHz");
	}
	mult = (NSEC_PER_SEC << 32) / tsc_hz;
	char buf[32];
	const char *rt = cmdline_get("realtime", buf, sizeof(buf));
	uint64_t v = 0;
	for (; rt && *rt >= '0' && *rt <= '9'; rt++)
		v = v * 10 + (*rt - '0');
	/* The host stamped the time when it started QEMU; the TSC has counted
	 * since the VM's reset, which is close to that moment. */
	realtime_at_boot = v ? v + tsc_boot * NSEC_PER_SEC / tsc_hz : rtc_read_ns();
	kdebug("tsc: %lu Hz", tsc_hz);
}

uint64_t time_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t clock_monotonic_ns(void)
{
	return (uint64_t)((unsigned __int128)(clocksource_read() - tsc_boot) * mult >> 32);
}

uint64_t clock_realtime_base(void)
{
	return realtime_at_boot;
}

uint64_t clock_realtime_ns(void)
{
	return realtime_at_boot + clock_monotonic_ns();
}

void clock_realtime_step(uint64_t ns)
{
	uint64_t now = clock_realtime_ns();

	/* Forward only: a program never sees the realtime clock go back.
	 * One aligned 64-bit store: the vDSO's readers see old or new. */
	if (ns > now) {
		realtime_at_boot += ns - now;
		kdebug("realtime: stepped %lu us forward to the host's clock", (ns - now) / 1000);
	}
}
