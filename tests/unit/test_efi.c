/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the UEFI loader's pure parts (boot/efi/elf.c and
 * start_info.c) under ASan and UBSan, built for the host against gnu-efi's
 * headers: the kernel ELF checks on the real build/kernel.elf and on
 * corrupt copies of it (truncated, a segment past the file or above 1 GiB,
 * no PVH note), each refused with its own message before anything is
 * written, and the firmware memory map's conversion to merged E820
 * entries.  The loader's allocation is a stub that records the range and
 * refuses it, so that a kernel that passes every check ends in "not free".
 */
#include <efi.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/efi/loader.h"
#include "tests/unit/unit.h"

/* gnu-efi's library calls the loader's code makes, for the host. */
VOID CopyMem(VOID *d, CONST VOID *s, UINTN n)
{
	memmove(d, s, n);
}
VOID ZeroMem(VOID *d, UINTN n)
{
	memset(d, 0, n);
}
INTN CompareMem(CONST VOID *a, CONST VOID *b, UINTN n)
{
	return memcmp(a, b, n);
}

static UINT64 asked_at, asked_len;

EFI_STATUS efi_alloc_at(UINT64 pa, UINT64 bytes)
{
	asked_at = pa;
	asked_len = bytes;
	return EFI_OUT_OF_RESOURCES;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len);
	if (buf && fread(buf, 1, *len, f) != *len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Runs efi_load_kernel on a copy of k (len bytes) that edit changed;
 * checks that the message contains want. */
static void check_kernel(const char *name, const unsigned char *k, size_t len, size_t cut,
			 void (*edit)(unsigned char *), const char *want)
{
	unsigned char *c = malloc(len);
	UINT64 entry;

	memcpy(c, k, len);
	if (edit)
		edit(c);
	asked_len = 0;
	const char *why = efi_load_kernel(c, cut ? cut : len, &entry);
	if (!why || !strstr(why, want))
		report(name, err("expected \"%s\", got \"%s\"", want, why ? why : "(accepted)"));
	else
		report(name, NULL);
	free(c);
}

static Elf64_Phdr *first(unsigned char *c, Elf64_Word type)
{
	Elf64_Ehdr *eh = (void *)c;
	Elf64_Phdr *ph = (void *)(c + eh->e_phoff);

	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == type)
			return &ph[i];
	return NULL;
}
static void bad_magic(unsigned char *c)
{
	c[1] = 'X';
}
static void past_file(unsigned char *c)
{
	first(c, PT_LOAD)->p_filesz = 1UL << 40;
}
static void above_1g(unsigned char *c)
{
	first(c, PT_LOAD)->p_paddr = 0x40000000;
}
static void no_note(unsigned char *c)
{
	first(c, PT_NOTE)->p_type = PT_NULL;
}
static void phnum_huge(unsigned char *c)
{
	((Elf64_Ehdr *)c)->e_phnum = 0xffff;
}

static void test_kernel(const char *path)
{
	size_t len;
	unsigned char *k = read_all(path, &len);

	if (!k) {
		skip("efi/kernel", "no build/kernel.elf (make)");
		return;
	}
	/* Every check passes: the stub allocation is the last step refused. */
	check_kernel("efi/kernel/intact", k, len, 0, NULL, "not free");
	report("efi/kernel/asks-1MiB",
	       asked_at == 0x100000 && asked_len > 0 && asked_len < 64 << 20
		       ? NULL
		       : err("asked for %llx+%llx", (unsigned long long)asked_at,
			     (unsigned long long)asked_len));
	check_kernel("efi/kernel/truncated-header", k, len, 20, NULL, "not an x86-64 ELF");
	check_kernel("efi/kernel/bad-magic", k, len, 0, bad_magic, "not an x86-64 ELF");
	check_kernel("efi/kernel/phnum-past-file", k, len, 0, phnum_huge, "not an x86-64 ELF");
	check_kernel("efi/kernel/segment-past-file", k, len, 0, past_file, "outside the file");
	check_kernel("efi/kernel/truncated-segments", k, len, 4096, NULL, "outside the file");
	check_kernel("efi/kernel/above-1GiB", k, len, 0, above_1g, "above 1 GiB");
	check_kernel("efi/kernel/no-pvh-note", k, len, 0, no_note, "no PVH entry");
	free(k);
}

static void desc(EFI_MEMORY_DESCRIPTOR *d, UINT32 type, UINT64 at, UINT64 pages)
{
	memset(d, 0, sizeof(*d));
	d->Type = type;
	d->PhysicalStart = at;
	d->NumberOfPages = pages;
}

static void test_map(void)
{
	static struct boot_info bi;
	EFI_MEMORY_DESCRIPTOR m[7];

	/* Conventional, boot services and loader memory merge into one RAM
	 * range; MMIO is dropped; ACPI and runtime memory stay apart. */
	desc(&m[0], EfiConventionalMemory, 0, 0xa0);
	desc(&m[1], EfiBootServicesData, 0x100000, 0x100);
	desc(&m[2], EfiLoaderData, 0x200000, 0x100);
	desc(&m[3], EfiACPIReclaimMemory, 0x300000, 0x10);
	desc(&m[4], EfiRuntimeServicesCode, 0x310000, 0x10);
	desc(&m[5], EfiMemoryMappedIO, 0xb0000000, 0x10000);
	desc(&m[6], EfiConventionalMemory, 0x320000, 0x10);
	int r = efi_convert_map(m, sizeof(m), sizeof(m[0]), &bi);
	const struct hvm_memmap_entry want[] = {
		{ 0, 0xa0000, E820_RAM, 0 },         { 0x100000, 0x200000, E820_RAM, 0 },
		{ 0x300000, 0x10000, E820_ACPI, 0 }, { 0x310000, 0x10000, E820_RESERVED, 0 },
		{ 0x320000, 0x10000, E820_RAM, 0 },
	};
	const char *why = NULL;
	if (r || bi.si.memmap_entries != 5)
		why = err("status %d, %u entries", r, bi.si.memmap_entries);
	for (int i = 0; !why && i < 5; i++)
		if (memcmp(&bi.map[i], &want[i], sizeof(want[i])))
			why = err("entry %d: %llx+%llx type %u", i, (unsigned long long)bi.map[i].addr,
				  (unsigned long long)bi.map[i].size, bi.map[i].type);
	report("efi/map/merged", why);

	/* More ranges than the start info holds: refused, not overrun. */
	size_t n = BOOT_MAP_ENTRIES + 1;
	EFI_MEMORY_DESCRIPTOR *many = calloc(n, sizeof(*many));
	for (size_t i = 0; i < n; i++)
		desc(&many[i], i % 2 ? EfiConventionalMemory : EfiRuntimeServicesData, i * 0x1000, 1);
	report("efi/map/too-many", efi_convert_map(many, n * sizeof(*many), sizeof(*many), &bi) == -1
					   ? NULL
					   : err("accepted %zu ranges", n));
	free(many);
}

int main(int argc, char **argv)
{
	test_kernel(argc > 1 ? argv[1] : "build/kernel.elf");
	test_map();
	return unit_done("test_efi");
}
