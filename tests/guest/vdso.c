// SPDX-License-Identifier: MIT
/* vdso: the vDSO is there and answers like Linux's.  getauxval(AT_SYSINFO_
 * EHDR) names an ELF shared object that exports clock_gettime, clock_getres,
 * gettimeofday, time and getcpu, each also as __vdso_NAME, all with version
 * LINUX_2.6 (what glibc and musl look up); called directly, it answers and
 * hands an invalid clock to the kernel (-EINVAL, raw).  Through libc:
 * CLOCK_MONOTONIC, MONOTONIC_COARSE, BOOTTIME and REALTIME never go
 * backwards over many reads and advance; they agree with each other, and
 * gettimeofday and time agree with CLOCK_REALTIME; clock_getres is sane; an
 * invalid clock id is EINVAL; sched_getcpu answers.  (Bad pointers are not
 * tried: Linux's vDSO writes through them and faults.)  Under elfvm,
 * tests/compat/vdso_strace.sh also checks that no clock syscall is made.
 * Prints only "ok" lines, the same natively and in the VM. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"

#define LOOPS 100000
#define MS 1000000LL

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* ---- the vDSO's own symbol table, read as a libc reads it ---------------- */

static const char *strtab;
static const Elf64_Sym *symtab;
static const Elf64_Half *versym;
static const Elf64_Verdef *verdef;
static unsigned long nsyms;
static char *load_base;

static int vdso_parse(const Elf64_Ehdr *eh)
{
	const Elf64_Phdr *ph = (const void *)((const char *)eh + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_type != ET_DYN)
		return 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !load_base)
			load_base = (char *)eh + ph[i].p_offset - ph[i].p_vaddr;
		else if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const void *)((const char *)eh + ph[i].p_offset);
	}
	if (!load_base || !dyn)
		return 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		void *p = load_base + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_STRTAB: strtab = p; break;
		case DT_SYMTAB: symtab = p; break;
		case DT_HASH: nsyms = ((const Elf32_Word *)p)[1]; break;
		case DT_VERSYM: versym = p; break;
		case DT_VERDEF: verdef = p; break;
		}
	}
	return strtab && symtab && nsyms && versym && verdef;
}

static const char *version_name(int ndx)
{
	for (const Elf64_Verdef *d = verdef;; d = (const void *)((const char *)d + d->vd_next)) {
		if (!(d->vd_flags & VER_FLG_BASE) && (d->vd_ndx & 0x7fff) == ndx) {
			const Elf64_Verdaux *a = (const void *)((const char *)d + d->vd_aux);
			return strtab + a->vda_name;
		}
		if (!d->vd_next)
			return "";
	}
}

/* The address of a defined function NAME with version LINUX_2.6, or NULL. */
static void *vdso_sym(const char *name)
{
	for (unsigned long i = 0; i < nsyms; i++) {
		const Elf64_Sym *s = &symtab[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    strcmp(strtab + s->st_name, name))
			continue;
		if (!strcmp(version_name(versym[i] & 0x7fff), "LINUX_2.6"))
			return load_base + s->st_value;
	}
	return NULL;
}

static void test_exports(void)
{
	static const char *const names[] = {
		"clock_gettime", "__vdso_clock_gettime", "clock_getres", "__vdso_clock_getres",
		"gettimeofday",  "__vdso_gettimeofday",  "time",         "__vdso_time",
		"getcpu",        "__vdso_getcpu",
	};
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	int found = 0;

	ok_vals(ehdr != 0, "getauxval(AT_SYSINFO_EHDR) is set", ehdr, 0);
	if (!ehdr)
		return;
	if (!vdso_parse((const Elf64_Ehdr *)ehdr)) {
		ok_vals(0, "the vDSO is an ELF shared object with symbol versions", 0, 0);
		return;
	}
	printf("ok the vDSO is an ELF shared object with symbol versions\n");
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (vdso_sym(names[i])) {
			found++;
		} else {
			printf("FAIL: the vDSO does not export %s@LINUX_2.6\n", names[i]);
			bad = 1;
		}
	}
	if (found == sizeof(names) / sizeof(names[0]))
		printf("ok the vDSO exports the five calls and their __vdso_ names at LINUX_2.6\n");

	int (*cgt)(clockid_t, struct timespec *) = vdso_sym("__vdso_clock_gettime");
	time_t (*vtime)(time_t *) = vdso_sym("__vdso_time");
	long (*vgetcpu)(unsigned *, unsigned *, void *) = vdso_sym("__vdso_getcpu");
	struct timespec a, b;
	if (!cgt || !vtime || !vgetcpu)
		return;
	int r1 = cgt(CLOCK_REALTIME, &a);
	time_t t = 0, tr = vtime(&t);
	int r2 = cgt(CLOCK_REALTIME, &b);
	ok_vals(r1 == 0 && r2 == 0 && tr == t && t >= a.tv_sec - 1 && t <= b.tv_sec,
		"__vdso_clock_gettime and __vdso_time called directly agree", t, a.tv_sec);
	int r = cgt(12345, &a);
	ok_vals(r == -EINVAL, "__vdso_clock_gettime(invalid clock) returns -EINVAL", r, 0);
	unsigned cpu = ~0u, node = ~0u;
	long g = vgetcpu(&cpu, &node, NULL);
	ok_vals(g == 0 && cpu < 4096 && node < 4096, "__vdso_getcpu answers", g, cpu);
}

