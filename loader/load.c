// SPDX-License-Identifier: MIT
/*
 * Starting the program: read what the host asked for (.elfvm/exe, argv,
 * envp: docs/protocol.md), check the executable with elf_check, map its
 * PT_LOAD segments (copied from the image; bss and the heap come zeroed on
 * demand), build the stack Linux would build and jump.  PIE executables go
 * at Linux's ELF_ET_DYN_BASE.  A PT_INTERP (dynamic linking) is refused for
 * now with a clear reason.
 */
#include "kernel/abi.h"
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "loader/elf64.h"
#include "loader/loader.h"
#include "minifs/minifs.h"

#define ET_DYN_BASE 0x555555554000UL /* Linux's ELF_ET_DYN_BASE, no ASLR */
#define STACK_SIZE (8UL << 20)       /* RLIMIT_STACK's default */
#define ARGS_ROOM (256UL << 10)
#define MAX_ARGS 4096

struct program program; /* what the syscalls need to know about the program */

static const struct mfs_file *exe_file;
static uint64_t exe_bias;

static int prot_of(uint32_t pf)
{
	return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) |
	       (pf & PF_X ? PROT_EXEC : 0);
}

/* Copies the file part of one segment into fresh pages. */
static void load_segment(const uint8_t *file, const struct elf64_phdr *ph, uint64_t bias)
{
	uint64_t start = PAGE_DOWN(bias + ph->p_vaddr), end = PAGE_UP(bias + ph->p_vaddr + ph->p_memsz);
	struct vma *prev = vm_find(start);

	if (prev) { /* the previous segment's last page is shared with this one */
		vm_protect(start, PAGE_SIZE, prev->prot | prot_of(ph->p_flags));
		start += PAGE_SIZE;
	}
	if (start < end && vm_map(start, end - start, prot_of(ph->p_flags), VMA_IMAGE) < 0)
		vm_exit_error("out of memory loading the program");
	for (uint64_t off = 0; off < ph->p_filesz;) {
		uint64_t va = bias + ph->p_vaddr + off;
		uint8_t *page = vm_populate(PAGE_DOWN(va));
		if (!page)
			vm_exit_error("out of memory loading the program");
		uint64_t n = MIN(PAGE_SIZE - (va & (PAGE_SIZE - 1)), ph->p_filesz - off);
		memcpy(page + (va & (PAGE_SIZE - 1)), file + ph->p_offset + off, n);
		off += n;
	}
}

/* Splits a control file of NUL-terminated strings into a vector. */
static int split(const char *name, const char **vec, int max)
{
	const struct mfs_file *f = mfs_lookup(name);
	int n = 0;

	if (!f)
		return 0;
	const char *p = f->data, *end = p + f->size;
	while (p < end && n < max) {
		size_t len = strnlen(p, end - p);
		if (p + len == end)
			vm_exit_error("%s: the last string has no NUL", name);
		vec[n++] = p;
		p += len + 1;
	}
	return n;
}

static uint64_t phdr_address(const struct elf64_phdr *ph, int n, uint64_t phoff, uint64_t bias)
{
	for (int i = 0; i < n; i++)
		if (ph[i].p_type == PT_PHDR)
			return bias + ph[i].p_vaddr;
	for (int i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && phoff >= ph[i].p_offset &&
		    phoff < ph[i].p_offset + ph[i].p_filesz)
			return bias + ph[i].p_vaddr + (phoff - ph[i].p_offset);
	return 0;
}

/* "symbol+0xoff" from the executable's .symtab, for crash reports. */
static int symbolize(uint64_t addr, char *buf, size_t size)
{
	const uint8_t *f = exe_file->data;
	const struct elf64_ehdr *eh = (const void *)f;
	uint64_t a = addr - exe_bias, best = 0;
	const char *best_name = NULL;

	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(struct elf64_shdr) ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(struct elf64_shdr) > exe_file->size)
		return snprintf(buf, size, "?");
	const struct elf64_shdr *sh = (const void *)(f + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const struct elf64_shdr *str = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > exe_file->size ||
		    str->sh_offset + str->sh_size > exe_file->size)
			continue;
		const struct elf64_sym *s = (const void *)(f + sh[i].sh_offset);
		for (uint64_t j = 0; j < sh[i].sh_size / sizeof(*s); j++) {
			if (elf64_st_type(s[j].st_info) != STT_FUNC || s[j].st_value > a ||
			    s[j].st_value < best || s[j].st_name >= str->sh_size)
				continue;
			best = s[j].st_value;
			best_name = (const char *)f + str->sh_offset + s[j].st_name;
		}
	}
	if (!best_name)
		return snprintf(buf, size, "(%s)", addr >= exe_bias ? "in the program" : "?");
	return snprintf(buf, size, "%s+0x%lx", best_name, a - best);
}

