// SPDX-License-Identifier: MIT
/* direct_entry: syscalls made as plain function calls through the vDSO's
 * __elfvm_syscall@ELFVM_1 (docs/vdso.md) answer exactly as the `syscall`
 * instruction does.  The program finds the symbol itself, walking the
 * dynamic symbol table and version definitions of the ELF image named by
 * AT_SYSINFO_EHDR; on Linux it is absent and every call goes through
 * syscall(2) instead, so both runs print the same lines: getpid, getppid,
 * write to stdout, read from /dev/zero, six arguments (mmap of a file at an
 * offset), an unknown number (-ENOSYS), a bad pointer (-EFAULT), a 10 ms
 * nanosleep, pause() ended by SIGALRM's handler (-EINTR), a pipe read that
 * SA_RESTART restarts after the handler wrote what it reads, a call made
 * from inside a handler, and gettid from two threads at once.
 * tests/compat/direct.sh runs it under --strace and checks that these
 * calls are marked direct there. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

typedef long (*direct_fn)(long, long, long, long, long, long, long);

static direct_fn direct;

/* ---- finding __elfvm_syscall@ELFVM_1 in the vDSO ------------------------ */

/* The version name of symbol index i, from DT_VERSYM and DT_VERDEF. */
static const char *sym_version(const char *strtab, const Elf64_Half *versym, const char *verdef,
			       unsigned long i)
{
	unsigned ndx = versym[i] & 0x7fff;

	for (const Elf64_Verdef *d = (const void *)verdef; d;
	     d = d->vd_next ? (const void *)((const char *)d + d->vd_next) : NULL) {
		if (!(d->vd_flags & VER_FLG_BASE) && (d->vd_ndx & 0x7fff) == ndx)
			return strtab + ((const Elf64_Verdaux *)((const char *)d + d->vd_aux))->vda_name;
	}
	return "";
}

/* The address of the defined function NAME at version VER in the ELF image
 * at ehdr, or NULL.  Only DT_HASH gives the symbol count here; an image
 * without it (or without versions) is treated as not having the symbol. */
static void *elf_lookup(const Elf64_Ehdr *eh, const char *name, const char *ver)
{
	const Elf64_Phdr *ph = (const void *)((const char *)eh + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	const char *base = NULL, *strtab = NULL, *verdef = NULL;
	const Elf64_Sym *symtab = NULL;
	const Elf64_Half *versym = NULL;
	unsigned long nsyms = 0;

	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_type != ET_DYN)
		return NULL;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !base)
			base = (const char *)eh + ph[i].p_offset - ph[i].p_vaddr;
		else if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const void *)((const char *)eh + ph[i].p_offset);
	}
	if (!base || !dyn)
		return NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const char *p = base + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_STRTAB: strtab = p; break;
		case DT_SYMTAB: symtab = (const void *)p; break;
		case DT_HASH: nsyms = ((const Elf32_Word *)p)[1]; break; /* nchain */
		case DT_VERSYM: versym = (const void *)p; break;
		case DT_VERDEF: verdef = p; break;
		}
	}
	if (!strtab || !symtab || !nsyms || !versym || !verdef)
		return NULL;
	for (unsigned long i = 0; i < nsyms; i++) {
		const Elf64_Sym *s = &symtab[i];
		if (ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx != SHN_UNDEF &&
		    !strcmp(strtab + s->st_name, name) &&
		    !strcmp(sym_version(strtab, versym, verdef, i), ver))
			return (void *)(base + s->st_value);
	}
	return NULL;
}

/* One syscall, -errno raw: through the vDSO's entry when there is one,
 * else through libc's syscall(2), its -1/errno turned into -errno. */
static long sys(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (direct)
		return direct(nr, a1, a2, a3, a4, a5, a6);
	long r = syscall(nr, a1, a2, a3, a4, a5, a6);
	return r == -1 ? -errno : r;
}

/* ---- the calls ---------------------------------------------------------- */

static volatile sig_atomic_t handled, pid_in_handler;
static int pipe_fds[2];

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
	pid_in_handler = (int)sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
}

/* Writes what the interrupted read is waiting for, so that the restarted
 * read finds it. */
static void on_alarm_feed(int sig)
{
	(void)sig;
	handled++;
	if (write(pipe_fds[1], "x", 1) != 1)
		_exit(3);
}

