// SPDX-License-Identifier: MIT
/*
 * Signal state (actions and the mask) and what a synchronous fault does to
 * the program.  Handlers can be installed and are remembered, but delivery
 * of a signal to a handler (frames, sigreturn) is not implemented yet: a
 * fault then ends the program as the default action would, and the log
 * says that the handler was skipped.  The report is what a developer needs:
 * the signal, the faulting address, registers, and a symbolised backtrace.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"

static struct k_sigaction actions[NSIG + 1];
static uint64_t mask, pending;
static int (*symbolize)(uint64_t addr, char *buf, size_t size);

static const char *const sig_names[] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
};

const char *signal_name(int sig)
{
	if (sig > 0 && sig < (int)ARRAY_SIZE(sig_names) && sig_names[sig])
		return sig_names[sig];
	return "signal";
}

long signal_action(int sig, const struct k_sigaction *act, struct k_sigaction *old)
{
	if (sig < 1 || sig > NSIG)
		return -EINVAL;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (old)
		*old = actions[sig];
	if (act)
		actions[sig] = *act;
	return 0;
}

uint64_t *signal_mask(void)
{
	return &mask;
}

void signal_set_symbolizer(int (*fn)(uint64_t addr, char *buf, size_t size))
{
	symbolize = fn;
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

static bool ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

static long act_on(int sig)
{
	uint64_t h = actions[sig].handler;

	if (h == SIG_IGN || (h == SIG_DFL && ignored_by_default(sig)))
		return 0;
	if (h != SIG_DFL) {
		klog("%s has a handler, but signal delivery is not implemented yet: -ENOSYS",
		     signal_name(sig));
		return -ENOSYS;
	}
	klog("program terminated by signal %d (%s) it sent itself", sig, signal_name(sig));
	vm_exit_signal(sig);
}

long signal_send(int sig)
{
	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (sig == 0)
		return 0;
	if (sig != SIGKILL && sig != SIGSTOP && (mask & (1UL << (sig - 1)))) {
		pending |= 1UL << (sig - 1);
		return 0;
	}
	return act_on(sig);
}

void signal_unblocked(void)
{
	uint64_t ready = pending & ~mask;

	for (int sig = 1; ready; sig++, ready >>= 1) {
		if (!(ready & 1))
			continue;
		pending &= ~(1UL << (sig - 1));
		act_on(sig);
	}
}

void signal_fault(struct regs *r, int sig, uint64_t addr)
{
	uint64_t h = actions[sig].handler;

	if (h != SIG_DFL && h != SIG_IGN)
		klog("the program's handler for %s was not run: signal delivery is not "
		     "implemented yet", signal_name(sig));
	klog("program crashed: signal %d (%s), faulting address %lx", sig,
	     signal_name(sig), addr);
	traps_report(r, "program state");
	klog(" backtrace:");
	user_backtrace(r);
	vm_exit_signal(sig);
}
