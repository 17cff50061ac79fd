/* SPDX-License-Identifier: MIT */
/*
 * The ELF side of `elfvm analyze` (docs/analyze.md): reads one object
 * through libelf into what the site analysis needs: its executable PT_LOAD
 * segments, its function symbols (.symtab when present, else .dynsym), its
 * imports (PLT entries and GOT slots named by their relocations), and one
 * byte scan of the code for candidate sites: `syscall` and `int 0x80`,
 * direct calls and jumps (rel32), calls through a GOT slot and, in a
 * libc-aware musl, indirect calls.  Candidates are only byte patterns: the
 * decoding that says which are instructions is analyze_sites.c's.  A
 * corrupt file gives an error or fewer symbols, never a read out of bounds.
 */
#include "tools/tools.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 256

static int obj_fail(char *why, size_t n, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes "PATH: reason" to why.  Returns -1. */
static int obj_fail(char *why, size_t n, const char *path, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(why, n, "%s: ", path);

	va_start(ap, fmt);
	if (k >= 0 && (size_t)k < n)
		vsnprintf(why + k, n - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/* qsort, which must not be given a NULL array even when it is empty. */
static void sort(void *v, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, sz, cmp);
}

int an_grow(void **v, size_t *n, size_t *cap, size_t sz)
{
	if (*n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(*v, c * sz);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

const struct an_seg *an_seg_of(const struct an_obj *o, uint64_t addr)
{
	for (size_t i = 0; i < o->nsegs; i++)
		if (addr >= o->segs[i].vaddr && addr - o->segs[i].vaddr < o->segs[i].len)
			return &o->segs[i];
	return NULL;
}

/* The executable PT_LOAD segments, with their bytes in the file.  A
 * segment whose bytes run past the end of the file is an error. */
static int read_segments(struct an_obj *o, Elf *e, char *why, size_t n)
{
	size_t phnum, cap = 0;

	if (elf_getphdrnum(e, &phnum) != 0)
		return obj_fail(why, n, o->path, "no program headers: %s", elf_errmsg(-1));
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			return obj_fail(why, n, o->path, "program header %zu: %s", i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || ph.p_filesz == 0)
			continue;
		if (ph.p_offset > o->size || ph.p_filesz > o->size - ph.p_offset)
			return obj_fail(
				why, n, o->path,
				"executable segment %zu (offset %#llx, %llu bytes) runs past the end of "
				"the file (%zu bytes): truncated?",
				i, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz,
				o->size);
		if (ph.p_vaddr + ph.p_filesz < ph.p_vaddr)
			return obj_fail(why, n, o->path, "executable segment %zu wraps around", i);
		if (an_grow((void **)&o->segs, &o->nsegs, &cap, sizeof(*o->segs)) < 0)
			return obj_fail(why, n, o->path, "out of memory");
		o->segs[o->nsegs++] = (struct an_seg){
			.vaddr = ph.p_vaddr, .bytes = o->data + ph.p_offset, .len = ph.p_filesz
		};
		o->text += ph.p_filesz;
	}
	return 0;
}

/* A copy of a symbol name, or NULL when libelf finds none (an st_name
 * past the string table). */
static char *name_copy(Elf *e, size_t strndx, size_t off)
{
	const char *s = elf_strptr(e, strndx, off);
	return s ? strndup(s, NAME_MAX_LEN) : NULL;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct an_sym *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end < y->end) - (x->end > y->end); /* the largest first */
}

/* The function symbols of one symbol table section inside code. */
static int read_symtab(struct an_obj *o, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t cap = 0;

	if (!d || sh->sh_entsize == 0)
		return 0;
	size_t count = d->d_size / sizeof(Elf64_Sym);
	for (size_t i = 1; i < count; i++) {
		GElf_Sym s;
		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		int t = GELF_ST_TYPE(s.st_info);
		if (t != STT_FUNC && t != STT_NOTYPE && t != STT_GNU_IFUNC)
			continue;
		const struct an_seg *g = an_seg_of(o, s.st_value);
		if (!g)
			continue; /* not in code: data, or an st_value out of range */
		uint64_t left = g->vaddr + g->len - s.st_value;
		char *name = name_copy(e, sh->sh_link, s.st_name);
		if (!name && !(name = strdup("?")))
			return -1;
		if (!strcmp(name, "__aware_entry"))
			o->aware_entry = s.st_value;
		if (an_grow((void **)&o->syms, &o->nsyms, &cap, sizeof(*o->syms)) < 0) {
			free(name);
			return -1;
		}
		/* A size past the segment's end is corrupt: the symbol is
		 * kept as a label with no extent. */
		int sized = s.st_size > 0 && s.st_size <= left;
		o->syms[o->nsyms++] =
			(struct an_sym){ .start = s.st_value,
					 .end = sized ? s.st_value + s.st_size : s.st_value,
					 .name = name,
					 .sized = sized,
					 .cold = strstr(name, ".cold") != NULL };
	}
	return 0;
}

/* __aware_entry is data (a hidden object in .bss): found by name. */
static void find_aware_entry(struct an_obj *o, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d)
		return;
	size_t count = d->d_size / sizeof(Elf64_Sym);
	for (size_t i = 1; i < count && !o->aware_entry; i++) {
		GElf_Sym s;
		const char *nm;
		if (gelf_getsym(d, (int)i, &s) && s.st_shndx != SHN_UNDEF &&
		    (nm = elf_strptr(e, sh->sh_link, s.st_name)) && !strcmp(nm, "__aware_entry"))
			o->aware_entry = s.st_value;
	}
}

static int imp_add(struct an_obj *o, size_t *cap, uint64_t addr, const char *name)
{
	char *c = strdup(name);
	if (!c || an_grow((void **)&o->imps, &o->nimps, cap, sizeof(*o->imps)) < 0) {
		free(c);
		return -1;
	}
	o->imps[o->nimps++] = (struct an_import){ .addr = addr, .name = c };
	return 0;
}

/* GOT slots named by JUMP_SLOT and GLOB_DAT relocations. */
static int read_relocs(struct an_obj *o, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, size_t *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	Elf_Scn *ss = elf_getscn(e, sh->sh_link);
	GElf_Shdr ssh;
	Elf_Data *sd;

	if (!d || !ss || !gelf_getshdr(ss, &ssh) || !(sd = elf_getdata(ss, NULL)))
		return 0;
	size_t count = d->d_size / sizeof(Elf64_Rela);
	for (size_t i = 0; i < count; i++) {
		GElf_Rela r;
		GElf_Sym s;
		const char *nm;
		if (!gelf_getrela(d, (int)i, &r))
			continue;
		unsigned t = GELF_R_TYPE(r.r_info);
		if ((t != R_X86_64_JUMP_SLOT && t != R_X86_64_GLOB_DAT) ||
		    !gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &s) ||
		    !(nm = elf_strptr(e, ssh.sh_link, s.st_name)) || !*nm)
			continue;
		if (imp_add(o, cap, r.r_offset, nm) < 0)
			return -1;
	}
	return 0;
}

