/* SPDX-License-Identifier: MIT */
/*
 * Proves that elf_check accepts what Linux runs and refuses every malformed
 * header with its own reason.  Each case builds an ELF image in memory (a
 * static non-PIE, a static PIE or a dynamic PIE) and changes one thing;
 * then the real files of this system are checked: busybox, ls, the dynamic
 * linker, libc.so.6 (runnable: accepted), libm.so.6 (no entry: refused) and
 * every ELF program in /usr/bin.  One line per case, exit 1 on any failure.
 */
#include "loader/loader.h"
#include <elf.h> /* the host's, to cross-check our layouts and spellings */
#include "loader/elf64.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#define SAME_FIELD(a, b, f) (offsetof(a, f) == offsetof(b, f))
_Static_assert(sizeof(struct elf64_ehdr) == sizeof(Elf64_Ehdr), "ehdr");
_Static_assert(SAME_FIELD(struct elf64_ehdr, Elf64_Ehdr, e_shstrndx), "eh");
_Static_assert(SAME_FIELD(struct elf64_ehdr, Elf64_Ehdr, e_phoff), "eh");
_Static_assert(sizeof(struct elf64_phdr) == sizeof(Elf64_Phdr), "phdr");
_Static_assert(SAME_FIELD(struct elf64_phdr, Elf64_Phdr, p_align), "ph");
_Static_assert(SAME_FIELD(struct elf64_phdr, Elf64_Phdr, p_flags), "ph");
_Static_assert(sizeof(struct elf64_shdr) == sizeof(Elf64_Shdr), "shdr");
_Static_assert(SAME_FIELD(struct elf64_shdr, Elf64_Shdr, sh_entsize), "sh");
_Static_assert(sizeof(struct elf64_sym) == sizeof(Elf64_Sym), "sym");
_Static_assert(SAME_FIELD(struct elf64_sym, Elf64_Sym, st_value), "sym");
_Static_assert(sizeof(struct elf64_dyn) == sizeof(Elf64_Dyn), "dyn");
_Static_assert(sizeof(struct elf64_rela) == sizeof(Elf64_Rela), "rela");

#define IMG_SIZE 0x3000
#define INTERP "/lib64/ld-linux-x86-64.so.2"


struct img {
	_Alignas(16) unsigned char b[IMG_SIZE];
	size_t size;
};

static struct elf64_ehdr *eh(struct img *m)
{
	return (void *)m->b;
}
static struct elf64_phdr *ph(struct img *m, int i)
{
	return (void *)(m->b + eh(m)->e_phoff + 56 * (size_t)i);
}

static void set_ph(struct img *m, int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t va,
		   uint64_t fsz, uint64_t msz)
{
	struct elf64_phdr p = { type, flags, off, va, va, fsz, msz, 0x1000 };

	*ph(m, i) = p;
}

/* The three PT_LOADs every image has, in slots first..first+2: R at base,
 * RX at base+0x1000 (the entry: exit(0)), RW with bss at base+0x2000. */
static void set_loads(struct img *m, int first, uint64_t base)
{
	set_ph(m, first, PT_LOAD, PF_R, 0, base, 0x1000, 0x1000);
	set_ph(m, first + 1, PT_LOAD, PF_R | PF_X, 0x1000, base + 0x1000, 0x1000, 0x1000);
	set_ph(m, first + 2, PT_LOAD, PF_R | PF_W, 0x2000, base + 0x2000, 0x800, 0x2000);
	memcpy(m->b + 0x1000, "\x31\xff\xb8\x3c\x00\x00\x00\x0f\x05", 9);
}

static void set_header(struct img *m, uint16_t type, uint64_t entry, uint16_t phnum)
{
	struct elf64_ehdr *e = eh(m);

	memset(m, 0, sizeof(*m));
	m->size = IMG_SIZE;
	memcpy(e->e_ident, "\177ELF\2\1\1", 7);
	e->e_type = type;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = entry;
	e->e_phoff = 64;
	e->e_ehsize = 64;
	e->e_phentsize = 56;
	e->e_phnum = phnum;
}

