/* SPDX-License-Identifier: MIT */
/*
 * Proves that tools/cpio_write.c writes standard cpio "newc" archives: one
 * archive (parent directories, files of awkward sizes, an empty file, a
 * symlink, a long name) is read back with minifs's cpio_next, then listed
 * with the system's `cpio -t` and unpacked with `cpio -i`, and every name,
 * mode and byte must come back.  Also: an entry too big to add leaves the
 * archive as it was, and two archives concatenated read as one.  One line
 * per check, exit 1 on any failure.
 */
#include "minifs/minifs.h"
#include "tools/cpio_write.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#define MTIME 1700000000u


struct want {
	const char *name;
	uint32_t mode;
	const char *data;
	size_t size;
	int implied; /* added by cpio_add_path as a parent, not by the test */
};

static char big[5001]; /* a size that needs padding */

#define LONG "a-name-that-is-rather-long"
static const struct want expect[] = {
	{ "usr", 040755, "", 0, 1 },
	{ "usr/bin", 040755, "", 0, 1 },
	{ "usr/bin/prog", 0100755, big, sizeof(big), 0 },
	{ "usr/bin/empty", 0100644, "", 0, 0 },
	{ "usr/lib64", 040755, "", 0, 0 },
	{ "usr/lib64/ld.so", 0120777, "../lib/ld-2.so", 14, 0 },
	{ ".elfvm", 040755, "", 0, 1 },
	{ ".elfvm/argv", 0100644, "prog\0-l\0", 8, 0 },
	{ ".elfvm/exe", 0100644, "/usr/bin/prog", 13, 0 },
	{ LONG, 040755, "", 0, 1 },
	{ LONG "/and", 040755, "", 0, 1 },
	{ LONG "/and/goes", 040755, "", 0, 1 },
	{ LONG "/and/goes/on-and-on-for-a-while.txt", 0100600, "xyz", 3, 0 },
};
#define NEXPECT (int)(sizeof(expect) / sizeof(expect[0]))

static int build(struct cpio_out *o)
{
	for (int i = 0; i < NEXPECT; i++)
		if (!expect[i].implied && cpio_add_path(o, expect[i].name, expect[i].mode,
							expect[i].data, expect[i].size, MTIME) < 0)
			return -1;
	return cpio_finish(o);
}

/* Compares entry i of cpio_next's walk with what was written. */
static int same_entry(const struct cpio_entry *e, int i, char *why, size_t n)
{
	const struct want *w = &expect[i];
	uint32_t nlink = (w->mode & 0170000) == 040000 ? 2 : 1;

	if (e->namelen != strlen(w->name) || memcmp(e->name, w->name, e->namelen))
		snprintf(why, n, "entry %d: expected name %s got %.*s", i, w->name, (int)e->namelen,
			 e->name);
	else if (e->mode != w->mode || e->size != w->size || e->mtime != MTIME)
		snprintf(why, n, "%s: expected mode %o size %zu got %o %zu", w->name, w->mode, w->size,
			 e->mode, e->size);
	else if (e->size && memcmp(e->data, w->data, e->size))
		snprintf(why, n, "%s: data differs", w->name);
	else if (e->nlink != nlink || e->uid || e->gid)
		snprintf(why, n, "%s: expected nlink %u uid 0 got %u %u", w->name, nlink, e->nlink,
			 e->uid);
	else
		return 1;
	return 0;
}

/* Walks buf with cpio_next and checks it holds copies times expect[]. */
static void check_walk(const char *test, const void *buf, size_t len, int copies)
{
	struct cpio_entry e;
	const char *err = NULL;
	char why[512] = "";
	size_t off = 0;
	int i = 0, r;

	while ((r = cpio_next(buf, len, &off, &e, &err)) == 1) {
		if (i >= NEXPECT * copies) {
			snprintf(why, sizeof(why), "more than %d entries", NEXPECT * copies);
			break;
		}
		if (!same_entry(&e, i % NEXPECT, why, sizeof(why)))
			break;
		i++;
	}
	if (r < 0)
		snprintf(why, sizeof(why), "cpio_next failed after %d entries: %s", i, err);
	else if (!why[0] && i != NEXPECT * copies)
		snprintf(why, sizeof(why), "expected %d entries got %d", NEXPECT * copies, i);
	report(test, why[0] ? why : NULL);
}

