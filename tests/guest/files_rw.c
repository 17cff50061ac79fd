// SPDX-License-Identifier: MIT
/* files_rw: reading and writing regular files behaves as on Linux.  open
 * and openat with O_CREAT (mode under umask), O_EXCL, O_TRUNC, O_APPEND,
 * O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC and O_PATH; creat; read, write,
 * pread64, pwrite64, readv, writev, preadv, pwritev (offsets moved or not);
 * lseek with SEEK_SET/CUR/END, past the end, leaving a hole that reads as
 * zeros; truncate and ftruncate both ways; fallocate; fsync, fdatasync;
 * O_APPEND through two fds (interleaved appends all land at the end, never
 * over each other); sendfile and copy_file_range; data across many pages at
 * odd offsets.  Works in a fresh /tmp/elfvm-t-files_rw.PID, removed at the
 * end; prints only "ok" lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static off_t size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* content: the whole of PATH (at most 1 MiB) in a static buffer; *n its size. */
static char *content(const char *path, ssize_t *n)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	*n = -1;
	if (fd < 0)
		return buf;
	ssize_t got = 0, r;
	while ((r = read(fd, buf + got, sizeof buf - got)) > 0)
		got += r;
	close(fd);
	*n = r < 0 ? -1 : got;
	return buf;
}

/* holds: the whole of PATH is exactly WANT (check.h's has() reads only once). */
static int holds(const char *path, const char *want)
{
	ssize_t n;
	char *c = content(path, &n);
	return n == (ssize_t)strlen(want) && memcmp(c, want, n) == 0;
}

