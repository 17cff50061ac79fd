/* SPDX-License-Identifier: MIT */
/*
 * The `run` verb and what `pack` (run_pack.c) shares with it.  An image
 * is the content part (the program, what its linker opens, /etc, --file,
 * --dir: pack.c lists it, cache.c keeps it) followed by a per-run archive
 * of control files (.elfvm/exe, argv, envp; docs/protocol.md); stdin is
 * streamed while the program runs (vmm.c, term.c).  Under UEFI the image
 * goes on a disk (disk.c) that OVMF boots.  The guest environment is the
 * host's environment passed through, then each --env K=V (a later one
 * wins), as when the program runs natively.  Finding and checking the
 * program is inspect.c's job, starting QEMU and reading its records vmm.c's.
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* ---- the environment -------------------------------------------- */

static int same_key(const char *a, const char *b)
{
	size_t ka = strcspn(a, "="), kb = strcspn(b, "=");

	return ka == kb && !memcmp(a, b, ka);
}

/* The host's environment, then extra (K=V) replacing the same keys; a later
 * extra replaces an earlier one.  Returns a malloc'd array (the strings are
 * not copied), or NULL. */
static char **env_build(char **extra, int nextra)
{
	int n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc((size_t)(n + nextra + 1), sizeof(*env));
	if (!env)
		return NULL;
	for (int i = 0; i < n; i++) {
		int replaced = 0;
		for (int j = 0; j < nextra && !replaced; j++)
			replaced = same_key(environ[i], extra[j]);
		if (!replaced)
			env[k++] = environ[i];
	}
	for (int j = 0; j < nextra; j++) {
		int later = 0;
		for (int l = j + 1; l < nextra && !later; l++)
			later = same_key(extra[j], extra[l]);
		if (!later)
			env[k++] = extra[j];
	}
	return env;
}

/* ---- the verbs ------------------------------------------------------------ */

int run_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("elfvm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return ELFVM_EXIT_FAIL;
}

/* The dynamic linker itself as the program (`elfvm run
 * /lib64/ld-linux-x86-64.so.2 /usr/bin/true`): the program it is asked to
 * load, the first argument after ld.so's own options, is packed with its
 * libraries too.  Returns 0, or -1 after a message. */
static int ldso_program(struct run_opts *o, const struct prog_file *p, int argc, char **argv)
{
	static const char *const with_arg[] = {
		"--library-path",         "--preload",          "--audit", "--argv0", "--inhibit-rpath",
		"--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"
	};
	const char *base = strrchr(p->path, '/') ? strrchr(p->path, '/') + 1 : p->path;
	char why[PATH_MAX + 256];
	int i = 0;

	if (p->interp || p->elf.type != 3 /* ET_DYN */ ||
	    (strncmp(base, "ld-linux", 8) && strncmp(base, "ld-musl", 7)))
		return 0;
	while (i < argc && !strncmp(argv[i], "--", 2)) {
		int takes = 0;
		for (size_t k = 0; k < sizeof(with_arg) / sizeof(*with_arg); k++)
			takes |= !strcmp(argv[i], with_arg[k]);
		if (!strcmp(argv[i++], "--"))
			break;
		i += takes;
	}
	if (i >= argc)
		return 0; /* ld.so --help, --version, --list-tunables … */
	o->pk.also = calloc(1, sizeof(*o->pk.also));
	if (!o->pk.also)
		return run_fail("out of memory"), -1;
	if (prog_load(argv[i], o->pk.also, why, sizeof(why)) < 0) {
		free(o->pk.also);
		o->pk.also = NULL;
		return run_fail("%s (the program the dynamic linker is asked to run)", why), -1;
	}
	return 0;
}

int run_prepare(struct run_opts *o, int argc, char **argv, struct prog_file *p, char ***envp)
{
	char why[PATH_MAX + 256];
	int i;

	i = opts_parse(argc, argv, o);
	if (i <= 0 || o->image || (o->disk && !strcmp(o->verb, "run")))
		return i;
	if (prog_load(argv[i], p, why, sizeof(why)) < 0)
		return run_fail("%s", why), -1;
	if (ldso_program(o, p, argc - i - 1, argv + i + 1) < 0) {
		prog_free(p);
		return -1;
	}
	*envp = env_build(o->env, o->nenv);
	if (!*envp) {
		prog_free(p);
		return run_fail("out of memory"), -1;
	}
	return i;
}

