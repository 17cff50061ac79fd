// SPDX-License-Identifier: MIT
/*
 * Threads on one CPU: a FIFO run queue, round-robin time slices of 10 ms
 * taken only while the program runs (the kernel is not preempted: a thread
 * switches when it sleeps or on its way back to the program), sleeping on
 * wait queues with deadlines, and program timers.  The timer is one-shot
 * and armed only for the next event: an idle VM with nothing due halts
 * with no interrupts at all.  Each switch saves the program's vector state
 * (XSAVE), FS and GS bases, and points the syscall entry at the next
 * thread's kernel stack.
 */
#include "kernel/abi.h"
#include "kernel/arch/x86_64/x86.h"
#include "kernel/kernel.h"
#include "kernel/lock.h"

#define SLICE_NS 10000000UL

struct thread *current;
static struct thread *all, *run_head, *run_tail, *dead;
static struct ktimer *timers;
bool sched_need_resched;
static int next_tid = 1, nthreads;
static uint64_t slice_end;

void switch_stacks(uint64_t *prev_ksp, uint64_t next_ksp);
extern char thread_first_return[], kthread_first_return[];

static void run_push(struct thread *t)
{
	if (t->queued)
		return;
	t->queued = true;
	t->run_next = NULL;
	if (run_tail)
		run_tail->run_next = t;
	else
		run_head = t;
	run_tail = t;
}

static struct thread *run_pop(void)
{
	struct thread *t = run_head;

	if (t) {
		run_head = t->run_next;
		if (!run_head)
			run_tail = NULL;
		t->queued = false;
	}
	return t;
}

/* Arms the one-shot timer for the nearest of: a program timer, a sleeper's
 * deadline, the end of the time slice when another thread waits to run. */
static void timer_reprogram(void)
{
	uint64_t next = ~0UL, now = clock_monotonic_ns();

	if (timers)
		next = timers->deadline;
	for (struct thread *t = all; t; t = t->all_next)
		if (t->state == THREAD_SLEEPING && t->deadline)
			next = MIN(next, t->deadline);
	if (run_head)
		next = MIN(next, slice_end);
	if (next != ~0UL)
		apic_timer_oneshot(next > now ? next - now : 1);
}

/* Called with interrupts off or before they are on: the thread list is
 * walked by the timer interrupt. */
static struct thread *thread_alloc_locked(void);

static struct thread *thread_alloc(void)
{
	uint64_t f = read_rflags();

	irq_disable();
	struct thread *t = thread_alloc_locked();
	if (f & RFLAGS_IF)
		irq_enable();
	return t;
}

static struct thread *thread_alloc_locked(void)
{
	struct thread *t = kzalloc(sizeof(*t));
	uint64_t stack = pages_alloc(KSTACK_SIZE / PAGE_SIZE);
	uint64_t fpu = page_alloc();

	if (!t || !stack || !fpu || cpu_xsave_size() > PAGE_SIZE) {
		kfree(t);
		if (stack)
			pages_free(stack, KSTACK_SIZE / PAGE_SIZE);
		if (fpu)
			page_free(fpu);
		return NULL;
	}
	t->kstack = (uint64_t)phys_to_virt(stack);
	t->fpu = phys_to_virt(fpu);
	t->tid = next_tid++;
	t->altstack_flags = SS_DISABLE;
	t->all_next = all;
	all = t;
	nthreads++;
	return t;
}

void sched_init(void)
{
	current = thread_alloc();
	if (!current)
		panic("no memory for the first thread");
	cpu_set_kstack(current->kstack + KSTACK_SIZE);
}

/* Puts a new thread on the run queue. */
static void start(struct thread *t)
{
	uint64_t f = read_rflags();

	irq_disable();
	run_push(t);
	timer_reprogram();
	if (f & RFLAGS_IF)
		irq_enable();
}

struct thread *thread_create(const struct regs *r, uint64_t sp, uint64_t fs)
{
	struct thread *t = thread_alloc();

