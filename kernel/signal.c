// SPDX-License-Identifier: MIT
/*
 * Signals: the process's actions, each thread's mask and pending set, and
 * delivery on the way back to the program.  A handler gets Linux's x86-64
 * rt_sigframe (siginfo, ucontext with every register, the XSAVE image with
 * its magic numbers) on its stack or its sigaltstack, and rt_sigreturn
 * restores all of it.  Default actions: ignore, or end the VM with 128+N
 * (stop signals are ignored: there is no job control).  A fault the
 * program does not handle prints a crash report with a symbolised
 * backtrace first.  Interrupted syscalls return -EINTR or restart
 * (SA_RESTART), as Linux decides it.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"


/* arch/x86/include/uapi/asm/sigcontext.h, asm/ucontext.h, signal.h */
struct sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};
struct ucontext {
	uint64_t uc_flags, uc_link;
	struct {
		uint64_t sp;
		int32_t flags, pad;
		uint64_t size;
	} uc_stack;
	struct sigcontext mc;
	uint64_t sigmask;
};
struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext uc;
	uint8_t info[128];
};

static struct k_sigaction actions[NSIG + 1];
/* Signals sent to the process, waiting for any thread that takes them. */
uint64_t signal_shared_pending;
static struct sig_info shared_info[NSIG];
/* The thread taker() chose for each signal sent to the process (0: none
 * could take it then).  As on Linux, where only that thread is told
 * (TIF_SIGPENDING), the others leave the signal to it while it can still
 * take it: kill() from a thread wakes the main thread, and the sender's
 * own return from kill() does not run the handler itself. */
static int shared_target[NSIG];
/* The pending sets, queues and siginfo of the process and of every thread:
 * the timer interrupt sends signals too (setitimer, alarm). */
static struct spinlock sig_lock = SPINLOCK_INIT("signal");

/* Real-time signals queue each instance with its own siginfo (sigqueue's
 * value), taken in the order sent; the others are pending once, with the
 * siginfo of the last.  rtq holds the instances of the process's queue
 * (tid 0) and of every thread's, oldest first.  Linux bounds them by
 * RLIMIT_SIGPENDING; here by RTQ_MAX, past which sending one more answers
 * -EAGAIN, as Linux does. */
#define RTQ_MAX 512
static struct rt_instance {
	int tid, sig;
	struct sig_info info;
} rtq[RTQ_MAX];
static int rtq_n;

static void rtq_remove(int i)
{
	memmove(&rtq[i], &rtq[i + 1], (size_t)(rtq_n - i - 1) * sizeof(*rtq));
	rtq_n--;
}

/* The oldest instance of sig queued for tid into *info (when there is
 * one).  True when another one is still queued. */
static bool rtq_take(int tid, int sig, struct sig_info *info)
{
	int i = 0;

	while (i < rtq_n && !(rtq[i].tid == tid && rtq[i].sig == sig))
		i++;
	if (i < rtq_n) {
		if (info)
			*info = rtq[i].info;
		rtq_remove(i);
	}
	for (; i < rtq_n; i++)
		if (rtq[i].tid == tid && rtq[i].sig == sig)
			return true;
	return false;
}

/* Drops the queued instances of sig (0: any) sent to tid (-1: anyone). */
static void rtq_drop(int tid, int sig)
{
	for (int i = rtq_n - 1; i >= 0; i--)
		if ((tid < 0 || rtq[i].tid == tid) && (!sig || rtq[i].sig == sig))
			rtq_remove(i);
}

/* Marks sig pending in *pending with info.  -EAGAIN when a real-time
 * instance finds the queue full. */
static long queue_one(uint64_t *pending, struct sig_info *slot, int tid, int sig,
		      const struct sig_info *info)
{
	if (sig >= SIGRTMIN) {
		if (rtq_n == RTQ_MAX)
			return -EAGAIN;
		rtq[rtq_n++] = (struct rt_instance){ tid, sig, *info };
	}
	*pending |= SIGMASK(sig);
	*slot = *info;
	return 0;
}

/* Takes one instance of sig off *pending into *info. */
static void dequeue_one(uint64_t *pending, const struct sig_info *slot, int tid, int sig,
			struct sig_info *info)
{
	if (info)
		*info = *slot;
	if (sig < SIGRTMIN || !rtq_take(tid, sig, info))
		*pending &= ~SIGMASK(sig);
}
static int (*symbolize)(uint64_t addr, char *buf, size_t size);

