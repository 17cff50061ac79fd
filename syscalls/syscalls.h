/* SPDX-License-Identifier: MIT */
/*
 * The Linux ABI layer: the syscall table (table.h), the dispatcher and the
 * handler families, one per file.  Handlers are written with
 * SYSCALL_DEFINEn, take typed arguments and return a value >= 0 or exactly
 * -errno; program pointers cross only through copy_{from,to}_user.
 */
#ifndef SYSCALLS_SYSCALLS_H
#define SYSCALLS_SYSCALLS_H

#include "kernel/abi.h"
#include "kernel/kernel.h"

#define SC_DEF(name, params, args)                                    \
	static long do_sys_##name params;                             \
	long sys_##name(const struct regs *r);                        \
	long sys_##name(const struct regs *r)                         \
	{                                                             \
		(void)r;                                              \
		return do_sys_##name args;                            \
	}                                                             \
	static long do_sys_##name params

#define SYSCALL_DEFINE0(name) SC_DEF(name, (void), ())
#define SYSCALL_DEFINE1(name, t1, a1) SC_DEF(name, (t1 a1), ((t1)r->rdi))
#define SYSCALL_DEFINE2(name, t1, a1, t2, a2) \
	SC_DEF(name, (t1 a1, t2 a2), ((t1)r->rdi, (t2)r->rsi))
#define SYSCALL_DEFINE3(name, t1, a1, t2, a2, t3, a3) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3), ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx))
#define SYSCALL_DEFINE4(name, t1, a1, t2, a2, t3, a3, t4, a4) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3, t4 a4),            \
	       ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx, (t4)r->r10))
#define SYSCALL_DEFINE5(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5),             \
	       ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx, (t4)r->r10, (t5)r->r8))
#define SYSCALL_DEFINE6(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5, t6 a6),              \
	       ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx, (t4)r->r10, (t5)r->r8, (t6)r->r9))

/* ---- dispatch.c ---------------------------------------------------------- */
void syscalls_init(void);
/* Called by the entry code with the saved registers; puts the result in rax. */
void syscall_dispatch(struct regs *r);

/* ---- fd.c: the file table ------------------------------------------------- */
struct file;
struct file_ops {
	long (*read)(struct file *f, char __user *buf, size_t len);
	long (*write)(struct file *f, const char __user *buf, size_t len);
	long (*stat)(struct file *f, struct stat *st);
	long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
};
struct file {
	const struct file_ops *ops;
	int stream;          /* console: 1 or 2 */
	const char *data;    /* stdin: the bytes the host gave */
	size_t size, off;
	int refs;
};
#define FD_MAX 1024
void fd_init(void);
/* The open file behind fd, or NULL (callers answer -EBADF). */
struct file *fd_get(int fd);
long fd_close(int fd);

#endif
