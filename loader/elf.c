/* SPDX-License-Identifier: MIT */
/*
 * elf_check: decides whether a file is an x86-64 Linux program elfvm can
 * load, trusting no field until it has been bounds-checked.  It reads the
 * file and writes nothing but *out; it maps nothing and does not follow
 * PT_INTERP or DT_NEEDED (load.c and the packer in tools/ do).  The same
 * code runs in the kernel, in the host command, in tests/unit/test_elf.c
 * and under the fuzzer (tests/unit/fuzz_elf.c), so it uses no libc.
 */
#include "loader/loader.h"
#include "loader/elf64.h"

#include <stdbool.h>

/* The program owns the lower half; the first non-canonical address. */
#define USER_END 0x0000800000000000ull
#define PAGE_SIZE 4096ull
/* Linux's PATH_MAX; fs/binfmt_elf.c refuses a longer PT_INTERP too. */
#define INTERP_MAX 4096
/* Larger than any real alignment (huge pages are 2 MiB and 1 GiB); a bigger
 * p_align could only make the loader waste the address space. */
#define ALIGN_MAX (1ull << 30)

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint64_t page_down(uint64_t x)
{
	return x & ~(PAGE_SIZE - 1);
}

/* Rounds up; the caller guarantees x <= USER_END, so this cannot wrap. */
static uint64_t page_up(uint64_t x)
{
	return page_down(x + PAGE_SIZE - 1);
}

/* True when [off, off+len) lies inside a file of size bytes, without
 * overflow. */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* Program headers may sit at any offset, so copy each out rather than
 * casting a possibly misaligned pointer. */
static void read_phdr(const unsigned char *f, const struct elf_info *in, unsigned i,
		      struct elf64_phdr *ph)
{
	__builtin_memcpy(ph, f + in->phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* The identification bytes, the machine and the header sizes. */
static const char *check_ident(const unsigned char *f, size_t size, struct elf64_ehdr *eh)
{
	if (size < EI_NIDENT)
		return "file too small to be an ELF file";
	if (f[EI_MAG0] != ELFMAG0 || f[EI_MAG1] != ELFMAG1 || f[EI_MAG2] != ELFMAG2 ||
	    f[EI_MAG3] != ELFMAG3)
		return "not an ELF file (bad magic)";
	if (f[EI_CLASS] == ELFCLASS32)
		return "a 32-bit ELF file; only x86-64 (64-bit) programs run";
	if (f[EI_CLASS] != ELFCLASS64)
		return "bad ELF class (neither 32- nor 64-bit)";
	if (f[EI_DATA] == ELFDATA2MSB)
		return "a big-endian ELF file; x86-64 programs are little-endian";
	if (f[EI_DATA] != ELFDATA2LSB)
		return "bad ELF data encoding (neither little- nor big-endian)";
	if (f[EI_VERSION] != EV_CURRENT)
		return "wrong ELF version in e_ident";
	if (size < sizeof(*eh))
		return "file too small for an ELF64 header";
	__builtin_memcpy(eh, f, sizeof(*eh));
	if (eh->e_version != EV_CURRENT)
		return "wrong ELF version in e_version";
	if (eh->e_machine != EM_X86_64)
		return "wrong machine: not an x86-64 program";
	if (eh->e_ehsize != sizeof(*eh))
		return "bad ELF header size (e_ehsize is not 64)";
	return NULL;
}

/*
 * Which file types are programs.  ET_EXEC always is.  ET_DYN covers PIEs,
 * static PIEs, the dynamic linkers themselves (ld-linux-x86-64.so.2 has no
 * DF_1_PIE and no PT_INTERP, yet Linux runs it directly) and glibc's
 * libc.so.6, which has an entry point that prints its version.  Telling a
 * runnable ET_DYN from a plain library by DT_FLAGS_1 would refuse the
 * dynamic linkers, so the rule is the one the kernel itself applies in
 * effect: an ET_DYN with a nonzero e_entry is a program, one with e_entry
 * == 0 (libm.so.6, most libraries) is refused.
 */
static const char *check_type(const struct elf64_ehdr *eh)
{
	if (eh->e_type == ET_EXEC)
		return NULL;
	if (eh->e_type == ET_DYN)
		return eh->e_entry ? NULL
				   : "a shared library without an entry "
				     "point, not a program";
	if (eh->e_type == ET_REL)
		return "an object file (.o), not a program";
	if (eh->e_type == ET_CORE)
		return "a core dump, not a program";
	return "unknown ELF file type (not a program)";
}

/* The program header table: entry size, count and bounds. */
static const char *check_phtab(const struct elf64_ehdr *eh, size_t size, struct elf_info *out)
{
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return "bad program header size (e_phentsize is not 56)";
	if (eh->e_phnum == 0)
		return "no program headers";
	if (eh->e_phnum > ELF_MAX_PHNUM)
		return "too many program headers";
	if (!in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr), size))
		return "program header table lies outside the file";
	out->phoff = eh->e_phoff;
	out->phnum = eh->e_phnum;
	return NULL;
}

