/* SPDX-License-Identifier: MIT */
/*
 * The Linux VM of `elfvm bench`: Debian's bzImage with a busybox
 * initramfs, started under QEMU with vmm.c's machine and device list (it
 * is spawned here because vm_run expects the kernel's records and Linux
 * sends none).  The console and network rows add the virtio devices elfvm
 * uses for them and the Debian kernel's own virtio modules, loaded by
 * /init.  Reading the console and judging a run is bench_vm.c's.
 */
#define _GNU_SOURCE /* strverscmp */
#include "tools/bench.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Mirrors vmm.c's build_argv: same machine, CPU, devices; Linux's console
 * is COM1.  With pic=off Linux cannot calibrate the TSC against the PIT
 * and stalls, so it is told the host's TSC rate (tsc_early_khz).  acpi=on
 * (microvm's default) is spelled out because Linux needs it: Debian's
 * kernel has no CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, so the virtio_mmio.device=
 * words QEMU adds with acpi=off do nothing, and it finds microvm's
 * virtio-mmio devices only in the ACPI tables.  Should elfvm's VM turn
 * ACPI off, this stays on: the devices are the same either way. */
const char *bench_machine(const struct bench_opts *o)
{
	return !strcmp(o->machine, "q35") ? "q35"
					  : "microvm,isa-serial=off,pit=on,pic=off,rtc=on,acpi=on";
}

#define LINUX_MAX_ARGS 56

/* The virtio devices of the console and network rows: virtio-mmio on
 * microvm (modern, as elfvm's drivers want it), PCI on q35.  The console
 * is a virtio-serial port writing to the same pipe as COM1: a
 * virtserialport, not a virtconsole, because QEMU (7.2,
 * hw/char/virtio-console.c) silently drops a virtconsole's data when the
 * host side would block (a full pipe), where it holds back a
 * virtserialport's until the host reads.  Linux then shows it as
 * /dev/vport0p1, a plain character device (no tty processing either). */
static int linux_virtio(const struct bench *b, int prog, const char *netdev, char *nd, const char **argv,
			int i)
{
	int q35 = !strcmp(b->o.machine, "q35");

	if (!q35) {
		argv[i++] = "-global";
		argv[i++] = "virtio-mmio.force-legacy=false";
	}
	if (prog == P_CONSOLE) {
		argv[i++] = "-chardev";
		argv[i++] = "file,id=vcon,path=/proc/self/fd/1,append=on";
		argv[i++] = "-device";
		argv[i++] = q35 ? "virtio-serial-pci" : "virtio-serial-device";
		argv[i++] = "-device";
		argv[i++] = "virtserialport,chardev=vcon,name=bench";
	}
	if (netdev) {
		bench_fmt(nd, 2100, "%s,id=net0", netdev);
		argv[i++] = "-netdev";
		argv[i++] = nd;
		argv[i++] = "-device";
		argv[i++] = q35 ? "virtio-net-pci,netdev=net0" : "virtio-net-device,netdev=net0";
	}
	return i;
}

/* prog P_N: a server's initramfs, initrd, with mem. */
static pid_t linux_spawn(const struct bench *b, int prog, const char *initrd, const char *mem,
			 const char *netdev, const char *errlog, int *fd)
{
	const char *qemu = getenv("ELFVM_QEMU"), *argv[LINUX_MAX_ARGS];
	int kvm = b->o.accel == VM_ACCEL_KVM, i = 0;
	char cmdline[256], nd[2100];

	bench_fmt(cmdline, sizeof(cmdline),
		  "console=ttyS0 loglevel=1 edd=off reboot=t "
		  "panic=-1 tsc_early_khz=%ld",
		  b->o.tsc_khz);
	const char *fixed[] = {
		qemu && *qemu ? qemu : "qemu-system-x86_64",
		"-M",
		bench_machine(&b->o),
		"-cpu",
		"max",
		"-m",
		mem,
		"-accel",
		kvm ? "kvm" : "tcg",
		"-nodefaults",
		"-no-user-config",
		"-display",
		"none",
		"-no-reboot",
		"-kernel",
		b->kernel[VM_LINUX],
		"-initrd",
		initrd,
		"-append",
		cmdline,
		"-chardev",
		"file,id=out,path=/proc/self/fd/1,append=on",
		"-chardev",
		"null,id=err",
		"-chardev",
		"null,id=log",
		"-device",
		"isa-serial,chardev=out,index=0",
		"-device",
		"isa-serial,chardev=err,index=1",
		"-device",
		"isa-debugcon,iobase=0xe9,chardev=log",
		"-device",
		"isa-debug-exit,iobase=0xf4,iosize=4",
		NULL,
	};
	for (; fixed[i]; i++)
		argv[i] = fixed[i];
	if (prog == P_CONSOLE || prog == P_NET || prog == P_N) /* P_N: a server */
		i = linux_virtio(b, prog, netdev, nd, argv, i);
	argv[i] = NULL;
	return bench_spawn((char *const *)argv, errlog, fd);
}

pid_t bench_linux_spawn(const struct bench *b, int prog, const char *netdev, const char *errlog, int *fd)
{
	return linux_spawn(b, prog, b->image[VM_LINUX][prog], b->o.mem, netdev, errlog, fd);
}

pid_t bench_linux_srv_spawn(const struct bench *b, const char *initrd, const char *mem,
			    const char *netdev, const char *errlog, int *fd)
{
	return linux_spawn(b, P_N, initrd, mem, netdev, errlog, fd);
}

/* ---- the kernel --------------------------------------------------------------- */

/* The newest /boot/vmlinuz-* (by version) into out; 0, or -1 if none. */
static int linux_newest(char *out)
{
	DIR *d = opendir("/boot");
	struct dirent *e;
	char best[256] = "";

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vmlinuz-", 8) && strlen(e->d_name) < sizeof(best) &&
		    strverscmp(e->d_name, best) > 0)
			bench_fmt(best, sizeof(best), "%s", e->d_name);
	closedir(d);
	if (!best[0])
		return -1;
	bench_path_join(out, "/boot", best);
	return 0;
}