static void set_stack(struct img *m, int i)
{
	set_ph(m, i, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	ph(m, i)->p_align = 16;
}

/* PT_DYNAMIC at the start of the RW segment, holding DF_1_PIE. */
static void set_dynamic(struct img *m, int i)
{
	struct elf64_dyn d[2] = { { DT_FLAGS_1, DF_1_PIE }, { DT_NULL, 0 } };

	set_ph(m, i, PT_DYNAMIC, PF_R | PF_W, 0x2000, 0x2000, 32, 32);
	ph(m, i)->p_align = 8;
	memcpy(m->b + 0x2000, d, sizeof(d));
}

/* A static non-PIE at 0x400000: 3 PT_LOADs and PT_GNU_STACK. */
static void make_static(struct img *m)
{
	set_header(m, ET_EXEC, 0x401000, 4);
	set_loads(m, 0, 0x400000);
	set_stack(m, 3);
}

/* A static PIE at 0: the same plus PT_DYNAMIC with DF_1_PIE. */
static void make_spie(struct img *m)
{
	set_header(m, ET_DYN, 0x1000, 5);
	set_loads(m, 0, 0);
	set_stack(m, 3);
	set_dynamic(m, 4);
}

/* A dynamic PIE: PT_INTERP first (as ld places it), its string after the
 * program headers. */
static void make_dpie(struct img *m)
{
	set_header(m, ET_DYN, 0x1000, 6);
	set_ph(m, 0, PT_INTERP, PF_R, 0x200, 0x200, sizeof(INTERP), sizeof(INTERP));
	ph(m, 0)->p_align = 1;
	memcpy(m->b + 0x200, INTERP, sizeof(INTERP));
	set_loads(m, 1, 0);
	set_dynamic(m, 4);
	set_stack(m, 5);
}

/* NAME: elf_check gave GOT, the refusal WANT (NULL: accepted). */
static void expect(const char *name, const char *want, const char *got)
{
	int same = (!want && !got) || (want && got && !strcmp(want, got));

	report(name, same ? NULL
			  : err("expected %s got %s", want ? want : "accepted", got ? got : "accepted"));
}

static void check_true(const char *name, int cond, const char *what)
{
	report(name, cond ? NULL : err("expected %s", what));
}

/* ---- one change each to a valid image ----------------------------------- */
#define MUT(fn, body) \
	static void fn(struct img *m) \
	{ \
		body; \
	}

MUT(none, (void)m)
MUT(empty, m->size = 0)
MUT(tiny, m->size = 10)
MUT(short_header, m->size = 40)
MUT(bad_magic, m->b[1] = 'e')
MUT(script, memcpy(m->b, "#!/bin/sh\n", 10))
MUT(class_none, m->b[EI_CLASS] = ELFCLASSNONE)
MUT(class_3, m->b[EI_CLASS] = 3)
MUT(big_endian, m->b[EI_DATA] = ELFDATA2MSB)
MUT(data_none, m->b[EI_DATA] = ELFDATANONE)
MUT(ident_version, m->b[EI_VERSION] = 2)
MUT(e_version, eh(m)->e_version = 0)
MUT(machine_386, eh(m)->e_machine = EM_386)
MUT(machine_aarch64, eh(m)->e_machine = 183)
MUT(ehsize, eh(m)->e_ehsize = 52)
MUT(type_rel, eh(m)->e_type = ET_REL)
MUT(type_core, eh(m)->e_type = ET_CORE)
MUT(type_none, eh(m)->e_type = ET_NONE)
MUT(type_os, eh(m)->e_type = 0xfe00)
MUT(dyn_no_entry, eh(m)->e_entry = 0)
MUT(phentsize, eh(m)->e_phentsize = 32)
MUT(phnum_0, eh(m)->e_phnum = 0)
MUT(phnum_129, eh(m)->e_phnum = ELF_MAX_PHNUM + 1)
MUT(phnum_xnum, eh(m)->e_phnum = PN_XNUM)
MUT(phoff_past_end, eh(m)->e_phoff = IMG_SIZE)
MUT(phoff_straddles_end, eh(m)->e_phoff = IMG_SIZE - 100)
MUT(phoff_overflow, eh(m)->e_phoff = (uint64_t)-64)
MUT(no_load, for (int i = 0; i < 3; i++) ph(m, i)->p_type = PT_NOTE)
MUT(truncated_file, m->size = 0x2400)
MUT(seg_past_end, ph(m, 2)->p_filesz = 0x1001; ph(m, 2)->p_memsz = 0x2000)
MUT(seg_offset_overflow, ph(m, 2)->p_offset = (uint64_t)-0x1000; ph(m, 2)->p_filesz = 0x2000;
    ph(m, 2)->p_memsz = 0x2000)
MUT(filesz_gt_memsz, ph(m, 2)->p_memsz = 0x400)
MUT(vaddr_upper_half, ph(m, 2)->p_vaddr = 0xffff800000002000ull)
MUT(vaddr_memsz_wraps, ph(m, 2)->p_memsz = (uint64_t)-1)
MUT(vaddr_crosses_user_end, ph(m, 2)->p_vaddr = 0x7fffffffe000ull; ph(m, 2)->p_memsz = 0x2001)
MUT(vaddr_ends_at_user_end, ph(m, 2)->p_vaddr = 0x7fffffffe000ull)
MUT(not_ascending, struct elf64_phdr t = *ph(m, 1); *ph(m, 1) = *ph(m, 2); *ph(m, 2) = t)
MUT(overlap, ph(m, 1)->p_memsz = 0x1001)
MUT(duplicate_load, *ph(m, 3) = *ph(m, 2))
MUT(align_3, ph(m, 2)->p_align = 3)
MUT(align_2g, ph(m, 2)->p_align = 1ull << 31)
MUT(align_0, for (int i = 0; i < 3; i++) ph(m, i)->p_align = 0)
MUT(align_1, for (int i = 0; i < 3; i++) ph(m, i)->p_align = 1)
MUT(align_2m, for (int i = 0; i < 3; i++) ph(m, i)->p_align = 0x200000)
MUT(offset_vs_align, ph(m, 2)->p_vaddr += 0x800)
MUT(offset_vs_page, ph(m, 2)->p_align = 16; ph(m, 2)->p_offset += 0x10)
MUT(shared_page, ph(m, 0)->p_align = ph(m, 1)->p_align = 64;
    ph(m, 0)->p_memsz = ph(m, 0)->p_filesz = 0x40; ph(m, 1)->p_offset = ph(m, 1)->p_vaddr = 0x40;
    ph(m, 1)->p_filesz = ph(m, 1)->p_memsz = 0x1000; eh(m)->e_entry = 0x40)
MUT(bss_only, ph(m, 2)->p_filesz = 0)
MUT(all_empty, for (int i = 0; i < 3; i++) ph(m, i)->p_filesz = ph(m, i)->p_memsz = 0)
MUT(page_zero, for (int i = 0; i < 3; i++) ph(m, i)->p_vaddr -= 0x400000; eh(m)->e_entry -= 0x400000)
MUT(entry_in_rodata, eh(m)->e_entry = 0x400010)
MUT(entry_nowhere, eh(m)->e_entry = 0x999999)
MUT(entry_end_of_text, eh(m)->e_entry = 0x402000)
MUT(entry_last_text_byte, eh(m)->e_entry = 0x401fff)
MUT(exec_stack, ph(m, 3)->p_flags |= PF_X)
MUT(odd_phoff, memmove(m->b + 0x101, m->b + 64, 56 * 4); eh(m)->e_phoff = 0x101)
MUT(max_phnum, eh(m)->e_phnum = ELF_MAX_PHNUM; eh(m)->e_phoff = 0x400;
    memcpy(m->b + 0x400, m->b + 64, 56 * 4); ph(m, 3)->p_type = PT_NULL)
MUT(interp_past_end, ph(m, 0)->p_offset = IMG_SIZE - 4)
MUT(interp_overflow, ph(m, 0)->p_offset = (uint64_t)-8)
MUT(interp_no_nul, m->b[0x200 + sizeof(INTERP) - 1] = 'x')
MUT(interp_empty, m->b[0x200] = 0)
MUT(interp_too_long, ph(m, 0)->p_filesz = 4097)
MUT(interp_padded, ph(m, 0)->p_filesz += 7)
MUT(two_interps, *ph(m, 5) = *ph(m, 0))
MUT(dyn_no_pie_flag, memset(m->b + 0x2000, 0, 32))
MUT(dyn_entry_in_rodata, eh(m)->e_entry = 0x10)

struct ecase {
	const char *name;
	void (*make)(struct img *);
	void (*mut)(struct img *);
	const char *want; /* NULL: accepted */
};

static const struct ecase cases[] = {
	{ "static_exec", make_static, none, NULL },
	{ "static_pie", make_spie, none, NULL },
	{ "dynamic_pie", make_dpie, none, NULL },
	{ "empty_file", make_static, empty, "file too small to be an ELF file" },
	{ "ten_bytes", make_static, tiny, "file too small to be an ELF file" },
	{ "short_header", make_static, short_header, "file too small for an ELF64 header" },
	{ "bad_magic", make_static, bad_magic, "not an ELF file (bad magic)" },
	{ "shell_script", make_static, script, "not an ELF file (bad magic)" },
	{ "class_none", make_static, class_none, "bad ELF class (neither 32- nor 64-bit)" },
	{ "class_3", make_static, class_3, "bad ELF class (neither 32- nor 64-bit)" },
	{ "big_endian", make_static, big_endian,
	  "a big-endian ELF file; x86-64 programs are little-endian" },
	{ "data_none", make_static, data_none,
	  "bad ELF data encoding (neither little- nor big-endian)" },
	{ "ident_version", make_static, ident_version, "wrong ELF version in e_ident" },
	{ "e_version", make_static, e_version, "wrong ELF version in e_version" },
	{ "machine_386", make_static, machine_386, "wrong machine: not an x86-64 program" },
	{ "machine_aarch64", make_static, machine_aarch64, "wrong machine: not an x86-64 program" },
	{ "bad_ehsize", make_static, ehsize, "bad ELF header size (e_ehsize is not 64)" },
	{ "type_rel", make_static, type_rel, "an object file (.o), not a program" },
	{ "type_core", make_static, type_core, "a core dump, not a program" },
	{ "type_none", make_static, type_none, "unknown ELF file type (not a program)" },
	{ "type_os_specific", make_static, type_os, "unknown ELF file type (not a program)" },
	{ "shared_lib_no_entry", make_spie, dyn_no_entry,
	  "a shared library without an entry point, not a program" },
	{ "dyn_without_pie_flag", make_spie, dyn_no_pie_flag, NULL },
	{ "bad_phentsize", make_static, phentsize, "bad program header size (e_phentsize is not 56)" },
	{ "phnum_0", make_static, phnum_0, "no program headers" },
	{ "phnum_129", make_static, phnum_129, "too many program headers" },
	{ "phnum_pn_xnum", make_static, phnum_xnum, "too many program headers" },
	{ "phnum_128", make_static, max_phnum, NULL },
	{ "phoff_past_end", make_static, phoff_past_end, "program header table lies outside the file" },
	{ "phoff_straddles_end", make_static, phoff_straddles_end,
	  "program header table lies outside the file" },
	{ "phoff_overflow", make_static, phoff_overflow, "program header table lies outside the file" },
	{ "phoff_misaligned", make_static, odd_phoff, NULL },
	{ "no_pt_load", make_static, no_load, "no PT_LOAD segment" },
	{ "truncated_file", make_static, truncated_file,
	  "PT_LOAD segment extends past the end of the file" },
	{ "segment_past_end", make_static, seg_past_end,
	  "PT_LOAD segment extends past the end of the file" },
	{ "segment_offset_overflow", make_static, seg_offset_overflow,
	  "PT_LOAD segment extends past the end of the file" },
	{ "filesz_gt_memsz", make_static, filesz_gt_memsz,
	  "PT_LOAD segment has p_filesz larger than p_memsz" },
	{ "vaddr_upper_half", make_static, vaddr_upper_half,
	  "PT_LOAD segment reaches past the lower half of the address space" },
	{ "vaddr_memsz_wraps", make_static, vaddr_memsz_wraps,
	  "PT_LOAD segment reaches past the lower half of the address space" },
	{ "vaddr_crosses_user_end", make_static, vaddr_crosses_user_end,
	  "PT_LOAD segment reaches past the lower half of the address space" },
	{ "vaddr_ends_at_user_end", make_static, vaddr_ends_at_user_end, NULL },
	{ "loads_not_ascending", make_static, not_ascending,
	  "PT_LOAD segments are not in ascending address order" },
	{ "loads_overlap", make_static, overlap, "PT_LOAD segments overlap" },
	{ "load_repeated", make_static, duplicate_load, "PT_LOAD segments overlap" },
	{ "align_not_pow2", make_static, align_3, "PT_LOAD p_align is not a power of two" },
	{ "align_2g", make_static, align_2g, "PT_LOAD p_align is larger than 1 GiB" },
	{ "align_0", make_static, align_0, NULL },
	{ "align_1", make_static, align_1, NULL },
	{ "align_2m", make_spie, align_2m, NULL },
	{ "offset_vs_align", make_static, offset_vs_align,
	  "PT_LOAD p_offset and p_vaddr disagree modulo p_align" },
	{ "offset_vs_page", make_static, offset_vs_page,
	  "PT_LOAD p_offset and p_vaddr disagree modulo the page size" },
	{ "loads_share_a_page", make_spie, shared_page, NULL },
	{ "bss_only_segment", make_static, bss_only, NULL },
	{ "all_loads_empty", make_static, all_empty, "PT_LOAD segments are all empty" },
	{ "exec_at_page_zero", make_static, page_zero,
	  "a fixed-address program that wants page 0 mapped" },
	{ "pie_at_zero", make_spie, none, NULL },
	{ "entry_in_rodata", make_static, entry_in_rodata,
	  "entry point is outside every executable PT_LOAD segment" },
	{ "entry_nowhere", make_static, entry_nowhere,
	  "entry point is outside every executable PT_LOAD segment" },
	{ "entry_just_past_text", make_static, entry_end_of_text,
	  "entry point is outside every executable PT_LOAD segment" },
	{ "entry_last_text_byte", make_static, entry_last_text_byte, NULL },
	{ "pie_entry_in_rodata", make_spie, dyn_entry_in_rodata,
	  "entry point is outside every executable PT_LOAD segment" },
	{ "exec_stack", make_static, exec_stack, NULL },
	{ "interp_past_end", make_dpie, interp_past_end, "PT_INTERP lies outside the file" },
	{ "interp_offset_overflow", make_dpie, interp_overflow, "PT_INTERP lies outside the file" },
	{ "interp_not_nul_terminated", make_dpie, interp_no_nul,
	  "PT_INTERP path is not NUL-terminated" },
	{ "interp_empty", make_dpie, interp_empty, "PT_INTERP path is empty" },
	{ "interp_too_long", make_dpie, interp_too_long, "PT_INTERP path is too long" },
	{ "interp_padded_with_nuls", make_dpie, interp_padded, NULL },
	{ "two_interps", make_dpie, two_interps, "more than one PT_INTERP" },
};

static void run_cases(void)
{
	static struct img m;
	struct elf_info info;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cases[i].make(&m);
		cases[i].mut(&m);
		expect(cases[i].name, cases[i].want, elf_check(m.b, m.size, &info));
	}
}