static const char *const sig_names[] = {
	[SIGHUP] = "SIGHUP",     [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP",   [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL",   [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE",   [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGCHLD] = "SIGCHLD",
	[SIGCONT] = "SIGCONT",   [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP", [SIGURG] = "SIGURG",
	[SIGWINCH] = "SIGWINCH",
};

/* Names for reports: "SIGSEGV". */
static const char *signal_name(int sig)
{
	if (sig > 0 && sig < (int)ARRAY_SIZE(sig_names) && sig_names[sig])
		return sig_names[sig];
	return "signal";
}

static bool ignored(int sig);

long signal_action(int sig, const struct k_sigaction *act, struct k_sigaction *old)
{
	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (old)
		*old = actions[sig];
	if (act) {
		actions[sig] = *act;
		actions[sig].mask &= ~UNBLOCKABLE;
		if (ignored(sig)) { /* what is now ignored is no longer pending */
			unsigned long f = spin_lock_irqsave(&sig_lock);
			signal_shared_pending &= ~SIGMASK(sig);
			for (struct thread *t = sched_all_threads(); t; t = t->all_next)
				t->sigpending &= ~SIGMASK(sig);
			rtq_drop(-1, sig);
			spin_unlock_irqrestore(&sig_lock, f);
		}
	}
	return 0;
}

uint64_t *signal_mask(void)
{
	return &current->sigmask;
}

void signal_set_symbolizer(int (*fn)(uint64_t addr, char *buf, size_t size))
{
	symbolize = fn;
}

/* The process's pending signals that another thread was chosen for and
 * can still take (alive, not blocking it): self leaves those to it.
 * Under sig_lock or sched_lock (interrupts off: nothing changes under us). */
static uint64_t others_signals(const struct thread *self)
{
	uint64_t skip = 0;

	for (uint64_t left = signal_shared_pending; left; left &= left - 1) {
		int sig = __builtin_ctzl(left) + 1, tid = shared_target[sig - 1];
		struct thread *t = tid && tid != self->tid ? thread_by_tid(tid) : NULL;
		if (t && t->state != THREAD_DEAD && !(t->sigmask & SIGMASK(sig)))
			skip |= SIGMASK(sig);
	}
	return skip;
}

bool signal_wakes(const struct thread *t)
{
	uint64_t p = t->sigpending | (signal_shared_pending & ~others_signals(t));

	return (p & ~t->sigmask) || (p & t->sigwait);
}

static bool ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH || sig == SIGSTOP ||
	       sig == SIGTSTP || sig == 21 || sig == 22; /* TTIN, TTOU */
}

static bool ignored(int sig)
{
	uint64_t h = actions[sig].handler;

	return h == SIG_IGN || (h == SIG_DFL && ignored_by_default(sig));
}

/* A thread that takes sig now: the main thread first, as Linux does. */
static struct thread *taker(int sig)
{
	struct thread *t = thread_by_tid(1);

	if (t && !t->kernel && !(t->sigmask & SIGMASK(sig)))
		return t;
	for (t = sched_all_threads(); t; t = t->all_next)
		if (!t->kernel && t->state != THREAD_DEAD && !(t->sigmask & SIGMASK(sig)))
			return t;
	return NULL;
}

static long send_locked(struct thread *t, int sig, const struct sig_info *info);

long signal_send(struct thread *t, int sig, int code)
{
	return signal_send_info(t, sig, &(struct sig_info){ code, 1, 0 });
}

long signal_send_info(struct thread *t, int sig, const struct sig_info *info)
{
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (sig == 0)
		return 0;
	unsigned long f = spin_lock_irqsave(&sig_lock);
	long r = send_locked(t, sig, info);
	spin_unlock_irqrestore(&sig_lock, f);
	return r;
}

void signal_thread_gone(struct thread *t)
{
	unsigned long f = spin_lock_irqsave(&sig_lock);
	rtq_drop(t->tid, 0);
	spin_unlock_irqrestore(&sig_lock, f);
}

static long send_locked(struct thread *t, int sig, const struct sig_info *info)
{
	long r;

	if (t) { /* to one thread: an ignored signal it blocks stays pending */
		if (ignored(sig) && sig != SIGKILL && !(t->sigmask & SIGMASK(sig)))
			return 0;
		r = queue_one(&t->sigpending, &t->siginfo[sig - 1], t->tid, sig, info);
	} else { /* to the process: pending until a thread takes it */
		t = taker(sig);
		if (ignored(sig) && sig != SIGKILL && t)
			return 0;
		r = queue_one(&signal_shared_pending, &shared_info[sig - 1], 0, sig, info);
		shared_target[sig - 1] = t ? t->tid : 0;
		if (r == 0 && !t) { /* all block it: wake any waiter in sigwait for it */
			for (struct thread *c = sched_all_threads(); c; c = c->all_next)
				if (c->sigwait & SIGMASK(sig))
					sched_wake(c, WAKE_SIGNAL);
			return 0;
		}
	}
	if (r == 0 && signal_wakes(t))
		sched_wake(t, WAKE_SIGNAL);
	return r;
}

/* The lowest signal of t's own pending set in set, else of the process's
 * in shared_set, taken off its queue; 0 if none.  Under sig_lock. */
static int dequeue_locked(struct thread *t, uint64_t set, uint64_t shared_set, struct sig_info *info)
{
	uint64_t mine = t->sigpending & set, shared = signal_shared_pending & shared_set;

	if (!mine && !shared)
		return 0;
	int sig = __builtin_ctzl(mine ? mine : shared) + 1; /* the thread's own first */
	if (mine)
		dequeue_one(&t->sigpending, &t->siginfo[sig - 1], t->tid, sig, info);
	else
		dequeue_one(&signal_shared_pending, &shared_info[sig - 1], 0, sig, info);
	return sig;
}

int signal_dequeue(struct thread *t, uint64_t set, struct sig_info *info)
{
	unsigned long f = spin_lock_irqsave(&sig_lock);
	int sig = dequeue_locked(t, set, set, info);

	spin_unlock_irqrestore(&sig_lock, f);
	return sig;
}

void signal_fill_info(int sig, const struct sig_info *k, void *siginfo128)
{
	int32_t *w = siginfo128;

	memset(siginfo128, 0, 128);
	w[0] = sig;
	w[2] = k->code;
	if (k->code == SI_USER || k->code == SI_TKILL) { /* kill's: the sender */
		w[4] = k->pid;
		w[5] = 0;
	} else if (k->code < 0) { /* sigqueue's (_rt): the sender, the value */
		w[4] = k->pid;
		w[5] = 0;
		*(uint64_t *)(w + 6) = k->addr;
	} else {
		*(uint64_t *)(w + 4) = k->addr;
	}
}

static void log_frame(int i, uint64_t addr)
{
	char sym[128] = "?";

	if (symbolize)
		symbolize(addr, sym, sizeof(sym));
	klog("  #%d %012lx %s", i, addr, sym);
}

/* Programs are rarely built with frame pointers, so the walk stops at the
 * first frame that does not look like one; every read is a checked copy. */
static void user_backtrace(const struct regs *r)
{
	uint64_t fp = r->rbp, frame[2];

	log_frame(0, r->rip);
	for (int i = 1; i < 32 && fp && !(fp & 7) && fp >= r->rsp; i++) {
		if (copy_from_user(frame, (const void *)fp, sizeof(frame)) < 0 || !frame[1])
			break;
		log_frame(i, frame[1]);
		if (frame[0] <= fp)
			break;
		fp = frame[0];
	}
}

/* Called as the program dies of sig, its registers in r: the place where
 * `elfvm run --gdb` stops to show the program's frames (tools/elfvm_gdb.py,
 * docs/debugging.md).  It does nothing itself; noinline and used keep it a
 * function a breakpoint can be put on. */
static __attribute__((noinline, used)) void elfvm_gdb_signal(const struct regs *r, int sig)
{
	__asm__ volatile("" : : "r"(r), "r"(sig) : "memory");
}

static noreturn void die(struct regs *r, int sig, const struct sig_info *k, bool fault)
{
	uint64_t addr = k ? k->addr : 0;
	struct sig_info none = { SI_KERNEL, 0, 0 };

	elfvm_gdb_signal(r, sig);
	if (fault) {
		klog("program crashed: signal %d (%s), faulting address %lx", sig, signal_name(sig),
		     addr);
		traps_report(r, "program state");
		klog(" backtrace:");
		user_backtrace(r);
	} else {
		klog("program terminated by signal %d (%s)", sig, signal_name(sig));
	}
	if (core_dump(r, sig, k ? k : &none, fault))
		klog("core dumped");
	vm_exit_signal(sig);
}

/* A sanitised XSAVE image: what the CPU would refuse (#GP) is cleared. */
static void sanitize_fpu(uint8_t *area)
{
	uint32_t *mxcsr = (uint32_t *)(area + 24), mask = *(uint32_t *)(current->fpu + 28);

	*mxcsr &= mask ? mask : 0xffbf;
	if (cpu_xsave_size() > 512) {
		uint64_t *hdr = (uint64_t *)(area + 512);
		hdr[0] &= cpu_xcr0();
		memset(hdr + 1, 0, 56); /* xcomp_bv and the reserved words */
	}
}

/* Pushes the frame for sig's handler onto the program's stack and points
 * the registers at the handler.  False when the stack cannot take it.
 * Only a fault's frame carries an error code into the handler's err. */
static bool setup_frame(struct regs *r, int sig, const struct sig_info *k, uint64_t oldmask, bool fault)
{
	const struct k_sigaction *a = &actions[sig];
	struct thread *t = current;
	uint32_t xs = cpu_xsave_size();
	uint64_t sp = r->rsp - 128; /* the red zone */
	bool on_alt = t->altstack_size && r->rsp - t->altstack_sp <= t->altstack_size;

	if ((a->flags & SA_ONSTACK) && !(t->altstack_flags & SS_DISABLE) && !on_alt)
		sp = t->altstack_sp + t->altstack_size;
	uint64_t fp = (sp - xs - 4) & ~63UL;
	uint64_t frame = ((fp - sizeof(struct rt_sigframe)) & ~15UL) - 8;
	struct rt_sigframe f;
	memset(&f, 0, sizeof(f));
	f.pretcode = (a->flags & SA_RESTORER) ? a->restorer : 0;
	f.uc.uc_flags = xs > 512 ? 1 | 2 : 2; /* UC_FP_XSTATE, UC_SIGCONTEXT_SS */
	f.uc.uc_stack.sp = t->altstack_sp;
	f.uc.uc_stack.size = t->altstack_size;
	f.uc.uc_stack.flags = on_alt ? SS_ONSTACK : t->altstack_flags;
	struct sigcontext *m = &f.uc.mc;
	*m = (struct sigcontext){
		r->r8,
		r->r9,
		r->r10,
		r->r11,
		r->r12,
		r->r13,
		r->r14,
		r->r15,
		r->rdi,
		r->rsi,
		r->rbp,
		r->rbx,
		r->rdx,
		r->rax,
		r->rcx,
		r->rsp,
		r->rip,
		r->rflags,
		.cs = 0x33,
		.ss = 0x2b,
		.err = fault ? r->error : 0, /* a syscall frame's error is its entry */
		.trapno = r->nr,
		.oldmask = oldmask,
		.cr2 = k->addr,
		.fpstate = fp
	};
	f.uc.sigmask = oldmask;
	signal_fill_info(sig, k, f.info);
	cpu_fpu_save(t->fpu);
	uint32_t *sw = (uint32_t *)(t->fpu + 464), magic2 = FP_XSTATE_MAGIC2;
	sw[0] = FP_XSTATE_MAGIC1;
	sw[1] = xs + 4;
	*(uint64_t *)(sw + 2) = cpu_xcr0();
	sw[4] = xs;
	if (copy_to_user((void *)fp, t->fpu, xs) < 0 ||
	    copy_to_user((void *)(fp + xs), &magic2, 4) < 0 ||
	    copy_to_user((void *)frame, &f, sizeof(f)) < 0)
		return false;
	/* The handler starts with the vector state reset, as on Linux. */
	memset(t->fpu, 0, 512 + 64);
	*(uint16_t *)t->fpu = 0x37f;
	*(uint32_t *)(t->fpu + 24) = 0x1f80;
	cpu_fpu_restore(t->fpu);
	r->rdi = sig;
	r->rsi = frame + offsetof(struct rt_sigframe, info);
	r->rdx = frame + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rsp = frame;
	r->rip = a->handler;
	r->rflags &= ~(RFLAGS_DF_BIT | RFLAGS_TF_BIT);
	t->full_restore = true;
	return true;
}

static void handle(struct regs *r, int sig, const struct sig_info *k, bool fault)
{
	struct k_sigaction *a = &actions[sig];
	uint64_t oldmask = current->restore_mask ? current->saved_mask : current->sigmask;

	current->restore_mask = false;
	if (!setup_frame(r, sig, k, oldmask, fault)) {
		klog("cannot write the %s frame on the program's stack", signal_name(sig));
		die(r, SIGSEGV, &(struct sig_info){ SI_KERNEL, 0, r->rsp }, true);
	}
	current->sigmask = oldmask | a->mask | ((a->flags & SA_NODEFER) ? 0 : SIGMASK(sig));
	current->sigmask &= ~UNBLOCKABLE;
	if (a->flags & SA_RESETHAND)
		a->handler = SIG_DFL;
}

void signal_fault(struct regs *r, int sig, uint64_t addr, int code)
{
	struct sig_info k = { code, 0, addr };
	uint64_t h = actions[sig].handler;

	if (h == SIG_DFL || h == SIG_IGN || (current->sigmask & SIGMASK(sig)))
		die(r, sig, &k, true); /* an unhandled fault kills, as Linux forces */
	handle(r, sig, &k, true);
}

/* A syscall that slept and was interrupted: -EINTR, or run it again. */
static void finish_interrupted(struct regs *r, bool handler, uint64_t flags)
{
	if ((long)r->rax != -ERESTARTSYS)
		return;
	if (handler && !(flags & SA_RESTART)) {
		r->rax = -EINTR;
		return;
	}
	r->rax = r->nr;
	/* Back onto the syscall instruction; through the vDSO's entry, onto
	 * the 2-byte jump that redoes __elfvm_syscall's entry (docs/vdso.md). */
	r->rip -= 2;
}

/* The next signal current is to act on: its own, or the process's that no
 * other thread was chosen for. */
static int deliverable(struct sig_info *k)
{
	unsigned long f = spin_lock_irqsave(&sig_lock);
	uint64_t set = ~current->sigmask;
	int sig = dequeue_locked(current, set, set & ~others_signals(current), k);

	spin_unlock_irqrestore(&sig_lock, f);
	return sig;
}

void signal_deliver(struct regs *r, bool syscall)
{
	struct sig_info k;
	int sig;

	core_park();
	while ((sig = deliverable(&k))) {
		if (ignored(sig) && sig != SIGKILL)
			continue;
		if (actions[sig].handler == SIG_DFL || sig == SIGKILL)
			die(r, sig, &k, false);
		if (syscall)
			finish_interrupted(r, true, actions[sig].flags);
		handle(r, sig, &k, false);
		return;
	}
	if (syscall)
		finish_interrupted(r, false, 0);
	if (current->restore_mask) {
		current->sigmask = current->saved_mask;
		current->restore_mask = false;
	}
}

long signal_return(struct regs *r)
{
	struct rt_sigframe f;
	uint64_t frame = r->rsp - 8;
	uint32_t xs = cpu_xsave_size();

	if (copy_from_user(&f, (const void *)frame, sizeof(f)) < 0)
		die(r, SIGSEGV, &(struct sig_info){ SI_KERNEL, 0, frame }, true);
	const struct sigcontext *m = &f.uc.mc;
	if (m->fpstate) {
		if (copy_from_user(current->fpu, (const void *)m->fpstate, xs) < 0)
			die(r, SIGSEGV, &(struct sig_info){ SI_KERNEL, 0, m->fpstate }, true);
		sanitize_fpu(current->fpu);
		cpu_fpu_restore(current->fpu);
	}
	r->r8 = m->r8, r->r9 = m->r9, r->r10 = m->r10, r->r11 = m->r11;
	r->r12 = m->r12, r->r13 = m->r13, r->r14 = m->r14, r->r15 = m->r15;
	r->rdi = m->rdi, r->rsi = m->rsi, r->rbp = m->rbp, r->rbx = m->rbx;
	r->rdx = m->rdx, r->rax = m->rax, r->rcx = m->rcx, r->rsp = m->rsp, r->rip = m->rip;
	/* The program may change the arithmetic flags, not IF or IOPL. */
	r->rflags = (r->rflags & ~0x40dd5UL) | (m->eflags & 0x40dd5UL);
	current->sigmask = f.uc.sigmask & ~UNBLOCKABLE;
	current->full_restore = true;
	return r->rax;
}
