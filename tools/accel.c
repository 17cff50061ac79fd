/* SPDX-License-Identifier: MIT */
/*
 * What --accel auto and --accel kvm mean on this host (docs/accel.md).  A
 * /dev/kvm that opens is no proof that KVM can run this kernel: a
 * paravirtual KVM (kvm_pvm) opens like any other, and then QEMU cannot set
 * up its CPU or the guest stops at its first SSE instruction.  So the answer
 * comes from a probe: the kernel boots under KVM and runs a small static
 * glibc program to its end within PROBE_S.  The answer is kept in the cache
 * directory under a key of the host's boot, the kernel file, the QEMU
 * binary and the device, so a host is asked once per boot and build.
 * Starting QEMU is vmm.c's job; this file only decides.
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROBE_S 5.0              /* a working KVM needs about 0.2 s */
#define PROBE_PROG "bench/hello" /* beside the elfvm binary */

/* The device that stands for KVM; tests point ELFVM_KVM_DEVICE elsewhere. */
static const char *kvm_device(void)
{
	const char *d = getenv("ELFVM_KVM_DEVICE");

	return d && *d ? d : "/dev/kvm";
}

/* The QEMU binary vm_run will start, found as execvp finds it, into out.
 * Returns 0, or -ENOENT. */
static int qemu_binary(char *out, size_t n)
{
	const char *q = getenv("ELFVM_QEMU"), *path = getenv("PATH");

	if (!q || !*q)
		q = "qemu-system-x86_64";
	if (strchr(q, '/'))
		return (size_t)snprintf(out, n, "%s", q) < n ? 0 : -ENOENT;
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");
		if ((size_t)snprintf(out, n, "%.*s/%s", (int)len, p, q) < n && access(out, X_OK) == 0)
			return 0;
		p += len + (p[len] == ':');
	}
	return -ENOENT;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv_file_id(uint64_t h, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return fnv(h, "-", 1);
	uint64_t id[5] = { st.st_dev, st.st_ino, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
			   (uint64_t)st.st_mtim.tv_nsec };
	return fnv(h, id, sizeof(id));
}

/* The cache file that holds the answer for kernel on this host, in path.
 * Returns 0, or -errno when there is no cache directory. */
static int answer_path(const char *kernel, char *path, size_t n)
{
	char dir[PATH_MAX], qemu[PATH_MAX], boot[64] = "";
	uint64_t h = 0xcbf29ce484222325ULL;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC), r;

	if (fd >= 0) {
		if (read(fd, boot, sizeof(boot) - 1) < 0)
			boot[0] = '\0';
		close(fd);
	}
	h = fnv(h, "accel1", 6);
	h = fnv(h, boot, strlen(boot));
	h = fnv(h, kvm_device(), strlen(kvm_device()));
	h = fnv_file_id(h, kernel);
	h = qemu_binary(qemu, sizeof(qemu)) == 0 ? fnv_file_id(h, qemu) : fnv(h, "-", 1);
	if ((r = cache_dir(dir, sizeof(dir))) < 0)
		return r;
	if ((size_t)snprintf(path, n, "%s/accel-%016llx", dir, (unsigned long long)h) >= n)
		return -ENAMETOOLONG;
	return 0;
}

/* Reads a kept answer: "kvm" or "tcg REASON".  Returns 0 with *a and the
 * reason in why, or -1 when there is none. */
static int answer_read(const char *path, enum vm_accel *a, char *why, size_t n)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (len < 3)
		return -1;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!strncmp(buf, "kvm", 3))
		*a = VM_ACCEL_KVM;
	else if (!strncmp(buf, "tcg", 3))
		*a = VM_ACCEL_TCG;
	else
		return -1;
	snprintf(why, n, "%s", buf[3] == ' ' ? buf + 4 : "");
	return 0;
}

