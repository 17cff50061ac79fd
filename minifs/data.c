// SPDX-License-Identifier: MIT
/*
 * File data: whole pages, found through inode->pages.  A file unpacked from
 * the image reads straight from the image until a page is written or
 * mapped; only then is that page copied into memory of its own.  Pages are
 * shared with mappings through their reference counts, so truncating a
 * mapped file never frees a page a mapping still uses.  Sizes are limited
 * only by memory: a write that finds none answers -ENOSPC, as tmpfs does.
 */
#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "minifs/minifs.h"

#define MAX_FILE_SIZE (1UL << 40)

static bool grow_table(struct inode *ino, uint64_t index)
{
	if (index < ino->npages)
		return true;
	size_t n = MAX(ino->npages * 2, (size_t)16);
	while (n <= index)
		n *= 2;
	uint64_t *t = kzalloc(n * sizeof(*t));
	if (!t)
		return false;
	if (ino->pages)
		memcpy(t, ino->pages, ino->npages * sizeof(*t));
	kfree(ino->pages);
	ino->pages = t;
	ino->npages = n;
	return true;
}

/* The physical page at index, materialised (a zero page for a hole);
 * 0 without memory.  The caller does not own it. */
static uint64_t mfs_page(struct inode *ino, uint64_t index)
{
	if (!grow_table(ino, index))
		return 0;
	if (ino->pages[index])
		return ino->pages[index];
	if (ino->remote) { /* a host file: fetch a run of pages, read ahead */
		uint64_t npages = PAGE_UP(ino->size) / PAGE_SIZE;
		size_t run = npages > index ? MIN(npages - index, 32) : 1;
		if (!grow_table(ino, index + run - 1) || mfs_remote_fill(ino, index, run) < 0)
			return 0;
		return ino->pages[index];
	}
	uint64_t pa = page_alloc(), off = index * PAGE_SIZE;
	if (!pa)
		return 0;
	if (ino->image && off < ino->image_size)
		memcpy(phys_to_virt(pa), ino->image + off, MIN(PAGE_SIZE, ino->image_size - off));
	ino->pages[index] = pa;
	return pa;
}

/* Where the bytes at off live now: a page, the image, or nowhere (zeroes). */
static const uint8_t *source(const struct inode *ino, uint64_t off)
{
	uint64_t index = off / PAGE_SIZE;

	if (index < ino->npages && ino->pages[index])
		return (const uint8_t *)phys_to_virt(ino->pages[index]) + off % PAGE_SIZE;
	if (ino->image && off < ino->image_size)
		return ino->image + off;
	return NULL;
}

long mfs_read(struct inode *ino, struct uio *u, uint64_t off)
{
	if (mfs_remote_volume(ino))
		return mfs_remote_read(ino, u, off);
	if (off >= ino->size)
		return 0;
	size_t len = MIN(u->count, ino->size - off), done = 0;
	while (done < len) {
		uint64_t at = off + done;
		size_t n = MIN(len - done, PAGE_SIZE - at % PAGE_SIZE);
		if (ino->remote && !mfs_page(ino, at / PAGE_SIZE))
			return done ? (long)done : -EIO; /* the host did not answer */
		const uint8_t *src = source(ino, at);
		if (src && ino->image && src >= ino->image && src < ino->image + ino->image_size)
			n = MIN(n, ino->image_size - at);
		long r = src ? uio_copy_out(u, src, n) : uio_zero(u, n);
		if (r < 0)
			return done ? (long)done : r;
		done += r;
		if ((size_t)r < n)
			break;
	}
	return done;
}

long mfs_write(struct inode *ino, struct uio *u, uint64_t off)
{
	size_t len = u->count, done = 0;

	if (mfs_where(ino) != MFS_LOCAL)
		return mfs_remote_write(ino, u, off);
	if (!len)
		return 0;
	if (off > MAX_FILE_SIZE || len > MAX_FILE_SIZE - off)
		return -EFBIG;
	while (done < len) {
		uint64_t at = off + done;
		size_t n = MIN(len - done, PAGE_SIZE - at % PAGE_SIZE);
		uint64_t pa = mfs_page(ino, at / PAGE_SIZE);
		if (!pa)
			break;
		long r = uio_copy_in(u, (char *)phys_to_virt(pa) + at % PAGE_SIZE, n);
		if (r < 0) {
			if (!done)
				return r;
			break;
		}
		done += r;
		ino->size = MAX(ino->size, at + r);
		if ((size_t)r < n)
			break;
	}
	if (done)
		mfs_touch(ino, true);
	return done ? (long)done : -ENOSPC;
}

long mfs_truncate(struct inode *ino, uint64_t size)
{
	if (size > MAX_FILE_SIZE)
		return -EFBIG;
	if (mfs_where(ino) != MFS_LOCAL) {
		long r = mfs_remote_truncate(ino, size);
		if (r < 0)
			return r;
	}
	if (size < ino->size) {
		for (uint64_t i = PAGE_UP(size) / PAGE_SIZE; i < ino->npages; i++) {
			if (ino->pages[i])
				page_free(ino->pages[i]);
			ino->pages[i] = 0;
		}
		uint64_t last = size / PAGE_SIZE;
		if (size % PAGE_SIZE && last < ino->npages && ino->pages[last])
			memset((char *)phys_to_virt(ino->pages[last]) + size % PAGE_SIZE, 0,
			       PAGE_SIZE - size % PAGE_SIZE);
		ino->image_size = MIN(ino->image_size, size);
	}
	ino->size = size;
	mfs_touch(ino, true);
	return 0;
}

static uint64_t backing_page(void *obj, uint64_t index)
{
	struct inode *ino = obj;

	if (index >= PAGE_UP(ino->size) / PAGE_SIZE)
		return 0;
	uint64_t pa = mfs_page(ino, index);
	if (pa)
		page_get(pa);
	return pa;
}

static void backing_get(void *obj)
{
	mfs_get(obj);
}

static void backing_put(void *obj)
{
	mfs_remote_writeback(obj); /* a rw volume file's mapping ends: to the host */
	mfs_put(obj);
}

static const char *backing_name(void *obj, char *buf, size_t size)
{
	const struct inode *ino = obj;

	snprintf(buf, size, "%s", ino->path ? ino->path : "");
	return buf;
}

static uint64_t backing_ino(void *obj)
{
	return ((const struct inode *)obj)->ino;
}

const struct vm_backing mfs_backing = {
	.page = backing_page,
	.get = backing_get,
	.put = backing_put,
	.name = backing_name,
	.ino = backing_ino,
};