static uint64_t build_stack(const struct elf_info *info, const struct elf64_phdr *ph,
			    uint64_t bias, const char *path)
{
	static const char *argv[MAX_ARGS], *envp[MAX_ARGS];
	uint8_t rnd[16];
	uint32_t r[4];

	int argc = split("/.elfvm/argv", argv, MAX_ARGS);
	int envc = split("/.elfvm/envp", envp, MAX_ARGS);
	if (argc == 0)
		argv[argc++] = path;
	random_bytes(rnd, sizeof(rnd));
	cpuid(1, 0, r);
	struct auxv_pair aux[] = {
		{ AT_MINSIGSTKSZ, 2048 + cpu_xsave_size() },
		{ AT_HWCAP, r[3] },
		{ AT_PAGESZ, PAGE_SIZE },
		{ AT_CLKTCK, 100 },
		{ AT_PHDR, phdr_address(ph, info->phnum, info->phoff, bias) },
		{ AT_PHENT, sizeof(struct elf64_phdr) },
		{ AT_PHNUM, info->phnum },
		{ AT_BASE, 0 },
		{ AT_FLAGS, 0 },
		{ AT_ENTRY, bias + info->entry },
		{ AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 },
		{ AT_SECURE, 0 },
		{ AT_HWCAP2, 0 },
	};
	struct stack_spec spec = {
		.argc = argc, .argv = argv, .envc = envc, .envp = envp,
		.execfn = path, .platform = "x86_64", .random = rnd,
		.aux = aux, .naux = ARRAY_SIZE(aux),
	};
	if (vm_map(USER_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, VMA_STACK) < 0)
		vm_exit_error("out of memory for the stack");
	char *sp = stack_build((char *)USER_TOP, ARGS_ROOM, &spec);
	if (!sp)
		vm_exit_error("the arguments and environment exceed %lu KiB", ARGS_ROOM >> 10);
	return (uint64_t)sp;
}

noreturn void loader_start(void)
{
	const struct mfs_file *pf = mfs_lookup("/.elfvm/exe");
	struct elf_info info;
	char path[4096];

	if (!pf || pf->size == 0 || pf->size >= sizeof(path))
		vm_exit_error("the image names no program (.elfvm/exe)");
	memcpy(path, pf->data, pf->size);
	path[pf->size] = 0;
	exe_file = mfs_lookup(path);
	if (!exe_file)
		vm_exit_error("%s: not in the image", path);
	const char *why = elf_check(exe_file->data, exe_file->size, &info);
	if (why)
		vm_exit_error("%s: %s", path, why);
	if (info.interp_len)
		vm_exit_error("%s: dynamically linked executables are not supported yet", path);

	const uint8_t *file = exe_file->data;
	const struct elf64_phdr *ph = (const void *)(file + info.phoff);
	uint64_t bias = info.type == ET_DYN ? ET_DYN_BASE - info.lo : 0;
	if (info.type == ET_DYN && info.max_align > PAGE_SIZE)
		bias = (ET_DYN_BASE + info.max_align - 1) / info.max_align * info.max_align - info.lo;
	for (int i = 0; i < info.phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			load_segment(file, &ph[i], bias);
	exe_bias = bias;
	program.brk_start = program.brk = PAGE_UP(bias + info.hi);
	program.exe_path = exe_file->path;
	signal_set_symbolizer(symbolize);
	uint64_t sp = build_stack(&info, ph, bias, exe_file->path);
	if (klog_verbose)
		vm_log_maps();
	klog("@@start");
	cpu_enter_program(bias + info.entry, sp);
}
