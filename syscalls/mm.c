// SPDX-License-Identifier: MIT
/*
 * Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise.  This file
 * is the policy (argument checks as Linux makes them, where new mappings
 * go); kernel/vm.c keeps the areas and supplies pages on demand.  A file
 * mapping maps minifs's own pages: MAP_SHARED writes reach the file,
 * MAP_PRIVATE copies a page on its first write.  /dev/zero maps as
 * anonymous memory; other devices, pipes and the console answer -ENODEV.
 */
#include "loader/loader.h"
#include "minifs/minifs.h"
#include "kernel/lock.h"
#include "syscalls/syscalls.h"

#define PROT_ALL (PROT_READ | PROT_WRITE | PROT_EXEC)

/* The address space's lock: every change to the VMAs happens under it.
 * (The page-fault path reads them without it: on one CPU with a kernel
 * that is not preempted nothing changes under it; SMP needs a read lock.) */
static struct mutex mm_lock = MUTEX_INIT("mm");

static bool free_range(uint64_t start, uint64_t end)
{
	struct vma *v = vm_first_after(start);

	return !v || v->start >= end;
}

static long brk_locked(uint64_t want)
{
	uint64_t cur = PAGE_UP(program.brk), next = PAGE_UP(want);

	if (want < program.brk_start || want >= USER_TOP)
		return program.brk;
	if (next > cur) {
		if (!free_range(cur, next) ||
		    vm_map(cur, next - cur, PROT_READ | PROT_WRITE, VMA_HEAP) < 0)
			return program.brk;
		loader_gdb_prefault(cur, next - cur); /* under gdb only */
	} else if (next < cur) {
		vm_unmap(next, cur - next);
	}
	program.brk = want;
	return want;
}

/* The file behind fd if it can be mapped with prot: NULL (and 0) for
 * /dev/zero, which maps as anonymous memory. */
static long mappable(int fd, int prot, int type, struct inode **out, bool *maywrite)
{
	struct file *f = fd_get(fd);

	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (!f->inode)
		return -ENODEV;
	unsigned t = f->inode->mode & S_IFMT;
	if (t == S_IFCHR && f->inode->rdev == (1 << 8 | 5))
		return 0;
	if (t != S_IFREG || f->inode->gen)
		return -ENODEV;
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EACCES;
	if (type != MAP_PRIVATE && (prot & PROT_WRITE) && (f->flags & O_ACCMODE) != O_RDWR)
		return -EACCES;
	*out = f->inode;
	*maywrite = (f->flags & O_ACCMODE) == O_RDWR;
	return 0;
}

static long mmap_locked(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
	int type = flags & MAP_TYPE;

	if (!len || (off & (PAGE_SIZE - 1)) ||
	    (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE))
		return -EINVAL;
	if (prot & ~PROT_ALL)
		return -EINVAL;
	struct inode *ino = NULL;
	bool maywrite = false;
	if (!(flags & MAP_ANONYMOUS)) {
		long r = mappable(fd, prot, type, &ino, &maywrite);
		if (r < 0)
			return r;
		if (off / PAGE_SIZE + PAGE_UP(len) / PAGE_SIZE < off / PAGE_SIZE)
			return -EOVERFLOW;
	}
	len = PAGE_UP(len);
	if (!len || len > USER_TOP - USER_MIN)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if ((addr & (PAGE_SIZE - 1)) || addr < USER_MIN || !user_range_ok(addr, len))
			return (addr & (PAGE_SIZE - 1)) ? -EINVAL : -ENOMEM;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) &&
		    !free_range(addr, addr + len))
			return -EEXIST;
	} else {
		addr = PAGE_DOWN(addr);
		if (addr < USER_MIN || !user_range_ok(addr, len) || !free_range(addr, addr + len))
			addr = vm_find_free(len);
		if (!addr)
			return -ENOMEM;
	}
	int vflags = type == MAP_PRIVATE ? 0 : VMA_SHARED | (maywrite ? VMA_MAYWRITE : 0);
	long r = ino ? vm_map_object(addr, len, prot, vflags, &mfs_backing, ino, off / PAGE_SIZE)
		     : vm_map(addr, len, prot, 0);
	if (r < 0)
		return r;
	loader_gdb_prefault(addr, len); /* under gdb only (loader/gdb.c) */
	if (flags & MAP_POPULATE)
		for (uint64_t a = addr; a < addr + len && prot != PROT_NONE; a += PAGE_SIZE)
			if (!vm_populate(a))
				break;
	return addr;
}

static long check_range(uint64_t addr, uint64_t len)
{
	if ((addr & (PAGE_SIZE - 1)) || !user_range_ok(addr, PAGE_UP(len)) || PAGE_UP(len) < len)
		return -EINVAL;
	return 0;
}

static long munmap_locked(uint64_t addr, uint64_t len)
{
	if (!len || check_range(addr, len) < 0)
		return -EINVAL;
	return vm_unmap(addr, PAGE_UP(len));
}

static long mprotect_locked(uint64_t addr, uint64_t len, int prot)
{
	if (check_range(addr, len) < 0 || (prot & ~PROT_ALL))
		return -EINVAL;
	long r = len ? vm_protect(addr, PAGE_UP(len), prot) : 0;
	if (r == 0 && prot != PROT_NONE)
		loader_gdb_prefault(addr, len); /* under gdb only: a thread's stack */
	return r;
}

