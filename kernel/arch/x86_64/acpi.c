// SPDX-License-Identifier: MIT
/*
 * The ACPI tables, read once at boot from the RSDP the boot information
 * names (the UEFI configuration table's, through the loader) or, on a PVH
 * boot without one, from the BIOS area where SeaBIOS leaves it.  Two things
 * are taken (ACPI 6.5 §5.2): the MADT's I/O APICs and CPUs, so the
 * interrupt routing uses the machine's own addresses, and the FADT's PM1
 * control blocks with the DSDT's \_S5 sleep type, so the kernel can power
 * the machine off where no debug-exit device ends the VM.  Every table is
 * checked (signature, length, checksum) before it is believed; a machine
 * without ACPI (microvm with acpi=off) simply has none of this.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"

struct acpi_sdt {
	char sig[4];
	uint32_t len;
	uint8_t rev, sum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

struct acpi_rsdp {
	char sig[8];
	uint8_t sum;
	char oem[6];
	uint8_t rev;
	uint32_t rsdt;
	uint32_t len;
	uint64_t xsdt;
	uint8_t xsum, reserved[3];
} __attribute__((packed));

/* FADT offsets (ACPI 6.5 table 5.9). */
#define FADT_DSDT 40
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_X_DSDT 140
#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_EN (1u << 13)
#define PM1_SLP_TYP_SHIFT 10

/* MADT entry types. */
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_X2APIC 9

static struct {
	bool present;
	uint16_t pm1a_cnt, pm1b_cnt, smi_cmd;
	uint8_t acpi_enable;
	int s5_a, s5_b; /* -1: no \_S5 */
	int cpus;
	int nioapic;
	struct acpi_ioapic ioapic[4];
} acpi = { .s5_a = -1, .s5_b = -1 };

/* ACPI tables lie in reserved or ACPI memory, which the direct map covers
 * only where it lies among RAM's pages. */
static const void *acpi_map(uint64_t pa, size_t len)
{
	paging_map_mmio(PAGE_DOWN(pa), PAGE_UP(pa + len) - PAGE_DOWN(pa));
	return phys_to_virt(pa);
}

static bool sum_ok(const void *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += ((const uint8_t *)p)[i];
	return s == 0;
}

/* The table at pa when it is whole and sound, else NULL. */
static const struct acpi_sdt *table_at(uint64_t pa)
{
	if (!pa)
		return NULL;
	const struct acpi_sdt *h = acpi_map(pa, sizeof(*h));
	if (h->len < sizeof(*h) || h->len > (1u << 20))
		return NULL;
	h = acpi_map(pa, h->len);
	return sum_ok(h, h->len) ? h : NULL;
}

/* SeaBIOS (a PVH boot through QEMU's option ROM) leaves the RSDP on a
 * 16-byte boundary in the BIOS area; the loader passes UEFI's. */
static uint64_t find_rsdp_bios(void)
{
	for (uint64_t pa = 0xe0000; pa < 0x100000; pa += 16) {
		const struct acpi_rsdp *r = phys_to_virt(pa);
		if (!memcmp(r->sig, "RSD PTR ", 8) && sum_ok(r, 20))
			return pa;
	}
	return 0;
}

/* \_S5's first two package elements in the DSDT's AML: NameOp "_S5_"
 * PackageOp PkgLength NumElements, then each a ByteConst (0x0a n), Zero,
 * One or a small integer. */
static void find_s5(const struct acpi_sdt *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->len;

	for (; p + 12 <= end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != 0x12 || (p[-1] != 0x08 && p[-1] != '\\'))
			continue;
		const uint8_t *q = p + 5;
		q += 1 + (*q >> 6); /* PkgLength: bits 7-6 count the bytes after */
		q++;                /* NumElements */
		int v[2];
		for (int i = 0; i < 2; i++) {
			if (q + 2 > end)
				return;
			if (*q == 0x0a) {
				v[i] = q[1];
				q += 2;
			} else if (*q <= 1) {
				v[i] = *q; /* ZeroOp, OneOp */
				q++;
			} else {
				return;
			}
		}
		acpi.s5_a = v[0];
		acpi.s5_b = v[1];
		return;
	}
}

