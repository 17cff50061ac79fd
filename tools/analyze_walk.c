/* SPDX-License-Identifier: MIT */
/*
 * The backward walk of `elfvm analyze` (docs/analyze.md): decodes one
 * function (or a window of code) with Capstone into a compact instruction
 * list with its direct branch edges, then answers "what is register R just
 * before this instruction?" by walking every path backward: an immediate,
 * a move from another register (followed), a load from a rip-relative
 * address, the value an argument register had at the function's entry, or
 * unknown (loaded from memory, computed, clobbered by a call).  Pure code on
 * a byte buffer, so the unit tests drive it with hand-written bytes; the ELF
 * side (segments, symbols, wrappers) is analyze_elf.c.
 */
#include "tools/tools.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One walk visits at most this many (instruction, register) pairs: a path
 * longer than that says "unknown" rather than taking seconds. */
#define WALK_BUDGET 4096
#define WALK_HASH 16384 /* > 2 * WALK_BUDGET, a power of two */

enum walk_op {
	OP_OTHER,
	OP_MOV_IMM,  /* dst = val (also xor/sub reg,reg: val 0) */
	OP_MOV_REG,  /* dst = src */
	OP_LOAD_RIP, /* dst = *(val), a rip-relative load */
	OP_CALL,     /* direct call to val */
	OP_CALL_IND, /* indirect call: through register src, or [val] (src WALK_MEM) */
	OP_JMP,      /* direct jump to val, no fall-through */
	OP_JCC,      /* conditional jump to val */
	OP_END,      /* no fall-through: ret, indirect jmp, hlt, ud2, undecodable */
	OP_SYSCALL,
	OP_INT80,     /* int 0x80 or sysenter: not the x86-64 ABI */
	OP_NOP,       /* padding: reached by no path, it is no path */
	OP_MOV_LOW8,  /* the low byte of dst = val (musl: xor %eax,%eax; mov $N,%al) */
	OP_BAD,       /* a byte that decodes as nothing: no instruction, no fall-through */
	OP_TEST_ZERO, /* test %reg,%reg: the next je/jne says whether dst is 0 */
};

/* What a conditional jump tests, in walk_insn.src. */
enum { CC_OTHER, CC_EQ, CC_NE };

static csh cs;
static int cs_ready;

static int walk_open(void)
{
	if (cs_ready)
		return 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	cs_ready = 1;
	return 0;
}

/* The 64-bit register family (WALK_RAX..WALK_R15) of a Capstone register
 * and its width in bytes, or -1 for a register that is none of the 16. */
static int reg_family(unsigned r, int *width)
{
	static const struct {
		unsigned short r64, r32, r16, r8;
	} fam[16] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
	};
	for (int i = 0; i < 16; i++) {
		int w = r == fam[i].r64   ? 8
			: r == fam[i].r32 ? 4
			: r == fam[i].r16 ? 2
			: r == fam[i].r8  ? 1
					  : 0;
		if (!w && i < 4 &&
		    r == (unsigned[]){ X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH }[i])
			w = 1;
		if (w) {
			*width = w;
			return i;
		}
	}
	return -1;
}

