/* SPDX-License-Identifier: MIT */
/*
 * The PVH boot information (xen/include/public/arch-x86/hvm/start_info.h),
 * version 1: what a PVH VMM leaves at %ebx and what the UEFI loader
 * (boot/efi/) builds the same way.  kernel/main.c reads it; one header so
 * that the two sides cannot drift.
 */
#ifndef KERNEL_PVH_H
#define KERNEL_PVH_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* E820 types, as the memory map's entries carry them. */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4
#define E820_UNUSABLE 5
#define E820_PMEM 7

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

#endif
