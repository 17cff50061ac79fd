// SPDX-License-Identifier: MIT
/*
 * BOOTX64.EFI: the UEFI loader of elfvm's kernel (docs/uefi.md).  It reads
 * the kernel ELF, the image and the command line from the EFI system
 * partition it was loaded from (\EFI\elfvm\), appends the words a VMM may
 * pass through QEMU's fw_cfg, places the kernel's segments at the physical
 * addresses PVH would, builds the PVH hvm_start_info a PVH VMM builds (the
 * firmware's memory map as E820 entries, the command line, the image as
 * module 0, the ACPI RSDP from the configuration table), exits boot
 * services and enters the kernel's PVH entry (enter.S).  The kernel is the
 * one PVH boots; only `efi_systab=` in its command line tells it that
 * UEFI's runtime services are there.
 */
#include <efi.h>
#include <efilib.h>

#include "boot/efi/loader.h"

#define MiB (1024UL * 1024)
#define BOOT_MAP_LIMIT (1024 * MiB) /* what the kernel's boot page tables map */
#define PAGE 4096UL
#define PAGES(n) (((n) + PAGE - 1) / PAGE)

static EFI_SYSTEM_TABLE *sys;

/* Under a hypervisor, a failure is also told to the VMM: the kernel log's
 * @@error record on QEMU's debugcon and the isa-debug-exit device, so that
 * `elfvm run` ends with status 125 instead of waiting on a firmware menu.
 * Without those devices the writes go nowhere. */
static void fail(const char *why, EFI_STATUS st)
{
	Print(L"elfvm loader: %a", why);
	if (st != EFI_SUCCESS)
		Print(L" (%r)", st);
	Print(L"\n");
	if (efi_hypervisor()) {
		efi_debugcon("@@error the UEFI loader: ");
		efi_debugcon(why);
		efi_debugcon("\n");
		efi_debug_exit(125);
	}
	uefi_call_wrapper(sys->BootServices->Stall, 1, 5 * 1000 * 1000);
}

static EFI_STATUS alloc_pages(EFI_ALLOCATE_TYPE how, EFI_MEMORY_TYPE type, UINTN bytes,
			      EFI_PHYSICAL_ADDRESS *pa)
{
	return uefi_call_wrapper(sys->BootServices->AllocatePages, 4, how, type, PAGES(bytes), pa);
}

/* Below the kernel's boot map: the start info, the command line and the
 * image are read through it before the kernel builds its own tables. */
static EFI_STATUS alloc_low(EFI_MEMORY_TYPE type, UINTN bytes, void **out)
{
	EFI_PHYSICAL_ADDRESS pa = BOOT_MAP_LIMIT - 1;
	EFI_STATUS st = alloc_pages(AllocateMaxAddress, type, bytes, &pa);

	*out = (void *)(UINTN)pa;
	return st;
}

/* Reads the whole file PATH of dir into *buf (pages below the boot map when
 * low, else pool memory).  EFI_NOT_FOUND when it is absent. */
static EFI_STATUS read_file(EFI_FILE_HANDLE dir, CHAR16 *path, int low, void **buf, UINTN *size)
{
	EFI_FILE_HANDLE f;
	EFI_STATUS st = uefi_call_wrapper(dir->Open, 5, dir, &f, path, EFI_FILE_MODE_READ, 0);

	if (EFI_ERROR(st))
		return st;
	EFI_FILE_INFO *info = LibFileInfo(f);
	if (!info) {
		uefi_call_wrapper(f->Close, 1, f);
		return EFI_DEVICE_ERROR;
	}
	*size = info->FileSize;
	FreePool(info);
	if (low)
		st = alloc_low(EfiLoaderData, *size ? *size : 1, buf);
	else
		st = (*buf = AllocatePool(*size ? *size : 1)) ? EFI_SUCCESS : EFI_OUT_OF_RESOURCES;
	if (!EFI_ERROR(st)) {
		UINTN got = *size;
		st = uefi_call_wrapper(f->Read, 3, f, &got, *buf);
		if (!EFI_ERROR(st) && got != *size)
			st = EFI_END_OF_FILE;
	}
	uefi_call_wrapper(f->Close, 1, f);
	return st;
}

/* The command line: the ESP's words, the VMM's (fw_cfg), then efi_systab=.
 * Line breaks become spaces. */
static EFI_STATUS build_cmdline(EFI_FILE_HANDLE dir, char **out)
{
	void *esp = NULL;
	UINTN esp_len = 0;
	char *vmm = NULL;
	size_t vmm_len = 0;
	char tail[48];
	EFI_STATUS st = read_file(dir, CMDLINE_PATH, 0, &esp, &esp_len);

	if (st == EFI_NOT_FOUND)
		esp_len = 0;
	else if (EFI_ERROR(st))
		return st;
	if (efi_hypervisor())
		vmm = efi_fw_cfg_read(FW_CFG_CMDLINE, &vmm_len);
	efi_format_hex(tail, sizeof(tail), " efi_systab=0x", (UINT64)(UINTN)sys);
	size_t tail_len = strlena((CHAR8 *)tail);
	char *line;
	st = alloc_low(EfiLoaderData, esp_len + vmm_len + tail_len + 2, (void **)&line);
	if (!EFI_ERROR(st)) {
		size_t n = 0;
		for (UINTN i = 0; i < esp_len; i++)
			line[n++] = ((char *)esp)[i];
		line[n++] = ' ';
		for (size_t i = 0; i < vmm_len; i++)
			line[n++] = vmm[i];
		for (size_t i = 0; i < tail_len; i++)
			line[n++] = tail[i];
		line[n] = 0;
		for (size_t i = 0; i < n; i++)
			if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t' || !line[i])
				line[i] = ' ';
		*out = line;
	}
	if (esp)
		FreePool(esp);
	if (vmm)
		FreePool(vmm);
	return st;
}

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