/* Fills w from Capstone's decoding of one instruction. */
static void insn_classify(const cs_insn *in, struct walk_insn *w)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *o = x->operands;
	int wd0 = 0, wd1 = 0, f0 = -1, f1 = -1;

	w->addr = in->address;
	w->size = (uint8_t)in->size;
	w->op = OP_OTHER;
	w->kills = 0;
	w->val = 0;
	w->dst = w->src = 0;

	/* Every register the instruction writes, explicitly or not: the walk
	 * stops at any of them unless the form is one it follows. */
	cs_regs rr, ww;
	uint8_t nr = 0, nw = 0;
	if (cs_regs_access(cs, in, rr, &nr, ww, &nw) == CS_ERR_OK)
		for (int i = 0; i < nw; i++) {
			int wdt, f = reg_family(ww[i], &wdt);
			if (f >= 0)
				w->kills |= (uint16_t)(1u << f);
		}
	if (x->op_count >= 1 && o[0].type == X86_OP_REG) {
		f0 = reg_family(o[0].reg, &wd0);
		if (f0 >= 0 && (o[0].access & CS_AC_WRITE))
			w->kills |= (uint16_t)(1u << f0);
	}
	if (x->op_count >= 2 && o[1].type == X86_OP_REG)
		f1 = reg_family(o[1].reg, &wd1);

	switch (in->id) {
	case X86_INS_MOV:
	case X86_INS_MOVABS:
		if (f0 >= 0 && wd0 == 1 && x->op_count == 2 && o[1].type == X86_OP_IMM &&
		    o[0].reg != X86_REG_AH && o[0].reg != X86_REG_BH && o[0].reg != X86_REG_CH &&
		    o[0].reg != X86_REG_DH) {
			w->op = OP_MOV_LOW8;
			w->dst = (uint8_t)f0;
			w->val = (uint8_t)o[1].imm;
		}
		if (f0 < 0 || wd0 < 4 || x->op_count != 2)
			break;
		if (o[1].type == X86_OP_IMM) {
			w->op = OP_MOV_IMM;
			w->val = wd0 == 4 ? (uint32_t)o[1].imm : (uint64_t)o[1].imm;
		} else if (f1 >= 0 && wd1 == wd0) {
			w->op = OP_MOV_REG;
			w->src = (uint8_t)f1;
		} else if (o[1].type == X86_OP_MEM && o[1].mem.base == X86_REG_RIP &&
			   o[1].mem.index == X86_REG_INVALID && wd0 == 8) {
			w->op = OP_LOAD_RIP;
			w->val = in->address + in->size + (uint64_t)o[1].mem.disp;
		}
		w->dst = (uint8_t)f0;
		break;
	case X86_INS_TEST:
		if (f0 >= 0 && f0 == f1 && wd0 == wd1 && wd0 >= 4) {
			w->op = OP_TEST_ZERO;
			w->dst = (uint8_t)f0;
		}
		break;
	case X86_INS_XOR:
	case X86_INS_SUB:
		if (f0 >= 0 && f0 == f1 && wd0 == wd1 && wd0 >= 4) {
			w->op = OP_MOV_IMM;
			w->dst = (uint8_t)f0;
		}
		break;
	case X86_INS_CALL:
		if (x->op_count == 1 && o[0].type == X86_OP_IMM) {
			w->op = OP_CALL;
			w->val = (uint64_t)o[0].imm;
		} else {
			w->op = OP_CALL_IND;
			w->src = WALK_NONE;
			if (f0 >= 0 && wd0 == 8)
				w->src = (uint8_t)f0;
			else if (x->op_count == 1 && o[0].type == X86_OP_MEM &&
				 o[0].mem.base == X86_REG_RIP && o[0].mem.index == X86_REG_INVALID) {
				w->src = WALK_MEM;
				w->val = in->address + in->size + (uint64_t)o[0].mem.disp;
			}
		}
		break;
	case X86_INS_SYSCALL: w->op = OP_SYSCALL; break;
	case X86_INS_SYSENTER: w->op = OP_INT80; break;
	case X86_INS_INT:
		if (x->op_count == 1 && o[0].type == X86_OP_IMM && o[0].imm == 0x80)
			w->op = OP_INT80;
		break;
	case X86_INS_NOP:
	case X86_INS_INT3: w->op = OP_NOP; break;
	case X86_INS_HLT:
	case X86_INS_UD2:
	case X86_INS_UD2B:
	case X86_INS_LJMP: w->op = OP_END; break;
	default:
		if (cs_insn_group(cs, in, CS_GRP_RET) || cs_insn_group(cs, in, CS_GRP_IRET)) {
			w->op = OP_END;
		} else if (cs_insn_group(cs, in, CS_GRP_JUMP)) {
			int direct = x->op_count == 1 && o[0].type == X86_OP_IMM;
			w->op = in->id == X86_INS_JMP ? (direct ? OP_JMP : OP_END)
						      : (direct ? OP_JCC : OP_OTHER);
			w->val = direct ? (uint64_t)o[0].imm : 0;
			w->src = in->id == X86_INS_JE ? CC_EQ : in->id == X86_INS_JNE ? CC_NE : CC_OTHER;
		}
	}
	if (w->op == OP_MOV_IMM || w->op == OP_MOV_REG || w->op == OP_LOAD_RIP || w->op == OP_MOV_LOW8)
		w->kills &= (uint16_t) ~(1u << w->dst);
}

