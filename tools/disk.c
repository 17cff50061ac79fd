/* SPDX-License-Identifier: MIT */
/*
 * The UEFI disk image (docs/uefi.md): a raw disk with a GPT and one EFI
 * system partition named "elfvm" holding the loader, the kernel, the image
 * and the kernel's command line.  The protective MBR and both GPT copies
 * are written here (CRC32 over header and entries, random GUIDs, the ESP
 * at LBA 2048); the FAT32 inside is Debian's: mkfs.fat (dosfstools) makes
 * it at the partition's offset and mtools' mmd and mcopy fill it, so no
 * FAT code of ours can get a corner of the format wrong.  The file stays
 * sparse.  Booting it is vmm_argv.c's business; building the image is
 * run.c's.
 */
#define _GNU_SOURCE /* pipe2 */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECTOR 512ull
#define MIB (1024ull * 1024)
#define ESP_LBA 2048 /* 1 MiB: the alignment partitioning tools use */
#define GPT_ENTRIES 128
#define GPT_ENTRY_SIZE 128
#define GPT_ENTRY_SECTORS (GPT_ENTRIES * GPT_ENTRY_SIZE / SECTOR) /* 32 */
/* FAT32 needs at least 65525 clusters; with 512-byte clusters (-s 1) that
 * is 32 MiB of data, plus the two FATs and the reserved sectors. */
#define ESP_MIN_MIB 36
/* From this size on 4 KiB clusters still give FAT32 enough of them, and
 * FATs an eighth as big. */
#define ESP_BIG_MIB 300

/* EFI System Partition: C12A7328-F81F-11D2-BA4B-00A0C93EC93B (UEFI 2.10
 * §5.3.3), in GPT's byte order (the first three fields little-endian). */