static void test_open_flags(void)
{
	struct stat st;
	int fd = open("a", O_WRONLY | O_CREAT, 0666);
	ok(fd >= 0, "open O_CREAT makes a new file");
	ok(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 &&
		   st.st_size == 0 && st.st_nlink == 1,
	   "the new file is regular, empty, mode 0666 & ~umask 022 = 0644, one link");
	ok(write(fd, "hello", 5) == 5, "write 5 bytes");
	ok(close(fd) == 0, "close");
	ok(holds("a", "hello"), "read back what was written");

	fails(open("a", O_WRONLY | O_CREAT | O_EXCL, 0600), EEXIST,
	      "O_CREAT|O_EXCL on an existing file -> EEXIST");
	fd = open("a", O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0644 && st.st_size == 5,
	   "O_CREAT without O_EXCL opens the existing file, mode and data unchanged");
	close(fd);
	fd = open("b", O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "O_CREAT|O_EXCL makes a new file with mode 0600");
	close(fd);

	fd = open("a", O_WRONLY | O_TRUNC);
	ok(fd >= 0 && size_of("a") == 0, "O_TRUNC empties the file");
	ok(write(fd, "xy", 2) == 2 && holds("a", "xy"), "writing after O_TRUNC starts at offset 0");
	close(fd);
	fd = open("a", O_RDONLY | O_TRUNC);
	ok(fd >= 0 && size_of("a") == 0, "O_RDONLY|O_TRUNC truncates too (as Linux)");
	close(fd);

	fd = open("a", O_WRONLY | O_TRUNC);
	write(fd, "0123456789", 10);
	close(fd);
	fd = open("a", O_WRONLY | O_APPEND);
	ok(fd >= 0 && lseek(fd, 0, SEEK_CUR) == 0, "O_APPEND opens at offset 0");
	ok(write(fd, "ab", 2) == 2 && lseek(fd, 0, SEEK_CUR) == 12,
	   "an O_APPEND write goes to the end and moves the offset there");
	ok(lseek(fd, 3, SEEK_SET) == 3 && write(fd, "cd", 2) == 2 && holds("a", "0123456789abcd"),
	   "after lseek to 3 an O_APPEND write still goes to the end");
	ok(pwrite(fd, "Z", 1, 0) == 1 && holds("a", "0123456789abcdZ"),
	   "pwrite on an O_APPEND fd appends (as Linux)");
	close(fd);

	ok(mkdir("d", 0755) == 0, "mkdir d");
	fd = open("d", O_RDONLY | O_DIRECTORY);
	ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode), "O_DIRECTORY opens a directory");
	close(fd);
	fails(open("a", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file -> ENOTDIR");
	fails(open("d", O_WRONLY), EISDIR, "a directory opened for writing -> EISDIR");
	fails(open("d", O_RDWR), EISDIR, "a directory opened O_RDWR -> EISDIR");
	fails(open("d", O_WRONLY | O_CREAT, 0644), EISDIR, "O_CREAT on an existing directory -> EISDIR");
	fails(open("d", O_RDONLY | O_CREAT, 0644), EISDIR, "O_RDONLY|O_CREAT on a directory -> EISDIR");

	ok(symlink("a", "lnk") == 0, "symlink lnk -> a");
	fails(open("lnk", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink -> ELOOP");
	fd = open("a", O_RDONLY | O_NOFOLLOW);
	ok(fd >= 0, "O_NOFOLLOW on a plain file opens it");
	close(fd);
	fd = open("lnk", O_RDONLY);
	ok(fd >= 0 && read(fd, (char[4]){ 0 }, 4) == 4, "a symlink is followed by default");
	close(fd);
	ok(symlink("d", "dlnk") == 0, "symlink dlnk -> d");
	fd = open("dlnk/", O_RDONLY | O_NOFOLLOW);
	ok(fd >= 0,
	   "O_NOFOLLOW only applies to the last component: dlnk/ opens (trailing slash follows)");
	close(fd);

	fd = open("a", O_RDONLY | O_CLOEXEC);
	ok(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "O_CLOEXEC sets FD_CLOEXEC");
	close(fd);
	fd = open("a", O_RDONLY);
	ok(fd >= 0 && fcntl(fd, F_GETFD) == 0, "without O_CLOEXEC FD_CLOEXEC is clear");
	close(fd);

	fd = open("a", O_PATH);
	char c;
	ok(fd >= 0, "O_PATH opens a file");
	fails(read(fd, &c, 1), EBADF, "read on an O_PATH fd -> EBADF");
	fails(write(fd, "x", 1), EBADF, "write on an O_PATH fd -> EBADF");
	ok(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 15,
	   "fstat works on an O_PATH fd");
	ok((fcntl(fd, F_GETFL) & O_PATH) == O_PATH, "F_GETFL of an O_PATH fd shows O_PATH");
	close(fd);
	fd = open("lnk", O_PATH | O_NOFOLLOW);
	ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode),
	   "O_PATH|O_NOFOLLOW opens the symlink itself");
	close(fd);
	int dfd = open("d", O_PATH | O_DIRECTORY);
	ok(dfd >= 0, "O_PATH|O_DIRECTORY opens a directory");
	fd = openat(dfd, "inner", O_WRONLY | O_CREAT | O_EXCL, 0640);
	ok(fd >= 0 && size_of("d/inner") == 0,
	   "openat relative to an O_PATH directory fd creates d/inner");
	close(fd);
	close(dfd);

	dfd = open("d", O_RDONLY | O_DIRECTORY);
	fd = openat(dfd, "../a", O_RDONLY);
	ok(fd >= 0 && read(fd, (char[16]){ 0 }, 16) == 15, "openat with .. relative to a directory fd");
	close(fd);
	fd = openat(dfd, "/tmp", O_RDONLY | O_DIRECTORY);
	ok(fd >= 0, "openat with an absolute path ignores the directory fd");
	close(fd);
	fd = openat(AT_FDCWD, "a", O_RDONLY);
	ok(fd >= 0, "openat(AT_FDCWD) is relative to the working directory");
	close(fd);
	int afd = open("a", O_RDONLY);
	fails(openat(afd, "x", O_RDONLY), ENOTDIR, "openat relative to a file fd -> ENOTDIR");
	fails(openat(12345, "x", O_RDONLY), EBADF, "openat relative to a closed fd -> EBADF");
	close(afd);
	close(dfd);

	fd = creat("c", 0666);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY, "creat opens write-only");
	fails(read(fd, &c, 1), EBADF, "read on a write-only fd -> EBADF");
	close(fd);
	fd = open("a", O_RDONLY);
	fails(write(fd, "x", 1), EBADF, "write on a read-only fd -> EBADF");
	close(fd);
	unlink("lnk");
	unlink("dlnk");
	unlink("d/inner");
	rmdir("d");
	unlink("a");
	unlink("b");
	unlink("c");
}