static int imp_cmp(const void *a, const void *b)
{
	const struct an_import *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

const char *an_import_at(const struct an_obj *o, uint64_t addr)
{
	size_t lo = 0, hi = o->nimps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->imps[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->nimps && o->imps[lo].addr == addr ? o->imps[lo].name : NULL;
}

/* PLT entries: each `jmp *SLOT(%rip)` (after an optional endbr64 and bnd
 * prefix) names the entry by its slot's import. */
static int read_plt(struct an_obj *o, const GElf_Shdr *sh, size_t nslots, size_t *cap)
{
	if (sh->sh_type != SHT_PROGBITS || sh->sh_offset > o->size ||
	    sh->sh_size > o->size - sh->sh_offset)
		return 0;
	const uint8_t *b = o->data + sh->sh_offset;
	size_t len = sh->sh_size;
	/* The slots, sorted, are the first nslots imports: the entries
	 * appended below are not searched. */
	struct an_obj slots = { .imps = o->imps, .nimps = nslots };
	for (size_t i = 0; i + 6 <= len; i++) {
		if (b[i] != 0xff || b[i + 1] != 0x25)
			continue;
		int32_t disp;
		memcpy(&disp, b + i + 2, 4);
		uint64_t at = sh->sh_addr + i;
		slots.imps = o->imps; /* imp_add may have moved them */
		const char *nm = an_import_at(&slots, at + 6 + (uint64_t)(int64_t)disp);
		if (!nm)
			continue;
		size_t s = i;
		if (s >= 1 && b[s - 1] == 0xf2)
			s--;
		if (s >= 4 && !memcmp(b + s - 4, "\xf3\x0f\x1e\xfa", 4))
			s -= 4;
		if (imp_add(o, cap, sh->sh_addr + s, nm) < 0)
			return -1;
	}
	return 0;
}

static int read_sections(struct an_obj *o, Elf *e)
{
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr sh, symsh, dynsh;
	size_t shstrndx, icap = 0;

	if (elf_getshdrstrndx(e, &shstrndx) != 0)
		shstrndx = 0;
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && !symtab) {
			symtab = scn;
			symsh = sh;
		} else if (sh.sh_type == SHT_DYNSYM && !dynsym) {
			dynsym = scn;
			dynsh = sh;
		} else if (sh.sh_type == SHT_RELA && read_relocs(o, e, scn, &sh, &icap) < 0) {
			return -1;
		}
	}
	/* Slots first, sorted (the PLT scan looks them up), then PLT entries. */
	sort(o->imps, o->nimps, sizeof(*o->imps), imp_cmp);
	size_t nslots = o->nimps;
	while ((scn = elf_nextscn(e, scn))) {
		const char *nm;
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_EXECINSTR) && shstrndx &&
		    (nm = elf_strptr(e, shstrndx, sh.sh_name)) && !strncmp(nm, ".plt", 4) &&
		    read_plt(o, &sh, nslots, &icap) < 0)
			return -1;
	}
	sort(o->imps, o->nimps, sizeof(*o->imps), imp_cmp);
	if (symtab && read_symtab(o, e, symtab, &symsh) < 0)
		return -1;
	if (!symtab && dynsym && read_symtab(o, e, dynsym, &dynsh) < 0)
		return -1;
	if (!o->aware_entry && symtab)
		find_aware_entry(o, e, symtab, &symsh);
	if (!o->aware_entry && dynsym)
		find_aware_entry(o, e, dynsym, &dynsh);
	sort(o->syms, o->nsyms, sizeof(*o->syms), sym_cmp);
	return 0;
}

