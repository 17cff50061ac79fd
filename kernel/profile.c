// SPDX-License-Identifier: MIT
/*
 * The syscall profile (`elfvm run --profile FILE`, profile=1 on the command
 * line): one counter per syscall number, bumped by the dispatcher only when
 * profiling is on, and written out as @@profile records when the VM ends
 * (docs/protocol.md, docs/trim.md).  Counters, not a line per call, so that
 * a profiled run costs an increment per call.  It lives in kernel/ rather
 * than syscalls/ because the exits (exit.c) write it out.
 */
#include "kernel/kernel.h"

/* Linux's numbers are below PROFILE_SYSCALLS; every number at or above it
 * shares the last counter (no such syscall exists: all answer -ENOSYS). */
static uint64_t counts[PROFILE_SYSCALLS + 1];
static bool profiling;

void profile_start(void)
{
	profiling = true;
}

void profile_count(uint64_t nr)
{
	/* Relaxed atomics: exact counts even if two CPUs ever dispatch at
	 * once; the order between counters does not matter. */
	__atomic_fetch_add(&counts[nr < PROFILE_SYSCALLS ? nr : PROFILE_SYSCALLS], 1, __ATOMIC_RELAXED);
}

void profile_dump(void)
{
	if (!profiling)
		return;
	profiling = false; /* once, even if an exit path comes back here */
	for (uint64_t nr = 0; nr < PROFILE_SYSCALLS; nr++)
		if (counts[nr])
			klog("@@profile %lu %lu", nr, counts[nr]);
	if (counts[PROFILE_SYSCALLS])
		klog("@@profile other %lu", counts[PROFILE_SYSCALLS]);
}