/* Finds (or installs) Debian's kernel.  Returns 0, or -1 with why set. */
static int linux_kernel(struct bench *b, char *why, size_t n)
{
	char *k = b->kernel[VM_LINUX];

	if (b->o.linux_kernel)
		bench_fmt(k, PATH_MAX, "%s", b->o.linux_kernel);
	else if (linux_newest(k) < 0) {
		fprintf(stderr,
			"elfvm bench: no /boot/vmlinuz-*; installing "
			"linux-image-amd64\n");
		if (geteuid() != 0 ||
		    system("DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
			   "linux-image-amd64 >&2") != 0 ||
		    linux_newest(k) < 0) {
			bench_fmt(why, n,
				  "no Linux kernel: run apt-get install "
				  "linux-image-amd64 as root, or give --linux PATH");
			return -1;
		}
	}
	if (access(k, R_OK) < 0) {
		bench_fmt(why, n, "cannot read %s: %s%s", k, strerror(errno),
			  errno == EACCES ? " (Debian makes it root-only: run as root "
					    "or give --linux PATH to a readable copy)"
					  : "");
		return -1;
	}
	return 0;
}

/* ---- the virtio modules ------------------------------------------------------- */

/* In the order insmod needs them (modules.dep): the transports of both
 * machines, then the two drivers. */
static const char *const linux_modules[] = {
	"net/core/failover",
	"drivers/net/net_failover",
	"drivers/virtio/virtio_ring",
	"drivers/virtio/virtio",
	"drivers/virtio/virtio_mmio",
	"drivers/virtio/virtio_pci_legacy_dev",
	"drivers/virtio/virtio_pci_modern_dev",
	"drivers/virtio/virtio_pci",
	"drivers/net/virtio_net",
	"drivers/char/virtio_console",
};
#define LINUX_NMOD (sizeof(linux_modules) / sizeof(linux_modules[0]))

