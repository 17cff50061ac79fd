// SPDX-License-Identifier: MIT
/*
 * The local APIC: enabled, its timer used in one-shot mode on vector 32.
 * Its tick rate is measured against the TSC once at boot (the VMM's APIC
 * bus frequency differs between QEMU versions and KVM).  Device interrupts
 * arrive through the I/O APIC (ioapic.c) or as MSI messages (intr.c); the
 * legacy 8259 PICs, which q35's firmware leaves with the PIT's line open,
 * are moved to vectors 240-255 and masked, and so is LINT0 through which
 * they would deliver: left at the firmware's base, an ExtINT already
 * pending from the PIT arrives on vector 8 and looks like a double fault.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"

#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define VEC_TIMER 32
#define LVT_MASKED (1u << 16)
#define PORT_PIC1_CMD 0x20
#define PORT_PIC1_DATA 0x21
#define PORT_PIC2_CMD 0xa0
#define PORT_PIC2_DATA 0xa1
#define PIC_VEC_BASE 0xf0 /* above intr.c's device vectors; 0xff is spurious */

static volatile uint32_t *lapic;
static uint64_t ticks_per_ms;

static void lapic_write(uint32_t reg, uint32_t v)
{
	lapic[reg / 4] = v;
}
static uint32_t lapic_read(uint32_t reg)
{
	return lapic[reg / 4];
}

/* Re-initialises both 8259s (which drops what they hold pending) with
 * their vectors at PIC_VEC_BASE, where a stray one is ignored like any
 * unclaimed vector, then masks every line.  Where there are none
 * (microvm's pic=off) the writes go nowhere. */
void pic_disable(void)
{
	outb(PORT_PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(PORT_PIC2_CMD, 0x11);
	outb(PORT_PIC1_DATA, PIC_VEC_BASE);     /* ICW2: vector base */
	outb(PORT_PIC2_DATA, PIC_VEC_BASE + 8); /* (0xff: the spurious vector) */
	outb(PORT_PIC1_DATA, 4);                /* ICW3: slave on line 2 */
	outb(PORT_PIC2_DATA, 2);
	outb(PORT_PIC1_DATA, 1); /* ICW4: 8086 mode */
	outb(PORT_PIC2_DATA, 1);
	outb(PORT_PIC1_DATA, 0xff);
	outb(PORT_PIC2_DATA, 0xff);
}

void apic_init(void)
{
	lapic = paging_map_mmio(LAPIC_PHYS, PAGE_SIZE);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_SVR, 0x100 | 0xff); /* enabled, spurious vector 255 */
	lapic_write(LAPIC_TIMER_DIV, 0x3);    /* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	uint64_t t0 = rdtsc(), wait = time_tsc_hz() / 500; /* 2 ms */
	while (rdtsc() - t0 < wait)
		cpu_relax();
	uint32_t elapsed = 0xffffffff - lapic_read(LAPIC_TIMER_CUR);
	uint64_t dt = rdtsc() - t0;
	lapic_write(LAPIC_TIMER_INIT, 0);
	ticks_per_ms = (uint64_t)elapsed * time_tsc_hz() / dt / 1000;
	if (!ticks_per_ms)
		panic("the local APIC timer does not count");
	lapic_write(LAPIC_LVT_TIMER, VEC_TIMER); /* one-shot, unmasked */
	kdebug("lapic timer: %lu ticks/ms", ticks_per_ms);
}

void apic_timer_oneshot(uint64_t ns)
{
	uint64_t t = ns * ticks_per_ms / 1000000;

	lapic_write(LAPIC_TIMER_INIT, (uint32_t)MAX(MIN(t, 0xffffffffUL), 1UL));
}

void apic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t apic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}
