/* SPDX-License-Identifier: MIT */
/*
 * Proves that cpio_next reads every newc archive the image may be and
 * refuses every malformed one with its reason.  Archives are written by
 * hand here (files, directories, symlinks, 070702, concatenation, odd
 * names, padding), by the system's own `cpio -o` (the oracle), and by
 * tools/cpio_write.c when it is linked in (a round trip).  Each malformed
 * archive changes one field of a good one.  Exit 1 on any failure.
 */
#include "minifs/minifs.h"
#include "tools/cpio_write.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

/* The writer is linked only when tools/cpio_write.c exists. */
#pragma weak cpio_add
#pragma weak cpio_add_path
#pragma weak cpio_finish
#pragma weak cpio_free

/* ---- writing archives by hand ------------------------------------------- */
struct arc {
	char b[1 << 16];
	size_t len;
};

/* Field i of the header at off (0 ino … 6 filesize … 11 namesize, 12 check). */
static char *field(struct arc *a, size_t off, int i)
{
	return a->b + off + 6 + 8 * i;
}

static void pad4(struct arc *a)
{
	while (a->len & 3)
		a->b[a->len++] = 0;
}

/* Appends one entry with magic 070701/070702; returns its offset. */
static size_t add(struct arc *a, const char *magic, uint32_t mode, const char *name, const void *data,
		  size_t size)
{
	size_t off = a->len, nsz = strlen(name) + 1;
	char h[160];

	snprintf(h, sizeof(h), "%.6s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic, 7,
		 mode, 1000, 100, 1, 1700000000, (unsigned)size, 0, 0, 0, 0, (unsigned)nsz, 0);
	memcpy(a->b + a->len, h, 110);
	a->len += 110;
	memcpy(a->b + a->len, name, nsz);
	a->len += nsz;
	pad4(a);
	memcpy(a->b + a->len, data, size);
	a->len += size;
	pad4(a);
	return off;
}

static void trailer(struct arc *a)
{
	add(a, "070701", 0, "TRAILER!!!", "", 0);
}

/* What one entry should read as. */
struct ent {
	const char *name;
	uint32_t mode;
	const char *data;
	size_t size;
};

/* Walks the archive and compares every entry, then expects the end. */
static const char *walk(const void *buf, size_t len, const struct ent *want, int n)
{
	struct cpio_entry e;
	const char *why;
	size_t off = 0;
	int i, r;

	for (i = 0; i <= n; i++) {
		r = cpio_next(buf, len, &off, &e, &why);
		if (i == n)
			return r == 0 ? NULL
				      : err("after %d entries got %d (%s)", n, r,
					    why ? why : "an entry");
		if (r != 1)
			return err("entry %d: got %d (%s)", i, r, why ? why : "end");
		if (e.namelen != strlen(want[i].name) || memcmp(e.name, want[i].name, e.namelen))
			return err("entry %d: name \"%.*s\", expected \"%s\"", i, (int)e.namelen, e.name,
				   want[i].name);
		if (e.mode != want[i].mode || e.size != want[i].size ||
		    memcmp(e.data, want[i].data, e.size))
			return err(
				"entry %d (%s): mode %o size %zu, expected "
				"mode %o size %zu and its data",
				i, want[i].name, e.mode, e.size, want[i].mode, want[i].size);
	}
	if (cpio_next(buf, len, &off, &e, &why) != 0)
		return "a second call at the end did not return 0 again";
	return NULL;
}

/* Expects the archive to fail, after n good entries, with reason want.
 * It is read from an exact-size copy so that ASan sees any overread. */
static const char *refuse(const struct arc *a, int n, const char *want)
{
	struct cpio_entry e;
	const char *why = NULL;
	char *copy = malloc(a->len ? a->len : 1);
	size_t off = 0;
	int i, r = 1;

	memcpy(copy, a->b, a->len);
	for (i = 0; i <= n && r == 1; i++)
		r = cpio_next(copy, a->len, &off, &e, &why);
	free(copy);
	if (r != -1 || i != n + 1)
		return err("expected -1 after %d entries, got %d at entry %d", n, r, i - 1);
	if (!why || strcmp(why, want))
		return err("expected \"%s\" got \"%s\"", want, why ? why : "(null)");
	return NULL;
}