/* The module directory of the kernel file k: /lib/modules/VERSION, where
 * k is .../vmlinuz-VERSION (--linux PATH: --linux-modules DIR). */
static int linux_moddir(const struct bench *b, char *dir, char *why, size_t n)
{
	const char *k = b->kernel[VM_LINUX], *base = strrchr(k, '/');

	base = base ? base + 1 : k;
	if (b->o.linux_modules)
		bench_fmt(dir, PATH_MAX, "%s", b->o.linux_modules);
	else if (!strncmp(base, "vmlinuz-", 8))
		bench_fmt(dir, PATH_MAX, "/lib/modules/%s", base + 8);
	else {
		bench_fmt(why, n, "no module directory for %s: give --linux-modules DIR", k);
		return -1;
	}
	return 0;
}

/* Adds bench/modules/NAME.ko for each module (not under lib/, which a
 * server's files make a symlink to usr/lib), uncompressed as Debian ships
 * them.  Returns 0, or -1 with why set. */
static int linux_add_modules(struct cpio_out *o, const char *dir, char *why, size_t n)
{
	for (size_t m = 0; m < LINUX_NMOD; m++) {
		char path[PATH_MAX], name[96];
		const char *base = strrchr(linux_modules[m], '/') + 1;
		size_t len = 0;
		unsigned char *ko;
		int r;

		bench_fmt(path, sizeof(path), "%s/kernel/%s.ko", dir, linux_modules[m]);
		if (!(ko = bench_file_read(path, &len))) {
			bench_fmt(why, n, "cannot read %s (the virtio modules of the Linux VM)", path);
			return -1;
		}
		bench_fmt(name, sizeof(name), "bench/modules/%s.ko", base);
		r = cpio_add_path(o, name, 0100644, ko, len, 0);
		free(ko);
		if (r < 0) {
			bench_fmt(why, n, "out of memory building the initramfs");
			return -1;
		}
	}
	return 0;
}

/* ---- the initramfs -------------------------------------------------------------- */

/* /init's first part for the virtio rows: mounts, modules, and for the
 * network QEMU user networking's defaults, as elfvm's netopts.c gives
 * them to elfvm's kernel. */
static size_t linux_init_virtio(char *s, size_t n, int prog)
{
	size_t k = 0;

	k += snprintf(s + k, n - k,
		      "B=/bin/busybox\n"
		      "$B mkdir -p /dev /proc /sys\n"
		      "$B mount -t devtmpfs dev /dev\n"
		      "$B mount -t proc proc /proc\n"
		      "$B mount -t sysfs sys /sys\n");
	for (size_t m = 0; m < LINUX_NMOD && k < n; m++)
		k += snprintf(s + k, n - k,
			      "$B insmod /bench/modules/%s.ko || echo 'insmod %s failed'\n",
			      strrchr(linux_modules[m], '/') + 1, strrchr(linux_modules[m], '/') + 1);
	if ((prog == P_NET || prog == P_N) && k < n)
		k += snprintf(s + k, n - k,
			      "$B ip link set lo up\n"
			      "$B ip link set eth0 up\n"
			      "$B ip addr add 10.0.2.15/24 dev eth0\n"
			      "$B ip route add default via 10.0.2.2\n");
	/* The port's node appears before the port can be opened (ENXIO for
	 * a moment): wait until an open succeeds.  The only virtio-serial
	 * device is vport0; its port 1 is the one QEMU was given. */
	if (prog == P_CONSOLE && k < n)
		k += snprintf(s + k, n - k,
			      "i=0\n"
			      "until [ -c /dev/vport0p1 ] && { true > /dev/vport0p1; } 2>/dev/null; do\n"
			      "\t[ $i -ge 100 ] && break; $B usleep 100000; i=$((i+1))\n"
			      "done\n");
	return k < n ? k : n;
}

/* /init: runs the program (the console row: cat of the file to the port) and
 * resets the VM (reboot=t: a triple fault, which -no-reboot turns into
 * QEMU's exit). */
