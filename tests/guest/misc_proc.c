// SPDX-License-Identifier: MIT
/* misc_proc: process attributes as Linux keeps them.  One part per
 * argument:
 * "prctl": PR_GET_NAME starts as the program's file name (15 bytes at
 * most), PR_SET_NAME truncates to 15, each thread has its own name and a
 * new thread starts with its creator's; PR_SET_DUMPABLE and
 * PR_SET_NO_NEW_PRIVS read back.
 * "limits": getrlimit/setrlimit/prlimit64 round trips (lower a soft
 * limit, read it back, the old value comes back from prlimit64), soft
 * above hard is EINVAL, an unknown resource EINVAL; a lowered
 * RLIMIT_NOFILE makes dup fail with EMFILE at the limit.
 * "sched": sched_getaffinity (also of another thread, by tid) holds CPU 0
 * or more; sched_setaffinity to CPU 0 alone reads back and getcpu then
 * says CPU 0; sched_getscheduler is SCHED_OTHER with priority 0; anyone
 * may switch to SCHED_BATCH and SCHED_IDLE and back; the priority range
 * of SCHED_FIFO is 1..99 and of SCHED_OTHER 0..0; nice 5 reads back with
 * getpriority, and the nice value belongs to the calling thread only;
 * waitpid and wait with no children give ECHILD.
 * "mem": membarrier QUERY lists GLOBAL, PRIVATE_EXPEDITED needs
 * registering first (EPERM, then 0); mlock/munlock, mlock2, mlockall and
 * munlockall on a malloc'd region; memfd_create, write, mmap MAP_SHARED
 * reads the data back and a store through the map is seen by pread;
 * /proc/self/fd names it "/memfd:NAME (deleted)"; ftruncate grows it with
 * zeroes; madvise(MADV_DONTNEED) zeroes private anonymous pages;
 * times() and getrusage are plausible. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ---- prctl ------------------------------------------------------------------ */

static char thread_saw[16], thread_after[16];
static pthread_barrier_t names;

static void *name_thread(void *arg)
{
	(void)arg;
	prctl(PR_GET_NAME, thread_saw);
	prctl(PR_SET_NAME, "worker");
	pthread_barrier_wait(&names); /* main renames itself now */
	pthread_barrier_wait(&names);
	prctl(PR_GET_NAME, thread_after);
	return NULL;
}

static void prctls(const char *argv0)
{
	char name[32], want[16];
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	snprintf(want, sizeof want, "%s", base); /* 15 bytes and the NUL */
	memset(name, 'x', sizeof name);
	int good = prctl(PR_GET_NAME, name) == 0 && strcmp(name, want) == 0;
	if (!good)
		fprintf(stderr, "PR_GET_NAME: '%.16s', expected '%s'\n", name, want);
	ok(good, "PR_GET_NAME starts as the program's file name, cut to 15 bytes");

	good = prctl(PR_SET_NAME, "a-rather-long-thread-name") == 0;
	memset(name, 'x', sizeof name);
	good &= prctl(PR_GET_NAME, name) == 0 && strcmp(name, "a-rather-long-t") == 0;
	ok(good, "PR_SET_NAME keeps 15 bytes");

	prctl(PR_SET_NAME, "main-name");
	pthread_t t;
	pthread_barrier_init(&names, NULL, 2);
	pthread_create(&t, NULL, name_thread, NULL);
	pthread_barrier_wait(&names);
	prctl(PR_SET_NAME, "main-again");
	pthread_barrier_wait(&names);
	pthread_join(t, NULL);
	prctl(PR_GET_NAME, name);
	ok(strcmp(thread_saw, "main-name") == 0, "a new thread starts with its creator's name");
	ok(strcmp(thread_after, "worker") == 0 && strcmp(name, "main-again") == 0,
	   "each thread keeps its own name");

	good = prctl(PR_SET_DUMPABLE, 0) == 0 && prctl(PR_GET_DUMPABLE) == 0 &&
	       prctl(PR_SET_DUMPABLE, 1) == 0 && prctl(PR_GET_DUMPABLE) == 1;
	good &= prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	errno = 0;
	good &= prctl(-1) == -1 && errno == EINVAL;
	ok(good, "PR_SET_DUMPABLE and PR_SET_NO_NEW_PRIVS read back; an unknown option is EINVAL");
}

