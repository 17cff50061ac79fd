// SPDX-License-Identifier: MIT
/*
 * uio: a cursor over the other side of a read or write (Linux's iov_iter,
 * cut down to what this kernel moves).  Segments are the program's
 * iovecs, one program buffer, or one kernel buffer; the program's go
 * through copy_to_user/copy_from_user, so a bad pointer ends the copy with
 * the bytes moved so far, never with a kernel fault.  The iovec array is
 * validated once, up front, as Linux's import_iovec does; after that the
 * files below see only a byte count and these copy functions.
 */
#include "kernel/kernel.h"

void uio_init_user(struct uio *u, void __user *buf, size_t len)
{
	u->one = (struct iovec){ (uint64_t)buf, len };
	u->iov = &u->one;
	u->nsegs = 1;
	u->seg_off = 0;
	u->count = len;
	u->kernel = false;
}

void uio_init_kernel(struct uio *u, void *buf, size_t len)
{
	uio_init_user(u, buf, len);
	u->kernel = true;
}

long uio_import_iovec(struct uio *u, const struct iovec __user *uiov, unsigned long n,
		      struct iovec *small, struct iovec **iov)
{
	uint64_t total = 0;

	*iov = small;
	if (n > UIO_MAXIOV)
		return -EINVAL;
	if (n > UIO_SMALL && !(*iov = kmalloc(n * sizeof(struct iovec))))
		return -ENOMEM;
	if (copy_from_user(*iov, uiov, n * sizeof(struct iovec)) < 0)
		return -EFAULT;
	for (unsigned long i = 0; i < n; i++) {
		struct iovec *v = &(*iov)[i];
		if ((int64_t)v->len < 0)
			return -EINVAL;
		if (!user_range_ok(v->base, v->len))
			return -EFAULT;
		v->len = MIN(v->len, MAX_RW_COUNT - total);
		total += v->len;
	}
	u->iov = *iov;
	u->nsegs = n;
	u->seg_off = 0;
	u->count = total;
	u->kernel = false;
	return total;
}

void uio_free_iovec(struct iovec *iov, struct iovec *small)
{
	if (iov != small)
		kfree(iov);
}

/* The next stretch of the current segment, at most n bytes; 0 at the end.
 * Empty segments are skipped. */
static size_t seg_next(struct uio *u, size_t n, char **at)
{
	while (u->count && u->nsegs && u->seg_off == u->iov->len) {
		u->iov++;
		u->nsegs--;
		u->seg_off = 0;
	}
	if (!u->count || !u->nsegs)
		return 0;
	*at = (char *)u->iov->base + u->seg_off;
	return MIN(MIN(n, u->count), u->iov->len - u->seg_off);
}

static void advance(struct uio *u, size_t c)
{
	u->seg_off += c;
	u->count -= c;
}

/* One copy loop for the three directions: out (kernel src to the uio), in
 * (the uio to kernel dst) and zero. */
enum dir { OUT, IN, ZERO };

static long move(struct uio *u, char *kbuf, size_t n, enum dir d)
{
	size_t done = 0, c;
	char *at;

	while (done < n && (c = seg_next(u, n - done, &at))) {
		long r = 0;
		if (u->kernel) {
			if (d == OUT)
				memcpy(at, kbuf + done, c);
			else if (d == IN)
				memcpy(kbuf + done, at, c);
			else
				memset(at, 0, c);
		} else {
			r = d == OUT  ? copy_to_user(at, kbuf + done, c)
			    : d == IN ? copy_from_user(kbuf + done, at, c)
				      : clear_user(at, c);
		}
		if (r < 0)
			return done ? (long)done : -EFAULT;
		advance(u, c);
		done += c;
	}
	return done;
}

long uio_copy_out(struct uio *u, const void *src, size_t n)
{
	return move(u, (char *)src, n, OUT);
}

long uio_copy_in(struct uio *u, void *dst, size_t n)
{
	return move(u, dst, n, IN);
}

long uio_zero(struct uio *u, size_t n)
{
	return move(u, NULL, n, ZERO);
}
