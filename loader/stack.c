/* SPDX-License-Identifier: MIT */
/*
 * stack_build: the program's initial stack, laid out as Linux's execve and
 * create_elf_tables (fs/exec.c, fs/binfmt_elf.c) lay it out.  From the top
 * down: 8 zero bytes, the AT_EXECFN string, the environment strings, the
 * argument strings (so argv[0] .. envp[n-1] .. execfn ascend contiguously,
 * which setproctitle-style code relies on), then 16-byte alignment, the
 * AT_PLATFORM string, the 16 AT_RANDOM bytes, and below them argc, argv[],
 * envp[] and auxv, with the stack pointer 16-byte aligned on argc.  The
 * caller chooses the auxv contents (load.c); this file only places bytes.
 */
#include "loader/loader.h"
#include "loader/elf64.h"

#include <stdbool.h>

/* Where each piece goes, computed before a single byte is written. */
struct layout {
	uintptr_t strings; /* argv[0]'s string; envp's and execfn follow */
	uintptr_t execfn;
	uintptr_t platform;
	uintptr_t random;
	uintptr_t sp;
};

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Moves *p down by n bytes unless that would leave [base, top). */
static bool down(uintptr_t *p, uintptr_t base, size_t n)
{
	if (n > *p - base)
		return false;
	*p -= n;
	return true;
}

static bool down_align16(uintptr_t *p, uintptr_t base)
{
	uintptr_t q = *p & ~(uintptr_t)15;

	if (q < base)
		return false;
	*p = q;
	return true;
}

/* Reserves the argv and envp strings, all of them NUL-terminated. */
static bool reserve_strings(uintptr_t *p, uintptr_t base, const struct stack_spec *s)
{
	int i;

	for (i = 0; i < s->envc; i++)
		if (!s->envp[i] || !down(p, base, str_len(s->envp[i]) + 1))
			return false;
	for (i = 0; i < s->argc; i++)
		if (!s->argv[i] || !down(p, base, str_len(s->argv[i]) + 1))
			return false;
	return true;
}

/* The words from argc to AT_NULL's value. */
static size_t table_words(const struct stack_spec *s)
{
	size_t aux = (size_t)s->naux + 1 + !!s->random + !!s->execfn + !!s->platform;

	return 1 + ((size_t)s->argc + 1) + ((size_t)s->envc + 1) + 2 * aux;
}

static bool plan(uintptr_t top, uintptr_t base, const struct stack_spec *s, struct layout *l)
{
	uintptr_t p = top;
	size_t words = table_words(s);

	if (!down(&p, base, 8))
		return false;
	if (s->execfn && !down(&p, base, str_len(s->execfn) + 1))
		return false;
	l->execfn = p;
	if (!reserve_strings(&p, base, s))
		return false;
	l->strings = p;
	if (!down_align16(&p, base))
		return false;
	if (s->platform && !down(&p, base, str_len(s->platform) + 1))
		return false;
	l->platform = p;
	if (s->random && !down(&p, base, 16))
		return false;
	l->random = p;
	if (words > (p - base) / 8 || !down(&p, base, words * 8))
		return false;
	if (!down_align16(&p, base))
		return false;
	l->sp = p;
	return true;
}

/* Copies n strings upward from *at, storing each one's address in *w++. */
static void put_strings(uintptr_t *at, uint64_t **w, int n, const char *const *v)
{
	int i;
	size_t len;

	for (i = 0; i < n; i++) {
		len = str_len(v[i]) + 1;
		__builtin_memcpy((char *)*at, v[i], len);
		*(*w)++ = *at;
		*at += len;
	}
	*(*w)++ = 0;
}

static void put_aux(uint64_t **w, uint64_t type, uint64_t val)
{
	*(*w)++ = type;
	*(*w)++ = val;
}

static void fill(uintptr_t top, const struct stack_spec *s, const struct layout *l)
{
	uint64_t *w = (uint64_t *)l->sp;
	uintptr_t at = l->strings;
	int i;

	__builtin_memset((char *)l->sp, 0, top - l->sp);
	*w++ = (uint64_t)s->argc;
	put_strings(&at, &w, s->argc, s->argv);
	put_strings(&at, &w, s->envc, s->envp);
	for (i = 0; i < s->naux; i++)
		put_aux(&w, s->aux[i].type, s->aux[i].val);
	if (s->random) {
		__builtin_memcpy((char *)l->random, s->random, 16);
		put_aux(&w, AT_RANDOM, l->random);
	}
	if (s->execfn) {
		__builtin_memcpy((char *)l->execfn, s->execfn, str_len(s->execfn) + 1);
		put_aux(&w, AT_EXECFN, l->execfn);
	}
	if (s->platform) {
		__builtin_memcpy((char *)l->platform, s->platform, str_len(s->platform) + 1);
		put_aux(&w, AT_PLATFORM, l->platform);
	}
	put_aux(&w, AT_NULL, 0);
}

/*
 * execfn, platform and random may be NULL: that string (or the random
 * bytes) and its auxv entry are then left out.  argv and envp must hold
 * argc and envc non-NULL strings.  Nothing is written unless everything
 * fits, and nothing is ever written outside [top - room, top).
 */
char *stack_build(char *top, size_t room, const struct stack_spec *s)
{
	uintptr_t t = (uintptr_t)top;
	struct layout l;

	if (s->argc < 0 || s->envc < 0 || s->naux < 0 || room > t)
		return NULL;
	if ((s->argc && !s->argv) || (s->envc && !s->envp) || (s->naux && !s->aux))
		return NULL;
	if (!plan(t, t - room, s, &l))
		return NULL;
	fill(t, s, &l);
	return (char *)l.sp;
}
