// SPDX-License-Identifier: MIT
/*
 * The text of /proc/cpuinfo, read from CPUID when the file is opened, in
 * Linux's x86 format (arch/x86/kernel/cpu/proc.c) and with its feature-flag
 * names, so that tools that grep it ("avx2", "model name") find what they
 * would on Linux.  One CPU.  minifs/proc.c serves the text; this file only
 * knows the hardware.
 */
#include <stdarg.h>

#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"


/* CPUID feature bits under Linux's names (arch/x86/include/asm/cpufeatures.h),
 * in its order; NULL for bits it does not show. */
enum { F_1D, F_X1D, F_SYN, F_1C, F_X1C, F_7B, F_D1A, F_71A, F_6A, F_7C, F_7D, F_REGS };
static const char *const flag_names[F_REGS][32] = {
	[F_1D] = { "fpu",  "vme",   "de",   "pse",     "tsc",  "msr", "pae",  "mce",
		   "cx8",  "apic",  NULL,   "sep",     "mtrr", "pge", "mca",  "cmov",
		   "pat",  "pse36", "pn",   "clflush", NULL,   "dts", "acpi", "mmx",
		   "fxsr", "sse",   "sse2", "ss",      "ht",   "tm",  "ia64", "pbe" },
	[F_X1D] = { [11] = "syscall",
		    [19] = "mp",
		    [20] = "nx",
		    [22] = "mmxext",
		    [25] = "fxsr_opt",
		    [26] = "pdpe1gb",
		    [27] = "rdtscp",
		    [29] = "lm",
		    [30] = "3dnowext",
		    [31] = "3dnow" },
	/* Linux's synthetic word 3: bit 8 of 0x80000007 EDX (invariant TSC)
	 * gives constant_tsc and nonstop_tsc; nopl and cpuid always hold. */
	[F_SYN] = { [0] = "constant_tsc", [1] = "nopl", [2] = "nonstop_tsc", [3] = "cpuid" },
	[F_1C] = { "pni",    "pclmulqdq", "dtes64", "monitor", "ds_cpl",
		   "vmx",    "smx",       "est",    "tm2",     "ssse3",
		   "cid",    "sdbg",      "fma",    "cx16",    "xtpr",
		   "pdcm",   NULL,        "pcid",   "dca",     "sse4_1",
		   "sse4_2", "x2apic",    "movbe",  "popcnt",  "tsc_deadline_timer",
		   "aes",    "xsave",     NULL,     "avx",     "f16c",
		   "rdrand", "hypervisor" },
	[F_X1C] = { "lahf_lm",    "cmp_legacy",  "svm",
		    "extapic",    "cr8_legacy",  "abm",
		    "sse4a",      "misalignsse", "3dnowprefetch",
		    "osvw",       "ibs",         "xop",
		    "skinit",     "wdt",         NULL,
		    "lwp",        "fma4",        "tce",
		    NULL,         "nodeid_msr",  NULL,
		    "tbm",        "topoext",     "perfctr_core",
		    "perfctr_nb", NULL,          "bpext",
		    "ptsc",       "perfctr_llc", "mwaitx" },
	[F_7B] = { "fsgsbase", "tsc_adjust", "sgx",      "bmi1",       "hle",      "avx2",
		   NULL,       "smep",       "bmi2",     "erms",       "invpcid",  "rtm",
		   "cqm",      NULL,         "mpx",      "rdt_a",      "avx512f",  "avx512dq",
		   "rdseed",   "adx",        "smap",     "avx512ifma", NULL,       "clflushopt",
		   "clwb",     "intel_pt",   "avx512pf", "avx512er",   "avx512cd", "sha_ni",
		   "avx512bw", "avx512vl" },
	[F_D1A] = { "xsaveopt", "xsavec", "xgetbv1", "xsaves" },
	[F_71A] = { [4] = "avx_vnni", [5] = "avx512_bf16" },
	[F_6A] = { [2] = "arat" },
	[F_7C] = { [1] = "avx512vbmi",
		   [2] = "umip",
		   [3] = "pku",
		   [4] = "ospke",
		   [5] = "waitpkg",
		   [6] = "avx512_vbmi2",
		   [8] = "gfni",
		   [9] = "vaes",
		   [10] = "vpclmulqdq",
		   [11] = "avx512_vnni",
		   [12] = "avx512_bitalg",
		   [14] = "avx512_vpopcntdq",
		   [16] = "la57",
		   [22] = "rdpid",
		   [25] = "cldemote",
		   [27] = "movdiri",
		   [28] = "movdir64b" },
	[F_7D] = { [2] = "avx512_4vnniw",
		   [3] = "avx512_4fmaps",
		   [4] = "fsrm",
		   [8] = "avx512_vp2intersect",
		   [10] = "md_clear",
		   [14] = "serialize",
		   [16] = "tsxldtrk",
		   [22] = "amx_bf16",
		   [23] = "avx512_fp16",
		   [24] = "amx_tile",
		   [25] = "amx_int8",
		   [28] = "flush_l1d",
		   [29] = "arch_capabilities" },
};

