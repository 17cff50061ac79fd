// SPDX-License-Identifier: MIT
/* poll_select: poll, ppoll, select and pselect as on Linux.  Readiness of
 * pipes (POLLIN, POLLOUT, POLLHUP once the writer is gone, POLLERR once the
 * reader is), socketpairs (POLLRDHUP after the peer's SHUT_WR), eventfds and
 * the standard fds; POLLNVAL for a closed fd and nothing for a negative
 * one; EBADF from select; timeouts (zero, finite, and the time left that
 * select and the raw pselect6/ppoll write back); the signal mask of ppoll,
 * pselect and epoll_pwait lets a blocked signal in, ends the wait with
 * EINTR after the handler ran, and is put back; and a thread's write wakes
 * a poll and a select blocked in another. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static short poll1(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };
	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static void pipes(void)
{
	int p[2];
	char buf[8];
	pipe(p);
	ok(poll1(p[0], POLLIN) == 0 && poll1(p[1], POLLOUT) == POLLOUT,
	   "empty pipe: not readable, writable");
	double t0 = now();
	struct pollfd pf = { p[0], POLLIN, 0 };
	ok(poll(&pf, 1, 50) == 0 && now() - t0 > 0.045, "poll times out after 50 ms");
	write(p[1], "hi", 2);
	ok(poll1(p[0], POLLIN | POLLOUT) == POLLIN, "data: POLLIN (a read end is never POLLOUT)");
	ok(poll1(p[0], POLLRDNORM) == POLLRDNORM, "POLLRDNORM too");
	close(p[1]);
	ok(poll1(p[0], POLLIN) == (POLLIN | POLLHUP), "writer gone with data left: POLLIN|POLLHUP");
	read(p[0], buf, 2);
	ok(poll1(p[0], POLLIN) == POLLHUP, "drained: POLLHUP only");
	ok(poll1(p[0], 0) == POLLHUP, "POLLHUP comes even when not asked for");
	close(p[0]);

	pipe(p);
	close(p[0]);
	ok(poll1(p[1], POLLOUT) == (POLLOUT | POLLERR), "reader gone: POLLOUT|POLLERR");
	close(p[1]);

	struct pollfd many[3] = { { p[1], POLLIN, 0 }, { -1, POLLIN, 0 }, { 0, POLLIN, 0 } };
	ok(poll(many, 3, 0) == 2 && many[0].revents == POLLNVAL && many[1].revents == 0 &&
		   many[2].revents == POLLIN,
	   "closed fd: POLLNVAL; negative fd: ignored; stdin: readable");
	ok(poll1(1, POLLOUT) == POLLOUT, "stdout: writable");
	ok(syscall(SYS_poll, NULL, 100000, 0) == -1 && errno == EINVAL,
	   "nfds over RLIMIT_NOFILE -> EINVAL");
	ok(poll(NULL, 0, 10) == 0, "no fds: just a 10 ms sleep");
}

static void sockets_and_eventfds(void)
{
	int s[2];
	char buf[8];
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "socketpair");
	ok(poll1(s[0], POLLIN | POLLOUT) == POLLOUT, "fresh socket: writable only");
	write(s[1], "x", 1);
	ok(poll1(s[0], POLLIN) == POLLIN, "data from the peer: POLLIN");
	shutdown(s[1], SHUT_WR);
	ok(poll1(s[0], POLLIN | POLLRDHUP) == (POLLIN | POLLRDHUP), "peer's SHUT_WR: POLLRDHUP");
	read(s[0], buf, 1);
	ok(read(s[0], buf, 1) == 0, "then end of file");
	close(s[1]);
	ok(poll1(s[0], POLLIN | POLLOUT) == (POLLIN | POLLOUT | POLLHUP), "peer closed: POLLHUP");
	close(s[0]);

	int e = eventfd(0, 0);
	ok(poll1(e, POLLIN | POLLOUT) == POLLOUT, "eventfd at zero: writable");
	eventfd_write(e, 2);
	ok(poll1(e, POLLIN) == POLLIN, "eventfd above zero: readable");
	close(e);
}

static void selects(void)
{
	int p[2];
	fd_set r, w;
	pipe(p);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = { 5, 0 };
	ok(syscall(SYS_select, p[1] + 1, &r, &w, NULL, &tv) == 1 && !FD_ISSET(p[0], &r) &&
		   FD_ISSET(p[1], &w),
	   "select: write end ready, read end not");
	ok(tv.tv_sec < 5 && tv.tv_sec >= 3, "the select syscall wrote back the time left");
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv.tv_sec = 0;
	tv.tv_usec = 50000;
	double t0 = now();
	ok(syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv) == 0 && !FD_ISSET(p[0], &r) &&
		   now() - t0 > 0.045,
	   "select times out after 50 ms and clears the set");
	ok(tv.tv_sec == 0 && tv.tv_usec == 0, "with no time left");
	write(p[1], "x", 1);
	FD_SET(p[0], &r);
	tv.tv_usec = 0;
	ok(select(p[0] + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &r), "select sees data");
	FD_SET(p[0], &r);
	FD_SET(p[1], &r);
	ok(select(p[1] + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &r) && !FD_ISSET(p[1], &r),
	   "a write end in the read set is never readable");
	int q[2];
	pipe(q);
	close(q[0]);
	close(q[1]);
	FD_ZERO(&r);
	FD_SET(q[0], &r);
	ok(select(q[0] + 1, &r, NULL, NULL, &tv) == -1 && errno == EBADF, "closed fd in a set -> EBADF");
	ok(select(-1, NULL, NULL, NULL, &tv) == -1 && errno == EINVAL, "negative nfds -> EINVAL");
	tv.tv_usec = -1;
	ok(select(0, NULL, NULL, NULL, &tv) == -1 && errno == EINVAL, "negative tv_usec -> EINVAL");

	struct timespec ts = { 0, 20000000 };
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ok(pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL) == 1, "pselect sees data");
	ok(ts.tv_nsec == 20000000, "the libc wrapper keeps the caller's timeout");
	ts.tv_sec = 5;
	ts.tv_nsec = 0;
	FD_SET(p[0], &r);
	ok(syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts, NULL) == 1 && ts.tv_sec < 5 &&
		   ts.tv_sec >= 3,
	   "raw pselect6 writes back the time left");
	struct pollfd pf = { p[0], POLLIN, 0 };
	ts.tv_sec = 5;
	ts.tv_nsec = 0;
	ok(syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8) == 1 && ts.tv_sec < 5 && ts.tv_sec >= 3,
	   "raw ppoll writes back the time left");
	ts.tv_sec = 0;
	ts.tv_nsec = 30000000;
	char c;
	read(p[0], &c, 1);
	t0 = now();
	ok(ppoll(&pf, 1, &ts, NULL) == 0 && now() - t0 > 0.025, "ppoll times out after 30 ms");
	ts.tv_nsec = 1000000000;
	ok(ppoll(&pf, 1, &ts, NULL) == -1 && errno == EINVAL, "ppoll with tv_nsec 1e9 -> EINVAL");
	close(p[0]);
	close(p[1]);
}

static volatile sig_atomic_t got;
static void on_usr1(int sig)
{
	(void)sig;
	got++;
}

static int usr1_blocked(void)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, SIGUSR1);
}

static void masks(void)
{
	int p[2];
	pipe(p);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, open;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &open);
	sigdelset(&open, SIGUSR1);

	raise(SIGUSR1);
	ok(got == 0, "SIGUSR1 blocked and pending");
	struct pollfd pf = { p[0], POLLIN, 0 };
	struct timespec ts = { 5, 0 };
	double t0 = now();
	int r = ppoll(&pf, 1, &ts, &open);
	ok(r == -1 && errno == EINTR && got == 1 && now() - t0 < 2.0,
	   "ppoll's mask lets it in: EINTR after the handler");
	ok(usr1_blocked(), "and the old mask is back");

	raise(SIGUSR1);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	r = pselect(p[0] + 1, &rs, NULL, NULL, &ts, &open);
	ok(r == -1 && errno == EINTR && got == 2 && usr1_blocked(), "the same for pselect");

	int ep = epoll_create1(0);
	struct epoll_event ev = { EPOLLIN, { 0 } };
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	raise(SIGUSR1);
	r = epoll_pwait(ep, &ev, 1, 5000, &open);
	ok(r == -1 && errno == EINTR && got == 3 && usr1_blocked(), "and for epoll_pwait");

	raise(SIGUSR1);
	ok(poll(&pf, 1, 0) == 0 && got == 3, "plain poll keeps it blocked");
	write(p[1], "x", 1);
	r = ppoll(&pf, 1, &ts, &open);
	ok(r == 1 && got == 3 && usr1_blocked(), "ready fds win over the signal: it stays pending");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	ok(got == 4, "until the mask lets it in");
	close(ep);
	close(p[0]);
	close(p[1]);
}

static int tp[2], te;
static void *writer(void *arg)
{
	(void)arg;
	usleep(30000);
	write(tp[1], "x", 1);
	usleep(100000);
	eventfd_write(te, 1);
	return NULL;
}

static void threads(void)
{
	pthread_t t;
	pipe(tp);
	te = eventfd(0, 0);
	pthread_create(&t, NULL, writer, NULL);
	struct pollfd pf[2] = { { tp[0], POLLIN, 0 }, { te, POLLIN, 0 } };
	double t0 = now();
	int r = poll(pf, 2, 5000);
	/* On a loaded host the writer may get both writes in before poll
	 * starts: the eventfd may be ready too, the pipe must be. */
	ok(r >= 1 && pf[0].revents == POLLIN && now() - t0 > 0.020, "another thread's write wakes poll");
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(te, &rs);
	r = select(te + 1, &rs, NULL, NULL, NULL);
	ok(r == 1 && FD_ISSET(te, &rs), "and an eventfd write wakes select");
	pthread_join(t, NULL);
	close(tp[0]);
	close(tp[1]);
	close(te);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pipes();
	sockets_and_eventfds();
	selects();
	masks();
	threads();
	return bad;
}
