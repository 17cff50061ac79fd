/* SPDX-License-Identifier: MIT */
/*
 * unit.h: what the host unit tests (tests/unit/test_*.c) share, so that
 * every one reports the same way: one TAP line per check ("ok - NAME" or
 * "not ok - NAME: WHY"), a last line "# TEST: N passed, N failed" that the
 * harness quotes when the test fails, and exit status 1 on any failure.
 * Include it after the system headers.  Each test is one program, so all of
 * it is static and marked unused: a test pays only for what it calls.
 */
#ifndef ELFVM_TESTS_UNIT_UNIT_H
#define ELFVM_TESTS_UNIT_UNIT_H

#include <stdarg.h>
#include <stdio.h>

#define UNIT_UNUSED __attribute__((unused))

static int failed UNIT_UNUSED, passed UNIT_UNUSED;
static char errbuf[5000] UNIT_UNUSED; /* test_elf quotes a path of up to 4096 */

/* report: the one place a check is reported and counted.  WHY is NULL when
 * the check passed, else what was expected and what came. */
static UNIT_UNUSED void report(const char *name, const char *why)
{
	if (why) {
		printf("not ok - %s: %s\n", name, why);
		failed++;
	} else {
		printf("ok - %s\n", name);
		passed++;
	}
}

/* skip: a check that cannot run here (a file this host lacks); not counted. */
static UNIT_UNUSED void skip(const char *name, const char *why)
{
	printf("ok - %s # SKIP %s\n", name, why);
}

/* err: a failure message formatted into one static buffer, for report();
 * the next call overwrites it. */
__attribute__((format(printf, 1, 2))) static UNIT_UNUSED const char *err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return errbuf;
}

/* unit_done: prints the last line for TEST; returns main's exit status. */
static UNIT_UNUSED int unit_done(const char *test)
{
	printf("# %s: %d passed, %d failed\n", test, passed, failed);
	return failed ? 1 : 0;
}

#endif