/* ---- hand-written archives ----------------------------------------------- */
static const struct ent GOOD[] = {
	{ "", 040755, "", 0 },           /* "." */
	{ "hello", 0100644, "hi\n", 3 }, /* "./hello" */
	{ "etc/passwd", 0100644, "root:x:0:0::/root:/bin/sh\n", 26 },
	{ "usr", 040755, "", 0 },
	{ "usr/lib64", 0120777, "lib", 3 }, /* a symlink to "lib" */
	{ "a1", 0100600, "x", 1 },
	{ "a2", 0100600, "xy", 2 },
	{ "a4", 0100600, "abcd", 4 },
	{ "a5", 0100600, "abcde", 5 },
	{ "empty", 0100644, "", 0 },
};
#define NGOOD ((int)(sizeof(GOOD) / sizeof(GOOD[0])))
static const char *const RAW[NGOOD] = { ".",  "./hello", "/etc/passwd", "usr", "usr/lib64",
					"a1", "a2",      "a4",          "a5",  "empty" };

static size_t offs[NGOOD]; /* where make_good put each header */

static void make_good(struct arc *a, const char *magic, int with_trailer)
{
	int i;

	a->len = 0;
	for (i = 0; i < NGOOD; i++)
		offs[i] = add(a, magic, GOOD[i].mode, RAW[i], GOOD[i].data, GOOD[i].size);
	if (with_trailer)
		trailer(a);
}

static void set_field(struct arc *a, int entry, int i, const char *hex8)
{
	memcpy(field(a, offs[entry], i), hex8, 8);
}

/* Lower-cases the 13 hex fields of every header make_good wrote. */
static void lower_hex(struct arc *a)
{
	char *p;
	int i;

	for (i = 0; i < NGOOD; i++)
		for (p = field(a, offs[i], 0); p < a->b + offs[i] + 110; p++)
			if (*p >= 'A' && *p <= 'F')
				*p += 'a' - 'A';
}

static void case_good(void)
{
	static const struct ent last = { "last", 0100644, "abcde", 5 };
	static struct arc a;
	int i;

	make_good(&a, "070701", 1);
	report("files_dirs_symlinks", walk(a.b, a.len, GOOD, NGOOD));
	make_good(&a, "070702", 1);
	for (i = 0; i < NGOOD; i++)
		set_field(&a, i, 12, "DEADBEEF");
	report("crc_070702_checksum_ignored", walk(a.b, a.len, GOOD, NGOOD));
	make_good(&a, "070701", 1);
	lower_hex(&a);
	report("lowercase_hex", walk(a.b, a.len, GOOD, NGOOD));
	make_good(&a, "070701", 0);
	report("no_trailer", walk(a.b, a.len, GOOD, NGOOD));
	a.len = 0;
	add(&a, "070701", last.mode, last.name, last.data, last.size);
	a.len -= 3; /* the data's padding to 8 is cut off */
	report("final_padding_missing", walk(a.b, a.len, &last, 1));
}

/* Two archives back to back, each padded with zeros to 512 as cpio(1)
 * pads, and zeros before the first header too. */
static void case_concatenated(void)
{
	static struct ent both[NGOOD + 2];
	static const struct ent extra[2] = {
		{ "second", 0100755, "2nd archive", 11 },
		{ "hello", 0100644, "replaced", 8 },
	};
	static struct arc a;
	size_t n;

	memcpy(both, GOOD, sizeof(GOOD));
	memcpy(both + NGOOD, extra, sizeof(extra));
	make_good(&a, "070701", 1);
	memset(a.b + a.len, 0, 1024);
	a.len = (a.len + 511) / 512 * 512;
	add(&a, "070701", extra[0].mode, "./second", extra[0].data, extra[0].size);
	add(&a, "070702", extra[1].mode, "/hello", extra[1].data, extra[1].size);
	trailer(&a);
	a.len = (a.len + 511) / 512 * 512;
	report("concatenated_archives", walk(a.b, a.len, both, NGOOD + 2));
	n = a.len;
	memmove(a.b + 16, a.b, n);
	memset(a.b, 0, 16);
	report("zeros_before_first_header", walk(a.b, n + 16, both, NGOOD + 2));
}

/* Names lose every leading "/" and "./"; "." alone is the root (""). */
static void case_names(void)
{
	static const char *const raw[] = {
		"/", "./", "//a", "././b", "./.hidden", "..", "a/./b", "/./c"
	};
	static const char *const want[] = { "", "", "a", "b", ".hidden", "..", "a/./b", "c" };
	struct ent w[8];
	static struct arc a;
	int i;

	a.len = 0;
	for (i = 0; i < 8; i++) {
		w[i] = (struct ent){ want[i], 040755, "", 0 };
		add(&a, "070701", 040755, raw[i], "", 0);
	}
	trailer(&a);
	report("leading_slash_and_dot_stripped", walk(a.b, a.len, w, 8));
}

