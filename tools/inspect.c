/* SPDX-License-Identifier: MIT */
/*
 * Finds the program the user named, reads it whole and decides whether
 * elfvm can run it: the headers are checked by loader/elf.c (exactly the
 * code the kernel runs), then libelf reads what the host side needs to
 * know: PT_INTERP, and for any object the dynamic section a linker reads
 * (dso_read).  It never modifies a file and does not follow DT_NEEDED:
 * finding the libraries is needed.c's job, packing them pack.c's (DESIGN
 * §6).  Whether a dynamic program may run is run.c's call.
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *why, size_t n, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes "NAME: reason" to why.  Returns -1. */
static int fail(char *why, size_t n, const char *name, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(why, n, "%s: ", name);

	va_start(ap, fmt);
	if (k >= 0 && (size_t)k < n)
		vsnprintf(why + k, n - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_exec_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Looks name up in $PATH as execvp does (an empty entry is the current
 * directory).  Returns 0 with the candidate in out, or -ENOENT. */
static int path_lookup(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	const char *dir, *end;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (dir = path;; dir = end + 1) {
		size_t len;

		end = strchr(dir, ':');
		if (!end)
			end = dir + strlen(dir);
		len = (size_t)(end - dir);
		if ((size_t)snprintf(out, n, "%.*s%s%s", (int)len, dir, len ? "/" : "", name) < n &&
		    is_exec_file(out))
			return 0;
		if (!*end)
			return -ENOENT;
	}
}

/* Reads the whole regular file at p->path into p->data. */
static int read_whole(struct prog_file *p, const char *name, char *why, size_t n)
{
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return fail(why, n, name, "%s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(why, n, name, "not a regular file");
	}
	if (access(p->path, X_OK) < 0 && errno == EACCES) { /* as execve */
		close(fd);
		return fail(why, n, name, "%s", strerror(EACCES));
	}
	p->mode = st.st_mode;
	p->mtime = (uint32_t)st.st_mtime;
	p->data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!p->data) {
		close(fd);
		return fail(why, n, name, "out of memory reading it");
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, p->data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return fail(why, n, name, "%s", r ? strerror(errno) : "file shrank while read");
		}
		got += (size_t)r;
	}
	p->size = got;
	close(fd);
	return 0;
}

/* Sets p->interp from PT_INTERP, read with libelf.  The string must lie
 * inside the file and end in NUL. */
static int find_interp(struct prog_file *p, const char *name, char *why, size_t n)
{
	Elf *e;
	size_t phnum;
	int r = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(why, n, name, "libelf: %s", elf_errmsg(-1));
	e = elf_memory((char *)p->data, p->size);
	if (!e || elf_getphdrnum(e, &phnum) < 0) {
		r = fail(why, n, name, "libelf: %s", elf_errmsg(-1));
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (ph.p_offset > p->size || ph.p_filesz == 0 || ph.p_filesz > p->size - ph.p_offset ||
		    p->data[ph.p_offset + ph.p_filesz - 1] != '\0') {
			r = fail(why, n, name, "bad PT_INTERP");
			goto out;
		}
		p->interp = (const char *)p->data + ph.p_offset;
		break;
	}
out:
	if (e)
		elf_end(e);
	return r;
}

int prog_load(const char *name, struct prog_file *p, char *why, size_t n)
{
	char cand[PATH_MAX];
	const char *reason;

	memset(p, 0, sizeof(*p));
	if (!*name)
		return fail(why, n, "''", "no such file");
	if (strchr(name, '/'))
		snprintf(cand, sizeof(cand), "%s", name);
	else if (path_lookup(name, cand, sizeof(cand)) < 0)
		return fail(why, n, name, "not found in PATH");
	if (!realpath(cand, p->path))
		return fail(why, n, name, "%s", strerror(errno));
	if (cand[0] == '/')
		snprintf(p->found, sizeof(p->found), "%s", cand);
	else if (!getcwd(p->found, sizeof(p->found)) ||
		 strlen(p->found) + strlen(cand) + 2 > sizeof(p->found))
		snprintf(p->found, sizeof(p->found), "%s", p->path);
	else
		strcat(strcat(p->found, "/"), cand);
	if (read_whole(p, name, why, n) < 0)
		goto bad;
	if (p->size >= 2 && p->data[0] == '#' && p->data[1] == '!') {
		fail(why, n, name, "a #! script, not an ELF executable");
		goto bad;
	}
	reason = elf_check(p->data, p->size, &p->elf);
	if (reason) {
		fail(why, n, name, "%s", reason);
		goto bad;
	}
	if (find_interp(p, name, why, n) < 0)
		goto bad;
	return 0;
bad:
	prog_free(p);
	return -1;
}

