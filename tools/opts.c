/* SPDX-License-Identifier: MIT */
/*
 * The options of the `run` and `pack` verbs and their --help: each verb
 * takes the options that make the image (--env, --file, --dir, --lib,
 * --no-cache); `run` adds those of the VM and --image, `pack` adds -o.
 * Options end at PROGRAM or "--".  Nothing is checked against the host
 * here (a --file that does not exist is pack.c's message); run.c acts on
 * the result.
 */
#include "tools/tools.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char run_usage[] =
	"usage: elfvm run [OPTIONS] PROGRAM [ARGS...]\n"
	"       elfvm run [VM OPTIONS] --image IMAGE\n"
	"       elfvm run [VM OPTIONS] --disk DISK.img\n"
	"\n"
	"Runs PROGRAM (a path, or a name looked up in PATH) as its own VM under\n"
	"QEMU, with the libraries its dynamic linker opens, a small /etc, and what\n"
	"--file and --dir add; what else it opens under /usr, /lib*, /bin, /sbin\n"
	"or an allowed /etc entry is read from the host, read-only, on first use\n"
	"(not with --sealed).  Its stdout and stderr arrive on elfvm's; stdin\n"
	"streams in as the program reads it; a terminal stays a terminal (raw\n"
	"here, a tty with a line discipline there; Ctrl-] q stops the VM).\n"
	"SIGINT, SIGTERM and SIGHUP reach the program.  It sees the host's\n"
	"environment plus each --env.  Options end at PROGRAM (or --).\n"
	"\n"
	"  --mem SIZE          guest memory, e.g. 512M or 2G (default 256M)\n"
	"  --cpus N            virtual CPUs (default 1)\n"
	"  --accel auto|kvm|tcg  auto: KVM when a probe boot shows it runs the\n"
	"                      kernel (the answer kept in the cache), else TCG\n"
	"  --env K=V           add or replace one environment variable (repeatable)\n"
	"  --file HOST[:GUEST] put a host file at GUEST (default: the same absolute\n"
	"                      path; a GUEST ending in / is a directory) (repeatable)\n"
	"  --dir HOST[:GUEST]  put a host directory tree at GUEST, symlinks as\n"
	"                      symlinks, modes and mtimes kept (repeatable)\n"
	"  --lib NAME|PATH     a library the program dlopen()s: a name is searched\n"
	"                      as the program's own DT_NEEDED; its own needs come\n"
	"                      along (repeatable)\n"
	"  --libc aware|stock  a dynamic musl program's dynamic linker (its libc):\n"
	"                      aware (default) is libc-aware's musl, whose syscalls\n"
	"                      are function calls into the kernel; stock is the\n"
	"                      host's (docs/libc-aware.md)\n"
	"  --no-cache          build the image afresh; do not read or fill the cache\n"
	"                      ($XDG_CACHE_HOME/elfvm, else ~/.cache/elfvm)\n"
	"  --image IMAGE       boot an image from `elfvm pack` as it is (its argv\n"
	"                      and environment)\n"
	"  --timeout SECONDS   kill the VM after SECONDS; exit status 124\n"
	"  --strace            print each system call to stderr (or to --log)\n"
	"  --core FILE         when the program dies of a signal that dumps core,\n"
	"                      write its ELF core file there (gdb PROGRAM FILE;\n"
	"                      docs/debugging.md); RLIMIT_CORE starts unlimited\n"
	"  --gdb[=ADDR:PORT|unix:PATH]  QEMU's gdb stub on loopback (default\n"
	"                      127.0.0.1, a free port); the program waits at its\n"
	"                      first instruction for the gdb command line printed\n"
	"                      on stderr (docs/debugging.md)\n"
	"  --profile FILE      count the system calls the run makes and write them\n"
	"                      to FILE: NAME NUMBER COUNT, one a line (docs/trim.md)\n"
	"  --trim[=static|dynamic|both]  boot a kernel with only the system calls\n"
	"                      the program needs (default both): static asks\n"
	"                      `elfvm analyze`, dynamic profiles a run of the same\n"
	"                      command first (stdin /dev/null, output dropped);\n"
	"                      built by make in elfvm's source tree, kept in the\n"
	"                      cache (docs/trim.md)\n"
	"  --log FILE          write the kernel log to FILE, including the crash\n"
	"                      report (registers, backtrace) when the program dies\n"
	"                      of a signal\n"
	"  --verbose           more kernel log, shown on stderr\n"
	"  --kernel PATH       the kernel (default: kernel.elf beside elfvm)\n"
	"  --machine microvm|q35  QEMU machine type (default microvm)\n"
	"  --firmware pvh|uefi  how the kernel boots: pvh (default) hands it to QEMU\n"
	"                      directly; uefi boots OVMF ($ELFVM_OVMF, default\n"
	"                      /usr/share/ovmf/OVMF.fd), which starts the loader\n"
	"                      from a temporary disk as `pack --disk` writes it\n"
	"                      (q35 only; docs/uefi.md)\n"
	"  --disk DISK.img     boot a disk from `elfvm pack --disk` as it is, through\n"
	"                      UEFI on q35 (its image is sealed; the VM options and\n"
	"                      --volume apply)\n"
	"  --net user|none|tap:IFNAME  the VM's network (default user: QEMU's\n"
	"                      user networking, no set-up, no host privileges);\n"
	"                      none leaves the program only its loopback\n"
	"  --publish [HOSTADDR:]HOSTPORT:GUESTPORT[/tcp|/udp]  forward a host port\n"
	"                      (on 127.0.0.1 unless HOSTADDR) to the guest's\n"
	"                      (repeatable; --net user)\n"
	"  --ip ADDR/PREFIX|dhcp  the guest's address (default 10.0.2.15/24);\n"
	"                      dhcp asks the network's DHCP server (docs/net.md)\n"
	"  --gateway ADDR      its default route (default: the network's .2)\n"
	"  --dns ADDR          its DNS server, in /etc/resolv.conf (default: the\n"
	"                      network's .3)\n"
	"  --volume HOST:GUEST[:ro]  share the host directory HOST at GUEST,\n"
	"                      writable (or read-only): what the program writes\n"
	"                      there stays on the host (repeatable)\n"
	"  --sealed            the image alone: no host system files on demand\n"
	"                      (by default a file the image lacks under /usr, /lib*,\n"
	"                      /bin, /sbin or an allowed /etc entry is read from\n"
	"                      the host, read-only; docs/hostfiles.md)\n"
	"  -h, --help          this text\n"
	"\n"
	"Exit status: the program's own; 128+N when it died of signal N; 124 on\n"
	"--timeout; 125 when elfvm cannot run it (one line on stderr says why,\n"
	"e.g. a library not found).\n";

