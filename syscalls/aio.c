// SPDX-License-Identifier: MIT
/*
 * Linux native AIO: io_setup, io_submit, io_getevents, io_destroy.  Files
 * here live in memory (minifs), so a read or write cannot overlap with
 * anything: io_submit does each request at once, through the same code as
 * pread64/pwrite64/preadv/pwritev/fsync/fdatasync, and queues its
 * completion on the context; io_getevents hands completions out and sleeps
 * only while there are fewer than min_nr.  A request therefore never is
 * "in flight", and io_cancel (not implemented: -ENOSYS) would have nothing
 * to cancel.  Not supported: IOCB_FLAG_RESFD (an eventfd told of each
 * completion), per-request RWF_* flags and the poll command: -EINVAL, as a
 * Linux without them.
 *
 * A context's id is, as on Linux, the address of a page in the program's
 * memory: libaio reads a ring header there before it makes the syscall.
 * The page is zero, so its magic never matches and libaio always asks the
 * kernel (the completions are kept here, not in that page).
 */
#include "syscalls/syscalls.h"

#define AIO_MAX_EVENTS 65536 /* Linux's default fs.aio-max-nr */

enum {
	IOCB_CMD_PREAD = 0,
	IOCB_CMD_PWRITE = 1,
	IOCB_CMD_FSYNC = 2,
	IOCB_CMD_FDSYNC = 3,
	IOCB_CMD_NOOP = 6,
	IOCB_CMD_PREADV = 7,
	IOCB_CMD_PWRITEV = 8
};

struct iocb {
	uint64_t aio_data;
	uint32_t aio_key, aio_rw_flags;
	uint16_t aio_lio_opcode;
	int16_t aio_reqprio;
	uint32_t aio_fildes;
	uint64_t aio_buf, aio_nbytes;
	int64_t aio_offset;
	uint64_t aio_reserved2;
	uint32_t aio_flags, aio_resfd;
};

struct io_event {
	uint64_t data, obj;
	int64_t res, res2;
};

struct aio_ctx {
	struct aio_ctx *next;
	uint64_t id;               /* the page's address */
	unsigned max, head, count; /* a ring of max completions */
	unsigned users;            /* io_getevents calls inside, and the list */
	bool dead;
	struct waitq wq;
	struct io_event ev[];
};

static struct mutex aio_lock = MUTEX_INIT("aio");
static struct aio_ctx *contexts;

long sys_pread64(const struct regs *r);
long sys_pwrite64(const struct regs *r);
long sys_preadv(const struct regs *r);
long sys_pwritev(const struct regs *r);
long sys_fsync(const struct regs *r);
long sys_fdatasync(const struct regs *r);
long sys_mmap(const struct regs *r);
long sys_munmap(const struct regs *r);

/* The context with this id, with a use counted; NULL if none. */
static struct aio_ctx *ctx_get(uint64_t id)
{
	struct aio_ctx *c;

	mutex_lock(&aio_lock);
	for (c = contexts; c && c->id != id; c = c->next)
		;
	if (c)
		c->users++;
	mutex_unlock(&aio_lock);
	return c;
}

static void ctx_put(struct aio_ctx *c)
{
	mutex_lock(&aio_lock);
	bool last = --c->users == 0;
	mutex_unlock(&aio_lock);
	if (last)
		kfree(c);
}

SYSCALL_DEFINE2(io_setup, unsigned, nr, uint64_t __user *, ctxp)
{
	uint64_t id;
	long r;

	if ((r = copy_from_user(&id, ctxp, sizeof(id))) < 0)
		return r;
	if (id || !nr || nr > AIO_MAX_EVENTS)
		return -EINVAL;
	struct aio_ctx *c = kmalloc(sizeof(*c) + (size_t)nr * sizeof(struct io_event));
	if (!c)
		return -EAGAIN;
	memset(c, 0, sizeof(*c));
	c->max = nr;
	c->users = 1;
	struct regs m = { .rdi = 0,
			  .rsi = PAGE_SIZE,
			  .rdx = PROT_READ,
			  .r10 = MAP_PRIVATE | MAP_ANONYMOUS,
			  .r8 = (uint64_t)-1 };
	long addr = sys_mmap(&m);
	if (addr < 0) {
		kfree(c);
		return -EAGAIN;
	}
	c->id = (uint64_t)addr;
	if ((r = copy_to_user(ctxp, &c->id, sizeof(c->id))) < 0) {
		struct regs u = { .rdi = c->id, .rsi = PAGE_SIZE };
		sys_munmap(&u);
		kfree(c);
		return r;
	}
	mutex_lock(&aio_lock);
	c->next = contexts;
	contexts = c;
	mutex_unlock(&aio_lock);
	return 0;
}

