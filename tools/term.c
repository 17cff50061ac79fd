/* SPDX-License-Identifier: MIT */
/*
 * The host side of the program's stdin and terminal (docs/terminal.md).
 * term_probe finds which of fds 0-2 are the one terminal the user typed
 * at; term_raw puts it in raw mode on a saved copy of its settings and
 * term_restore puts that copy back, from every way out of elfvm that runs
 * code (a normal end, an error, the caught signals of vmm.c, a crash of
 * elfvm itself through the handlers installed here).  The relay copies
 * elfvm's stdin into QEMU's elfvm.stdin socket with back-pressure and
 * sends the small text records of elfvm.ctl.  The guest's line discipline
 * is the kernel's (syscalls/tty.c); nothing here interprets the bytes
 * except the escape sequence Ctrl-] q.
 */
#define _GNU_SOURCE
#include "tools/tools.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE_CHAR 0x1d /* Ctrl-] */

static struct termios saved;
static int saved_fd = -1; /* the terminal whose settings are saved */

int term_probe(int *rows, int *cols)
{
	struct stat in, st;
	struct winsize ws;
	int mask = 1;

	if (!isatty(0) || fstat(0, &in) < 0)
		return 0;
	for (int fd = 1; fd <= 2; fd++)
		if (isatty(fd) && fstat(fd, &st) == 0 && st.st_rdev == in.st_rdev)
			mask |= 1 << fd;
	/* Echo needs an output that is the same terminal; without one the
	 * host's own line discipline does the work and stdin is a stream. */
	if (mask == 1)
		return 0;
	*rows = 24;
	*cols = 80;
	if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
	return mask;
}

void term_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved);
}

/* elfvm itself crashed: the terminal first, then die as the crash would. */
static void on_crash(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_raw(void)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct termios raw;

	if (tcgetattr(0, &saved) < 0)
		return -errno;
	raw = saved;
	cfmakeraw(&raw);
	/* Output processing stays the host's: the guest sends "\r\n" itself
	 * when its ONLCR is on, and cfmakeraw has cleared OPOST here. */
	saved_fd = 0;
	atexit(term_restore);
	for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++) {
		struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_RESETHAND };
		sigaction(crash[i], &sa, NULL);
	}
	if (tcsetattr(0, TCSAFLUSH, &raw) < 0) {
		saved_fd = -1;
		return -errno;
	}
	return 0;
}

void term_winsize(int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* ---- the relay ------------------------------------------------------------ */

void relay_init(struct relay *r, int in, int sock, int ctl, int tty)
{
	memset(r, 0, sizeof(*r));
	r->in = in;
	r->sock = sock;
	r->ctl = ctl;
	r->tty = tty;
	if (in == -1)
		relay_eof(r);
	else if (in < 0)
		r->in = -1; /* held open, nothing sent */
}

void relay_eof(struct relay *r)
{
	r->in = -1;
	r->off = r->len = 0;
	if (r->sock >= 0 && !r->shut) {
		/* Our write side only: QEMU reads what is left, then the end.
		 * A full close would hang up at once and could drop bytes. */
		shutdown(r->sock, SHUT_WR);
		r->shut = 1;
	}
}

void relay_events(const struct relay *r, struct pollfd *in, struct pollfd *sock)
{
	*in = (struct pollfd){ -1, 0, 0 };
	*sock = (struct pollfd){ -1, 0, 0 };
	if (r->in < 0 || r->sock < 0)
		return;
	if (r->off < r->len)
		*sock = (struct pollfd){ r->sock, POLLOUT, 0 };
	else
		*in = (struct pollfd){ r->in, POLLIN, 0 };
}

/* Takes Ctrl-] q out of the bytes just read; 1 when it was typed.  A
 * Ctrl-] followed by anything else passes through, both bytes. */
static int escape_scan(struct relay *r, size_t start)
{
	size_t w = start;

	for (size_t i = start; i < r->len; i++) {
		unsigned char c = (unsigned char)r->buf[i];
		if (r->esc) {
			r->esc = 0;
			if (c == 'q')
				return 1;
			r->buf[w++] = ESCAPE_CHAR;
			if (c == ESCAPE_CHAR) {
				r->esc = 1;
				continue;
			}
		} else if (c == ESCAPE_CHAR) {
			r->esc = 1;
			continue;
		}
		r->buf[w++] = (char)c;
	}
	r->len = w;
	return 0;
}

int relay_step(struct relay *r, const struct pollfd *in, const struct pollfd *sock)
{
	if (in->fd >= 0 && in->revents) {
		ssize_t n = read(r->in, r->buf, sizeof(r->buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n <= 0) { /* end of file, or an error (a hung-up terminal) */
			relay_eof(r);
			return 0;
		}
		r->off = 0;
		r->len = (size_t)n;
		if (r->tty && escape_scan(r, 0))
			return 1;
	}
	if (r->off < r->len && (in->fd >= 0 || (sock->fd >= 0 && sock->revents))) {
		ssize_t n = send(r->sock, r->buf + r->off, r->len - r->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			r->off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			r->in = -1; /* QEMU is gone; its end is reported elsewhere */
	}
	return 0;
}

void relay_ctl(struct relay *r, const char *fmt, ...)
{
	char line[64];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	/* Records are tiny and rare; one that does not fit the socket now is
	 * dropped rather than letting a stuck guest block elfvm. */
	if (r->ctl >= 0 && n > 0)
		send(r->ctl, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}
