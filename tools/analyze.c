/* SPDX-License-Identifier: MIT */
/*
 * The `analyze` verb (docs/analyze.md): which system calls can PROGRAM
 * make?  It takes the files `elfvm run` would give the program (itself,
 * what its dynamic linker opens, --lib, libc-aware's musl for a dynamic
 * musl program, the vDSO), has analyze_sites.c find every site, unions the
 * result with a run's profile (--profile), and prints one line per system
 * call, the unknown sites, and a summary (text, or --json).  The kernel's
 * own trimming (make SYSCALLS=, run --trim) reads this output; it is not
 * done here.
 */
#include "tools/tools.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "syscall_names.h"

#define NNAMES (sizeof(syscall_names) / sizeof(syscall_names[0]))
#define EXIT_MISSED 3

static const char usage[] =
	"usage: elfvm analyze [OPTIONS] PROGRAM [ARGS...]\n"
	"\n"
	"Lists the system calls PROGRAM can make, found statically in the files\n"
	"`elfvm run` gives it (the program, what its dynamic linker opens, --lib,\n"
	"the vDSO): every `syscall` instruction and every call of a wrapper whose\n"
	"number is an argument (glibc's and musl's syscall(), musl's\n"
	"__syscall_cp_asm, libc-aware's entry), the number found by walking back\n"
	"through the code.  ARGS are ignored, so a `run` command line can be\n"
	"reused.  Output: `NAME NUMBER static|dynamic|both SITES` per system\n"
	"call by number, `unknown ADDRESS SYMBOL+OFF FILE` per site whose number\n"
	"was not found, then `# ` summary lines (docs/analyze.md).\n"
	"\n"
	"  --json            the same as one JSON document\n"
	"  --lib NAME|PATH   a library the program dlopen()s (repeatable)\n"
	"  --libc aware|stock  a dynamic musl program's libc, as for `run`\n"
	"  --profile FILE    a run's profile, lines `NAME NUMBER COUNT` ('#'\n"
	"                    comments): each call is marked static, dynamic or\n"
	"                    both, and one seen only at run time is a MISSED line\n"
	"  --sizes           also build (or take from the cache) the kernel trimmed\n"
	"                    to these system calls, as `elfvm run --trim` would, and\n"
	"                    give its sizes against the full kernel's (docs/trim.md)\n"
	"  -h, --help        this text\n"
	"\n"
	"Exit status: 0; 3 when the profile holds a call not found statically;\n"
	"125 when an input is bad (one line on stderr says why).\n";

struct analyze_opts {
	int json, libc_stock, sizes;
	uint64_t beyond; /* the profile's calls past the name table */
	const char *profile;
	char **libs;
	int nlibs;
};

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "elfvm analyze: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -1;
}

/* Returns the index of PROGRAM, 0 after --help, or -1 after a message. */
static int parse(int argc, char **argv, struct analyze_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			o->json = 1;
			continue;
		} else if (!strcmp(a, "--sizes")) {
			o->sizes = 1;
			continue;
		}
		if (strcmp(a, "--lib") && strcmp(a, "--libc") && strcmp(a, "--profile"))
			return bad("unknown option '%s' (see elfvm analyze --help)", a);
		if (!v)
			return bad("%s wants a value", a);
		i++;
		if (!strcmp(a, "--lib"))
			o->libs[o->nlibs++] = (char *)v;
		else if (!strcmp(a, "--profile"))
			o->profile = v;
		else if (!strcmp(v, "aware") || !strcmp(v, "stock"))
			o->libc_stock = !strcmp(v, "stock");
		else
			return bad("bad --libc '%s': want aware or stock", v);
	}
	if (i >= argc)
		return bad("%s", "no PROGRAM (see elfvm analyze --help)");
	return i;
}

/* The files analysed, each once (by its resolved path). */
struct file_list {
	char **v;
	size_t n, cap;
	const char *interp, *aware; /* a musl interpreter stands for libc-aware */
};

static int file_add(void *ctx, const char *path)
{
	struct file_list *l = ctx;
	char real[PATH_MAX];

	if (l->aware && l->interp && !strcmp(path, l->interp))
		path = l->aware;
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], real))
			return 0;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, c * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = c;
	}
	if (!(l->v[l->n] = strdup(real)))
		return -ENOMEM;
	l->n++;
	return 0;
}

/* What `elfvm run` would give p: itself, its linker's closure (pack.c's
 * libraries, libgcc_s for glibc among them), libc-aware's musl in place
 * of a musl interpreter, and the vDSO beside elfvm when it is there. */
