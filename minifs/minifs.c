// SPDX-License-Identifier: MIT
/*
 * The image's files, served in place: at boot every cpio entry is indexed
 * once (a later entry with the same name replaces an earlier one, as in
 * Linux's initramfs) and lookups compare paths.  File data is not copied.
 * This is the read-only first step; the page-backed writable tree with
 * directories and /dev, /proc, /sys comes with the file syscalls.
 */
#include "kernel/kernel.h"
#include "minifs/minifs.h"

static struct mfs_file *files;
static size_t nfiles;

static struct mfs_file *find(const char *path)
{
	for (size_t i = 0; i < nfiles; i++)
		if (strcmp(files[i].path, path) == 0)
			return &files[i];
	return NULL;
}

static void add(const struct cpio_entry *e)
{
	char *path = kmalloc(e->namelen + 2);

	if (!path)
		vm_exit_error("out of memory indexing the image");
	path[0] = '/';
	memcpy(path + 1, e->name, e->namelen);
	path[e->namelen + 1] = 0;
	struct mfs_file *f = find(path);
	if (f) {
		kfree(path);
		path = (char *)f->path;
	} else {
		f = &files[nfiles++];
	}
	*f = (struct mfs_file){ path, e->mode, e->mtime, e->data, e->size };
}

void mfs_init(const void *image, size_t size)
{
	struct cpio_entry e;
	const char *why = NULL;
	size_t off = 0, n = 0;
	int r;

	while ((r = cpio_next(image, size, &off, &e, &why)) == 1)
		n++;
	if (r < 0)
		vm_exit_error("the image is not a valid cpio archive: %s", why);
	files = kmalloc((n + 1) * sizeof(*files));
	if (!files)
		vm_exit_error("out of memory indexing the image");
	for (off = 0; cpio_next(image, size, &off, &e, &why) == 1;)
		add(&e);
	kdebug("image: %lu entries, %lu bytes", nfiles, size);
}

const struct mfs_file *mfs_lookup(const char *path)
{
	return find(path);
}
