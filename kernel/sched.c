// SPDX-License-Identifier: MIT
/*
 * Threads on one CPU: a FIFO run queue, round-robin time slices of 10 ms
 * taken only while the program runs (the kernel is not preempted: a thread
 * switches when it sleeps or on its way back to the program), sleeping on
 * wait queues with deadlines, and program timers.  The timer is one-shot
 * and armed only for the next event: an idle VM with nothing due halts
 * with no interrupts at all.  Each switch saves the program's vector state
 * (XSAVE), FS and GS bases, and points the syscall entry at the next
 * thread's kernel stack.  sched_lock covers the run queue, the thread list,
 * every thread's state and deadline, and the timer list; each wait queue
 * has its own lock, taken before sched_lock when both are needed.
 */
#include "kernel/abi.h"
#include "kernel/arch.h"
#include "kernel/kernel.h"

#define SLICE_NS 10000000UL

struct thread *current;
static struct thread *all, *run_head, *run_tail, *dead;
static struct ktimer *timers;
static struct spinlock sched_lock = SPINLOCK_INIT("sched");
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

/* Takes t off the run queue if it is on it. */
static void run_remove(struct thread *t)
{
	struct thread *prev = NULL;

	if (!t->queued)
		return;
	for (struct thread *q = run_head; q; prev = q, q = q->run_next) {
		if (q != t)
			continue;
		if (prev)
			prev->run_next = q->run_next;
		else
			run_head = q->run_next;
		if (run_tail == q)
			run_tail = prev;
		break;
	}
	t->queued = false;
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
 * deadline, the end of the time slice when another thread waits to run.
 * Under sched_lock. */
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

/* A new thread, on the thread list but not yet runnable, or NULL. */
static struct thread *thread_alloc(void)
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
	t->altstack_flags = SS_DISABLE;
	unsigned long f = spin_lock_irqsave(&sched_lock);
	t->tid = next_tid++;
	t->all_next = all;
	all = t;
	nthreads++;
	spin_unlock_irqrestore(&sched_lock, f);
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
	unsigned long f = spin_lock_irqsave(&sched_lock);

	run_push(t);
	timer_reprogram();
	spin_unlock_irqrestore(&sched_lock, f);
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
	unsigned long f = spin_lock_irqsave(&sched_lock);
	nthreads--; /* the VM ends with its last program thread */
	spin_unlock_irqrestore(&sched_lock, f);
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
 * until an interrupt makes someone runnable.  Called with interrupts
 * disabled and sched_lock held; the lock is let go across the halt and the
 * switch (the thread switched to did not take it), interrupts stay off. */
static void schedule(void)
{
	struct thread *prev = current, *next;

	sched_need_resched = false;
	for (;;) {
		next = run_pop();
		if (next == prev && prev->state != THREAD_RUNNABLE)
			continue; /* queued by a wake-up, asleep again since */
		if (next || prev->state == THREAD_RUNNABLE)
			break;
		timer_reprogram();
		spin_unlock(&sched_lock);
		irq_enable_and_halt();
		irq_disable();
		spin_lock(&sched_lock);
	}
	if (!next)
		next = prev;
	else if (next != prev && prev->state == THREAD_RUNNABLE)
		run_push(prev); /* still runnable: behind the others */
	slice_end = clock_monotonic_ns() + SLICE_NS;
	if (next != prev) {
		spin_unlock(&sched_lock);
		switch_to(prev, next);
		spin_lock(&sched_lock);
	}
	reap();
	timer_reprogram();
}

void sched_yield_cpu(void)
{
	unsigned long f = spin_lock_irqsave(&sched_lock);

	if (run_head)
		schedule();
	spin_unlock_irqrestore(&sched_lock, f);
}

void waitq_add_locked(struct waitq *q, struct waiter *w)
{
	w->q = q;
	w->next = q->head;
	q->head = w;
}

void waitq_add(struct waitq *q, struct waiter *w)
{
	unsigned long f = spin_lock_irqsave(&q->lock);

	waitq_add_locked(q, w);
	spin_unlock_irqrestore(&q->lock, f);
}

void waitq_remove_locked(struct waiter *w)
{
	for (struct waiter **pp = &w->q->head; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	w->q = NULL;
}

void waitq_remove(struct waiter *w)
{
	struct waitq *q = w->q;

	if (!q)
		return;
	unsigned long f = spin_lock_irqsave(&q->lock);
	if (w->q == q) /* a callback may have moved it meanwhile */
		waitq_remove_locked(w);
	spin_unlock_irqrestore(&q->lock, f);
}

/* Under sched_lock.  The thread on the CPU is not queued: it is between
 * wait_prepare and schedule(), or halting inside schedule(), and either
 * sees its state RUNNABLE again and carries on.  Queuing it would leave a
 * stale entry behind once it ran on, and retire() reuses run_next: the
 * queue would then lead into the dead list and lose every runnable thread
 * after it (mariadbd's threads, runnable and never run again, at its
 * shutdown). */
static void wake_locked(struct thread *t, int why)
{
	if (t->state != THREAD_SLEEPING)
		return;
	t->state = THREAD_RUNNABLE;
	t->wake = why;
	t->deadline = 0;
	if (t != current)
		run_push(t);
	timer_reprogram();
}

void sched_wake(struct thread *t, int why)
{
	unsigned long f = spin_lock_irqsave(&sched_lock);

	wake_locked(t, why);
	spin_unlock_irqrestore(&sched_lock, f);
}

int wake_up_key(struct waitq *q, unsigned key)
{
	unsigned long f = spin_lock_irqsave(&q->lock);
	int n = 0;

	for (struct waiter *w = q->head, *next; w; w = next) {
		next = w->next; /* a callback may remove itself */
		if (w->fn)
			w->fn(w, key);
		else
			sched_wake(w->thread, WAKE_EVENT);
		n++;
	}
	spin_unlock_irqrestore(&q->lock, f);
	return n;
}

void wait_prepare(struct waitq *q, struct waiter *w, uint64_t deadline)
{
	if (q && !w->q) {
		w->thread = current;
		waitq_add(q, w);
	}
	unsigned long f = spin_lock_irqsave(&sched_lock);
	current->state = THREAD_SLEEPING;
	current->deadline = deadline;
	current->wake = WAKE_EVENT;
	spin_unlock_irqrestore(&sched_lock, f);
}

long wait_schedule(bool intr)
{
	unsigned long f = spin_lock_irqsave(&sched_lock);

	if (current->state == THREAD_SLEEPING) {
		if (intr && signal_wakes(current))
			wake_locked(current, WAKE_SIGNAL);
		else if (current->deadline && current->deadline <= clock_monotonic_ns())
			wake_locked(current, WAKE_TIMEOUT);
		else
			schedule();
	}
	int why = current->wake;
	spin_unlock_irqrestore(&sched_lock, f);
	if (why == WAKE_SIGNAL && !intr)
		return 0; /* an uninterruptible wait tests its condition again */
	return why == WAKE_TIMEOUT ? -ETIMEDOUT : why == WAKE_SIGNAL ? -EINTR : 0;
}

void wait_finish(struct waiter *w)
{
	unsigned long f = spin_lock_irqsave(&sched_lock);

	current->state = THREAD_RUNNABLE;
	current->deadline = 0;
	spin_unlock_irqrestore(&sched_lock, f);
	waitq_remove(w);
}

static void timer_cancel_locked(struct ktimer *t)
{
	for (struct ktimer **pp = &timers; *pp && t->armed; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
}

void timer_arm(struct ktimer *t, uint64_t deadline)
{
	unsigned long f = spin_lock_irqsave(&sched_lock);

	timer_cancel_locked(t);
	t->deadline = deadline;
	struct ktimer **pp = &timers;
	while (*pp && (*pp)->deadline <= deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
	timer_reprogram();
	spin_unlock_irqrestore(&sched_lock, f);
}

void timer_cancel(struct ktimer *t)
{
	unsigned long f = spin_lock_irqsave(&sched_lock);

	timer_cancel_locked(t);
	spin_unlock_irqrestore(&sched_lock, f);
}

/* The timer interrupt.  A timer's function runs without sched_lock, since
 * it wakes threads and may re-arm itself. */
void sched_tick(void)
{
	uint64_t now = clock_monotonic_ns();

	spin_lock(&sched_lock);
	while (timers && timers->deadline <= now) {
		struct ktimer *t = timers;
		timers = t->next;
		t->armed = false;
		spin_unlock(&sched_lock);
		t->fn(t);
		spin_lock(&sched_lock);
	}
	for (struct thread *t = all; t; t = t->all_next)
		if (t->state == THREAD_SLEEPING && t->deadline && t->deadline <= now)
			wake_locked(t, WAKE_TIMEOUT);
	if (run_head && now >= slice_end)
		sched_need_resched = true;
	timer_reprogram();
	spin_unlock(&sched_lock);
}

/* Returns with interrupts disabled, as the exit path needs them. */
void sched_return_to_user(struct regs *r, bool syscall)
{
	irq_disable();
	if (sched_need_resched) {
		spin_lock(&sched_lock);
		if (run_head)
			schedule();
		spin_unlock(&sched_lock);
	}
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
	run_remove(t);      /* never queued while it runs (wake_locked); to be sure */
	t->run_next = dead; /* freed by the next thread, off this stack */
	dead = t;
	schedule();
	panic("a dead thread ran again");
}

noreturn void kthread_exit(void)
{
	irq_disable();
	spin_lock(&sched_lock);
	retire(current);
}

noreturn void thread_exit(int status)
{
	irq_disable();
	spin_lock(&sched_lock);
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

/* The owner changes with one atomic compare-and-swap, so an uncontended
 * lock and unlock touch neither the interrupt flag nor a spinlock.  A
 * waiter queues itself before it tries (wait_event), and the unlocker
 * clears the owner before it looks for waiters, both with full ordering:
 * either the waiter's try sees the mutex free, or the unlocker sees the
 * waiter and wakes it. */
static bool mutex_try(struct mutex *m)
{
	struct thread *none = NULL;

	return __atomic_compare_exchange_n(
		&m->owner, &none, current, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

void mutex_lock(struct mutex *m)
{
	if (m->owner == current)
		panic("mutex %s taken twice by thread %d", m->name, current->tid);
	if (mutex_try(m))
		return;
	/* Not interruptible: a signal waits for the unlock. */
	wait_event_uninterruptible(&m->waiters, mutex_try(m));
}

void mutex_unlock(struct mutex *m)
{
	BUG_ON(m->owner != current);
	__atomic_store_n(&m->owner, NULL, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&m->waiters.head, __ATOMIC_SEQ_CST))
		wake_up(&m->waiters);
}

noreturn void spin_bug(const struct spinlock *l, const char *what)
{
	panic("spinlock %s %s", l->name ? l->name : "(unnamed)", what);
}
