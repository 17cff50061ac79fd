// SPDX-License-Identifier: MIT
/* aio: Linux native AIO through the raw syscalls (as libaio and mariadbd
 * make them): io_setup, io_submit of pwrite, pread, pwritev, preadv,
 * fsync and noop, io_getevents with and without a timeout, the errors for
 * a bad context, a bad fd, a non-zero context word and a bad opcode, and
 * io_destroy.  The same output on Linux and in the VM. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include "check.h"

/* linux/aio_abi.h, written out: the musl builds have no kernel headers. */
typedef unsigned long aio_context_t;
enum {
	IOCB_CMD_PREAD = 0,
	IOCB_CMD_PWRITE = 1,
	IOCB_CMD_FSYNC = 2,
	IOCB_CMD_PREADV = 7,
	IOCB_CMD_PWRITEV = 8
};
struct io_event {
	uint64_t data, obj;
	int64_t res, res2;
};
struct iocb {
	uint64_t aio_data;
	uint32_t aio_key, aio_rw_flags;
	uint16_t aio_lio_opcode;
	int16_t aio_reqprio;
	uint32_t aio_fildes;
	uint64_t aio_buf, aio_nbytes;
	int64_t aio_offset, aio_reserved2;
	uint32_t aio_flags, aio_resfd;
};

static long setup(unsigned nr, aio_context_t *c)
{
	return syscall(SYS_io_setup, nr, c);
}
static long submit(aio_context_t c, long n, struct iocb **v)
{
	return syscall(SYS_io_submit, c, n, v);
}
static long getev(aio_context_t c, long min, long n, struct io_event *e, struct timespec *t)
{
	return syscall(SYS_io_getevents, c, min, n, e, t);
}

static struct iocb cb(int op, int fd, void *buf, size_t n, long long off, uint64_t data)
{
	struct iocb b;
	memset(&b, 0, sizeof(b));
	b.aio_lio_opcode = op;
	b.aio_fildes = fd;
	b.aio_buf = (uintptr_t)buf;
	b.aio_nbytes = n;
	b.aio_offset = off;
	b.aio_data = data;
	return b;
}

int main(void)
{
	aio_context_t ctx = 0, other = 1;
	struct io_event ev[8];
	struct timespec zero = { 0, 0 }, short_wait = { 0, 20000000 };
	char out[8192], in[8192], a[100], b[200];

	enter_workdir("aio");
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0, "open");
	fails(setup(8, &other), EINVAL, "io_setup with a non-zero context word");
	fails(setup(0, &ctx), EINVAL, "io_setup of 0 events");
	ok(setup(8, &ctx) == 0 && ctx != 0, "io_setup");
	fails(getev(ctx + 4096, 0, 1, ev, &zero), EINVAL, "io_getevents on no context");

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 3);
	struct iocb w = cb(IOCB_CMD_PWRITE, fd, out, sizeof(out), 4096, 11), *pw = &w;
	ok(submit(ctx, 1, &pw) == 1, "io_submit pwrite");
	long n = getev(ctx, 1, 8, ev, NULL);
	ok_vals(n == 1 && ev[0].data == 11 && ev[0].obj == (uintptr_t)&w && ev[0].res == sizeof(out) &&
			ev[0].res2 == 0,
		"the pwrite's completion", n, ev[0].res);

	struct iocb r = cb(IOCB_CMD_PREAD, fd, in, sizeof(in), 4096, 12);
	struct iocb s = cb(IOCB_CMD_FSYNC, fd, NULL, 0, 0, 13);
	struct iocb z = cb(IOCB_CMD_PREAD, fd, a, sizeof(a), 100000, 14); /* past the end */
	struct iocb *v[] = { &r, &s, &z };
	ok(submit(ctx, 3, v) == 3, "io_submit pread, fsync, pread past the end");
	n = 0;
	while (n < 3) {
		long k = getev(ctx, 1, 3 - n, ev + n, NULL);
		if (k <= 0)
			break;
		n += k;
	}
	ok_vals(n == 3, "three completions", n, 3);
	int seen = 0;
	for (long i = 0; i < n; i++) {
		if (ev[i].data == 12 && ev[i].res == sizeof(in))
			seen |= 1;
		if (ev[i].data == 13 && ev[i].res == 0)
			seen |= 2;
		if (ev[i].data == 14 && ev[i].res == 0)
			seen |= 4;
	}
	ok_vals(seen == 7, "each with its result", seen, 7);
	ok(memcmp(in, out, sizeof(in)) == 0, "pread read what pwrite wrote");

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iocb wv = cb(IOCB_CMD_PWRITEV, fd, iov, 2, 0, 21), *pwv = &wv;
	ok(submit(ctx, 1, &pwv) == 1, "io_submit pwritev");
	n = getev(ctx, 1, 1, ev, NULL);
	ok_vals(n == 1 && ev[0].res == 300, "pwritev wrote 300 bytes", n, ev[0].res);
	char back[300];
	struct iovec riov[1] = { { back, sizeof(back) } };
	struct iocb rv = cb(IOCB_CMD_PREADV, fd, riov, 1, 0, 22), *prv = &rv;
	ok(submit(ctx, 1, &prv) == 1, "io_submit preadv");
	n = getev(ctx, 1, 1, ev, NULL);
	ok_vals(n == 1 && ev[0].res == 300 && back[99] == 'a' && back[100] == 'b' && back[299] == 'b',
		"preadv read them back", n, ev[0].res);

	fails(getev(ctx, 2, 1, ev, &zero), EINVAL, "io_getevents with min_nr > nr");
	ok_vals(getev(ctx, 0, 8, ev, &zero) == 0, "nothing left: 0 at once", 0, 0);
	double t0 = now();
	n = getev(ctx, 1, 8, ev, &short_wait);
	double t = now() - t0;
	okf(n == 0 && t >= 0.015, "a 20 ms timeout with nothing to collect", "n %ld after %.3f s", n, t);

	struct iocb bad_fd = cb(IOCB_CMD_PREAD, 9999, in, 10, 0, 31), *pbf = &bad_fd;
	fails(submit(ctx, 1, &pbf), EBADF, "io_submit on a closed fd");
	struct iocb bad_op = cb(99, fd, in, 10, 0, 32), *pbo = &bad_op;
	fails(submit(ctx, 1, &pbo), EINVAL, "io_submit of an unknown opcode");
	struct iocb nop = cb(IOCB_CMD_PREAD, fd, in, 10, 0, 33);
	struct iocb *mixed[] = { &nop, &bad_op };
	ok_vals(submit(ctx, 2, mixed) == 1, "a good request then a bad one: 1 submitted", 1, 1);
	n = getev(ctx, 1, 8, ev, NULL);
	ok_vals(n == 1 && ev[0].data == 33 && ev[0].res == 10, "its completion", n, ev[0].res);

	ok(syscall(SYS_io_destroy, ctx) == 0, "io_destroy");
	fails(syscall(SYS_io_destroy, ctx), EINVAL, "io_destroy again");
	fails(submit(ctx, 1, &pw), EINVAL, "io_submit after io_destroy");
	close(fd);
	leave_workdir();
	return bad;
}