static void read_fadt(const struct acpi_sdt *f)
{
	const uint8_t *b = (const uint8_t *)f;
	uint32_t u32;
	uint64_t dsdt = 0;

	if (f->len < FADT_PM1B_CNT + 4)
		return;
	memcpy(&u32, b + FADT_PM1A_CNT, 4);
	acpi.pm1a_cnt = (uint16_t)u32;
	memcpy(&u32, b + FADT_PM1B_CNT, 4);
	acpi.pm1b_cnt = (uint16_t)u32;
	memcpy(&u32, b + FADT_SMI_CMD, 4);
	acpi.smi_cmd = (uint16_t)u32;
	acpi.acpi_enable = b[FADT_ACPI_ENABLE];
	if (f->len >= FADT_X_DSDT + 8)
		memcpy(&dsdt, b + FADT_X_DSDT, 8);
	if (!dsdt) {
		memcpy(&u32, b + FADT_DSDT, 4);
		dsdt = u32;
	}
	const struct acpi_sdt *d = table_at(dsdt);
	if (d && !memcmp(d->sig, "DSDT", 4))
		find_s5(d);
}

static void read_madt(const struct acpi_sdt *m)
{
	const uint8_t *p = (const uint8_t *)m + sizeof(*m) + 8; /* local APIC address, flags */
	const uint8_t *end = (const uint8_t *)m + m->len;

	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if ((p[0] == MADT_LAPIC && p[1] >= 8 && (p[4] & 1)) ||
		    (p[0] == MADT_X2APIC && p[1] >= 16 && (p[8] & 1)))
			acpi.cpus++;
		if (p[0] == MADT_IOAPIC && p[1] >= 12 && acpi.nioapic < (int)ARRAY_SIZE(acpi.ioapic)) {
			struct acpi_ioapic *io = &acpi.ioapic[acpi.nioapic++];
			uint32_t addr, gsi;
			memcpy(&addr, p + 4, 4);
			memcpy(&gsi, p + 8, 4);
			io->phys = addr;
			io->gsi_base = gsi;
		}
	}
}

void acpi_init(uint64_t rsdp_pa)
{
	if (!rsdp_pa)
		rsdp_pa = find_rsdp_bios();
	if (!rsdp_pa)
		return;
	const struct acpi_rsdp *r = acpi_map(rsdp_pa, sizeof(*r));
	if (memcmp(r->sig, "RSD PTR ", 8) || !sum_ok(r, 20)) {
		klog("acpi: the RSDP at %lx is not valid; ACPI not used", rsdp_pa);
		return;
	}
	bool x = r->rev >= 2 && r->len >= sizeof(*r) && sum_ok(r, sizeof(*r)) && r->xsdt;
	const struct acpi_sdt *root = table_at(x ? r->xsdt : r->rsdt);
	if (!root || memcmp(root->sig, x ? "XSDT" : "RSDT", 4)) {
		klog("acpi: no valid %s; ACPI not used", x ? "XSDT" : "RSDT");
		return;
	}
	size_t esz = x ? 8 : 4, n = (root->len - sizeof(*root)) / esz;
	for (size_t i = 0; i < n; i++) {
		uint64_t pa = 0;
		memcpy(&pa, (const uint8_t *)root + sizeof(*root) + i * esz, esz);
		const struct acpi_sdt *t = table_at(pa);
		if (t && !memcmp(t->sig, "FACP", 4))
			read_fadt(t);
		else if (t && !memcmp(t->sig, "APIC", 4))
			read_madt(t);
	}
	acpi.present = true;
	kdebug("acpi: %d cpus, %d I/O APICs, PM1a control %x, \\_S5 %d", acpi.cpus, acpi.nioapic,
	       acpi.pm1a_cnt, acpi.s5_a);
}

int acpi_ioapics(const struct acpi_ioapic **out)
{
	*out = acpi.ioapic;
	return acpi.nioapic;
}

/* The S5 soft-off of ACPI 6.5 §16.1.7: SLP_TYPx from \_S5 with SLP_EN in
 * each PM1 control block, after switching to ACPI mode if the firmware
 * left the machine in legacy mode.  Returns only if the machine is still
 * on. */
void acpi_poweroff(void)
{
	if (!acpi.present || !acpi.pm1a_cnt || acpi.s5_a < 0)
		return;
	klog("powering off through ACPI (S5)");
	if (!(inw(acpi.pm1a_cnt) & PM1_SCI_EN) && acpi.smi_cmd && acpi.acpi_enable) {
		outb(acpi.smi_cmd, acpi.acpi_enable);
		for (int i = 0; i < 1000 && !(inw(acpi.pm1a_cnt) & PM1_SCI_EN); i++)
			cpu_relax();
	}
	outw(acpi.pm1a_cnt, (uint16_t)(acpi.s5_a << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	if (acpi.pm1b_cnt)
		outw(acpi.pm1b_cnt, (uint16_t)(acpi.s5_b << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	for (int i = 0; i < 1000000; i++)
		cpu_relax();
}
