/* SPDX-License-Identifier: MIT */
/*
 * What QEMU is asked to run: the command line of docs/protocol.md (machine,
 * CPU, memory, the kernel and its image, the virtio console's ports, the
 * serial lines, debugcon, isa-debug-exit, QMP and virtio-net) and the
 * checks of the values that go on it.  It starts nothing and reads
 * nothing: vmm.c spawns QEMU with the fds this command line names
 * (vmm_int.h) and follows it.
 */
#include "tools/vmm_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *vm_accel_name(enum vm_accel a)
{
	return a == VM_ACCEL_KVM ? "kvm" : a == VM_ACCEL_TCG ? "tcg" : "auto";
}

int vm_parse_accel(const char *s, enum vm_accel *out)
{
	static const enum vm_accel all[] = { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(s, vm_accel_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* QEMU's -m takes what --disk-size takes (digits, an optional K, M, G or
 * T): one parser for both (disk.c). */
int vm_check_mem(const char *s)
{
	uint64_t bytes;

	return disk_parse_size(s, &bytes);
}

int vm_beside_elfvm(const char *name, char *path, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (len < 0)
		return -errno;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if ((size_t)snprintf(path, n, "%s/%s", self, name) >= n)
		return -ENAMETOOLONG;
	return 0;
}

int vm_default_kernel(char *path, size_t n)
{
	return vm_beside_elfvm("kernel.elf", path, n);
}

/* ---- the QEMU command line ------------------------------------------------ */


/* QEMU's option syntax doubles a comma inside a value: "KEY" then path
 * into out. */
static const char *qemu_value(char *out, size_t n, const char *key, const char *path)
{
	size_t o = (size_t)snprintf(out, n, "%s", key);

	for (const char *c = path; *c && o + 2 < n; c++) {
		out[o++] = *c;
		if (*c == ',')
			out[o++] = ',';
	}
	out[o < n ? o : n - 1] = '\0';
	return out;
}

/* Boots cfg->disk the UEFI way (docs/uefi.md): OVMF as the BIOS image
 * (measured faster to start than pflash with a copy of its variables:
 * 2.9 s against 3.3-3.9 s under TCG here), the disk read-only on a modern
 * virtio-blk-pci, and the kernel's words in the fw_cfg file the loader
 * reads.  Returns the next free index of argv. */
static int uefi_args(const struct vm_config *cfg, const char *cmdfile, struct vm_argbufs *b,
		     const char **argv, int i)
{
	argv[i++] = "-bios";
	argv[i++] = cfg->firmware;
	argv[i++] = "-drive";
	argv[i++] = qemu_value(b->drive, sizeof(b->drive),
			       "if=none,id=disk0,format=raw,readonly=on,file=", cfg->disk);
	argv[i++] = "-device";
	argv[i++] = "virtio-blk-pci,drive=disk0,disable-legacy=on";
	argv[i++] = "-fw_cfg";
	argv[i++] = qemu_value(b->fwcfg, sizeof(b->fwcfg), "name=opt/org.elfvm/cmdline,file=", cmdfile);
	return i;
}

/* Fills argv (VM_MAX_ARGS) with the command line of docs/protocol.md.
 *
 * The program's stdout and stderr leave through a virtio console's two
 * named ports (docs/virtio.md), whose chardevs write to fds 1 and 3; the
 * serial lines stay, on chardevs of their own to the same fds, for a
 * kernel that finds no virtio console.  On microvm, acpi=off makes QEMU
 * append the virtio_mmio.device= words the kernel finds its devices by;
 * on q35 the devices are PCI, modern only (disable-legacy=on). */
void vm_build_argv(const struct vm_config *cfg, const char *cmdline, struct vm_argbufs *b,
		   const char **argv)
{
	int q35 = cfg->machine && !strcmp(cfg->machine, "q35");
	int kvm = cfg->accel == VM_ACCEL_KVM;
	const char *qemu = getenv("ELFVM_QEMU");
	int i = 0;

	argv[i++] = qemu && *qemu ? qemu : "qemu-system-x86_64";
	argv[i++] = "-M";
	argv[i++] = q35 ? "q35" : "microvm,isa-serial=off,pit=on,pic=off,rtc=on,acpi=off";
	/* Transactional memory is masked: TCG cannot run it and glibc would
	 * pick lock elision where a KVM host offers it. */
	argv[i++] = "-cpu";
	argv[i++] = "max,-rtm,-hle";
	argv[i++] = "-m";
	argv[i++] = cfg->mem ? cfg->mem : "256M";
	argv[i++] = "-accel";
	argv[i++] = kvm ? "kvm" : "tcg";
	if (cfg->cpus > 1) {
		snprintf(b->smp, sizeof(b->smp), "%d", cfg->cpus);
		argv[i++] = "-smp";
		argv[i++] = b->smp;
	}
	argv[i++] = "-nodefaults";
	argv[i++] = "-no-user-config";
	argv[i++] = "-display";
	argv[i++] = "none";
	argv[i++] = "-no-reboot";
	if (cfg->disk) {
		i = uefi_args(cfg, cmdline, b, argv, i);
	} else {
		argv[i++] = "-kernel";
		argv[i++] = cfg->kernel;
		argv[i++] = "-initrd";
		argv[i++] = cfg->initrd;
		argv[i++] = "-append";
		argv[i++] = cmdline;
	}
	if (!q35) {
		argv[i++] = "-global";
		argv[i++] = "virtio-mmio.force-legacy=false";
	}
	argv[i++] = "-chardev";
	argv[i++] = "file,id=out,path=/proc/self/fd/1,append=on"; /* QFD_OUT */
	argv[i++] = "-chardev";
	argv[i++] = "file,id=err,path=/proc/self/fd/3,append=on"; /* QFD_ERR */
	/* OVMF writes its own messages and screen controls to COM1: under
	 * UEFI the serial lines go nowhere, and the program's output comes
	 * only through the virtio console, which the kernel always finds on
	 * q35. */
	argv[i++] = "-chardev";
	argv[i++] = cfg->disk ? "null,id=uout" : "file,id=uout,path=/proc/self/fd/1,append=on";
	argv[i++] = "-chardev";
	argv[i++] = cfg->disk ? "null,id=uerr" : "file,id=uerr,path=/proc/self/fd/3,append=on";
	argv[i++] = "-chardev";
	argv[i++] = "file,id=log,path=/proc/self/fd/4,append=on"; /* QFD_LOG */
	argv[i++] = "-device";
	if (cfg->core)
		argv[i++] = q35 ? "virtio-serial-pci,disable-legacy=on,max_ports=6"
				: "virtio-serial-device,max_ports=6";
	else
		argv[i++] = q35 ? "virtio-serial-pci,disable-legacy=on,max_ports=5"
				: "virtio-serial-device,max_ports=5";
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=out,name=elfvm.stdout,nr=1";
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=err,name=elfvm.stderr,nr=2";
	/* stdin and the control records: sockets whose other ends follow()
	 * writes (docs/terminal.md). */
	argv[i++] = "-chardev";
	argv[i++] = "socket,id=in,fd=6"; /* QFD_IN */
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=in,name=elfvm.stdin,nr=3";
	argv[i++] = "-chardev";
	argv[i++] = "socket,id=ctl,fd=7"; /* QFD_CTL */
	argv[i++] = "-device";
	argv[i++] = "virtserialport,chardev=ctl,name=elfvm.ctl,nr=4";
	if (cfg->core) {
		argv[i++] = "-chardev";
		argv[i++] = qemu_value(b->core, sizeof(b->core), "file,id=core,path=", cfg->core);
		argv[i++] = "-device";
		argv[i++] = "virtserialport,chardev=core,name=elfvm.core,nr=5";
	}
	if (cfg->netdev) {
		snprintf(b->net, sizeof(b->net), "%s,id=net0", cfg->netdev);
		argv[i++] = "-netdev";
		argv[i++] = b->net;
		argv[i++] = "-device";
		argv[i++] = q35 ? "virtio-net-pci,disable-legacy=on,romfile=,netdev=net0"
				: "virtio-net-device,netdev=net0";
	}
	argv[i++] = "-device";
	argv[i++] = "isa-serial,chardev=uout,index=0"; /* COM1 0x3f8 */
	argv[i++] = "-device";
	argv[i++] = "isa-serial,chardev=uerr,index=1"; /* COM2 0x2f8 */
	argv[i++] = "-device";
	argv[i++] = "isa-debugcon,iobase=0xe9,chardev=log";
	argv[i++] = "-device";
	argv[i++] = "isa-debug-exit,iobase=0xf4,iosize=4";
	/* QMP tells us when QEMU pauses the VM (a KVM error, say): a paused VM
	 * never ends by itself. */
	argv[i++] = "-chardev";
	argv[i++] = "socket,id=qmp,fd=5"; /* QFD_QMP */
	argv[i++] = "-mon";
	argv[i++] = "chardev=qmp,mode=control";
	for (int k = 0; cfg->extra && cfg->extra[k]; k++)
		argv[i++] = cfg->extra[k];
	if (cfg->gdb) { /* docs/debugging.md */
		argv[i++] = "-gdb";
		argv[i++] = cfg->gdb->stub;
	}
	argv[i] = NULL;
}

/* ELFVM_PRINT_QEMU=1: one line on stderr, quoted so a shell can run it. */
void vm_print_argv(const char *const *argv)
{
	for (int i = 0; argv[i]; i++) {
		const char *a = argv[i];
		int plain = *a && strspn(a,
					 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_-+=.,/:@%") == strlen(a);

		fputs(i ? " " : "", stderr);
		if (plain) {
			fputs(a, stderr);
			continue;
		}
		fputc('\'', stderr);
		for (; *a; a++)
			fputs(*a == '\'' ? "'\\''" : (char[]){ *a, 0 }, stderr);
		fputc('\'', stderr);
	}
	fputc('\n', stderr);
}