static int files_collect(const struct prog_file *p, const struct analyze_opts *ao, struct file_list *l,
			 char *why, size_t n)
{
	static char aware[PATH_MAX], vdso[PATH_MAX];
	struct pack_opts po = { .libs = ao->libs, .nlibs = ao->nlibs };
	int nlibs, r;

	if (p->interp && needed_musl(p->interp) && !ao->libc_stock) {
		if (vm_beside_elfvm("libc-aware/lib/libc.so", aware, sizeof(aware)) < 0 ||
		    access(aware, R_OK) < 0)
			return pack_fail(why, n,
					 "%s: missing (make builds it; --libc stock analyzes the "
					 "program's own musl)",
					 aware);
		l->interp = p->interp;
		l->aware = aware;
	}
	if (file_add(l, p->path) < 0)
		return pack_fail(why, n, "out of memory");
	char **libs = pack_libs(p, &po, &nlibs);
	if (!libs)
		return pack_fail(why, n, "out of memory");
	r = needed_resolve(p, libs, nlibs, file_add, l, why, n);
	free(libs);
	if (r < 0)
		return -1;
	if (vm_beside_elfvm("vdso.so", vdso, sizeof(vdso)) == 0 && access(vdso, R_OK) == 0 &&
	    file_add(l, vdso) < 0)
		return pack_fail(why, n, "out of memory");
	return 0;
}

/* Reads the whole file at path into *data (malloc).  Returns 0, or -1
 * with a reason. */
static int file_read(const char *path, unsigned char **data, size_t *size, char *why, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, len = 0;
	unsigned char *b = NULL;

	if (!f)
		return pack_fail(why, n, "%s: %s", path, strerror(errno));
	for (;;) {
		if (len == cap) {
			unsigned char *nb =
				cap > SIZE_MAX / 4 ? NULL : realloc(b, cap ? cap * 2 : 1 << 20);
			if (!nb) {
				free(b);
				fclose(f);
				return pack_fail(why, n, "%s: out of memory", path);
			}
			b = nb;
			cap = cap ? cap * 2 : 1 << 20;
		}
		size_t k = fread(b + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(b);
		return pack_fail(why, n, "%s: read error", path);
	}
	*data = b;
	*size = len;
	return 0;
}

/* Reads a profile: counts per number.  Returns 0, or -1 with a reason. */
static int profile_read(const char *path, uint64_t *count, uint64_t *beyond, char *why, size_t n)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int ln = 0;

	if (!f)
		return pack_fail(why, n, "%s: cannot read the profile: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char name[128], extra;
		unsigned long long nr, c;
		const char *s = line + strspn(line, " \t");
		ln++;
		if (*s == '#' || *s == '\n' || *s == '\0')
			continue;
		if (sscanf(s, "%127s %llu %llu %c", name, &nr, &c, &extra) != 3) {
			fclose(f);
			return pack_fail(why, n, "%s:%d: not a profile line `NAME NUMBER COUNT`", path,
					 ln);
		}
		/* A number no kernel table has (a program probing ENOSYS)
		 * is no call a trimmed kernel could keep: counted apart. */
		if (nr >= NNAMES)
			*beyond += c;
		else
			count[nr] += c; /* a count of 0: not made */
	}
	int err = ferror(f);
	fclose(f);
	return err ? pack_fail(why, n, "%s: cannot read the profile", path) : 0;
}

/* The kernel beside elfvm: bytes of its executable PT_LOAD segments and
 * of all of them, in memory.  Returns 0, or -1 when it cannot be read. */
static int kernel_size(char *path, size_t n, uint64_t *text, uint64_t *loaded)
{
	unsigned char *data;
	size_t size = 0;
	char why[512];

	*text = *loaded = 0;
	if (vm_default_kernel(path, n) < 0 || file_read(path, &data, &size, why, sizeof(why)) < 0)
		return -1;
	Elf *e = elf_memory((char *)data, size);
	size_t phnum = 0;
	int r = e && elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &phnum) == 0 ? 0 : -1;
	for (size_t i = 0; r == 0 && i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		*loaded += ph.p_memsz;
		if (ph.p_flags & PF_X)
			*text += ph.p_memsz;
	}
	if (e)
		elf_end(e);
	free(data);
	return r;
}

static const char *nr_name(unsigned nr, char *buf, size_t n)
{
	if (nr < NNAMES && syscall_names[nr])
		return syscall_names[nr];
	snprintf(buf, n, "syscall_%u", nr);
	return buf;
}

