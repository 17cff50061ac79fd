/* SPDX-License-Identifier: MIT */
/*
 * The `pack` verb: the image to -o, or to a UEFI disk (--disk: the image,
 * the kernel and the loader on the ESP disk.c writes, docs/uefi.md), or,
 * with --trace, after a run that reports what it brought in from the host
 * (docs/hostfiles.md).  What an image holds is pack.c's business; options,
 * the program and the environment are prepared as for `run` (run.c).
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes the image to o->output ("-": stdout).  Returns 0 or 125. */
static int pack_write(const struct run_opts *o, const struct image_spec *s)
{
	int to_stdout = !strcmp(o->output, "-");
	int fd = to_stdout ? 1 : open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return run_fail("%s: %s", o->output, strerror(errno));
	r = run_write_image(o, s, fd);
	if (!to_stdout && close(fd) < 0 && r == 0)
		r = run_fail("%s: %s", o->output, strerror(errno));
	if (r && !to_stdout)
		unlink(o->output);
	return r;
}

/* pack --disk: the image (o->output's, else a temporary one) on a disk
 * with the kernel and the loader.  Returns 0 or 125. */
static int pack_disk(const struct run_opts *opts, const struct image_spec *s)
{
	char kernel[PATH_MAX], loader[PATH_MAX], image[PATH_MAX], why[PATH_MAX + 256];
	/* A disk boots where no host shares /usr: its image must hold it all
	 * and say so, as pack --trace's does. */
	struct run_opts sealed = *opts;
	const struct run_opts *o = &sealed;
	int fd = -1, r, temp = !o->output;

	sealed.pk.sealed = 1;

	if (run_find_kernel(o, kernel, sizeof(kernel)))
		return ELFVM_EXIT_FAIL;
	if (disk_loader(loader, sizeof(loader), why, sizeof(why)) < 0)
		return run_fail("%s", why);
	if (temp && (fd = image_temp(image, sizeof(image))) < 0)
		return run_fail("cannot create the image in %s: %s", image, strerror(-fd));
	if (!temp)
		snprintf(image, sizeof(image), "%s", o->output);
	r = temp ? run_write_image(o, s, fd) : pack_write(o, s);
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = run_fail("%s: %s", image, strerror(errno));
	/* A plain boot needs one word: the address comes from the network's
	 * DHCP server (a cloud's, or QEMU's user network's, 10.0.2.15), whose
	 * DNS servers replace the image's resolv.conf.  The words of a run
	 * under elfvm (mount=, realtime=, tty=…) come through fw_cfg. */
	if (r == 0 &&
	    disk_write(
		    o->disk,
		    &(struct disk_files){
			    .loader = loader, .kernel = kernel, .image = image, .cmdline = "ip=dhcp" },
		    o->disk_size, why, sizeof(why)) < 0)
		r = run_fail("%s", why);
	if (temp)
		unlink(image);
	return r;
}

/* pack's output: -o's image, and the disk of --disk.  Returns 0 or 125. */
static int pack_any(const struct run_opts *o, const struct image_spec *s)
{
	return o->disk ? pack_disk(o, s) : pack_write(o, s);
}

/* Reads the paths the traced run brought in (one a line) into o->pk.used.
 * Returns 0 or -ENOMEM. */
static int read_used(struct run_opts *o)
{
	char line[PATH_MAX + 2];

	rewind(o->used);
	while (fgets(line, sizeof(line), o->used)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] != '/')
			continue;
		char **v = realloc(o->pk.used, (size_t)(o->pk.nused + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		o->pk.used = v;
		if (!(v[o->pk.nused] = strdup(line)))
			return -ENOMEM;
		o->pk.nused++;
	}
	return 0;
}

/* pack --trace: runs the program once with the host's system files on
 * demand, then packs a sealed image of what that run used.  The program's
 * status does not decide: a traced run that ends 1 still used what it
 * used; it is said on stderr.  Returns 0 or 125. */
static int pack_traced(struct run_opts *o, struct image_spec *s)
{
	int status, r = ELFVM_EXIT_FAIL;

	if (!(o->used = tmpfile()))
		return run_fail("cannot create a temporary file: %s", strerror(errno));
	/* The traced run boots the program as `run` does, not a disk. */
	const char *disk = o->disk;
	o->disk = NULL;
	status = run_with(o, s);
	o->disk = disk;
	if (status == ELFVM_EXIT_FAIL || status == ELFVM_EXIT_TIMEOUT) {
		fprintf(stderr, "elfvm pack: the traced run failed (status %d); no image written\n",
			status);
	} else if (read_used(o) < 0) {
		run_fail("out of memory");
	} else {
		if (status)
			fprintf(stderr, "elfvm pack: note: the traced run ended with status %d\n",
				status);
		o->pk.sealed = 1;
		r = pack_any(o, s);
	}
	for (int i = 0; i < o->pk.nused; i++)
		free(o->pk.used[i]);
	free(o->pk.used);
	fclose(o->used);
	return r;
}

int pack_main(int argc, char **argv)
{
	struct run_opts o = { .verb = "pack", .cpus = 1 };
	struct prog_file prog = { 0 };
	char **envp = NULL;
	int i = run_prepare(&o, argc, argv, &prog, &envp), r = ELFVM_EXIT_FAIL;
	struct image_spec spec = { .prog = &prog, .argv = argv + i, .envp = envp };

	if (i > 0 && !o.output && !o.disk)
		opts_bad(&o, "%s", "missing -o IMAGE or --disk FILE");
	else if (i > 0)
		r = o.sh.trace ? pack_traced(&o, &spec) : pack_any(&o, &spec);
	else if (i == 0)
		r = 0;
	prog_free(&prog);
	free(envp);
	opts_free(&o);
	return r;
}