static void case_empty(void)
{
	static struct arc a;

	report("empty_buffer", walk(a.b, 0, NULL, 0));
	memset(a.b, 0, 512);
	report("only_zeros", walk(a.b, 512, NULL, 0));
	a.len = 0;
	trailer(&a);
	report("trailer_only", walk(a.b, a.len, NULL, 0));
	trailer(&a);
	report("two_trailers", walk(a.b, a.len, NULL, 0));
}

/* ---- malformed archives: one change to a good one each ---------------------- */
#define BAD_MAGIC "cpio: bad magic (not a newc archive)"
#define BAD_HEX "cpio: header field is not 8 hex digits"
#define DATA_PAST "cpio: file data runs past the end of the archive"
#define NAME_PAST "cpio: name runs past the end of the archive"

static void bad(const char *name, int entry, int fld, const char *hex8, int good_before,
		const char *want)
{
	static struct arc a;

	make_good(&a, "070701", 1);
	set_field(&a, entry, fld, hex8);
	report(name, refuse(&a, good_before, want));
}

static void case_malformed_fields(void)
{
	bad("non_hex_g_in_mode", 1, 1, "000081g4", 1, BAD_HEX);
	bad("non_hex_space_in_size", 1, 6, " 0000003", 1, BAD_HEX);
	bad("non_hex_0x_prefix", 2, 0, "0x000007", 2, BAD_HEX);
	bad("non_hex_sign", 3, 11, "-0000004", 3, BAD_HEX);
	bad("non_hex_in_check", 0, 12, "0000000z", 0, BAD_HEX);
	bad("name_size_0", 1, 11, "00000000", 1, "cpio: name size is 0");
	bad("name_size_huge", 1, 11, "FFFFFFFF", 1, NAME_PAST);
	bad("name_size_7fffffff", 1, 11, "7FFFFFFF", 1, NAME_PAST);
	bad("name_not_nul_terminated", 1, 11, "00000007", 1, "cpio: name is not NUL-terminated");
	bad("name_with_inner_nul", 1, 11, "00000009", 1, "cpio: name contains a NUL byte");
	bad("data_size_huge", 2, 6, "FFFFFFFF", 2, DATA_PAST);
	bad("data_size_80000000", 2, 6, "80000000", 2, DATA_PAST);
	bad("data_size_past_end", 2, 6, "00010000", 2, DATA_PAST);
}

static void case_malformed_layout(void)
{
	static struct arc a;
	size_t off = 0;
	struct cpio_entry e;
	const char *why;
	int r;

	make_good(&a, "070701", 1);
	memcpy(a.b, "070707", 6); /* the old portable (odc) format */
	report("odc_magic_070707", refuse(&a, 0, BAD_MAGIC));
	make_good(&a, "070701", 1);
	memcpy(a.b + offs[1], "hello!", 6);
	report("text_instead_of_header", refuse(&a, 1, BAD_MAGIC));
	make_good(&a, "070701", 1);
	a.len = offs[2] + 50;
	report("header_truncated", refuse(&a, 2, "cpio: header runs past the end of the archive"));
	make_good(&a, "070701", 1);
	a.len = offs[2] + 110 + 5; /* inside "/etc/passwd" */
	report("name_truncated", refuse(&a, 2, NAME_PAST));
	make_good(&a, "070701", 1);
	a.len = offs[3] - 4; /* inside the data of "/etc/passwd" */
	report("data_truncated", refuse(&a, 2, DATA_PAST));
	make_good(&a, "070701", 0);
	/* "a5": header and name end at 116; cut the last of 5 data bytes */
	a.len = offs[NGOOD - 2] + 116 + 5 - 1;
	report("data_one_byte_short", refuse(&a, NGOOD - 2, DATA_PAST));
	make_good(&a, "070701", 1);
	a.len = offs[2] + 110 + 11; /* "/etc/passwd" without its NUL */
	report("name_one_byte_short", refuse(&a, 2, NAME_PAST));
	make_good(&a, "070701", 1);
	memset(a.b + a.len, 0, 8);
	a.b[a.len + 5] = '0';
	a.len += 8;
	report("junk_after_trailer_misaligned",
	       refuse(&a, NGOOD,
		      "cpio: junk between entries (header not "
		      "4-byte aligned)"));
	make_good(&a, "070701", 1);
	memcpy(a.b + a.len, "JUNK", 4);
	a.len += 4;
	report("junk_after_trailer_aligned", refuse(&a, NGOOD, BAD_MAGIC));
	off = a.len + 1;
	r = cpio_next(a.b, a.len, &off, &e, &why);
	report("offset_past_end",
	       r == -1 && why &&
			       !strcmp(why,
				       "cpio: offset past the end of "
				       "the archive")
		       ? NULL
		       : "expected -1, offset past the end");
}

