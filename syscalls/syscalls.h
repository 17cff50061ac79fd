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

#define SC_DEF(name, params, args) \
	static long do_sys_##name params; \
	long sys_##name(const struct regs *r); \
	long sys_##name(const struct regs *r) \
	{ \
		(void)r; \
		return do_sys_##name args; \
	} \
	static long do_sys_##name params

#define SYSCALL_DEFINE0(name) SC_DEF(name, (void), ())
#define SYSCALL_DEFINE1(name, t1, a1) SC_DEF(name, (t1 a1), ((t1)r->rdi))
#define SYSCALL_DEFINE2(name, t1, a1, t2, a2) SC_DEF(name, (t1 a1, t2 a2), ((t1)r->rdi, (t2)r->rsi))
#define SYSCALL_DEFINE3(name, t1, a1, t2, a2, t3, a3) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3), ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx))
#define SYSCALL_DEFINE4(name, t1, a1, t2, a2, t3, a3, t4, a4) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3, t4 a4), ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx, (t4)r->r10))
#define SYSCALL_DEFINE5(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5), \
	       ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx, (t4)r->r10, (t5)r->r8))
#define SYSCALL_DEFINE6(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6) \
	SC_DEF(name, (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5, t6 a6), \
	       ((t1)r->rdi, (t2)r->rsi, (t3)r->rdx, (t4)r->r10, (t5)r->r8, (t6)r->r9))

/* Handlers that need the saved registers themselves (clone, rt_sigreturn,
 * sigaltstack) get them as r. */
#define SYSCALL_DEFINE_R0(name) SC_DEF(name, (struct regs * r), ((struct regs *)r))
#define SYSCALL_DEFINE_R2(name, t1, a1, t2, a2) \
	SC_DEF(name, (struct regs * r, t1 a1, t2 a2), ((struct regs *)r, (t1)r->rdi, (t2)r->rsi))
#define SYSCALL_DEFINE_R5(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) \
	SC_DEF(name, (struct regs * r, t1 a1, t2 a2, t3 a3, t4 a4, t5 a5), \
	       ((struct regs *)r, (t1)r->rdi, (t2)r->rsi, (t3)r->rdx, (t4)r->r10, (t5)r->r8))

/* ---- dispatch.c ---------------------------------------------------------- */
void syscalls_init(void);
/* Logs what each of the program's threads is doing (elfvm.ctl "threads"). */
void syscalls_dump_threads(void);
/* Called by the entry code with the saved registers; puts the result in
 * rax.  Returns nonzero when every register must be restored from *r (a
 * signal frame or rt_sigreturn changed them), not only rax. */
int syscall_dispatch(struct regs *r);

/* ---- fd.c: open files and the file table --------------------------------- */
struct file;
struct inode;
struct file_ops {
	/* Each moves up to u->count bytes between the file and u (the
	 * program's buffer or iovecs, or kernel memory) and returns the bytes
	 * moved or -errno; *off is the position to use and advance (the
	 * file's own, or pread's). */
	long (*read)(struct file *f, struct uio *u, uint64_t *off);
	long (*write)(struct file *f, struct uio *u, uint64_t *off);
	long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
	/* Readiness now: EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR… (NULL: a
	 * file that is always ready for reading and writing, as regular
	 * files are).  Changes are announced by wake_up(file->wq). */
	unsigned (*poll)(struct file *f);
	void (*release)(struct file *f);
	bool seekable; /* lseek and pread work (else -ESPIPE) */
};
/* One open file description, shared by dup'd descriptors. */
struct file {
	const struct file_ops *ops;
	int refs;
	unsigned flags; /* O_ACCMODE and the status flags (O_APPEND, …) */
	uint64_t off;
	struct inode *inode; /* minifs files, directories, devices; else NULL */
	void *priv;          /* the ops' own state */
	size_t priv_len;
	int stream;             /* the console: 0, 1, 2 */
	struct waitq *wq;       /* woken when readiness may have changed, or NULL */
	struct epitem *epitems; /* epoll registrations watching this file (epoll.c) */
};
#define FD_MAX 4096
/* The soft limit of resource res (RLIMIT_*), as setrlimit left it. */
uint64_t rlimit_cur(unsigned res);
/* RLIMIT_NOFILE's soft limit (1024 at start, as Linux), at most FD_MAX (proc.c). */
unsigned fd_limit(void);
void fd_init(void);
/* A new open file with one reference (the caller's), or NULL. */
struct file *file_alloc(const struct file_ops *ops, unsigned flags);
void file_get(struct file *f);
void file_put(struct file *f);
/* flock.c: the last close of f lets go of its flock(2) lock. */
void flock_release(struct file *f);
/* The open file behind fd, or NULL (callers answer -EBADF). */
struct file *fd_get(int fd);
/* Installs f at the lowest free descriptor >= min, taking over the
 * caller's reference; returns the descriptor or -EMFILE. */
