// SPDX-License-Identifier: MIT
/*
 * The hvm_start_info a PVH VMM would build (kernel/pvh.h), from what UEFI
 * knows: the image as module 0, the command line, the RSDP from the
 * configuration table, and the firmware's memory map as E820 entries.
 * Memory the firmware used for itself during boot (boot services, the
 * loader's own pages) is RAM to the kernel, which reserves only its own
 * image and the program's image; runtime services' and ACPI's memory stay
 * out of it.
 */
#include <efi.h>
#include <efilib.h>

#include "boot/efi/loader.h"

void efi_fill_start_info(struct boot_info *bi, const void *image, UINTN image_len, UINT64 rsdp)
{
	bi->mod.paddr = (UINT64)(UINTN)image;
	bi->mod.size = image_len;
	bi->si.magic = HVM_START_MAGIC;
	bi->si.version = 1;
	bi->si.nr_modules = 1;
	bi->si.modlist_paddr = (UINT64)(UINTN)&bi->mod;
	bi->si.cmdline_paddr = (UINT64)(UINTN)bi->cmdline;
	bi->si.rsdp_paddr = rsdp;
	bi->si.memmap_paddr = (UINT64)(UINTN)bi->map;
}

static int e820_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiLoaderCode:
	case EfiLoaderData:
	case EfiBootServicesCode:
	case EfiBootServicesData:
	case EfiConventionalMemory: return E820_RAM;
	case EfiACPIReclaimMemory: return E820_ACPI;
	case EfiACPIMemoryNVS: return E820_NVS;
	case EfiUnusableMemory: return E820_UNUSABLE;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace: return 0; /* not memory: left out, as E820 leaves it */
	case 14: /* EfiPersistentMemory */ return E820_PMEM;
	default: /* reserved, runtime services, PAL code */ return E820_RESERVED;
	}
}

int efi_convert_map(const void *map, UINTN size, UINTN desc_size, struct boot_info *bi)
{
	UINT32 n = 0;

	for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)((const UINT8 *)map + off);
		int type = e820_type(d->Type);
		UINT64 len = d->NumberOfPages * 4096;
		if (!type || !len)
			continue;
		struct hvm_memmap_entry *last = n ? &bi->map[n - 1] : NULL;
		if (last && last->type == (UINT32)type && last->addr + last->size == d->PhysicalStart) {
			last->size += len;
			continue;
		}
		if (n == BOOT_MAP_ENTRIES)
			return -1;
		bi->map[n++] = (struct hvm_memmap_entry){ d->PhysicalStart, len, (UINT32)type, 0 };
	}
	bi->si.memmap_entries = n;
	return 0;
}

void efi_format_hex(char *out, size_t n, const char *prefix, UINT64 v)
{
	size_t i = 0;
	int shift = 60;

	while (*prefix && i + 1 < n)
		out[i++] = *prefix++;
	while (shift > 0 && !((v >> shift) & 0xf))
		shift -= 4;
	for (; shift >= 0 && i + 1 < n; shift -= 4)
		out[i++] = "0123456789abcdef"[(v >> shift) & 0xf];
	out[i] = 0;
}