int run_write_image(const struct run_opts *o, const struct image_spec *s, int out)
{
	char why[PATH_MAX + 512];
	struct image_list l = { 0 };
	int fd = -1, r = pack_list(&l, s->prog, &o->pk, why, sizeof(why));

	if (r == 0 && (o->gdb || o->core))
		gdb_note_image(&l);
	if (r == 0 && !o->no_cache)
		fd = cache_open(&l);
	if (r == 0 && fd >= 0) {
		r = image_copy_fd(fd, out);
		close(fd);
		if (r < 0)
			snprintf(why, sizeof(why), "writing the image: %s", strerror(-r));
	} else if (r == 0) {
		r = image_write_list(&l, out, why, sizeof(why));
	}
	image_list_free(&l);
	if (r == 0 && (r = image_write_control(out, s)) < 0)
		snprintf(why, sizeof(why), "writing the image: %s", strerror(-r));
	return r < 0 ? run_fail("%s", why) : 0;
}

/* Prints the one line an end of the VM deserves, if any. */
static void report(const struct run_opts *o, const struct vm_result *res)
{
	char where[PATH_MAX + 8]; /* where the log went, for the panic and stop lines */

	snprintf(where, sizeof(where), "%s%s",
		 o->log       ? " in "
		 : o->verbose ? " above"
			      : ": --log FILE",
		 o->log ? o->log : "");
	switch (res->end) {
	case VM_END_EXIT:
	case VM_END_SIGNAL: /* the crash report is in the log, by design */ break;
	case VM_END_INTERRUPTED:
		if (res->message[0]) /* a forwarded signal's grace ran out */
			fprintf(stderr, "elfvm: %s\n", res->message);
		break;
	case VM_END_ERROR:
	case VM_END_ESCAPED:
	case VM_END_TIMEOUT: fprintf(stderr, "elfvm: %s\n", res->message); break;
	case VM_END_PANIC:
		fprintf(stderr, "elfvm: kernel panic: %s (see the log%s)\n", res->message, where);
		break;
	case VM_END_QEMU: fprintf(stderr, "elfvm: qemu failed: %s\n", res->message); break;
	case VM_END_STOPPED:
		fprintf(stderr, "elfvm: the VM stopped: %s (QEMU's report is in the log%s)\n",
			res->message, where);
		break;
	}
}

/* Did the VM end before the program could have done anything, in a way
 * TCG may not share (QEMU died or stopped the VM, without a record and
 * before the program's first output and before any of stdin went in)?
 * Running again then loses nothing. */
static int failed_at_boot(const struct vm_result *res)
{
	return (res->end == VM_END_QEMU || res->end == VM_END_STOPPED) && !res->output &&
	       !res->stdin_taken;
}

/* vm_run under the accelerator o->accel means on this host; under auto, a
 * KVM that fails at boot is replaced by TCG, for this run and (once TCG
 * ran the program) for the next ones.  Returns vm_run's status, or 125
 * after a message when --accel kvm cannot run the kernel here. */
static int boot_accel(const struct run_opts *o, struct vm_config *cfg, struct vm_result *res)
{
	char why[1024], kvm_why[sizeof(res->message)];
	int a = accel_choose(o->accel, cfg->kernel, why, sizeof(why)), status;

	if (a < 0)
		return run_fail("%s", why);
	if (cfg->log)
		fprintf(cfg->log, "elfvm: accelerator %s: %s\n", vm_accel_name(a), why);
	cfg->accel = a;
	status = vm_run(cfg, res);
	if (o->accel != VM_ACCEL_AUTO || a != VM_ACCEL_KVM || !failed_at_boot(res))
		return status;
	snprintf(kvm_why, sizeof(kvm_why), "%s", res->message);
	if (cfg->log)
		fprintf(cfg->log, "elfvm: KVM failed at boot (%s); running again under TCG\n", kvm_why);
	cfg->accel = VM_ACCEL_TCG;
	status = vm_run(cfg, res);
	if (res->end <= VM_END_PANIC) /* TCG ran it: the failure was KVM's */
		accel_remember(cfg->kernel, VM_ACCEL_TCG, kvm_why);
	return status;
}

