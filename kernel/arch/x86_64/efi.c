// SPDX-License-Identifier: MIT
/*
 * UEFI's runtime services after a UEFI boot: the loader (boot/efi/) puts
 * the system table's physical address in the command line as efi_systab=.
 * Only ResetSystem is used, to power the machine off where no debug-exit
 * device ends the VM (platform.c).  The loader never calls
 * SetVirtualAddressMap, so the firmware's runtime code expects physical
 * addressing: the call runs on a page table that maps low memory one
 * to one beside the kernel's upper half, built only at that moment, when
 * the program's lower half is no longer needed.  UEFI 2.10 §4.3 and §8.5.1
 * give the layouts read here.
 */
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"

#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249UL     /* "IBI SYST" */
#define EFI_RUNTIME_SERVICES_SIGNATURE 0x56524553544e5552UL /* "RUNTSERV" */
#define SYSTAB_RUNTIME 88                                   /* EFI_SYSTEM_TABLE.RuntimeServices */
#define RUNTIME_RESET 104                                   /* EFI_RUNTIME_SERVICES.ResetSystem */
#define EFI_RESET_SHUTDOWN 2

typedef void __attribute__((ms_abi)) (*efi_reset_fn)(uint32_t type, uint64_t status, uint64_t size,
						     void *data);

static uint64_t reset_system; /* physical address of ResetSystem, or 0 */

static const void *efi_phys(uint64_t pa, size_t len)
{
	paging_map_mmio(PAGE_DOWN(pa), PAGE_UP(pa + len) - PAGE_DOWN(pa));
	return phys_to_virt(pa);
}

void efi_init(void)
{
	char buf[24];
	uint64_t pa = 0;

	if (!cmdline_get("efi_systab", buf, sizeof(buf)))
		return;
	const char *p = buf[0] == '0' && buf[1] == 'x' ? buf + 2 : buf;
	for (; *p && pa >> 60 == 0; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (d < 0)
			break;
		pa = pa << 4 | (unsigned)d;
	}
	if (*p || !pa) {
		klog("efi: bad efi_systab=%s; UEFI runtime services not used", buf);
		return;
	}
	const uint64_t *st = efi_phys(pa, SYSTAB_RUNTIME + 8);
	if (st[0] != EFI_SYSTEM_TABLE_SIGNATURE) {
		klog("efi: no system table at %lx; UEFI runtime services not used", pa);
		return;
	}
	uint64_t rt_pa = st[SYSTAB_RUNTIME / 8];
	const uint64_t *rt = rt_pa ? efi_phys(rt_pa, RUNTIME_RESET + 8) : NULL;
	if (!rt || rt[0] != EFI_RUNTIME_SERVICES_SIGNATURE) {
		klog("efi: no runtime services table; UEFI runtime services not used");
		return;
	}
	reset_system = rt[RUNTIME_RESET / 8];
	kdebug("efi: system table %lx, ResetSystem %lx", pa, reset_system);
}

void efi_poweroff(void)
{
	if (!reset_system)
		return;
	uint64_t root = paging_identity_root();
	if (!root)
		return;
	klog("powering off through UEFI's ResetSystem");
	write_cr3(root);
	((efi_reset_fn)reset_system)(EFI_RESET_SHUTDOWN, 0, 0, NULL);
}
