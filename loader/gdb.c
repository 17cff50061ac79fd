// SPDX-License-Identifier: MIT
/*
 * Waiting for a debugger (`elfvm run --gdb`, docs/debugging.md): with gdb=1
 * on the command line the loader logs where it put the program and its
 * interpreter (`@@gdb load`, `@@gdb entry`: docs/protocol.md), then sleeps
 * until gdb, attached to QEMU's stub, sets elfvm_gdb_go.  Every mapping is
 * also faulted in when it is made, because QEMU's stub reads memory through
 * the page tables (an untouched page is "Cannot access memory" to gdb) and
 * because a fault under a single step re-runs the instruction, hitting a
 * breakpoint on it twice.  It starts no stub and sets no breakpoint: QEMU
 * and the host's command file (tools/gdb.c) do that.
 */
#include "kernel/kernel.h"
#include "loader/loader.h"

#define POLL_NS (20 * 1000 * 1000UL) /* how soon the go is seen */
#define PREFAULT_ALL (8UL << 20)     /* a mapping up to this is faulted in whole */
#define PREFAULT_END (1UL << 20)     /* else this much at each end */

bool loader_debugged;
/* Set to 1 by the debugger (`set var elfvm_gdb_go = 1`); volatile because
 * only the debugger writes it. */
volatile int elfvm_gdb_go;

void loader_gdb_init(void)
{
	char v[4];

	loader_debugged = cmdline_get("gdb", v, sizeof(v)) && !strcmp(v, "1");
}

/* One page as the program's first access would leave it: a private copy
 * of a writable file page, a zeroed anonymous page, a shared read-only
 * one.  Errors (no VMA, past the end of a file) are left to the program's
 * own access. */
static void prefault_page(uint64_t a)
{
	struct vma *v = vm_find(a);
	uint64_t *pte = paging_pte(a, false);
	bool write = v && (v->prot & PROT_WRITE);

	if (!v || v->prot == PROT_NONE)
		return;
	if (pte && (*pte & PTE_P)) {
		if (write && (*pte & PTE_OBJ))
			(void)vm_fault(a, 3); /* copy on write now; -EFAULT when shared */
		return;
	}
	(void)vm_fault(a, write ? 2 : 0);
}

void loader_gdb_prefault(uint64_t start, uint64_t len)
{
	uint64_t end = PAGE_UP(start + len);

	if (!loader_debugged)
		return;
	start = PAGE_DOWN(start);
	/* A large mapping: its ends only (a heap grows up, a stack down). */
	if (end - start > PREFAULT_ALL) {
		for (uint64_t a = start; a < start + PREFAULT_END; a += PAGE_SIZE)
			prefault_page(a);
		start = end - PREFAULT_END;
	}
	for (uint64_t a = start; a < end; a += PAGE_SIZE)
		prefault_page(a);
}

void loader_gdb_record(const char *path, uint64_t bias)
{
	if (loader_debugged)
		klog("@@gdb load 0x%lx %s", bias, path);
}

void loader_gdb_wait(uint64_t entry)
{
	if (!loader_debugged)
		return;
	klog("@@gdb entry 0x%lx", entry);
	klog("@@gdb wait");
	while (!elfvm_gdb_go)
		(void)wait_event_deadline(NULL, elfvm_gdb_go, clock_monotonic_ns() + POLL_NS);
	klog("@@gdb go");
}