/* boot_accel, under --gdb with QEMU's stub and the command file
 * (tools/gdb.c), removed once the VM is gone.  Returns its status, or 125
 * after a message when --gdb's value is refused. */
static int boot_debugged(const struct run_opts *o, struct vm_config *cfg, struct vm_result *res)
{
	struct gdb_session *g;
	char why[PATH_MAX + 256];
	int status;

	if (!o->gdb)
		return boot_accel(o, cfg, res);
	if (!(g = malloc(sizeof(*g))))
		return run_fail("out of memory");
	if (gdb_prepare(g, o->gdb, cfg->kernel, why, sizeof(why)) < 0) {
		gdb_cleanup(g);
		free(g);
		return run_fail("%s", why);
	}
	cfg->gdb = g;
	status = boot_accel(o, cfg, res);
	cfg->gdb = NULL;
	gdb_cleanup(g);
	free(g);
	return status;
}

/* --profile: the file, when the kernel ended the run itself (it writes
 * the profile just before its end record); else one line says why not. */
static void write_profile(const struct run_opts *o, const struct vm_result *res,
			  const struct vm_profile *prof, const char *name)
{
	char why[PATH_MAX + 64];

	if (res->end > VM_END_ERROR && !prof->records)
		fprintf(stderr, "elfvm: --profile %s: not written: the VM ended without a profile\n",
			o->profile);
	else if (profile_write(prof, o->profile, name, why, sizeof(why)) < 0)
		fprintf(stderr, "elfvm: %s\n", why);
	else if (prof->bad)
		fprintf(stderr, "elfvm: --profile %s: %d malformed records from the kernel dropped\n",
			o->profile, prof->bad);
}

/* Boots the image at path and returns the exit status; a temporary image
 * is removed once QEMU has it open (it is then unlinked here). */
static int boot(const struct run_opts *o, const struct net_plan *net, const char *kernel,
		const char *path, int temp, FILE *log, const char *name)
{
	char cmdline[2560];
	struct vm_result *res = malloc(sizeof(*res));
	struct vm_profile *prof = o->profile ? calloc(1, sizeof(*prof)) : NULL;
	int uefi = o->disk || (o->firmware && !strcmp(o->firmware, "uefi"));
	struct vm_config cfg = {
		.kernel = kernel,
		.initrd = uefi ? NULL : path,
		.disk = uefi ? path : NULL,
		.firmware = uefi ? disk_firmware() : NULL,
		.cmdline = cmdline,
		.mem = o->mem,
		.cpus = o->cpus,
		.machine = o->machine,
		.timeout = o->timeout,
		.log = log          ? log
		       : o->verbose ? stderr
				    : NULL,
		.trace = log ? log : stderr,
		.netdev = net->netdev[0] ? net->netdev : NULL,
		.used = o->used,
		.extra = net->shares.args,
		.prof = prof,
	};
	char tty[64] = "";
	int status, rows = 0, cols = 0, mask = term_probe(&rows, &cols);
	/* A background job of an interactive shell must not take the
	 * terminal's input (nor be stopped by SIGTTIN/SIGTTOU for trying):
	 * its program waits on an empty stdin, as it would wait stopped. */
	int background = isatty(0) && tcgetpgrp(0) != getpgrp();
	struct stat in;

	char core_tmp[PATH_MAX];

	if (!res || (o->profile && !prof)) {
		if (temp)
			unlink(path);
		free(res);
		return run_fail("out of memory");
	}
	if (o->core && core_prepare(o->core, core_tmp, sizeof(core_tmp))) {
		if (temp)
			unlink(path);
		free(res);
		free(prof);
		return ELFVM_EXIT_FAIL;
	}
	cfg.core = o->core ? core_tmp : NULL;
	/* The guest's fds that are the host terminal (docs/terminal.md). */
	if (background)
		mask = 0;
	if (mask)
		snprintf(tty, sizeof(tty), " tty=%d winsize=%dx%d", mask, rows, cols);
	/* A pipe's end is a hang-up to poll; a file's or /dev/null's is not. */
	else if (fstat(0, &in) == 0 && (S_ISFIFO(in.st_mode) || S_ISSOCK(in.st_mode)))
		snprintf(tty, sizeof(tty), " stdin=pipe");
	cfg.tty = mask != 0;
	cfg.relay_stdin = background ? -1 : 1;
	snprintf(cmdline, sizeof(cmdline), "%s%s%s%s%s%s%s%s", net->words, net->shares.words,
		 o->strace ? " strace=1" : "", o->verbose ? " verbose=1" : "",
		 o->profile ? " profile=1" : "", o->core ? " core=1" : "", tty, o->gdb ? " gdb=1" : "");
	res->end = VM_END_EXIT; /* nothing to report when the choice failed */
	status = boot_debugged(o, &cfg, res);
	if (temp)
		unlink(path);
	report(o, res);
	if (prof)
		write_profile(o, res, prof, name);
	if (o->core)
		core_finish(o->core, core_tmp, res, name);
	free(prof);
	if (res->end == VM_END_INTERRUPTED) {
		/* Die of the same signal, so that a shell sees what happened. */
		signal(res->code, SIG_DFL);
		raise(res->code);
	}
	free(res);
	return status;
}

