/* SPDX-License-Identifier: MIT */
/*
 * Proves that stack_build lays out the initial stack as Linux does and
 * never writes outside its room.  Each stack is built in a buffer fenced by
 * canaries and then walked the way a libc _start walks it (argc, argv,
 * envp, auxv, AT_RANDOM, AT_EXECFN, AT_PLATFORM); the same layout checker
 * first runs on this test's own stack, built by the real Linux kernel, so
 * the two layouts are held to one standard.  Exit 1 on any failure.
 */
#include "loader/loader.h"
#include "loader/elf64.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "unit.h"

#define CANARY 256
#define FENCE 0xa5


/* What a stack should hold; NULL strings are absent. */
struct want {
	int argc, envc;
	const char *const *argv, *const *envp;
	const char *execfn, *platform;
	const uint8_t *random;
	const struct auxv_pair *aux;
	int naux;
};

/* argv then envp strings ascend back to back; returns the end of the last
 * one (or the first when there are none). */
static const char *walk_strings(char *const *v, int n, const char *const *want, const char **at,
				const char **why)
{
	int i;

	for (i = 0; i < n && !*why; i++) {
		if (want && strcmp(v[i], want[i]))
			*why = err("string %d is \"%s\", expected \"%s\"", i, v[i], want[i]);
		else if (*at && v[i] != *at)
			*why =
				err("string %d at %p, not right after the "
				    "previous one (%p)",
				    i, (void *)v[i], (void *)*at);
		*at = v[i] + strlen(v[i]) + 1;
	}
	if (!*why && v[n])
		*why = err("vector of %d not NULL-terminated", n);
	return *at;
}

/* Finds auxv type t in the vector; 0 when absent. */
static uint64_t aux_get(const uint64_t *aux, uint64_t t)
{
	for (; aux[0] != AT_NULL; aux += 2)
		if (aux[0] == t)
			return aux[1];
	return 0;
}

/*
 * The layout rules, Linux's and ours: sp 16-aligned on argc; argv, envp and
 * execfn strings contiguous, followed by 8 zero bytes and the top; the
 * random bytes below the platform string, which is below the strings; the
 * pointer table below the random bytes.  w may omit what the real stack
 * holds (NULL fields are not compared).
 */
static const char *check_layout(const uint64_t *sp, const struct want *w, const char **top)
{
	const char *why = NULL, *at = NULL, *first, *fn, *pl, *rnd;
	char *const *argv = (char *const *)(sp + 1);
	char *const *envp;
	const uint64_t *aux;
	int envc;

	if ((uintptr_t)sp & 15)
		return err("sp %p not 16-byte aligned", (void *)sp);
	if (sp[0] != (uint64_t)w->argc)
		return err("argc %d, expected %d", (int)sp[0], w->argc);
	walk_strings(argv, w->argc, w->argv, &at, &why);
	envp = argv + w->argc + 1;
	for (envc = 0; envp[envc]; envc++)
		;
	if (!why && w->envc >= 0 && envc != w->envc)
		why = err("envc %d, expected %d", envc, w->envc);
	walk_strings(envp, envc, w->envp, &at, &why);
	if (why)
		return why;
	aux = (const uint64_t *)(envp + envc + 1);
	fn = (const char *)aux_get(aux, AT_EXECFN);
	pl = (const char *)aux_get(aux, AT_PLATFORM);
	rnd = (const char *)aux_get(aux, AT_RANDOM);
	first = w->argc ? argv[0] : envc ? envp[0] : fn;
	if (fn && at && fn != at)
		return err("AT_EXECFN %p not right after the strings (%p)", (void *)fn, (void *)at);
	if (fn)
		at = fn + strlen(fn) + 1;
	if (at && *top && at + 8 != *top)
		return err("strings end at %p, top - 8 is %p", (void *)at, (void *)(*top - 8));
	if (at && memcmp(at, "\0\0\0\0\0\0\0\0", 8))
		return "the 8 bytes under the top are not zero";
	*top = at ? at + 8 : *top;
	if (pl && first && pl + strlen(pl) + 1 > first)
		return "AT_PLATFORM string not below the argument strings";
	if (rnd && pl && rnd + 16 > pl)
		return "AT_RANDOM bytes not below the AT_PLATFORM string";
	for (; aux[0] != AT_NULL; aux += 2)
		;
	if (rnd && (const char *)(aux + 2) > rnd)
		return "auxv runs into the AT_RANDOM bytes";
	return NULL;
}

