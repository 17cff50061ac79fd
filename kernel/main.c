// SPDX-License-Identifier: MIT
/*
 * The boot sequence, in order, in one function.  The arch's boot.S enters
 * here in long mode on the boot stack with the physical address of the PVH
 * hvm_start_info.  We take what we need from it (memory map, command line,
 * the image module) before anything can overwrite it, bring up memory, the
 * CPU, time and the image, and hand over to the loader.
 */
#include "kernel/arch.h"
#include "kernel/kernel.h"
#include "kernel/net/stack.h"
#include "kernel/pvh.h"
#include "kernel/virtio/virtio.h"
#include "loader/loader.h"
#include "minifs/minifs.h"
#include "syscalls/syscalls.h"

/* What the VMM told us, kept past the start info's life. */
static struct {
	const void *image; /* the cpio image (module 0), in the direct map */
	size_t image_size;
	uint64_t rsdp; /* the ACPI RSDP's physical address, or 0 */
} boot_info;
static struct mem_range ram[64];
static int nram;

extern char __kernel_start[], __kernel_end[];

static void read_start_info(uint32_t pa, struct mem_range *image)
{
	const struct hvm_start_info *si = phys_to_virt(pa);

	if (si->magic != HVM_START_MAGIC)
		panic("not started through PVH (start info magic %x)", si->magic);
	if (si->cmdline_paddr)
		cmdline_init(phys_to_virt(si->cmdline_paddr));
	if (si->version < 1 || !si->memmap_paddr)
		panic("the VMM gave no memory map (PVH start info version %u)", si->version);
	const struct hvm_memmap_entry *mm = phys_to_virt(si->memmap_paddr);
	for (uint32_t i = 0; i < si->memmap_entries && nram < (int)ARRAY_SIZE(ram); i++)
		if (mm[i].type == E820_RAM)
			ram[nram++] = (struct mem_range){ mm[i].addr, mm[i].size };
	if (si->nr_modules < 1)
		vm_exit_error("no image was passed to the kernel (PVH module 0)");
	boot_info.rsdp = si->rsdp_paddr;
	const struct hvm_modlist_entry *mod = phys_to_virt(si->modlist_paddr);
	*image = (struct mem_range){ mod[0].paddr, mod[0].size };
}

void kmain(uint32_t start_info)
{
	struct mem_range used[2];
	char buf[8];

	console_init();
	read_start_info(start_info, &used[1]);
	klog_verbose = cmdline_get("verbose", buf, sizeof(buf)) != NULL;
	used[0] = (struct mem_range){ virt_to_phys(__kernel_start),
				      (uint64_t)(__kernel_end - __kernel_start) };
	mem_init(ram, nram, used, 2);
	paging_init();
	acpi_init(boot_info.rsdp);
	efi_init();
	cpu_init();
	pic_disable();
	/* The kernel runs with interrupts on from here: nothing is routed yet,
	 * and some hypervisors emulate every instruction while IF is clear. */
	irq_enable();
	cpu_fpu_init();
	time_init();
	apic_init();
	random_init();
	boot_info.image = phys_to_virt(used[1].base);
	boot_info.image_size = used[1].len;
	sched_init();
	net_init(); /* before any network driver registers its device */
	virtio_mmio_init();
	virtio_pci_init();
	if (cmdline_get("selftest", buf, sizeof(buf)))
		selftest_run();
	mfs_init(boot_info.image, boot_info.image_size);
	mfs_remote_init(); /* the host's shares join the image's tree */
	net_dhcp_wait();   /* ip=dhcp: the lease, and its DNS servers in /etc */
	syscalls_init();
	kdebug("memory: %lu MiB free", mem_free_pages() >> 8);
	loader_start();
}