/* One PT_LOAD on its own: file range, sizes, address range, alignment. */
static const char *check_load(const struct elf64_phdr *ph, size_t size)
{
	uint64_t align = ph->p_align;

	if (!in_file(ph->p_offset, ph->p_filesz, size))
		return "PT_LOAD segment extends past the end of the file";
	if (ph->p_filesz > ph->p_memsz)
		return "PT_LOAD segment has p_filesz larger than p_memsz";
	if (ph->p_vaddr >= USER_END || ph->p_memsz > USER_END - ph->p_vaddr)
		return "PT_LOAD segment reaches past the lower half of the "
		       "address space";
	/* gABI: 0 and 1 mean no alignment; otherwise a power of two. */
	if (align > 1 && !is_pow2(align))
		return "PT_LOAD p_align is not a power of two";
	if (align > ALIGN_MAX)
		return "PT_LOAD p_align is larger than 1 GiB";
	if (align > 1 && (ph->p_offset - ph->p_vaddr) % align)
		return "PT_LOAD p_offset and p_vaddr disagree modulo p_align";
	/* Mapping file pages needs page-level congruence whatever p_align. */
	if ((ph->p_offset - ph->p_vaddr) % PAGE_SIZE)
		return "PT_LOAD p_offset and p_vaddr disagree modulo the "
		       "page size";
	return NULL;
}

/*
 * PT_INTERP: inside the file, a NUL within it, not empty, not longer than
 * PATH_MAX.  interp_len is the string's length without its NUL: the string
 * ends at the first NUL (Linux uses it as a C string too).
 */
static const char *check_interp(const unsigned char *f, size_t size, const struct elf64_phdr *ph,
				struct elf_info *out)
{
	uint64_t n;

	if (out->interp_len)
		return "more than one PT_INTERP";
	if (!in_file(ph->p_offset, ph->p_filesz, size))
		return "PT_INTERP lies outside the file";
	if (ph->p_filesz > INTERP_MAX)
		return "PT_INTERP path is too long";
	for (n = 0; n < ph->p_filesz && f[ph->p_offset + n]; n++)
		;
	if (n == ph->p_filesz)
		return "PT_INTERP path is not NUL-terminated";
	if (n == 0)
		return "PT_INTERP path is empty";
	out->interp_off = ph->p_offset;
	out->interp_len = n;
	return NULL;
}

/* The PT_LOADs seen so far: how many, whether any has a size, the last
 * start and the end of the last (thus highest) one. */
struct load_span {
	unsigned n;
	bool sized;
	uint64_t last, end;
};

/* Folds one checked PT_LOAD into the span; refuses disorder and overlap
 * (byte ranges: two segments may share a page, as small-page links do). */
static const char *add_load(const struct elf64_phdr *ph, struct load_span *sp, struct elf_info *out)
{
	if (sp->n && ph->p_vaddr < sp->last)
		return "PT_LOAD segments are not in ascending address order";
	if (sp->n && ph->p_vaddr < sp->end)
		return "PT_LOAD segments overlap";
	if (!sp->n)
		out->lo = ph->p_vaddr;
	sp->n++;
	sp->sized |= ph->p_memsz != 0;
	sp->last = ph->p_vaddr;
	sp->end = ph->p_vaddr + ph->p_memsz;
	if (ph->p_align > out->max_align)
		out->max_align = ph->p_align;
	return NULL;
}

/* After the walk: the page-aligned span, which must hold something, and
 * page 0 stays unmapped (a fixed-address program may not ask for it). */
static const char *finish_span(const struct load_span *sp, uint16_t type, struct elf_info *out)
{
	if (!sp->n)
		return "no PT_LOAD segment";
	if (!sp->sized)
		return "PT_LOAD segments are all empty";
	/* hi > lo: some segment is non-empty and lies in [lo, end) */
	out->lo = page_down(out->lo);
	out->hi = page_up(sp->end);
	if (type == ET_EXEC && out->lo < PAGE_SIZE)
		return "a fixed-address program that wants page 0 mapped";
	return NULL;
}

/* Walks every program header once; fills the PT_LOAD span and flags. */
static const char *check_segments(const unsigned char *f, size_t size, struct elf_info *out)
{
	struct load_span sp = { 0, false, 0, 0 };
	struct elf64_phdr ph;
	const char *why = NULL;
	unsigned i;

	for (i = 0; i < out->phnum && !why; i++) {
		read_phdr(f, out, i, &ph);
		if (ph.p_type == PT_LOAD) {
			why = check_load(&ph, size);
			if (!why)
				why = add_load(&ph, &sp, out);
		} else if (ph.p_type == PT_INTERP) {
			why = check_interp(f, size, &ph, out);
		} else if (ph.p_type == PT_DYNAMIC) {
			out->has_dynamic = 1;
		} else if (ph.p_type == PT_GNU_STACK) {
			out->exec_stack = (ph.p_flags & PF_X) != 0;
		}
	}
	return why ? why : finish_span(&sp, out->type, out);
}

/* The entry point must be inside an executable PT_LOAD's memory image. */
static const char *check_entry(const unsigned char *f, const struct elf_info *in)
{
	struct elf64_phdr ph;
	unsigned i;

	for (i = 0; i < in->phnum; i++) {
		read_phdr(f, in, i, &ph);
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && in->entry >= ph.p_vaddr &&
		    in->entry - ph.p_vaddr < ph.p_memsz)
			return NULL;
	}
	return "entry point is outside every executable PT_LOAD segment";
}

const char *elf_check(const void *file, size_t size, struct elf_info *out)
{
	const unsigned char *f = file;
	struct elf64_ehdr eh;
	const char *why;

	__builtin_memset(out, 0, sizeof(*out));
	why = check_ident(f, size, &eh);
	if (!why)
		why = check_type(&eh);
	if (!why)
		why = check_phtab(&eh, size, out);
	if (why)
		return why;
	out->type = eh.e_type;
	out->entry = eh.e_entry;
	out->max_align = PAGE_SIZE;
	why = check_segments(f, size, out);
	if (!why)
		why = check_entry(f, out);
	return why;
}