/* s as a JSON string. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct report {
	const struct an_result *r;
	const struct file_list *files;
	const struct an_obj *objs;
	const uint64_t *dyn; /* NULL without --profile */
	const char *profile;
	uint64_t beyond; /* profile calls with numbers past the table */
	double seconds;
	int kernel_ok;
	char kernel[PATH_MAX];
	uint64_t ktext, kloaded;
	/* --sizes: the trimmed kernel (trim_ok), both by trim_kernel_sizes */
	int trim_ok, tcount;
	char tkernel[PATH_MAX];
	uint64_t ttext, tloaded, ftext, floaded;
};

static const char *source(const struct report *p, unsigned nr)
{
	int st = p->r->sites[nr] > 0, dy = p->dyn && p->dyn[nr];
	return st && dy ? "both" : st ? "static" : dy ? "dynamic" : NULL;
}

static double cut(uint64_t full, uint64_t part)
{
	return full ? 100.0 * ((double)full - (double)part) / (double)full : 0.0;
}

static void print_trimmed(const struct report *p)
{
	if (!p->trim_ok) {
		printf("# trimmed kernel: not built (elfvm's message above)\n");
		return;
	}
	printf("# trimmed kernel (%d of the table's syscalls kept): .text %llu of %llu bytes (-%.1f%%), "
	       "loaded %llu of %llu bytes (-%.1f%%)\n# trimmed kernel file: %s\n",
	       p->tcount, (unsigned long long)p->ttext, (unsigned long long)p->ftext,
	       cut(p->ftext, p->ttext), (unsigned long long)p->tloaded, (unsigned long long)p->floaded,
	       cut(p->floaded, p->tloaded), p->tkernel);
}

static void print_text(const struct report *p)
{
	const struct an_result *r = p->r;
	unsigned nst = 0, ndy = 0, nmissed = 0;
	char b[32];

	for (unsigned nr = 0; nr < AN_NR_MAX; nr++) {
		const char *s = source(p, nr);
		if (!s)
			continue;
		printf("%s %u %s %u\n", nr_name(nr, b, sizeof(b)), nr, s, r->sites[nr]);
		nst += r->sites[nr] > 0;
		ndy += p->dyn && p->dyn[nr];
	}
	for (size_t i = 0; i < r->nunk; i++)
		printf("unknown %#llx %s %s\n", (unsigned long long)r->unk[i].addr, r->unk[i].sym,
		       r->unk[i].file);
	for (size_t i = 0; i < p->files->n; i++)
		printf("# file %s: %llu bytes of code, %zu symbols\n", p->files->v[i],
		       (unsigned long long)p->objs[i].text, p->objs[i].nsyms);
	printf("# files examined: %zu\n", p->files->n);
	printf("# syscall instructions examined: %zu (int 0x80 or sysenter: %zu; byte matches inside other "
	       "instructions: %zu)\n",
	       r->nsyscall, r->nint80, r->nnotinsn);
	printf("# wrapper call sites examined: %zu (wrappers: %zu)\n", r->ncalls, r->nwr);
	printf("# numbers recovered: %u distinct, from %zu of %zu sites\n", nst, r->nrecovered,
	       r->nsyscall + r->ncalls);
	printf("# unknown sites: %zu\n", r->nunk);
	if (p->dyn) {
		printf("# profile %s: %u system calls at run time; static/dynamic ratio %u/%u = %.2f\n",
		       p->profile, ndy, nst, ndy, ndy ? (double)nst / ndy : 0.0);
		if (p->beyond)
			printf("# profile: %llu calls with a number past %zu ignored (in no kernel table)\n",
			       (unsigned long long)p->beyond, NNAMES - 1);
		for (unsigned nr = 0; nr < AN_NR_MAX; nr++)
			if (p->dyn[nr] && !r->sites[nr]) {
				printf("# MISSED %s %u: seen at run time, not found statically\n",
				       nr_name(nr, b, sizeof(b)), nr);
				nmissed++;
			}
	}
	printf("# time: %.3f s\n", p->seconds);
	if (p->kernel_ok)
		printf("# full kernel: text %llu bytes, loaded %llu bytes\n# kernel file: %s\n",
		       (unsigned long long)p->ktext, (unsigned long long)p->kloaded, p->kernel);
	else
		printf("# full kernel: not found beside elfvm\n");
	if (p->trim_ok >= 0)
		print_trimmed(p);
}