/* Compares what a libc reads through auxv with what was asked for. */
static const char *check_aux(const uint64_t *sp, const struct want *w)
{
	const uint64_t *aux = sp + 1 + w->argc + 1 + w->envc + 1;
	int i;

	for (i = 0; i < w->naux; i++, aux += 2)
		if (aux[0] != w->aux[i].type || aux[1] != w->aux[i].val)
			return err(
				"auxv %d is (%llu, %#llx), expected (%llu, "
				"%#llx)",
				i, (unsigned long long)aux[0], (unsigned long long)aux[1],
				(unsigned long long)w->aux[i].type, (unsigned long long)w->aux[i].val);
	if (w->random && (aux[0] != AT_RANDOM || memcmp((void *)aux[1], w->random, 16)))
		return "AT_RANDOM missing, misplaced or not the 16 given bytes";
	aux += w->random ? 2 : 0;
	if (w->execfn && (aux[0] != AT_EXECFN || strcmp((char *)aux[1], w->execfn)))
		return "AT_EXECFN missing, misplaced or not the given path";
	aux += w->execfn ? 2 : 0;
	if (w->platform && (aux[0] != AT_PLATFORM || strcmp((char *)aux[1], w->platform)))
		return "AT_PLATFORM missing, misplaced or not the given string";
	aux += w->platform ? 2 : 0;
	if (aux[0] != AT_NULL || aux[1] != 0)
		return "auxv does not end with AT_NULL";
	return NULL;
}

/* A buffer of room bytes (starting skew bytes in) fenced by canaries. */
struct arena {
	unsigned char *buf;
	size_t len;
	char *base, *top;
};

static void arena_open(struct arena *a, size_t room, int skew)
{
	a->len = CANARY + 16 + room + CANARY;
	a->buf = malloc(a->len);
	if (!a->buf) {
		perror("malloc");
		exit(1);
	}
	memset(a->buf, FENCE, a->len);
	a->base = (char *)a->buf + CANARY + skew;
	a->top = a->base + room;
}

/* Counts fence bytes changed in [from, to). */
static size_t changed(const char *from, const char *to)
{
	size_t n = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)from; p < (const unsigned char *)to; p++)
		n += *p != FENCE;
	return n;
}

static void spec_of(const struct want *w, struct stack_spec *s)
{
	s->argc = w->argc;
	s->argv = w->argv;
	s->envc = w->envc;
	s->envp = w->envp;
	s->execfn = w->execfn;
	s->platform = w->platform;
	s->random = w->random;
	s->aux = w->aux;
	s->naux = w->naux;
}

/* Builds w's stack in room bytes at the given skew and checks everything:
 * fences intact, layout, auxv.  Returns NULL or what went wrong; *made
 * tells whether stack_build succeeded. */
static const char *build(const struct want *w, size_t room, int skew, int *made)
{
	struct arena a;
	struct stack_spec s;
	const char *why = NULL;
	const char *top;
	char *sp;

	arena_open(&a, room, skew);
	spec_of(w, &s);
	sp = stack_build(a.top, room, &s);
	*made = sp != NULL;
	if (changed((char *)a.buf, a.base) || changed(a.top, (char *)a.buf + a.len))
		why = "wrote outside [top - room, top)";
	else if (!sp && changed(a.base, a.top))
		why = "returned NULL but wrote inside the room";
	else if (sp && (sp < a.base || sp >= a.top))
		why = err("sp %p outside the room", (void *)sp);
	top = a.top;
	if (!why && sp)
		why = check_layout((const uint64_t *)sp, w, &top);
	if (!why && sp)
		why = check_aux((const uint64_t *)sp, w);
	free(a.buf);
	return why;
}

static const char *const ARGV[] = { "/bin/prog", "-x", "hello world", "" };
static const char *const ENVP[] = { "PATH=/usr/bin:/bin", "HOME=/", "A=" };
static const uint8_t RANDOM[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff };
static const struct auxv_pair AUX[] = {
	{ AT_SYSINFO_EHDR, 0x7ffff7fc1000 },
	{ AT_PAGESZ, 4096 },
	{ AT_PHDR, 0x400040 },
	{ AT_PHENT, 56 },
	{ AT_PHNUM, 10 },
	{ AT_ENTRY, 0x401000 },
	{ AT_SECURE, 0 },
};
static const struct want BASIC = { 4, 3, ARGV, ENVP, "/bin/prog", "x86_64", RANDOM, AUX, 7 };