/* ---- limits ------------------------------------------------------------------- */

static void limits(void)
{
	struct rlimit r, orig, back;
	int good = getrlimit(RLIMIT_STACK, &orig) == 0;
	r = orig;
	r.rlim_cur = 4 << 20; /* below the hard limit, whatever it is */
	if (orig.rlim_max != RLIM_INFINITY && orig.rlim_max < r.rlim_cur)
		r.rlim_cur = orig.rlim_max;
	good &= setrlimit(RLIMIT_STACK, &r) == 0 && getrlimit(RLIMIT_STACK, &back) == 0 &&
		back.rlim_cur == r.rlim_cur && back.rlim_max == orig.rlim_max;
	ok(good, "setrlimit lowers a soft limit; getrlimit reads it back");

	struct rlimit old, n = { 1 << 20, orig.rlim_max };
	good = prlimit(0, RLIMIT_STACK, &n, &old) == 0 && old.rlim_cur == r.rlim_cur &&
	       prlimit(0, RLIMIT_STACK, NULL, &back) == 0 && back.rlim_cur == (1u << 20);
	good &= prlimit(getpid(), RLIMIT_STACK, &orig, NULL) == 0;
	ok(good, "prlimit64 sets, returns the old value, and takes the caller's pid");

	struct rlimit inv = { 100, 10 };
	errno = 0;
	good = setrlimit(RLIMIT_CORE, &inv) == -1 && errno == EINVAL;
	errno = 0;
	good &= syscall(SYS_prlimit64, 0, 1000, NULL, &back) == -1 && errno == EINVAL;
	ok(good, "a soft limit above the hard one, or an unknown resource: EINVAL");

	struct rlimit nofile, low;
	getrlimit(RLIMIT_NOFILE, &nofile);
	low = (struct rlimit){ 16, nofile.rlim_max };
	good = setrlimit(RLIMIT_NOFILE, &low) == 0;
	int last = -1, fd, err = 0;
	while ((fd = dup(0)) >= 0)
		last = fd;
	err = errno;
	for (int i = 3; i <= last; i++)
		close(i);
	good &= last == 15 && err == EMFILE;
	errno = 0;
	good &= fcntl(0, F_DUPFD, 16) == -1 && errno == EINVAL;
	if (!good)
		fprintf(stderr, "RLIMIT_NOFILE 16: last fd %d, errno %d\n", last, err);
	setrlimit(RLIMIT_NOFILE, &nofile);
	ok(good, "with RLIMIT_NOFILE 16, dup stops at fd 15 with EMFILE; F_DUPFD 16 is EINVAL");
}

/* ---- scheduling ---------------------------------------------------------------- */

static cpu_set_t thread_set;
static int thread_aff_rc = -1, thread_nice = 99;
static pid_t thread_tid;
static pthread_barrier_t sb;

static void *sched_thread(void *arg)
{
	(void)arg;
	thread_tid = tid();
	CPU_ZERO(&thread_set);
	thread_aff_rc = sched_getaffinity(0, sizeof thread_set, &thread_set);
	errno = 0;
	thread_nice = getpriority(PRIO_PROCESS, 0); /* inherited from main */
	setpriority(PRIO_PROCESS, 0, 7);
	pthread_barrier_wait(&sb);
	pthread_barrier_wait(&sb);
	return NULL;
}

static long setsched(int policy, const struct sched_param *p)
{
	return syscall(SYS_sched_setscheduler, 0, policy, p);
}
static long getsched(void)
{
	return syscall(SYS_sched_getscheduler, 0);
}