static long mremap_locked(uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	old_len = PAGE_UP(old_len);
	new_len = PAGE_UP(new_len);
	if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) || check_range(old, old_len) < 0 || !new_len ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL;
	struct vma *v = vm_find(old);
	if (!v || v->end < old + old_len || old_len == 0)
		return -EFAULT;
	if (flags & MREMAP_FIXED) {
		if (check_range(new_addr, new_len) < 0 || new_addr < USER_MIN ||
		    (new_addr < old + old_len && old < new_addr + new_len))
			return -EINVAL;
		long r = vm_move(old, new_addr, MIN(old_len, new_len));
		if (r == 0 && new_len > old_len)
			r = vm_map(new_addr + old_len, new_len - old_len, v->prot, 0);
		return r < 0 ? r : (long)new_addr;
	}
	if (new_len <= old_len) {
		long r = new_len < old_len ? vm_unmap(old + new_len, old_len - new_len) : 0;
		return r < 0 ? r : (long)old;
	}
	if (user_range_ok(old, new_len) && free_range(old + old_len, old + new_len)) {
		long r = vm_map(old + old_len, new_len - old_len, v->prot, v->flags);
		return r < 0 ? r : (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	uint64_t to = vm_find_free(new_len);
	if (!to)
		return -ENOMEM;
	int prot = v->prot;
	long r = vm_move(old, to, old_len);
	if (r == 0)
		r = vm_map(to + old_len, new_len - old_len, prot, 0);
	return r < 0 ? r : (long)to;
}

static long madvise_locked(uint64_t addr, uint64_t len, int advice)
{
	if (check_range(addr, len) < 0)
		return -EINVAL;
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_FREE:
		/* Private anonymous memory reads back as zeroes afterwards. */
		vm_discard(addr, PAGE_UP(len));
		return 0;
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED: return 0; /* hints about paging I/O: there is none */
	case MADV_DONTDUMP: return vm_set_dump(addr, PAGE_UP(len), false); /* kernel/core.c */
	case MADV_DODUMP: return vm_set_dump(addr, PAGE_UP(len), true);
	default: return -EINVAL;
	}
}

/* Shared mappings write straight into the file's pages: nothing to flush. */
SYSCALL_DEFINE3(msync, uint64_t, addr, uint64_t, len, int, flags)
{
	if ((addr & (PAGE_SIZE - 1)) || (flags & ~7) || ((flags & 1) && (flags & 4)))
		return -EINVAL;
	long r = 0;
	for (uint64_t a = addr; a < addr + PAGE_UP(len);) {
		struct vma *v = vm_find(a);
		if (!v)
			return -ENOMEM;
		/* A shared mapping of a volume file: its pages go to the host. */
		if (r == 0 && (v->flags & VMA_SHARED) && v->backing == &mfs_backing)
			r = mfs_remote_writeback(v->obj);
		a = v->end;
	}
	return r;
}

/* Nothing is ever swapped out, so every page is locked in memory already;
 * mlock still faults the range in, as Linux does. */
static long lock_range(uint64_t addr, uint64_t len)
{
	uint64_t start = PAGE_DOWN(addr), end = PAGE_UP(addr + len);

	if (end < start || !user_range_ok(start, end - start))
		return -ENOMEM;
	for (uint64_t a = start; a < end;) {
		struct vma *v = vm_find(a);
		if (!v)
			return -ENOMEM;
		a = v->end;
	}
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		uint8_t b;
		if (copy_from_user(&b, (void *)a, 1) < 0 && vm_find(a)->prot != PROT_NONE)
			return -ENOMEM;
	}
	return 0;
}

SYSCALL_DEFINE2(mlock, uint64_t, addr, uint64_t, len)
{
	return lock_range(addr, len);
}

SYSCALL_DEFINE3(mlock2, uint64_t, addr, uint64_t, len, int, flags)
{
	return flags & ~MLOCK_ONFAULT ? -EINVAL : lock_range(addr, len);
}

SYSCALL_DEFINE2(munlock, uint64_t, addr, uint64_t, len)
{
	(void)addr, (void)len;
	return 0;
}

SYSCALL_DEFINE1(mlockall, int, flags)
{
	return !flags || (flags & ~7) || flags == 4 ? -EINVAL : 0;
}

SYSCALL_DEFINE0(munlockall)
{
	return 0;
}

/* The syscalls, each under the address-space lock. */
SYSCALL_DEFINE1(brk, uint64_t, want)
{
	mutex_lock(&mm_lock);
	long r = brk_locked(want);
	mutex_unlock(&mm_lock);
	return r;
}

SYSCALL_DEFINE6(mmap, uint64_t, addr, uint64_t, len, int, prot, int, flags, int, fd, uint64_t, off)
{
	mutex_lock(&mm_lock);
	long r = mmap_locked(addr, len, prot, flags, fd, off);
	mutex_unlock(&mm_lock);
	return r;
}

SYSCALL_DEFINE2(munmap, uint64_t, addr, uint64_t, len)
{
	mutex_lock(&mm_lock);
	long r = munmap_locked(addr, len);
	mutex_unlock(&mm_lock);
	return r;
}

SYSCALL_DEFINE3(mprotect, uint64_t, addr, uint64_t, len, int, prot)
{
	mutex_lock(&mm_lock);
	long r = mprotect_locked(addr, len, prot);
	mutex_unlock(&mm_lock);
	return r;
}

SYSCALL_DEFINE5(mremap, uint64_t, old, uint64_t, old_len, uint64_t, new_len, int, flags, uint64_t,
		new_addr)
{
	mutex_lock(&mm_lock);
	long r = mremap_locked(old, old_len, new_len, flags, new_addr);
	mutex_unlock(&mm_lock);
	return r;
}

SYSCALL_DEFINE3(madvise, uint64_t, addr, uint64_t, len, int, advice)
{
	mutex_lock(&mm_lock);
	long r = madvise_locked(addr, len, advice);
	mutex_unlock(&mm_lock);
	return r;
}