static void alarm_in(long ms, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
	struct itimerval it = { .it_value = { 0, ms * 1000 } };

	sigemptyset(&sa.sa_mask);
	ok(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction(SIGALRM)");
	handled = 0;
	ok(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer(ITIMER_REAL)");
}

static void test_simple(void)
{
	long r = sys(SYS_getpid, 0, 0, 0, 0, 0, 0);
	ok_vals(r == getpid(), "getpid", r, getpid());
	r = sys(SYS_getppid, 0, 0, 0, 0, 0, 0);
	ok_vals(r == getppid(), "getppid", r, getppid());

	static const char line[] = "a line written by write(1)\n";
	fflush(stdout);
	r = sys(SYS_write, 1, (long)line, sizeof line - 1, 0, 0, 0);
	ok_vals(r == sizeof line - 1, "write to stdout", r, sizeof line - 1);

	char buf[64];
	int fd = open("/dev/zero", O_RDONLY);
	ok(fd >= 0, "open /dev/zero");
	memset(buf, 0xa5, sizeof buf);
	r = sys(SYS_read, fd, (long)buf, sizeof buf, 0, 0, 0);
	int zeros = 0;
	for (unsigned i = 0; i < sizeof buf; i++)
		zeros += !buf[i];
	ok_vals(r == sizeof buf && zeros == sizeof buf, "read 64 zeros from /dev/zero", r, zeros);
	r = sys(SYS_read, fd, 16, 8, 0, 0, 0);
	ok_vals(r == -EFAULT, "read into a bad pointer: -EFAULT", r, -EFAULT);
	close(fd);

	r = sys(1000, 1, 2, 3, 4, 5, 6);
	ok_vals(r == -ENOSYS, "syscall 1000: -ENOSYS", r, -ENOSYS);
	r = sys(SYS_close, -1, 0, 0, 0, 0, 0);
	ok_vals(r == -EBADF, "close(-1): -EBADF", r, -EBADF);
}

/* All six arguments arrive: mmap's offset is the sixth. */
static void test_six_args(void)
{
	static char page[2][4096];
	enter_workdir("direct_entry");
	memset(page[0], 'A', sizeof page[0]);
	memset(page[1], 'B', sizeof page[1]);
	int fd = open("two-pages", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, page, sizeof page) == sizeof page, "write a two-page file");
	long r = sys(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
	ok_vals(r > 0 && ((char *)r)[0] == 'B' && ((char *)r)[4095] == 'B',
		"mmap(fd, offset 4096) maps the second page", r > 0 ? ((char *)r)[0] : r, 'B');
	if (r > 0)
		ok(sys(SYS_munmap, r, 4096, 0, 0, 0, 0) == 0, "munmap");
	close(fd);
	unlink("two-pages");
	leave_workdir();
}

static void test_blocking(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	double t0 = now();
	long r = sys(SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0);
	double dt = now() - t0;
	okf(r == 0 && dt >= 0.010, "nanosleep 10 ms blocks and returns 0", "r %ld, %.4f s", r, dt);

	alarm_in(20, on_alarm, 0);
	r = sys(SYS_pause, 0, 0, 0, 0, 0, 0);
	ok_vals(r == -EINTR && handled == 1, "pause ended by SIGALRM's handler: -EINTR", r, handled);
	ok_vals(pid_in_handler == getpid(), "getpid from inside the handler", pid_in_handler, getpid());

	/* SA_RESTART: the read sleeps, the handler writes a byte, the kernel
	 * runs the read again and it returns that byte. */
	char c = 0;
	ok(pipe(pipe_fds) == 0, "pipe");
	alarm_in(20, on_alarm_feed, SA_RESTART);
	r = sys(SYS_read, pipe_fds[0], (long)&c, 1, 0, 0, 0);
	okf(r == 1 && c == 'x' && handled == 1, "pipe read restarted after an SA_RESTART handler",
	    "r %ld, c %d, handled %d", r, c, (int)handled);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	signal(SIGALRM, SIG_DFL);
}

/* Two threads at once, each on its own kernel stack: every answer is the
 * calling thread's own tid, through preemption and the timer. */
static void *tid_loop(void *arg)
{
	long tid = syscall(SYS_gettid), wrong = 0;

	for (int i = 0; i < 20000; i++)
		wrong += sys(SYS_gettid, 0, 0, 0, 0, 0, 0) != tid;
	*(long *)arg = wrong;
	return NULL;
}

static void test_threads(void)
{
	pthread_t t;
	long wrong[2] = { -1, -1 };

	ok(pthread_create(&t, NULL, tid_loop, &wrong[0]) == 0, "pthread_create");
	tid_loop(&wrong[1]);
	ok(pthread_join(t, NULL) == 0, "pthread_join");
	ok_vals(wrong[0] == 0 && wrong[1] == 0, "gettid in two threads at once, 20000 calls each",
		wrong[0], wrong[1]);
}

int main(void)
{
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);

	/* Linux has a vDSO without the symbol; elfvm has both.  Neither case
	 * is printed on stdout, which must be the same for both. */
	if (ehdr)
		direct = (direct_fn)elf_lookup((const Elf64_Ehdr *)ehdr, "__elfvm_syscall", "ELFVM_1");
	fprintf(stderr, "direct_entry: %s\n",
		direct ? "through __elfvm_syscall@ELFVM_1" : "through syscall(2)");
	test_simple();
	test_six_args();
	test_blocking();
	test_threads();
	return bad;
}