	if (!t)
		return NULL;
	struct regs *ur = (struct regs *)(t->kstack + KSTACK_SIZE) - 1;
	*ur = *r;
	ur->rax = 0;
	if (sp)
		ur->rsp = sp;
	uint64_t *frame = (uint64_t *)ur - 7; /* what switch_stacks pops */
	memset(frame, 0, 6 * sizeof(uint64_t));
	frame[6] = (uint64_t)thread_first_return;
	t->ksp = (uint64_t)frame;
	t->fs_base = fs;
	t->gs_base = current->gs_base;
	t->sigmask = current->sigmask;
	cpu_fpu_save(t->fpu); /* a new thread starts with its creator's state */
	memcpy(t->comm, current->comm, sizeof(t->comm));
	t->nice = current->nice;
	t->policy = current->policy;
	start(t);
	return t;
}

struct thread *kthread_create(void (*fn)(void *arg), void *arg)
{
	struct thread *t = thread_alloc();

	if (!t)
		return NULL;
	nthreads--; /* the VM ends with its last program thread */
	t->kernel = true;
	/* Nine words, so that fn is called on a 16-byte aligned stack. */
	uint64_t *frame = (uint64_t *)(t->kstack + KSTACK_SIZE) - 9;
	memset(frame, 0, 9 * sizeof(uint64_t));
	frame[2] = (uint64_t)arg; /* r13 */
	frame[3] = (uint64_t)fn;  /* r12 */
	frame[6] = (uint64_t)kthread_first_return;
	t->ksp = (uint64_t)frame;
	cpu_fpu_save(t->fpu);
	start(t);
	return t;
}

static void reap(void)
{
	while (dead) {
		struct thread *t = dead;
		dead = t->run_next;
		pages_free(virt_to_phys((void *)t->kstack), KSTACK_SIZE / PAGE_SIZE);
		page_free(virt_to_phys(t->fpu));
		kfree(t);
	}
}

static void switch_to(struct thread *prev, struct thread *next)
{
	cpu_fpu_save(prev->fpu);
	prev->fs_base = cpu_user_fs();
	prev->gs_base = cpu_user_gs();
	cpu_fpu_restore(next->fpu);
	cpu_set_user_fs(next->fs_base);
	cpu_set_user_gs(next->gs_base);
	cpu_set_kstack(next->kstack + KSTACK_SIZE);
	current = next;
	switch_stacks(&prev->ksp, next->ksp);
}

/* Picks the next thread and switches to it; with nobody runnable it halts
 * until an interrupt makes someone runnable.  Interrupts are disabled. */
static void schedule(void)
{
	struct thread *prev = current, *next;

	sched_need_resched = false;
	for (;;) {
		next = run_pop();
		if (next || prev->state == THREAD_RUNNABLE)
			break;
		timer_reprogram();
		irq_enable_and_halt();
		irq_disable();
	}
	if (!next)
		next = prev;
	else if (next != prev && prev->state == THREAD_RUNNABLE)
		run_push(prev); /* a no-op when a wake-up queued it while we halted */
	slice_end = clock_monotonic_ns() + SLICE_NS;
	if (next != prev)
		switch_to(prev, next);
	reap();
	timer_reprogram();
}

void sched_yield_cpu(void)
{
	uint64_t f = read_rflags();

	irq_disable();
	if (run_head)
		schedule();
	if (f & RFLAGS_IF)
		irq_enable();
}

void waitq_add(struct waitq *q, struct waiter *w)
{
	w->q = q;
	w->next = q->head;
	q->head = w;
}

