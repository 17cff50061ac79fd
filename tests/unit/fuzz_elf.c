/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for elf_check.  ASan and UBSan catch any read outside
 * the input or any overflow; when the file is accepted, every promise
 * elf_check makes to the loader is re-checked here from the raw bytes, and
 * a broken one aborts.  A refusal must be a non-empty line.  Run it as
 * `build/fuzz_elf -max_total_time=60 build/fuzz_corpus tests/unit/elf_corpus`
 * (libFuzzer writes what it learns into the first folder, so the seeds here
 * stay as committed; make that folder first).
 *
 * The seeds in elf_corpus/ were linked from `_start: xor %edi,%edi;
 * mov $60,%eax; syscall` with `gcc -nostdlib -s -Wl,--build-id=none
 * -Wl,-z,noseparate-code -Wl,-z,norelro` plus -static -no-pie
 * (static_exec), -static-pie (static_pie), -pie -Wl,-dynamic-linker,...
 * (dynamic_pie), -z execstack (exec_stack), -Wl,-z,max-page-size=64
 * (small_pages); bss_tls is a C file with a TLS variable and a 100 kB
 * array; elf32_i386 is the hand-made i386 file of test_elf.c.
 * For `elfvm analyze`: analyze_wrapper (a wrapper with its symbols, from
 * `wrap: mov %rdi,%rax; mov %rsi,%rdi; syscall; ret` and a _start that
 * calls it, -nostdlib -static, not stripped) and analyze_plt (syscall()
 * through glibc's PLT, -nostartfiles -no-pie -s).
 */
#include "loader/loader.h"
#include "loader/elf64.h"
#include "tools/tools.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_END 0x0000800000000000ull

#define ASSERT(c) \
	do { \
		if (!(c)) { \
			fprintf(stderr, "fuzz_elf: broken: %s\n", #c); \
			abort(); \
		} \
	} while (0)

static void check_refusal(const char *why)
{
	ASSERT(why[0] != '\0');
	ASSERT(strchr(why, '\n') == NULL);
}

/* Every PT_LOAD lies in the file and in [lo, hi); the entry is in an
 * executable one; the PT_INTERP string is where info says. */
static void check_segments(const uint8_t *d, size_t n, const struct elf_info *in)
{
	struct elf64_phdr ph;
	int entry_ok = 0;
	unsigned i;

	for (i = 0; i < in->phnum; i++) {
		memcpy(&ph, d + in->phoff + 56 * (size_t)i, sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		ASSERT(ph.p_offset <= n && ph.p_filesz <= n - ph.p_offset);
		ASSERT(ph.p_filesz <= ph.p_memsz);
		ASSERT(ph.p_vaddr >= in->lo);
		ASSERT(ph.p_vaddr + ph.p_memsz <= in->hi);
		ASSERT((ph.p_offset - ph.p_vaddr) % 4096 == 0);
		ASSERT(ph.p_align <= in->max_align || ph.p_align <= 1);
		if ((ph.p_flags & PF_X) && in->entry >= ph.p_vaddr &&
		    in->entry < ph.p_vaddr + ph.p_memsz)
			entry_ok = 1;
	}
	ASSERT(entry_ok);
}

static void check_info(const uint8_t *d, size_t n, const struct elf_info *in)
{
	ASSERT(in->type == ET_EXEC || in->type == ET_DYN);
	ASSERT(in->type == ET_EXEC || in->entry != 0);
	ASSERT(in->phnum >= 1 && in->phnum <= ELF_MAX_PHNUM);
	ASSERT(in->phoff <= n && (size_t)in->phnum * 56 <= n - in->phoff);
	ASSERT(in->lo < in->hi && in->hi <= USER_END);
	ASSERT(in->lo % 4096 == 0 && in->hi % 4096 == 0);
	ASSERT(in->type != ET_EXEC || in->lo >= 4096);
	ASSERT(in->entry >= in->lo && in->entry < in->hi);
	ASSERT(in->max_align >= 4096 && !(in->max_align & (in->max_align - 1)));
	if (in->interp_len) {
		ASSERT(in->interp_off < n && in->interp_len < n - in->interp_off);
		ASSERT(in->interp_len < 4096);
		ASSERT(d[in->interp_off + in->interp_len] == 0);
		ASSERT(memchr(d + in->interp_off, 0, in->interp_len) == NULL);
	} else {
		ASSERT(in->interp_off == 0);
	}
	ASSERT(in->has_dynamic == 0 || in->has_dynamic == 1);
	ASSERT(in->exec_stack == 0 || in->exec_stack == 1);
	check_segments(d, n, in);
}

/* The second entry: `elfvm analyze`'s ELF walk (tools/analyze_elf.c,
 * analyze_sites.c) on any input, accepted or not by elf_check.  It
 * refuses with a one-line reason, or every unknown site it lists lies in
 * the object's code.  libelf gets a private copy: it may write to it. */
static void check_analyze(const uint8_t *data, size_t size)
{
	struct an_obj o;
	struct an_result r;
	char why[512];
	uint8_t *d = malloc(size ? size : 1);

	ASSERT(d);
	memcpy(d, data, size);
	if (an_obj_load(&o, "fuzz", d, size, why, sizeof(why)) < 0) {
		check_refusal(why);
	} else if (an_analyze(&o, 1, &r) == 0) {
		ASSERT(r.nrecovered <= r.nsyscall + r.ncalls);
		for (size_t i = 0; i < r.nunk; i++)
			ASSERT(an_seg_of(&o, r.unk[i].addr) != NULL);
		an_result_free(&r);
	}
	an_obj_free(&o);
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_info a, b;
	const char *why = elf_check(data, size, &a);

	/* the verdict depends on the bytes alone */
	ASSERT(elf_check(data, size, &b) == why);
	if (why)
		check_refusal(why);
	else
		check_info(data, size, &a);
	check_analyze(data, size);
	return 0;
}
