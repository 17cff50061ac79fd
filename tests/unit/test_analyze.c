/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of `elfvm analyze` (tools/analyze_walk.c, analyze_elf.c,
 * analyze_sites.c) under ASan and UBSan: the backward walk on hand-written
 * instruction bytes (the assembly in a comment beside each), then whole
 * objects built here in memory, intact and corrupt (a truncated segment,
 * symbols out of range, names past the string table, a syscall cut by
 * the segment's end): a clear error or a sane result, never a crash.
 */
#include "tools/tools.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"

#define BASE 0x401000ull

/* Checks that r holds exactly the numbers want[0..n) and says unknown as
 * told. */
static const char *nums_are(const struct walk_res *r, const uint64_t *want, int n, int unknown)
{
	if (r->nnums != n)
		return err("expected %d numbers, got %d (unknown %d: %s)", n, r->nnums, r->unknown,
			   r->why ? r->why : "");
	for (int i = 0; i < n; i++) {
		int found = 0;
		for (int k = 0; k < r->nnums; k++)
			found |= r->nums[k] == want[i];
		if (!found)
			return err("number %llu missing", (unsigned long long)want[i]);
	}
	if (r->unknown != unknown)
		return err("expected unknown=%d, got %d (%s)", unknown, r->unknown,
			   r->why ? r->why : "");
	return NULL;
}

/* Walks reg before the instruction at BASE+off of code. */
static const char *walk(const uint8_t *code, size_t len, size_t off, int reg, struct walk_res *r)
{
	int e = analyze_walk(code, len, BASE, BASE + off, reg, r);
	return e < 0 ? err("analyze_walk returned %d", e) : NULL;
}

static void test_walk(void)
{
	struct walk_res r;
	const char *why;

	/* mov $60,%eax; syscall */
	static const uint8_t imm[] = { 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05 };
	why = walk(imm, sizeof(imm), 5, WALK_RAX, &r);
	report("walk/immediate", why ? why : nums_are(&r, (uint64_t[]){ 60 }, 1, 0));

	/* mov $39,%ecx; mov %ecx,%edx; mov %edx,%eax; syscall */
	static const uint8_t regs[] = { 0xb9, 0x27, 0, 0, 0, 0x89, 0xca, 0x89, 0xd0, 0x0f, 0x05 };
	why = walk(regs, sizeof(regs), 9, WALK_RAX, &r);
	report("walk/through-registers", why ? why : nums_are(&r, (uint64_t[]){ 39 }, 1, 0));

	/* mov 8(%rdi),%eax; syscall */
	static const uint8_t mem[] = { 0x8b, 0x47, 0x08, 0x0f, 0x05 };
	why = walk(mem, sizeof(mem), 3, WALK_RAX, &r);
	report("walk/from-memory-unknown", why ? why : nums_are(&r, NULL, 0, 1));

	/* mov $231,%edi; call .+0x100: the wrapper's argument at the call */
	static const uint8_t call[] = { 0xbf, 0xe7, 0, 0, 0, 0xe8, 0xfb, 0, 0, 0 };
	why = walk(call, sizeof(call), 5, WALK_RDI, &r);
	report("walk/wrapper-call-rdi", why ? why : nums_are(&r, (uint64_t[]){ 231 }, 1, 0));

	/* A wrapper's body: mov %rdi,%rax; mov %rsi,%rdi; syscall */
	static const uint8_t body[] = { 0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x0f, 0x05 };
	why = walk(body, sizeof(body), 6, WALK_RAX, &r);
	if (!why && (r.args != 1u << WALK_RDI || r.unknown || r.nnums))
		why = err("expected rdi at entry only, got args %#x unknown %d nums %d", r.args,
			  r.unknown, r.nnums);
	report("walk/wrapper-body-arg", why);

	/* glibc's INTERNAL_SYSCALL: mov $1,%eax; mov %rbx,%rdi;
	 * lea 16(%rsp),%rsi; mov $12,%edx; mov %r12,%r10; syscall */
	static const uint8_t far[] = { 0xb8, 1,    0,    0, 0, 0x48, 0x89, 0xdf, 0x48, 0x8d, 0x74, 0x24,
				       0x10, 0xba, 0x0c, 0, 0, 0,    0x4d, 0x89, 0xe2, 0x0f, 0x05 };
	why = walk(far, sizeof(far), 21, WALK_RAX, &r);
	report("walk/glibc-mov-far-before", why ? why : nums_are(&r, (uint64_t[]){ 1 }, 1, 0));

	/* test %edi,%edi; je 1f; mov $0,%eax; jmp 2f; 1: mov $1,%eax; 2: syscall */
	static const uint8_t two[] = { 0x85, 0xff, 0x74, 0x07, 0xb8, 0, 0, 0,    0,
				       0xeb, 0x05, 0xb8, 1,    0,    0, 0, 0x0f, 0x05 };
	why = walk(two, sizeof(two), 16, WALK_RAX, &r);
	report("walk/two-paths", why ? why : nums_are(&r, (uint64_t[]){ 0, 1 }, 2, 0));

	/* mov $3,%eax; call .+0x40; syscall: the call clobbers rax */
	static const uint8_t clob[] = { 0xb8, 3, 0, 0, 0, 0xe8, 0x3b, 0, 0, 0, 0x0f, 0x05 };
	why = walk(clob, sizeof(clob), 10, WALK_RAX, &r);
	report("walk/call-in-between-unknown", why ? why : nums_are(&r, NULL, 0, 1));

	/* mov $7,%eax; 1: dec %ecx; jne 1b; syscall: a loop in between */
	static const uint8_t loop[] = { 0xb8, 7, 0, 0, 0, 0xff, 0xc9, 0x75, 0xfc, 0x0f, 0x05 };
	why = walk(loop, sizeof(loop), 9, WALK_RAX, &r);
	report("walk/loop", why ? why : nums_are(&r, (uint64_t[]){ 7 }, 1, 0));

	/* musl: xor %eax,%eax; mov $0x38,%al; syscall */
	static const uint8_t low8[] = { 0x31, 0xc0, 0xb0, 0x38, 0x0f, 0x05 };
	why = walk(low8, sizeof(low8), 4, WALK_RAX, &r);
	report("walk/musl-xor-mov-al", why ? why : nums_are(&r, (uint64_t[]){ 56 }, 1, 0));

	/* musl's __stdio_read: test %rax,%rax; je 1f; ud2; 1: syscall (rax is
	 * 0 where je was taken) */
	static const uint8_t je0[] = { 0x48, 0x85, 0xc0, 0x74, 0x02, 0x0f, 0x0b, 0x0f, 0x05 };
	why = walk(je0, sizeof(je0), 7, WALK_RAX, &r);
	report("walk/zero-where-je-taken", why ? why : nums_are(&r, (uint64_t[]){ 0 }, 1, 0));

	/* test %eax,%eax; jne 1f; syscall; 1: ret (0 where jne fell through) */
	static const uint8_t jne0[] = { 0x85, 0xc0, 0x75, 0x02, 0x0f, 0x05, 0xc3 };
	why = walk(jne0, sizeof(jne0), 4, WALK_RAX, &r);
	report("walk/zero-where-jne-not-taken", why ? why : nums_are(&r, (uint64_t[]){ 0 }, 1, 0));

	/* test %eax,%eax; je 1f; syscall; 1: ret: nothing known where je
	 * fell through */
	static const uint8_t jenot[] = { 0x85, 0xc0, 0x74, 0x02, 0x0f, 0x05, 0xc3 };
	why = walk(jenot, sizeof(jenot), 4, WALK_RAX, &r);
	report("walk/nothing-where-je-not-taken", why ? why : nums_are(&r, NULL, 0, 1));

	/* mov $5,%al alone: the upper bits are not known */
	static const uint8_t part[] = { 0xb0, 0x05, 0x0f, 0x05 };
	why = walk(part, sizeof(part), 2, WALK_RAX, &r);
	report("walk/low-byte-only-unknown", why ? why : nums_are(&r, NULL, 0, 1));

	/* mov 0x100(%rip),%rax; mov $39,%edi; call *%rax: libc-aware's entry */
	static const uint8_t ind[] = { 0x48, 0x8b, 0x05, 0, 1, 0, 0, 0xbf, 0x27, 0, 0, 0, 0xff, 0xd0 };
	why = walk(ind, sizeof(ind), 12, WALK_RAX, &r);
	if (!why && (r.nmems != 1 || r.mems[0] != BASE + 7 + 0x100))
		why = err("expected a load from %#llx, got %d loads", BASE + 0x107, r.nmems);
	if (!why)
		why = walk(ind, sizeof(ind), 12, WALK_RDI, &r);
	report("walk/indirect-call", why ? why : nums_are(&r, (uint64_t[]){ 39 }, 1, 0));

	/* Truncated: mov $60,%eax cut after 3 bytes; the site is no instruction. */
	static const uint8_t cut[] = { 0xb8, 0x3c, 0 };
	report("walk/truncated-buffer",
	       analyze_walk(cut, sizeof(cut), BASE, BASE + 3, WALK_RAX, &r) == -ENOENT
		       ? NULL
		       : err("expected -ENOENT"));
	/* A syscall cut in half at the end: 0f alone. */
	static const uint8_t half[] = { 0xb8, 0x3c, 0, 0, 0, 0x0f };
	report("walk/syscall-cut-at-end",
	       analyze_walk(half, sizeof(half), BASE, BASE + 5, WALK_RAX, &r) == -ENOENT
		       ? NULL
		       : err("expected -ENOENT"));
	/* The syscall in the last 2 bytes, then an instruction cut by the end. */
	static const uint8_t tail[] = { 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05, 0xb8, 0x3c };
	why = walk(tail, sizeof(tail), 5, WALK_RAX, &r);
	report("walk/instruction-cut-after-site", why ? why : nums_are(&r, (uint64_t[]){ 60 }, 1, 0));
	/* 0f 05 inside an immediate: mov $0x50f,%eax is no syscall. */
	static const uint8_t inside[] = { 0xb8, 0x0f, 0x05, 0, 0 };
	report("walk/bytes-inside-instruction",
	       analyze_walk(inside, sizeof(inside), BASE, BASE + 1, WALK_RAX, &r) == -ENOENT
		       ? NULL
		       : err("expected -ENOENT"));
	/* Stripped code: call abort; 11 nops; (aligned) mov %rdi,%rax;
	 * syscall.  The aligned instruction after the padding is an entry. */
	static const uint8_t lay[] = { 0xe8, 0,    0,    0,    0,    0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
				       0x90, 0x90, 0x90, 0x90, 0x90, 0x48, 0x89, 0xf8, 0x0f, 0x05 };
	struct walk_fn lf;
	why = walk_decode(&lf, lay, sizeof(lay), BASE, BASE, BASE + sizeof(lay), 0) < 0
		      ? "walk_decode failed"
		      : NULL;
	if (!why) {
		long i = walk_index(&lf, BASE + 0x13),
		     j = i < 0 ? -1 : walk_entry_before(&lf, (size_t)i);
		why = j < 0 || lf.v[j].addr != BASE + 0x10
			      ? err("expected the entry at +0x10, got index %ld", j)
			      : NULL;
		walk_free(&lf);
	}
	report("walk/entry-by-layout", why);

	/* A window that is no function entry: an argument is unknown. */
	struct walk_fn f;
	why = walk_decode(&f, body, sizeof(body), BASE, BASE, BASE + sizeof(body), 0) < 0
		      ? "walk_decode failed"
		      : NULL;
	if (!why) {
		walk_back(&f, 2, WALK_RAX, &r);
		why = r.args || !r.unknown
			      ? err("expected unknown without an entry, got args %#x", r.args)
			      : NULL;
		walk_free(&f);
	}
	report("walk/window-no-entry", why);
}

/* ---- whole objects, built in memory --------------------------------------- */

/*
 * The code of the test object at BASE:
 *   wrap:  mov %rdi,%rax; mov %rsi,%rdi; syscall; ret          (0x00, 9 bytes)
 *   main:  mov $39,%edi; call wrap; mov $60,%eax; syscall;     (0x10, 22 bytes)
 *          mov (%rbx),%eax; syscall; ret
 *   last:  mov $231,%eax; syscall                              (0x26: the last 7 bytes)
 */
static const uint8_t code[] = {
	0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x0f, 0x05, 0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
	0xcc, 0xbf, 0x27, 0,    0,    0,    0xe8, 0xe6, 0xff, 0xff, 0xff, 0xb8, 0x3c, 0,    0,
	0,    0x0f, 0x05, 0x8b, 0x03, 0x0f, 0x05, 0xc3, 0xb8, 0xe7, 0,    0,    0,    0x0f, 0x05,
};
#define CODE_OFF 0x1000

struct test_sym {
	const char *name;
	uint64_t value, size;
	uint32_t name_off; /* 0: where the name is put */
};

/* An ELF with code at CODE_OFF (one r-x PT_LOAD) and a .symtab of syms.
 * Returns its size; the buffer is out (malloc). */
static size_t elf_build(uint8_t **out, const struct test_sym *syms, int nsyms)
{
	size_t size = 0x2000;
	uint8_t *b = calloc(1, size);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + 64);
	char *strtab = (char *)b + 0x400, *shstr = (char *)b + 0x600;
	Elf64_Sym *st = (Elf64_Sym *)(b + 0x800);
	Elf64_Shdr *sh = (Elf64_Shdr *)(b + 0x1800);
	size_t so = 1;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = BASE + 0x10;
	eh->e_phoff = 64;
	eh->e_shoff = 0x1800;
	eh->e_ehsize = 64;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 1;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 4;
	eh->e_shstrndx = 3;
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD,
			    .p_flags = PF_R | PF_X,
			    .p_offset = CODE_OFF,
			    .p_vaddr = BASE,
			    .p_filesz = sizeof(code),
			    .p_memsz = sizeof(code),
			    .p_align = 0x1000 };
	memcpy(b + CODE_OFF, code, sizeof(code));
	for (int i = 0; i < nsyms; i++) {
		size_t l = strlen(syms[i].name) + 1;
		memcpy(strtab + so, syms[i].name, l);
		st[i + 1] = (Elf64_Sym){ .st_name = syms[i].name_off ? syms[i].name_off : (uint32_t)so,
					 .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
					 .st_shndx = 1,
					 .st_value = syms[i].value,
					 .st_size = syms[i].size };
		so += l;
	}
	memcpy(shstr, "\0.text\0.symtab\0.strtab\0.shstrtab", 33);
	sh[1] = (Elf64_Shdr){ .sh_name = 1,
			      .sh_type = SHT_PROGBITS,
			      .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
			      .sh_addr = BASE,
			      .sh_offset = CODE_OFF,
			      .sh_size = sizeof(code),
			      .sh_addralign = 16 };
	sh[2] = (Elf64_Shdr){ .sh_name = 7,
			      .sh_type = SHT_SYMTAB,
			      .sh_offset = 0x800,
			      .sh_size = (size_t)(nsyms + 1) * sizeof(Elf64_Sym),
			      .sh_link = 3,
			      .sh_info = 1,
			      .sh_addralign = 8,
			      .sh_entsize = sizeof(Elf64_Sym) };
	/* One string table (0x400-0x700) for symbol and section names: the
	 * section names are its last part (shstr, at 0x600). */
	sh[3] = (Elf64_Shdr){ .sh_name = 23,
			      .sh_type = SHT_STRTAB,
			      .sh_offset = 0x400,
			      .sh_size = 0x300,
			      .sh_addralign = 1 };
	for (int i = 1; i < 4; i++)
		sh[i].sh_name += 0x200;
	*out = b;
	return size;
}