/* ---- archives written by other programs --------------------------------- */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int put_file(const char *dir, const char *name, const void *d, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f) || chmod(path, 0644))
		return -1;
	return 0;
}

static char bin[1000]; /* "dir/b.bin": every byte value */

/* The tree every system-cpio case archives, in sorted find(1) order. */
static const struct ent TREE[] = {
	{ "", 040755, "", 0 },           { "a.txt", 0100644, "alpha\n", 6 },
	{ "dir", 040755, "", 0 },        { "dir/b.bin", 0100644, bin, sizeof(bin) },
	{ "dir/empty", 0100644, "", 0 }, { "dir/sub", 040755, "", 0 },
	{ "link", 0120777, "a.txt", 5 },
};

static int make_tree(const char *d)
{
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7);
	snprintf(path, sizeof(path), "%s/dir", d);
	if (mkdir(path, 0755) || chmod(path, 0755) || chmod(d, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/dir/sub", d);
	if (mkdir(path, 0755) || chmod(path, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/link", d);
	if (symlink("a.txt", path))
		return -1;
	return put_file(d, "a.txt", "alpha\n", 6) || put_file(d, "dir/b.bin", bin, sizeof(bin)) ||
	       put_file(d, "dir/empty", "", 0);
}

/* Archives the tree with `cpio -o -H fmt` and walks the result. */
static void case_system_cpio(const char *name, const char *fmt)
{
	char dir[] = "/tmp/test_cpio.XXXXXX", cmd[1024], out[600];
	const char *why = NULL;
	size_t len = 0;
	char *buf;

	if (system("command -v cpio >/dev/null 2>&1") != 0) {
		printf("ok - %s # SKIP cpio(1) is not installed\n", name);
		return;
	}
	if (!mkdtemp(dir) || make_tree(dir)) {
		report(name, "could not make the temporary tree");
		return;
	}
	snprintf(out, sizeof(out), "%s.cpio", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && find . | LC_ALL=C sort | cpio -o -H %s --quiet "
		 "> %s",
		 dir, fmt, out);
	if (system(cmd) != 0 || !(buf = slurp(out, &len))) {
		why = "cpio -o failed";
	} else {
		why = walk(buf, len, TREE, sizeof(TREE) / sizeof(TREE[0]));
		free(buf);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, out);
	if (system(cmd) != 0 && !why)
		why = "could not remove the temporary tree";
	report(name, why);
}

/* tools/cpio_write.c's archives read back as written (when linked). */
static void case_writer(void)
{
	static const struct ent want[] = {
		{ "usr", 040755, "", 0 },
		{ "usr/bin", 040755, "", 0 },
		{ "usr/bin/prog", 0100755, "\177ELF", 4 },
		{ ".elfvm/exe", 0100644, "/usr/bin/prog", 13 },
	};
	struct cpio_out o = { 0 };
	const char *why;

	if (!cpio_add || !cpio_add_path || !cpio_finish || !cpio_free) {
		printf("ok - writer_round_trip # SKIP tools/cpio_write.c is "
		       "not linked\n");
		return;
	}
	if (cpio_add_path(&o, "usr/bin/prog", 0100755, "\177ELF", 4, 0) ||
	    cpio_add(&o, ".elfvm/exe", 0100644, "/usr/bin/prog", 13, 0) || cpio_finish(&o))
		why = "the writer failed";
	else
		why = walk(o.buf, o.len, want, 4);
	cpio_free(&o);
	report("writer_round_trip", why);
}

int main(void)
{
	case_good();
	case_concatenated();
	case_names();
	case_empty();
	case_malformed_fields();
	case_malformed_layout();
	case_system_cpio("system_cpio_newc", "newc");
	case_system_cpio("system_cpio_crc", "crc");
	case_writer();
	return unit_done("test_cpio");
}
