/* SPDX-License-Identifier: MIT */
/*
 * Starts the VM under QEMU and follows it to the end.  vmm.c, vmm_argv.c
 * (the command line) and vmm_lines.c (the log, QEMU's stderr and QMP) are
 * the one place on the host that knows the device mapping of
 * docs/protocol.md, so another VMM means other files like these.  The
 * program's output never passes through here: QEMU writes it to the
 * host's fds itself.  What passes through is the debugcon log, turned into
 * an exit status, the program's stdin, relayed into the elfvm.stdin port
 * with back-pressure (term.c), and the signals elfvm gets, forwarded
 * through elfvm.ctl.  Images are built in run.c; nothing here knows ELF.
 */
#define _GNU_SOURCE /* pipe2, ppoll */
#include "tools/vmm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GRACE_NS 5000000000LL     /* after the last record, before QEMU is killed */
#define STOP_GRACE_NS 300000000LL /* after the VM stopped, for QEMU's last words */
#define SIGNAL_GRACE_S 10         /* after a forwarded signal, before QEMU is killed */

/* The signals caught while QEMU runs: SIGINT, SIGTERM and SIGHUP are
 * forwarded to the program or end elfvm (on_signals), SIGPIPE ends it, so
 * that QEMU is killed and the image removed first; SIGPIPE comes from
 * writing the log or the strace lines into a pipe whose reader left
 * (`elfvm run --strace P | head`).  SIGWINCH sends the terminal's size. */
static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGWINCH };
#define NSIGS (int)(sizeof(sigs) / sizeof(sigs[0]))
/* The caught signals not yet acted on, one bit each; handlers run only
 * inside ppoll, one at a time (sa_mask), so |= is not torn. */
static volatile sig_atomic_t got_signals;

int64_t vm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- starting QEMU -------------------------------------------------------- */

/* In the child: fds[i] becomes fd i (0 /dev/null, 1 host stdout, 2 QEMU's
 * stderr pipe, 3 host stderr, 4 log pipe), then exec. */