/* What elf_check reports about the three valid images. */
static void check_info(void)
{
	static struct img m;
	struct elf_info i;

	make_static(&m);
	elf_check(m.b, m.size, &i);
	check_true("static_exec_info",
		   i.type == ET_EXEC && i.entry == 0x401000 && i.phoff == 64 && i.phnum == 4 &&
			   i.lo == 0x400000 && i.hi == 0x404000 && i.max_align == 0x1000 &&
			   !i.interp_len && !i.has_dynamic && !i.exec_stack,
		   "type 2, lo 0x400000, hi 0x404000, no interp");
	make_dpie(&m);
	elf_check(m.b, m.size, &i);
	check_true("dynamic_pie_info",
		   i.type == ET_DYN && i.lo == 0 && i.hi == 0x4000 && i.interp_off == 0x200 &&
			   i.interp_len == strlen(INTERP) && i.has_dynamic,
		   "type 3, lo 0, hi 0x4000, interp at 0x200 of length 27");
	make_static(&m);
	exec_stack(&m);
	elf_check(m.b, m.size, &i);
	check_true("exec_stack_info", i.exec_stack == 1, "exec_stack 1");
	make_spie(&m);
	align_2m(&m);
	elf_check(m.b, m.size, &i);
	check_true("max_align_info", i.max_align == 0x200000, "max_align 0x200000");
	make_static(&m);
	vaddr_ends_at_user_end(&m);
	elf_check(m.b, m.size, &i);
	check_true("user_end_info", i.hi == 0x800000000000ull, "hi 0x800000000000");
}

