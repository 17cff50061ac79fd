// SPDX-License-Identifier: MIT
/* core_dump: dies in ways that dump core, for `elfvm run --core` (run by
 * tests/compat/core.sh, which reads the core with gdb).
 * Usage: core_dump null|abort|lib|threads|nocore|small|dontdump
 *   null      a store through NULL three calls deep in crash_in (SIGSEGV)
 *   abort     abort() (SIGABRT)
 *   lib       strlen(NULL): the fault is inside the C library
 *   threads   three threads wait in pause(), then main faults
 *   nocore    RLIMIT_CORE set to 0, then abort(): no core
 *   small     RLIMIT_CORE set to 4096, then abort(): a core cut there
 *   dontdump  a page holding a secret is MADV_DONTDUMP, then NULL
 * Before dying it prints one line, so the host sees it reached that point. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

volatile int global_counter = 42;
char *volatile secret_page;

__attribute__((noinline)) static void crash_in(int depth, volatile char *p)
{
	volatile int local = depth * 7;

	if (depth == 3)
		*p = (char)local;
	if (depth < 3)
		crash_in(depth + 1, p);
	__asm__ volatile("" : : : "memory"); /* no tail call: every frame stays */
}

static void *waiter(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void limit_core(rlim_t n)
{
	struct rlimit r = { n, RLIM_INFINITY };

	if (setrlimit(RLIMIT_CORE, &r) < 0)
		perror("setrlimit");
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "null";
	const char *volatile nul = NULL;

	printf("core_dump %s\n", how);
	fflush(stdout);
	if (!strcmp(how, "null")) {
		crash_in(1, NULL);
	} else if (!strcmp(how, "abort")) {
		abort();
	} else if (!strcmp(how, "lib")) {
		printf("%zu\n", strlen(nul));
	} else if (!strcmp(how, "threads")) {
		pthread_t t;
		for (int i = 0; i < 3; i++)
			pthread_create(&t, NULL, waiter, NULL);
		usleep(100000);
		crash_in(1, NULL);
	} else if (!strcmp(how, "nocore") || !strcmp(how, "small")) {
		limit_core(!strcmp(how, "small") ? 4096 : 0);
		abort();
	} else if (!strcmp(how, "dontdump")) {
		secret_page =
			mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		strcpy(secret_page, "secret");
		if (madvise(secret_page, 4096, MADV_DONTDUMP) < 0)
			perror("madvise");
		crash_in(1, NULL);
	} else {
		return 2;
	}
	printf("FAIL: still alive\n");
	return 1;
}
