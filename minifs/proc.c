// SPDX-License-Identifier: MIT
/*
 * /proc and /sys: synthetic inodes whose text is made when a file is opened
 * (gen->text) and, for /proc/1/fd, whose entries are made when the
 * directory is read (gen->fill).  Formats are Linux's, field for field, so
 * that libc, runtimes and tools parse them unchanged; values elfvm does not
 * track (context switches, page faults, other processes) read as 0.  The
 * one process is pid 1 and its only thread tid 1.  Nothing here is
 * writable; the file layer (syscalls/) serves the snapshots.
 */
#include <stdarg.h>

#include "kernel/abi.h"
#include "kernel/kernel.h"
#include "minifs/minifs.h"

#define TICK_NS (NSEC_PER_SEC / USER_HZ)
#define CAP_ALL "000001ffffffffff" /* CAP_LAST_CAP 40 (6.1) */

/* What the loader told us, copied: its buffers may not outlive the call. */
static struct {
	char *exe, *cmdline, *environ;
	size_t cmdline_len, environ_len, auxv_len;
	uint64_t *auxv;
	char comm[16]; /* TASK_COMM_LEN */
	uint64_t start_ns;
} proc = { .comm = "init" };
static const struct proc_fd_ops *fd_ops;
static char boot_id[40];

/* ---- text output, snprintf style (struct out, out_fmt: kernel.h) ------------- */

static void out_bytes(struct out *o, const void *p, size_t n)
{
	if (o->len < o->size)
		memcpy(o->buf + o->len, p, MIN(n, o->size - o->len));
	o->len += n;
}

/* ---- the address space in numbers (status, stat, statm) ------------------- */

struct vm_sum {
	uint64_t total, exe, lib, data, stack; /* bytes */
	uint64_t start_code, end_code, start_stack, start_brk;
};

/* The main program's text is the lowest executable image segment: the
 * interpreter, vDSO and libraries are mapped high, below the mmap base. */
static void vm_sum(struct vm_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (const struct vma *v = vm_first_after(0); v; v = v->next) {
		uint64_t len = v->end - v->start;
		s->total += len;
		if (v->flags & VMA_STACK) {
			s->stack += len;
			s->start_stack = v->end;
		} else if (v->prot & PROT_EXEC) {
			if (!s->end_code && (v->flags & VMA_IMAGE)) {
				s->start_code = v->start;
				s->end_code = v->end;
				s->exe = len;
			} else {
				s->lib += len;
			}
		} else if ((v->prot & PROT_WRITE) && !(v->flags & VMA_SHARED)) {
			s->data += len;
			if ((v->flags & VMA_HEAP) && !s->start_brk)
				s->start_brk = v->start;
		}
	}
}

/* ---- /proc/1 ------------------------------------------------------------------ */

static void show_const(struct out *o, const char *text)
{
	out_fmt(o, "%s", text);
}

static void show_maps(struct out *o, const char *arg)
{
	(void)arg;
	size_t at = MIN(o->len, o->size);
	o->len += vm_format_maps(o->size ? o->buf + at : NULL, o->size - at);
}

static void show_cmdline(struct out *o, const char *arg)
{
	(void)arg;
	out_bytes(o, proc.cmdline, proc.cmdline_len);
}

static void show_environ(struct out *o, const char *arg)
{
	(void)arg;
	out_bytes(o, proc.environ, proc.environ_len);
}

static void show_auxv(struct out *o, const char *arg)
{
	(void)arg;
	out_bytes(o, proc.auxv, proc.auxv_len);
}

static void show_comm(struct out *o, const char *arg)
{
	(void)arg;
	out_fmt(o, "%s\n", proc.comm);
}

/* The signals the program ignores and catches, from its actions. */
static void sig_sets(uint64_t *ign, uint64_t *cgt)
{
	struct k_sigaction ka;

	*ign = *cgt = 0;
	for (int sig = 1; sig <= NSIG; sig++) {
		if (signal_action(sig, NULL, &ka) < 0 || ka.handler == SIG_DFL)
			continue;
		*(ka.handler == SIG_IGN ? ign : cgt) |= SIGMASK(sig);
	}
}

