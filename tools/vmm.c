/* SPDX-License-Identifier: MIT */
/*
 * Starts the VM under QEMU and follows it to the end.  This is the one place
 * on the host that knows the device mapping of docs/protocol.md (the
 * virtio console's ports elfvm.stdout and elfvm.stderr, or else COM1 and
 * COM2; debugcon 0xe9 = log and records, isa-debug-exit 0xf4; virtio-net),
 * so another VMM means another file like this one.  The program's
 * output never passes through here: QEMU writes it to the host's fds
 * itself.  What passes through is the debugcon log, turned into an exit
 * status, and the program's stdin, relayed into the elfvm.stdin port with
 * back-pressure (term.c), and the signals elfvm gets, forwarded through
 * elfvm.ctl.  Images are built in run.c; nothing here knows about ELF.
 */
#define _GNU_SOURCE /* pipe2, ppoll */
#include "tools/tools.h"

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

/* The fds QEMU finds its chardev files on (set up by child_exec). */
enum {
	QFD_OUT = 1,
	QFD_QEMU_ERR = 2,
	QFD_ERR = 3,
	QFD_LOG = 4,
	QFD_QMP = 5,
	QFD_IN = 6,  /* elfvm.stdin's socket */
	QFD_CTL = 7, /* elfvm.ctl's socket */
	QFD_N = 8
};
/* What follow() reads: the debugcon log, QEMU's stderr, its QMP socket. */
enum { LB_LOG, LB_QEMU, LB_QMP, LB_N };

#define GRACE_NS 5000000000LL     /* after the last record, before QEMU is killed */
#define STOP_GRACE_NS 300000000LL /* after the VM stopped, for QEMU's last words */
#define SIGNAL_GRACE_S 10         /* after a forwarded signal, before QEMU is killed */

struct linebuf {
	int fd; /* -1 once at end of file */
	size_t len;
	char buf[4096];
};

struct vm_state {
	const struct vm_config *cfg;
	struct vm_result *res;
	int recorded;          /* a final record arrived */
	int stdout_is_pipe;    /* watch it for its reader leaving */
	int qmp_fd;            /* our end of QEMU's QMP socket */
	int qmp_ready;         /* capabilities asked for */
	pid_t qemu;            /* QEMU's pid */
	int64_t stopped_at;    /* when the VM was seen to stop without a record */
	char stop_why[256];    /* and why */
	char shutdown_why[64]; /* the reason of QMP's SHUTDOWN event */
	char qemu_first[256];  /* QEMU's first stderr line */
	struct relay *relay;   /* stdin and elfvm.ctl */
	int ctl_open;          /* the kernel reads elfvm.ctl (@@ctl) */
	int64_t forwarded[32]; /* when each signal was forwarded, 0: never */
	int64_t grace_at;      /* the first forwarded signal's time */
	int first_sig;         /* and which it was */
	int kill_sig;          /* the signal that ended the VM from here */
	int escaped;           /* Ctrl-] q */
};

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

const char *vm_accel_name(enum vm_accel a)
{
	return a == VM_ACCEL_KVM ? "kvm" : a == VM_ACCEL_TCG ? "tcg" : "auto";
}

