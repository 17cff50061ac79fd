/* SPDX-License-Identifier: MIT */
/*
 * `elfvm run --profile FILE`: the file made of a run's @@profile records
 * (vmm_lines.c gathers them; the kernel's counters are kernel/profile.c's).
 * One `NAME NUMBER COUNT` line per syscall the run made, sorted by number,
 * after one '#' line; `make SYSCALLS=FILE` and `elfvm analyze --profile`
 * read it as it is (docs/trim.md).  Names are musl's, as in the kernel's
 * log; a number musl does not name is only a comment, since no kernel
 * implements it.
 */
#include "tools/tools.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "syscall_names.h" /* generated: static const char *const syscall_names[] */

static const char *name_of(size_t nr)
{
	return nr < sizeof(syscall_names) / sizeof(syscall_names[0]) ? syscall_names[nr] : NULL;
}

int profile_write(const struct vm_profile *p, const char *path, const char *prog, char *why, size_t n)
{
	uint64_t calls = 0, other = p->count[VM_PROFILE_NRS];
	int kinds = 0, err;
	FILE *f;

	/* The header's totals are the NAME lines' own, so that they add up;
	 * calls to numbers without a name are counted apart. */
	for (size_t nr = 0; nr < VM_PROFILE_NRS; nr++) {
		if (name_of(nr)) {
			calls += p->count[nr];
			kinds += p->count[nr] != 0;
		} else {
			other += p->count[nr];
		}
	}
	if (!(f = fopen(path, "we"))) {
		snprintf(why, n, "--profile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# elfvm syscall profile of %s: %llu calls, %d syscalls (NAME NUMBER COUNT)", prog,
		(unsigned long long)calls, kinds);
	if (other)
		fprintf(f, "; %llu calls to numbers that are no syscall", (unsigned long long)other);
	fputc('\n', f);
	for (size_t nr = 0; nr < VM_PROFILE_NRS; nr++) {
		if (!p->count[nr])
			continue;
		if (name_of(nr))
			fprintf(f, "%s %zu %llu\n", name_of(nr), nr, (unsigned long long)p->count[nr]);
		else
			fprintf(f, "# %zu %llu (a number musl does not name: -ENOSYS)\n", nr,
				(unsigned long long)p->count[nr]);
	}
	if (p->count[VM_PROFILE_NRS])
		fprintf(f, "# >=%d %llu (numbers above Linux's table: -ENOSYS)\n", VM_PROFILE_NRS,
			(unsigned long long)p->count[VM_PROFILE_NRS]);
	err = ferror(f);
	if (fclose(f) || err) {
		snprintf(why, n, "--profile %s: write error", path);
		unlink(path);
		return -1;
	}
	return 0;
}
