// SPDX-License-Identifier: MIT
/* flock: whole-file advisory locks owned by open file descriptions.  Two
 * open()s of one file conflict (shared with shared is fine, exclusive with
 * anything is not: EWOULDBLOCK with LOCK_NB), a dup shares its lock, a
 * conversion replaces the lock, a thread blocked on LOCK_EX wakes when the
 * other lock goes, the last close releases, and the errors (EBADF,
 * EINVAL).  The same output on Linux and in the VM. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/file.h>
#include "check.h"

static int a, b;
static volatile int got;

static void *locker(void *arg)
{
	(void)arg;
	ok(flock(b, LOCK_EX) == 0, "a blocked LOCK_EX is granted once the other lock goes");
	got = 1;
	ok(flock(b, LOCK_UN) == 0, "LOCK_UN");
	return NULL;
}

int main(void)
{
	pthread_t t;

	enter_workdir("flock");
	a = open("f", O_RDWR | O_CREAT, 0600);
	b = open("f", O_RDWR);
	ok(a >= 0 && b >= 0, "two opens of one file");
	ok(flock(a, LOCK_SH) == 0, "LOCK_SH");
	ok(flock(b, LOCK_SH | LOCK_NB) == 0, "a second LOCK_SH on another open");
	fails(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK, "LOCK_EX against another's LOCK_SH");
	ok(flock(b, LOCK_UN) == 0, "LOCK_UN of the second");
	ok(flock(a, LOCK_EX | LOCK_NB) == 0, "the first converts to LOCK_EX");
	fails(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK, "LOCK_SH against another's LOCK_EX");
	int c = dup(a);
	ok(flock(c, LOCK_EX | LOCK_NB) == 0, "a dup shares the lock");
	ok(pthread_create(&t, NULL, locker, NULL) == 0, "pthread_create");
	usleep(100000);
	ok_vals(!got, "the thread waits while the lock is held", got, 0);
	close(a);
	usleep(50000);
	ok_vals(!got, "closing one of two descriptors keeps the lock", got, 0);
	close(c);
	pthread_join(t, NULL);
	ok_vals(got, "the last close released it", got, 1);
	fails(flock(99, LOCK_EX), EBADF, "a closed fd");
	fails(flock(b, 0), EINVAL, "no operation");
	fails(flock(b, LOCK_SH | LOCK_EX), EINVAL, "two operations");
	close(b);
	leave_workdir();
	return bad;
}