/* ---- the clocks through libc ------------------------------------------- */

/* LOOPS reads of clk never go backwards, stay normalised and advance. */
static void test_steady(clockid_t clk, const char *name)
{
	struct timespec t;
	char what[96];

	clock_gettime(clk, &t);
	long long first = ns(&t), prev = first, backwards = 0;
	for (int i = 0; i < LOOPS; i++) {
		if (clock_gettime(clk, &t) != 0 || t.tv_nsec < 0 || t.tv_nsec >= 1000000000L ||
		    ns(&t) < prev)
			backwards++;
		prev = ns(&t);
	}
	/* The coarse clock may not advance in a short loop: it ticks. */
	snprintf(what, sizeof(what), "%s never goes backwards over %d reads", name, LOOPS);
	ok_vals(backwards == 0 && (prev > first || clk == CLOCK_MONOTONIC_COARSE), what, backwards,
		prev - first);
}

static void test_agreement(void)
{
	struct timespec m0, c, bt, m1, r0, r1;
	struct timeval tv;

	clock_gettime(CLOCK_MONOTONIC, &m0);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &c);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	/* The coarse clock lags by at most a tick (Linux: 1..10 ms). */
	ok_vals(ns(&c) <= ns(&m1) && ns(&c) >= ns(&m0) - 20 * MS,
		"CLOCK_MONOTONIC_COARSE agrees with CLOCK_MONOTONIC", ns(&c), ns(&m0));
	/* BOOTTIME also counts suspended time, so it may be ahead. */
	ok_vals(ns(&bt) >= ns(&m0), "CLOCK_BOOTTIME is not behind CLOCK_MONOTONIC", ns(&bt), ns(&m0));

	clock_gettime(CLOCK_REALTIME, &r0);
	int g = gettimeofday(&tv, NULL);
	time_t t = time(NULL);
	clock_gettime(CLOCK_REALTIME, &r1);
	long long us = tv.tv_sec * 1000000LL + tv.tv_usec;
	ok_vals(g == 0 && us >= ns(&r0) / 1000 && us <= ns(&r1) / 1000 && tv.tv_usec >= 0 &&
			tv.tv_usec < 1000000,
		"gettimeofday lies between two CLOCK_REALTIME reads", us, ns(&r0));
	/* Linux's time() reads the coarse clock: up to a tick behind. */
	ok_vals(t >= r0.tv_sec - 1 && t <= r1.tv_sec, "time() agrees with CLOCK_REALTIME", t, r0.tv_sec);
	ok_vals(r0.tv_sec > 1577836800, "CLOCK_REALTIME is after 2020", r0.tv_sec, 0);

	struct timeval tv0, tv1;
	long long backwards = 0;
	gettimeofday(&tv0, NULL);
	for (int i = 0; i < LOOPS; i++) {
		gettimeofday(&tv1, NULL);
		if (tv1.tv_sec * 1000000LL + tv1.tv_usec < tv0.tv_sec * 1000000LL + tv0.tv_usec)
			backwards++;
		tv0 = tv1;
	}
	time_t t1 = time(NULL);
	for (int i = 0; i < LOOPS; i++) {
		time_t n = time(NULL);
		if (n < t1)
			backwards++;
		t1 = n;
	}
	ok_vals(backwards == 0, "gettimeofday and time never go backwards in a loop", backwards, 0);
}

static void test_misc(void)
{
	struct timespec r = { -1, -1 };

	ok_vals(clock_getres(CLOCK_MONOTONIC, &r) == 0 && ns(&r) > 0 && ns(&r) <= 10 * MS,
		"clock_getres(CLOCK_MONOTONIC) is between 1 ns and 10 ms", ns(&r), 0);
	ok_vals(clock_getres(CLOCK_REALTIME, NULL) == 0, "clock_getres(CLOCK_REALTIME, NULL) is 0", 0,
		0);
	errno = 0;
	int rc = clock_gettime(12345, &r);
	ok_vals(rc == -1 && errno == EINVAL, "clock_gettime(invalid clock) fails with EINVAL", rc,
		errno);
	errno = 0;
	rc = clock_getres(12345, &r);
	ok_vals(rc == -1 && errno == EINVAL, "clock_getres(invalid clock) fails with EINVAL", rc, errno);
	int cpu = sched_getcpu();
	ok_vals(cpu >= 0, "sched_getcpu answers", cpu, errno);
}

int main(void)
{
	test_exports();
	test_steady(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
	test_steady(CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE");
	test_steady(CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
	test_steady(CLOCK_REALTIME, "CLOCK_REALTIME");
	test_agreement();
	test_misc();
	return bad;
}