void prog_free(struct prog_file *p)
{
	free(p->data);
	p->data = NULL;
	p->interp = NULL;
	p->size = 0;
}

/* ---- what a dynamic linker reads ------------------------------------------- */

/* The file offset of vaddr through the PT_LOAD segments, or -1. */
static int64_t vaddr_offset(Elf *e, size_t phnum, uint64_t vaddr)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr &&
		    vaddr - ph.p_vaddr < ph.p_filesz)
			return (int64_t)(ph.p_offset + (vaddr - ph.p_vaddr));
	}
	return -1;
}

/* A copy of the string at off in the dynamic string table, or NULL. */
static char *dyn_string(Elf_Data *str, uint64_t off)
{
	const char *s = str->d_buf;

	if (off >= str->d_size || !memchr(s + off, '\0', str->d_size - off))
		return NULL;
	return strdup(s + off);
}

/* The PT_DYNAMIC entries of e, or NULL when it has none. */
static Elf_Data *dyn_entries(Elf *e, size_t *phnum, size_t *count)
{
	if (elf_getphdrnum(e, phnum) < 0)
		return NULL;
	for (size_t i = 0; i < *phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_DYNAMIC || !ph.p_filesz)
			continue;
		*count = ph.p_filesz / sizeof(Elf64_Dyn);
		return elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_DYN);
	}
	return NULL;
}

int dso_read(Elf *e, struct dso_info *o)
{
	size_t phnum, count = 0, nneeded = 0;
	Elf_Data *d = dyn_entries(e, &phnum, &count), *str;
	uint64_t strtab = 0, strsz = 0, soname = UINT64_MAX, rpath = UINT64_MAX, runpath = UINT64_MAX;
	GElf_Dyn dy;
	int64_t off;

	for (size_t i = 0; d && i < count && gelf_getdyn(d, (int)i, &dy); i++) {
		if (dy.d_tag == DT_NULL)
			break;
		nneeded += dy.d_tag == DT_NEEDED;
		strtab = dy.d_tag == DT_STRTAB ? dy.d_un.d_ptr : strtab;
		strsz = dy.d_tag == DT_STRSZ ? dy.d_un.d_val : strsz;
		soname = dy.d_tag == DT_SONAME ? dy.d_un.d_val : soname;
		rpath = dy.d_tag == DT_RPATH ? dy.d_un.d_val : rpath;
		runpath = dy.d_tag == DT_RUNPATH ? dy.d_un.d_val : runpath;
		if (dy.d_tag == DT_FLAGS_1 && (dy.d_un.d_val & DF_1_NODEFLIB))
			o->nodeflib = 1;
	}
	if (!d)
		return 0;
	off = vaddr_offset(e, phnum, strtab);
	str = off < 0 || !strsz ? NULL : elf_getdata_rawchunk(e, off, strsz, ELF_T_BYTE);
	if (!str)
		return nneeded ? -1 : 0;
	o->needed = calloc(nneeded + 1, sizeof(*o->needed));
	if (!o->needed)
		return -1;
	for (size_t i = 0; i < count && gelf_getdyn(d, (int)i, &dy) && dy.d_tag != DT_NULL; i++)
		if (dy.d_tag == DT_NEEDED && !(o->needed[o->nneeded++] = dyn_string(str, dy.d_un.d_val)))
			return -1;
	o->soname = soname == UINT64_MAX ? NULL : dyn_string(str, soname);
	o->rpath = rpath == UINT64_MAX ? NULL : dyn_string(str, rpath);
	o->runpath = runpath == UINT64_MAX ? NULL : dyn_string(str, runpath);
	if (o->runpath) /* glibc's get-dynamic-info.h: RUNPATH hides RPATH */
		free(o->rpath), o->rpath = NULL;
	return 0;
}

void dso_free(struct dso_info *d)
{
	for (size_t i = 0; i < d->nneeded; i++)
		free(d->needed[i]);
	free(d->needed);
	free(d->soname);
	free(d->rpath);
	free(d->runpath);
	memset(d, 0, sizeof(*d));
}

int dso_kind(int fd)
{
	Elf64_Ehdr h;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h.e_ident, ELFMAG, SELFMAG))
		return -1;
	return h.e_ident[EI_CLASS] == ELFCLASS64 && h.e_ident[EI_DATA] == ELFDATA2LSB &&
	       h.e_machine == EM_X86_64;
}