int vm_parse_accel(const char *s, enum vm_accel *out)
{
	static const enum vm_accel all[] = { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(s, vm_accel_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

int vm_check_mem(const char *s)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v == 0)
		return -EINVAL;
	if (*end && (!strchr("KMGTkmgt", *end) || end[1]))
		return -EINVAL;
	return 0;
}

int vm_beside_elfvm(const char *name, char *path, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (len < 0)
		return -errno;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if ((size_t)snprintf(path, n, "%s/%s", self, name) >= n)
		return -ENAMETOOLONG;
	return 0;
}

int vm_default_kernel(char *path, size_t n)
{
	return vm_beside_elfvm("kernel.elf", path, n);
}

/* ---- the QEMU command line ------------------------------------------------ */

#define MAX_ARGS (80 + SHARE_MAX_ARGS)

/* Fills argv (MAX_ARGS) with the command line of docs/protocol.md; the
 * strings live in the caller's buffers cmdline, smp and net.
 *
 * The program's stdout and stderr leave through a virtio console's two
 * named ports (docs/virtio.md), whose chardevs write to fds 1 and 3; the
 * serial lines stay, on chardevs of their own to the same fds, for a
 * kernel that finds no virtio console.  On microvm, acpi=off makes QEMU
 * append the virtio_mmio.device= words the kernel finds its devices by;
 * on q35 the devices are PCI, modern only (disable-legacy=on). */
static void build_argv(const struct vm_config *cfg, const char *cmdline, char *smp, size_t smpn,
		       char *net, size_t netn, const char **argv)
{
	int q35 = cfg->machine && !strcmp(cfg->machine, "q35");
	int kvm = cfg->accel == VM_ACCEL_KVM;
	const char *qemu = getenv("ELFVM_QEMU");
	int i = 0;

	argv[i++] = qemu && *qemu ? qemu : "qemu-system-x86_64";
	argv[i++] = "-M";
	argv[i++] = q35 ? "q35" : "microvm,isa-serial=off,pit=on,pic=off,rtc=on,acpi=off";
	/* Transactional memory is masked: TCG cannot run it and glibc would
	 * pick lock elision where a KVM host offers it. */
	argv[i++] = "-cpu";
	argv[i++] = "max,-rtm,-hle";
	argv[i++] = "-m";
	argv[i++] = cfg->mem ? cfg->mem : "256M";
	argv[i++] = "-accel";
	argv[i++] = kvm ? "kvm" : "tcg";
	if (cfg->cpus > 1) {
		snprintf(smp, smpn, "%d", cfg->cpus);
		argv[i++] = "-smp";
		argv[i++] = smp;
	}
	argv[i++] = "-nodefaults";
	argv[i++] = "-no-user-config";
	argv[i++] = "-display";
	argv[i++] = "none";
	argv[i++] = "-no-reboot";
	argv[i++] = "-kernel";
	argv[i++] = cfg->kernel;
	argv[i++] = "-initrd";
	argv[i++] = cfg->initrd;
	argv[i++] = "-append";
	argv[i++] = cmdline;
	if (!q35) {
		argv[i++] = "-global";
		argv[i++] = "virtio-mmio.force-legacy=false";
	}
	argv[i++] = "-chardev";
	argv[i++] = "file,id=out,path=/proc/self/fd/1,append=on"; /* QFD_OUT */
	argv[i++] = "-chardev";
	argv[i++] = "file,id=err,path=/proc/self/fd/3,append=on"; /* QFD_ERR */
	argv[i++] = "-chardev";
	argv[i++] = "file,id=uout,path=/proc/self/fd/1,append=on";
	argv[i++] = "-chardev";
	argv[i++] = "file,id=uerr,path=/proc/self/fd/3,append=on";
	argv[i++] = "-chardev";
	argv[i++] = "file,id=log,path=/proc/self/fd/4,append=on"; /* QFD_LOG */
	argv[i++] = "-device";
	argv[i++] = q35 ? "virtio-serial-pci,disable-legacy=on,max_ports=5"
			: "virtio-serial-device,max_ports=5";
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=out,name=elfvm.stdout,nr=1";
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=err,name=elfvm.stderr,nr=2";
	/* stdin and the control records: sockets whose other ends follow()
	 * writes (docs/terminal.md). */
	argv[i++] = "-chardev";
	argv[i++] = "socket,id=in,fd=6"; /* QFD_IN */
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=in,name=elfvm.stdin,nr=3";
	argv[i++] = "-chardev";
	argv[i++] = "socket,id=ctl,fd=7"; /* QFD_CTL */
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=ctl,name=elfvm.ctl,nr=4";
	if (cfg->netdev) {
		snprintf(net, netn, "%s,id=net0", cfg->netdev);
		argv[i++] = "-netdev";
		argv[i++] = net;
		argv[i++] = "-device";
		argv[i++] = q35 ? "virtio-net-pci,disable-legacy=on,romfile=,netdev=net0"
				: "virtio-net-device,netdev=net0";
	}
	argv[i++] = "-device";
	argv[i++] = "isa-serial,chardev=uout,index=0"; /* COM1 0x3f8 */
	argv[i++] = "-device";
	argv[i++] = "isa-serial,chardev=uerr,index=1"; /* COM2 0x2f8 */
	argv[i++] = "-device";
	argv[i++] = "isa-debugcon,iobase=0xe9,chardev=log";
	argv[i++] = "-device";
	argv[i++] = "isa-debug-exit,iobase=0xf4,iosize=4";
	/* QMP tells us when QEMU pauses the VM (a KVM error, say): a paused VM
	 * never ends by itself. */
	argv[i++] = "-chardev";
	argv[i++] = "socket,id=qmp,fd=5"; /* QFD_QMP */
	argv[i++] = "-mon";
	argv[i++] = "chardev=qmp,mode=control";
	for (int k = 0; cfg->extra && cfg->extra[k]; k++)
		argv[i++] = cfg->extra[k];
	argv[i] = NULL;
}

/* ELFVM_PRINT_QEMU=1: one line on stderr, quoted so a shell can run it. */
static void print_argv(const char *const *argv)
{
	for (int i = 0; argv[i]; i++) {
		const char *a = argv[i];
		int plain = *a && strspn(a,
					 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_-+=.,/:@%") == strlen(a);

		fputs(i ? " " : "", stderr);
		if (plain) {
			fputs(a, stderr);
			continue;
		}
		fputc('\'', stderr);
		for (; *a; a++)
			fputs(*a == '\'' ? "'\\''" : (char[]){ *a, 0 }, stderr);
		fputc('\'', stderr);
	}
	fputc('\n', stderr);
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

/* ---- reading the log ------------------------------------------------------ */

static void tail_push(struct vm_result *res, const char *line)
{
	snprintf(res->tail[res->tail_next], VM_LINE_MAX, "%s", line);
	res->tail_next = (res->tail_next + 1) % VM_TAIL_LINES;
	if (res->tail_count < VM_TAIL_LINES)
		res->tail_count++;
}

void vm_print_tail(const struct vm_result *res, FILE *f)
{
	int first = res->tail_count < VM_TAIL_LINES ? 0 : res->tail_next;

	for (int i = 0; i < res->tail_count; i++)
		fprintf(f, "%s\n", res->tail[(first + i) % VM_TAIL_LINES]);
}

/* Parses the decimal status of @@exit / @@signal.  Returns it, or -1. */
static int record_number(const char *s, int max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	return (int)v;
}

/* Records the end the kernel reported; the first one counts. */
static void record_end(struct vm_state *st, enum vm_end end, const char *arg)
{
	struct vm_result *res = st->res;
	int n = 0;

	if (st->recorded)
		return;
	if (end == VM_END_EXIT || end == VM_END_SIGNAL) {
		n = record_number(arg, end == VM_END_EXIT ? 255 : 127);
		if (n < 0 || (end == VM_END_SIGNAL && n == 0)) {
			end = VM_END_PANIC;
			snprintf(res->message, sizeof(res->message),
				 "malformed record from the kernel: %.200s", arg);
		}
	} else {
		snprintf(res->message, sizeof(res->message), "%s", arg);
	}
	res->end = end;
	res->code = n;
	res->status = end == VM_END_EXIT ? n : end == VM_END_SIGNAL ? 128 + n : ELFVM_EXIT_FAIL;
	st->recorded = 1;
}

/* The end of one of our lines on f: the terminal in raw mode has no
 * output processing, so a line there ends in "\r\n" (--strace, --verbose
 * at a terminal). */
static const char *eol(const struct vm_config *cfg, FILE *f)
{
	return cfg->tty && isatty(fileno(f)) ? "\r\n" : "\n";
}

/* One debugcon line: a record (docs/protocol.md) or a log message. */
static void on_log_line(struct vm_state *st, char *line)
{
	static const struct {
		const char *prefix;
		enum vm_end end;
	} ends[] = {
		{ "@@exit ", VM_END_EXIT },
		{ "@@signal ", VM_END_SIGNAL },
		{ "@@error ", VM_END_ERROR },
		{ "@@panic ", VM_END_PANIC },
	};
	const struct vm_config *cfg = st->cfg;

	if (!strncmp(line, "@@strace ", 9)) {
		if (cfg->trace)
			fprintf(cfg->trace, "%s%s", line + 9, eol(cfg, cfg->trace));
		return;
	}
	if (!strncmp(line, "@@used ", 7)) {
		if (cfg->used)
			fprintf(cfg->used, "%s\n", line + 7);
		return;
	}
	if (!strcmp(line, "@@ctl")) {
		st->ctl_open = 1;
		return;
	}
	if (!strcmp(line, "@@output")) {
		st->res->output = 1;
		return;
	}
	if (!strcmp(line, "@@start")) {
		if (!st->res->t_start)
			st->res->t_start = vm_now_ns();
		return;
	}
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t k = strlen(ends[i].prefix);
		if (!strncmp(line, ends[i].prefix, k)) {
			record_end(st, ends[i].end, line + k);
			return;
		}
	}
	/* An unknown record is kept as a message: a newer kernel may send it. */
	tail_push(st->res, line);
	if (cfg->log)
		fprintf(cfg->log, "%s%s", line, eol(cfg, cfg->log));
}

/* The VM stopped without a record: follow() gives QEMU STOP_GRACE_NS to
 * finish its report (a register dump), then it is killed. */
static void vm_stopped(struct vm_state *st, const char *why)
{
	size_t len = strlen(st->stop_why);

	if (st->recorded)
		return;
	if (!st->stopped_at)
		st->stopped_at = vm_now_ns();
	if (len + 3 < sizeof(st->stop_why) && !strstr(st->stop_why, why))
		snprintf(st->stop_why + len, sizeof(st->stop_why) - len, "%s%s", len ? "; " : "", why);
}

/* One line of QEMU's own stderr.  Some lines mean that QEMU has paused the
 * VM for good (QMP says so too, but only seconds later). */
static void on_qemu_line(struct vm_state *st, char *line)
{
	static const char *const fatal[] = { "KVM internal error", "emulation failure",
					     "KVM: entry failed", "kvm run failed",
					     "KVM: unknown exit" };

	if (!st->qemu_first[0] && line[0])
		snprintf(st->qemu_first, sizeof(st->qemu_first), "%s", line);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (strstr(line, fatal[i]))
			vm_stopped(st, line);
	if (st->cfg->log)
		fprintf(st->cfg->log, "qemu: %s%s", line, eol(st->cfg, st->cfg->log));
}

/* One message from QEMU's QMP monitor: its greeting (answered by entering
 * command mode, so that events come, and asking whether the VM still runs,
 * in case it stopped before that), the answer, or an event. */
static void on_qmp_line(struct vm_state *st, char *line)
{
	static const char hello[] =
		"{\"execute\":\"qmp_capabilities\"}\n"
		"{\"execute\":\"query-status\"}\n";
	char *r;

	if (!st->qmp_ready && strstr(line, "\"QMP\"")) {
		st->qmp_ready = 1;
		/* MSG_NOSIGNAL: a QEMU that has already exited (a short program)
		 * must not end elfvm with SIGPIPE; the end of its pipes tells. */
		if (send(st->qmp_fd, hello, sizeof(hello) - 1, MSG_NOSIGNAL) < 0)
			return;
		/* The -netdev exists by now: its published ports can be widened. */
		if (st->cfg->netdev)
			hostfwd_widen(st->qemu, st->cfg->netdev, st->cfg->log);
	} else if (strstr(line, "\"event\": \"STOP\"")) {
		vm_stopped(st, "QEMU paused the VM");
	} else if (strstr(line, "\"event\": \"GUEST_PANICKED\"")) {
		vm_stopped(st, "the guest panicked");
	} else if (strstr(line, "\"running\": false") && !strstr(line, "prelaunch")) {
		vm_stopped(st, "QEMU paused the VM");
	} else if (strstr(line, "\"event\": \"SHUTDOWN\"") && (r = strstr(line, "\"reason\": \""))) {
		r += 11;
		snprintf(st->shutdown_why, sizeof(st->shutdown_why), "%.*s", (int)strcspn(r, "\""), r);
	}
}

/* Reads what is there and hands over each whole line (a line longer than
 * the buffer is handed over in pieces, the last piece at end of file). */
static void lb_read(struct linebuf *lb, struct vm_state *st, void (*fn)(struct vm_state *, char *))
{
	ssize_t r = read(lb->fd, lb->buf + lb->len, sizeof(lb->buf) - 1 - lb->len);
	char *p = lb->buf, *nl;

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		close(lb->fd);
		lb->fd = -1;
	} else {
		lb->len += (size_t)r;
	}
	lb->buf[lb->len] = '\0';
	while ((nl = memchr(p, '\n', lb->len - (size_t)(p - lb->buf)))) {
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		fn(st, p);
		p = nl + 1;
	}
	lb->len -= (size_t)(p - lb->buf);
	memmove(lb->buf, p, lb->len);
	if (lb->len && (lb->fd < 0 || lb->len == sizeof(lb->buf) - 1)) {
		lb->buf[lb->len] = '\0';
		fn(st, lb->buf);
		lb->len = 0;
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
		relay_ctl(st->relay, "signal %d\n", sig, 0);
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
		struct vm_state *, char *) = { on_log_line, on_qemu_line, on_qmp_line };
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
				lb_read(&lb[i], st, on_line[i]);
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
	const char *argv[MAX_ARGS], *env = getenv("ELFVM_PRINT_QEMU");
	char cmdline[4096], smp[16], net[2100];
	struct sigaction old[NSIGS];
	struct timespec rt;
	sigset_t old_mask;
	enum follow_end how;
	int wstatus = 0, fd_flags[2], io[2];
	struct relay *relay = malloc(sizeof(*relay));
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (!relay) {
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
	build_argv(cfg, cmdline, smp, sizeof(smp), net, sizeof(net), argv);
	if (env && *env && strcmp(env, "0"))
		print_argv(argv);

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
	signals_restore(&old_mask, old); /* a pending signal still counts */
	decide(&st, how, wstatus, cfg->timeout);
	if (cfg->log)
		fflush(cfg->log);
	if (cfg->trace)
		fflush(cfg->trace);
	host_fds_append(0, fd_flags);
	return res->status;
}
