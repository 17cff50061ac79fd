/* SPDX-License-Identifier: MIT */
/*
 * A cpio "newc" writer into a growing memory buffer: the image format of
 * elfvm (docs/protocol.md).  Pure code, unit-tested on its own.
 */
#ifndef TOOLS_CPIO_WRITE_H
#define TOOLS_CPIO_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct cpio_out {
	unsigned char *buf;
	size_t len, cap;
	uint32_t next_ino;
};

/* Appends one entry (name without leading "/"; mode includes the file type
 * bits, e.g. 0100755 or 040755).  Returns 0, or -1 when memory runs out
 * (the buffer then holds only whole earlier entries). */
int cpio_add(struct cpio_out *o, const char *name, uint32_t mode, const void *data, size_t size,
	     uint32_t mtime);
/* Adds every missing parent directory of name (mode 040755) first, then
 * the entry itself.  Returns 0 or -1 as cpio_add. */
int cpio_add_path(struct cpio_out *o, const char *name, uint32_t mode, const void *data, size_t size,
		  uint32_t mtime);
/* Appends the TRAILER!!! entry.  Returns 0 or -1. */
int cpio_finish(struct cpio_out *o);
void cpio_free(struct cpio_out *o);

#endif