static void print_json(const struct report *p)
{
	const struct an_result *r = p->r;
	unsigned nst = 0, ndy = 0;
	const char *sep = "";
	char b[32];

	printf("{\"syscalls\": [");
	for (unsigned nr = 0; nr < AN_NR_MAX; nr++) {
		const char *s = source(p, nr);
		if (!s)
			continue;
		printf("%s\n  {\"name\": \"%s\", \"number\": %u, \"source\": \"%s\", \"sites\": %u", sep,
		       nr_name(nr, b, sizeof(b)), nr, s, r->sites[nr]);
		if (p->dyn)
			printf(", \"count\": %llu", (unsigned long long)p->dyn[nr]);
		printf("}");
		sep = ",";
		nst += r->sites[nr] > 0;
		ndy += p->dyn && p->dyn[nr];
	}
	printf("],\n\"unknown\": [");
	for (size_t i = 0; i < r->nunk; i++) {
		printf("%s\n  {\"address\": \"%#llx\", \"symbol\": ", i ? "," : "",
		       (unsigned long long)r->unk[i].addr);
		json_str(stdout, r->unk[i].sym);
		printf(", \"file\": ");
		json_str(stdout, r->unk[i].file);
		printf(", \"why\": ");
		json_str(stdout, r->unk[i].why ? r->unk[i].why : "");
		if (r->unk[i].wrapper) {
			printf(", \"wrapper\": ");
			json_str(stdout, r->unk[i].wrapper);
		}
		printf("}");
	}
	printf("],\n\"wrappers\": [");
	for (size_t i = 0; i < r->nwr; i++) {
		static const char *const regs[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
						      "rsi", "rdi", "r8",  "r9",  "r10", "r11",
						      "r12", "r13", "r14", "r15" };
		printf("%s\n  {\"address\": \"%#llx\", \"symbol\": ", i ? "," : "",
		       (unsigned long long)r->wr[i].addr);
		json_str(stdout, r->wr[i].name ? r->wr[i].name : "?");
		printf(", \"file\": ");
		json_str(stdout, p->files->v[r->wr[i].obj]);
		printf(", \"register\": \"%s\"}", regs[r->wr[i].reg & 15]);
	}
	printf("],\n\"missed\": [");
	sep = "";
	for (unsigned nr = 0; p->dyn && nr < AN_NR_MAX; nr++)
		if (p->dyn[nr] && !r->sites[nr]) {
			printf("%s{\"name\": \"%s\", \"number\": %u}", sep, nr_name(nr, b, sizeof(b)),
			       nr);
			sep = ", ";
		}
	printf("],\n\"summary\": {\"files\": [");
	for (size_t i = 0; i < p->files->n; i++) {
		printf("%s", i ? ", " : "");
		json_str(stdout, p->files->v[i]);
	}
	printf("], \"syscall_instructions\": %zu, \"int80\": %zu, \"inside_other_instructions\": %zu, "
	       "\"wrapper_call_sites\": %zu, \"wrappers\": %zu, \"sites_recovered\": %zu, \"numbers_static\": %u, ",
	       r->nsyscall, r->nint80, r->nnotinsn, r->ncalls, r->nwr, r->nrecovered, nst);
	if (p->dyn)
		printf("\"numbers_dynamic\": %u, \"profile_beyond_table\": %llu, ", ndy,
		       (unsigned long long)p->beyond);
	printf("\"unknown\": %zu, \"seconds\": %.3f", r->nunk, p->seconds);
	if (p->kernel_ok) {
		printf(", \"kernel\": {\"path\": ");
		json_str(stdout, p->kernel);
		printf(", \"text\": %llu, \"loaded\": %llu}", (unsigned long long)p->ktext,
		       (unsigned long long)p->kloaded);
	}
	if (p->trim_ok > 0) {
		printf(", \"trimmed_kernel\": {\"path\": ");
		json_str(stdout, p->tkernel);
		printf(", \"syscalls\": %d, \"text\": %llu, \"loaded\": %llu, \"full_text\": %llu, "
		       "\"full_loaded\": %llu}",
		       p->tcount, (unsigned long long)p->ttext, (unsigned long long)p->tloaded,
		       (unsigned long long)p->ftext, (unsigned long long)p->floaded);
	}
	printf("}}\n");
}

/* --sizes: the list of p's system calls in a temporary file, the kernel
 * trimmed to it (trim.c), and both kernels' sizes into p.  trim_ok ends 1,
 * or 0 when the kernel could not be had (trim.c said why on stderr). */
