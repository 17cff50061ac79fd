/* SPDX-License-Identifier: MIT */
/*
 * The UEFI rows of `elfvm bench` (docs/bench.md, docs/uefi.md): hello's
 * QEMU start → first output byte booted through OVMF and the loader from
 * the disk `pack --disk` writes, against the PVH boot of the same kernel
 * and image, both on q35 whatever --machine says (UEFI has no microvm),
 * and the disk's apparent and allocated size.  Part of the boot group;
 * it uses bench_elfvm_prepare's hello image and writes its own rows after
 * the main table.  The Linux VM has no such rows.
 */
#define _GNU_SOURCE /* pipe2 */
#include "tools/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const side_names[BENCH_UEFI_N] = { "elfvm-pvh-q35", "elfvm-uefi-q35" };

void bench_uefi_prepare(struct bench *b)
{
	char loader[PATH_MAX], why[PATH_MAX + 256];
	struct stat st;

	bench_path_join(b->uefi_disk, b->o.outdir, "elfvm-hello-uefi.img");
	b->disk_apparent = b->disk_allocated = -1;
	if (!(b->o.groups & 1u << P_HELLO))
		return;
	if (b->why[VM_ELFVM][P_HELLO][0])
		bench_fmt(b->uefi_why, BENCH_WHY, "%s", b->why[VM_ELFVM][P_HELLO]);
	else if (access(disk_firmware(), R_OK) < 0)
		bench_fmt(b->uefi_why, BENCH_WHY, "no UEFI firmware %s (apt-get install ovmf)",
			  disk_firmware());
	else if (disk_loader(loader, sizeof(loader), why, sizeof(why)) < 0 ||
		 disk_write(b->uefi_disk,
			    &(struct disk_files){ .loader = loader,
						  .kernel = b->kernel[VM_ELFVM],
						  .image = b->image[VM_ELFVM][P_HELLO],
						  .cmdline = "" },
			    0, why, sizeof(why)) < 0)
		bench_fmt(b->uefi_why, BENCH_WHY, "%s", why);
	else if (stat(b->uefi_disk, &st) == 0) {
		b->disk_apparent = (long)st.st_size;
		b->disk_allocated = (long)st.st_blocks * 512;
	}
}

/* Boots hello on side in a child whose stdout is a pipe; returns the time
 * from the fork to the first byte on it in ms, or -1 with why set. */
static double boot_once(struct bench *b, int side, char *why)
{
	int p[2];
	int64_t t0, first = 0;
	char buf[4096];
	pid_t pid;
	int st = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return bench_fmt(why, BENCH_WHY, "pipe: %s", strerror(errno)), -1;
	fflush(stdout);
	t0 = vm_now_ns();
	pid = fork();
	if (pid == 0) {
		struct vm_result r;
		struct vm_config cfg = {
			.kernel = b->kernel[VM_ELFVM],
			.initrd = side ? NULL : b->image[VM_ELFVM][P_HELLO],
			.disk = side ? b->uefi_disk : NULL,
			.firmware = side ? disk_firmware() : NULL,
			.mem = b->o.mem,
			.cpus = 1,
			.accel = b->o.accel,
			.machine = "q35",
			.timeout = BENCH_TIMEOUT_S,
		};
		dup2(p[1], 1);
		_exit(vm_run(&cfg, &r) == 0 ? 0 : 1);
	}
	close(p[1]);
	for (ssize_t n; pid > 0 && (n = read(p[0], buf, sizeof(buf))) != 0;)
		if (n > 0 && !first)
			first = vm_now_ns();
		else if (n < 0 && errno != EINTR)
			break;
	close(p[0]);
	if (pid < 0)
		return bench_fmt(why, BENCH_WHY, "fork: %s", strerror(errno)), -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!first || !WIFEXITED(st) || WEXITSTATUS(st))
		return bench_fmt(why, BENCH_WHY, "hello did not run to its end (%s)",
				 first ? "non-zero status" : "no output"),
		       -1;
	return (double)(first - t0) / 1e6;
}

void bench_uefi_one(struct bench *b, int run)
{
	if (!(b->o.groups & 1u << P_HELLO))
		return;
	for (int side = 0; side < BENCH_UEFI_N; side++) {
		char why[BENCH_WHY] = "";
		b->uefi_first_ms[side][run] = b->uefi_why[0] ? -1 : boot_once(b, side, why);
		if (why[0] && !b->uefi_run_why[side][0]) /* the first failure says it */
			bench_fmt(b->uefi_run_why[side], BENCH_WHY, "%s", why);
		if (b->uefi_first_ms[side][run] >= 0)
			fprintf(stderr, "elfvm bench: run %d hello   %s ok first output %.0f ms\n",
				run + 1, side_names[side], b->uefi_first_ms[side][run]);
		else
			fprintf(stderr, "elfvm bench: run %d hello   %s failed: %s\n", run + 1,
				side_names[side], b->uefi_why[0] ? b->uefi_why : why);
	}
}

static int cmp_double(const void *a, const void *c)
{
	double x = *(const double *)a, y = *(const double *)c;

	return x < y ? -1 : x > y;
}

/* Median, least and most of one side's runs; med -1 when none. */
static void stat3_of(const struct bench *b, int side, double *med, double *lo, double *hi)
{
	double s[BENCH_MAX_RUNS];
	int k = 0;

	for (int r = 0; r < b->o.runs; r++)
		if (b->uefi_first_ms[side][r] >= 0)
			s[k++] = b->uefi_first_ms[side][r];
	qsort(s, (size_t)k, sizeof(s[0]), cmp_double);
	*med = !k ? -1 : k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
	*lo = k ? s[0] : -1;
	*hi = k ? s[k - 1] : -1;
}

void bench_uefi_md(FILE *f, const struct bench *b)
{
	double m[BENCH_UEFI_N], lo, hi;

	if (!(b->o.groups & 1u << P_HELLO))
		return;
	fputs("\n| hello on q35, same kernel and image | PVH | UEFI (OVMF, loader, disk) | UEFI / PVH |\n"
	      "|---|---:|---:|---:|\n| boot: QEMU start → first output byte, ms |",
	      f);
	for (int side = 0; side < BENCH_UEFI_N; side++) {
		stat3_of(b, side, &m[side], &lo, &hi);
		if (m[side] >= 0)
			fprintf(f, " %.1f (%.1f–%.1f) |", m[side], lo, hi);
		else
			fprintf(f, " failed: %.100s |",
				b->uefi_why[0] ? b->uefi_why : b->uefi_run_why[side]);
	}
	if (m[0] > 0 && m[1] > 0)
		fprintf(f, " %.3f |\n", m[1] / m[0]);
	else
		fputs(" – |\n", f);
	fprintf(f, "| disk image (`elfvm pack --disk`), apparent / allocated bytes | | %ld / %ld | |\n",
		b->disk_apparent, b->disk_allocated);
}

void bench_uefi_csv(FILE *f, const struct bench *b)
{
	if (!(b->o.groups & 1u << P_HELLO))
		return;
	for (int side = 0; side < BENCH_UEFI_N; side++)
		for (int r = 0; r < b->o.runs; r++)
			if (b->uefi_first_ms[side][r] >= 0)
				fprintf(f, "%s,hello,%d,first_output,%.1f,ms\n", side_names[side], r + 1,
					b->uefi_first_ms[side][r]);
	fprintf(f, "elfvm-uefi-q35,hello,,disk_apparent_size,%ld,bytes\n", b->disk_apparent);
	fprintf(f, "elfvm-uefi-q35,hello,,disk_allocated_size,%ld,bytes\n", b->disk_allocated);
}