static const char pack_usage[] =
	"usage: elfvm pack -o IMAGE [OPTIONS] PROGRAM [ARGS...]\n"
	"       elfvm pack --disk DISK.img [--disk-size SIZE] [OPTIONS] PROGRAM [ARGS...]\n"
	"\n"
	"Writes the image `elfvm run` would boot to IMAGE (- for\n"
	"stdout): a cpio \"newc\" archive holding PROGRAM at its absolute path, its\n"
	"interpreter and libraries where its dynamic linker looks for them (with\n"
	"the host's symlinks), a small /etc, then a second archive with the\n"
	".elfvm/ control files (docs/protocol.md, docs/packer.md).  Inspect it\n"
	"with `cpio -itv < IMAGE`; boot it with `elfvm run --image IMAGE`.\n"
	"Exit status 0, or 125 with one line on stderr.\n"
	"\n"
	"  -o, --output IMAGE  the file to write\n"
	"  --disk DISK.img     write a raw GPT disk that boots through UEFI: an EFI\n"
	"                      system partition with the loader, the kernel (or\n"
	"                      --kernel PATH's) and the image, sealed as with --trace\n"
	"                      (no host to share /usr from); boot it with `elfvm\n"
	"                      run --disk`, plain QEMU with OVMF, or a cloud VM in\n"
	"                      UEFI mode (docs/uefi.md).  Needs mkfs.fat and mtools\n"
	"  --disk-size SIZE    the disk's whole size, e.g. 64M or 1G (default: what\n"
	"                      the files need, at least 38 MiB for FAT32); sparse\n"
	"  --env K=V           add or replace one environment variable (repeatable)\n"
	"  --file HOST[:GUEST], --dir HOST[:GUEST], --lib NAME|PATH, --libc aware|stock,\n"
	"  --no-cache          as for `elfvm run` (see elfvm run --help)\n"
	"  --trace             run the program once (stdin, --mem, --publish and\n"
	"                      the other options of `elfvm run` apply) with the\n"
	"                      host's system files on demand, and pack a sealed\n"
	"                      image: exactly the files that run used, no host\n"
	"                      needed to boot it (docs/hostfiles.md)\n"
	"  -h, --help          this text\n";