/* Loads and analyses an object; fills r.  Returns an_obj_load's result. */
static int analyze_buf(const uint8_t *b, size_t size, struct an_obj *o, struct an_result *r, char *why,
		       size_t n)
{
	memset(r, 0, sizeof(*r));
	if (an_obj_load(o, "test", b, size, why, n) < 0)
		return -1;
	return an_analyze(o, 1, r);
}

static void test_objects(void)
{
	struct an_obj o;
	struct an_result r;
	char why[512];
	uint8_t *b;
	const struct test_sym good[] = {
		{ "wrap", BASE, 9, 0 }, { "main", BASE + 0x10, 0x16, 0 }, { "last", BASE + 0x26, 7, 0 }
	};
	size_t size = elf_build(&b, good, 3);

	int e = analyze_buf(b, size, &o, &r, why, sizeof(why));
	const char *w = e < 0 ? err("load failed: %s", why) : NULL;
	if (!w && (r.sites[39] != 1 || r.sites[60] != 1 || r.sites[231] != 1))
		w = err("expected getpid, exit, exit_group once each, got %u %u %u", r.sites[39],
			r.sites[60], r.sites[231]);
	if (!w && (r.nwr != 1 || r.wr[0].addr != BASE || r.wr[0].reg != WALK_RDI))
		w = err("expected one wrapper at %#llx with rdi, got %zu", BASE, r.nwr);
	if (!w && (r.nunk != 1 || strcmp(r.unk[0].sym, "main+0x13")))
		w = err("expected one unknown at main+0x13, got %zu (%s)", r.nunk,
			r.nunk ? r.unk[0].sym : "");
	if (!w && (r.nsyscall != 4 || r.ncalls != 1))
		w = err("expected 4 syscalls and 1 call examined, got %zu and %zu", r.nsyscall,
			r.ncalls);
	report("object/symbols-wrapper-unknown-last-bytes", w);
	an_result_free(&r);
	an_obj_free(&o);

	/* Corrupt symbols: st_value past the code, st_size past the segment,
	 * a name past the string table.  Sites are still found. */
	const struct test_sym bad[] = { { "far", 0xdeadbeef000ull, 16, 0 },
					{ "huge", BASE + 0x10, 0xffffffffffffff00ull, 0 },
					{ "noname", BASE, 9, 0x7fffffff } };
	free(b);
	size = elf_build(&b, bad, 3);
	e = analyze_buf(b, size, &o, &r, why, sizeof(why));
	w = e < 0 ? err("load failed: %s", why) : NULL;
	if (!w && (r.sites[60] != 1 || r.sites[231] != 1 || r.sites[39] != 1))
		w = err("expected the same numbers, got %u %u %u", r.sites[39], r.sites[60],
			r.sites[231]);
	report("object/corrupt-symbols", w);
	an_result_free(&r);
	an_obj_free(&o);

	/* No symbols at all: the call target is the probable entry. */
	free(b);
	size = elf_build(&b, NULL, 0);
	e = analyze_buf(b, size, &o, &r, why, sizeof(why));
	w = e < 0 ? err("load failed: %s", why) : NULL;
	if (!w && (r.sites[39] != 1 || r.sites[60] != 1 || r.sites[231] != 1))
		w = err("without symbols: got %u %u %u", r.sites[39], r.sites[60], r.sites[231]);
	report("object/no-symbols", w);
	an_result_free(&r);
	an_obj_free(&o);

	/* The segment's bytes run past the end of the file. */
	e = an_obj_load(&o, "test", b, CODE_OFF + 8, why, sizeof(why));
	report("object/truncated-segment",
	       e == 0                                     ? "accepted"
	       : !strstr(why, "past the end of the file") ? err("reason: %s", why)
							  : NULL);
	an_obj_free(&o);

	/* A segment cut so that its last instruction is half a syscall. */
	((Elf64_Phdr *)(b + 64))->p_filesz = sizeof(code) - 1;
	e = analyze_buf(b, size, &o, &r, why, sizeof(why));
	w = e < 0 ? err("load failed: %s", why) : NULL;
	if (!w && r.sites[231] != 0)
		w = "a syscall cut in half was counted";
	report("object/syscall-cut-by-segment-end", w);
	an_result_free(&r);
	an_obj_free(&o);

	/* Not an ELF, and a 32-bit class. */
	e = an_obj_load(&o, "test", (const uint8_t *)"hello", 5, why, sizeof(why));
	report("object/not-elf", e == 0 ? "accepted" : NULL);
	an_obj_free(&o);
	b[EI_CLASS] = ELFCLASS32;
	e = an_obj_load(&o, "test", b, size, why, sizeof(why));
	report("object/elf32", e == 0 ? "accepted" : NULL);
	an_obj_free(&o);
	free(b);
}

int main(void)
{
	test_walk();
	test_objects();
	return unit_done("test_analyze");
}