/* An i386 program (ELF32 header, one PT_LOAD, "xor ebx,ebx; mov eax,1;
 * int 0x80") written by hand: gcc -m32 may not be installed. */
static void check_elf32(void)
{
	static const unsigned char f[] = {
		0x7f, 'E',  'L',  'F',  1,    1,    1,    0,    0,    0, 0, 0, 0,    0, 0, 0, 2,
		0,    3,    0,    1,    0,    0,    0,       /* ET_EXEC, EM_386, EV_CURRENT */
		0x54, 0x80, 0x04, 0x08,                      /* e_entry 0x08048054 */
		0x34, 0,    0,    0,    0,    0,    0,    0, /* e_phoff 52, e_shoff 0 */
		0,    0,    0,    0,    0x34, 0,    0x20, 0, /* flags, ehsize, phentsize */
		1,    0,    0,    0,    0,    0,    0,    0, /* phnum 1, no sections */
		1,    0,    0,    0,    0,    0,    0,    0, /* PT_LOAD, offset 0 */
		0,    0x80, 0x04, 0x08, 0,    0x80, 0x04, 0x08, 0x5d, 0, 0, 0, 0x5d, 0, 0, 0, /* filesz, memsz */
		5,    0,    0,    0,    0,    0x10, 0,    0, /* R+X, align 0x1000 */
		0x31, 0xdb, 0xb8, 1,    0,    0,    0,    0xcd, 0x80,
	};
	struct elf_info i;

	expect("elf32_i386_program", "a 32-bit ELF file; only x86-64 (64-bit) programs run",
	       elf_check(f, sizeof(f), &i));
}