static UINT64 find_rsdp(void)
{
	void *t = NULL;

	if (LibGetSystemConfigurationTable(&acpi20_guid, &t) == EFI_SUCCESS && t)
		return (UINT64)(UINTN)t;
	if (LibGetSystemConfigurationTable(&acpi10_guid, &t) == EFI_SUCCESS && t)
		return (UINT64)(UINTN)t;
	return 0;
}

/* Gets the memory map, converts it into bi's E820 entries and exits boot
 * services; a map that changed in between (the key is stale) is read
 * again.  Nothing here may allocate after the map is read. */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct boot_info *bi)
{
	UINTN cap = 0, size, key, desc_size;
	UINT32 desc_ver;
	void *map = NULL;
	EFI_STATUS st = EFI_LOAD_ERROR;

	for (int tries = 0; tries < 8; tries++) {
		size = cap;
		st = uefi_call_wrapper(sys->BootServices->GetMemoryMap, 5, &size, map, &key, &desc_size,
				       &desc_ver);
		if (st == EFI_BUFFER_TOO_SMALL) {
			if (map)
				FreePool(map);
			cap = size + 16 * desc_size; /* room for the pool's own entry */
			if (!(map = AllocatePool(cap)))
				return EFI_OUT_OF_RESOURCES;
			continue;
		}
		if (EFI_ERROR(st))
			return st;
		if (efi_convert_map(map, size, desc_size, bi) < 0)
			return EFI_BUFFER_TOO_SMALL;
		st = uefi_call_wrapper(sys->BootServices->ExitBootServices, 2, image, key);
		if (!EFI_ERROR(st))
			return st;
	}
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root;
	struct boot_info *bi;
	void *kbuf, *img, *tramp;
	UINTN klen, ilen;
	UINT64 entry;
	const char *why;
	EFI_STATUS st;

	InitializeLib(image, systab);
	sys = systab;
	st = uefi_call_wrapper(sys->BootServices->HandleProtocol, 3, image, &LoadedImageProtocol,
			       (void **)&li);
	if (EFI_ERROR(st) || !(root = LibOpenRoot(li->DeviceHandle))) {
		fail("cannot open the partition the loader was started from", st);
		return EFI_LOAD_ERROR;
	}
	st = read_file(root, KERNEL_PATH, 0, &kbuf, &klen);
	if (EFI_ERROR(st)) {
		fail("cannot read \\EFI\\elfvm\\kernel.elf", st);
		return st;
	}
	st = read_file(root, IMAGE_PATH, 1, &img, &ilen);
	if (EFI_ERROR(st)) {
		fail("cannot read \\EFI\\elfvm\\image.cpio", st);
		return st;
	}
	st = alloc_low(EfiLoaderData, sizeof(*bi), (void **)&bi);
	if (EFI_ERROR(st)) {
		fail("no memory for the boot information", st);
		return st;
	}
	ZeroMem(bi, sizeof(*bi));
	st = build_cmdline(root, &bi->cmdline);
	if (EFI_ERROR(st)) {
		fail("cannot read \\EFI\\elfvm\\cmdline", st);
		return st;
	}
	why = efi_load_kernel(kbuf, klen, &entry);
	if (why) {
		fail(why, EFI_SUCCESS);
		return EFI_LOAD_ERROR;
	}
	FreePool(kbuf);
	size_t tlen = (size_t)(efi_enter_end - efi_enter);
	st = alloc_low(EfiLoaderCode, tlen, &tramp);
	if (EFI_ERROR(st)) {
		fail("no memory below 1 GiB for the entry code", st);
		return st;
	}
	CopyMem(tramp, efi_enter, tlen);
	efi_fill_start_info(bi, img, ilen, find_rsdp());
	st = exit_boot_services(image, bi);
	if (EFI_ERROR(st)) {
		fail("ExitBootServices failed", st);
		return st;
	}
	((void (*)(UINT64, UINT64))tramp)(entry, (UINT64)(UINTN)&bi->si);
	return EFI_LOAD_ERROR; /* not reached */
}

/* Allocates the pages a kernel segment is loaded at: the exact physical
 * addresses PVH uses, below the boot map. */
EFI_STATUS efi_alloc_at(UINT64 pa, UINT64 bytes)
{
	EFI_PHYSICAL_ADDRESS at = pa;

	return alloc_pages(AllocateAddress, EfiLoaderData, bytes, &at);
}