struct cpu {
	uint32_t max, xmax; /* highest basic and extended leaves */
	uint32_t sig, misc; /* leaf 1 EAX, EBX */
	uint32_t reg[F_REGS];
	char vendor[13], name[49];
};

static uint32_t leaf(const struct cpu *c, uint32_t l, uint32_t sub, int i)
{
	uint32_t r[4] = { 0, 0, 0, 0 };

	if (l <= (l & 0x80000000 ? c->xmax : c->max))
		cpuid(l, sub, r);
	return r[i];
}

static void cpu_read(struct cpu *c)
{
	uint32_t r[4];

	memset(c, 0, sizeof(*c));
	cpuid(0, 0, r);
	c->max = r[0];
	memcpy(c->vendor, &r[1], 4);
	memcpy(c->vendor + 4, &r[3], 4);
	memcpy(c->vendor + 8, &r[2], 4);
	cpuid(0x80000000, 0, r);
	c->xmax = r[0] & 0x80000000 ? r[0] : 0;
	c->sig = leaf(c, 1, 0, 0);
	c->misc = leaf(c, 1, 0, 1);
	c->reg[F_1D] = leaf(c, 1, 0, 3);
	c->reg[F_1C] = leaf(c, 1, 0, 2) & ~(1U << 27); /* osxsave: not shown */
	c->reg[F_X1D] = leaf(c, 0x80000001, 0, 3);
	c->reg[F_X1C] = leaf(c, 0x80000001, 0, 2);
	c->reg[F_7B] = leaf(c, 7, 0, 1);
	c->reg[F_7C] = leaf(c, 7, 0, 2);
	c->reg[F_7D] = leaf(c, 7, 0, 3);
	c->reg[F_71A] = leaf(c, 7, 1, 0);
	c->reg[F_D1A] = leaf(c, 0xd, 1, 0);
	c->reg[F_6A] = leaf(c, 6, 0, 0);
	c->reg[F_SYN] = (leaf(c, 0x80000007, 0, 3) & 1U << 8 ? 5 : 0) | 0xa;
	for (uint32_t i = 0; i < 3; i++) {
		for (int j = 0; j < 4; j++)
			r[j] = leaf(c, 0x80000002 + i, 0, j);
		memcpy(c->name + 16 * i, r, 16);
	}
}

/* The brand string without the padding some CPUs put around it. */
static const char *model_name(char *name)
{
	size_t n = strlen(name);

	while (n && name[n - 1] == ' ')
		name[--n] = 0;
	while (*name == ' ')
		name++;
	return *name ? name : "unknown";
}

static void show_flags(struct out *o, const struct cpu *c)
{
	out_fmt(o, "flags\t\t:");
	for (int r = 0; r < F_REGS; r++)
		for (int b = 0; b < 32; b++)
			if ((c->reg[r] >> b & 1) && flag_names[r][b])
				out_fmt(o, " %s", flag_names[r][b]);
	out_fmt(o, "\n");
}

size_t cpuinfo_format(char *buf, size_t size)
{
	struct out out = { buf, size, 0 }, *o = &out;
	struct cpu c;
	uint64_t hz = time_tsc_hz(), bogo = hz / 5000; /* 2 * MHz, in hundredths */

	cpu_read(&c);
	uint32_t family = c.sig >> 8 & 0xf, model = c.sig >> 4 & 0xf;
	if (family == 0xf)
		family += c.sig >> 20 & 0xff;
	if (family >= 6)
		model += (c.sig >> 16 & 0xf) << 4;
	uint32_t clflush = (c.misc >> 8 & 0xff) * 8, addr = leaf(&c, 0x80000008, 0, 0);
	out_fmt(o, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n", c.vendor,
		family, model);
	out_fmt(o, "model name\t: %s\nstepping\t: %u\n", model_name(c.name), c.sig & 0xf);
	out_fmt(o, "cpu MHz\t\t: %lu.%03lu\n", hz / 1000000, hz / 1000 % 1000);
	if (leaf(&c, 0x80000006, 0, 2) >> 16)
		out_fmt(o, "cache size\t: %u KB\n", leaf(&c, 0x80000006, 0, 2) >> 16);
	out_fmt(o, "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n");
	out_fmt(o, "apicid\t\t: 0\ninitial apicid\t: 0\nfpu\t\t: yes\nfpu_exception\t: yes\n");
	out_fmt(o, "cpuid level\t: %u\nwp\t\t: yes\n", c.max);
	show_flags(o, &c);
	out_fmt(o, "bugs\t\t:\nbogomips\t: %lu.%02lu\n", bogo / 100, bogo % 100);
	out_fmt(o, "clflush size\t: %u\ncache_alignment\t: %u\n", clflush, clflush);
	out_fmt(o, "address sizes\t: %u bits physical, %u bits virtual\npower management:\n\n",
		addr ? addr & 0xff : 36, addr ? addr >> 8 & 0xff : 48);
	return o->len;
}
