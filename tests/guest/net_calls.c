// SPDX-License-Identifier: MIT
/*
 * The socket system calls themselves, whatever the family, compared with
 * Linux: EBADF and ENOTSOCK for descriptors that are not sockets, socket()'s
 * checks of family, type and flags, EFAULT and EINVAL for bad addresses and
 * lengths, the options every socket answers (SO_TYPE, SO_DOMAIN,
 * SO_PROTOCOL, SO_RCVTIMEO and SO_SNDTIMEO, with a receive that times out),
 * accept4's flag check, sendmmsg and recvmmsg batches with MSG_WAITFORONE,
 * and fstat of a socket.  Uses AF_UNIX socketpairs, which every build has.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "check.h"

static void not_sockets(void)
{
	char b[4];
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int v;

	fails(bind(999, (void *)&a, sizeof(a)), EBADF, "bind on a closed fd: EBADF");
	fails(listen(0, 1), ENOTSOCK, "listen on stdin: ENOTSOCK");
	fails(accept(0, NULL, NULL), ENOTSOCK, "accept on stdin: ENOTSOCK");
	fails(connect(1, (void *)&a, sizeof(a)), ENOTSOCK, "connect on stdout: ENOTSOCK");
	fails(getsockname(0, (void *)&a, &len), ENOTSOCK, "getsockname on stdin: ENOTSOCK");
	fails(getsockopt(0, SOL_SOCKET, SO_TYPE, &v, &len), ENOTSOCK, "getsockopt on stdin: ENOTSOCK");
	fails(recv(0, b, sizeof(b), 0), ENOTSOCK, "recv on stdin: ENOTSOCK");
	fails(send(1, b, sizeof(b), 0), ENOTSOCK, "send on stdout: ENOTSOCK");
	fails(shutdown(0, SHUT_RD), ENOTSOCK, "shutdown on stdin: ENOTSOCK");
}

static void creation(void)
{
	int sv[2];

	fails(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT, "socket of an unknown family: EAFNOSUPPORT");
	fails(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT, "socket of family -1: EAFNOSUPPORT");
	fails(socket(AF_UNIX, 0, 0), ESOCKTNOSUPPORT, "AF_UNIX socket of type 0: ESOCKTNOSUPPORT");
	fails(socket(AF_UNIX, 99, 0), EINVAL, "socket of type 99: EINVAL");
	fails(socket(AF_UNIX, SOCK_STREAM | 0x10000, 0), EINVAL, "socket with an unknown flag: EINVAL");
	int *volatile badsv = (int *)8; /* volatile: gcc would warn of the bad pointer */
	fails(socketpair(AF_UNIX, SOCK_STREAM, 0, badsv), EFAULT,
	      "socketpair into a bad pointer: EFAULT");
	fails(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP, "socketpair(AF_INET): EOPNOTSUPP");
	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0,
	   "socketpair with SOCK_NONBLOCK | SOCK_CLOEXEC");
	ok((fcntl(sv[0], F_GETFL) & O_NONBLOCK) && (fcntl(sv[1], F_GETFD) & FD_CLOEXEC),
	   "the flags reach both ends");
	struct stat st;
	ok(fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode), "fstat of a socket: S_IFSOCK");
	char b[4];
	fails(read(sv[0], b, sizeof(b)), EAGAIN, "read on an empty non-blocking socket: EAGAIN");
	close(sv[0]);
	close(sv[1]);
}

static void options(int s)
{
	int v = -1;
	socklen_t len = sizeof(v);
	struct timeval tv = { 0, 200000 }, got;

	ok(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM && len == sizeof(v),
	   "SO_TYPE: SOCK_STREAM");
	ok(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 && v == AF_UNIX, "SO_DOMAIN: AF_UNIX");
	ok(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 && v == 0, "SO_PROTOCOL: 0");
	fails(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT,
	      "setting SO_TYPE: ENOPROTOOPT");
	len = 2;
	ok(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && len == 2,
	   "getsockopt with a short buffer cuts the value");
	len = (socklen_t)-1;
	fails(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len), EINVAL, "getsockopt length -1: EINVAL");
	fails(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8), EFAULT,
	      "getsockopt length at a bad pointer: EFAULT");
	fails(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (void *)8, sizeof(tv)), EFAULT,
	      "setsockopt value at a bad pointer: EFAULT");
	fails(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv) - 1), EINVAL,
	      "SO_RCVTIMEO shorter than a timeval: EINVAL");
	struct timeval badtv = { 1, 1000000 };
	fails(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &badtv, sizeof(badtv)), EDOM,
	      "SO_RCVTIMEO with tv_usec 1000000: EDOM");
	ok(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO 0.2 s");
	len = sizeof(got);
	ok(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len) == 0 && got.tv_sec == 0 &&
		   got.tv_usec == 200000,
	   "SO_RCVTIMEO reads back 0.2 s");
	char b[4];
	double t0 = now();
	long r = recv(s, b, sizeof(b), 0);
	int e = errno;
	double dt = now() - t0;
	okf(r == -1 && e == EAGAIN && dt >= 0.15 && dt < 2,
	    "a receive with nothing to read times out with EAGAIN", "r %ld errno %d after %.3f s", r, e,
	    dt);
	fails(setsockopt(s, 999, 1, &v, sizeof(v)), EOPNOTSUPP,
	      "AF_UNIX at another level than SOL_SOCKET: EOPNOTSUPP");
}

static void batches(int a, int b)
{
	char m[3][8] = { "one", "two", "three" }, in[3][8];
	struct iovec iov[3], riov[3];
	struct mmsghdr out[3], rin[3];

	memset(out, 0, sizeof(out));
	memset(rin, 0, sizeof(rin));
	memset(in, 0, sizeof(in));
	for (int i = 0; i < 3; i++) {
		iov[i] = (struct iovec){ m[i], strlen(m[i]) };
		out[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		riov[i] = (struct iovec){ in[i], 3 };
		rin[i].msg_hdr = (struct msghdr){ .msg_iov = &riov[i], .msg_iovlen = 1 };
	}
	ok(sendmmsg(a, out, 3, 0) == 3 && out[0].msg_len == 3 && out[2].msg_len == 5,
	   "sendmmsg sends three messages and records their lengths");
	int n = recvmmsg(b, rin, 3, MSG_WAITFORONE, NULL);
	okf(n >= 1 && rin[0].msg_len == 3, "recvmmsg with MSG_WAITFORONE takes what is there",
	    "n %d len %u", n, rin[0].msg_len);
	/* The raw call: musl's sendmmsg reads the vector itself first. */
	fails(syscall(SYS_sendmmsg, a, (void *)8, 1, 0), EFAULT, "sendmmsg from a bad pointer: EFAULT");
	fails(accept4(a, NULL, NULL, 0x1234), EINVAL, "accept4 with unknown flags: EINVAL");
	ok(send(a, "x", 1, 0) == 1, "one more byte");
	while (recv(b, in[0], sizeof(in[0]), MSG_DONTWAIT) > 0 && in[0][0] != 'x')
		;
	ok(send(a, "y", 1, 0) == 1, "a byte to receive into a bad buffer");
	fails(recvfrom(b, (void *)8, 10, MSG_DONTWAIT, NULL, NULL), EFAULT,
	      "recvfrom into a bad buffer: EFAULT");
	fails(shutdown(a, 7), EINVAL, "shutdown how 7: EINVAL");
}

int main(void)
{
	int sv[2];

	not_sockets();
	creation();
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	options(sv[0]);
	batches(sv[0], sv[1]);
	return bad;
}
