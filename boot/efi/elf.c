// SPDX-License-Identifier: MIT
/*
 * The kernel ELF, placed as a PVH VMM places it: every PT_LOAD segment at
 * its physical address (p_paddr), zero-filled past p_filesz, and the entry
 * taken from the Xen PHYS32_ENTRY note.  Every offset and size is checked
 * against the file before it is used, and the segments must lie below the
 * 1 GiB the kernel's boot page tables map.
 */
#include <efi.h>
#include <efilib.h>
#include <elf.h>

#include "boot/efi/loader.h"

#define BOOT_MAP_LIMIT (1024UL * 1024 * 1024)

static int in_file(UINT64 off, UINT64 size, UINTN len)
{
	return off <= len && size <= len - off;
}

/* The PVH entry from one PT_NOTE segment's notes, or 0. */
static UINT64 pvh_entry(const UINT8 *p, UINT64 size)
{
	UINT64 off = 0;

	while (size - off >= sizeof(Elf64_Nhdr)) {
		const Elf64_Nhdr *n = (const void *)(p + off);
		UINT64 name = off + sizeof(*n), desc = name + ((n->n_namesz + 3) & ~3UL);
		UINT64 next = desc + ((n->n_descsz + 3) & ~3UL);
		if (next > size || next <= off)
			return 0;
		if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
		    !CompareMem(p + name, "Xen", 4)) {
			UINT64 v = 0; /* 4 or 8 bytes, little-endian, maybe unaligned */
			if (n->n_descsz != 4 && n->n_descsz != 8)
				return 0;
			CopyMem(&v, p + desc, n->n_descsz);
			return v;
		}
		off = next;
	}
	return 0;
}

const char *efi_load_kernel(const void *elf, UINTN len, UINT64 *entry)
{
	const Elf64_Ehdr *eh = elf;
	const UINT8 *base = elf;
	UINT64 lo = ~0UL, hi = 0;

	if (len < sizeof(*eh) || CompareMem(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(eh->e_phoff, (UINT64)eh->e_phnum * sizeof(Elf64_Phdr), len))
		return "kernel.elf is not an x86-64 ELF kernel";
	const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);
	*entry = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_NOTE && in_file(ph[i].p_offset, ph[i].p_filesz, len) && !*entry)
			*entry = pvh_entry(base + ph[i].p_offset, ph[i].p_filesz);
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		if (!in_file(ph[i].p_offset, ph[i].p_filesz, len) || ph[i].p_filesz > ph[i].p_memsz)
			return "kernel.elf has a segment outside the file";
		if (ph[i].p_paddr >= BOOT_MAP_LIMIT || ph[i].p_memsz > BOOT_MAP_LIMIT - ph[i].p_paddr)
			return "kernel.elf has a segment above 1 GiB";
		if (ph[i].p_paddr < lo)
			lo = ph[i].p_paddr;
		if (ph[i].p_paddr + ph[i].p_memsz > hi)
			hi = ph[i].p_paddr + ph[i].p_memsz;
	}
	if (!*entry || *entry >= BOOT_MAP_LIMIT)
		return "kernel.elf has no PVH entry note";
	if (hi <= lo)
		return "kernel.elf has nothing to load";
	lo &= ~4095UL;
	if (EFI_ERROR(efi_alloc_at(lo, hi - lo)))
		return "the kernel's physical addresses are not free in the firmware's memory map";
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		UINT8 *to = (UINT8 *)(UINTN)ph[i].p_paddr;
		CopyMem(to, base + ph[i].p_offset, ph[i].p_filesz);
		ZeroMem(to + ph[i].p_filesz, ph[i].p_memsz - ph[i].p_filesz);
	}
	if (*entry < lo || *entry >= hi)
		return "kernel.elf's PVH entry is outside its segments";
	return NULL;
}
