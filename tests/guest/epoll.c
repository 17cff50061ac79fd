// SPDX-License-Identifier: MIT
/* epoll: readiness through epoll as on Linux.  200 pipes in one epoll
 * report exactly the ones written to, with their data; level-triggered
 * entries report until drained, edge-triggered ones once per new write;
 * EPOLLONESHOT reports once until re-armed with EPOLL_CTL_MOD; EPOLL_CTL_DEL
 * and closing the last descriptor of a file remove it (a dup keeps it);
 * an epoll inside an epoll reports its readiness; a timerfd and an eventfd
 * wake epoll_wait; EPOLLHUP and EPOLLERR come unasked; epoll_pwait and
 * epoll_pwait2 time out; and the error paths (EEXIST, ENOENT, EBADF,
 * EINVAL, EPERM, ELOOP) answer as Linux does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { NP = 200 };
static int p[NP][2];

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void many(void)
{
	struct epoll_event ev[NP];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int fine = ep >= 0 && (fcntl(ep, F_GETFD) & FD_CLOEXEC);
	for (int i = 0; i < NP && fine; i++)
		fine = pipe(p[i]) == 0 && add(ep, p[i][0], EPOLLIN, 1000 + i) == 0;
	ok(fine, "200 pipes added to an EPOLL_CLOEXEC epoll");
	ok(epoll_wait(ep, ev, NP, 0) == 0, "nothing ready");
	for (int i = 0; i < NP; i += 7)
		write(p[i][1], "x", 1);
	int n = epoll_wait(ep, ev, NP, 0), seen[NP] = { 0 }, right = 1;
	for (int i = 0; i < n; i++) {
		int k = (int)ev[i].data.u64 - 1000;
		right &= k >= 0 && k < NP && k % 7 == 0 && !seen[k] && ev[i].events == EPOLLIN;
		if (k >= 0 && k < NP)
			seen[k] = 1;
	}
	ok(n == (NP + 6) / 7 && right, "exactly the 29 written pipes, each once, with their data");
	ok(epoll_wait(ep, ev, NP, 0) == n, "level-triggered: still ready");
	ok(epoll_wait(ep, ev, 5, 0) == 5, "maxevents limits the batch");
	char c;
	for (int i = 0; i < NP; i += 7)
		read(p[i][0], &c, 1);
	ok(epoll_wait(ep, ev, NP, 0) == 0, "drained: nothing ready");
	for (int i = 0; i < NP; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	close(ep);
}

static void triggers(void)
{
	struct epoll_event ev[4];
	int a[2], b[2], c2[2];
	char buf[16];
	pipe(a);
	pipe(b);
	pipe(c2);
	int ep = epoll_create(1);
	ok(add(ep, a[0], EPOLLIN, 1) == 0 && add(ep, b[0], EPOLLIN | EPOLLET, 2) == 0 &&
		   add(ep, c2[0], EPOLLIN | EPOLLONESHOT, 3) == 0,
	   "level, edge and one-shot entries");
	write(a[1], "ab", 2);
	write(b[1], "ab", 2);
	write(c2[1], "ab", 2);
	ok(epoll_wait(ep, ev, 4, 0) == 3, "all three report the first write");
	int n = epoll_wait(ep, ev, 4, 0);
	ok(n == 1 && ev[0].data.u64 == 1, "then only the level-triggered one");
	read(b[0], buf, 1);
	ok(epoll_wait(ep, ev, 4, 0) == 1, "a partial read does not re-trigger the edge");
	write(b[1], "c", 1);
	n = epoll_wait(ep, ev, 4, 0);
	ok(n == 2 && (ev[0].data.u64 == 2 || ev[1].data.u64 == 2), "a new write re-triggers the edge");
	write(c2[1], "c", 1);
	n = epoll_wait(ep, ev, 4, 0);
	ok(n == 1 && ev[0].data.u64 == 1, "one-shot stays quiet after its event");
	ok(mod(ep, c2[0], EPOLLIN | EPOLLONESHOT, 33) == 0, "EPOLL_CTL_MOD re-arms it");
	n = epoll_wait(ep, ev, 4, 0);
	ok(n == 2 && (ev[0].data.u64 == 33 || ev[1].data.u64 == 33), "and it reports with the new data");
	ok(epoll_wait(ep, ev, 4, 0) == 1, "once");
	ok(epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL) == 0, "EPOLL_CTL_DEL");
	ok(epoll_wait(ep, ev, 4, 0) == 0, "the deleted entry is gone");
	ok(mod(ep, b[0], EPOLLOUT, 2) == 0 && epoll_wait(ep, ev, 4, 0) == 0,
	   "MOD to EPOLLOUT on a read end: never ready");

	/* EPOLLHUP comes unasked when the write end closes. */
	ok(mod(ep, b[0], EPOLLIN, 2) == 0, "back to EPOLLIN");
	read(b[0], buf, sizeof buf);
	close(b[1]);
	n = epoll_wait(ep, ev, 4, 0);
	ok(n == 1 && ev[0].events == EPOLLHUP && ev[0].data.u64 == 2,
	   "EPOLLHUP after the writer closes");
	/* EPOLLERR on a write end whose reader is gone */
	ok(add(ep, a[1], EPOLLOUT, 4) == 0, "add a write end");
	close(a[0]);
	n = epoll_wait(ep, ev, 4, 0);
	int found = 0;
	for (int i = 0; i < n; i++)
		if (ev[i].data.u64 == 4)
			found = ev[i].events == (EPOLLOUT | EPOLLERR);
	ok(found, "EPOLLOUT|EPOLLERR when the reader is gone");
	close(ep);
	close(a[1]);
	close(b[0]);
	close(c2[0]);
	close(c2[1]);
}

