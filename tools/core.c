// SPDX-License-Identifier: MIT
/*
 * `elfvm run --core FILE` on the host side (docs/debugging.md): the kernel
 * streams the core file on the virtio console's elfvm.core port, which
 * QEMU writes to a temporary file beside FILE; `@@core N` says it is
 * whole, and only then does it become FILE (a rename, so FILE is never
 * half a core).  Without the record the temporary file goes.
 */
#include "tools/tools.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int core_prepare(const char *file, char *tmp, size_t n)
{
	int fd;

	if ((size_t)snprintf(tmp, n, "%s.elfvm-XXXXXX", file) >= n) {
		fprintf(stderr, "elfvm: --core %s: the name is too long\n", file);
		return ELFVM_EXIT_FAIL;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "elfvm: --core %s: cannot create a file there: %s\n", file,
			strerror(errno));
		return ELFVM_EXIT_FAIL;
	}
	close(fd);
	return 0;
}

void core_finish(const char *file, const char *tmp, const struct vm_result *res, const char *prog)
{
	char cmd[6 * PATH_MAX];
	struct stat st;

	if (!res->core) {
		unlink(tmp);
		if (res->end == VM_END_SIGNAL)
			fprintf(stderr,
				"elfvm: no core written (signal %d does not dump core, or "
				"RLIMIT_CORE is 0)\n",
				res->code);
		return;
	}
	if (stat(tmp, &st) < 0 || (uint64_t)st.st_size != res->core_bytes) {
		fprintf(stderr,
			"elfvm: --core %s: the core is incomplete (%lld of %llu bytes); not kept\n",
			file, (long long)(stat(tmp, &st) < 0 ? 0 : st.st_size),
			(unsigned long long)res->core_bytes);
		unlink(tmp);
		return;
	}
	if (rename(tmp, file) < 0) {
		fprintf(stderr, "elfvm: --core %s: %s\n", file, strerror(errno));
		unlink(tmp);
		return;
	}
	if (!prog) {
		fprintf(stderr, "elfvm: core dumped to %s (%llu bytes)\n", file,
			(unsigned long long)res->core_bytes);
		return;
	}
	gdb_core_command(prog, file, cmd, sizeof(cmd));
	fprintf(stderr, "elfvm: core dumped to %s (%llu bytes); read it with: %s\n", file,
		(unsigned long long)res->core_bytes, cmd);
}