int opts_bad(const struct run_opts *o, const char *fmt, const char *arg)
{
	fprintf(stderr, "elfvm %s: ", o->verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'elfvm %s --help')\n", o->verb);
	return -1;
}

/* An option that adds to the image.  Returns 0, 1 when name is none, or
 * -1 after a message. */
static int set_content(struct run_opts *o, const char *name, const char *v)
{
	if (!strcmp(name, "--env")) {
		if (!strchr(v, '=') || *v == '=')
			return opts_bad(o, "--env wants K=V, not '%s'", v);
		o->env[o->nenv++] = (char *)v;
	} else if (!strcmp(name, "--file") || !strcmp(name, "--dir")) {
		if (!*v || *v == ':')
			return opts_bad(o, "%s wants HOST[:GUEST]", name);
		o->pk.adds[o->pk.nadds++] = (struct pack_add){ .dir = name[2] == 'd', .spec = v };
	} else if (!strcmp(name, "--lib")) {
		if (!*v)
			return opts_bad(o, "%s", "--lib wants a name or a path");
		o->pk.libs[o->pk.nlibs++] = (char *)v;
	} else if (!strcmp(name, "--libc")) {
		if (strcmp(v, "aware") && strcmp(v, "stock"))
			return opts_bad(o, "bad --libc '%s': want aware or stock", v);
		o->pk.libc_stock = !strcmp(v, "stock");
	} else {
		return 1;
	}
	return 0;
}

/* One option that takes a value.  Returns 0, or -1 after a message. */
static int set_value(struct run_opts *o, const char *name, const char *v)
{
	char *end;
	int r = set_content(o, name, v);

	if (r <= 0)
		return r;
	r = netopts_set(o, name, v);
	if (r <= 0)
		return r;
	r = shares_set(o, name, v);
	if (r <= 0)
		return r;
	if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
		o->output = v;
	} else if (!strcmp(name, "--image")) {
		o->image = v;
	} else if (!strcmp(name, "--mem")) {
		if (vm_check_mem(v) < 0)
			return opts_bad(o, "bad --mem '%s': want e.g. 256M or 2G", v);
		o->mem = v;
	} else if (!strcmp(name, "--cpus")) {
		long n = strtol(v, &end, 10);
		if (*v < '0' || *v > '9' || *end || n < 1 || n > 255)
			return opts_bad(o, "bad --cpus '%s': want 1 to 255", v);
		o->cpus = (int)n;
	} else if (!strcmp(name, "--accel")) {
		if (vm_parse_accel(v, &o->accel) < 0)
			return opts_bad(o, "bad --accel '%s': want auto, kvm or tcg", v);
	} else if (!strcmp(name, "--timeout")) {
		o->timeout = strtod(v, &end);
		if (end == v || *end || !isfinite(o->timeout) || o->timeout <= 0)
			return opts_bad(o, "bad --timeout '%s': want seconds > 0", v);
	} else if (!strcmp(name, "--machine")) {
		if (strcmp(v, "microvm") && strcmp(v, "q35"))
			return opts_bad(o, "bad --machine '%s': want microvm or q35", v);
		o->machine = v;
	} else if (!strcmp(name, "--disk")) {
		if (!*v)
			return opts_bad(o, "%s", "--disk wants a file name");
		o->disk = v;
	} else if (!strcmp(name, "--disk-size")) {
		if (disk_parse_size(v, &o->disk_size) < 0)
			return opts_bad(o, "bad --disk-size '%s': want e.g. 64M or 2G", v);
	} else if (!strcmp(name, "--firmware")) {
		if (strcmp(v, "pvh") && strcmp(v, "uefi"))
			return opts_bad(o, "bad --firmware '%s': want pvh or uefi", v);
		o->firmware = v;
	} else if (!strcmp(name, "--log")) {
		o->log = v;
	} else if (!strcmp(name, "--core")) {
		if (!*v)
			return opts_bad(o, "%s", "--core wants a file name");
		o->core = v;
	} else if (!strcmp(name, "--profile")) {
		if (!*v)
			return opts_bad(o, "%s", "--profile wants a file name");
		o->profile = v;
	} else {
		o->kernel = v; /* --kernel */
	}
	return 0;
}

