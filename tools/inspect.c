/* SPDX-License-Identifier: MIT */
/*
 * Finds the program the user named, reads it whole and decides whether
 * elfvm can run it: the headers are checked by loader/elf.c (exactly the
 * code the kernel runs), then libelf reads what the host side needs to
 * know, for now only PT_INTERP.  It never modifies the file and never
 * follows DT_NEEDED yet; packing libraries is the packer's job when
 * dynamic programs are supported (DESIGN §6).
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
		if ((size_t)snprintf(out, n, "%.*s%s%s", (int)len, dir, len ? "/" : "",
				     name) < n && is_exec_file(out))
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
		if (ph.p_offset > p->size || ph.p_filesz == 0 ||
		    ph.p_filesz > p->size - ph.p_offset ||
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
	/* Until the packer adds the interpreter and the DT_NEEDED closure. */
	if (p->interp) {
		fail(why, n, name, "dynamically linked executables are not "
		     "supported yet (needs PT_INTERP support)");
		goto bad;
	}
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