static void test_read_write(void)
{
	int fd = open("rw", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char buf[64];
	ok(write(fd, "abcdefghij", 10) == 10 && lseek(fd, 0, SEEK_CUR) == 10, "write moves the offset");
	ok(read(fd, buf, sizeof buf) == 0, "read at the end of the file returns 0");
	ok(pread(fd, buf, 4, 3) == 4 && !memcmp(buf, "defg", 4) && lseek(fd, 0, SEEK_CUR) == 10,
	   "pread64 reads at its offset and leaves the file offset alone");
	ok(pread(fd, buf, 10, 8) == 2 && !memcmp(buf, "ij", 2),
	   "pread64 across the end returns the short count");
	ok(pread(fd, buf, 10, 100) == 0, "pread64 past the end returns 0");
	ok(pwrite(fd, "XY", 2, 2) == 2 && lseek(fd, 0, SEEK_CUR) == 10 && holds("rw", "abXYefghij"),
	   "pwrite64 writes at its offset and leaves the file offset alone");
	fails(pread(fd, buf, 1, -1), EINVAL, "pread64 at a negative offset -> EINVAL");
	ok(write(fd, buf, 0) == 0 && read(fd, buf, 0) == 0, "zero-length write and read return 0");

	struct iovec wv[3] = { { "one,", 4 }, { "", 0 }, { "two,three", 9 } };
	ok(lseek(fd, 0, SEEK_SET) == 0 && writev(fd, wv, 3) == 13 && lseek(fd, 0, SEEK_CUR) == 13,
	   "writev of three buffers (one empty) writes them in order");
	char r1[3], r2[5], r3[20];
	struct iovec rv[3] = { { r1, 3 }, { r2, 5 }, { r3, 20 } };
	ok(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, rv, 3) == 13 && !memcmp(r1, "one", 3) &&
		   !memcmp(r2, ",two,", 5) && !memcmp(r3, "three", 5),
	   "readv scatters into three buffers and stops at the end");
	struct iovec pv[2] = { { "PP", 2 }, { "QQ", 2 } };
	ok(pwritev(fd, pv, 2, 1) == 4 && lseek(fd, 0, SEEK_CUR) == 13,
	   "pwritev at an offset leaves the file offset alone");
	memset(r1, 0, 3);
	memset(r2, 0, 5);
	struct iovec qv[2] = { { r1, 3 }, { r2, 5 } };
	ok(preadv(fd, qv, 2, 0) == 8 && !memcmp(r1, "oPP", 3) && !memcmp(r2, "QQwo,", 5),
	   "preadv at an offset");
	struct iovec bigv[2] = { { buf, 10 }, { buf + 10, 10 } };
	ok(preadv(fd, bigv, 2, 100) == 0, "preadv past the end returns 0");
	close(fd);

	/* Many pages at odd offsets: 300000 bytes written in chunks of 4097,
	 * read back in chunks of 1000 and with pread at page boundaries. */
	static unsigned char big[300000], back[300000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 131 + (i >> 12));
	fd = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
	size_t done = 0;
	while (done < sizeof big) {
		size_t n = sizeof big - done < 4097 ? sizeof big - done : 4097;
		if (write(fd, big + done, n) != (ssize_t)n)
			break;
		done += n;
	}
	ok(done == sizeof big && size_of("big") == (off_t)sizeof big,
	   "300000 bytes written in chunks of 4097");
	lseek(fd, 0, SEEK_SET);
	done = 0;
	ssize_t r;
	while ((r = read(fd, back + done, done + 1000 > sizeof back ? sizeof back - done : 1000)) > 0)
		done += r;
	ok(done == sizeof big && !memcmp(big, back, sizeof big),
	   "read back in chunks of 1000: the same bytes");
	int good = 1;
	for (off_t off = 4096 - 3; off < (off_t)sizeof big - 8; off += 4096 * 7)
		good &= pread(fd, buf, 8, off) == 8 && !memcmp(buf, big + off, 8);
	ok(good, "pread64 across page boundaries");
	close(fd);
	unlink("big");
	unlink("rw");
}

static void test_lseek_holes(void)
{
	int fd = open("h", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "start", 5);
	ok(lseek(fd, 0, SEEK_END) == 5, "SEEK_END 0 is the size");
	ok(lseek(fd, -2, SEEK_END) == 3, "SEEK_END -2");
	ok(lseek(fd, 1, SEEK_CUR) == 4, "SEEK_CUR +1");
	ok(lseek(fd, 10000, SEEK_END) == 10005 && size_of("h") == 5,
	   "SEEK_END past the end does not change the size");
	ok(write(fd, "end", 3) == 3 && size_of("h") == 10008, "a write past the end extends the file");
	static char buf[10008], zero[10000];
	ok(pread(fd, buf, sizeof buf, 0) == 10008 && !memcmp(buf, "start", 5) &&
		   !memcmp(buf + 5, zero, 10000) && !memcmp(buf + 10005, "end", 3),
	   "the hole between reads as zeros");
	ok(lseek(fd, 1 << 20, SEEK_SET) == 1 << 20 && read(fd, buf, 10) == 0,
	   "read far past the end returns 0");
	fails(lseek(fd, -1, SEEK_SET), EINVAL, "lseek to a negative offset -> EINVAL");
	fails(lseek(fd, -20000, SEEK_END), EINVAL, "SEEK_END before the start -> EINVAL");
	fails(lseek(fd, 0, 77), EINVAL, "lseek with an unknown whence -> EINVAL");
	ok(lseek(fd, 0, SEEK_CUR) == 1 << 20, "a failed lseek leaves the offset alone");
	ok(pwrite(fd, "x", 1, 3 * 4096 * 10 + 7) == 1 && size_of("h") == 3 * 4096 * 10 + 8,
	   "pwrite64 far past the end extends");
	ok(pread(fd, buf, 4096, 4096 * 20) == 4096 && !memcmp(buf, zero, 4096),
	   "a whole page in the hole reads as zeros");
	close(fd);
	unlink("h");
}