static void lifetime(void)
{
	struct epoll_event ev[2];
	int a[2];
	pipe(a);
	int ep = epoll_create1(0);
	add(ep, a[0], EPOLLIN, 7);
	int d = dup(a[0]);
	close(a[0]);
	write(a[1], "x", 1);
	int n = epoll_wait(ep, ev, 2, 0);
	ok(n == 1 && ev[0].data.u64 == 7, "a dup keeps the registration of a closed fd alive");
	ok(epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL) == -1 && errno == EBADF,
	   "EPOLL_CTL_DEL of the closed fd -> EBADF");
	close(d);
	ok(epoll_wait(ep, ev, 2, 0) == 0, "closing the last descriptor removes it");
	pipe(a); /* the same fd numbers again: a new file, not registered */
	ok(epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL) == -1 && errno == ENOENT,
	   "a new file on the old number is not registered (ENOENT)");
	close(a[0]);
	close(a[1]);
	close(ep);
}

static void nested_and_sources(void)
{
	struct epoll_event ev[2];
	int inner = epoll_create1(0), outer = epoll_create1(0);
	int e = eventfd(0, EFD_NONBLOCK);
	add(inner, e, EPOLLIN, 11);
	ok(add(outer, inner, EPOLLIN, 22) == 0, "an epoll inside an epoll");
	ok(epoll_wait(outer, ev, 2, 0) == 0, "nothing ready inside");
	eventfd_write(e, 1);
	int n = epoll_wait(outer, ev, 2, 0);
	ok(n == 1 && ev[0].data.u64 == 22 && ev[0].events == EPOLLIN,
	   "the outer one sees the inner's event");
	n = epoll_wait(inner, ev, 2, 0);
	ok(n == 1 && ev[0].data.u64 == 11, "the inner one reports the eventfd");
	eventfd_t v;
	eventfd_read(e, &v);
	ok(epoll_wait(outer, ev, 2, 0) == 0, "drained: the outer one is quiet");
	ok(add(inner, outer, EPOLLIN, 0) == -1 && errno == ELOOP, "a loop of epolls -> ELOOP");
	ok(add(inner, inner, EPOLLIN, 0) == -1 && errno == EINVAL, "an epoll inside itself -> EINVAL");

	/* A thread-free wait for a timerfd through the nested pair. */
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec its = { { 0, 0 }, { 0, 50 * 1000 * 1000 } };
	add(inner, t, EPOLLIN | EPOLLET, 33);
	timerfd_settime(t, 0, &its, NULL);
	double t0 = now();
	n = epoll_wait(outer, ev, 2, 5000);
	double dt = now() - t0;
	ok(n == 1 && ev[0].data.u64 == 22, "a timerfd wakes epoll_wait on the outer epoll");
	ok(dt > 0.040 && dt < 3.0, "after about 50 ms");
	n = epoll_wait(inner, ev, 2, 0);
	ok(n == 1 && ev[0].data.u64 == 33, "the inner one names the timerfd");
	uint64_t ticks;
	ok(read(t, &ticks, 8) == 8 && ticks == 1, "one expiration");

	/* An eventfd written by nobody: epoll_wait times out. */
	t0 = now();
	n = epoll_wait(inner, ev, 2, 60);
	dt = now() - t0;
	ok(n == 0 && dt > 0.050 && dt < 3.0, "epoll_wait times out after 60 ms");
	sigset_t none;
	sigemptyset(&none);
	t0 = now();
	n = epoll_pwait(inner, ev, 2, 30, &none);
	dt = now() - t0;
	ok(n == 0 && dt > 0.020, "epoll_pwait times out after 30 ms");
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	t0 = now();
	n = syscall(SYS_epoll_pwait2, inner, ev, 2, &ts, NULL, 8);
	dt = now() - t0;
	ok(n == 0 && dt > 0.020, "epoll_pwait2 times out after 30 ms");
	ts.tv_nsec = 0;
	ok(syscall(SYS_epoll_pwait2, inner, ev, 2, &ts, NULL, 8) == 0, "epoll_pwait2 with zero time");
	ts.tv_nsec = 1000 * 1000 * 1000;
	ok(syscall(SYS_epoll_pwait2, inner, ev, 2, &ts, NULL, 8) == -1 && errno == EINVAL,
	   "epoll_pwait2 with tv_nsec 1e9 -> EINVAL");
	close(t);
	close(e);
	close(inner);
	close(outer);
}