/* Keeps an answer, written whole under a temporary name and renamed. */
static void answer_write(const char *path, enum vm_accel a, const char *why)
{
	char tmp[PATH_MAX + 16];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= sizeof(tmp))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	dprintf(fd, "%s%s%s\n", vm_accel_name(a), a == VM_ACCEL_TCG ? " " : "",
		a == VM_ACCEL_TCG ? why : "");
	if (close(fd) < 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

/* Boots kernel under KVM with the probe program.  Returns 1 when it ran to
 * its end with status 0, else 0 with the reason in why. */
static int probe(const char *kernel, char *why, size_t n)
{
	char prog_path[PATH_MAX], image[PATH_MAX], reason[PATH_MAX + 256];
	struct prog_file prog = { 0 };
	struct cpio_out o = { 0 };
	struct vm_result *res = malloc(sizeof(*res));
	int r, ok = 0;

	if (!res)
		return snprintf(why, n, "out of memory"), 0;
	if (vm_beside_elfvm(PROBE_PROG, prog_path, sizeof(prog_path)) < 0)
		snprintf(reason, sizeof(reason), "%s: cannot find it", PROBE_PROG);
	else if (prog_load(prog_path, &prog, reason, sizeof(reason)) == 0)
		reason[0] = '\0';
	if (reason[0]) {
		snprintf(why, n, "cannot probe KVM: %.400s", reason);
		goto out;
	}
	r = image_build(&o, &(struct image_spec){ .prog = &prog,
						  .argv = (char *[]){ prog_path, NULL },
						  .envp = (char *[]){ NULL } });
	if (r == 0)
		r = image_write_temp(&o, image, sizeof(image));
	if (r < 0) {
		snprintf(why, n, "cannot write the probe image: %s", strerror(-r));
		goto out;
	}
	vm_run(&(struct vm_config){ .kernel = kernel,
				    .initrd = image,
				    .accel = VM_ACCEL_KVM,
				    .timeout = PROBE_S,
				    .quiet = 1 },
	       res);
	unlink(image);
	if (res->end == VM_END_INTERRUPTED) { /* die of it, as `run` would */
		signal(res->code, SIG_DFL);
		raise(res->code);
	}
	ok = res->end == VM_END_EXIT && res->code == 0;
	if (res->end == VM_END_EXIT && !ok)
		snprintf(why, n, "the probe program exited with %d under KVM", res->code);
	else if (!ok)
		snprintf(why, n, "%s", res->message[0] ? res->message : "the probe boot failed");
out:
	cpio_free(&o);
	prog_free(&prog);
	free(res);
	return ok;
}

int accel_choose(enum vm_accel a, const char *kernel, char *why, size_t n)
{
	char path[PATH_MAX], reason[512];
	enum vm_accel got;
	int fd, have_path, kept;

	if (a == VM_ACCEL_TCG)
		return snprintf(why, n, "tcg, as asked (--accel tcg)"), VM_ACCEL_TCG;
	fd = open(kvm_device(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, n, "%s%s: %s", a == VM_ACCEL_KVM ? "KVM is not available: " : "",
			 kvm_device(), strerror(errno));
		return a == VM_ACCEL_KVM ? -1 : VM_ACCEL_TCG;
	}
	close(fd);
	have_path = answer_path(kernel, path, sizeof(path)) == 0;
	kept = have_path && answer_read(path, &got, reason, sizeof(reason)) == 0;
	if (!kept) {
		got = probe(kernel, reason, sizeof(reason)) ? VM_ACCEL_KVM : VM_ACCEL_TCG;
		if (have_path)
			answer_write(path, got, reason);
	}
	snprintf(why, n, "%s%s (%s%s%s)",
		 got == VM_ACCEL_KVM ? "KVM runs this kernel" : "KVM cannot run this kernel: ",
		 got == VM_ACCEL_KVM ? "" : reason,
		 kept ? "the answer of an earlier probe boot" : "a probe boot under KVM",
		 have_path ? ", kept in " : "", have_path ? path : "");
	if (got == VM_ACCEL_TCG && a == VM_ACCEL_KVM) {
		snprintf(reason, sizeof(reason), "%s", why);
		return snprintf(why, n, "--accel kvm: %s; use --accel tcg or auto", reason), -1;
	}
	return got;
}

void accel_remember(const char *kernel, enum vm_accel a, const char *why)
{
	char path[PATH_MAX];

	if (answer_path(kernel, path, sizeof(path)) == 0)
		answer_write(path, a, why);
}
