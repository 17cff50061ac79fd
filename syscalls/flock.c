// SPDX-License-Identifier: MIT
/*
 * flock(2): advisory whole-file locks owned by an open file description,
 * as Linux's fs/locks.c keeps them.  One VM runs one process, but flock
 * locks can still conflict inside it: two open()s of the same file are two
 * owners (the JVM's hsperfdata, sqlite's and dpkg's lock files rely on it).
 * A lock is keyed by the file's inode (the open file itself for pipes and
 * sockets); LOCK_EX waits for every other owner, LOCK_SH for another's
 * LOCK_EX; a conversion drops the old lock first, as Linux does.  The last
 * close of the description releases it (file_put calls flock_release).
 * fcntl's POSIX locks are file.c's (one process: they never conflict).
 */
#include "syscalls/syscalls.h"

struct flock_holder {
	struct flock_holder *next;
	const void *key; /* the inode, or the file without one */
	struct file *owner;
	bool excl;
};

static struct {
	struct spinlock lock; /* the list */
	struct flock_holder *head;
	struct waitq wq; /* woken when a lock goes */
} locks = { .lock = SPINLOCK_INIT("flock") };

static const void *key_of(const struct file *f)
{
	return f->inode ? (const void *)f->inode : (const void *)f;
}

/* Puts h on the list as f's lock when no other owner's lock conflicts;
 * the test and the insertion are one step under the list's lock.  Returns
 * whether it did. */
static bool take(struct flock_holder *h, struct file *f, bool excl)
{
	const void *key = key_of(f);
	bool hit = false;
	unsigned long flags = spin_lock_irqsave(&locks.lock);

	for (struct flock_holder *o = locks.head; o && !hit; o = o->next)
		hit = o->key == key && o->owner != f && (excl || o->excl);
	if (!hit) {
		*h = (struct flock_holder){ .next = locks.head, .key = key, .owner = f, .excl = excl };
		locks.head = h;
	}
	spin_unlock_irqrestore(&locks.lock, flags);
	return !hit;
}

/* Takes f's lock off the list; returns it (the caller frees it) or NULL. */
static struct flock_holder *unlink_owner(const struct file *f)
{
	struct flock_holder *h = NULL;
	unsigned long flags = spin_lock_irqsave(&locks.lock);

	for (struct flock_holder **p = &locks.head; *p; p = &(*p)->next)
		if ((*p)->owner == f) {
			h = *p;
			*p = h->next;
			break;
		}
	spin_unlock_irqrestore(&locks.lock, flags);
	return h;
}

static void drop(const struct file *f)
{
	struct flock_holder *h = unlink_owner(f);

	if (h) {
		kfree(h);
		wake_up(&locks.wq);
	}
}

void flock_release(struct file *f)
{
	if (locks.head)
		drop(f);
}

SYSCALL_DEFINE2(flock, int, fd, unsigned, op)
{
	struct file *f = fd_get(fd);
	bool nonblock = op & LOCK_NB, excl;

	if (!f)
		return -EBADF;
	op &= ~LOCK_NB;
	if (op == LOCK_UN) {
		drop(f);
		return 0;
	}
	if (op != LOCK_SH && op != LOCK_EX)
		return -EINVAL;
	excl = op == LOCK_EX;
	struct flock_holder *h = unlink_owner(f);
	if (h) {
		if (h->excl != excl)
			wake_up(&locks.wq); /* a downgrade lets sharers in */
	} else if (!(h = kmalloc(sizeof(*h)))) {
		return -ENOMEM;
	}
	long r = wait_event_interruptible(&locks.wq, take(h, f, excl), nonblock);
	if (r < 0)
		kfree(h);
	return r; /* -EAGAIN is EWOULDBLOCK */
}
