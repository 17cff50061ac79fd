/* SPDX-License-Identifier: MIT */
/*
 * cpio_next: walks a cpio "newc" archive (magic 070701, or 070702 whose
 * checksum is ignored), the initramfs format and elfvm's image format
 * (docs/protocol.md).  It copies nothing and trusts no field: every size is
 * checked against the buffer before use.  Padding, TRAILER!!! and the zero
 * bytes between concatenated archives are skipped here; what an entry means
 * (which inode it makes, which earlier one it replaces) is minifs's business.
 */
#include "minifs/minifs.h"

#include <stdbool.h>

#define HDR_LEN 110 /* "070701" and 13 fields of 8 hex digits */
#define NFIELDS 13

/* Field order in the header (Linux usr/gen_init_cpio.c, cpio(5)). */
enum {
	F_INO,
	F_MODE,
	F_UID,
	F_GID,
	F_NLINK,
	F_MTIME,
	F_FILESIZE,
	F_DEVMAJOR,
	F_DEVMINOR,
	F_RDEVMAJOR,
	F_RDEVMINOR,
	F_NAMESIZE,
	F_CHECK
};

static const char trailer[] = "TRAILER!!!";

static size_t align4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

static bool same(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Parses 8 hex digits (either case). */
static bool hex8(const char *s, uint32_t *v)
{
	uint32_t x = 0;
	int i, d;

	for (i = 0; i < 8; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return false;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return true;
}

/*
 * Skips the zero bytes that pad one archive or separate two.  A header must
 * then start 4-aligned (offsets count from buf, as Linux's initramfs
 * unpacker counts from the start of the image).
 */
static const char *skip_zeros(const char *b, size_t len, size_t *off)
{
	while (*off < len && b[*off] == 0)
		(*off)++;
	if (*off < len && (*off & 3))
		return "cpio: junk between entries (header not 4-byte aligned)";
	return NULL;
}

/* The magic first, so that junk reads as junk however short it is. */
static const char *parse_header(const char *h, size_t avail, uint32_t *f)
{
	size_t m = avail < 6 ? avail : 6;
	int i;

	if (!same(h, "070701", m) && !same(h, "070702", m))
		return "cpio: bad magic (not a newc archive)";
	if (avail < HDR_LEN)
		return "cpio: header runs past the end of the archive";
	for (i = 0; i < NFIELDS; i++)
		if (!hex8(h + 6 + 8 * i, &f[i]))
			return "cpio: header field is not 8 hex digits";
	return NULL;
}

/* Leading "/" and "./" go, as many as there are; "." alone is the root
 * itself, an empty name. */
static void strip_name(struct cpio_entry *e)
{
	for (;;) {
		if (e->namelen >= 1 && e->name[0] == '/') {
			e->name++, e->namelen--;
		} else if (e->namelen >= 2 && same(e->name, "./", 2)) {
			e->name += 2, e->namelen -= 2;
		} else if (e->namelen == 1 && e->name[0] == '.') {
			e->name++, e->namelen--;
		} else {
			return;
		}
	}
}

/* The name after the header: inside the buffer, ends in its only NUL. */
static const char *take_name(const char *b, size_t len, size_t at, uint32_t namesize,
			     struct cpio_entry *e)
{
	size_t n;

	if (namesize == 0)
		return "cpio: name size is 0";
	if (namesize > len - at)
		return "cpio: name runs past the end of the archive";
	if (b[at + namesize - 1] != 0)
		return "cpio: name is not NUL-terminated";
	for (n = 0; b[at + n]; n++)
		;
	if (n + 1 != namesize)
		return "cpio: name contains a NUL byte";
	e->name = b + at;
	e->namelen = n;
	return NULL;
}

/* The data after the 4-aligned name; the final padding may be missing. */
static const char *take_data(const char *b, size_t len, size_t at, uint32_t size, struct cpio_entry *e,
			     size_t *next)
{
	size_t data = align4(at);

	if (size && (data > len || size > len - data))
		return "cpio: file data runs past the end of the archive";
	if (data > len)
		data = len;
	e->data = b + data;
	e->size = size;
	*next = align4(data + size);
	if (*next > len)
		*next = len;
	return NULL;
}

/* One entry at *off (a header is known to start there). */
static const char *read_entry(const char *b, size_t len, size_t *off, struct cpio_entry *e)
{
	uint32_t f[NFIELDS];
	size_t next;
	const char *why;

	why = parse_header(b + *off, len - *off, f);
	if (!why)
		why = take_name(b, len, *off + HDR_LEN, f[F_NAMESIZE], e);
	if (!why)
		why = take_data(b, len, *off + HDR_LEN + f[F_NAMESIZE], f[F_FILESIZE], e, &next);
	if (why)
		return why;
	e->mode = f[F_MODE];
	e->uid = f[F_UID];
	e->gid = f[F_GID];
	e->nlink = f[F_NLINK];
	e->mtime = f[F_MTIME];
	*off = next;
	return NULL;
}

int cpio_next(const void *buf, size_t len, size_t *off, struct cpio_entry *e, const char **why)
{
	const char *b = buf;

	*why = NULL;
	if (*off > len) {
		*why = "cpio: offset past the end of the archive";
		return -1;
	}
	for (;;) {
		*why = skip_zeros(b, len, off);
		if (*why)
			return -1;
		if (*off == len)
			return 0;
		*why = read_entry(b, len, off, e);
		if (*why)
			return -1;
		if (e->namelen == sizeof(trailer) - 1 && same(e->name, trailer, e->namelen))
			continue;
		strip_name(e);
		return 1;
	}
}