/* Takes the context off the list (new calls get -EINVAL), wakes whoever
 * waits in io_getevents (they return -EINVAL too, as on Linux) and frees
 * it when the last of them has left. */
SYSCALL_DEFINE1(io_destroy, uint64_t, id)
{
	struct aio_ctx *c, **pp;

	mutex_lock(&aio_lock);
	for (pp = &contexts; (c = *pp) && c->id != id; pp = &c->next)
		;
	if (c) {
		*pp = c->next;
		c->dead = true;
	}
	mutex_unlock(&aio_lock);
	if (!c)
		return -EINVAL;
	wake_up(&c->wq);
	struct regs u = { .rdi = c->id, .rsi = PAGE_SIZE };
	sys_munmap(&u);
	ctx_put(c);
	return 0;
}

/* Does one request now; its result as the completion's res. */
static long aio_do(const struct iocb *cb)
{
	struct regs r = { .rdi = cb->aio_fildes,
			  .rsi = cb->aio_buf,
			  .rdx = cb->aio_nbytes,
			  .r10 = (uint64_t)cb->aio_offset };

	switch (cb->aio_lio_opcode) {
	case IOCB_CMD_PREAD: return sys_pread64(&r);
	case IOCB_CMD_PWRITE: return sys_pwrite64(&r);
	case IOCB_CMD_PREADV: return sys_preadv(&r);
	case IOCB_CMD_PWRITEV: return sys_pwritev(&r);
	case IOCB_CMD_FSYNC: return sys_fsync(&r);
	case IOCB_CMD_FDSYNC: return sys_fdatasync(&r);
	case IOCB_CMD_NOOP: return 0;
	default: return -EINVAL;
	}
}

SYSCALL_DEFINE3(io_submit, uint64_t, id, long, nr, uint64_t __user *, iocbpp)
{
	struct aio_ctx *c;
	long done = 0, err = 0;

	if (nr < 0)
		return -EINVAL;
	if (!(c = ctx_get(id)))
		return -EINVAL;
	for (; done < nr; done++) {
		uint64_t p;
		struct iocb cb;

		if ((err = copy_from_user(&p, iocbpp + done, sizeof(p))) < 0 ||
		    (err = copy_from_user(&cb, (const void __user *)p, sizeof(cb))) < 0)
			break;
		if (cb.aio_reserved2 || cb.aio_flags || cb.aio_rw_flags ||
		    cb.aio_lio_opcode > IOCB_CMD_PWRITEV || cb.aio_lio_opcode == 4 ||
		    cb.aio_lio_opcode == 5) {
			err = -EINVAL; /* RESFD, RWF_* flags, the poll command: see the top */
			break;
		}
		if (!fd_get((int)cb.aio_fildes)) {
			err = -EBADF;
			break;
		}
		mutex_lock(&aio_lock);
		bool full = c->count == c->max;
		mutex_unlock(&aio_lock);
		if (full) {
			err = -EAGAIN; /* every completion slot holds one not yet collected */
			break;
		}
		struct io_event ev = { .data = cb.aio_data, .obj = p, .res = aio_do(&cb) };
		mutex_lock(&aio_lock);
		c->ev[(c->head + c->count++) % c->max] = ev;
		mutex_unlock(&aio_lock);
		wake_up(&c->wq);
	}
	ctx_put(c);
	return done ? done : err;
}

SYSCALL_DEFINE5(io_getevents, uint64_t, id, long, min_nr, long, nr, struct io_event __user *, events,
		const struct timespec __user *, uts)
{
	struct aio_ctx *c;
	struct timespec ts;
	uint64_t deadline;
	long r, got = 0;

	if (min_nr < 0 || nr < 0 || min_nr > nr)
		return -EINVAL;
	if (uts && (r = copy_from_user(&ts, uts, sizeof(ts))) < 0)
		return r;
	if ((r = poll_deadline(uts ? &ts : NULL, &deadline)) < 0)
		return r;
	if (!(c = ctx_get(id)))
		return -EINVAL;
	r = 0;
	while (got < nr) {
		struct io_event ev;
		mutex_lock(&aio_lock);
		bool dead = c->dead, have = !dead && c->count > 0;
		if (have) {
			ev = c->ev[c->head];
			c->head = (c->head + 1) % c->max;
			c->count--;
		}
		mutex_unlock(&aio_lock);
		if (dead) {
			r = -EINVAL;
			break;
		}
		if (have) {
			if ((r = copy_to_user(events + got, &ev, sizeof(ev))) < 0)
				break;
			got++;
			continue;
		}
		if (got >= min_nr || deadline == 1)
			break;
		r = wait_event_deadline(&c->wq, c->count > 0 || c->dead, deadline);
		if (r == -ETIMEDOUT) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
	}
	ctx_put(c);
	return got ? got : r;
}
