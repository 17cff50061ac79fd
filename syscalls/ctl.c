// SPDX-License-Identifier: MIT
/*
 * The elfvm.ctl records (docs/terminal.md): small text lines the host
 * sends through the virtio console's control port
 * (kernel/virtio/console.c hands each one here, from the interrupt
 * handler).  "signal N" is kill() of the process from outside; "winsize
 * ROWS COLS" is the host terminal's new size, for tty.c; "realtime SEC
 * NSEC" is the host's clock once the kernel listens; "threads" logs
 * what each thread is doing (a program that outlived a signal's grace).
 * Anything else is
 * logged and dropped, so that a newer host can add records.  Installing
 * the hook is what makes the kernel say @@ctl, after which the host
 * forwards its signals instead of stopping the VM.
 */
#include "kernel/virtio/virtio.h"
#include "syscalls/syscalls.h"

/* A decimal number below 100000 at *s, advancing *s; false if none. */
static bool number(const char **s, unsigned *v)
{
	const char *p = *s;
	unsigned n = 0;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && n < 100000)
		n = n * 10 + (unsigned)(*p++ - '0');
	*s = p;
	*v = n;
	return true;
}

/* "SEC NSEC", the host's CLOCK_REALTIME when it sent the record: the
 * guest's realtime clock steps forward to it.  False when malformed. */
static bool realtime(const char *p)
{
	uint64_t sec = 0, nsec = 0;
	int digits = 0;

	for (; *p >= '0' && *p <= '9' && digits < 12; p++, digits++)
		sec = sec * 10 + (uint64_t)(*p - '0');
	if (!digits || *p++ != ' ')
		return false;
	for (digits = 0; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		nsec = nsec * 10 + (uint64_t)(*p - '0');
	if (!digits || *p || nsec >= NSEC_PER_SEC)
		return false;
	clock_realtime_step(sec * NSEC_PER_SEC + nsec);
	return true;
}

static void ctl_record(const char *line)
{
	unsigned a, b;
	const char *p;

	if (!strncmp(line, "signal ", 7) && (p = line + 7, number(&p, &a)) && !*p && a >= 1 &&
	    a <= NSIG) {
		signal_send(NULL, (int)a, SI_USER);
	} else if (!strncmp(line, "winsize ", 8) && (p = line + 8, number(&p, &a)) && *p++ == ' ' &&
		   number(&p, &b) && !*p) {
		tty_host_winsize(a, b);
	} else if (!strncmp(line, "realtime ", 9) && realtime(line + 9)) {
		/* done: the host's clock now (CLOCK_REALTIME steps forward) */
	} else if (!strcmp(line, "threads")) {
		syscalls_dump_threads();
	} else {
		klog("elfvm.ctl: unknown record \"%.60s\" dropped", line);
	}
}

void ctl_init(void)
{
	virtio_console_set_ctl(ctl_record);
}
