// SPDX-License-Identifier: MIT
/* sigterm: a program that catches the signals elfvm forwards.  It installs
 * a handler for SIGTERM, SIGINT and SIGHUP, prints "ready", then waits in
 * pause(); the handler prints "caught SIGNAME" and the program exits 0.
 * Argument "stdin" waits in read(0) instead, which must end with EINTR
 * (no SA_RESTART) rather than with bytes or end-of-file; "restart" waits
 * in read(0) with SA_RESTART handlers: the signal's handler runs, the
 * read goes on and returns the line the host writes afterwards ("read
 * restarted: LINE"); "ignore" sets
 * SIGTERM to SIG_IGN and waits forever (elfvm's grace period must end
 * it).  tests/compat/stdin.sh sends the signals to elfvm. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_signal(int sig)
{
	got = sig;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "pause";
	struct sigaction sa = { .sa_handler = on_signal };
	char c, line[64];

	if (!strcmp(mode, "restart"))
		sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!strcmp(mode, "ignore"))
		signal(SIGTERM, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	if (!strcmp(mode, "restart")) {
		ssize_t r = read(0, line, sizeof(line) - 1);
		if (r <= 0 || !got) {
			printf("FAIL: read returned %zd (%s), signal %d\n", r, strerror(errno),
			       (int)got);
			return 1;
		}
		line[r] = '\0';
		printf("read restarted: %s", line);
	} else if (!strcmp(mode, "stdin")) {
		ssize_t r = read(0, &c, 1);
		if (r != -1 || errno != EINTR) {
			printf("FAIL: read returned %zd (%s), expected EINTR\n", r, strerror(errno));
			return 1;
		}
	} else {
		while (!got)
			pause();
	}
	printf("caught %s\n", got == SIGTERM ? "SIGTERM" : got == SIGINT ? "SIGINT" : "SIGHUP");
	return 0;
}
