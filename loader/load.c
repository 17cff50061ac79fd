// SPDX-License-Identifier: MIT
/*
 * Starting the program: read what the host asked for (.elfvm/exe, argv,
 * envp: docs/protocol.md), check the executable with elf_check, map its
 * PT_LOAD segments from the file (private mappings: pages are shared with
 * minifs until written), map its PT_INTERP (ld.so) the same way when it has
 * one, build the stack Linux would build, and jump to the interpreter's
 * entry or the program's.  PIE executables go at Linux's ELF_ET_DYN_BASE,
 * the interpreter top-down in the mmap area, as on Linux without ASLR.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "loader/elf64.h"
#include "loader/loader.h"
#include "minifs/minifs.h"

#define ET_DYN_BASE 0x555555554000UL /* Linux's ELF_ET_DYN_BASE, no ASLR */
#define STACK_SIZE (8UL << 20)       /* RLIMIT_STACK's default */
#define ARGS_ROOM (256UL << 10)
#define MAX_ARGS 4096

struct program program; /* what the syscalls need to know about the program */

/* One ELF file being loaded: its inode, checked headers and load bias. */
struct image {
	struct inode *ino;
	const uint8_t *data;
	struct elf_info info;
	const struct elf64_phdr *ph;
	uint64_t bias;
};

static struct image exe;

static int prot_of(uint32_t pf)
{
	return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) | (pf & PF_X ? PROT_EXEC : 0);
}

/* File pages map the file itself, as Linux does.  With a bss, the page
 * where the file part ends must read zeroes after it: that page and the
 * rest of the bss are anonymous, the tail of the file part copied in. */
static void load_segment(const struct image *im, const struct elf64_phdr *ph)
{
	uint64_t va = im->bias + ph->p_vaddr, file_end = va + ph->p_filesz;
	uint64_t start = PAGE_DOWN(va), end = PAGE_UP(va + ph->p_memsz);
	uint64_t mid = ph->p_memsz > ph->p_filesz ? PAGE_DOWN(file_end) : end;
	int prot = prot_of(ph->p_flags);

	if (mid > start && vm_map_object(start, mid - start, prot, VMA_IMAGE, &mfs_backing, im->ino,
					 (ph->p_offset - (va - start)) / PAGE_SIZE) < 0)
		vm_exit_error("out of memory loading %s", im->ino->path);
	if (end <= mid)
		return;
	if (vm_map(mid, end - mid, prot, VMA_IMAGE) < 0)
		vm_exit_error("out of memory loading %s", im->ino->path);
	if (file_end > mid) {
		uint8_t *page = vm_populate(mid);
		uint64_t from = MAX(va, mid);
		if (!page)
			vm_exit_error("out of memory loading %s", im->ino->path);
		memcpy(page + (from - mid), im->data + ph->p_offset + (from - va), file_end - from);
	}
}

/* Finds, checks and maps one ELF file; base 0 picks the program's place. */
static void load_image(struct image *im, const char *path, bool interp)
{
	im->ino = mfs_lookup(path);
	if (!im->ino || (im->ino->mode & S_IFMT) != S_IFREG)
		vm_exit_error("%s: not in the image", path);
	if (!im->ino->image || im->ino->image_size != im->ino->size)
		vm_exit_error("%s: changed since the image was made", path);
	im->data = im->ino->image;
	const char *why = elf_check(im->data, im->ino->size, &im->info);
	if (why)
		vm_exit_error("%s: %s", path, why);
	if (interp && (im->info.type != ET_DYN || im->info.interp_len))
		vm_exit_error("%s: not usable as a program interpreter", path);
	uint64_t align = MAX(im->info.max_align, PAGE_SIZE), span = im->info.hi - im->info.lo;
	if (im->info.type == ET_EXEC)
		im->bias = 0;
	else if (!interp)
		im->bias = (ET_DYN_BASE + align - 1) / align * align - im->info.lo;
	else {
		uint64_t at = vm_find_free(span + align);
		if (!at)
			vm_exit_error("%s: no room in the address space", path);
		im->bias = (at + align - 1) / align * align - im->info.lo;
	}
	im->ph = (const void *)(im->data + im->info.phoff);
	for (int i = 0; i < im->info.phnum; i++)
		if (im->ph[i].p_type == PT_LOAD) {
			load_segment(im, &im->ph[i]);
			loader_gdb_prefault(im->bias + im->ph[i].p_vaddr, im->ph[i].p_memsz);
		}
	loader_gdb_record(path, im->bias);
}

/* Splits a control file of NUL-terminated strings into a vector. */
static int split(const char *name, const char **vec, int max, struct inode **out)
{
	struct inode *f = mfs_lookup(name);
	int n = 0;

	*out = f;
	if (!f || !f->image)
		return 0;
	const char *p = (const char *)f->image, *end = p + f->image_size;
	while (p < end && n < max) {
		size_t len = strnlen(p, end - p);
		if (p + len == end)
			vm_exit_error("%s: the last string has no NUL", name);
		vec[n++] = p;
		p += len + 1;
	}
	return n;
}

static uint64_t phdr_address(const struct image *im)
{
	const struct elf64_phdr *ph = im->ph;

	for (int i = 0; i < im->info.phnum; i++)
		if (ph[i].p_type == PT_PHDR)
			return im->bias + ph[i].p_vaddr;
	for (int i = 0; i < im->info.phnum; i++)
		if (ph[i].p_type == PT_LOAD && im->info.phoff >= ph[i].p_offset &&
		    im->info.phoff < ph[i].p_offset + ph[i].p_filesz)
			return im->bias + ph[i].p_vaddr + (im->info.phoff - ph[i].p_offset);
	return 0;
}