/* Maps a whole file read-only; NULL when it cannot be opened or is empty. */
static const unsigned char *map_file(const char *path, size_t *size)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*size = (size_t)st.st_size;
	return p;
}

struct fcase {
	const char *name, *path;
	const char *want;   /* NULL: accepted */
	uint16_t type;      /* when accepted */
	const char *interp; /* when accepted: PT_INTERP or NULL */
};

static const struct fcase files[] = {
	{ "busybox_static", "/bin/busybox", NULL, ET_EXEC, NULL },
	{ "ls_dynamic_pie", "/usr/bin/ls", NULL, ET_DYN, INTERP },
	{ "dynamic_linker", "/lib64/ld-linux-x86-64.so.2", NULL, ET_DYN, NULL },
	/* glibc's libc.so.6 has an entry point (it prints its version) */
	{ "libc_so_runnable", "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL, ET_DYN, INTERP },
	{ "libm_so_refused", "/usr/lib/x86_64-linux-gnu/libm.so.6",
	  "a shared library without an entry point, not a program", 0, NULL },
	{ "crt1_object_refused", "/usr/lib/x86_64-linux-gnu/crt1.o",
	  "an object file (.o), not a program", 0, NULL },
};

static void check_file(const struct fcase *c)
{
	struct elf_info i;
	const unsigned char *f;
	const char *why;
	char info_name[128];
	size_t size;
	int good;

	f = map_file(c->path, &size);
	if (!f) {
		skip(c->name, err("%s is not present", c->path));
		return;
	}
	why = elf_check(f, size, &i);
	expect(c->name, c->want, why);
	if (!why && !c->want) {
		good = i.type == c->type &&
		       (c->interp ? i.interp_len == strlen(c->interp) &&
					    !memcmp(f + i.interp_off, c->interp, i.interp_len)
				  : i.interp_len == 0);
		snprintf(info_name, sizeof(info_name), "%s_info", c->name);
		check_true(info_name, good, "the expected type and PT_INTERP");
	}
	munmap((void *)f, size);
}

/* Is this an x86-64 ELF64 program Linux would run (ET_EXEC, or ET_DYN
 * with an entry point)?  Read from the raw header, not through elf_check. */
static int runnable_x86_64(const unsigned char *f, size_t size)
{
	Elf64_Ehdr e;

	if (size < sizeof(e) || memcmp(f, ELFMAG, SELFMAG) || f[EI_CLASS] != ELFCLASS64)
		return 0;
	memcpy(&e, f, sizeof(e));
	return e.e_machine == EM_X86_64 && (e.e_type == ET_EXEC || (e.e_type == ET_DYN && e.e_entry));
}

/* Every program in /usr/bin runs on this Linux, so every one is accepted. */
static void check_usr_bin(void)
{
	char path[4096], msg[4600] = "";
	struct dirent *d;
	struct elf_info i;
	const unsigned char *f;
	const char *why;
	size_t size;
	int n = 0, bad = 0;
	DIR *dir = opendir("/usr/bin");

	if (!dir) {
		skip("usr_bin_all_accepted", "no /usr/bin");
		return;
	}
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/usr/bin/%s", d->d_name);
		f = map_file(path, &size);
		if (!f)
			continue;
		if (runnable_x86_64(f, size)) {
			n++;
			why = elf_check(f, size, &i);
			if (why && !bad++)
				snprintf(msg, sizeof(msg), "%s: %s", path, why);
		}
		munmap((void *)f, size);
	}
	closedir(dir);
	printf("# %d programs in /usr/bin\n", n);
	report("usr_bin_all_accepted",
	       bad ? err("expected all %d accepted got %d refused, first %s", n, bad, msg) : NULL);
}

int main(void)
{
	size_t i;

	run_cases();
	check_info();
	check_elf32();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_file(&files[i]);
	check_usr_bin();
	return unit_done("test_elf");
}