void waitq_remove(struct waiter *w)
{
	if (!w->q)
		return;
	for (struct waiter **pp = &w->q->head; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	w->q = NULL;
}

void sched_wake(struct thread *t, int why)
{
	if (t->state != THREAD_SLEEPING)
		return;
	t->state = THREAD_RUNNABLE;
	t->wake = why;
	t->deadline = 0;
	run_push(t);
	timer_reprogram();
}

int wake_up(struct waitq *q)
{
	int n = 0;

	for (struct waiter *w = q->head, *next; w; w = next) {
		next = w->next; /* a callback may remove itself */
		if (w->fn)
			w->fn(w);
		else
			sched_wake(w->thread, WAKE_EVENT);
		n++;
	}
	return n;
}

long sched_sleep(struct waitq *q, uint64_t deadline)
{
	struct waiter w = { .thread = current };

	if (signal_wakes(current))
		return -EINTR;
	if (q)
		waitq_add(q, &w);
	current->state = THREAD_SLEEPING;
	current->deadline = deadline;
	current->wake = WAKE_EVENT;
	if (deadline && deadline <= clock_monotonic_ns()) {
		current->state = THREAD_RUNNABLE;
		current->wake = WAKE_TIMEOUT;
	} else {
		timer_reprogram();
		schedule();
	}
	if (q)
		waitq_remove(&w);
	current->deadline = 0;
	return current->wake == WAKE_TIMEOUT ? -ETIMEDOUT : current->wake == WAKE_SIGNAL ? -EINTR : 0;
}

void timer_arm(struct ktimer *t, uint64_t deadline)
{
	uint64_t f = read_rflags();

	irq_disable();
	timer_cancel(t);
	t->deadline = deadline;
	struct ktimer **pp = &timers;
	while (*pp && (*pp)->deadline <= deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
	timer_reprogram();
	if (f & RFLAGS_IF)
		irq_enable();
}

void timer_cancel(struct ktimer *t)
{
	uint64_t f = read_rflags();

	irq_disable();
	for (struct ktimer **pp = &timers; *pp && t->armed; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	if (f & RFLAGS_IF)
		irq_enable();
}

void sched_tick(void)
{
	uint64_t now = clock_monotonic_ns();

	while (timers && timers->deadline <= now) {
		struct ktimer *t = timers;
		timers = t->next;
		t->armed = false;
		t->fn(t); /* may re-arm itself */
	}
	for (struct thread *t = all; t; t = t->all_next)
		if (t->state == THREAD_SLEEPING && t->deadline && t->deadline <= now)
			sched_wake(t, WAKE_TIMEOUT);
	if (run_head && now >= slice_end)
		sched_need_resched = true;
	timer_reprogram();
}

void sched_return_to_user(struct regs *r, bool syscall)
{
	irq_disable();
	if (sched_need_resched && run_head)
		schedule();
	signal_deliver(r, syscall);
}

static noreturn void retire(struct thread *t)
{
	for (struct thread **pp = &all; *pp; pp = &(*pp)->all_next) {
		if (*pp == t) {
			*pp = t->all_next;
			break;
		}
	}
	t->state = THREAD_DEAD;
	t->run_next = dead; /* freed by the next thread, off this stack */
	dead = t;
	schedule();
	panic("a dead thread ran again");
}

noreturn void kthread_exit(void)
{
	irq_disable();
	retire(current);
}

noreturn void thread_exit(int status)
{
	irq_disable();
	if (nthreads == 1)
		vm_exit_status(status);
	struct thread *t = current;
	nthreads--;
	retire(t);
}

struct thread *thread_by_tid(int tid)
{
	for (struct thread *t = all; t; t = t->all_next)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct thread *sched_all_threads(void)
{
	return all;
}

void mutex_lock(struct mutex *m)
{
	uint64_t f = read_rflags();

	irq_disable();
	if (m->owner == current)
		panic("mutex %s taken twice by thread %d", m->name, current->tid);
	while (m->owner) {
		struct waiter w = { .thread = current };
		waitq_add(&m->waiters, &w);
		current->state = THREAD_SLEEPING;
		current->deadline = 0;
		schedule(); /* not interruptible: a signal waits for the unlock */
		waitq_remove(&w);
	}
	m->owner = current;
	if (f & RFLAGS_IF)
		irq_enable();
}

void mutex_unlock(struct mutex *m)
{
	uint64_t f = read_rflags();

	irq_disable();
	BUG_ON(m->owner != current);
	m->owner = NULL;
	wake_up(&m->waiters);
	if (f & RFLAGS_IF)
		irq_enable();
}