static void errors(void)
{
	struct epoll_event ev = { EPOLLIN, { 0 } }, out[1];
	int a[2];
	pipe(a);
	int ep = epoll_create1(0);
	int reg = open("/proc/self/exe", O_RDONLY);
	ok(syscall(SYS_epoll_create, 0) == -1 && errno == EINVAL, "epoll_create(0) -> EINVAL");
	ok(epoll_create1(1) == -1 && errno == EINVAL, "epoll_create1(1) -> EINVAL");
	ok(epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev) == 0, "add");
	ok(epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev) == -1 && errno == EEXIST, "add again -> EEXIST");
	ok(epoll_ctl(ep, EPOLL_CTL_MOD, a[1], &ev) == -1 && errno == ENOENT, "mod unknown -> ENOENT");
	ok(epoll_ctl(ep, EPOLL_CTL_DEL, a[1], &ev) == -1 && errno == ENOENT, "del unknown -> ENOENT");
	ok(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev) == -1 && errno == EBADF, "bad fd -> EBADF");
	ok(epoll_ctl(999, EPOLL_CTL_ADD, a[0], &ev) == -1 && errno == EBADF, "bad epfd -> EBADF");
	ok(epoll_ctl(a[1], EPOLL_CTL_ADD, a[0], &ev) == -1 && errno == EINVAL,
	   "epfd not an epoll -> EINVAL");
	ok(epoll_ctl(ep, 42, a[0], &ev) == -1 && errno == EINVAL, "unknown op -> EINVAL");
	ok(reg >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev) == -1 && errno == EPERM,
	   "a regular file -> EPERM");
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ok(epoll_ctl(ep, EPOLL_CTL_ADD, a[1], &ev) == 0, "EPOLLEXCLUSIVE is accepted on add");
	ok(epoll_ctl(ep, EPOLL_CTL_MOD, a[1], &ev) == -1 && errno == EINVAL, "but not on mod -> EINVAL");
	ev.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	ok(epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev) == -1 && errno == EINVAL,
	   "EPOLLEXCLUSIVE with EPOLLONESHOT -> EINVAL");
	ok(epoll_ctl(ep, EPOLL_CTL_ADD, a[0], NULL) == -1 && errno == EFAULT, "NULL event -> EFAULT");
	ok(epoll_wait(ep, out, 0, 0) == -1 && errno == EINVAL, "maxevents 0 -> EINVAL");
	ok(epoll_wait(a[0], out, 1, 0) == -1 && errno == EINVAL, "epoll_wait on a pipe -> EINVAL");
	ok(epoll_wait(999, out, 1, 0) == -1 && errno == EBADF, "epoll_wait on a bad fd -> EBADF");
	ok(epoll_pwait(ep, out, 1, 0, NULL) == 0, "epoll_pwait without a mask");
	close(reg);
	close(a[0]);
	close(a[1]);
	close(ep);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	many();
	triggers();
	lifetime();
	nested_and_sources();
	errors();
	return bad;
}
