// SPDX-License-Identifier: MIT
/* net_epoll: epoll over many TCP connections on loopback, as on Linux.
 * 1000 non-blocking clients connect at once to one listener; an
 * edge-triggered loop over the clients and a level-triggered one over the
 * listener and the accepted ends move one message each way per connection.
 * Then edge-triggered epoll reports new bytes once per arrival; a peer that
 * closes mid-stream shows as EPOLLIN|EPOLLRDHUP with its last bytes still
 * readable, and writing on afterwards ends in EPOLLERR/EPOLLHUP, EPIPE with
 * MSG_NOSIGNAL, and EPIPE plus SIGPIPE without. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define N 1000
#define MSG 16

static volatile sig_atomic_t pipes;
static void on_pipe(int sig)
{
	(void)sig;
	pipes++;
}

static int listener(struct sockaddr_in *a)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	socklen_t l = sizeof(*a);
	*a = (struct sockaddr_in){ .sin_family = AF_INET };
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (void *)a, sizeof(*a)) || listen(ls, 4096))
		return -1;
	getsockname(ls, (void *)a, &l);
	return ls;
}

static void many(void)
{
	static int cli[N], sent[N], got[N];
	struct sockaddr_in a;
	struct epoll_event ev, evs[256];
	int ls = listener(&a), ep = epoll_create1(0), accepted = 0, echoed = 0, done = 0;
	int inprogress = 0, failed = 0;

	ok(ls >= 0 && ep >= 0, "listener and epoll");
	ev = (struct epoll_event){ EPOLLIN, { .u64 = 1ULL << 32 } };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (int i = 0; i < N; i++) {
		cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int r = connect(cli[i], (void *)&a, sizeof(a));
		if (r == 0 || errno == EINPROGRESS)
			inprogress++;
		else
			failed++;
		ev = (struct epoll_event){ EPOLLIN | EPOLLOUT | EPOLLET, { .u64 = (2ULL << 32) | i } };
		epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &ev);
	}
	ok_vals(inprogress == N, "1000 non-blocking connects started", inprogress, failed);
	double t0 = now();
	while (done < N && now() - t0 < 60) {
		int n = epoll_wait(ep, evs, 256, 5000);
		if (n <= 0)
			break;
		for (int k = 0; k < n; k++) {
			unsigned kind = evs[k].data.u64 >> 32, i = (unsigned)evs[k].data.u64;
			char buf[MSG];
			if (kind == 1) { /* the listener, level-triggered: accept all */
				int c;
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					accepted++;
					ev = (struct epoll_event){ EPOLLIN,
								   { .u64 = (3ULL << 32) | c } };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
			} else if (kind == 2) { /* a client, edge-triggered */
				if ((evs[k].events & EPOLLOUT) && !sent[i]) {
					memset(buf, 'a' + i % 26, MSG);
					sent[i] = write(cli[i], buf, MSG) == MSG;
				}
				if (evs[k].events & EPOLLIN) {
					ssize_t r;
					while ((r = read(cli[i], buf, MSG)) > 0)
						got[i] += r;
					if (got[i] == MSG) {
						got[i]++;
						done++;
					}
				}
			} else { /* an accepted end, level-triggered: echo */
				ssize_t r = read((int)i, buf, MSG);
				if (r > 0 && write((int)i, buf, r) == r)
					echoed++;
				else if (r == 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, (int)i, NULL);
					close((int)i);
				}
			}
		}
	}
	ok_vals(accepted == N, "1000 connections accepted", accepted, N);
	ok_vals(echoed == N, "1000 messages echoed", echoed, N);
	ok_vals(done == N, "1000 replies read by edge-triggered clients", done, N);
	for (int i = 0; i < N; i++)
		close(cli[i]);
	close(ls);
	close(ep);
}

static void pair(int *c, int *s)
{
	struct sockaddr_in a;
	int ls = listener(&a);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	connect(*c, (void *)&a, sizeof(a));
	int fl = fcntl(ls, F_GETFL);
	fcntl(ls, F_SETFL, fl & ~O_NONBLOCK);
	*s = accept(ls, NULL, NULL);
	close(ls);
}

static void edges_and_hangups(void)
{
	int c, s, ep = epoll_create1(0);
	struct epoll_event ev = { EPOLLIN | EPOLLET | EPOLLRDHUP, { .u32 = 7 } }, out[4];
	char buf[64];

	pair(&c, &s);
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
	ok(epoll_wait(ep, out, 4, 0) == 0, "edge-triggered: nothing yet");
	write(s, "one", 3);
	ok(epoll_wait(ep, out, 4, 1000) == 1 && (out[0].events & EPOLLIN), "edge: EPOLLIN on arrival");
	ok(epoll_wait(ep, out, 4, 0) == 0, "edge: not again for the same bytes");
	write(s, "two", 3);
	ok(epoll_wait(ep, out, 4, 1000) == 1, "edge: again for new bytes");
	ok(read(c, buf, sizeof(buf)) == 6, "both arrivals read at once");

	/* The peer writes its last bytes and closes. */
	write(s, "last", 4);
	close(s);
	int n = epoll_wait(ep, out, 4, 1000);
	ok(n == 1 && (out[0].events & EPOLLIN) && (out[0].events & EPOLLRDHUP),
	   "peer closed: EPOLLIN|EPOLLRDHUP");
	ok(read(c, buf, sizeof(buf)) == 4 && !memcmp(buf, "last", 4), "its last bytes are read");
	ok(read(c, buf, sizeof(buf)) == 0, "then end-of-file");
	/* Writing on: the closed peer answers with a reset. */
	ok(write(c, "more", 4) == 4, "the first write after the peer's close is taken");
	struct epoll_event hv = { EPOLLOUT, { .u32 = 8 } };
	int ep2 = epoll_create1(0);
	epoll_ctl(ep2, EPOLL_CTL_ADD, c, &hv);
	n = epoll_wait(ep2, out, 4, 2000);
	ok(n == 1 && (out[0].events & (EPOLLERR | EPOLLHUP)), "then the reset: EPOLLERR or EPOLLHUP");
	errno = 0;
	fails(send(c, "x", 1, MSG_NOSIGNAL), EPIPE, "send with MSG_NOSIGNAL: EPIPE");
	ok(pipes == 0, "and no SIGPIPE");
	fails(write(c, "x", 1), EPIPE, "write: EPIPE");
	ok(pipes == 1, "and SIGPIPE");
	close(c);
	close(ep);
	close(ep2);
}

int main(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 2 * N + 64) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	ok(rl.rlim_cur >= 2 * N + 64, "RLIMIT_NOFILE raised for 2000 descriptors");
	signal(SIGPIPE, on_pipe);
	many();
	edges_and_hangups();
	return bad;
}