/* Does name take a value in this verb?  2 when it is an option of the VM
 * (which pack takes only with --trace). */
static int takes_value(const struct run_opts *o, const char *name)
{
	static const char *const both[] = {
		"--env", "--file", "--dir", "--lib", "--libc", "--disk", NULL
	};
	static const char *const run_only[] = {
		"--mem",     "--cpus",   "--accel",   "--timeout",  "--log",  "--kernel",
		"--machine", "--image",  "--net",     "--publish",  "--ip",   "--gateway",
		"--dns",     "--volume", "--profile", "--firmware", "--core", NULL
	};
	int pack = !strcmp(o->verb, "pack");

	for (int i = 0; both[i]; i++)
		if (!strcmp(name, both[i]))
			return 1;
	if (pack && (!strcmp(name, "-o") || !strcmp(name, "--output") || !strcmp(name, "--disk-size")))
		return 1;
	/* pack --disk puts a kernel on the disk: not an option of the VM. */
	if (pack && !strcmp(name, "--kernel"))
		return 1;
	for (int i = 0; run_only[i]; i++)
		if (!strcmp(name, run_only[i]))
			return !pack || strcmp(name, "--image") ? 2 : 0;
	return 0;
}

/* A flag (an option without a value) of this verb: set it.  Returns 1 when
 * a is one. */
static int set_flag(struct run_opts *o, const char *a)
{
	int run = !strcmp(o->verb, "run");

	if (!strcmp(a, "--strace"))
		o->strace = 1;
	else if (!strcmp(a, "--verbose"))
		o->verbose = 1;
	else if (!strcmp(a, "--no-cache"))
		o->no_cache = 1;
	else if (run && !strcmp(a, "--sealed"))
		o->sh.sealed = 1;
	else if (!run && !strcmp(a, "--trace"))
		o->sh.trace = 1;
	else
		return 0;
	if (!run && strcmp(a, "--no-cache") && strcmp(a, "--trace"))
		o->nvm++;
	return 1;
}

/* What must hold once all options are read.  Returns 0, or -1 after a
 * message. */
