/* SPDX-License-Identifier: MIT */
/*
 * Writes cpio "newc" archives (magic 070701, the initramfs format) into a
 * growing memory buffer; this is how `elfvm run` and `elfvm pack` build an
 * image (docs/protocol.md).  It only appends: it never reads files, and the
 * one look back it does is a walk over its own headers to learn which
 * directories are already present.  The reader is minifs/cpio.c.
 */
#include "tools/cpio_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEWC_HDR 110 /* "070701" and 13 fields of 8 hex digits */
#define PAD4(n) (((n) + 3) & ~(size_t)3)

/* Makes room for need more bytes.  Returns 0, or -1 when memory runs out. */
static int reserve(struct cpio_out *o, size_t need)
{
	size_t cap = o->cap ? o->cap : 4096;
	unsigned char *p;

	if (need > SIZE_MAX / 2 - o->len)
		return -1;
	while (cap < o->len + need)
		cap *= 2;
	if (cap == o->cap)
		return 0;
	p = realloc(o->buf, cap);
	if (!p)
		return -1;
	o->buf = p;
	o->cap = cap;
	return 0;
}

static void put_hex(unsigned char *p, uint32_t v)
{
	static const char digits[] = "0123456789ABCDEF";

	for (int i = 7; i >= 0; i--, v >>= 4)
		p[i] = digits[v & 0xf];
}

int cpio_add(struct cpio_out *o, const char *name, uint32_t mode, const void *data, size_t size,
	     uint32_t mtime)
{
	size_t namesize = strlen(name) + 1;
	size_t total = PAD4(NEWC_HDR + namesize) + PAD4(size);
	uint32_t field[13];
	unsigned char *p;

	if (size > UINT32_MAX || namesize > UINT32_MAX || reserve(o, total) < 0)
		return -1;
	if (o->next_ino == 0)
		o->next_ino = 1; /* inode 0 belongs to the trailer */
	field[0] = strcmp(name, "TRAILER!!!") ? o->next_ino++ : 0;
	field[1] = mode;
	field[2] = field[3] = 0;                        /* uid, gid */
	field[4] = (mode & 0170000) == 0040000 ? 2 : 1; /* nlink */
	field[5] = mtime;
	field[6] = (uint32_t)size;
	field[7] = field[8] = field[9] = field[10] = 0; /* devices */
	field[11] = (uint32_t)namesize;
	field[12] = 0; /* check */

	p = o->buf + o->len;
	memset(p, 0, total);
	memcpy(p, "070701", 6);
	for (int i = 0; i < 13; i++)
		put_hex(p + 6 + 8 * i, field[i]);
	memcpy(p + NEWC_HDR, name, namesize);
	if (size)
		memcpy(p + PAD4(NEWC_HDR + namesize), data, size);
	o->len += total;
	return 0;
}

static uint32_t get_hex(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int c = p[i];
		v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* Is an entry named exactly [name, name+len) already in the archive?  Walks
 * only what cpio_add wrote, so the headers are trusted. */
static int has_entry(const struct cpio_out *o, const char *name, size_t len)
{
	size_t off = 0;

	while (off + NEWC_HDR <= o->len) {
		const unsigned char *h = o->buf + off;
		size_t namesize = get_hex(h + 6 + 8 * 11);
		size_t size = get_hex(h + 6 + 8 * 6);

		if (namesize == len + 1 && !memcmp(h + NEWC_HDR, name, len))
			return 1;
		off += PAD4(NEWC_HDR + namesize) + PAD4(size);
	}
	return 0;
}

int cpio_add_path(struct cpio_out *o, const char *name, uint32_t mode, const void *data, size_t size,
		  uint32_t mtime)
{
	char dir[4096];

	for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
		size_t len = (size_t)(s - name);

		if (len == 0 || len >= sizeof(dir) || has_entry(o, name, len))
			continue;
		memcpy(dir, name, len);
		dir[len] = '\0';
		if (cpio_add(o, dir, 040755, NULL, 0, mtime) < 0)
			return -1;
	}
	return cpio_add(o, name, mode, data, size, mtime);
}

int cpio_finish(struct cpio_out *o)
{
	return cpio_add(o, "TRAILER!!!", 0, NULL, 0, 0);
}

void cpio_free(struct cpio_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
	o->next_ino = 0;
}