static int insn_push(struct walk_fn *f, const struct walk_insn *w)
{
	if (an_grow((void **)&f->v, &f->n, &f->cap, sizeof(*f->v)) < 0)
		return -ENOMEM;
	f->v[f->n++] = *w;
	return 0;
}

static int edge_cmp(const void *a, const void *b)
{
	const struct walk_edge *x = a, *y = b;
	return x->to < y->to ? -1 : x->to > y->to ? 1 : (x->from > y->from) - (x->from < y->from);
}

/* The direct branches that land on an instruction of f, sorted by target. */
static int edges_build(struct walk_fn *f)
{
	size_t ne = 0;
	for (size_t i = 0; i < f->n; i++)
		ne += f->v[i].op == OP_JMP || f->v[i].op == OP_JCC;
	f->e = calloc(ne ? ne : 1, sizeof(*f->e));
	if (!f->e)
		return -ENOMEM;
	f->ne = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].op != OP_JMP && f->v[i].op != OP_JCC)
			continue;
		long t = walk_index(f, f->v[i].val);
		if (t >= 0)
			f->e[f->ne++] = (struct walk_edge){ .to = (uint32_t)t, .from = (uint32_t)i };
	}
	qsort(f->e, f->ne, sizeof(*f->e), edge_cmp);
	return 0;
}

int walk_decode(struct walk_fn *f, const uint8_t *code, size_t len, uint64_t base, uint64_t start,
		uint64_t end, int entry)
{
	memset(f, 0, sizeof(*f));
	f->start = start;
	f->entry = entry;
	if (walk_open() < 0)
		return -ENOMEM;
	if (start < base || start - base > len)
		return -EINVAL;
	if (end < start || end - base > len)
		end = base + len;
	f->end = end;

	cs_insn *in = cs_malloc(cs);
	if (!in)
		return -ENOMEM;
	const uint8_t *p = code + (start - base);
	size_t left = end - start;
	uint64_t addr = start;
	int r = 0;
	while (left > 0 && f->n < UINT32_MAX - 1 && r == 0) {
		struct walk_insn w;
		if (cs_disasm_iter(cs, &p, &left, &addr, in)) {
			insn_classify(in, &w);
		} else {
			/* Bytes that decode as nothing (data, or an instruction
			 * cut by the end): one byte that no path falls through. */
			w = (struct walk_insn){ .addr = addr, .size = 1, .op = OP_BAD };
			p++;
			left--;
			addr++;
			f->cut = 1;
		}
		r = insn_push(f, &w);
	}
	cs_free(in, 1);
	if (r == 0)
		r = edges_build(f);
	if (r < 0)
		walk_free(f);
	return r;
}

void walk_free(struct walk_fn *f)
{
	free(f->v);
	free(f->e);
	f->v = NULL;
	f->e = NULL;
	f->n = f->ne = f->cap = 0;
}

long walk_index(const struct walk_fn *f, uint64_t addr)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->n && f->v[lo].addr == addr ? (long)lo : -1;
}

int walk_insn_kind(const struct walk_fn *f, size_t i)
{
	switch (f->v[i].op) {
	case OP_SYSCALL: return WALK_SITE_SYSCALL;
	case OP_INT80: return WALK_SITE_INT80;
	case OP_CALL: return WALK_SITE_CALL;
	case OP_JMP: return WALK_SITE_JMP;
	case OP_CALL_IND: return WALK_SITE_CALL_IND;
	}
	return 0;
}

