// SPDX-License-Identifier: MIT
/* stdin_poll: fd 0 as a stream that has not ended yet.  With stdin a pipe
 * held open by tests/compat/stdin.sh: an O_NONBLOCK read says EAGAIN and
 * poll times out; it prints "ready", the host writes "x\n" and later
 * closes its end: poll then says POLLIN, FIONREAD 2, the read gets "x\n"; epoll
 * says EPOLLIN|EPOLLHUP at the end, select says readable, and read
 * returns 0.  Prints "ok WHAT" per check, exits 1 after a FAIL. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <unistd.h>

static int bad;

static void check(int cond, const char *what)
{
	printf("%s %s\n", cond ? "ok" : "FAIL:", what);
	bad |= !cond;
}

int main(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLIN }, got;
	char buf[16];
	fd_set rd;

	setvbuf(stdout, NULL, _IONBF, 0);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	check(read(0, buf, sizeof(buf)) == -1 && errno == EAGAIN, "nonblocking read says EAGAIN");
	check(poll(&p, 1, 100) == 0, "poll times out on an empty stream");
	printf("ready\n");
	check(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN), "poll says POLLIN");
	int avail = -1;
	check(ioctl(0, FIONREAD, &avail) == 0 && avail == 2, "FIONREAD counts 2");
	check(read(0, buf, sizeof(buf)) == 2 && !memcmp(buf, "x\n", 2), "read gets x");
	int ep = epoll_create1(0);
	check(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) == 0, "epoll_ctl");
	check(epoll_wait(ep, &got, 1, 10000) == 1 && (got.events & EPOLLIN) && (got.events & EPOLLHUP),
	      "epoll says EPOLLIN|EPOLLHUP at the end");
	FD_ZERO(&rd);
	FD_SET(0, &rd);
	check(select(1, &rd, NULL, NULL, &(struct timeval){ 1, 0 }) == 1, "select says readable");
	check(read(0, buf, sizeof(buf)) == 0, "read returns 0 at the end");
	return bad;
}
