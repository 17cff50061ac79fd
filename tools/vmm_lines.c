/* SPDX-License-Identifier: MIT */
/*
 * The lines QEMU sends back while the VM runs: the kernel's debugcon log,
 * with its records (docs/protocol.md) turned into the end of struct
 * vm_result, QEMU's own stderr, where a few lines mean the VM has stopped
 * for good, and its QMP monitor, answered just enough to get its events.
 * It decides nothing on its own: vmm.c polls the fds, hands each line
 * here and settles the end once QEMU is gone.
 */
#include "tools/vmm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* One @@profile record: "NR COUNT", or "other COUNT" for the numbers at or
 * above VM_PROFILE_NRS.  A malformed one is counted as such and dropped. */
static void record_profile(struct vm_profile *p, const char *arg)
{
	unsigned long long nr = VM_PROFILE_NRS, count;
	char *end;

	if (!p)
		return;
	if (strncmp(arg, "other ", 6)) {
		errno = 0;
		nr = strtoull(arg, &end, 10);
		if (errno || end == arg || *end != ' ' || nr >= VM_PROFILE_NRS) {
			p->bad++;
			return;
		}
		arg = end + 1;
	} else {
		arg += 6;
	}
	errno = 0;
	count = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-') {
		p->bad++;
		return;
	}
	p->count[nr] += count;
	p->records++;
}

/* The end of one of our lines on f: the terminal in raw mode has no
 * output processing, so a line there ends in "\r\n" (--strace, --verbose
 * at a terminal). */
static const char *eol(const struct vm_config *cfg, FILE *f)
{
	return cfg->tty && isatty(fileno(f)) ? "\r\n" : "\n";
}

/* One debugcon line: a record (docs/protocol.md) or a log message. */
void vm_on_log_line(struct vm_state *st, char *line)
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
	if (!strncmp(line, "@@profile ", 10)) {
		record_profile(cfg->prof, line + 10);
		return;
	}
	if (!strncmp(line, "@@used ", 7)) {
		if (cfg->used)
			fprintf(cfg->used, "%s\n", line + 7);
		return;
	}
	if (!strcmp(line, "@@ctl")) {
		struct timespec now;
		st->ctl_open = 1;
		/* The realtime= word was the host's clock before QEMU started;
		 * the guest counts from the VM's reset, so it lags by QEMU's
		 * start-up.  Now that the kernel listens it gets the time again
		 * (it only ever steps forward). */
		if (clock_gettime(CLOCK_REALTIME, &now) == 0)
			relay_ctl(st->relay, "realtime %lld %ld\n", (long long)now.tv_sec, now.tv_nsec);
		return;
	}
	if (!strncmp(line, "@@core ", 7)) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(line + 7, &end, 10);
		if (!errno && end != line + 7 && !*end) {
			st->res->core = 1;
			st->res->core_bytes = n;
		}
		return;
	}
	if (!strncmp(line, "@@gdb ", 6)) {
		if (cfg->gdb)
			gdb_record(cfg->gdb, cfg->accel == VM_ACCEL_KVM, line + 6, cfg->log);
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
void vm_on_qemu_line(struct vm_state *st, char *line)
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
void vm_on_qmp_line(struct vm_state *st, char *line)
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
		/* Under --gdb the debugger stops the VM as often as it likes; a
		 * KVM error still shows on QEMU's stderr. */
		if (!st->cfg->gdb)
			vm_stopped(st, "QEMU paused the VM");
	} else if (strstr(line, "\"event\": \"GUEST_PANICKED\"")) {
		vm_stopped(st, "the guest panicked");
	} else if (strstr(line, "\"running\": false") && !strstr(line, "prelaunch") && !st->cfg->gdb) {
		vm_stopped(st, "QEMU paused the VM");
	} else if (strstr(line, "\"event\": \"SHUTDOWN\"") && (r = strstr(line, "\"reason\": \""))) {
		r += 11;
		snprintf(st->shutdown_why, sizeof(st->shutdown_why), "%.*s", (int)strcspn(r, "\""), r);
	}
}

/* Reads what is there and hands over each whole line (a line longer than
 * the buffer is handed over in pieces, the last piece at end of file). */
void vm_lb_read(struct linebuf *lb, struct vm_state *st, void (*fn)(struct vm_state *, char *))
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
