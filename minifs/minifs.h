/* SPDX-License-Identifier: MIT */
/*
 * minifs's public interface.  cpio.c is pure code (host-testable): it walks
 * a "newc" archive without copying anything; minifs.c serves the files.
 */
#ifndef MINIFS_MINIFS_H
#define MINIFS_MINIFS_H

#include <stddef.h>
#include <stdint.h>

/* ---- cpio.c --------------------------------------------------------------- */

struct cpio_entry {
	const char *name;  /* not NUL-terminated: use namelen; leading "/" and
	                      "./" already stripped */
	size_t namelen;
	uint32_t mode;     /* st_mode: type and permission bits */
	uint32_t uid, gid, nlink, mtime;
	const void *data;  /* points into the archive */
	size_t size;
};

/*
 * Reads the entry at *off in the archive [buf, buf+len).  Returns 1 with *e
 * filled and *off moved past the entry; 0 at the end (after the last
 * TRAILER!!! when only zero padding follows, or at len); -1 when the
 * archive is malformed (bad magic, hex field, name or size past the end),
 * with a one-line reason in *why.  Concatenated archives are read as one;
 * TRAILER!!! entries are skipped, never returned.
 */
int cpio_next(const void *buf, size_t len, size_t *off, struct cpio_entry *e,
	      const char **why);

/* ---- minifs.c: the files of the image ------------------------------------ */
/*
 * For now minifs is the image itself, read-only: a table of the cpio's
 * entries looked up by absolute path.  The writable inode tree (directories,
 * tmpfs semantics) replaces it when file syscalls arrive.
 */
struct mfs_file {
	const char *path; /* absolute, NUL-terminated */
	uint32_t mode;
	uint32_t mtime;
	const void *data;
	size_t size;
};
/* Indexes the image; ends the VM with a clear error when it is malformed. */
void mfs_init(const void *image, size_t size);
/* The file at an absolute path, or NULL. */
const struct mfs_file *mfs_lookup(const char *path);

#endif
