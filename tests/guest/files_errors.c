// SPDX-License-Identifier: MIT
/* files_errors: the path and fd errors come out as on Linux, for every
 * family of calls.  ENOENT (a missing last or middle component, an empty
 * path), ENOTDIR (a file as a directory, a trailing slash on a file),
 * EISDIR, EEXIST, ENOTEMPTY, EBADF (closed, negative and wrong-mode fds, a
 * closed dirfd with a relative path but not with an absolute one),
 * ENAMETOOLONG (a component of 256 bytes where 255 works; a path of 4096
 * bytes where 4095 resolves), ELOOP (a cycle, O_NOFOLLOW), EINVAL; "." and
 * ".." and repeated slashes resolve.  Works in a fresh
 * /tmp/elfvm-t-files_errors.PID, removed at the end; prints only "ok"
 * lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static void test_enoent_enotdir(void)
{
	struct stat st;
	char buf[64];
	put("file", "data");
	mkdir("dir", 0755);
	fails(open("missing", O_RDONLY), ENOENT, "open of a missing file -> ENOENT");
	fails(open("missing/file", O_RDONLY), ENOENT, "a missing middle component -> ENOENT");
	fails(open("missing/x", O_WRONLY | O_CREAT, 0644), ENOENT,
	      "O_CREAT under a missing directory -> ENOENT");
	fails(open("", O_RDONLY), ENOENT, "open of an empty path -> ENOENT");
	fails(stat("", &st), ENOENT, "stat of an empty path -> ENOENT");
	fails(mkdir("", 0755), ENOENT, "mkdir of an empty path -> ENOENT");
	fails(unlink(""), ENOENT, "unlink of an empty path -> ENOENT");
	fails(chdir(""), ENOENT, "chdir to an empty path -> ENOENT");
	fails(stat("missing", &st), ENOENT, "stat of a missing name -> ENOENT");
	fails(lstat("dir/missing", &st), ENOENT, "lstat of a missing name -> ENOENT");
	fails(rename("missing", "x"), ENOENT, "rename of a missing name -> ENOENT");
	fails(link("missing", "x"), ENOENT, "link of a missing name -> ENOENT");
	fails(symlink("x", "missing/l"), ENOENT, "symlink under a missing directory -> ENOENT");
	fails(readlink("missing", buf, sizeof buf), ENOENT, "readlink of a missing name -> ENOENT");
	fails(truncate("missing", 0), ENOENT, "truncate of a missing name -> ENOENT");
	fails(chmod("missing", 0644), ENOENT, "chmod of a missing name -> ENOENT");
	fails(utimensat(AT_FDCWD, "missing", NULL, 0), ENOENT, "utimensat of a missing name -> ENOENT");
	fails(rmdir("missing"), ENOENT, "rmdir of a missing name -> ENOENT");

	fails(open("file/x", O_RDONLY), ENOTDIR, "a file as a middle component -> ENOTDIR");
	fails(open("file/", O_RDONLY), ENOTDIR, "a file with a trailing slash -> ENOTDIR");
	fails(stat("file/.", &st), ENOTDIR, "file/. -> ENOTDIR");
	fails(stat("file/..", &st), ENOTDIR, "file/.. -> ENOTDIR");
	fails(mkdir("file/d", 0755), ENOTDIR, "mkdir under a file -> ENOTDIR");
	fails(open("file/x", O_WRONLY | O_CREAT, 0644), ENOTDIR, "O_CREAT under a file -> ENOTDIR");
	fails(open("new/", O_WRONLY | O_CREAT, 0644), EISDIR,
	      "O_CREAT of a new name with a trailing slash -> EISDIR");
	fails(rmdir("file"), ENOTDIR, "rmdir of a file -> ENOTDIR");
	fails(chdir("file"), ENOTDIR, "chdir to a file -> ENOTDIR");
	fails(open("file", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file -> ENOTDIR");
	int f = open("file", O_RDONLY);
	fails(openat(f, "x", O_RDONLY), ENOTDIR, "openat relative to a file fd -> ENOTDIR");
	fails(mkdirat(f, "x", 0755), ENOTDIR, "mkdirat relative to a file fd -> ENOTDIR");
	fails(fstatat(f, "x", &st, 0), ENOTDIR, "newfstatat relative to a file fd -> ENOTDIR");
	close(f);

	fails(open("dir", O_WRONLY), EISDIR, "open of a directory for writing -> EISDIR");
	fails(unlink("dir"), EISDIR, "unlink of a directory -> EISDIR");
	fails(truncate("dir", 0), EISDIR, "truncate of a directory -> EISDIR");
	int d = open("dir", O_RDONLY);
	fails(read(d, buf, sizeof buf), EISDIR, "read of a directory fd -> EISDIR");
	fails(pread(d, buf, sizeof buf, 0), EISDIR, "pread64 of a directory fd -> EISDIR");
	close(d);

	fails(mkdir("dir", 0755), EEXIST, "mkdir of an existing directory -> EEXIST");
	fails(mkdir("file", 0755), EEXIST, "mkdir of an existing file -> EEXIST");
	fails(open("file", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
	      "O_CREAT|O_EXCL of an existing file -> EEXIST");
	fails(open("dir", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
	      "O_CREAT|O_EXCL of an existing directory -> EEXIST");
	fails(symlink("x", "file"), EEXIST, "symlink onto an existing file -> EEXIST");
	fails(link("file", "dir"), EEXIST, "link onto an existing directory -> EEXIST");
	fails(mkdir(".", 0755), EEXIST, "mkdir . -> EEXIST");
	put("dir/in", "x");
	fails(rmdir("dir"), ENOTEMPTY, "rmdir of a non-empty directory -> ENOTEMPTY");
	unlink("dir/in");

	ok(stat(".//dir///..//./file", &st) == 0 && st.st_size == 4,
	   "repeated slashes, . and .. resolve");
	ok(stat("/..", &st) == 0 && S_ISDIR(st.st_mode), "/.. is the root");
	char up[256];
	snprintf(up, sizeof up, "../../../../../..%s/file", workdir);
	ok(stat(up, &st) == 0 && st.st_size == 4, ".. above the root stays at the root");
}

static void test_ebadf(void)
{
	char buf[8];
	struct stat st;
	struct iovec iov = { buf, sizeof buf };
	fails(read(-1, buf, 1), EBADF, "read(-1) -> EBADF");
	fails(write(99, "x", 1), EBADF, "write to a closed fd -> EBADF");
	fails(readv(99, &iov, 1), EBADF, "readv of a closed fd -> EBADF");
	fails(pwrite(99, "x", 1, 0), EBADF, "pwrite64 to a closed fd -> EBADF");
	fails(lseek(99, 0, SEEK_SET), EBADF, "lseek of a closed fd -> EBADF");
	fails(fstat(99, &st), EBADF, "fstat of a closed fd -> EBADF");
	fails(ftruncate(99, 0), EBADF, "ftruncate of a closed fd -> EBADF");
	fails(fchdir(99), EBADF, "fchdir to a closed fd -> EBADF");
	fails(syscall(SYS_getdents64, 99, buf, sizeof buf), EBADF, "getdents64 of a closed fd -> EBADF");
	fails(openat(99, "file", O_RDONLY), EBADF, "openat relative to a closed dirfd -> EBADF");
	fails(fstatat(99, "file", &st, 0), EBADF, "newfstatat relative to a closed dirfd -> EBADF");
	fails(mkdirat(99, "x", 0755), EBADF, "mkdirat relative to a closed dirfd -> EBADF");
	fails(unlinkat(99, "file", 0), EBADF, "unlinkat relative to a closed dirfd -> EBADF");
	fails(renameat(99, "file", AT_FDCWD, "x"), EBADF, "renameat from a closed dirfd -> EBADF");
	fails(syscall(SYS_newfstatat, -5, "file", &st, 0), EBADF, "newfstatat with dirfd -5 -> EBADF");
	char abs[128];
	snprintf(abs, sizeof abs, "%s/file", workdir);
	int fd = openat(99, abs, O_RDONLY);
	ok(fd >= 0, "an absolute path ignores a closed dirfd");
	close(fd);
	fd = open("file", O_RDONLY);
	fails(write(fd, "x", 1), EBADF, "write to a read-only fd -> EBADF");
	close(fd);
	fd = open("file", O_WRONLY);
	fails(read(fd, buf, 1), EBADF, "read from a write-only fd -> EBADF");
	close(fd);
	fails(read(fd, buf, 1), EBADF, "read of the fd just closed -> EBADF");
}

static void test_nametoolong(void)
{
	char name[300], path[5000];
	memset(name, 'n', 255);
	name[255] = 0;
	int fd = open(name, O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0, "a 255-byte name can be created");
	close(fd);
	struct stat st;
	ok(stat(name, &st) == 0, "and found");
	ok(unlink(name) == 0, "and removed");
	memset(name, 'n', 256);
	name[256] = 0;
	fails(open(name, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG,
	      "open O_CREAT of a 256-byte name -> ENAMETOOLONG");
	fails(stat(name, &st), ENAMETOOLONG, "stat of a 256-byte name -> ENAMETOOLONG");
	fails(mkdir(name, 0755), ENAMETOOLONG, "mkdir of a 256-byte name -> ENAMETOOLONG");
	fails(symlink("x", name), ENAMETOOLONG, "symlink of a 256-byte name -> ENAMETOOLONG");
	snprintf(path, sizeof path, "dir/%s/x", name);
	fails(stat(path, &st), ENAMETOOLONG, "a 256-byte middle component -> ENAMETOOLONG");

	/* "./" repeated: a path of exactly 4095 bytes resolves; 4096 is too long. */
	size_t n = 0;
	while (n + 2 < 4095 - 4)
		n += (size_t)sprintf(path + n, "./");
	while (n < 4095 - 4)
		path[n++] = '/';
	strcpy(path + n, "file");
	ok(strlen(path) == 4095 && stat(path, &st) == 0 && st.st_size == 4,
	   "a path of 4095 bytes resolves");
	memmove(path + 1, path, 4096);
	path[0] = '.';
	path[1] = '/';
	ok(strlen(path) == 4096, "(a path of 4096 bytes)");
	fails(stat(path, &st), ENAMETOOLONG, "stat of a path of 4096 bytes -> ENAMETOOLONG");
	fails(open(path, O_RDONLY), ENAMETOOLONG, "open of a path of 4096 bytes -> ENAMETOOLONG");
	fails(mkdir(path, 0755), ENAMETOOLONG, "mkdir of a path of 4096 bytes -> ENAMETOOLONG");
	fails(chdir(path), ENAMETOOLONG, "chdir to a path of 4096 bytes -> ENAMETOOLONG");
	fails(symlink(path, "toolong"), ENAMETOOLONG, "a symlink target of 4096 bytes -> ENAMETOOLONG");
	path[4095] = 0;
	ok(symlink(path, "long") == 0, "a symlink target of 4095 bytes is kept");
	static char back[5000];
	ok(readlink("long", back, sizeof back) == 4095 && !memcmp(back, path, 4095),
	   "readlink returns all 4095 bytes");
	unlink("long");
}