static void sched(void)
{
	cpu_set_t set, one;
	CPU_ZERO(&set);
	int good = sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 1 &&
		   CPU_ISSET(0, &set);
	ok(good, "sched_getaffinity holds CPU 0");

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	good = sched_setaffinity(0, sizeof one, &one) == 0;
	CPU_ZERO(&set);
	good &= sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1 &&
		CPU_ISSET(0, &set);
	unsigned cpu = 99, node = 99;
	good &= syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && cpu == 0;
	ok(good, "sched_setaffinity to CPU 0 reads back, and getcpu then says CPU 0");
	CPU_ZERO(&one);
	errno = 0;
	good = sched_setaffinity(0, sizeof one, &one) == -1 && errno == EINVAL;
	ok(good, "sched_setaffinity to no CPU: EINVAL");

	struct sched_param p = { .sched_priority = 5 };
	good = getsched() == SCHED_OTHER && syscall(SYS_sched_getparam, 0, &p) == 0 &&
	       p.sched_priority == 0;
	ok(good, "sched_getscheduler is SCHED_OTHER, priority 0");
	good = sched_get_priority_min(SCHED_FIFO) == 1 && sched_get_priority_max(SCHED_FIFO) == 99 &&
	       sched_get_priority_min(SCHED_OTHER) == 0 && sched_get_priority_max(SCHED_OTHER) == 0;
	errno = 0;
	good &= sched_get_priority_max(1234) == -1 && errno == EINVAL;
	ok(good, "priority ranges: SCHED_FIFO 1..99, SCHED_OTHER 0..0, an unknown policy EINVAL");

	/* Raw system calls: musl's sched_setscheduler answers ENOSYS itself. */
	p.sched_priority = 0;
	good = setsched(SCHED_BATCH, &p) == 0 && getsched() == SCHED_BATCH;
	good &= setsched(SCHED_IDLE, &p) == 0 && getsched() == SCHED_IDLE;
	good &= setsched(SCHED_OTHER, &p) == 0 && getsched() == SCHED_OTHER;
	if (!good)
		fprintf(stderr, "SCHED_BATCH/IDLE: %s\n", strerror(errno));
	ok(good, "SCHED_BATCH and SCHED_IDLE need no privilege and read back");
	errno = 0;
	p.sched_priority = 1;
	good = setsched(SCHED_OTHER, &p) == -1 && errno == EINVAL;
	ok(good, "SCHED_OTHER with priority 1: EINVAL");

	errno = 0;
	good = setpriority(PRIO_PROCESS, 0, 5) == 0 && getpriority(PRIO_PROCESS, 0) == 5 && errno == 0;
	ok(good, "setpriority nice 5 reads back with getpriority");

	pthread_t t;
	pthread_barrier_init(&sb, NULL, 2);
	pthread_create(&t, NULL, sched_thread, NULL);
	pthread_barrier_wait(&sb);
	errno = 0;
	int mine = getpriority(PRIO_PROCESS, 0);
	int theirs = getpriority(PRIO_PROCESS, thread_tid);
	CPU_ZERO(&set);
	int by_tid = sched_getaffinity(thread_tid, sizeof set, &set);
	pthread_barrier_wait(&sb);
	pthread_join(t, NULL);
	ok(thread_aff_rc == 0 && CPU_ISSET(0, &thread_set) && by_tid == 0 && CPU_ISSET(0, &set),
	   "sched_getaffinity in a thread and of a thread by its tid");
	if (thread_nice != 5 || mine != 5 || theirs != 7)
		fprintf(stderr, "nice: thread started with %d, main %d, thread %d\n", thread_nice, mine,
			theirs);
	ok(thread_nice == 5 && mine == 5 && theirs == 7,
	   "a thread starts with its creator's nice value and sets its own alone");

	int status;
	errno = 0;
	good = waitpid(-1, &status, 0) == -1 && errno == ECHILD;
	errno = 0;
	good &= wait(&status) == -1 && errno == ECHILD;
	errno = 0;
	good &= waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
	ok(good, "waitpid and wait without children: ECHILD");
}

/* ---- memory ---------------------------------------------------------------------- */