/* Builds at every top alignment; one report line. */
static void case_all_skews(const char *name, const struct want *w, size_t room)
{
	const char *why = NULL;
	int skew, made = 1;

	for (skew = 0; skew < 16 && !why && made; skew++)
		why = build(w, room, skew, &made);
	if (!why && !made)
		why = err("returned NULL with room %zu", room);
	report(name, why);
}

/* Every room below the least that works gets NULL and no write; the
 * least and a few more work (each at every alignment of the top). */
static void case_too_small(const char *name, const struct want *w)
{
	const char *why = NULL;
	size_t room, least = 0;
	int skew, made;

	for (skew = 0; skew < 16 && !why; skew++) {
		made = 0;
		for (room = 0; !made && !why && room < 1 << 20; room++)
			why = build(w, room, skew, &made);
		if (!why && !made)
			why = "no room up to 1 MiB was enough";
		least = room - 1;
		for (; !why && room < least + 48; room++)
			if (!(why = build(w, room, skew, &made)) && !made)
				why = err("NULL with room %zu after %zu worked", room, least);
	}
	report(name, why);
}

/* Things that must fail before writing anything. */
static void case_refusals(void)
{
	struct want w = BASIC;
	struct stack_spec s;
	const char *why;
	int made;

	w.argc = -1;
	why = build(&w, 4096, 0, &made);
	report("negative_argc_refused", why ? why : made ? "accepted argc -1" : NULL);
	w = BASIC;
	w.envc = -2;
	why = build(&w, 4096, 0, &made);
	report("negative_envc_refused", why ? why : made ? "accepted envc -2" : NULL);
	/* room larger than the address of top: must not wrap below 0 */
	spec_of(&BASIC, &s);
	report("room_past_address_zero", stack_build((char *)4096, 8192, &s) ? "accepted" : NULL);
	report("room_size_max", stack_build((char *)4096, SIZE_MAX, &s) ? "accepted" : NULL);
}

/* Thousands of arguments and variables, each a different length. */
static void case_many(void)
{
	enum { NA = 20000, NE = 3000 };
	static char *av[NA], *ev[NE];
	struct want w = BASIC;
	char tmp[64];
	int i;

	for (i = 0; i < NA; i++) {
		snprintf(tmp, sizeof(tmp), "arg%d%.*s", i, i % 23, "xxxxxxxxxxxxxxxxxxxxxxx");
		av[i] = strdup(tmp);
	}
	for (i = 0; i < NE; i++) {
		snprintf(tmp, sizeof(tmp), "VAR%d=%d", i, i * 7);
		ev[i] = strdup(tmp);
	}
	w.argc = NA;
	w.argv = (const char *const *)av;
	w.envc = NE;
	w.envp = (const char *const *)ev;
	case_all_skews("many_args_and_env", &w, 1 << 20);
	w.argc = 300;
	w.envc = 40;
	case_too_small("many_args_too_small", &w);
	for (i = 0; i < NA; i++)
		free(av[i]);
	for (i = 0; i < NE; i++)
		free(ev[i]);
}

/* The real kernel's layout of this very process passes the same checks. */
static void case_linux(int argc, char **argv)
{
	struct want w = { argc, -1, NULL, NULL, NULL, NULL, NULL, NULL, 0 };
	const char *top = NULL, *why;

	why = check_layout((const uint64_t *)argv - 1, &w, &top);
	if (!why && ((uintptr_t)top & 4095))
		why = err("top %p is not the page-aligned end of the stack", (void *)top);
	if (!why && !getauxval(AT_EXECFN))
		why = "no AT_EXECFN on this kernel";
	report("linux_own_stack_layout", why);
}

int main(int argc, char **argv)
{
	struct want w;

	case_linux(argc, argv);
	case_all_skews("basic", &BASIC, 4096);
	w = BASIC;
	w.argc = w.envc = 0;
	w.argv = w.envp = NULL;
	case_all_skews("zero_args_zero_env", &w, 4096);
	w.naux = 0;
	case_all_skews("no_caller_auxv", &w, 4096);
	w = BASIC;
	w.execfn = w.platform = NULL;
	w.random = NULL;
	case_all_skews("no_execfn_platform_random", &w, 4096);
	case_too_small("basic_too_small", &BASIC);
	w = BASIC;
	w.argc = w.envc = 0;
	case_too_small("empty_too_small", &w);
	case_refusals();
	case_many();
	return unit_done("test_stack");
}
