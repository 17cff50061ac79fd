// SPDX-License-Identifier: MIT
/* tty_probe: what a program sees of its terminal, for tests/compat/tty.sh
 * (which types at it through tmux).  Prints whether fds 0-2 are ttys, the
 * window size, whether termios holds Linux's defaults, then answers each
 * line read from fd 0: "got LINE"; "size" prints the window size; "ioctls"
 * checks the job-control, flush and window ioctls and /dev/tty ("ioctls
 * ok", or FAIL lines); "vtime" reads with VMIN 0 and VTIME 5 ("vtime 0 in
 * time"); "raw"
 * switches to non-canonical mode without echo, reads one byte, prints its
 * code and switches back; "crash" dies of SIGSEGV; "quit" exits 0; end of
 * file prints "eof" and exits 0.  SIGINT and SIGWINCH are caught and
 * reported ("SIGINT", "winch ROWSxCOLS") before the next read. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_int, got_winch;

static void on_signal(int sig)
{
	if (sig == SIGINT)
		got_int = 1;
	else
		got_winch = 1;
}

static void size(const char *what)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) < 0)
		printf("%s: TIOCGWINSZ: %s\n", what, strerror(errno));
	else
		printf("%s %dx%d\n", what, ws.ws_row, ws.ws_col);
}

static int bad;

static void check(int cond, const char *what)
{
	if (!cond) {
		printf("FAIL: %s (%s)\n", what, strerror(errno));
		bad = 1;
	}
}

static void ioctls(void)
{
	struct winsize ws, big = { 50, 132, 0, 0 };
	struct stat st;
	int v = -1, fd;

	bad = 0;
	check(ioctl(0, TIOCGPGRP, &v) == 0 && v == getpgrp(), "TIOCGPGRP is our group");
	check(tcsetpgrp(0, getpgrp()) == 0, "TIOCSPGRP to our group");
	errno = 0;
	check(tcsetpgrp(0, 12345) == -1 && errno == ESRCH, "TIOCSPGRP to no group: ESRCH");
	check(tcgetsid(0) == getsid(0), "TIOCGSID is our session");
	check(ioctl(0, FIONREAD, &v) == 0 && v == 0, "FIONREAD 0 with nothing typed");
	check(tcflush(0, TCIFLUSH) == 0 && tcflow(0, TCOON) == 0, "TCFLSH, TCXONC");
	errno = 0;
	check(tcflush(0, 7) == -1 && errno == EINVAL, "TCFLSH 7: EINVAL");
	check(tcdrain(1) == 0, "TCSBRK (tcdrain)");
	check(fstat(0, &st) == 0 && S_ISCHR(st.st_mode), "fstat: a character device");
	fd = open("/dev/tty", O_RDWR);
	check(fd >= 0 && isatty(fd), "/dev/tty opens a terminal");
	check(write(fd, "via /dev/tty\n", 13) == 13, "write to /dev/tty");
	close(fd);
	ioctl(0, TIOCGWINSZ, &ws);
	got_winch = 0;
	check(ioctl(1, TIOCSWINSZ, &big) == 0 && got_winch, "TIOCSWINSZ raises SIGWINCH");
	ioctl(0, TIOCSWINSZ, &ws);
	got_winch = 0;
	printf("ioctls %s\n", bad ? "FAILED" : "ok");
}

/* VMIN 0, VTIME 5: a read with nothing typed returns 0 after 0.5 s. */
static void vtime(void)
{
	struct termios t, r;
	struct timespec a, b;
	unsigned char c;

	tcgetattr(0, &t);
	r = t;
	r.c_lflag &= ~(ICANON | ECHO);
	r.c_cc[VMIN] = 0;
	r.c_cc[VTIME] = 5;
	tcsetattr(0, TCSANOW, &r);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ssize_t n = read(0, &c, 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	tcsetattr(0, TCSANOW, &t);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	printf("vtime %zd %s\n", n, ms >= 400 && ms < 3000 ? "in time" : "wrong time");
}

static void raw_byte(void)
{
	struct termios t, r;
	unsigned char c = 0;

	tcgetattr(0, &t);
	r = t;
	r.c_lflag &= ~(ICANON | ECHO);
	r.c_cc[VMIN] = 1;
	r.c_cc[VTIME] = 0;
	tcsetattr(0, TCSANOW, &r);
	printf("raw ready\n");
	fflush(stdout);
	ssize_t n = read(0, &c, 1);
	tcsetattr(0, TCSANOW, &t);
	printf("raw byte %zd %d\n", n, c);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios t;
	char line[256];

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("isatty %d %d %d\n", isatty(0), isatty(1), isatty(2));
	size("size");
	if (tcgetattr(0, &t) == 0)
		printf("termios %s\n",
		       (t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG) &&
				       (t.c_iflag & ICRNL) && (t.c_oflag & ONLCR) &&
				       t.c_cc[VINTR] == 3 && t.c_cc[VEOF] == 4 && t.c_cc[VERASE] == 127
			       ? "default"
			       : "odd");
	else
		printf("tcgetattr: %s\n", strerror(errno));
	for (;;) {
		printf("> ");
		ssize_t n = read(0, line, sizeof(line) - 1);
		if (got_int) {
			got_int = 0;
			printf("SIGINT\n");
		}
		if (got_winch) {
			got_winch = 0;
			size("winch");
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			printf("read: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0) {
			printf("eof\n");
			return 0;
		}
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "quit"))
			return 0;
		if (!strcmp(line, "size"))
			size("size");
		else if (!strcmp(line, "vtime"))
			vtime();
		else if (!strcmp(line, "ioctls"))
			ioctls();
		else if (!strcmp(line, "raw"))
			raw_byte();
		else if (!strcmp(line, "crash"))
			*(volatile int *)0 = 1;
		else
			printf("got %s\n", line);
	}
}