static void trimmed_sizes(struct report *p)
{
	const char *tmpdir = getenv("TMPDIR");
	char list[PATH_MAX], b[32];
	int fd;
	FILE *f;

	p->trim_ok = 0;
	snprintf(list, sizeof(list), "%s/elfvm-analyze.XXXXXX",
		 tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp");
	if ((fd = mkstemp(list)) < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "elfvm analyze: a temporary list: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd), unlink(list);
		return;
	}
	for (unsigned nr = 0; nr < AN_NR_MAX; nr++)
		if (source(p, nr))
			fprintf(f, "%s %u\n", nr_name(nr, b, sizeof(b)), nr);
	if (fclose(f) == 0 && trim_list_kernel(list, p->tkernel, sizeof(p->tkernel), &p->tcount) == 0 &&
	    trim_kernel_sizes(p->tkernel, &p->ttext, &p->tloaded) == 0 && p->kernel_ok &&
	    trim_kernel_sizes(p->kernel, &p->ftext, &p->floaded) == 0)
		p->trim_ok = 1;
	unlink(list);
}

/* Loads and analyses every file; prints the report.  Returns the exit
 * status, or -1 with a reason in why. */
static int analyze(const struct prog_file *p, const struct analyze_opts *ao, uint64_t *dyn, char *why,
		   size_t n, struct timespec t0)
{
	struct file_list files = { 0 };
	unsigned char **data = NULL;
	struct an_obj *objs = NULL;
	struct an_result r = { 0 };
	struct report rep = {
		.r = &r, .files = &files, .dyn = dyn, .profile = ao->profile, .beyond = ao->beyond
	};
	size_t loaded = 0;
	int status = -1;

	if (files_collect(p, ao, &files, why, n) < 0)
		goto out;
	data = calloc(files.n, sizeof(*data));
	objs = calloc(files.n, sizeof(*objs));
	if (!data || !objs) {
		pack_fail(why, n, "out of memory");
		goto out;
	}
	for (; loaded < files.n; loaded++) {
		size_t size = 0;
		if (file_read(files.v[loaded], &data[loaded], &size, why, n) < 0)
			goto out;
		if (an_obj_load(&objs[loaded], files.v[loaded], data[loaded], size, why, n) < 0) {
			free(data[loaded]);
			goto out;
		}
	}
	if (an_analyze(objs, files.n, &r) < 0) {
		pack_fail(why, n, "out of memory");
		goto out;
	}
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	rep.objs = objs;
	rep.kernel_ok = kernel_size(rep.kernel, sizeof(rep.kernel), &rep.ktext, &rep.kloaded) == 0;
	rep.trim_ok = -1;
	if (ao->sizes)
		trimmed_sizes(&rep);
	(ao->json ? print_json : print_text)(&rep);
	status = 0;
	for (unsigned nr = 0; dyn && nr < AN_NR_MAX; nr++)
		if (dyn[nr] && !r.sites[nr])
			status = EXIT_MISSED;
out:
	an_result_free(&r);
	for (size_t i = 0; i < loaded; i++) {
		an_obj_free(&objs[i]);
		free(data[i]);
	}
	free(objs);
	free(data);
	for (size_t i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	return status;
}

int analyze_main(int argc, char **argv)
{
	struct analyze_opts ao = { 0 };
	struct prog_file p;
	static uint64_t dyn[AN_NR_MAX];
	char why[1024] = "";
	struct timespec t0;
	int i, status = ELFVM_EXIT_FAIL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ao.libs = calloc((size_t)argc, sizeof(*ao.libs));
	if (!ao.libs)
		return ELFVM_EXIT_FAIL;
	i = parse(argc, argv, &ao);
	if (i <= 0) {
		free(ao.libs);
		return i == 0 ? 0 : ELFVM_EXIT_FAIL;
	}
	if (ao.profile && profile_read(ao.profile, dyn, &ao.beyond, why, sizeof(why)) < 0) {
		fprintf(stderr, "elfvm analyze: %s\n", why);
		free(ao.libs);
		return ELFVM_EXIT_FAIL;
	}
	if (prog_load(argv[i], &p, why, sizeof(why)) < 0) {
		fprintf(stderr, "elfvm analyze: %s\n", why);
		free(ao.libs);
		return ELFVM_EXIT_FAIL;
	}
	fflush(stdout);
	int r = analyze(&p, &ao, ao.profile ? dyn : NULL, why, sizeof(why), t0);
	if (r < 0)
		fprintf(stderr, "elfvm analyze: %s\n", why);
	else
		status = r;
	prog_free(&p);
	free(ao.libs);
	return status;
}