int run_find_kernel(const struct run_opts *o, char *kernel, size_t n)
{
	struct stat st;
	int r;

	if (o->kernel)
		snprintf(kernel, n, "%s", o->kernel);
	else if ((r = vm_default_kernel(kernel, n)) < 0)
		return run_fail("cannot find the kernel: %s", strerror(-r));
	if (stat(kernel, &st) < 0 || !S_ISREG(st.st_mode))
		return run_fail(
			"kernel not found: %s (build it with make, or give "
			"--kernel PATH)",
			kernel);
	return 0;
}

/* Opens --image and checks that it starts as a cpio "newc" archive.
 * Returns the fd, or -1 after a message. */
static int open_image(const char *path)
{
	char magic[6];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return run_fail("%s: %s", path, strerror(errno)), -1;
	if (read(fd, magic, 6) != 6 || memcmp(magic, "070701", 6) || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return run_fail(
			       "%s: not an elfvm image (a cpio \"newc\" archive from "
			       "`elfvm pack`)",
			       path),
		       -1;
	}
	return fd;
}

/* --firmware uefi: puts the image at path on a new temporary disk, its
 * name in path; a temporary image is removed.  Returns 0 or 125 after a
 * message. */
static int image_to_disk(const char *kernel, char *path, size_t n, int temp)
{
	char disk[PATH_MAX], loader[PATH_MAX], why[PATH_MAX + 256];
	int fd = image_temp(disk, sizeof(disk)), r;

	if (fd < 0) {
		if (temp)
			unlink(path);
		return run_fail("cannot create the disk in %s: %s", disk, strerror(-fd));
	}
	close(fd);
	r = disk_loader(loader, sizeof(loader), why, sizeof(why));
	/* The words reach the loader through fw_cfg (vm_run): none on the ESP. */
	if (r == 0)
		r = disk_write(
			disk,
			&(struct disk_files){
				.loader = loader, .kernel = kernel, .image = path, .cmdline = "" },
			0, why, sizeof(why));
	if (temp)
		unlink(path);
	if (r < 0) {
		unlink(disk);
		return run_fail("%s", why);
	}
	snprintf(path, n, "%s", disk);
	return 0;
}

/*
 * Writes the image for s to a temporary file and boots it (--firmware
 * uefi: on a temporary disk); --image and --disk boot the file itself
 * (stdin is streamed, never part of an image).  Returns the exit status.
 */
