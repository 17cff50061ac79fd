// SPDX-License-Identifier: MIT
/*
 * Vectored and kernel-side copies through pipes and sockets, compared with
 * Linux: readv on a pipe returns what is there once its first iovecs are
 * full instead of waiting to fill the rest; writev up to PIPE_BUF in all
 * reaches the reader as one write; the iovec array is checked before any
 * byte moves (a bad pointer or a negative length in a later iovec fails
 * the whole call); sendfile feeds a pipe, a socketpair and the console from
 * a file; recvmsg and sendmsg scatter and gather like readv and writev.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "check.h"

static void readv_pipe(void)
{
	int p[2];
	char a[4], b[100];
	struct iovec iov[2] = { { a, sizeof a }, { b, sizeof b } };

	ok(pipe(p) == 0, "pipe");
	ok(write(p[1], "abcd", 4) == 4, "4 bytes into the pipe");
	/* The first iovec takes all there is; a blocking pipe must not wait
	 * for more to fill the second. */
	ok(readv(p[0], iov, 2) == 4 && !memcmp(a, "abcd", 4),
	   "readv returns the 4 bytes there are once its first iovec is full");
	ok(write(p[1], "0123456789", 10) == 10, "10 more bytes");
	ok(readv(p[0], iov, 2) == 10 && !memcmp(a, "0123", 4) && !memcmp(b, "456789", 6),
	   "readv scatters 10 bytes over a 4-byte and a 100-byte iovec");
	close(p[0]);
	close(p[1]);
}

static void writev_pipe(void)
{
	int p[2];
	static char big[PIPE_BUF];
	char small[8] = "tail....", got[PIPE_BUF + 8];
	struct iovec iov[2] = { { big, sizeof big - 8 }, { small, 8 } };

	memset(big, 'x', sizeof big);
	ok(pipe(p) == 0, "pipe");
	ok(writev(p[1], iov, 2) == PIPE_BUF, "writev of PIPE_BUF bytes in two iovecs");
	ok(read(p[0], got, sizeof got) == PIPE_BUF && got[0] == 'x' &&
		   !memcmp(got + PIPE_BUF - 8, small, 8),
	   "one read takes both iovecs' bytes in order");
	close(p[0]);
	close(p[1]);
}

static void iovec_checks(void)
{
	int p[2];
	char a[4], b[4];
	struct iovec bad_ptr[2] = { { a, sizeof a }, { (void *)8, 4 } };
	struct iovec bad_len[2] = { { a, sizeof a }, { b, (size_t)-1 } };

	ok(pipe(p) == 0, "pipe");
	fails(writev(p[1], bad_ptr, 2), EFAULT,
	      "writev with a bad pointer in the second iovec -> EFAULT");
	fails(syscall(SYS_writev, p[1], bad_len, 2), EINVAL,
	      "writev with a negative length in the second iovec -> EINVAL");
	int n = 0;
	ok(ioctl(p[0], FIONREAD, &n) == 0 && n == 0, "and neither wrote a byte");
	fails(syscall(SYS_readv, p[0], bad_ptr, 1025), EINVAL, "readv of 1025 iovecs -> EINVAL");
	close(p[0]);
	close(p[1]);
}

static void sendfile_kinds(void)
{
	int p[2], s[2];
	char got[32];

	enter_workdir("vectored");
	ok(put("src", "sendfile data\n") == 0, "a source file");
	int in = open("src", O_RDONLY);
	ok(in >= 0, "open the source");
	ok(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "a pipe and a socketpair");
	off_t off = 0;
	ok(sendfile(p[1], in, &off, 100) == 14 && off == 14, "sendfile into a pipe");
	ok(read(p[0], got, sizeof got) == 14 && !memcmp(got, "sendfile data\n", 14),
	   "the pipe holds the file");
	off = 9;
	ok(sendfile(s[0], in, &off, 100) == 5 && off == 14, "sendfile from an offset into a socketpair");
	ok(read(s[1], got, sizeof got) == 5 && !memcmp(got, "data\n", 5), "the peer reads the rest");
	ok(sendfile(1, in, NULL, 100) == 14 && lseek(in, 0, SEEK_CUR) == 14,
	   "sendfile to stdout moves the file offset");
	fails(sendfile(in, p[0], NULL, 10), EBADF, "sendfile into a read-only file -> EBADF");
	close(in);
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	leave_workdir();
}

static void msg_scatter(void)
{
	int s[2];
	char a[3], b[8];
	struct iovec out[3] = { { "he", 2 }, { "", 0 }, { "llo!", 4 } };
	struct iovec in[2] = { { a, sizeof a }, { b, sizeof b } };
	struct msghdr m = { .msg_iov = out, .msg_iovlen = 3 };

	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "socketpair");
	ok(sendmsg(s[0], &m, 0) == 6, "sendmsg gathers three iovecs (one empty)");
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 2 };
	ok(recvmsg(s[1], &m, 0) == 6 && !memcmp(a, "hel", 3) && !memcmp(b, "lo!", 3),
	   "recvmsg scatters them over two");
	m = (struct msghdr){ .msg_iov = in, .msg_iovlen = 1025 };
	fails(recvmsg(s[1], &m, MSG_DONTWAIT), EMSGSIZE, "recvmsg with 1025 iovecs -> EMSGSIZE");
	close(s[0]);
	close(s[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	readv_pipe();
	writev_pipe();
	iovec_checks();
	sendfile_kinds();
	msg_scatter();
	return bad;
}
