/* SPDX-License-Identifier: MIT */
/*
 * The UEFI loader's pieces (docs/uefi.md): loader.c drives the firmware,
 * elf.c places the kernel, start_info.c builds what PVH would pass, qemu.c
 * talks to QEMU's fw_cfg and debug ports, enter.S leaves long mode.
 */
#ifndef BOOT_EFI_LOADER_H
#define BOOT_EFI_LOADER_H

#include <efi.h>
#include <stddef.h>

#include "kernel/pvh.h"

/* Where the files are on the EFI system partition. */
#define KERNEL_PATH L"\\EFI\\elfvm\\kernel.elf"
#define IMAGE_PATH L"\\EFI\\elfvm\\image.cpio"
#define CMDLINE_PATH L"\\EFI\\elfvm\\cmdline"
/* The fw_cfg file a VMM's extra command line words come in. */
#define FW_CFG_CMDLINE "opt/org.elfvm/cmdline"

#define BOOT_MAP_ENTRIES 256

/* What the kernel is handed: one allocation below 1 GiB. */
struct boot_info {
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_entry map[BOOT_MAP_ENTRIES];
	char *cmdline;
};

/* enter.S: copied below 1 GiB and called there after ExitBootServices. */
extern char efi_enter[], efi_enter_end[];

/* loader.c */
EFI_STATUS efi_alloc_at(UINT64 pa, UINT64 bytes);

/* elf.c: checks the kernel ELF, loads its PT_LOAD segments at their
 * physical addresses and finds the PVH entry; NULL, or why not. */
const char *efi_load_kernel(const void *elf, UINTN len, UINT64 *entry);

/* start_info.c */
void efi_fill_start_info(struct boot_info *bi, const void *image, UINTN image_len, UINT64 rsdp);
/* The firmware's map as E820 entries, merged; -1 when they do not fit. */
int efi_convert_map(const void *map, UINTN size, UINTN desc_size, struct boot_info *bi);
void efi_format_hex(char *out, size_t n, const char *prefix, UINT64 v);

/* qemu.c */
int efi_hypervisor(void);
/* The fw_cfg file name's contents (a pool buffer, *len bytes), or NULL. */
char *efi_fw_cfg_read(const char *name, size_t *len);
void efi_debugcon(const char *s);
void efi_debug_exit(unsigned status);

#endif