/* The index of the first edge landing on instruction i (f->ne if none). */
static size_t edge_first(const struct walk_fn *f, size_t i)
{
	size_t lo = 0, hi = f->ne;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->e[mid].to < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* May control fall from v[i-1] into v[i]? */
static int falls_through(const struct walk_fn *f, size_t i)
{
	const struct walk_insn *w = &f->v[i - 1];
	return w->op != OP_JMP && w->op != OP_END && w->op != OP_BAD &&
	       w->addr + w->size == f->v[i].addr;
}

long walk_entry_before(const struct walk_fn *f, size_t i)
{
	if (i >= f->n)
		return -1;
	for (size_t j = i; j > 0 && i - j < WALK_BUDGET; j--) {
		if ((f->v[j].addr & 15) || f->v[j - 1].op != OP_NOP)
			continue;
		size_t q = j - 1;
		while (q > 0 && f->v[q].op == OP_NOP)
			q--;
		int op = f->v[q].op;
		size_t e = edge_first(f, j);
		if ((op == OP_END || op == OP_JMP || op == OP_BAD || op == OP_CALL ||
		     op == OP_CALL_IND) &&
		    !(e < f->ne && f->e[e].to == j))
			return (long)j;
	}
	return -1;
}

static void res_unknown(struct walk_res *r, const char *why)
{
	if (!r->unknown)
		r->why = why;
	r->unknown = 1;
}

static void res_num(struct walk_res *r, uint64_t v)
{
	for (int i = 0; i < r->nnums; i++)
		if (r->nums[i] == v)
			return;
	if (r->nnums == WALK_NUMS)
		return res_unknown(r, "more values than the walk keeps");
	r->nums[r->nnums++] = v;
}

static void res_mem(struct walk_res *r, uint64_t a)
{
	for (int i = 0; i < r->nmems; i++)
		if (r->mems[i] == a)
			return;
	if (r->nmems == WALK_MEMS)
		return res_unknown(r, "loaded from memory");
	r->mems[r->nmems++] = a;
}

/* The registers a call may change (System V ABI: caller-saved). */
#define CLOBBER_CALL \
	(1u << WALK_RAX | 1u << WALK_RCX | 1u << WALK_RDX | 1u << WALK_RSI | 1u << WALK_RDI | \
	 1u << WALK_R8 | 1u << WALK_R9 | 1u << WALK_R10 | 1u << WALK_R11)
#define CLOBBER_SYSCALL (1u << WALK_RAX | 1u << WALK_RCX | 1u << WALK_R11)
#define ARG_REGS \
	(1u << WALK_RDI | 1u << WALK_RSI | 1u << WALK_RDX | 1u << WALK_RCX | 1u << WALK_R8 | \
	 1u << WALK_R9)

struct walk_state {
	const struct walk_fn *f;
	struct walk_res *r;
	uint32_t stack[WALK_BUDGET]; /* (index << 4) | register */
	int sp;
	struct {
		uint32_t key, gen; /* a slot is used when gen is this walk's */
	} seen[WALK_HASH];
	uint32_t gen;
	int steps;
};

/* One state for every walk: a program with a million sites must not
 * clear a million tables, so each walk has its own generation. */
static struct walk_state *state;

static void push(struct walk_state *s, size_t i, int reg)
{
	uint32_t key = (uint32_t)i << 4 | (uint32_t)reg;
	uint32_t h = (key * 2654435761u) & (WALK_HASH - 1);

	if (i >= (1u << 27)) /* a function this large: no key for it */
		return res_unknown(s->r, "function too large to walk");
	while (s->seen[h].gen == s->gen) {
		if (s->seen[h].key == key)
			return;
		h = (h + 1) & (WALK_HASH - 1);
	}
	if (s->steps++ >= WALK_BUDGET || s->sp == WALK_BUDGET)
		return res_unknown(s->r, "too many paths");
	s->seen[h].key = key;
	s->seen[h].gen = s->gen;
	s->stack[s->sp++] = key;
}

/* What instruction p does to reg on the way to the instruction after it. */
static void through(struct walk_state *s, size_t p, int reg)
{
	const struct walk_insn *w = &s->f->v[p];
	uint32_t bit = 1u << reg;

	switch (w->op) {
	case OP_MOV_IMM:
	case OP_MOV_REG:
	case OP_LOAD_RIP:
		if (w->dst != reg)
			break;
		if (w->op == OP_MOV_IMM)
			res_num(s->r, w->val);
		else if (w->op == OP_MOV_REG)
			push(s, p, w->src);
		else
			res_mem(s->r, w->val);
		return;
	case OP_MOV_LOW8: {
		/* Only right after a full write of the same register, with
		 * no other way in: the upper bits are that write's. */
		const struct walk_insn *q = p > 0 ? &s->f->v[p - 1] : NULL;
		if (w->dst != reg)
			break;
		if (q && q->op == OP_MOV_IMM && q->dst == reg && falls_through(s->f, p) &&
		    (edge_first(s->f, p) == s->f->ne || s->f->e[edge_first(s->f, p)].to != p))
			res_num(s->r, (q->val & ~0xffull) | w->val);
		else
			res_unknown(s->r, "a write of the low byte only");
		return;
	}
	case OP_CALL:
	case OP_CALL_IND:
		if (bit & CLOBBER_CALL)
			return res_unknown(s->r, "a call in between");
		break;
	case OP_SYSCALL:
	case OP_INT80:
		if (bit & CLOBBER_SYSCALL)
			return res_unknown(s->r, "a system call in between");
		break;
	}
	if (w->kills & bit)
		return res_unknown(s->r, "computed or loaded from memory");
	push(s, p, reg);
}

/* Is the way from the conditional jump j to where it goes (taken: its
 * target, else the next instruction) one on which reg is 0?  That is
 * `test %reg,%reg` right before j, nothing else jumping to j, and je
 * taken or jne not taken (gcc reuses the zero for read's number). */
static int zero_on_edge(const struct walk_fn *f, size_t j, int reg, int taken)
{
	const struct walk_insn *w = &f->v[j];
	size_t e = edge_first(f, j);

	if (w->op != OP_JCC || j == 0 || !falls_through(f, j) || (e < f->ne && f->e[e].to == j))
		return 0;
	if (f->v[j - 1].op != OP_TEST_ZERO || f->v[j - 1].dst != reg)
		return 0;
	return taken ? w->src == CC_EQ : w->src == CC_NE;
}

static void visit(struct walk_state *s, size_t i, int reg)
{
	const struct walk_fn *f = s->f;
	int preds = 0;

	if (i > 0 && falls_through(f, i)) {
		preds++;
		if (zero_on_edge(f, i - 1, reg, 0))
			res_num(s->r, 0);
		else
			through(s, i - 1, reg);
	}
	for (size_t lo = edge_first(f, i); lo < f->ne && f->e[lo].to == i; lo++) {
		preds++;
		if (zero_on_edge(f, f->e[lo].from, reg, 1))
			res_num(s->r, 0);
		else
			through(s, f->e[lo].from, reg);
	}
	if (i == 0 && f->entry) {
		if ((1u << reg) & ARG_REGS)
			s->r->args |= (uint16_t)(1u << reg);
		else
			res_unknown(s->r, "not an argument register at the function's entry");
	} else if (!preds && f->v[i].op != OP_NOP) {
		/* Padding after a jump or a ret is no path; other code that
		 * nothing reaches is entered in a way the walk cannot see
		 * (an indirect jump, another function). */
		res_unknown(s->r, i == 0 ? "start of the window reached" : "no path leads here");
	}
}

int walk_back(const struct walk_fn *f, size_t idx, int reg, struct walk_res *r)
{
	memset(r, 0, sizeof(*r));
	if (idx >= f->n || reg < 0 || reg > 15)
		return -EINVAL;
	if (!state && !(state = calloc(1, sizeof(*state))))
		return -ENOMEM;
	struct walk_state *s = state;
	if (++s->gen == 0) { /* wrapped: every slot could look used */
		memset(s->seen, 0, sizeof(s->seen));
		s->gen = 1;
	}
	s->f = f;
	s->r = r;
	s->sp = 0;
	s->steps = 0;
	push(s, idx, reg);
	while (s->sp > 0) {
		uint32_t key = s->stack[--s->sp];
		visit(s, key >> 4, (int)(key & 15));
	}
	return 0;
}

int analyze_walk(const uint8_t *code, size_t len, uint64_t base, uint64_t site, int reg,
		 struct walk_res *r)
{
	struct walk_fn f;
	int e = walk_decode(&f, code, len, base, base, base + len, 1);

	memset(r, 0, sizeof(*r));
	if (e < 0)
		return e;
	long i = walk_index(&f, site);
	if (i < 0 || f.v[i].op == OP_BAD)
		e = -ENOENT;
	else
		e = walk_back(&f, (size_t)i, reg, r);
	walk_free(&f);
	return e;
}