static void show_status_mem(struct out *o)
{
	struct vm_sum s;
	uint64_t rss = vm_resident_pages() * (PAGE_SIZE / 1024);

	vm_sum(&s);
	out_fmt(o, "VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t%8lu kB\nVmPin:\t%8lu kB\n",
		s.total / 1024, s.total / 1024, 0UL, 0UL);
	out_fmt(o, "VmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\nRssAnon:\t%8lu kB\n", rss, rss, rss);
	out_fmt(o, "RssFile:\t%8lu kB\nRssShmem:\t%8lu kB\n", 0UL, 0UL);
	out_fmt(o, "VmData:\t%8lu kB\nVmStk:\t%8lu kB\nVmExe:\t%8lu kB\nVmLib:\t%8lu kB\n",
		s.data / 1024, s.stack / 1024, s.exe / 1024, s.lib / 1024);
	out_fmt(o, "VmPTE:\t%8lu kB\nVmSwap:\t%8lu kB\nHugetlbPages:\t%8lu kB\n", 0UL, 0UL, 0UL);
	out_fmt(o, "CoreDumping:\t0\nTHP_enabled:\t1\n");
}

static void show_status(struct out *o, const char *arg)
{
	uint64_t ign, cgt;

	(void)arg;
	out_fmt(o, "Name:\t%s\nUmask:\t0022\nState:\tR (running)\n", proc.comm);
	out_fmt(o, "Tgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\n");
	out_fmt(o, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t1024\nGroups:\t \n");
	out_fmt(o, "NStgid:\t1\nNSpid:\t1\nNSpgid:\t1\nNSsid:\t1\n");
	show_status_mem(o);
	sig_sets(&ign, &cgt);
	/* RLIMIT_SIGPENDING's default: half of max_threads (one per 32 pages). */
	out_fmt(o, "Threads:\t1\nSigQ:\t0/%lu\n", mem_total_pages() / 64);
	out_fmt(o, "SigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\n", 0UL, 0UL, *signal_mask());
	out_fmt(o, "SigIgn:\t%016lx\nSigCgt:\t%016lx\n", ign, cgt);
	out_fmt(o, "CapInh:\t%016lx\nCapPrm:\t" CAP_ALL "\nCapEff:\t" CAP_ALL "\n", 0UL);
	out_fmt(o, "CapBnd:\t" CAP_ALL "\nCapAmb:\t%016lx\n", 0UL);
	out_fmt(o, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
	out_fmt(o,
		"Speculation_Store_Bypass:\tvulnerable\n"
		"SpeculationIndirectBranch:\talways enabled\n");
	out_fmt(o, "Cpus_allowed:\t1\nCpus_allowed_list:\t0\n");
	out_fmt(o, "Mems_allowed:\t1\nMems_allowed_list:\t0\n");
	out_fmt(o, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
}

/* The 52 fields of proc_pid_stat(5).  Time is all user time: elfvm does
 * not tell the program's time from the kernel's. */
static void show_stat(struct out *o, const char *arg)
{
	struct vm_sum s;
	uint64_t ign, cgt, now = clock_monotonic_ns();
	uint64_t utime = (now - MIN(now, proc.start_ns)) / TICK_NS;

	(void)arg;
	vm_sum(&s);
	sig_sets(&ign, &cgt);
	out_fmt(o, "1 (%s) R 0 1 1 0 -1 4194560 0 0 0 0 %lu 0 0 0 20 0 1 0 %lu %lu %lu ", proc.comm,
		utime, proc.start_ns / TICK_NS, s.total, vm_resident_pages());
	out_fmt(o, "18446744073709551615 %lu %lu %lu 0 0 ", s.start_code, s.end_code, s.start_stack);
	out_fmt(o, "0 %lu %lu %lu 0 0 0 17 0 0 0 0 0 0 ", *signal_mask() & 0x7fffffff, ign & 0x7fffffff,
		cgt & 0x7fffffff);
	out_fmt(o, "0 0 %lu 0 0 0 0 0\n", s.start_brk);
}

static void show_statm(struct out *o, const char *arg)
{
	struct vm_sum s;

	(void)arg;
	vm_sum(&s);
	out_fmt(o, "%lu %lu 0 %lu 0 %lu 0\n", s.total / PAGE_SIZE, vm_resident_pages(),
		s.exe / PAGE_SIZE, (s.data + s.stack) / PAGE_SIZE);
}

static const char mounts[] =
	"none / tmpfs rw,relatime 0 0\n"
	"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
	"sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
	"devtmpfs /dev devtmpfs rw,nosuid,relatime,mode=755 0 0\n"
	"tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n";

/* One file system: every mount shows the st_dev that stat reports (0:22). */
static const char mountinfo[] =
	"21 1 0:22 / / rw,relatime - tmpfs none rw\n"
	"22 21 0:22 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
	"23 21 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n"
	"24 21 0:22 / /dev rw,nosuid,relatime - devtmpfs devtmpfs rw,mode=755\n"
	"25 24 0:22 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw\n";

/* /proc/1/fd: one link per open descriptor, remade at each lookup. */
static void fill_fd(struct inode *dir)
{
	int max = 256, n, *fds = NULL;
	char *target = kmalloc(PATH_MAX);

	mfs_clear_dir(dir);
	if (!fd_ops || !target)
		goto out;
	for (;;) {
		kfree(fds);
		if (!(fds = kmalloc(max * sizeof(*fds))))
			goto out;
		if ((n = fd_ops->list(fds, max)) <= max)
			break; /* n < 0: nothing listed */
		max = n;
	}
	for (int i = 0; i < n; i++) {
		char name[16];
		long len = fd_ops->link(fds[i], target, PATH_MAX);
		snprintf(name, sizeof(name), "%d", fds[i]);
		struct inode *l = len < 0 ? NULL : mfs_create(dir, name, S_IFLNK | 0700);
		if (l && (l->target = kmalloc(len + 1))) {
			memcpy(l->target, target, len);
			l->target[len] = 0;
			l->size = len;
		} else if (l) {
			mfs_unlink(dir, name, strlen(name)); /* no memory: leave it out */
		}
	}
out:
	kfree(fds);
	kfree(target);
}

static const struct mfs_gen fd_gen = { NULL, fill_fd };

/* ---- the table of entries --------------------------------------------------- */

struct entry {
	const char *path;
	uint32_t mode;
	void (*show)(struct out *o, const char *arg); /* regular files */
	const char *arg;                              /* show's, or a link's target */
	const struct mfs_gen *gen;                    /* synthetic directories */
};
#define E_FILE(p, fn) \
	{ \
		p, S_IFREG | 0444, fn, NULL, NULL \
	}
#define E_TEXT(p, s) \
	{ \
		p, S_IFREG | 0444, show_const, s, NULL \
	}
#define E_LINK(p, t) \
	{ \
		p, S_IFLNK | 0777, NULL, t, NULL \
	}
#define E_DIR(p) \
	{ \
		p, S_IFDIR | 0555, NULL, NULL, NULL \
	}

/* Under /proc/1 and again under /proc/1/task/1. */
static const struct entry process_entries[] = {
	E_LINK("exe", "/"), /* until proc_set_process */
	E_LINK("cwd", "/"),
	E_LINK("root", "/"),
	{ "fd", S_IFDIR | 0500, NULL, NULL, &fd_gen },
	E_FILE("maps", show_maps),
	E_FILE("status", show_status),
	E_FILE("stat", show_stat),
	E_FILE("statm", show_statm),
	E_FILE("cmdline", show_cmdline),
	{ "environ", S_IFREG | 0400, show_environ, NULL, NULL },
	{ "auxv", S_IFREG | 0400, show_auxv, NULL, NULL },
	E_FILE("comm", show_comm),
	E_TEXT("mounts", mounts),
	E_TEXT("mountinfo", mountinfo),
};

static size_t entry_text(const struct inode *ino, char *buf, size_t size)
{
	const struct entry *e = (const struct entry *)ino->gen_arg;
	struct out o = { buf, size, 0 };

	e->show(&o, e->arg);
	return o.len;
}

static const struct mfs_gen file_gen = { entry_text, NULL };

static bool set_target(struct inode *ino, const char *target)
{
	size_t len = strlen(target);
	char *t = kmalloc(len + 1);

	if (!t)
		return false;
	memcpy(t, target, len + 1);
	kfree(ino->target);
	ino->target = t;
	ino->size = len;
	return true;
}

/* name in dir as mode: an existing directory is kept (the image may have an
 * empty /proc), anything else there is replaced. */
static struct inode *make(struct inode *dir, const char *name, size_t len, uint32_t mode)
{
	struct inode *old = mfs_dir_lookup(dir, name, len);
	char buf[NAME_MAX + 1];

	if (old && (old->mode & S_IFMT) == S_IFDIR && (mode & S_IFMT) == S_IFDIR) {
		old->mode = mode;
		return old;
	}
	if (old)
		mfs_unlink(dir, name, len);
	memcpy(buf, name, len);
	buf[len] = 0;
	return mfs_create(dir, buf, mode);
}

/* Creates path below base, with directories (0555) on the way. */
static struct inode *make_path(struct inode *base, const char *path, uint32_t mode)
{
	for (;;) {
		const char *slash = strchr(path, '/');
		if (!slash)
			return make(base, path, strlen(path), mode);
		base = make(base, path, slash - path, S_IFDIR | 0555);
		if (!base)
			return NULL;
		path = slash + 1;
	}
}

static void add(struct inode *base, const struct entry *e)
{
	struct inode *ino = make_path(base, e->path, e->mode);

	if (!ino || ((e->mode & S_IFMT) == S_IFLNK && !set_target(ino, e->arg)))
		vm_exit_error("out of memory building /proc and /sys (%s)", e->path);
	if (e->show) {
		ino->gen = &file_gen;
		ino->gen_arg = (long)e;
	} else if (e->gen) {
		ino->gen = e->gen;
	}
}

static void add_process(struct inode *dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(process_entries); i++)
		add(dir, &process_entries[i]);
}

/* ---- /proc/cpuinfo ------------------------------------------------------------- */

/* The text is the architecture's (its cpuinfo.c), as in Linux. */
static void show_cpuinfo(struct out *o, const char *arg)
{
	(void)arg;
	size_t at = MIN(o->len, o->size);
	o->len += cpuinfo_format(o->size ? o->buf + at : NULL, o->size - at);
}

/* ---- system-wide files ------------------------------------------------------- */

enum { M_ZERO, M_TOTAL, M_FREE, M_ANON, M_LIMIT, M_COMMITTED, M_VMALLOC, M_HUGEPAGE };
static const struct {
	const char *name;
	uint8_t value;
	bool kb;
} meminfo_rows[] = {
	{ "MemTotal:", M_TOTAL, true },
	{ "MemFree:", M_FREE, true },
	{ "MemAvailable:", M_FREE, true },
	{ "Buffers:", M_ZERO, true },
	{ "Cached:", M_ZERO, true },
	{ "SwapCached:", M_ZERO, true },
	{ "Active:", M_ANON, true },
	{ "Inactive:", M_ZERO, true },
	{ "Active(anon):", M_ANON, true },
	{ "Inactive(anon):", M_ZERO, true },
	{ "Active(file):", M_ZERO, true },
	{ "Inactive(file):", M_ZERO, true },
	{ "Unevictable:", M_ZERO, true },
	{ "Mlocked:", M_ZERO, true },
	{ "SwapTotal:", M_ZERO, true },
	{ "SwapFree:", M_ZERO, true },
	{ "Dirty:", M_ZERO, true },
	{ "Writeback:", M_ZERO, true },
	{ "AnonPages:", M_ANON, true },
	{ "Mapped:", M_ZERO, true },
	{ "Shmem:", M_ZERO, true },
	{ "KReclaimable:", M_ZERO, true },
	{ "Slab:", M_ZERO, true },
	{ "SReclaimable:", M_ZERO, true },
	{ "SUnreclaim:", M_ZERO, true },
	{ "KernelStack:", M_ZERO, true },
	{ "PageTables:", M_ZERO, true },
	{ "NFS_Unstable:", M_ZERO, true },
	{ "Bounce:", M_ZERO, true },
	{ "WritebackTmp:", M_ZERO, true },
	{ "CommitLimit:", M_LIMIT, true },
	{ "Committed_AS:", M_COMMITTED, true },
	{ "VmallocTotal:", M_VMALLOC, true },
	{ "VmallocUsed:", M_ZERO, true },
	{ "VmallocChunk:", M_ZERO, true },
	{ "Percpu:", M_ZERO, true },
	{ "AnonHugePages:", M_ZERO, true },
	{ "ShmemHugePages:", M_ZERO, true },
	{ "ShmemPmdMapped:", M_ZERO, true },
	{ "FileHugePages:", M_ZERO, true },
	{ "FilePmdMapped:", M_ZERO, true },
	{ "HugePages_Total:", M_ZERO, false },
	{ "HugePages_Free:", M_ZERO, false },
	{ "HugePages_Rsvd:", M_ZERO, false },
	{ "HugePages_Surp:", M_ZERO, false },
	{ "Hugepagesize:", M_HUGEPAGE, true },
	{ "Hugetlb:", M_ZERO, true },
};

static void show_meminfo(struct out *o, const char *arg)
{
	struct vm_sum s;
	uint64_t v[8], kb = PAGE_SIZE / 1024;

	(void)arg;
	vm_sum(&s);
	v[M_ZERO] = 0;
	v[M_TOTAL] = mem_total_pages() * kb;
	v[M_FREE] = mem_free_pages() * kb;
	v[M_ANON] = vm_resident_pages() * kb;
	v[M_LIMIT] = v[M_TOTAL] / 2; /* no swap, overcommit_ratio 50 */
	v[M_COMMITTED] = s.total / 1024;
	v[M_VMALLOC] = 34359738367UL;
	v[M_HUGEPAGE] = 2048;
	for (size_t i = 0; i < ARRAY_SIZE(meminfo_rows); i++)
		out_fmt(o, "%-16s%8lu%s\n", meminfo_rows[i].name, v[meminfo_rows[i].value],
			meminfo_rows[i].kb ? " kB" : "");
}

/* All time since boot counts as the one CPU's user time. */
static void show_stat_all(struct out *o, const char *arg)
{
	uint64_t mono = clock_monotonic_ns(), ticks = mono / TICK_NS;
	uint64_t btime = (clock_realtime_ns() - mono) / NSEC_PER_SEC;

	(void)arg;
	out_fmt(o, "cpu  %lu 0 0 0 0 0 0 0 0 0\ncpu0 %lu 0 0 0 0 0 0 0 0 0\n", ticks, ticks);
	out_fmt(o, "intr 0\nctxt 0\nbtime %lu\nprocesses 1\nprocs_running 1\n", btime);
	out_fmt(o, "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n");
}

static void show_uptime(struct out *o, const char *arg)
{
	uint64_t cs = clock_monotonic_ns() / 10000000UL; /* hundredths */

	(void)arg;
	out_fmt(o, "%lu.%02lu 0.00\n", cs / 100, cs % 100);
}

/* A version 4 UUID, as the kernel's random/uuid. */
static void format_uuid(char *buf, size_t size)
{
	uint8_t b[16];

	random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

static void show_uuid(struct out *o, const char *arg)
{
	char u[40];

	(void)arg;
	format_uuid(u, sizeof(u));
	out_fmt(o, "%s", u);
}

/* Matches uname(2) in syscalls/proc.c. */
#define RELEASE "6.1.0-elfvm"
#define VERSION "#1 SMP elfvm"

static const struct entry system_entries[] = {
	E_LINK("proc/self", "1"),
	E_LINK("proc/thread-self", "1/task/1"),
	E_LINK("proc/mounts", "self/mounts"),
	E_FILE("proc/cpuinfo", show_cpuinfo),
	E_FILE("proc/meminfo", show_meminfo),
	E_FILE("proc/stat", show_stat_all),
	E_FILE("proc/uptime", show_uptime),
	E_TEXT("proc/loadavg", "0.00 0.00 0.00 1/1 1\n"),
	E_TEXT("proc/version", "Linux version " RELEASE " (elfvm@elfvm) (elfvm) " VERSION "\n"),
	E_TEXT("proc/filesystems", "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\n"),
	E_TEXT("proc/sys/kernel/ostype", "Linux\n"),
	E_TEXT("proc/sys/kernel/osrelease", RELEASE "\n"),
	E_TEXT("proc/sys/kernel/version", VERSION "\n"),
	E_TEXT("proc/sys/kernel/hostname", "elfvm\n"),
	E_TEXT("proc/sys/kernel/domainname", "(none)\n"),
	E_TEXT("proc/sys/kernel/pid_max", "32768\n"),
	E_TEXT("proc/sys/kernel/ngroups_max", "65536\n"),
	E_TEXT("proc/sys/kernel/cap_last_cap", "40\n"),
	E_TEXT("proc/sys/kernel/random/boot_id", boot_id),
	E_FILE("proc/sys/kernel/random/uuid", show_uuid),
	E_TEXT("proc/sys/kernel/random/entropy_avail", "256\n"),
	E_TEXT("proc/sys/kernel/random/poolsize", "256\n"),
	/* 1, "always": mmap checks no commit charge against memory (syscalls/mm.c);
	 * pages are only counted when first touched. */
	E_TEXT("proc/sys/vm/overcommit_memory", "1\n"),
	E_TEXT("proc/sys/vm/max_map_count", "65530\n"),
	E_TEXT("proc/sys/vm/mmap_min_addr", "65536\n"),
	E_TEXT("proc/sys/fs/nr_open", "4096\n"),
	E_TEXT("sys/devices/system/cpu/online", "0\n"),
	E_TEXT("sys/devices/system/cpu/possible", "0\n"),
	E_TEXT("sys/devices/system/cpu/present", "0\n"),
	E_DIR("sys/devices/system/cpu/cpu0"),
	E_TEXT("sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n"),
	E_TEXT("sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152\n"),
};

void proc_init(void)
{
	format_uuid(boot_id, sizeof(boot_id));
	struct inode *pid1 = make_path(mfs_root, "proc/1", S_IFDIR | 0555);
	struct inode *tid1 = pid1 ? make_path(pid1, "task/1", S_IFDIR | 0555) : NULL;
	if (!tid1)
		vm_exit_error("out of memory building /proc");
	add_process(pid1);
	add_process(tid1);
	for (size_t i = 0; i < ARRAY_SIZE(system_entries); i++)
		add(mfs_root, &system_entries[i]);
}

/* ---- what the loader and the file layer tell us ----------------------------- */

static void *dup(const void *p, size_t n)
{
	void *d = n ? kmalloc(n) : NULL;

	if (d)
		memcpy(d, p, n);
	return d;
}

static void set_exe_link(const char *path)
{
	struct walk w;

	mfs_lock();
	if (mfs_walk(mfs_root, path, 0, &w) == 0 && (w.inode->mode & S_IFMT) == S_IFLNK &&
	    !set_target(w.inode, proc.exe))
		vm_exit_error("out of memory setting %s", path);
	mfs_unlock();
}

void proc_get_process(struct proc_process *p, char comm[16])
{
	*p = (struct proc_process){
		proc.exe ? proc.exe : "", proc.cmdline, proc.cmdline_len, proc.environ,
		proc.environ_len,         proc.auxv,    proc.auxv_len
	};
	memcpy(comm, proc.comm, 16);
}

void proc_set_process(const struct proc_process *p)
{
	const char *base = p->exe;

	for (const char *s = p->exe; *s; s++)
		if (*s == '/')
			base = s + 1;
	kfree(proc.exe);
	kfree(proc.cmdline);
	kfree(proc.environ);
	kfree(proc.auxv);
	proc.exe = dup(p->exe, strlen(p->exe) + 1);
	proc.cmdline = dup(p->cmdline, p->cmdline_len);
	proc.environ = dup(p->environ, p->environ_len);
	proc.auxv = dup(p->auxv, p->auxv_len);
	if (!proc.exe || (p->cmdline_len && !proc.cmdline) || (p->environ_len && !proc.environ) ||
	    (p->auxv_len && !proc.auxv))
		vm_exit_error("out of memory recording the process for /proc");
	proc.cmdline_len = p->cmdline_len;
	proc.environ_len = p->environ_len;
	proc.auxv_len = p->auxv_len;
	snprintf(proc.comm, sizeof(proc.comm), "%s", base);
	proc.start_ns = clock_monotonic_ns();
	set_exe_link("/proc/1/exe");
	set_exe_link("/proc/1/task/1/exe");
}

void proc_set_fd_ops(const struct proc_fd_ops *ops)
{
	fd_ops = ops;
}
