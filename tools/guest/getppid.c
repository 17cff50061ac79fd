// SPDX-License-Identifier: MIT
/*
 * Syscall round trip, both ways into the kernel, in one run: times N
 * getppid calls made with the raw `syscall` instruction (no libc wrapper)
 * using CLOCK_MONOTONIC, then N more through the vDSO's direct entry
 * __elfvm_syscall@ELFVM_1 (docs/vdso.md) when the vDSO has it.  It prints
 * each cost per call twice: once for people and once as "@@bench
 * getppid_ns=X calls=N" and "@@bench getppid_direct_ns=X" (or "=n/a" where
 * the vDSO lacks the entry, as Linux's does) for `elfvm bench`.  It also
 * writes "@@bench begin" just before the trap loop and "getppid:" right
 * after it, so that the host can time that loop with its own clock and
 * catch a guest clock that runs wrong.  Usage: getppid [N] (200000).
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#define NR_GETPPID 110L /* __NR_getppid */

typedef long (*direct_fn)(long, long, long, long, long, long, long);

static long raw_getppid(void)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(NR_GETPPID) : "rcx", "r11", "memory");
	return ret;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The version name of dynamic symbol i (DT_VERSYM, DT_VERDEF). */
static const char *sym_version(const char *strtab, const Elf64_Half *versym, const char *verdef,
			       unsigned long i)
{
	for (const Elf64_Verdef *d = (const void *)verdef; d;
	     d = d->vd_next ? (const void *)((const char *)d + d->vd_next) : NULL) {
		if (!(d->vd_flags & VER_FLG_BASE) && (d->vd_ndx & 0x7fff) == (versym[i] & 0x7fff))
			return strtab + ((const Elf64_Verdaux *)((const char *)d + d->vd_aux))->vda_name;
	}
	return "";
}

/* __elfvm_syscall@ELFVM_1 from the vDSO's dynamic symbols, or NULL. */
static direct_fn find_direct(void)
{
	const Elf64_Ehdr *eh = (const void *)getauxval(AT_SYSINFO_EHDR);
	const char *base = NULL, *strtab = NULL, *verdef = NULL;
	const Elf64_Dyn *dyn = NULL;
	const Elf64_Sym *sym = NULL;
	const Elf64_Half *versym = NULL;
	unsigned long n = 0;

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return NULL;
	const Elf64_Phdr *phdrs = (const void *)((const char *)eh + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = &phdrs[i];
		if (ph->p_type == PT_LOAD && !base)
			base = (const char *)eh + ph->p_offset - ph->p_vaddr;
		else if (ph->p_type == PT_DYNAMIC)
			dyn = (const void *)((const char *)eh + ph->p_offset);
	}
	for (; base && dyn && dyn->d_tag != DT_NULL; dyn++) {
		const char *p = base + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_STRTAB: strtab = p; break;
		case DT_SYMTAB: sym = (const void *)p; break;
		case DT_HASH: n = ((const Elf32_Word *)p)[1]; break;
		case DT_VERSYM: versym = (const void *)p; break;
		case DT_VERDEF: verdef = p; break;
		}
	}
	if (!strtab || !sym || !versym || !verdef)
		return NULL;
	for (unsigned long i = 0; i < n; i++)
		if (ELF64_ST_TYPE(sym[i].st_info) == STT_FUNC && sym[i].st_shndx != SHN_UNDEF &&
		    !strcmp(strtab + sym[i].st_name, "__elfvm_syscall") &&
		    !strcmp(sym_version(strtab, versym, verdef, i), "ELFVM_1"))
			return (direct_fn)(base + sym[i].st_value);
	return NULL;
}

int main(int argc, char **argv)
{
	static const char begin[] = "@@bench begin\n";
	long n = argc > 1 ? atol(argv[1]) : 200000;
	direct_fn direct = find_direct();
	long sum = 0;

	if (n <= 0)
		n = 200000;
	for (long i = 0; i < 1000; i++) /* warm caches and the TB cache */
		sum += raw_getppid();
	if (write(1, begin, sizeof begin - 1) != sizeof begin - 1)
		return 1;
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		sum += raw_getppid();
	double ns = (now_ns() - t0) / n;
	printf("getppid: %.1f ns per call (%ld calls, ppid %ld)\n", ns, n, raw_getppid());
	fflush(stdout);
	if (direct) {
		for (long i = 0; i < 1000; i++)
			sum += direct(NR_GETPPID, 0, 0, 0, 0, 0, 0);
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			sum += direct(NR_GETPPID, 0, 0, 0, 0, 0, 0);
		double dns = (now_ns() - t0) / n;
		printf("getppid through __elfvm_syscall: %.1f ns per call (%ld calls)\n", dns, n);
		printf("@@bench getppid_direct_ns=%.1f\n", dns);
	} else {
		printf("getppid through __elfvm_syscall: n/a (the vDSO does not have it)\n");
		printf("@@bench getppid_direct_ns=n/a\n");
	}
	/* Last, as before the direct loop existed: the trap figure's line. */
	printf("@@bench getppid_ns=%.1f calls=%ld\n", ns, n);
	return sum < 0; /* keeps the loops; getppid never fails */
}