static const unsigned char esp_type[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
					    0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const char esp_name[] = "elfvm";

static int disk_fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int disk_fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The CRC32 of the GPT (UEFI 2.10 §4.2: ISO 3309, as zlib's crc32). */
static uint32_t crc32_gpt(const unsigned char *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A random (version 4) GUID in GPT's byte order. */
static void guid_random(unsigned char g[16])
{
	if (getrandom(g, 16, 0) != 16)
		for (int i = 0; i < 16; i++)
			g[i] = (unsigned char)rand();
	g[7] = (unsigned char)((g[7] & 0x0f) | 0x40);
	g[8] = (unsigned char)((g[8] & 0x3f) | 0x80);
}

/* One GPT header at my_lba whose entries start at entries_lba. */
static void gpt_header(unsigned char *h, uint64_t my_lba, uint64_t alt_lba, uint64_t entries_lba,
		       uint64_t last_lba, const unsigned char disk_guid[16], uint32_t entries_crc)
{
	memset(h, 0, SECTOR);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000); /* revision 1.0 */
	put32(h + 12, 92);        /* header size */
	put64(h + 24, my_lba);
	put64(h + 32, alt_lba);
	put64(h + 40, 2 + GPT_ENTRY_SECTORS);            /* first usable LBA */
	put64(h + 48, last_lba - GPT_ENTRY_SECTORS - 1); /* last usable LBA */
	memcpy(h + 56, disk_guid, 16);
	put64(h + 72, entries_lba);
	put32(h + 80, GPT_ENTRIES);
	put32(h + 84, GPT_ENTRY_SIZE);
	put32(h + 88, entries_crc);
	put32(h + 16, crc32_gpt(h, 92));
}

/* pwrite of all n bytes at off.  Returns 0 or -errno (-EIO when short). */
static int put_at(int fd, const void *buf, size_t n, uint64_t off)
{
	ssize_t k = pwrite(fd, buf, n, (off_t)off);

	return k == (ssize_t)n ? 0 : k < 0 ? -errno : -EIO;
}

/* Writes the protective MBR and both GPTs of a disk of total bytes whose
 * one partition, the ESP, spans [ESP_LBA, esp_end_lba].  0 or -errno. */
static int gpt_write(int fd, uint64_t total, uint64_t esp_end_lba)
{
	unsigned char mbr[SECTOR] = { 0 }, hdr[SECTOR], disk_guid[16];
	unsigned char *ent = calloc(GPT_ENTRIES, GPT_ENTRY_SIZE);
	uint64_t last = total / SECTOR - 1, sectors = total / SECTOR - 1;
	size_t elen = GPT_ENTRIES * GPT_ENTRY_SIZE;
	int r = 0;

	if (!ent)
		return -ENOMEM;
	/* One 0xEE partition over the whole disk, so MBR tools keep off. */
	mbr[446 + 1] = 0x00, mbr[446 + 2] = 0x02, mbr[446 + 3] = 0x00;
	mbr[446 + 4] = 0xee;
	mbr[446 + 5] = mbr[446 + 6] = mbr[446 + 7] = 0xff;
	put32(mbr + 446 + 8, 1);
	put32(mbr + 446 + 12, sectors > 0xffffffffu ? 0xffffffffu : (uint32_t)sectors);
	mbr[510] = 0x55, mbr[511] = 0xaa;

	memcpy(ent, esp_type, 16);
	guid_random(ent + 16);
	put64(ent + 32, ESP_LBA);
	put64(ent + 40, esp_end_lba);
	for (size_t i = 0; esp_name[i]; i++)
		put16(ent + 56 + 2 * i, (uint16_t)esp_name[i]); /* UTF-16LE */
	guid_random(disk_guid);
	uint32_t ecrc = crc32_gpt(ent, elen);

	r = put_at(fd, mbr, SECTOR, 0);
	gpt_header(hdr, 1, last, 2, last, disk_guid, ecrc);
	if (!r)
		r = put_at(fd, hdr, SECTOR, SECTOR);
	if (!r)
		r = put_at(fd, ent, elen, 2 * SECTOR);
	/* The backup: entries just before the last sector, its header last. */
	gpt_header(hdr, last, 1, last - GPT_ENTRY_SECTORS, last, disk_guid, ecrc);
	if (!r)
		r = put_at(fd, ent, elen, (last - GPT_ENTRY_SECTORS) * SECTOR);
	if (!r)
		r = put_at(fd, hdr, SECTOR, last * SECTOR);
	free(ent);
	return r;
}

/* ---- Debian's FAT tools ------------------------------------------------ */

int disk_tool(const char *name, char *path, size_t n)
{
	const char *env = getenv("PATH");
	char dirs[4096];

	/* mkfs.fat lives in /usr/sbin, which a user's PATH may lack. */
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", env && *env ? env : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if ((size_t)snprintf(path, n, "%s/%s", *d ? d : ".", name) < n &&
		    access(path, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Runs argv[0] (found by disk_tool) with MTOOLS_SKIP_CHECK=1 and stdin
 * from /dev/null.  Returns 0 when it exits 0; else -1 with its first line
 * of output in why (or what happened to it). */
static int tool_run(const char *const *argv, char *why, size_t n)
{
	char path[PATH_MAX], out[512] = "", buf[4096];
	int p[2], st = 0;
	ssize_t len = 0, k;
	pid_t pid;

	if (disk_tool(argv[0], path, sizeof(path)) < 0)
		return disk_fail(why, n, "%s not found: install Debian's %s package", argv[0],
				 argv[0][0] == 'm' && argv[0][1] == 'k' ? "dosfstools" : "mtools");
	if (pipe2(p, O_CLOEXEC) < 0)
		return disk_fail(why, n, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		/* mtools would refuse a FAT whose geometry fields it dislikes */
		setenv("MTOOLS_SKIP_CHECK", "1", 1);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	/* Keep the start; read the rest too, so the tool never blocks on a
	 * full pipe. */
	while (pid > 0 && (k = read(p[0], out + len, sizeof(out) - 1 - (size_t)len)) != 0) {
		if (k < 0 && errno != EINTR)
			break;
		if (k > 0 && (len += k) == (ssize_t)sizeof(out) - 1)
			while ((k = read(p[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR))
				;
		if (len == (ssize_t)sizeof(out) - 1)
			break;
	}
	out[len] = '\0';
	close(p[0]);
	if (pid < 0)
		return disk_fail(why, n, "cannot run %s: %s", path, strerror(errno));
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	out[strcspn(out, "\n")] = '\0';
	return disk_fail(why, n, "%s failed: %s", argv[0], out[0] ? out : "(no message)");
}

/* ---- writing a disk --------------------------------------------------- */

int disk_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !v)
		return -EINVAL;
	const char *units = "kmgt", *u = *end ? strchr(units, *end | 0x20) : NULL;
	int shift = u ? 10 * (int)(u - units + 1) : 0;

	end += u != NULL;
	/* At most 1 PiB: far beyond any disk, and no shift overflows. */
	if (*end || v > (1ull << 50) >> shift)
		return -EINVAL;
	v <<= shift;
	*out = v;
	return 0;
}

/* What the files take on a FAT with 4 KiB or smaller clusters, with room
 * for the directories and both FATs (4 bytes per 512-byte cluster, twice),
 * in MiB. */
static uint64_t need_mib(const struct disk_files *f)
{
	const char *paths[] = { f->loader, f->kernel, f->image };
	uint64_t bytes = (strlen(f->cmdline) + 4096) & ~4095ull;
	struct stat st;

	for (int i = 0; i < 3; i++)
		if (stat(paths[i], &st) == 0)
			bytes += ((uint64_t)st.st_size + 4095) & ~4095ull;
	bytes += bytes / 64 + MIB;
	return (bytes + MIB - 1) / MIB;
}

/* mkfs.fat on the ESP, then the four files through mtools. */
static int esp_fill(const char *img, uint64_t esp_mib, const struct disk_files *f, const char *cmdfile,
		    char *why, size_t n)
{
	char blocks[32], at[PATH_MAX + 32], hidden[16];
	const char *spc = esp_mib >= ESP_BIG_MIB ? "8" : "1";

	snprintf(blocks, sizeof(blocks), "%llu", (unsigned long long)(esp_mib * 1024));
	snprintf(hidden, sizeof(hidden), "%d", ESP_LBA);
	snprintf(at, sizeof(at), "%s@@%llu", img, (unsigned long long)(ESP_LBA * SECTOR));
	const char *mkfs[] = { "mkfs.fat", "-F",       "32",   "-s", spc,   "-n", "ELFVM", "-h",
			       hidden,     "--offset", hidden, "-S", "512", img,  blocks,  NULL };
	/* mkfs.fat wants --offset in sectors; -h (hidden sectors) is the
	 * same number, as a partitioned disk's boot sector says. */
	const char *mmd[] = { "mmd", "-i", at, "::/EFI", "::/EFI/BOOT", "::/EFI/elfvm", NULL };
	const char *cp[][6] = {
		{ "mcopy", "-i", at, f->loader, "::/EFI/BOOT/BOOTX64.EFI", NULL },
		{ "mcopy", "-i", at, f->kernel, "::/EFI/elfvm/kernel.elf", NULL },
		{ "mcopy", "-i", at, f->image, "::/EFI/elfvm/image.cpio", NULL },
		{ "mcopy", "-i", at, cmdfile, "::/EFI/elfvm/cmdline", NULL },
	};

	if (tool_run(mkfs, why, n) < 0 || tool_run(mmd, why, n) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(cp) / sizeof(cp[0]); i++)
		if (tool_run(cp[i], why, n) < 0)
			return -1;
	return 0;
}

int disk_write(const char *path, const struct disk_files *f, uint64_t size, char *why, size_t n)
{
	const char *paths[] = { f->loader, f->kernel, f->image };
	const char *names[] = { "the UEFI loader", "the kernel", "the image" };
	char cmdfile[PATH_MAX];
	uint64_t need = need_mib(f), esp_mib, total;
	int fd, r;

	for (int i = 0; i < 3; i++)
		if (access(paths[i], R_OK) < 0)
			return disk_fail(why, n, "%s %s: %s", names[i], paths[i], strerror(errno));
	esp_mib = need < ESP_MIN_MIB ? ESP_MIN_MIB : need;
	/* 1 MiB before the ESP (MBR, GPT, alignment), 1 MiB after it (the
	 * backup GPT's 33 sectors, rounded to the same alignment). */
	if (size) {
		total = size & ~(MIB - 1);
		if (total < (need + 2) * MIB || total < (ESP_MIN_MIB + 2) * MIB)
			return disk_fail(
				why, n,
				"the kernel and image (%llu MiB) do not fit in a %llu MiB disk "
				"(the ESP, FAT32, needs at least %d MiB and 2 MiB go to the "
				"partition table)",
				(unsigned long long)need, (unsigned long long)(size / MIB), ESP_MIN_MIB);
		esp_mib = total / MIB - 2;
	}
	total = (esp_mib + 2) * MIB;

	fd = image_temp(cmdfile, sizeof(cmdfile));
	if (fd < 0)
		return disk_fail(why, n, "cannot create a temporary file: %s", strerror(-fd));
	r = image_write_all(fd, f->cmdline, strlen(f->cmdline));
	if (r == 0)
		r = image_write_all(fd, "\n", 1);
	close(fd);
	if (r < 0) {
		unlink(cmdfile);
		return disk_fail(why, n, "%s: %s", cmdfile, strerror(-r));
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		unlink(cmdfile);
		return disk_fail(why, n, "%s: %s", path, strerror(errno));
	}
	r = ftruncate(fd, (off_t)total) < 0 ? -errno
					    : gpt_write(fd, total, ESP_LBA + esp_mib * MIB / SECTOR - 1);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		r = disk_fail(why, n, "%s: %s", path, strerror(-r));
	else
		r = esp_fill(path, esp_mib, f, cmdfile, why, n);
	unlink(cmdfile);
	if (r < 0)
		unlink(path);
	return r;
}

/* ---- checking a disk -------------------------------------------------- */

/* The ESP named "elfvm" in the GPT of fd: its first LBA in *lba.  Returns
 * 0, or -1 with what is wrong in why (after "not an elfvm disk image"). */
static int gpt_find_esp(int fd, uint64_t *lba, char *why, size_t n)
{
	unsigned char h[SECTOR], *ent;
	uint32_t hsize, count, esize, crc;
	int found = -1;

	if (pread(fd, h, SECTOR, SECTOR) != (ssize_t)SECTOR || memcmp(h, "EFI PART", 8))
		return disk_fail(why, n, "no GPT");
	hsize = get32(h + 12);
	crc = get32(h + 16);
	if (hsize < 92 || hsize > SECTOR)
		return disk_fail(why, n, "a GPT header of %u bytes", hsize);
	put32(h + 16, 0);
	if (crc32_gpt(h, hsize) != crc)
		return disk_fail(why, n, "the GPT header's CRC32 is wrong");
	count = get32(h + 80);
	esize = get32(h + 84);
	if (esize < 128 || esize > 4096 || count > 1024)
		return disk_fail(why, n, "a GPT of %u entries of %u bytes", count, esize);
	ent = malloc((size_t)count * esize + 1);
	if (!ent)
		return disk_fail(why, n, "out of memory");
	if (pread(fd, ent, (size_t)count * esize, (off_t)(get64(h + 72) * SECTOR)) !=
	    (ssize_t)((size_t)count * esize)) {
		free(ent);
		return disk_fail(why, n, "the GPT entries are cut short");
	}
	if (crc32_gpt(ent, (size_t)count * esize) != get32(h + 88)) {
		free(ent);
		return disk_fail(why, n, "the GPT entries' CRC32 is wrong");
	}
	for (uint32_t i = 0; i < count && found < 0; i++) {
		const unsigned char *e = ent + (size_t)i * esize;
		int same = !memcmp(e, esp_type, 16);
		for (size_t k = 0; same && k <= strlen(esp_name); k++)
			same = e[56 + 2 * k] == (unsigned char)esp_name[k] && !e[57 + 2 * k];
		if (same) {
			found = (int)i;
			*lba = get64(e + 32);
		}
	}
	free(ent);
	return found < 0 ? disk_fail(why, n, "no EFI system partition named \"%s\"", esp_name) : 0;
}

int disk_check(const char *path, char *why, size_t n)
{
	char what[256], at[PATH_MAX + 32];
	uint64_t lba = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return disk_fail(why, n, "%s: %s", path, strerror(errno));
	r = gpt_find_esp(fd, &lba, what, sizeof(what));
	close(fd);
	if (r < 0)
		return disk_fail(why, n, "%s: not an elfvm disk image (%s)", path, what);
	snprintf(at, sizeof(at), "%s@@%llu", path, (unsigned long long)(lba * SECTOR));
	/* Without the loader the firmware would wait in its boot menu. */
	for (int i = 0; i < 2; i++) {
		const char *file = i ? "::/EFI/BOOT/BOOTX64.EFI" : "::/EFI/elfvm/kernel.elf";
		const char *mdir[] = { "mdir", "-b", "-i", at, file, NULL };
		if (tool_run(mdir, what, sizeof(what)) == 0)
			continue;
		if (!strncmp(what, "mdir not found", 14))
			return disk_fail(why, n, "%s", what);
		return disk_fail(why, n, "%s: not an elfvm disk image (no %s on its ESP)", path,
				 file + 2);
	}
	return 0;
}

/* ---- what a UEFI boot needs from the host ----------------------------- */

const char *disk_firmware(void)
{
	const char *env = getenv("ELFVM_OVMF");

	return env && *env ? env : "/usr/share/ovmf/OVMF.fd";
}

int disk_loader(char *path, size_t n, char *why, size_t whyn)
{
	int r = vm_beside_elfvm("BOOTX64.EFI", path, n);

	if (r < 0)
		return disk_fail(why, whyn, "cannot find the UEFI loader: %s", strerror(-r));
	if (access(path, R_OK) < 0)
		return disk_fail(why, whyn, "the UEFI loader not found: %s (make builds it)", path);
	return 0;
}