static void child_exec(const char *const *argv, const int fds[QFD_N], const sigset_t *mask, pid_t parent)
{
	int hi[QFD_N];

	for (int i = 0; i < QFD_N; i++)
		hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < QFD_N; i++)
		if (hi[i] < 0 || dup2(hi[i], i) < 0)
			_exit(127);
	sigprocmask(SIG_SETMASK, mask, NULL);
	/* A session of its own: Ctrl-C at a terminal, a hang-up or `kill %1`
	 * reach elfvm, which forwards them to the program; QEMU would end the
	 * VM on them before the program could answer. */
	setsid();
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* QEMU must not outlive elfvm */
	if (getppid() != parent)
		_exit(127);
	execvp(argv[0], (char *const *)argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void on_signal(int sig)
{
	got_signals |= 1 << sig;
}

/* Catches the signals that end elfvm, blocked except inside ppoll. */
static void signals_catch(sigset_t *old_mask, struct sigaction old[NSIGS])
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	for (int i = 0; i < NSIGS; i++)
		sigaddset(&block, sigs[i]);
	sa.sa_mask = block;
	sigprocmask(SIG_BLOCK, &block, old_mask);
	got_signals = 0;
	for (int i = 0; i < NSIGS; i++) {
		sigaction(sigs[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN) /* nohup and "&" stay in force */
			sigaction(sigs[i], &sa, NULL);
	}
}

/* Delivers what is pending, then puts everything back as it was. */
static void signals_restore(const sigset_t *old_mask, const struct sigaction old[NSIGS])
{

	sigprocmask(SIG_SETMASK, old_mask, NULL);
	for (int i = 0; i < NSIGS; i++)
		sigaction(sigs[i], &old[i], NULL);
}

/*
 * QEMU opens /proc/self/fd/1 and /proc/self/fd/2 itself, with O_APPEND: for
 * a regular file that is a new open file, so the offset the shell (and
 * elfvm's own stderr) shares does not move.  While the VM runs, the shared
 * one appends too, so elfvm's own lines do not overwrite the program's;
 * afterwards it is put back and moved to the end, as if the program had
 * written through it.  Pipes and terminals have no offset to fix.
 */
static void host_fds_append(int on, int flags[2])
{
	/* Put back in reverse order: fds 1 and 2 may share one open file. */
	for (int i = 0; i < 2; i++) {
		int fd = on ? 1 + i : 2 - i;
		struct stat st;

		if (on) {
			flags[fd - 1] = -1;
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			flags[fd - 1] = fcntl(fd, F_GETFL);
			if (flags[fd - 1] >= 0 && !(flags[fd - 1] & O_APPEND))
				fcntl(fd, F_SETFL, flags[fd - 1] | O_APPEND);
		} else if (flags[fd - 1] >= 0) {
			fcntl(fd, F_SETFL, flags[fd - 1]);
			lseek(fd, 0, SEEK_END);
		}
	}
}

/* ---- following the VM ----------------------------------------------------- */

enum follow_end {
	FOLLOW_EOF,
	FOLLOW_TIMEOUT,
	FOLLOW_SIGNAL,
	FOLLOW_STDOUT_GONE,
	FOLLOW_STOPPED,
	FOLLOW_ESCAPE
};

/* Acts on the caught signals: SIGWINCH sends the terminal's size; SIGINT,
 * SIGTERM and SIGHUP are forwarded once each while the kernel reads
 * elfvm.ctl and the program runs.  Returns the signal that must end the
 * VM now (nobody listens, a second one of a kind, SIGPIPE), or 0. */
static int on_signals(struct vm_state *st, int64_t now)
{
	int bits = got_signals;

	got_signals = 0;
	if (bits & 1 << SIGWINCH && st->cfg->tty) {
		int rows = 0, cols = 0;
		term_winsize(&rows, &cols);
		if (rows && st->ctl_open)
			relay_ctl(st->relay, "winsize %d %d\n", rows, cols);
	}
	for (int i = 0; i < NSIGS; i++) {
		int sig = sigs[i];
		if (!(bits & 1 << sig) || sig == SIGWINCH)
			continue;
		if (sig == SIGPIPE || !st->ctl_open || st->recorded || st->forwarded[sig])
			return sig;
		relay_ctl(st->relay, "signal %d\n", sig);
		st->forwarded[sig] = now;
		if (!st->grace_at) {
			st->grace_at = now;
			st->first_sig = sig;
		}
	}
	return 0;
}

/* Reads the log, QEMU's stderr and QMP until the first two end (QEMU
 * exited), the deadline (0: none) passes, a signal must end the VM, the
 * VM is seen to have stopped without a record, the escape sequence is
 * typed, or the reader of our stdout goes away (`elfvm run yes | head`:
 * the program would get SIGPIPE, and the guest cannot learn it any other
 * way).  Meanwhile stdin flows into elfvm.stdin.  Once a final record is
 * in, QEMU gets GRACE_NS more to exit by itself. */
static enum follow_end follow(struct vm_state *st, struct linebuf lb[LB_N], int64_t deadline,
			      const sigset_t *mask)
{
	static void (*const on_line[LB_N])(
		struct vm_state *, char *) = { vm_on_log_line, vm_on_qemu_line, vm_on_qmp_line };
	int64_t recorded_at = 0;

	while (lb[LB_LOG].fd >= 0 || lb[LB_QEMU].fd >= 0) {
		struct pollfd pfd[LB_N + 3] = { { lb[0].fd, POLLIN, 0 },
						{ lb[1].fd, POLLIN, 0 },
						{ lb[2].fd, POLLIN, 0 },
						{ st->stdout_is_pipe ? 1 : -1, 0, 0 } };
		struct timespec ts, *tsp = NULL;
		int64_t limit = deadline, now = vm_now_ns();

		if (st->recorded && !recorded_at)
			recorded_at = now;
		if (st->stopped_at && !st->recorded && now >= st->stopped_at + STOP_GRACE_NS)
			return FOLLOW_STOPPED;
		if (st->stopped_at && !st->recorded)
			limit = st->stopped_at + STOP_GRACE_NS;
		else if (recorded_at && (!limit || recorded_at + GRACE_NS < limit))
			limit = recorded_at + GRACE_NS;
		if (st->grace_at && !st->recorded) {
			int64_t g = st->grace_at + SIGNAL_GRACE_S * 1000000000LL;
			/* First what each thread is doing, into the log; a
			 * second later the VM is stopped. */
			if (now >= g && !st->dumped_at) {
				relay_ctl(st->relay, "threads\n");
				st->dumped_at = now;
			}
			if (st->dumped_at)
				g = st->dumped_at + 1000000000LL;
			if (now >= g) {
				st->kill_sig = st->first_sig;
				snprintf(
					st->res->message, sizeof(st->res->message),
					"the program did not end within %d s of SIG%s; the VM is stopped",
					SIGNAL_GRACE_S, sigabbrev_np(st->first_sig));
				return FOLLOW_SIGNAL;
			}
			if (!limit || g < limit)
				limit = g;
		}
		if (limit) {
			int64_t left = limit - now;
			if (left <= 0)
				return FOLLOW_TIMEOUT;
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
			tsp = &ts;
		}
		relay_events(st->relay, &pfd[LB_N + 1], &pfd[LB_N + 2]);
		if (ppoll(pfd, LB_N + 3, tsp, mask) < 0 && errno != EINTR)
			return FOLLOW_EOF; /* cannot happen with valid fds */
		if (got_signals && (st->kill_sig = on_signals(st, vm_now_ns())))
			return FOLLOW_SIGNAL;
		if (pfd[LB_N].revents & (POLLERR | POLLHUP) && !st->recorded)
			return FOLLOW_STDOUT_GONE;
		if (relay_step(st->relay, &pfd[LB_N + 1], &pfd[LB_N + 2])) {
			st->escaped = 1;
			return FOLLOW_ESCAPE;
		}
		st->res->stdin_taken |= st->relay->len > 0;
		for (int i = 0; i < LB_N; i++)
			if (pfd[i].revents)
				vm_lb_read(&lb[i], st, on_line[i]);
	}
	return FOLLOW_EOF;
}

/* Decides the end when no record decided it. */
static void decide(struct vm_state *st, enum follow_end how, int wstatus, double timeout)
{
	struct vm_result *res = st->res;

	if (st->escaped) {
		res->end = VM_END_ESCAPED;
		res->code = SIGINT;
		res->status = 128 + SIGINT;
		snprintf(res->message, sizeof(res->message), "Ctrl-] q typed: the VM is stopped");
	} else if (st->kill_sig) {
		res->end = VM_END_INTERRUPTED;
		res->code = st->kill_sig;
		res->status = 128 + st->kill_sig;
		/* the message stays: set when a forwarded signal's grace ran out */
	} else if (st->recorded) {
		return;
	} else if (how == FOLLOW_STDOUT_GONE) {
		res->end = VM_END_SIGNAL;
		res->code = SIGPIPE;
		res->status = 128 + SIGPIPE;
		res->message[0] = '\0';
	} else if (st->stopped_at) {
		res->end = VM_END_STOPPED;
		res->status = ELFVM_EXIT_FAIL;
		snprintf(res->message, sizeof(res->message), "%s", st->stop_why);
	} else if (how == FOLLOW_TIMEOUT) {
		res->end = VM_END_TIMEOUT;
		res->status = ELFVM_EXIT_TIMEOUT;
		snprintf(res->message, sizeof(res->message), "timed out after %g s", timeout);
	} else {
		res->end = VM_END_QEMU;
		res->status = ELFVM_EXIT_FAIL;
		if (st->qemu_first[0])
			snprintf(res->message, sizeof(res->message), "%s", st->qemu_first);
		else if (!strcmp(st->shutdown_why, "guest-reset"))
			snprintf(res->message, sizeof(res->message),
				 "the VM reset itself (a triple fault) without reporting a status");
		else if (WIFSIGNALED(wstatus))
			snprintf(res->message, sizeof(res->message),
				 "the VM ended without reporting a status (qemu "
				 "killed by signal %d)",
				 WTERMSIG(wstatus));
		else
			snprintf(res->message, sizeof(res->message),
				 "the VM ended without reporting a status (qemu "
				 "exit status %d)",
				 WEXITSTATUS(wstatus));
	}
}

/* Writes the kernel's words, without a newline, to a new temporary file (its name
 * in path).  Returns 0, or -1 with errno set. */
static int write_cmdfile(const char *words, char *path, size_t n)
{
	int fd = image_temp(path, n), r;

	if (fd < 0) {
		path[0] = '\0';
		errno = -fd;
		return -1;
	}
	r = image_write_all(fd, words, strlen(words)); /* no newline: one word list */
	close(fd);
	if (r < 0) {
		unlink(path);
		path[0] = '\0';
		errno = -r;
		return -1;
	}
	return 0;
}

/* Fails before QEMU ran (errno says why): fills res for VM_END_QEMU. */
static int fail_early(struct vm_result *res)
{
	res->end = VM_END_QEMU;
	res->status = ELFVM_EXIT_FAIL;
	snprintf(res->message, sizeof(res->message), "cannot start it: %s", strerror(errno));
	return res->status;
}

/* Spawns QEMU with the pipes and the QMP, stdin and ctl sockets set up
 * (cfg->quiet: the program's output goes to /dev/null); our ends of the
 * last two go to io[0] and io[1].  Returns its pid, or -1 with errno set. */
static pid_t spawn(const struct vm_config *cfg, const char *const *argv, struct linebuf lb[LB_N],
		   int io[2], const sigset_t *mask)
{
	int logp[2] = { -1, -1 }, errp[2] = { -1, -1 }, qmp[2] = { -1, -1 }, in[2] = { -1, -1 },
	    ctl[2] = { -1, -1 }, devnull, e;
	pid_t parent = getpid(), pid = -1;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0 && pipe2(logp, O_CLOEXEC) == 0 && pipe2(errp, O_CLOEXEC) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) == 0)
		pid = fork();
	if (pid == 0) {
		const int fds[QFD_N] = { devnull, cfg->quiet ? devnull : 1,
					 errp[1], cfg->quiet ? devnull : 2,
					 logp[1], qmp[1],
					 in[1],   ctl[1] };
		child_exec(argv, fds, mask, parent);
	}
	e = errno;
	for (int *fd = (int[]){ devnull, logp[1], errp[1], qmp[1], in[1], ctl[1] }, i = 0; i < 6; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	lb[LB_LOG].fd = logp[0];
	lb[LB_QEMU].fd = errp[0];
	lb[LB_QMP].fd = qmp[0];
	io[0] = in[0];
	io[1] = ctl[0];
	if (pid < 0) {
		for (int i = 0; i < LB_N; i++)
			if (lb[i].fd >= 0)
				close(lb[i].fd);
		lb[0].fd = lb[1].fd = lb[2].fd = -1;
		for (int i = 0; i < 2; i++)
			if (io[i] >= 0)
				close(io[i]);
		io[0] = io[1] = -1;
	}
	errno = e;
	return pid;
}