/* "symbol+0xoff" from the executable's .symtab, for crash reports. */
static int symbolize(uint64_t addr, char *buf, size_t size)
{
	const uint8_t *f = exe.data;
	const struct elf64_ehdr *eh = (const void *)f;
	uint64_t a = addr - exe.bias, best = 0, fsize = exe.ino->size;
	const char *best_name = NULL;

	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(struct elf64_shdr) ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(struct elf64_shdr) > fsize)
		return snprintf(buf, size, "?");
	const struct elf64_shdr *sh = (const void *)(f + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const struct elf64_shdr *str = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > fsize || str->sh_offset + str->sh_size > fsize)
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
		return snprintf(buf, size, "(%s)", addr >= exe.bias ? "in the program" : "?");
	return snprintf(buf, size, "%s+0x%lx", best_name, a - best);
}

static uint64_t build_stack(const struct image *interp, struct proc_process *pp)
{
	static const char *argv[MAX_ARGS], *envp[MAX_ARGS];
	struct inode *fa, *fe;
	uint8_t rnd[16];

	int argc = split("/.elfvm/argv", argv, MAX_ARGS, &fa);
	int envc = split("/.elfvm/envp", envp, MAX_ARGS, &fe);
	if (argc == 0)
		argv[argc++] = exe.ino->path;
	random_bytes(rnd, sizeof(rnd));
	struct auxv_pair aux[] = {
		{ AT_SYSINFO_EHDR, vdso_map() },
		{ AT_MINSIGSTKSZ, 2048 + cpu_xsave_size() },
		{ AT_HWCAP, cpu_hwcap() },
		{ AT_PAGESZ, PAGE_SIZE },
		{ AT_CLKTCK, USER_HZ },
		{ AT_PHDR, phdr_address(&exe) },
		{ AT_PHENT, sizeof(struct elf64_phdr) },
		{ AT_PHNUM, exe.info.phnum },
		{ AT_BASE, interp ? interp->bias + interp->info.lo : 0 },
		{ AT_FLAGS, 0 },
		{ AT_ENTRY, exe.bias + exe.info.entry },
		{ AT_UID, 0 },
		{ AT_EUID, 0 },
		{ AT_GID, 0 },
		{ AT_EGID, 0 },
		{ AT_SECURE, 0 },
		{ AT_HWCAP2, cpu_hwcap2() },
	};
	struct stack_spec spec = {
		.argc = argc,
		.argv = argv,
		.envc = envc,
		.envp = envp,
		.execfn = exe.ino->path,
		.platform = "x86_64",
		.random = rnd,
		.aux = aux,
		.naux = ARRAY_SIZE(aux),
	};
	if (vm_map(USER_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, VMA_STACK) < 0)
		vm_exit_error("out of memory for the stack");
	loader_gdb_prefault(USER_TOP - STACK_SIZE, STACK_SIZE);
	uint64_t *sp = (uint64_t *)stack_build((char *)USER_TOP, ARGS_ROOM, &spec);
	if (!sp)
		vm_exit_error("the arguments and environment exceed %lu KiB", ARGS_ROOM >> 10);
	const uint64_t *auxv = sp + 1 + argc + 1 + envc + 1;
	const uint64_t *a = auxv;
	while (a[0] != AT_NULL)
		a += 2;
	*pp = (struct proc_process){
		.exe = exe.ino->path,
		.cmdline = fa && argc ? (const char *)fa->image : argv[0],
		.cmdline_len = fa && argc ? fa->image_size : strlen(argv[0]) + 1,
		.environ = fe ? (const char *)fe->image : "",
		.environ_len = fe ? fe->image_size : 0,
		.auxv = auxv,
		.auxv_len = (a + 2 - auxv) * sizeof(uint64_t),
	};
	return (uint64_t)sp;
}

noreturn void loader_start(void)
{
	struct inode *pf = mfs_lookup("/.elfvm/exe");
	struct image interp;
	struct proc_process pp;
	char path[PATH_MAX], ipath[PATH_MAX];

	if (!pf || !pf->image || pf->size == 0 || pf->size >= sizeof(path))
		vm_exit_error("the image names no program (.elfvm/exe)");
	memcpy(path, pf->image, pf->size);
	path[pf->size] = 0;
	loader_gdb_init();
	load_image(&exe, path, false);
	bool dynamic = exe.info.interp_len != 0;
	if (dynamic) {
		memcpy(ipath, exe.data + exe.info.interp_off, exe.info.interp_len + 1);
		load_image(&interp, ipath, true);
	}
	program.brk_start = program.brk = PAGE_UP(exe.bias + exe.info.hi);
	program.exe_path = exe.ino->path;
	const char *base = strrchr(exe.ino->path, '/');
	snprintf(current->comm, sizeof(current->comm), "%s", base ? base + 1 : exe.ino->path);
	signal_set_symbolizer(symbolize);
	uint64_t sp = build_stack(dynamic ? &interp : NULL, &pp);
	proc_set_process(&pp);
	mfs_lock();
	mfs_unlink(mfs_root, ".elfvm", 6); /* the control files are the host's business */
	mfs_unlock();
	if (klog_verbose)
		vm_log_maps();
	uint64_t entry = dynamic ? interp.bias + interp.info.entry : exe.bias + exe.info.entry;
	loader_gdb_wait(entry);
	klog("@@start");
	cpu_enter_program(entry, sp);
}
