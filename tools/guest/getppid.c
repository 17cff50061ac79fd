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
 * catch a guest clock that runs wrong.  After those lines, unchanged, the
 * same pair of loops for a 1-byte read(2) of /dev/zero and a 1-byte
 * write(2) to /dev/null ("@@bench read_ns=X read_direct_ns=Y calls=N",
 * "@@bench write_ns=…"); a call that does not return 1 ends the program
 * with status 1 after "@@bench error WHAT".  Usage: getppid [N] (200000).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#define NR_READ 0L      /* __NR_read */
#define NR_WRITE 1L     /* __NR_write */
#define NR_GETPPID 110L /* __NR_getppid */
#define WARM_CALLS 1000 /* untimed calls before each loop: caches, TCG's blocks */

typedef long (*direct_fn)(long, long, long, long, long, long, long);

static long raw_getppid(void)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(NR_GETPPID) : "rcx", "r11", "memory");
	return ret;
}

/* read or write of 1 byte with the raw `syscall` instruction: -errno or
 * the count, as the kernel returns it. */
static long raw_rw1(long nr, long fd, char *buf)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(fd), "S"(buf), "d"(1L)
			 : "rcx", "r11", "memory");
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

/* One call of the rw loops: inlined into rw_loop with direct either NULL
 * (the trap) or not, so that neither loop tests which it is. */
static inline __attribute__((always_inline)) long rw1(direct_fn direct, long nr, long fd, char *buf)
{
	return direct ? direct(nr, fd, (long)buf, 1, 0, 0, 0) : raw_rw1(nr, fd, buf);
}

/* WARM_CALLS then n timed calls of nr (1 byte on fd) by the trap (direct
 * NULL) or the direct entry.  Returns ns per call, or -1 after "@@bench
 * error" for the first call that did not return 1. */
static inline __attribute__((always_inline)) double
rw_loop(direct_fn direct, long nr, long fd, char *buf, long n)
{
	long r = 1, i, w;
	double t0;

	for (w = 0; w < WARM_CALLS && r == 1; w++)
		r = rw1(direct, nr, fd, buf);
	t0 = now_ns();
	for (i = 0; i < n && r == 1; i++)
		r = rw1(direct, nr, fd, buf);
	if (r == 1)
		return (now_ns() - t0) / n;
	printf("@@bench error %s of 1 byte %s %s returned %ld (%s) at call %ld of %ld\n",
	       nr == NR_READ ? "read" : "write", nr == NR_READ ? "from /dev/zero" : "to /dev/null",
	       direct ? "through __elfvm_syscall" : "by the trap", r,
	       r < 0 ? strerror((int)-r) : "not 1", w + i, n + WARM_CALLS);
	return -1;
}

/* Both loops of one operation and its two lines.  Returns 0, or -1 after
 * "@@bench error". */
static int rw_bench(direct_fn direct, long nr, long fd, long n)
{
	const char *name = nr == NR_READ ? "read" : "write";
	char buf[1] = { 'x' };
	double ns = rw_loop(NULL, nr, fd, buf, n), dns = -1;

	if (ns < 0 || (direct && (dns = rw_loop(direct, nr, fd, buf, n)) < 0))
		return -1;
	if (nr == NR_READ && buf[0] != 0) {
		printf("@@bench error read of 1 byte from /dev/zero gave %#x, not 0\n",
		       (unsigned char)buf[0]);
		return -1;
	}
	printf("%s of 1 byte %s: %.1f ns per call, through __elfvm_syscall ", name,
	       nr == NR_READ ? "from /dev/zero" : "to /dev/null", ns);
	if (direct)
		printf("%.1f ns (%ld calls each)\n@@bench %s_ns=%.1f %s_direct_ns=%.1f calls=%ld\n", dns,
		       n, name, ns, name, dns, n);
	else
		printf("n/a (%ld calls)\n@@bench %s_ns=%.1f %s_direct_ns=n/a calls=%ld\n", n, name, ns,
		       name, n);
	return 0;
}

/* The read and write rows, after getppid's: each file opened once. */
static int rw_main(direct_fn direct, long n)
{
	static const char *const path[2] = { "/dev/zero", "/dev/null" };
	int fd[2];

	for (int k = 0; k < 2; k++)
		if ((fd[k] = open(path[k], k ? O_WRONLY : O_RDONLY)) < 0) {
			printf("@@bench error open(%s): %s\n", path[k], strerror(errno));
			return -1;
		}
	if (rw_bench(direct, NR_READ, fd[0], n) < 0 || rw_bench(direct, NR_WRITE, fd[1], n) < 0)
		return -1;
	close(fd[0]), close(fd[1]);
	return 0;
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
	/* Last of getppid's lines, as before the direct loop existed: the
	 * trap figure's line.  The read and write rows follow. */
	printf("@@bench getppid_ns=%.1f calls=%ld\n", ns, n);
	/* sum keeps getppid's loops; getppid never fails. */
	return sum < 0 || rw_main(direct, n) < 0;
}