static int call_cmp(const void *a, const void *b)
{
	const struct an_call *x = a, *y = b;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	return (x->site > y->site) - (x->site < y->site);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Is target the start of a function by the way code is laid out: aligned
 * to 16, or right after a ret, an int3 or a nop? */
static int looks_like_entry(const struct an_obj *o, uint64_t target)
{
	const struct an_seg *g = an_seg_of(o, target);
	if (!g)
		return 0;
	if (!(target & 15) || target == g->vaddr)
		return 1;
	uint8_t prev = g->bytes[target - g->vaddr - 1];
	return prev == 0xc3 || prev == 0xcc || prev == 0x90;
}

#define PUSH(arr, n, cap, val) \
	do { \
		if (an_grow((void **)&(arr), &(n), &(cap), sizeof(*(arr))) < 0) \
			return -1; \
		(arr)[(n)++] = (val); \
	} while (0)

/* One pass over the code: candidate sites and the rel32 call graph. */
static int scan_code(struct an_obj *o)
{
	size_t ccap = 0, gcap = 0, scap = 0, icap = 0, fcap = 0;

	for (size_t k = 0; k < o->nsegs; k++) {
		const uint8_t *b = o->segs[k].bytes;
		size_t len = o->segs[k].len;
		uint64_t va = o->segs[k].vaddr;
		for (size_t i = 0; i + 1 < len; i++) {
			uint8_t c = b[i], d = b[i + 1];
			if ((c == 0x0f && d == 0x05) || (c == 0xcd && d == 0x80) ||
			    (c == 0x0f && d == 0x34)) {
				PUSH(o->sites, o->nsites, scap, va + i);
			} else if ((c == 0xe8 || c == 0xe9) && i + 5 <= len) {
				int32_t rel;
				memcpy(&rel, b + i + 1, 4);
				uint64_t t = va + i + 5 + (uint64_t)(int64_t)rel;
				if (an_seg_of(o, t) || an_import_at(o, t)) {
					PUSH(o->calls, o->ncalls, ccap,
					     ((struct an_call){ .target = t, .site = va + i }));
					if (c == 0xe8 && looks_like_entry(o, t))
						PUSH(o->starts, o->nstarts, fcap, t);
				}
			} else if (c == 0xff && d == 0x15 && i + 6 <= len) {
				int32_t rel;
				memcpy(&rel, b + i + 2, 4);
				uint64_t t = va + i + 6 + (uint64_t)(int64_t)rel;
				if (an_import_at(o, t) || (o->aware_entry && t == o->aware_entry))
					PUSH(o->gcalls, o->ngcalls, gcap,
					     ((struct an_call){ .target = t, .site = va + i }));
			}
			/* call *%reg (ff d0+r, 41 ff d0+r): only a libc-aware
			 * musl's calls through __aware_entry matter. */
			if (o->aware_entry && c == 0xff && d >= 0xd0 && d <= 0xd7 && d != 0xd4)
				PUSH(o->icalls, o->nicalls, icap, va + i);
			if (o->aware_entry && c == 0x41 && d == 0xff && i + 2 < len &&
			    b[i + 2] >= 0xd0 && b[i + 2] <= 0xd7)
				PUSH(o->icalls, o->nicalls, icap, va + i);
		}
	}
	for (size_t i = 0; i < o->nsyms; i++)
		if (!o->syms[i].cold)
			PUSH(o->starts, o->nstarts, fcap, o->syms[i].start);
	sort(o->calls, o->ncalls, sizeof(*o->calls), call_cmp);
	sort(o->gcalls, o->ngcalls, sizeof(*o->gcalls), call_cmp);
	sort(o->starts, o->nstarts, sizeof(*o->starts), u64_cmp);
	size_t u = 0;
	for (size_t i = 0; i < o->nstarts; i++)
		if (!u || o->starts[u - 1] != o->starts[i])
			o->starts[u++] = o->starts[i];
	o->nstarts = u;
	return 0;
}

int an_obj_load(struct an_obj *o, const char *path, const unsigned char *data, size_t size, char *why,
		size_t n)
{
	memset(o, 0, sizeof(*o));
	if (n)
		why[0] = '\0';
	o->path = path;
	o->data = data;
	o->size = size;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return obj_fail(why, n, path, "libelf: %s", elf_errmsg(-1));
	Elf *e = elf_memory((char *)data, size);
	if (!e)
		return obj_fail(why, n, path, "not an ELF file: %s", elf_errmsg(-1));
	GElf_Ehdr eh;
	int r = -1;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) || gelf_getclass(e) != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64)
		obj_fail(why, n, path, "not a 64-bit x86-64 ELF file");
	else if (read_segments(o, e, why, n) == 0 && read_sections(o, e) == 0 && scan_code(o) == 0)
		r = 0;
	else if (!*why)
		obj_fail(why, n, path, "out of memory");
	elf_end(e);
	if (r < 0)
		an_obj_free(o);
	return r;
}

void an_obj_free(struct an_obj *o)
{
	for (size_t i = 0; i < o->nsyms; i++)
		free(o->syms[i].name);
	for (size_t i = 0; i < o->nimps; i++)
		free(o->imps[i].name);
	free(o->segs);
	free(o->syms);
	free(o->imps);
	free(o->sites);
	free(o->calls);
	free(o->gcalls);
	free(o->icalls);
	free(o->starts);
	walk_free(&o->dec[0].f);
	walk_free(&o->dec[1].f);
	memset(o, 0, sizeof(*o));
}
