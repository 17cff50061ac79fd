// SPDX-License-Identifier: MIT
/* files_dirents: getdents64 lists a directory as Linux does.  A directory
 * of 3000 files, 20 subdirectories and 20 symlinks, read with getdents64
 * through buffers of several sizes (one just big enough for a single
 * entry): every name comes exactly once, "." and ".." too, each with the
 * right d_type and a non-zero d_ino equal to lstat's; the d_off cookies are
 * resumable with lseek; lseek to 0 starts over; a buffer too small for one
 * entry -> EINVAL; a file fd -> ENOTDIR; a closed fd -> EBADF; a removed
 * directory -> ENOENT; names
 * created after a full read show up on the next read from 0; unlinking
 * them all leaves only "." and ".."; opendir/readdir agree.  Works in a
 * fresh /tmp/elfvm-t-files_dirents.PID, removed at the end; prints only
 * "ok" lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define NFILES 3000
#define NDIRS 20
#define NLINKS 20
#define NALL (NFILES + NDIRS + NLINKS)


static long getdents64_(int fd, void *buf, size_t n)
{
	return syscall(SYS_getdents64, fd, buf, n);
}

/* index_of: 0..NALL-1 for one of our names, NALL for ".", NALL+1 for "..",
 * -1 for anything else. */
static int index_of(const char *name, unsigned char *type)
{
	int i;
	if (!strcmp(name, "."))
		return *type = DT_DIR, NALL;
	if (!strcmp(name, ".."))
		return *type = DT_DIR, NALL + 1;
	if (sscanf(name, "file-%d", &i) == 1 && i >= 0 && i < NFILES)
		return *type = DT_REG, i;
	if (sscanf(name, "dir-%d", &i) == 1 && i >= 0 && i < NDIRS)
		return *type = DT_DIR, NFILES + i;
	if (sscanf(name, "link-%d", &i) == 1 && i >= 0 && i < NLINKS)
		return *type = DT_LNK, NFILES + NDIRS + i;
	return -1;
}

static int seen[NALL + 2];

/* list: read the whole of directory fd with getdents64 into buffers of
 * BUFSZ bytes from where the offset is; count names in seen[]; 0 when all
 * went well (right types, lstat's inode numbers, sane record lengths). */
