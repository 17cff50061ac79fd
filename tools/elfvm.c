/* SPDX-License-Identifier: MIT */
/*
 * The elfvm command: picks the verb and hands over to it.  Each verb parses
 * its own options and prints its own --help (run.c, bench.c); this file
 * only knows their names.  It also makes sure fds 0, 1 and 2 are open, so
 * that no file elfvm opens can land on them and QEMU's /proc/self/fd/1 and
 * /proc/self/fd/2 always name something.
 */
#include "tools/tools.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: elfvm VERB [OPTIONS] ...\n"
	"\n"
	"Runs an unmodified Linux x86-64 ELF program as its own virtual machine.\n"
	"\n"
	"verbs:\n"
	"  run [OPTIONS] PROGRAM [ARGS...]   boot PROGRAM in a VM and return its\n"
	"                                    exit status\n"
	"  pack -o IMAGE PROGRAM [ARGS...]   write the image without booting it\n"
	"  analyze [OPTIONS] PROGRAM [ARGS...]  the system calls PROGRAM can make\n"
	"  bench [OPTIONS]                   the benchmark suite\n"
	"  help                              this text\n"
	"\n"
	"`elfvm VERB --help` describes a verb and its options.  Exit status of\n"
	"run: the program's own; 128+N when it died of signal N; 124 on --timeout;\n"
	"125 when elfvm cannot run it.\n";

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} verbs[] = {
	{ "run", run_main },
	{ "pack", pack_main },
	{ "analyze", analyze_main },
	{ "bench", bench_main },
};

/* A closed fd 0, 1 or 2 becomes /dev/null. */
static void std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

/* Runs the verb named name with argv[0] = its name. */
static int main_verb(const char *name, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(name, verbs[i].name))
			return verbs[i].main(argc, argv);
	fprintf(stderr, "elfvm: unknown verb '%s'\n\n%s", name, usage);
	return ELFVM_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	std_fds_open();
	if (!verb) {
		fputs(usage, stderr);
		return ELFVM_EXIT_USAGE;
	}
	if (!strcmp(verb, "help") || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		if (argc > 2) /* elfvm help VERB */
			return main_verb(argv[2], 2, (char *[]){ argv[2], "--help", NULL });
		fputs(usage, stdout);
		return 0;
	}
	return main_verb(verb, argc - 1, argv + 1);
}