static int run_image(const struct run_opts *o, const struct net_plan *net, struct image_spec *s)
{
	char kernel[PATH_MAX], path[PATH_MAX];
	FILE *log = NULL;
	int r, fd = -1, img = -1, status = ELFVM_EXIT_FAIL;

	char why[PATH_MAX + 256];
	int uefi = o->disk || (o->firmware && !strcmp(o->firmware, "uefi"));

	/* --disk carries its own kernel: the one beside elfvm only stands in
	 * for it in the accelerator's probe (accel.c). */
	if (o->disk)
		r = vm_default_kernel(kernel, sizeof(kernel)) < 0 ? run_fail("cannot find elfvm") : 0;
	else
		r = run_find_kernel(o, kernel, sizeof(kernel));
	if (r)
		return ELFVM_EXIT_FAIL;
	if (uefi && access(disk_firmware(), R_OK) < 0)
		return run_fail(
			"UEFI firmware not found (%s): install Debian's ovmf package, or "
			"set ELFVM_OVMF",
			disk_firmware());
	if (o->disk && disk_check(o->disk, why, sizeof(why)) < 0)
		return run_fail("%s", why);
	if (o->log && !(log = fopen(o->log, "we")))
		return run_fail("%s: %s", o->log, strerror(errno));
	if (o->disk) {
		status = boot(o, net, kernel, o->disk, 0, log, o->disk);
		goto out;
	}
	if (o->image && (img = open_image(o->image)) < 0)
		goto out;
	if (o->image && uefi) {
		snprintf(path, sizeof(path), "%s", o->image);
		if (image_to_disk(kernel, path, sizeof(path), 0) == 0)
			status = boot(o, net, kernel, path, 1, log, o->image);
		goto out;
	}
	if (o->image) {
		status = boot(o, net, kernel, o->image, 0, log, o->image);
		goto out;
	}
	fd = image_temp(path, sizeof(path));
	if (fd < 0) {
		run_fail("cannot create the image in %s: %s", path, strerror(-fd));
		goto out;
	}
	r = run_write_image(o, s, fd);
	if (r == 0 && close(fd) < 0)
		r = run_fail("%s: %s", path, strerror(errno));
	fd = -1;
	if (r == 0 && uefi)
		r = image_to_disk(kernel, path, sizeof(path), 1);
	if (r == 0)
		status = boot(o, net, kernel, path, 1, log, s->prog->found);
	else
		unlink(path);
out:
	if (fd >= 0)
		close(fd);
	if (img >= 0)
		close(img);
	if (log)
		fclose(log);
	return status;
}

int run_with(struct run_opts *o, struct image_spec *s)
{
	struct net_plan net;
	char why[PATH_MAX + 256];
	int status;

	if (o->image && !o->sh.sealed && image_sealed(o->image) == 1)
		o->sh.sealed = 1;
	if (o->disk) /* pack --disk seals its image */
		o->sh.sealed = 1;
	if (netopts_prepare(&o->net, &net, why, sizeof(why)) < 0 ||
	    shares_prepare(&o->sh, o->machine && !strcmp(o->machine, "q35"), !o->no_cache, &net.shares,
			   why, sizeof(why)) < 0) {
		status = run_fail("%s", why);
	} else {
		o->pk.dns = net.dns;
		status = run_image(o, &net, s);
	}
	shares_cleanup(&net.shares);
	return status;
}

int run_main(int argc, char **argv)
{
	struct run_opts o = { .verb = "run", .cpus = 1 };
	struct prog_file prog = { 0 };
	char **envp = NULL;
	int i = run_prepare(&o, argc, argv, &prog, &envp), status;
	struct image_spec spec = {
		.prog = o.image || o.disk ? NULL : &prog, .argv = argv + i, .envp = envp
	};

	static char trimmed[PATH_MAX];

	if (i <= 0) {
		opts_free(&o);
		return i == 0 ? 0 : ELFVM_EXIT_FAIL;
	}
	if (o.trim && (status = trim_kernel(&o, argc, argv, i, trimmed, sizeof(trimmed)))) {
		prog_free(&prog);
		free(envp);
		opts_free(&o);
		return status;
	}
	if (o.trim)
		o.kernel = trimmed;
	status = run_with(&o, &spec);
	prog_free(&prog);
	free(envp);
	opts_free(&o);
	return status;
}