static int list(int fd, size_t bufsz, int check_ino, int *calls)
{
	static char buf[65536] __attribute__((aligned(8)));
	int good = 1;
	long n;
	*calls = 0;
	while ((n = getdents64_(fd, buf, bufsz)) > 0) {
		++*calls;
		for (long off = 0; off < n;) {
			struct lx_dirent64 *d = (void *)(buf + off);
			unsigned char want;
			int i = index_of(d->d_name, &want);
			if (d->d_reclen < 20 || d->d_reclen % 8 || off + d->d_reclen > n || i < 0 ||
			    d->d_type != want || d->d_ino == 0) {
				fprintf(stderr, "bad entry '%s' reclen %u type %u\n", d->d_name,
					d->d_reclen, d->d_type);
				good = 0;
			} else {
				seen[i]++;
				struct stat st;
				if (check_ino && i < NALL &&
				    (fstatat(AT_FDCWD, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
				     st.st_ino != d->d_ino)) {
					fprintf(stderr, "d_ino of %s is not lstat's\n", d->d_name);
					good = 0;
				}
			}
			off += d->d_reclen;
		}
	}
	if (n < 0) {
		fprintf(stderr, "getdents64: errno %d\n", errno);
		good = 0;
	}
	return good;
}

static int each_once(int first, int last)
{
	int good = 1;
	for (int i = first; i <= last; i++)
		if (seen[i] != 1) {
			if (good)
				fprintf(stderr, "entry %d seen %d times\n", i, seen[i]);
			good = 0;
		}
	return good;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter_workdir("files_dirents");
	ok(mkdir("big", 0755) == 0 && chdir("big") == 0, "mkdir big and enter it");
	char name[64];
	int good = 1;
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof name, "file-%d", i);
		int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		good &= fd >= 0 && close(fd) == 0;
	}
	ok(good, "3000 files created");
	good = 1;
	for (int i = 0; i < NDIRS; i++) {
		snprintf(name, sizeof name, "dir-%d", i);
		good &= mkdir(name, 0755) == 0;
		snprintf(name, sizeof name, "link-%d", i);
		good &= symlink("file-0", name) == 0;
	}
	ok(good, "20 directories and 20 symlinks created");

	int fd = open(".", O_RDONLY | O_DIRECTORY);
	int calls;
	static const size_t sizes[] = { 32768, 4096, 1000, 280 };
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		memset(seen, 0, sizeof seen);
		ok(lseek(fd, 0, SEEK_SET) == 0, "lseek to 0 rewinds the directory");
		ok(list(fd, sizes[k], k == 0, &calls),
		   "every entry well formed with the right d_type (and d_ino on the first pass)");
		ok(each_once(0, NALL + 1), "every name seen exactly once, . and .. included");
		ok(calls >= (int)(NALL * 24 / sizes[k]),
		   "the listing took several calls (buffer size honoured)");
	}
	struct lx_dirent64 *one = malloc(40);
	lseek(fd, 0, SEEK_SET);
	fails(getdents64_(fd, one, 16), EINVAL, "a buffer too small for one entry -> EINVAL");
	/* Entries one at a time with a buffer that holds exactly one. */
	memset(seen, 0, sizeof seen);
	lseek(fd, 0, SEEK_SET);
	good = 1;
	long n;
	int entries = 0;
	static char buf[4096] __attribute__((aligned(8)));
	while ((n = getdents64_(fd, buf, 32)) > 0) {
		struct lx_dirent64 *d = (void *)buf;
		unsigned char t;
		int i = index_of(d->d_name, &t);
		good &= n == d->d_reclen && i >= 0;
		if (i >= 0)
			seen[i]++;
		entries++;
	}
	ok(n == 0 && good && entries == NALL + 2 && each_once(0, NALL + 1),
	   "with a 32-byte buffer: one entry per call, each exactly once");

	/* d_off is a cookie: lseek to one and the listing goes on from the
	 * entry after it. */
	lseek(fd, 0, SEEK_SET);
	n = getdents64_(fd, buf, sizeof buf);
	struct lx_dirent64 *d = (void *)buf;
	int before = 0;
	long off = 0;
	for (int k = 0; k < 10 && off < n; k++) {
		d = (void *)(buf + off);
		off += d->d_reclen;
		before++;
	}
	char tenth[64];
	snprintf(tenth, sizeof tenth, "%s", d->d_name);
	int64_t cookie = d->d_off;
	ok(n > 0 && before == 10, "read the first entries");
	char next[64] = "";
	if (off < n)
		snprintf(next, sizeof next, "%s", ((struct lx_dirent64 *)(buf + off))->d_name);
	ok(lseek(fd, cookie, SEEK_SET) == cookie && getdents64_(fd, buf, 64) > 0 &&
		   !strcmp(((struct lx_dirent64 *)buf)->d_name, next),
	   "lseek to the 10th entry's d_off resumes at the 11th");

	/* A name made after the end was reached shows up after a rewind. */
	memset(seen, 0, sizeof seen);
	lseek(fd, 0, SEEK_SET);
	list(fd, 32768, 0, &calls);
	int nf = open("late", O_WRONLY | O_CREAT, 0644);
	close(nf);
	lseek(fd, 0, SEEK_SET);
	int found = 0;
	while ((n = getdents64_(fd, buf, sizeof buf)) > 0)
		for (off = 0; off < n; off += ((struct lx_dirent64 *)(buf + off))->d_reclen)
			found += !strcmp(((struct lx_dirent64 *)(buf + off))->d_name, "late");
	ok(found == 1, "a file created later is listed after a rewind");
	unlink("late");

	DIR *dir = opendir(".");
	struct dirent *e;
	memset(seen, 0, sizeof seen);
	good = 1;
	while (dir && (e = readdir(dir))) {
		unsigned char t;
		int i = index_of(e->d_name, &t);
		good &= i >= 0 && e->d_type == t;
		if (i >= 0)
			seen[i]++;
	}
	ok(dir && good && each_once(0, NALL + 1), "opendir/readdir agree");
	if (dir)
		closedir(dir);

	int file = open("file-1", O_RDONLY);
	fails(getdents64_(file, buf, sizeof buf), ENOTDIR, "getdents64 on a file -> ENOTDIR");
	close(file);
	fails(getdents64_(12345, buf, sizeof buf), EBADF, "getdents64 on a closed fd -> EBADF");
	int pfd = open(".", O_PATH | O_DIRECTORY);
	fails(getdents64_(pfd, buf, sizeof buf), EBADF, "getdents64 on an O_PATH fd -> EBADF");
	close(pfd);

	good = 1;
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof name, "file-%d", i);
		good &= unlink(name) == 0;
	}
	for (int i = 0; i < NDIRS; i++) {
		snprintf(name, sizeof name, "dir-%d", i);
		good &= rmdir(name) == 0;
		snprintf(name, sizeof name, "link-%d", i);
		good &= unlink(name) == 0;
	}
	ok(good, "all 3040 entries removed");
	memset(seen, 0, sizeof seen);
	lseek(fd, 0, SEEK_SET);
	ok(list(fd, 4096, 0, &calls) && each_once(NALL, NALL + 1) && each_once(0, -1) && calls == 1,
	   "now only . and .. are listed");
	for (int i = 0; i < NALL; i++)
		good &= seen[i] == 0;
	ok(good, "none of the removed names is listed");
	close(fd);
	fd = open(".", O_RDONLY | O_DIRECTORY);
	ok(chdir("..") == 0 && rmdir("big") == 0, "the emptied directory can be removed");
	fails(getdents64_(fd, buf, sizeof buf), ENOENT, "getdents64 on a removed directory -> ENOENT");
	close(fd);
	free(one);
	leave_workdir();
	return bad;
}
