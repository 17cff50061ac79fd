// SPDX-License-Identifier: MIT
/*
 * Maps the vDSO into the program (docs/vdso.md).  The image is built from
 * the architecture's vdso/ folder as user code and carried in the kernel
 * (vdso_blob.S); each
 * program gets a copy at the top of the mmap area, near the stack as on
 * Linux: one read-only vvar page, then the vDSO's pages, read and execute.
 * The vvar page holds the addresses of the kernel functions the vDSO calls
 * directly (loader/vvar.h).  What the vDSO exports and how it falls
 * back to the syscall is its own business, in that folder's vdso.c.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "loader/elf64.h"
#include "loader/loader.h"
#include "loader/vvar.h"

extern const uint8_t vdso_image[], vdso_image_end[];

_Static_assert(VDSO_USER_MIN == USER_MIN && VDSO_USER_TOP == USER_TOP,
	       "loader/vvar.h must name the user half as kernel/kernel.h does");
_Static_assert(offsetof(struct vvar, syscall_entry) == VVAR_SYSCALL_ENTRY,
	       "loader/vvar.h's VVAR_SYSCALL_ENTRY must be syscall_entry's offset");

/*
 * The CPU and NUMA node for getcpu: one CPU, one node, for now.  With SMP
 * this asks the arch layer for the CPU's number (on x86, IA32_TSC_AUX read
 * with RDPID, which the kernel sets to each CPU's number as Linux does); it
 * cannot use the per-CPU GS area, since the program's GS base is loaded
 * while the vDSO runs.
 */
static uint64_t vdso_cpu_node(void)
{
	return 0;
}

/*
 * Fills the vvar page.  clock_monotonic_ns and clock_realtime_ns
 * (kernel/time.c) read the TSC and a few globals set once at boot and
 * nothing else, which is what the vvar contract asks: they run on the
 * program's stack with its GS base loaded and interrupts on.  The syscall
 * entry is no such function: the vDSO enters it as `syscall` would.
 */
static void vvar_fill(struct vvar *v)
{
	*v = (struct vvar){
		.magic = VVAR_MAGIC,
		.version = VVAR_VERSION,
		.monotonic_ns = clock_monotonic_ns,
		.realtime_ns = clock_realtime_ns,
		.cpu_node = vdso_cpu_node,
		.syscall_entry = syscall_entry_direct,
	};
}

uint64_t vdso_map(void)
{
	size_t size = vdso_image_end - vdso_image;
	uint64_t len = PAGE_UP(size);
	const uint8_t *id = vdso_image;

	/* Our own build output, so a bad image is a kernel bug, not an error. */
	BUG_ON(size < sizeof(struct elf64_ehdr) || id[EI_MAG0] != 0x7f || id[EI_MAG1] != 'E' ||
	       id[EI_MAG2] != 'L' || id[EI_MAG3] != 'F');
	uint64_t vvar = vm_find_free(PAGE_SIZE + len), base = vvar + PAGE_SIZE;
	if (!vvar || vm_map(vvar, PAGE_SIZE, PROT_READ, VMA_VVAR) < 0 ||
	    vm_map(base, len, PROT_READ | PROT_EXEC, VMA_VDSO) < 0)
		vm_exit_error("out of memory mapping the vDSO");
	struct vvar *v = vm_populate(vvar);
	if (!v)
		vm_exit_error("out of memory mapping the vDSO");
	vvar_fill(v);
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		uint8_t *page = vm_populate(base + off);
		if (!page)
			vm_exit_error("out of memory mapping the vDSO");
		memcpy(page, vdso_image + off, MIN(PAGE_SIZE, size - off));
	}
	return base;
}
