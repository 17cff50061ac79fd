/* SPDX-License-Identifier: MIT */
/*
 * The site analysis of `elfvm analyze` (docs/analyze.md): for each
 * candidate that analyze_elf.c's byte scan found, decodes the function
 * around it (its sized symbol; else from the nearest probable entry; else
 * a window), keeps it when it really is an instruction, and asks
 * analyze_walk.c for rax at a `syscall`.  A function whose rax comes from
 * an argument register at its entry is a wrapper: every direct call of it
 * (in its object, and from other objects through a PLT entry or GOT slot
 * of its name) is a site too, walked for that register, until no new
 * wrapper appears.  A site left without a number is recorded as unknown.
 */
#include "tools/tools.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How far back a probable entry or a plain window reaches. */
#define ENTRY_REACH 65536
#define WINDOW 4096
#define MAX_INSN 15
#define MAX_WRAPPERS 4096

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* How many of o's symbols (sorted by start) start at or before addr. */
static size_t syms_upto(const struct an_obj *o, uint64_t addr)
{
	size_t lo = 0, hi = o->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The sized symbol that covers addr, the nearest start first. */
static const struct an_sym *sym_covering(const struct an_obj *o, uint64_t addr)
{
	size_t lo = syms_upto(o, addr);

	for (size_t k = 0; lo > 0 && k < 64; k++, lo--)
		if (o->syms[lo - 1].sized && o->syms[lo - 1].end > addr)
			return &o->syms[lo - 1];
	return NULL;
}

/* The nearest symbol at or before addr, sized or not. */
static const struct an_sym *sym_before(const struct an_obj *o, uint64_t addr)
{
	const struct an_sym *s = sym_covering(o, addr);
	size_t lo;

	if (s)
		return s;
	lo = syms_upto(o, addr);
	return lo ? &o->syms[lo - 1] : NULL;
}

/* The index of the first probable entry after addr (o->nstarts if none). */
static size_t start_after(const struct an_obj *o, uint64_t addr)
{
	size_t lo = 0, hi = o->nstarts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->starts[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Points o->fn at the decoding of [start, end), made now unless one of the
 * last two is exactly that; returns the index of the instruction at addr,
 * or -1. */
static long decode(struct an_obj *o, const struct an_seg *g, uint64_t start, uint64_t end, int entry,
		   uint64_t addr)
{
	struct an_decoded *d = NULL;

	for (int k = 0; k < 2 && !d; k++)
		if (o->dec[k].ok && o->dec[k].start == start && o->dec[k].end == end &&
		    o->dec[k].entry == entry)
			d = &o->dec[k];
	if (!d) {
		d = &o->dec[o->dec_next];
		o->dec_next ^= 1;
		walk_free(&d->f);
		d->ok = walk_decode(&d->f, g->bytes, g->len, g->vaddr, start, end, entry) == 0;
		d->start = start;
		d->end = end;
		d->entry = entry;
	}
	o->fn = &d->f;
	return d->ok ? walk_index(o->fn, addr) : -1;
}

/*
 * Decodes the code around addr (o->fn points at it): the sized symbol covering it,
 * else from the nearest probable entry (a symbol or a call target) to the
 * next one, else a window with no entry, aligned so that neighbouring
 * sites share one decoding (a segment full of candidates costs one
 * decoding per WINDOW bytes, not one per candidate).  Returns the index
 * of the instruction at addr, or -1 when addr starts no instruction.
 */
static long context(struct an_obj *o, uint64_t addr)
{
	const struct an_seg *g = an_seg_of(o, addr);
	if (!g)
		return -1;
	uint64_t seg_end = g->vaddr + g->len, past = min64(addr + MAX_INSN + 1, seg_end);
	const struct an_sym *s = sym_covering(o, addr);
	if (s)
		return decode(o, g, s->start, s->end > past ? s->end : past, !s->cold, addr);

	size_t k = start_after(o, addr);
	long i = -1;
	uint64_t end;
	if (k > 0 && addr - o->starts[k - 1] <= ENTRY_REACH && an_seg_of(o, o->starts[k - 1]) == g) {
		uint64_t start = o->starts[k - 1];
		end = k < o->nstarts ? min64(o->starts[k], seg_end) : seg_end;
		end = min64(end, start + 2 * ENTRY_REACH);
		end = end > past ? end : past;
		i = decode(o, g, start, end, 1, addr);
		/* < 0: the guess decoded past addr, it was no entry. */
	}
	if (i < 0) {
		uint64_t a = addr & ~(uint64_t)(WINDOW - 1);
		uint64_t start = a - g->vaddr > WINDOW ? a - WINDOW : g->vaddr;
		end = min64(a + WINDOW + MAX_INSN, seg_end);
		i = decode(o, g, start, end, 0, addr);
	}
	/* Stripped code: a later entry by layout (padding after a ret, a
	 * jump or a noreturn call) is a better start than the guess. */
	long j = i < 0 ? -1 : walk_entry_before(o->fn, (size_t)i);
	if (j > 0) {
		uint64_t start = o->fn->start;
		int entry = o->fn->entry;
		long r = decode(o, g, o->fn->v[j].addr, end, 1, addr);
		/* The same bytes decode the same way from an instruction
		 * boundary; if not, back to the first decoding (kept). */
		return r >= 0 ? r : decode(o, g, start, end, entry, addr);
	}
	return i;
}

static int unknown_add(struct an_result *r, const struct an_obj *o, uint64_t addr, const char *why,
		       const char *wrapper)
{
	if (an_grow((void **)&r->unk, &r->nunk, &r->capunk, sizeof(*r->unk)) < 0)
		return -ENOMEM;
	struct an_unknown *u = &r->unk[r->nunk++];
	const struct an_sym *s = sym_before(o, addr);
	*u = (struct an_unknown){ .addr = addr, .file = o->path, .why = why, .wrapper = wrapper };
	if (s)
		snprintf(u->sym, sizeof(u->sym), "%s+%#llx", s->name,
			 (unsigned long long)(addr - s->start));
	else
		snprintf(u->sym, sizeof(u->sym), "?");
	return 0;
}

static int wrapper_add(struct an_result *r, size_t obj, const struct an_obj *o, uint64_t addr, int reg)
{
	for (size_t i = 0; i < r->nwr; i++)
		if (r->wr[i].obj == obj && r->wr[i].addr == addr && r->wr[i].reg == reg)
			return 0;
	if (r->nwr == MAX_WRAPPERS)
		return 0; /* its calls stay unexamined; the summary shows the count */
	if (an_grow((void **)&r->wr, &r->nwr, &r->capwr, sizeof(*r->wr)) < 0)
		return -ENOMEM;
	const struct an_sym *s = sym_before(o, addr);
	r->wr[r->nwr++] = (struct an_wrapper){
		.obj = obj, .addr = addr, .reg = reg, .name = s && s->start == addr ? s->name : NULL
	};
	return 0;
}

/* Records what one walk found at the site addr of objs[oi]. */
static int take(struct an_result *r, struct an_obj *objs, size_t oi, uint64_t addr,
		const struct walk_res *w, const char *wrapper)
{
	struct an_obj *o = &objs[oi];
	int got = 0, e = 0;

	for (int i = 0; i < w->nnums; i++) {
		if (w->nums[i] < AN_NR_MAX) {
			r->sites[w->nums[i]]++;
			got = 1;
		} else if (!e) {
			e = unknown_add(r, o, addr, "a number out of the table's range", wrapper);
		}
	}
	for (int reg = 0; reg < 16 && !e; reg++)
		if (w->args & (1u << reg))
			e = wrapper_add(r, oi, o, o->fn->start, reg);
	if (!e && (w->unknown || w->nmems))
		e = unknown_add(r, o, addr, w->unknown ? w->why : "loaded from memory", wrapper);
	r->nrecovered += got;
	return e;
}

static int eval_syscall(struct an_result *r, struct an_obj *objs, size_t oi, uint64_t addr)
{
	struct an_obj *o = &objs[oi];
	struct walk_res w;
	long i = context(o, addr);
	int kind = i < 0 ? 0 : walk_insn_kind(o->fn, (size_t)i);

	if (kind != WALK_SITE_SYSCALL && kind != WALK_SITE_INT80) {
		r->nnotinsn++;
		return 0;
	}
	r->nsyscall++;
	if (kind == WALK_SITE_INT80) {
		r->nint80++;
		return unknown_add(r, o, addr, "int 0x80 or sysenter: not the x86-64 system call ABI",
				   NULL);
	}
	int e = walk_back(o->fn, (size_t)i, WALK_RAX, &w);
	return e < 0 ? e : take(r, objs, oi, addr, &w, NULL);
}

/* A call or jump at addr to a wrapper whose number is in reg: via is
 * where it must go (the wrapper, its PLT entry or, for an indirect call,
 * its GOT slot). */
static int eval_call(struct an_result *r, struct an_obj *objs, size_t oi, uint64_t addr, uint64_t via,
		     int reg, const char *wrapper)
{
	struct an_obj *o = &objs[oi];
	struct walk_res w;
	long i = context(o, addr);
	int kind = i < 0 ? 0 : walk_insn_kind(o->fn, (size_t)i);
	const struct walk_insn *in = i < 0 ? NULL : &o->fn->v[i];

	if (!((kind == WALK_SITE_CALL || kind == WALK_SITE_JMP) && in->val == via) &&
	    !(kind == WALK_SITE_CALL_IND && in->src == WALK_MEM && in->val == via)) {
		r->nnotinsn++;
		return 0;
	}
	r->ncalls++;
	int e = walk_back(o->fn, (size_t)i, reg, &w);
	return e < 0 ? e : take(r, objs, oi, addr, &w, wrapper);
}

/* An indirect call of a libc-aware musl: through __aware_entry (the
 * vDSO's __elfvm_syscall), the number in rdi.  Other indirect calls are
 * not sites. */
static int eval_aware(struct an_result *r, struct an_obj *objs, size_t oi, uint64_t addr)
{
	struct an_obj *o = &objs[oi];
	struct walk_res w;
	long i = context(o, addr);

	if (i < 0 || walk_insn_kind(o->fn, (size_t)i) != WALK_SITE_CALL_IND)
		return 0;
	const struct walk_insn *in = &o->fn->v[i];
	int aware = in->src == WALK_MEM && in->val == o->aware_entry;
	if (in->src < 16) {
		if (walk_back(o->fn, (size_t)i, in->src, &w) < 0)
			return -ENOMEM;
		for (int k = 0; k < w.nmems; k++)
			aware |= w.mems[k] == o->aware_entry;
	}
	if (!aware)
		return 0;
	r->ncalls++;
	int e = walk_back(o->fn, (size_t)i, WALK_RDI, &w);
	return e < 0 ? e : take(r, objs, oi, addr, &w, "__aware_entry");
}

/* The first call in o->calls (or o->gcalls) whose target is t. */
static size_t call_first(const struct an_call *c, size_t n, uint64_t t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c[mid].target < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int eval_calls_to(struct an_result *r, struct an_obj *objs, size_t oi, uint64_t t, int reg,
			 const char *name, int got)
{
	const struct an_obj *o = &objs[oi];
	const struct an_call *c = got ? o->gcalls : o->calls;
	size_t n = got ? o->ngcalls : o->ncalls;
	int e = 0;

	for (size_t k = call_first(c, n, t); k < n && c[k].target == t && !e; k++)
		e = eval_call(r, objs, oi, c[k].site, t, reg, name ? name : "a wrapper");
	return e;
}

/* Every call of wrapper wi, in its object and through imports of its name. */
static int eval_wrapper(struct an_result *r, struct an_obj *objs, size_t nobjs, size_t wi)
{
	struct an_wrapper w = r->wr[wi]; /* a copy: r->wr may move */
	int e = eval_calls_to(r, objs, w.obj, w.addr, w.reg, w.name, 0);

	for (size_t oi = 0; oi < nobjs && !e && w.name; oi++)
		for (size_t k = 0; k < objs[oi].nimps && !e; k++) {
			if (strcmp(objs[oi].imps[k].name, w.name))
				continue;
			uint64_t a = objs[oi].imps[k].addr;
			e = eval_calls_to(r, objs, oi, a, w.reg, w.name, 0);
			if (!e)
				e = eval_calls_to(r, objs, oi, a, w.reg, w.name, 1);
		}
	return e;
}

/* Wrappers whose number reaches the syscall through memory, where the
 * walk cannot follow it, known by name: musl's __setxid(nr, ...) puts nr
 * in a struct that __synccall hands to every thread's do_setxid. */
static const struct {
	const char *name;
	int reg;
} named[] = { { "__setxid", WALK_RDI } };

int an_analyze(struct an_obj *objs, size_t nobjs, struct an_result *r)
{
	int e = 0;

	memset(r, 0, sizeof(*r));
	for (size_t oi = 0; oi < nobjs; oi++)
		for (size_t k = 0; k < objs[oi].nsyms && !e; k++)
			for (size_t w = 0; w < sizeof(named) / sizeof(named[0]) && !e; w++)
				if (objs[oi].syms[k].sized &&
				    !strcmp(objs[oi].syms[k].name, named[w].name))
					e = wrapper_add(r, oi, &objs[oi], objs[oi].syms[k].start,
							named[w].reg);
	for (size_t oi = 0; oi < nobjs && !e; oi++)
		for (size_t k = 0; k < objs[oi].nsites && !e; k++)
			e = eval_syscall(r, objs, oi, objs[oi].sites[k]);
	for (size_t oi = 0; oi < nobjs && !e; oi++) {
		const struct an_obj *o = &objs[oi];
		if (!o->aware_entry)
			continue;
		for (size_t k = call_first(o->gcalls, o->ngcalls, o->aware_entry);
		     !e && k < o->ngcalls && o->gcalls[k].target == o->aware_entry; k++)
			e = eval_aware(r, objs, oi, o->gcalls[k].site);
		for (size_t k = 0; k < o->nicalls && !e; k++)
			e = eval_aware(r, objs, oi, o->icalls[k]);
	}
	for (size_t wi = 0; wi < r->nwr && !e; wi++)
		e = eval_wrapper(r, objs, nobjs, wi);
	return e;
}

void an_result_free(struct an_result *r)
{
	free(r->unk);
	free(r->wr);
	memset(r, 0, sizeof(*r));
}