int vm_run(const struct vm_config *cfg, struct vm_result *res)
{
	struct linebuf lb[LB_N];
	struct vm_state st = { .cfg = cfg, .res = res };
	const char *argv[VM_MAX_ARGS], *env = getenv("ELFVM_PRINT_QEMU");
	char cmdline[4096], cmdfile[PATH_MAX] = "";
	struct vm_argbufs *bufs = malloc(sizeof(*bufs));
	struct sigaction old[NSIGS];
	struct timespec rt;
	sigset_t old_mask;
	enum follow_end how;
	int wstatus = 0, fd_flags[2], io[2];
	struct relay *relay = malloc(sizeof(*relay));
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (!relay || !bufs) {
		free(relay);
		free(bufs);
		errno = ENOMEM;
		return fail_early(res);
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	/* ELFVM_KERNEL_ARGS adds words for the kernel's own tests (selftest=1). */
	const char *extra = getenv("ELFVM_KERNEL_ARGS");
	char base[2048];
	snprintf(base, sizeof(base), "%s%s%s", cfg->cmdline ? cfg->cmdline : "",
		 extra && *extra && cfg->cmdline && *cfg->cmdline ? " " : "", extra ? extra : "");
	snprintf(cmdline, sizeof(cmdline), "%s%srealtime=%lld", base, *base ? " " : "",
		 (long long)rt.tv_sec * 1000000000 + rt.tv_nsec);
	/* UEFI: the words go to the loader in a file QEMU reads at start
	 * (fw_cfg), so no quoting can break them; it is removed at the end. */
	if (cfg->disk && write_cmdfile(cmdline, cmdfile, sizeof(cmdfile)) < 0) {
		free(relay);
		free(bufs);
		return fail_early(res);
	}
	vm_build_argv(cfg, cfg->disk ? cmdfile : cmdline, bufs, argv);
	if (env && *env && strcmp(env, "0"))
		vm_print_argv(argv);

	fflush(stdout);
	fflush(stderr);
	host_fds_append(1, fd_flags);
	signals_catch(&old_mask, old);
	lb[0].len = lb[1].len = lb[2].len = 0;
	res->t_spawn = vm_now_ns();
	pid = spawn(cfg, argv, lb, io, &old_mask);
	st.qmp_fd = lb[LB_QMP].fd;
	st.qemu = pid;
	if (pid < 0) {
		int e = errno;
		signals_restore(&old_mask, old);
		host_fds_append(0, fd_flags);
		free(relay);
		free(bufs);
		if (cmdfile[0])
			unlink(cmdfile);
		errno = e;
		return fail_early(res);
	}
	relay_init(relay,
		   cfg->relay_stdin > 0   ? 0
		   : cfg->relay_stdin < 0 ? -2
					  : -1,
		   io[0], io[1], cfg->tty);
	st.relay = relay;
	if (cfg->tty && term_raw() < 0 && cfg->log)
		fprintf(cfg->log, "elfvm: cannot put the terminal in raw mode: %s\n", strerror(errno));
	struct stat so;
	st.stdout_is_pipe = fstat(1, &so) == 0 && (S_ISFIFO(so.st_mode) || S_ISSOCK(so.st_mode));
	how = follow(&st, lb, cfg->timeout > 0 ? res->t_spawn + (int64_t)(cfg->timeout * 1e9) : 0,
		     &old_mask);
	res->t_exit = vm_now_ns();
	if (how != FOLLOW_EOF)
		kill(pid, SIGKILL);
	term_restore(); /* before any line of ours, and before a signal is raised again */
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < LB_N; i++)
		if (lb[i].fd >= 0)
			close(lb[i].fd);
	close(io[0]);
	close(io[1]);
	free(relay);
	free(bufs);
	if (cmdfile[0])
		unlink(cmdfile);
	signals_restore(&old_mask, old); /* a pending signal still counts */
	decide(&st, how, wstatus, cfg->timeout);
	if (cfg->log)
		fflush(cfg->log);
	if (cfg->trace)
		fflush(cfg->trace);
	host_fds_append(0, fd_flags);
	return res->status;
}