static int check_opts(const struct run_opts *o, int i, int argc, char **argv)
{
	int pack = !strcmp(o->verb, "pack"), run_disk = !pack && o->disk;
	int uefi = run_disk || (o->firmware && !strcmp(o->firmware, "uefi"));

	if (run_disk && (i < argc || o->image))
		return opts_bad(o, "--disk boots the disk as it is: unexpected '%s'",
				o->image ? "--image" : argv[i]);
	if (run_disk && (o->nenv || o->pk.nadds || o->pk.nlibs || o->kernel || o->trim))
		return opts_bad(o, "%s",
				"--disk boots the disk as it is: no --env, --file, --dir, --lib, "
				"--kernel or --trim (pack a new disk)");
	if (run_disk && o->firmware && !strcmp(o->firmware, "pvh"))
		return opts_bad(o, "%s", "--disk boots through UEFI: not with --firmware pvh");
	if (o->image && i < argc)
		return opts_bad(o, "--image boots the image as it is: unexpected '%s'", argv[i]);
	if (o->image && (o->nenv || o->pk.nadds || o->pk.nlibs))
		return opts_bad(o, "%s",
				"--image boots the image as it is: no --env, "
				"--file, --dir or --lib (pack a new image)");
	if (!o->image && !run_disk && i >= argc)
		return opts_bad(o, "%s", "missing PROGRAM");
	if (o->trim && (o->image || o->kernel))
		return opts_bad(o, "%s",
				"--trim builds the kernel it boots from PROGRAM: not with --image "
				"or --kernel");
	if (uefi && o->machine && strcmp(o->machine, "q35"))
		return opts_bad(o, "UEFI boots the q35 machine: not --machine %s", o->machine);
	if (pack && o->disk && o->output && !strcmp(o->output, "-"))
		return opts_bad(o, "%s", "--disk needs the image in a file: -o FILE, not -o -");
	if (pack && o->disk_size && !o->disk)
		return opts_bad(o, "%s", "--disk-size needs --disk");
	if (pack && o->kernel && !o->disk && !o->sh.trace)
		return opts_bad(o, "%s", "--kernel needs --disk or --trace (an image has no kernel)");
	if (o->nvm && !o->sh.trace)
		return opts_bad(o, "%s",
				"the options of the VM need --trace (pack runs nothing without it)");
	return 0;
}

int opts_parse(int argc, char **argv, struct run_opts *o)
{
	int i;

	o->env = calloc((size_t)argc, sizeof(*o->env));
	o->pk.adds = calloc((size_t)argc, sizeof(*o->pk.adds));
	o->pk.libs = calloc((size_t)argc, sizeof(*o->pk.libs));
	o->net.publish = calloc((size_t)argc, sizeof(*o->net.publish));
	o->sh.volumes = calloc((size_t)argc, sizeof(*o->sh.volumes));
	if (!o->env || !o->pk.adds || !o->pk.libs || !o->net.publish || !o->sh.volumes) {
		fputs("elfvm: out of memory\n", stderr);
		return -1;
	}

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		char name[32];
		const char *a = argv[i], *eq = strchr(a, '=');
		int kind;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(strcmp(o->verb, "run") ? pack_usage : run_usage, stdout);
			return 0;
		}
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		/* --trim's value is optional, so only --trim=MODE gives one. */
		if (!strcmp(name, "--trim") && !strcmp(o->verb, "run")) {
			o->trim = eq ? eq + 1 : "both";
			if (strcmp(o->trim, "static") && strcmp(o->trim, "dynamic") &&
			    strcmp(o->trim, "both"))
				return opts_bad(o, "bad --trim '%s': want static, dynamic or both",
						o->trim);
			continue;
		}
		if (!strcmp(name, "--gdb") && !strcmp(o->verb, "run")) {
			o->gdb = eq ? eq + 1 : ""; /* checked by gdb_prepare */
			continue;
		}
		if (!eq && set_flag(o, a)) {
			continue;
		} else if (!(kind = takes_value(o, name))) {
			return opts_bad(o, "unknown option '%s'", a);
		}
		if (kind == 2 && !strcmp(o->verb, "pack"))
			o->nvm++;
		if (eq) {
			if (set_value(o, name, eq + 1) < 0)
				return -1;
		} else if (i + 1 >= argc) {
			return opts_bad(o, "%s needs a value", a);
		} else if (set_value(o, name, argv[++i]) < 0) {
			return -1;
		}
	}
	if (check_opts(o, i, argc, argv) < 0)
		return -1;
	/* UEFI (OVMF) runs on q35 only; pack --trace's run too. */
	if ((o->disk && strcmp(o->verb, "pack")) || (o->firmware && !strcmp(o->firmware, "uefi")))
		o->machine = "q35";
	return o->disk && strcmp(o->verb, "pack") ? argc : i;
}

void opts_free(struct run_opts *o)
{
	free(o->env);
	free(o->pk.adds);
	free(o->pk.libs);
	free(o->net.publish);
	free(o->sh.volumes);
	if (o->pk.also) {
		prog_free(o->pk.also);
		free(o->pk.also);
	}
}