static void linux_init(const struct bench *b, int prog, char *s, size_t n)
{
	char bufs[2][24], *argv[6];
	size_t k = snprintf(s, n, "#!/bin/busybox sh\n");

	if (prog == P_CONSOLE || prog == P_NET)
		k += linux_init_virtio(s + k, n - k, prog);
	else if (prog == P_GETPPID) /* its read and write rows need /dev/zero, /dev/null */
		k += snprintf(s + k, n - k,
			      "/bin/busybox mkdir -p /dev\n/bin/busybox mount -t devtmpfs dev /dev\n");
	bench_prog_argv(b, prog, bufs, argv);
	if (prog == P_CONSOLE) /* the host ends QEMU once the file has arrived */
		k += snprintf(s + k, n - k, "/bin/busybox cat %s > /dev/vport0p1\n$B sleep 60\n",
			      argv[2]);
	else
		for (int i = 0; argv[i] && k < n; i++)
			k += snprintf(s + k, n - k, "%s%s", argv[i], argv[i + 1] ? " " : "\n");
	if (k < n)
		snprintf(s + k, n - k, "exec /bin/busybox reboot -f\n");
}

/* The initramfs of prog: busybox, the program at its host path (as in
 * elfvm's image), the modules and the console's file when the row needs
 * them, and /init. */
static int linux_initrd(struct bench *b, int prog, const unsigned char *bb, size_t bblen,
			const char *moddir, char *why, size_t n)
{
	struct cpio_out o = { 0 };
	size_t plen = 0;
	unsigned char *p = prog == P_CONSOLE ? NULL : bench_file_read(b->prog[prog], &plen);
	char init[8192];
	int r = -1;

	linux_init(b, prog, init, sizeof(init));
	if (prog != P_CONSOLE && !p) {
		bench_fmt(why, n, "cannot read %s", b->prog[prog]);
		goto out;
	}
	if ((prog == P_CONSOLE || prog == P_NET) && linux_add_modules(&o, moddir, why, n) < 0)
		goto out;
	if (cpio_add_path(&o, "bin/busybox", 0100755, bb, bblen, 0) < 0 ||
	    (p && cpio_add_path(&o, b->prog[prog] + 1, 0100755, p, plen, 0) < 0) ||
	    (prog == P_CONSOLE &&
	     cpio_add_path(&o, BENCH_CONSOLE_FILE + 1, 0100644, b->console, b->console_len, 0) < 0) ||
	    cpio_add(&o, "init", 0100755, init, strlen(init), 0) < 0 || cpio_finish(&o) < 0) {
		bench_fmt(why, n, "out of memory building the initramfs");
		goto out;
	}
	if ((r = image_write(&o, b->image[VM_LINUX][prog])) < 0)
		bench_fmt(why, n, "%s: %s", b->image[VM_LINUX][prog], strerror(-r));
out:
	free(p);
	cpio_free(&o);
	return r < 0 ? -1 : 0;
}

void bench_linux_prepare(struct bench *b)
{
	char why[BENCH_WHY] = "", moddir[PATH_MAX] = "", modwhy[BENCH_WHY] = "";
	unsigned char *bb = NULL;
	size_t bblen = 0;

	if (linux_kernel(b, why, sizeof(why)) == 0 && !(bb = bench_file_read(b->o.busybox, &bblen)))
		bench_fmt(why, sizeof(why),
			  "cannot read %s (apt-get install "
			  "busybox-static)",
			  b->o.busybox);
	if (!why[0])
		linux_moddir(b, moddir, modwhy, sizeof(modwhy));
	for (int p = 0; p < P_N; p++) {
		char name[64];

		bench_fmt(name, sizeof(name), "linux-%s.cpio", bench_prog_names[p]);
		bench_path_join(b->image[VM_LINUX][p], b->o.outdir, name);
		if (!(b->o.groups & 1u << p))
			continue;
		if (why[0])
			bench_fmt(b->why[VM_LINUX][p], BENCH_WHY, "%s", why);
		else if ((p == P_CONSOLE || p == P_NET) && modwhy[0])
			bench_fmt(b->why[VM_LINUX][p], BENCH_WHY, "%s", modwhy);
		else
			linux_initrd(b, p, bb, bblen, moddir, b->why[VM_LINUX][p], BENCH_WHY);
	}
	free(bb);
}