static void test_eloop_einval(void)
{
	struct stat st;
	symlink("b", "a");
	symlink("a", "b");
	fails(open("a", O_RDONLY), ELOOP, "open of a symlink cycle -> ELOOP");
	fails(stat("a/x", &st), ELOOP, "a cycle as a middle component -> ELOOP");
	fails(chdir("a"), ELOOP, "chdir into a cycle -> ELOOP");
	fails(mkdir("a/x", 0755), ELOOP, "mkdir under a cycle -> ELOOP");
	fails(truncate("a", 0), ELOOP, "truncate of a cycle -> ELOOP");
	fails(chmod("a", 0644), ELOOP, "chmod of a cycle -> ELOOP");
	ok(lstat("a", &st) == 0 && unlink("a") == 0 && unlink("b") == 0,
	   "lstat and unlink do not follow the cycle");
	symlink("file", "fl");
	fails(open("fl", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink -> ELOOP");
	fails(open("fl", O_RDONLY | O_NOFOLLOW | O_DIRECTORY), ENOTDIR,
	      "O_NOFOLLOW|O_DIRECTORY on a symlink -> ENOTDIR");
	unlink("fl");

	int fd = open("file", O_RDONLY);
	fails(lseek(fd, 0, 3 + 100), EINVAL, "lseek with a bad whence -> EINVAL");
	close(fd);
	fails(rmdir("."), EINVAL, "rmdir . -> EINVAL");
	fails(rename("dir", "dir/sub"), EINVAL, "rename of a directory into itself -> EINVAL");
	fails(unlinkat(AT_FDCWD, "file", 0x4), EINVAL, "unlinkat with a bad flag -> EINVAL");
	fails(fchmodat(AT_FDCWD, "file", 0644, 0x4), EINVAL, "fchmodat with a bad flag -> EINVAL");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter_workdir("files_errors");
	test_enoent_enotdir();
	test_ebadf();
	test_nametoolong();
	test_eloop_einval();
	unlink("file");
	rmdir("dir");
	leave_workdir();
	return bad;
}