/* `cpio -t` must list exactly the names written, in order. */
static void check_cpio_list(const char *archive)
{
	char cmd[PATH_MAX + 64], line[512], why[600] = "";
	FILE *p;
	int i = 0;

	snprintf(cmd, sizeof(cmd), "cpio -t --quiet < '%s' 2>&1", archive);
	p = popen(cmd, "r");
	if (!p) {
		report("system_cpio_lists_names", "cannot run cpio");
		return;
	}
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!why[0] && (i >= NEXPECT || strcmp(line, expect[i].name)))
			snprintf(why, sizeof(why), "line %d: expected %s got %s", i + 1,
				 i < NEXPECT ? expect[i].name : "(end)", line);
		i++;
	}
	if (pclose(p) != 0 && !why[0])
		snprintf(why, sizeof(why), "cpio -t failed");
	if (!why[0] && i != NEXPECT)
		snprintf(why, sizeof(why), "expected %d names got %d", NEXPECT, i);
	report("system_cpio_lists_names", why[0] ? why : NULL);
}

/* One unpacked entry: its type, permissions and content. */
static int same_file(const char *dir, const struct want *w, char *why, size_t n)
{
	char path[2 * PATH_MAX], buf[8192];
	struct stat st;
	ssize_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, w->name);
	if (lstat(path, &st) < 0)
		return snprintf(why, n, "%s: not unpacked", w->name), 0;
	if ((st.st_mode & 0170000) != (w->mode & 0170000) ||
	    ((w->mode & 0170000) != 0120000 && (st.st_mode & 07777) != (w->mode & 07777)))
		return snprintf(why, n, "%s: expected mode %o got %o", w->name, w->mode, st.st_mode), 0;
	if ((w->mode & 0170000) == 0120000) {
		len = readlink(path, buf, sizeof(buf));
	} else if ((w->mode & 0170000) == 0100000 && (f = fopen(path, "rb"))) {
		len = (ssize_t)fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	if (len != (ssize_t)w->size || memcmp(buf, w->data, w->size))
		return snprintf(why, n, "%s: content differs", w->name), 0;
	return 1;
}

/* `cpio -i` must unpack every entry with its mode and bytes. */
static void check_cpio_unpack(const char *archive, const char *dir)
{
	char cmd[2 * PATH_MAX + 64], why[600] = "";

	snprintf(cmd, sizeof(cmd), "cd '%s' && cpio -idm --quiet < '%s'", dir, archive);
	if (system(cmd) != 0)
		snprintf(why, sizeof(why), "cpio -i failed");
	for (int i = 0; i < NEXPECT && !why[0]; i++)
		same_file(dir, &expect[i], why, sizeof(why));
	report("system_cpio_unpacks_same_bytes", why[0] ? why : NULL);
}

/* An entry that cannot be added leaves the archive exactly as it was. */
static void check_too_big(struct cpio_out *o)
{
	size_t len = o->len;
	int r = cpio_add(o, "huge", 0100644, big, (size_t)UINT32_MAX + 1, MTIME);

	report("too_big_entry_refused_whole",
	       (r == -1 && o->len == len) ? NULL : "expected -1 and an unchanged length");
}

/* Two archives, zero padding between them, read as one (as initramfs). */
static void check_concat(const struct cpio_out *a, const struct cpio_out *b)
{
	size_t len = a->len + 508 + b->len;
	unsigned char *buf = calloc(1, len);

	if (!buf) {
		report("concatenated_archives_read_as_one", "out of memory");
		return;
	}
	memcpy(buf, a->buf, a->len);
	memcpy(buf + a->len + 508, b->buf, b->len);
	check_walk("concatenated_archives_read_as_one", buf, len, 2);
	free(buf);
}

int main(void)
{
	struct cpio_out o = { 0 }, two = { 0 };
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX], archive[PATH_MAX + 16], cmd[3 * PATH_MAX];
	FILE *f;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 1);
	umask(0);
	report("build_archive",
	       (build(&o) == 0 && o.len % 4 == 0)
		       ? NULL
		       : "cpio_add_path or cpio_finish failed, or length not 4-aligned");
	check_walk("cpio_next_reads_back", o.buf, o.len, 1);
	check_too_big(&o);

	report("build_second_archive", (build(&two) == 0) ? NULL : "building it failed");
	check_concat(&o, &two);

	snprintf(dir, sizeof(dir), "%s/test_cpio_write.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		report("mkdtemp", "cannot make a scratch directory");
		return 1;
	}
	snprintf(archive, sizeof(archive), "%s.cpio", dir);
	f = fopen(archive, "wb");
	report("write_archive_file",
	       (f && fwrite(o.buf, 1, o.len, f) == o.len && fclose(f) == 0) ? NULL : archive);
	check_cpio_list(archive);
	check_cpio_unpack(archive, dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, archive);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);

	cpio_free(&o);
	cpio_free(&two);
	report("cpio_free_resets", (o.buf == NULL && o.len == 0) ? NULL : "buffer left behind");
	return unit_done("test_cpio_write");
}
