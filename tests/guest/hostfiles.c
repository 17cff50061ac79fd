// SPDX-License-Identifier: MIT
/* hostfiles: files the image lacks but the host's /usr has (a sys mount,
 * docs/9p.md) look as they do natively.  /usr/share/zoneinfo is never
 * packed: its Europe directory lists the same names (each once, with
 * d_type and d_ino equal to lstat's) through a small getdents64 buffer;
 * Europe/Paris reads the same bytes through read, pread at an odd offset
 * and a private mapping, with fstat's size; a missing name is ENOENT twice
 * (the second answered from the negative cache); a path through a regular
 * file is ENOTDIR.  Prints the count of names and a checksum of the data,
 * so native and elfvm runs must agree byte for byte. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define DIR_PATH "/usr/share/zoneinfo/Europe"
#define FILE_PATH "/usr/share/zoneinfo/Europe/Paris"


static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_dir(void)
{
	char buf[200], *names[4096];
	int n = 0, dups = 0, typed = 1, inos = 1;
	int fd = open(DIR_PATH, O_RDONLY | O_DIRECTORY);

	ok(fd >= 0, "open " DIR_PATH);
	if (fd < 0)
		return;
	for (;;) {
		long len = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (len <= 0) {
			ok(len == 0, "getdents64 ends with 0");
			break;
		}
		for (long off = 0; off < len;) {
			struct lx_dirent64 *d = (struct lx_dirent64 *)(buf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			struct stat st;
			if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				int t = S_ISDIR(st.st_mode)   ? DT_DIR
					: S_ISLNK(st.st_mode) ? DT_LNK
							      : DT_REG;
				typed &= d->d_type == t;
				inos &= d->d_ino == st.st_ino;
			}
			if (n < 4096)
				names[n++] = strdup(d->d_name);
		}
	}
	close(fd);
	qsort(names, n, sizeof(names[0]), cmp);
	for (int i = 1; i < n; i++)
		dups += !strcmp(names[i], names[i - 1]);
	printf("%d names, first %s, last %s\n", n, n ? names[0] : "-", n ? names[n - 1] : "-");
	ok_vals(dups == 0, "each name once", dups, 0);
	ok(typed, "d_type agrees with lstat");
	ok(inos, "d_ino agrees with lstat");
	for (int i = 0; i < n; i++)
		free(names[i]);
}

static uint32_t sum(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void read_file(void)
{
	struct stat st;
	int fd = open(FILE_PATH, O_RDONLY);

	ok(fd >= 0 && fstat(fd, &st) == 0, "open and fstat " FILE_PATH);
	if (fd < 0)
		return;
	unsigned char *a = malloc(st.st_size + 1), *b = malloc(st.st_size);
	ssize_t n = read(fd, a, st.st_size + 1);
	ok_vals(n == st.st_size, "read gives st_size bytes", (long)n, (long)st.st_size);
	printf("%ld bytes, checksum %08x\n", (long)n, n > 0 ? sum(a, n) : 0);
	ssize_t m = pread(fd, b, st.st_size - 7, 7);
	ok(m == st.st_size - 7 && !memcmp(a + 7, b, m), "pread at 7 agrees");
	void *map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ok(map != MAP_FAILED && !memcmp(map, a, st.st_size), "the mapping agrees");
	if (map != MAP_FAILED)
		munmap(map, st.st_size);
	close(fd);
	free(a);
	free(b);
}

int main(void)
{
	struct stat st;

	list_dir();
	read_file();
	fails(stat(DIR_PATH "/No_Such_City", &st), ENOENT, "a missing name");
	fails(stat(DIR_PATH "/No_Such_City", &st), ENOENT, "a missing name again");
	fails(stat(FILE_PATH "/x", &st), ENOTDIR, "a path through a file");
	return bad;
}
