/* SPDX-License-Identifier: MIT */
/*
 * Proves that tools/disk.c writes a UEFI disk that its own check and
 * gdisk accept, and that the check refuses what is not one: a disk is
 * written from three small files; its protective MBR, both GPT headers
 * (each other's alternate, CRC32 as zlib computes it) and the ESP entry
 * are read back byte by byte; then a copy is broken in one place at a
 * time (the signature, the header's CRC, the entries' CRC, the name, the
 * kernel file) and disk_check must name what is wrong.  Also the SIZE
 * parser and a --disk-size too small.  Needs mkfs.fat and mtools
 * (tools/deps.sh; without them the checks that write a disk are skipped),
 * and gdisk's sgdisk for the renamed partition.
 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "unit.h"

/* What disk.c needs from image.c and vmm_argv.c, in their few lines,
 * so the test links disk.c alone. */
int image_temp(char *path, size_t n)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, n, "%s/elfvm-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	return fd < 0 ? -errno : fd;
}

int image_write_all(int fd, const void *buf, size_t n)
{
	for (const char *p = buf; n;) {
		ssize_t k = write(fd, p, n);
		if (k < 0)
			return -errno;
		p += k, n -= (size_t)k;
	}
	return 0;
}

int vm_beside_elfvm(const char *name, char *path, size_t n)
{
	snprintf(path, n, "/nonexistent/%s", name);
	return 0;
}

static char dir[64];

/* A file of n bytes of c in dir; its path in out. */
static void make_file(char *out, const char *name, size_t n, int c)
{
	char *buf = malloc(n);
	int fd;

	snprintf(out, PATH_MAX, "%s/%s", dir, name);
	memset(buf, c, n);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || image_write_all(fd, buf, n) < 0)
		perror(out);
	close(fd);
	free(buf);
}

static void read_at(const char *path, void *buf, size_t n, off_t off)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, buf, n, off) != (ssize_t)n)
		memset(buf, 0, n);
	close(fd);
}

static void write_at(const char *path, const void *buf, size_t n, off_t off)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || pwrite(fd, buf, n, off) != (ssize_t)n)
		perror(path);
	close(fd);
}

static uint32_t le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void check_sizes(void)
{
	static const struct {
		const char *s;
		uint64_t v;
		int ok;
	} t[] = { { "64M", 64ull << 20, 1 },
		  { "1g", 1ull << 30, 1 },
		  { "4096K", 4ull << 20, 1 },
		  { "1048576", 1ull << 20, 1 },
		  { "0", 0, 0 },
		  { "M", 0, 0 },
		  { "10X", 0, 0 },
		  { "1MM", 0, 0 },
		  { "2T", 2ull << 40, 1 },
		  { "99999999999999G", 0, 0 } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 0;
		int r = disk_parse_size(t[i].s, &v);
		char name[64];

		snprintf(name, sizeof(name), "disk_parse_size %s", t[i].s);
		if (t[i].ok)
			report(name, r == 0 && v == t[i].v
					     ? NULL
					     : err("want %llu, got %d %llu", (unsigned long long)t[i].v,
						   r, (unsigned long long)v));
		else
			report(name, r == -EINVAL ? NULL : err("want -EINVAL, got %d", r));
	}
}