/* ---- the servers group ------------------------------------------------------ */

/* argv as one line of sh, each word in single quotes. */
static size_t linux_quote(char *s, size_t n, const char *const *argv)
{
	size_t k = 0;

	for (int i = 0; argv[i] && k < n; i++) {
		k += snprintf(s + k, n - k, "%s'", i ? " " : "");
		for (const char *c = argv[i]; *c && k < n; c++)
			k += snprintf(s + k, n - k, *c == '\'' ? "'\\''" : "%c", *c);
		if (k < n)
			k += snprintf(s + k, n - k, "'");
	}
	if (k < n)
		k += snprintf(s + k, n - k, "\n");
	return k < n ? k : n;
}

/* Two archives one after the other, which Linux unpacks in turn: ours
 * (busybox, modules, /init), then the list elfvm run packs for the same
 * program and --dir, so both VMs hold the same files. */
int bench_linux_srv_initrd(struct bench *b, const char *out, const char *dir, const char *const *argv,
			   char *why, size_t n)
{
	struct cpio_out o = { 0 };
	struct prog_file pf = { 0 };
	struct image_list l = { 0 };
	struct pack_add add = { .dir = 1 };
	struct pack_opts po = { .adds = &add, .nadds = dir[0] ? 1 : 0 };
	unsigned char *bb = NULL;
	size_t bblen = 0, k;
	char init[8192], moddir[PATH_MAX], spec[PATH_MAX + 8];
	int r = -1, fd = -1;

	if (linux_kernel(b, why, n) < 0 || linux_moddir(b, moddir, why, n) < 0)
		return -1;
	if (!(bb = bench_file_read(b->o.busybox, &bblen))) {
		bench_fmt(why, n, "cannot read %s (apt-get install busybox-static)", b->o.busybox);
		return -1;
	}
	bench_fmt(spec, sizeof(spec), "%s:/srv", dir);
	add.spec = spec;
	if (prog_load(argv[0], &pf, why, n) < 0 || pack_list(&l, &pf, &po, why, n) < 0)
		goto out;
	k = snprintf(init, sizeof(init), "#!/bin/busybox sh\n");
	k += linux_init_virtio(init + k, sizeof(init) - k, P_N);
	if (k < sizeof(init))
		k += snprintf(init + k, sizeof(init) - k, "$B mkdir -p /tmp; cd /tmp\n");
	k += linux_quote(init + k, sizeof(init) - k, argv);
	if (k < sizeof(init))
		snprintf(init + k, sizeof(init) - k, "exec /bin/busybox reboot -f\n");
	if (linux_add_modules(&o, moddir, why, n) < 0)
		goto out;
	if (cpio_add_path(&o, "bin/busybox", 0100755, bb, bblen, 0) < 0 ||
	    cpio_add(&o, "init", 0100755, init, strlen(init), 0) < 0 || cpio_finish(&o) < 0) {
		bench_fmt(why, n, "out of memory building the initramfs");
		goto out;
	}
	if ((r = image_write(&o, out)) < 0) {
		bench_fmt(why, n, "%s: %s", out, strerror(-r));
		goto out;
	}
	if ((fd = open(out, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		r = -errno;
		bench_fmt(why, n, "%s: %s", out, strerror(errno));
		goto out;
	}
	r = image_write_list(&l, fd, why, n);
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		bench_fmt(why, n, "%s: %s", out, strerror(errno));
	}
out:
	free(bb);
	if (pf.data)
		prog_free(&pf);
	image_list_free(&l);
	cpio_free(&o);
	return r < 0 ? -1 : 0;
}