static void test_truncate(void)
{
	int fd = open("t", O_RDWR | O_CREAT | O_TRUNC, 0644);
	static char buf[9000], zero[9000];
	memset(buf, 'q', sizeof buf);
	write(fd, buf, 9000);
	ok(ftruncate(fd, 100) == 0 && size_of("t") == 100, "ftruncate shrinks to 100");
	ok(lseek(fd, 0, SEEK_CUR) == 9000, "ftruncate leaves the offset alone");
	ok(truncate("t", 8200) == 0 && size_of("t") == 8200, "truncate grows to 8200");
	ok(pread(fd, buf, 9000, 0) == 8200 && buf[99] == 'q' && !memcmp(buf + 100, zero, 8100),
	   "the grown part reads as zeros, not the old bytes");
	ok(ftruncate(fd, 0) == 0 && size_of("t") == 0 && read(fd, buf, 1) == 0, "ftruncate to 0");
	ok(write(fd, "w", 1) == 1 && size_of("t") == 9001,
	   "a write at the old offset after truncation leaves a hole");
	fails(ftruncate(fd, -1), EINVAL, "ftruncate to a negative length -> EINVAL");
	fails(truncate("t", -5), EINVAL, "truncate to a negative length -> EINVAL");
	close(fd);
	fd = open("t", O_RDONLY);
	fails(ftruncate(fd, 0), EINVAL, "ftruncate on a read-only fd -> EINVAL");
	close(fd);
	fails(truncate("missing", 0), ENOENT, "truncate of a missing file -> ENOENT");
	mkdir("td", 0755);
	fails(truncate("td", 0), EISDIR, "truncate of a directory -> EISDIR");
	rmdir("td");

	fd = open("t", O_RDWR | O_TRUNC);
	write(fd, "abc", 3);
	ok(fallocate(fd, 0, 0, 20000) == 0 && size_of("t") == 20000, "fallocate mode 0 grows the file");
	ok(pread(fd, buf, 20, 0) == 20 && !memcmp(buf, "abc", 3) && !memcmp(buf + 3, zero, 17),
	   "fallocate keeps the data and the new part reads as zeros");
	ok(fallocate(fd, 0, 0, 10) == 0 && size_of("t") == 20000,
	   "fallocate inside the file does not shrink it");
	ok(fallocate(fd, 1 /* FALLOC_FL_KEEP_SIZE */, 0, 50000) == 0 && size_of("t") == 20000,
	   "fallocate FALLOC_FL_KEEP_SIZE keeps the size");
	fails(fallocate(fd, 0, -1, 10), EINVAL, "fallocate at a negative offset -> EINVAL");
	fails(fallocate(fd, 0, 0, 0), EINVAL, "fallocate of length 0 -> EINVAL");
	ok(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync and fdatasync succeed");
	close(fd);
	fails(fsync(fd), EBADF, "fsync of a closed fd -> EBADF");
	fd = open("t", O_RDONLY);
	fails(fallocate(fd, 0, 0, 10), EBADF, "fallocate on a read-only fd -> EBADF");
	ok(fsync(fd) == 0, "fsync of a read-only fd succeeds");
	close(fd);
	unlink("t");
}

static void test_append_two_fds(void)
{
	int a = open("log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	int b = open("log", O_WRONLY | O_APPEND);
	int good = 1;
	char rec[16];
	for (int i = 0; i < 200; i++) {
		snprintf(rec, sizeof rec, "%c%04d\n", i % 2 ? 'B' : 'A', i);
		good &= write(i % 2 ? b : a, rec, 6) == 6;
	}
	ok(good && size_of("log") == 1200,
	   "200 interleaved O_APPEND writes through two fds: 1200 bytes");
	ssize_t n;
	char *c = content("log", &n);
	good = n == 1200;
	for (int i = 0; good && i < 200; i++) {
		snprintf(rec, sizeof rec, "%c%04d\n", i % 2 ? 'B' : 'A', i);
		good = !memcmp(c + 6 * i, rec, 6);
	}
	ok(good, "every record is there, in order: none overwrote another");
	int w = open("log", O_WRONLY);
	ok(write(w, "over", 4) == 4, "a third fd without O_APPEND writes at offset 0");
	ok(write(a, "tail\n", 5) == 5 && size_of("log") == 1205,
	   "the next O_APPEND write still goes to the end");
	c = content("log", &n);
	ok(n == 1205 && !memcmp(c, "over", 4) && !memcmp(c + 1200, "tail\n", 5),
	   "the overwrite and the append are both there");
	close(a);
	close(b);
	close(w);
	unlink("log");
}

static void test_copy(void)
{
	static char src[70000], buf[70000];
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (char)('a' + i % 26 + (i / 4096) % 3);
	int in = open("src", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(in, src, sizeof src);
	int out = open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644);

	ok(lseek(in, 100, SEEK_SET) == 100, "seek the source to 100");
	ssize_t total = 0, r;
	while ((r = sendfile(out, in, NULL, 30000)) > 0)
		total += r;
	ok(r == 0 && total == 69900 && lseek(in, 0, SEEK_CUR) == 70000 &&
		   lseek(out, 0, SEEK_CUR) == 69900,
	   "sendfile without an offset copies from the file offset to the end and moves both offsets");
	ok(pread(out, buf, sizeof buf, 0) == 69900 && !memcmp(buf, src + 100, 69900),
	   "sendfile copied the right bytes");
	off_t off = 5000;
	ftruncate(out, 0);
	lseek(out, 0, SEEK_SET);
	ok(sendfile(out, in, &off, 1234) == 1234 && off == 6234 && lseek(in, 0, SEEK_CUR) == 70000,
	   "sendfile with an offset updates it and leaves the file offset alone");
	ok(pread(out, buf, 2000, 0) == 1234 && !memcmp(buf, src + 5000, 1234),
	   "sendfile with an offset copied the right bytes");
	off = 70000;
	ok(sendfile(out, in, &off, 10) == 0, "sendfile at the end copies nothing");
	fails(sendfile(out, 999, NULL, 10), EBADF, "sendfile from a closed fd -> EBADF");

	ftruncate(out, 0);
	lseek(out, 0, SEEK_SET);
	lseek(in, 0, SEEK_SET);
	total = 0;
	while ((r = copy_file_range(in, NULL, out, NULL, 25000, 0)) > 0)
		total += r;
	ok(r == 0 && total == 70000 && lseek(in, 0, SEEK_CUR) == 70000 &&
		   lseek(out, 0, SEEK_CUR) == 70000,
	   "copy_file_range without offsets copies it all and moves both offsets");
	ok(pread(out, buf, sizeof buf, 0) == 70000 && !memcmp(buf, src, 70000),
	   "copy_file_range copied the right bytes");
	loff_t io = 4096, oo = 100000;
	ok(copy_file_range(in, &io, out, &oo, 8192, 0) == 8192 && io == 4096 + 8192 && oo == 108192 &&
		   lseek(out, 0, SEEK_CUR) == 70000,
	   "copy_file_range with offsets updates them and leaves the file offsets alone");
	ok(size_of("dst") == 108192 && pread(out, buf, 8192, 100000) == 8192 &&
		   !memcmp(buf, src + 4096, 8192) && pread(out, buf, 30000, 70000) == 30000 &&
		   buf[0] == 0 && buf[29999] == 0,
	   "copy_file_range past the end left a hole of zeros before the copy");
	fails(copy_file_range(in, NULL, out, NULL, 10, 1), EINVAL,
	      "copy_file_range with flags -> EINVAL");
	close(in);
	in = open("src", O_WRONLY);
	fails(copy_file_range(in, NULL, out, NULL, 10, 0), EBADF,
	      "copy_file_range from a write-only fd -> EBADF");
	close(in);
	close(out);
	unlink("src");
	unlink("dst");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter_workdir("files_rw");
	test_open_flags();
	test_read_write();
	test_lseek_holes();
	test_truncate();
	test_append_two_fds();
	test_copy();
	leave_workdir();
	return bad;
}
