// SPDX-License-Identifier: MIT
/* sysinfo: the system numbers a program sizes itself by are sane.
 * sysinfo() gives some RAM, free RAM no more than total and a unit;
 * sched_getaffinity names at least one CPU and sysconf agrees there is at
 * least one online; the page size is 4096; getrlimit(RLIMIT_STACK) gives a
 * soft limit of at least 1 MiB (or unlimited).  Nothing machine-specific is
 * printed. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	struct sysinfo si;
	int r = sysinfo(&si);
	ok(r == 0, "sysinfo succeeds");
	if (r == 0) {
		unsigned long long unit = si.mem_unit ? si.mem_unit : 1;
		ok(si.totalram * unit >= 16ULL << 20, "sysinfo: total RAM is at least 16 MiB");
		ok(si.freeram <= si.totalram, "sysinfo: free RAM is at most total RAM");
		ok(si.procs >= 1, "sysinfo: at least one process");
	}

	cpu_set_t set;
	CPU_ZERO(&set);
	ok(sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 1,
	   "sched_getaffinity names at least one CPU");
	ok(sysconf(_SC_NPROCESSORS_ONLN) >= 1, "sysconf: at least one CPU online");
	ok(sysconf(_SC_PAGESIZE) == 4096, "page size is 4096");

	struct rlimit rl;
	ok(getrlimit(RLIMIT_STACK, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 1 << 20),
	   "RLIMIT_STACK is at least 1 MiB");
	return bad;
}
