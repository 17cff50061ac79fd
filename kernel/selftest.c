// SPDX-License-Identifier: MIT
/*
 * Boot-time checks of what no program can reach directly: kernel threads,
 * wait queues, sleeping with deadlines and mutexes.  Run only with
 * selftest=1 on the command line (tests/run.sh sets it through
 * ELFVM_KERNEL_ARGS); the result is one log line, "selftest: … ok" or a
 * panic naming what failed.
 */
#include "kernel/abi.h"
#include "kernel/arch.h"
#include "kernel/kernel.h"
#include "kernel/lock.h"

#define ROUNDS 200

static struct waitq turn_q, done_q;
static struct mutex m = MUTEX_INIT("selftest");
static volatile int turn, done, shared, in_mutex;

/* Two threads take turns ROUNDS times; each turn also holds the mutex
 * across a yield, so the other must sleep on it. */
static void player(void *arg)
{
	int me = (int)(uint64_t)arg;

	for (int i = 0; i < ROUNDS; i++) {
		irq_disable();
		while (turn != me)
			sched_sleep(&turn_q, 0);
		irq_enable();
		mutex_lock(&m);
		if (in_mutex++)
			panic("selftest: two threads inside one mutex");
		sched_yield_cpu();
		shared++;
		in_mutex--;
		mutex_unlock(&m);
		turn = !me;
		wake_up(&turn_q);
	}
	irq_disable();
	done++;
	wake_up(&done_q);
	irq_enable();
}

void selftest_run(void)
{
	uint64_t t0 = clock_monotonic_ns();

	if (!kthread_create(player, (void *)0) || !kthread_create(player, (void *)1))
		panic("selftest: cannot create kernel threads");
	irq_disable();
	while (done < 2)
		sched_sleep(&done_q, 0);
	/* A deadline with nobody to wake us must end in -ETIMEDOUT. */
	long r = sched_sleep(&turn_q, clock_monotonic_ns() + 20000000);
	irq_enable();
	uint64_t dt = clock_monotonic_ns() - t0;
	if (shared != 2 * ROUNDS || r != -ETIMEDOUT)
		panic("selftest: shared %d (want %d), timed sleep %ld", shared, 2 * ROUNDS, r);
	klog("selftest: kernel threads, wait queues, mutexes and deadlines ok (%lu us)", dt / 1000);
}