#define MEMBARRIER_CMD_QUERY 0
#define MEMBARRIER_CMD_GLOBAL 1
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED 8
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16

static void mem(void)
{
	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	ok(q > 0 && (q & MEMBARRIER_CMD_GLOBAL) && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED),
	   "membarrier QUERY lists GLOBAL and PRIVATE_EXPEDITED");
	errno = 0;
	int good =
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == -1 && errno == EPERM;
	good &= syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	good &= syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
	good &= syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0;
	ok(good, "membarrier PRIVATE_EXPEDITED: EPERM until registered, then 0");

	size_t len = 256 << 10;
	char *m = malloc(len);
	good = m && mlock(m, len) == 0 && munlock(m, len) == 0;
	good &= syscall(SYS_mlock2, m, len, 1 /* MLOCK_ONFAULT */) == 0 && munlock(m, len) == 0;
	good &= mlockall(MCL_CURRENT) == 0 && munlockall() == 0;
	errno = 0;
	good &= mlockall(0) == -1 && errno == EINVAL;
	free(m);
	ok(good, "mlock, munlock, mlock2, mlockall and munlockall");

	int fd = memfd_create("elfvm-test", MFD_CLOEXEC);
	char data[8192], back[8192], link[64] = "", path[64];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7 + 3);
	good = fd >= 0 && write(fd, data, sizeof data) == (long)sizeof data;
	char *map = mmap(NULL, sizeof data, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	good &= map != MAP_FAILED && memcmp(map, data, sizeof data) == 0;
	ok(good, "memfd_create, write, mmap MAP_SHARED: the data reads back");
	if (map != MAP_FAILED) {
		map[100] = 'Q';
		good = pread(fd, back, sizeof back, 0) == (long)sizeof back && back[100] == 'Q';
		munmap(map, sizeof data);
	} else {
		good = 0;
	}
	ok(good, "a store through the shared map is seen by pread");
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	long n = readlink(path, link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	ok(strcmp(link, "/memfd:elfvm-test (deleted)") == 0, "/proc/self/fd names the memfd");
	struct stat st;
	good = ftruncate(fd, 3 * 4096 + 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 3 * 4096 + 5;
	good &= pread(fd, back, 10, 3 * 4096 - 5) == 10 && back[9] == 0 && back[4] == 0;
	good &= (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
	close(fd);
	ok(good, "ftruncate grows a memfd with zeroes; MFD_CLOEXEC sets FD_CLOEXEC");

	char *a = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 0x5a, 4 * 4096);
	good = madvise(a + 4096, 2 * 4096, MADV_DONTNEED) == 0;
	good &= a[0] == 0x5a && a[4096] == 0 && a[3 * 4096 - 1] == 0 && a[3 * 4096] == 0x5a;
	munmap(a, 4 * 4096);
	ok(good, "madvise(MADV_DONTNEED) zeroes private anonymous pages, and only those");

	struct tms t;
	struct rusage ru;
	clock_t c = times(&t);
	good = c != (clock_t)-1 && t.tms_utime >= 0 && t.tms_stime >= 0 && t.tms_cutime == 0 &&
	       t.tms_cstime == 0;
	good &= getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_utime.tv_sec >= 0 &&
		ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_maxrss > 0;
	good &= getrusage(RUSAGE_THREAD, &ru) == 0 && getrusage(RUSAGE_CHILDREN, &ru) == 0 &&
		ru.ru_utime.tv_sec == 0 && ru.ru_utime.tv_usec == 0;
	errno = 0;
	good &= getrusage(42, &ru) == -1 && errno == EINVAL;
	ok(good, "times and getrusage are plausible; children used nothing");
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "prctl") == 0)
			prctls(argv[0]);
		else if (strcmp(argv[i], "limits") == 0)
			limits();
		else if (strcmp(argv[i], "sched") == 0)
			sched();
		else if (strcmp(argv[i], "mem") == 0)
			mem();
		else {
			printf("FAIL: unknown part %s\n", argv[i]);
			return 2;
		}
	}
	return bad;
}