/* The layout disk.c promises (docs/uefi.md). */
static void check_layout(const char *img)
{
	unsigned char mbr[512], h1[512], h2[512], ent[128 * 128];
	struct stat st;
	uint64_t last;

	stat(img, &st);
	last = (uint64_t)st.st_size / 512 - 1;
	read_at(img, mbr, 512, 0);
	read_at(img, h1, 512, 512);
	read_at(img, h2, 512, (off_t)(last * 512));
	read_at(img, ent, sizeof(ent), 1024);
	report("disk: whole MiB, sparse",
	       st.st_size % (1 << 20) == 0 && (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size
		       ? NULL
		       : err("size %lld, %lld blocks", (long long)st.st_size, (long long)st.st_blocks));
	report("protective MBR: one 0xEE partition from LBA 1, 55AA",
	       mbr[450] == 0xee && le32(mbr + 454) == 1 && mbr[510] == 0x55 && mbr[511] == 0xaa
		       ? NULL
		       : err("type %#x start %u", mbr[450], le32(mbr + 454)));
	report("primary GPT header at LBA 1, backup at the last LBA",
	       !memcmp(h1, "EFI PART", 8) && !memcmp(h2, "EFI PART", 8) && le64(h1 + 24) == 1 &&
			       le64(h1 + 32) == last && le64(h2 + 24) == last && le64(h2 + 32) == 1 &&
			       le64(h2 + 72) == last - 32
		       ? NULL
		       : err("my/alt %llu/%llu and %llu/%llu, backup entries at %llu",
			     (unsigned long long)le64(h1 + 24), (unsigned long long)le64(h1 + 32),
			     (unsigned long long)le64(h2 + 24), (unsigned long long)le64(h2 + 32),
			     (unsigned long long)le64(h2 + 72)));
	uint32_t want = le32(h1 + 16);
	memset(h1 + 16, 0, 4);
	report("header CRC32 is zlib's crc32 over 92 bytes",
	       crc32(0, h1, 92) == want ? NULL : err("stored %#x", want));
	report("entries CRC32 is zlib's crc32 over 128 entries",
	       crc32(0, ent, sizeof(ent)) == le32(h1 + 88) ? NULL : err("stored %#x", le32(h1 + 88)));
	static const unsigned char esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
					       0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
	report("entry 0: the ESP type, from LBA 2048, named elfvm (UTF-16LE)",
	       !memcmp(ent, esp, 16) && le64(ent + 32) == 2048 && le64(ent + 40) == last - 2048 &&
			       !memcmp(ent + 56, "e\0l\0f\0v\0m\0\0", 12)
		       ? NULL
		       : err("first %llu last %llu", (unsigned long long)le64(ent + 32),
			     (unsigned long long)le64(ent + 40)));
	report("entry 0: a version 4 GUID of its own",
	       (ent[23] & 0xf0) == 0x40 && (ent[24] & 0xc0) == 0x80 && memcmp(ent + 16, h1 + 56, 16)
		       ? NULL
		       : err("version byte %#x", ent[23]));
}

/* A copy of img broken by one write; disk_check must say want. */
static void check_broken(const char *img, const char *name, off_t off, const void *bytes, size_t n,
			 const char *want)
{
	char copy[PATH_MAX], cmd[2 * PATH_MAX + 16], why[PATH_MAX + 256] = "";
	int r;

	snprintf(copy, sizeof(copy), "%s/broken.img", dir);
	snprintf(cmd, sizeof(cmd), "cp --sparse=always %s %s", img, copy);
	if (system(cmd) != 0) {
		report(name, "cp failed");
		return;
	}
	if (n)
		write_at(copy, bytes, n, off);
	r = disk_check(copy, why, sizeof(why));
	report(name, r < 0 && strstr(why, want) ? NULL : err("want '%s', got %d '%s'", want, r, why));
	unlink(copy);
}

int main(void)
{
	char loader[PATH_MAX], kernel[PATH_MAX], image[PATH_MAX], img[PATH_MAX], tool[PATH_MAX];
	char why[PATH_MAX + 256] = "";
	struct disk_files f = { loader, kernel, image, "ip=10.0.2.15/24 verbose=1" };

	check_sizes();
	snprintf(dir, sizeof(dir), "/tmp/elfvm-test-disk.XXXXXX");
	if (!mkdtemp(dir)) {
		report("mkdtemp", strerror(errno));
		return unit_done("test_disk");
	}
	if (disk_tool("mkfs.fat", tool, sizeof(tool)) < 0 ||
	    disk_tool("mcopy", tool, sizeof(tool)) < 0) {
		skip("disk_write", "mkfs.fat or mcopy missing (apt-get install dosfstools mtools)");
		rmdir(dir);
		return unit_done("test_disk");
	}
	make_file(loader, "BOOTX64.EFI", 4096, 'L');
	make_file(kernel, "kernel.elf", 300000, 'K');
	make_file(image, "image.cpio", 5000, 'I');
	snprintf(img, sizeof(img), "%s/d.img", dir);
	report("disk_write, size as needed", disk_write(img, &f, 0, why, sizeof(why)) == 0 ? NULL : why);
	check_layout(img);
	report("disk_check accepts it", disk_check(img, why, sizeof(why)) == 0 ? NULL : why);

	check_broken(img, "no GPT signature", 512, "EFI PARX", 8, "(no GPT)");
	check_broken(img, "header CRC32", 512 + 48, "\x01", 1, "the GPT header's CRC32 is wrong");
	check_broken(img, "entries CRC32", 1024 + 60, "x", 1, "the GPT entries' CRC32 is wrong");
	char copy[PATH_MAX], cmd[3 * PATH_MAX + 256];
	make_file(copy, "zeros.img", 1 << 20, 0);
	report("a file of zeros", disk_check(copy, why, sizeof(why)) < 0 && strstr(why, "(no GPT)")
					  ? NULL
					  : err("got '%s'", why));
	unlink(copy);
	/* Renaming the partition means fixing both CRCs, as a partitioner would. */
	snprintf(copy, sizeof(copy), "%s/renamed.img", dir);
	snprintf(cmd, sizeof(cmd),
		 "cp --sparse=always %s %s && PATH=$PATH:/usr/sbin:/sbin sgdisk -c 1:other %s "
		 ">/dev/null 2>&1",
		 img, copy, copy);
	if (system(cmd) == 0) {
		int r = disk_check(copy, why, sizeof(why));
		report("ESP named other", r < 0 && strstr(why, "no EFI system partition named \"elfvm\"")
						  ? NULL
						  : err("got %d '%s'", r, why));
	} else {
		skip("ESP named other", "sgdisk missing (apt-get install gdisk)");
	}
	unlink(copy);
	snprintf(cmd, sizeof(cmd),
		 "cp --sparse=always %s %s && MTOOLS_SKIP_CHECK=1 mdel -i %s@@1048576 "
		 "::/EFI/elfvm/kernel.elf",
		 img, copy, copy);
	if (system(cmd) == 0) {
		int r = disk_check(copy, why, sizeof(why));
		report("no kernel on the ESP",
		       r < 0 && strstr(why, "no /EFI/elfvm/kernel.elf") ? NULL
									: err("got %d '%s'", r, why));
	} else {
		report("no kernel on the ESP", "mdel failed");
	}
	unlink(copy);

	snprintf(copy, sizeof(copy), "%s/small.img", dir);
	int r = disk_write(copy, &f, 16 << 20, why, sizeof(why));
	report("a 16M disk is refused, and not left behind",
	       r < 0 && strstr(why, "do not fit in a 16 MiB disk") && access(copy, F_OK) < 0
		       ? NULL
		       : err("got %d '%s'", r, why));
	r = disk_write(copy, &f, 100 << 20, why, sizeof(why));
	struct stat st;
	report("a 100M disk is 100 MiB and checks",
	       r == 0 && stat(copy, &st) == 0 && st.st_size == 100 << 20 &&
			       disk_check(copy, why, sizeof(why)) == 0
		       ? NULL
		       : err("got %d '%s'", r, why));
	unlink(copy);
	unlink(img);
	unlink(loader);
	unlink(kernel);
	unlink(image);
	rmdir(dir);
	return unit_done("test_disk");
}