long fd_install(struct file *f, int min, bool cloexec);
/* Puts f at exactly fd, closing what was there. */
long fd_install_at(struct file *f, int fd, bool cloexec);
/* Installs a and b (pipe2, socketpair) at the two lowest free descriptors
 * and writes them to ufds[2], taking over both references; on any error
 * neither stays installed.  Returns 0, -EMFILE or -EFAULT. */
long fd_install_pair(struct file *a, struct file *b, int __user *ufds, bool cloexec);
long fd_close(int fd);
bool fd_cloexec(int fd);
void fd_set_cloexec(int fd, bool on);
/* stat for any open file: its inode's, or a pipe's. */
long file_stat(struct file *f, struct stat *st);

/* ---- tty.c: the terminal and elfvm.ctl ----------------------------------- */
/* Reads tty= and winsize= and starts the line discipline when the host's
 * stdin is a terminal. */
void tty_init(void);
bool tty_present(void);
/* A new open file of the terminal for console fd 0, 1 or 2, or NULL when
 * that fd is not the terminal (or out of memory). */
struct file *tty_file_for(int fd);
/* /dev/tty: 0 with *out, or -ENXIO without a controlling terminal. */
long tty_open(unsigned flags, struct file **out);
bool tty_file(const struct file *f);
/* fstat of the terminal: a character device, /dev/pts/0's numbers. */
void tty_stat(struct stat *st);
/* The host terminal's new size: the tty takes it and raises SIGWINCH when
 * it changed (nothing without a terminal).  Any context. */
void tty_host_winsize(unsigned rows, unsigned cols);

/* ---- ctl.c: the elfvm.ctl records ------------------------------------------ */
/* Acts on the host's records from now on (and says @@ctl). */
void ctl_init(void);

/* ---- vfs.c: opening minifs inodes ---------------------------------------- */
struct walk;
/* Opens ino with open(2) flags; returns a new file or -errno. */
long vfs_open(struct inode *ino, unsigned flags, struct file **out);
/* The working directory (a reference is held). */
struct inode *vfs_cwd(void);
void vfs_set_cwd(struct inode *dir);
/* Walks a user path relative to dirfd (AT_FDCWD or a directory fd):
 * copies the path in, then mfs_walk.  0 or -errno. */
long vfs_walk_at(int dirfd, const char __user *upath, int walk_flags, struct walk *w);
/* The file mode creation mask (attr.c). */
unsigned vfs_umask(void);
/* True when the user string is "" (for AT_EMPTY_PATH). */
bool vfs_empty_path(const char __user *upath);

/* ---- futex.c ---------------------------------------------------------------- */
/* Wakes up to n threads waiting on the futex at addr; returns how many. */
int futex_wake_addr(uint64_t addr, int n);

/* ---- pipe.c ------------------------------------------------------------------- */
bool is_pipe(const struct file *f);

/* ---- poll.c: readiness, shared by poll, select and epoll ------------------- */
/* The readiness of f now, EPOLL* bits: its poll op's answer, or
 * EPOLLIN|EPOLLOUT|EPOLLRDNORM|EPOLLWRNORM for a file without one. */
unsigned file_poll(struct file *f);
/* wake_up(q) announcing which readiness (EPOLL* bits, 0: any) may have
 * changed, so that epoll entries waiting for something else stay quiet
 * (Linux's wake-up key).  Safe in any context. */
static inline void poll_wake(struct waitq *q, unsigned key)
{
	wake_up_key(q, key);
}
/* ppoll, pselect6, epoll_pwait: swaps in the user's mask (NULL: none) for
 * the wait; returns 0, -EINVAL (size) or -EFAULT.  poll_sigmask_done puts
 * the old mask back, or after the handler runs when the wait ended with
 * -EINTR (Linux's restore_saved_sigmask_unless). */
long poll_sigmask_set(const uint64_t __user *umask, size_t size, bool *swapped, uint64_t *old);
void poll_sigmask_done(bool swapped, uint64_t old, long result);
/* A monotonic deadline for a relative timeout: 0 for none (ts NULL), 1 (already
 * past) for a zero timeout.  -EINVAL for an invalid timespec. */
long poll_deadline(const struct timespec *ts, uint64_t *deadline);

/* ---- net.c: sockets (the rest of the socket layer is in net.h) ------------ */
struct socket;
/* The socket behind an open file, or NULL when it is not one. */
struct socket *sock_of_file(const struct file *f);

/* ---- epoll.c ---------------------------------------------------------------- */
/* Removes every epoll registration of f; its last reference is going. */
void epoll_file_release(struct file *f);

#endif
