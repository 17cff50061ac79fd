// SPDX-License-Identifier: MIT
/* files_meta: file metadata behaves as on Linux (run as root).  fstat,
 * stat, lstat, newfstatat (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH), statx (the
 * mask and fields agree with stat), statfs and fstatfs (they answer, with
 * a sane block size and name length); access and faccessat (root may read
 * and write anything, but execute only with some x bit; AT_EACCESS and
 * AT_SYMLINK_NOFOLLOW); chmod, fchmod, fchmodat (set-id and sticky bits,
 * through a symlink); chown, fchown, lchown, fchownat (-1 keeps a value,
 * the link or its target); utimensat and futimens (exact times, UTIME_OMIT,
 * UTIME_NOW, NULL, on a symlink), and writes and chmod moving mtime and
 * ctime; umask (returns the old mask, applies to files, directories and
 * mkdir).  Times are compared, never printed.  Works in a fresh
 * /tmp/elfvm-t-files_meta.PID, removed at the end; prints only "ok" lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* struct statx as Linux defines it (musl 1.2.3 has none). */
struct lx_statx_ts {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct lx_statx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, pad1;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct lx_statx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare[14];
};
#define LX_STATX_BASIC_STATS 0x7ffU

static long statx_(int dfd, const char *path, int flags, unsigned mask, struct lx_statx *sx)
{
	return syscall(332 /* statx */, dfd, path, flags, mask, sx);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_mode : (mode_t)-1;
}

static void test_stat(void)
{
	struct stat st, fst, lst;
	put("f", "twelve bytes");
	int fd = open("f", O_RDONLY);
	ok(stat("f", &st) == 0 && fstat(fd, &fst) == 0 && st.st_ino == fst.st_ino &&
		   st.st_dev == fst.st_dev && st.st_size == 12 && fst.st_size == 12 &&
		   S_ISREG(st.st_mode) && st.st_nlink == 1,
	   "stat and fstat agree: a regular file of 12 bytes, one link");
	ok(st.st_uid == 0 && st.st_gid == 0, "created by root: uid and gid 0");
	ok(st.st_blksize > 0 && st.st_blocks >= 0, "st_blksize is positive");
	symlink("f", "l");
	ok(lstat("l", &lst) == 0 && S_ISLNK(lst.st_mode) && lst.st_size == 1 &&
		   lst.st_ino != st.st_ino && (lst.st_mode & 0777) == 0777,
	   "lstat of a symlink: S_IFLNK, mode 0777, size 1, its own inode");
	ok(stat("l", &lst) == 0 && lst.st_ino == st.st_ino, "stat follows the symlink");
	ok(fstatat(AT_FDCWD, "l", &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode),
	   "newfstatat(AT_SYMLINK_NOFOLLOW)");
	ok(fstatat(fd, "", &lst, AT_EMPTY_PATH) == 0 && lst.st_ino == st.st_ino,
	   "newfstatat(fd, \"\", AT_EMPTY_PATH) is fstat");
	fails(fstatat(fd, "", &lst, 0), ENOENT,
	      "newfstatat with an empty path and no AT_EMPTY_PATH -> ENOENT");
	fails(syscall(SYS_newfstatat, AT_FDCWD, "f", &lst, 0x1), EINVAL,
	      "newfstatat with an unknown flag -> EINVAL");
	mkdir("d", 0755);
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	put("d/in", "x");
	ok(fstatat(dfd, "in", &lst, 0) == 0 && lst.st_size == 1,
	   "newfstatat relative to a directory fd");
	ok(stat("d", &lst) == 0 && S_ISDIR(lst.st_mode) && lst.st_nlink == 2,
	   "a directory: S_IFDIR, 2 links");
	ok(fstat(0, &lst) == 0, "fstat of stdin works");

	struct lx_statx sx;
	memset(&sx, 0xaa, sizeof sx);
	ok(statx_(AT_FDCWD, "f", 0, LX_STATX_BASIC_STATS, &sx) == 0, "statx of a file");
	ok((sx.stx_mask & LX_STATX_BASIC_STATS) == LX_STATX_BASIC_STATS,
	   "statx fills all the basic fields");
	ok(sx.stx_size == 12 && sx.stx_ino == st.st_ino && sx.stx_mode == st.st_mode &&
		   sx.stx_nlink == 1 && sx.stx_uid == 0 && sx.stx_gid == 0 &&
		   sx.stx_mtime.tv_sec == st.st_mtime &&
		   sx.stx_mtime.tv_nsec == (uint32_t)st.st_mtim.tv_nsec &&
		   sx.stx_blksize == (uint32_t)st.st_blksize,
	   "statx agrees with stat");
	ok(statx_(AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, LX_STATX_BASIC_STATS, &sx) == 0 &&
		   (sx.stx_mode & S_IFMT) == S_IFLNK,
	   "statx(AT_SYMLINK_NOFOLLOW) of a symlink");
	ok(statx_(fd, "", AT_EMPTY_PATH, LX_STATX_BASIC_STATS, &sx) == 0 && sx.stx_ino == st.st_ino,
	   "statx(fd, \"\", AT_EMPTY_PATH)");
	ok(statx_(dfd, "in", 0, LX_STATX_BASIC_STATS, &sx) == 0 && sx.stx_size == 1,
	   "statx relative to a directory fd");
	fails(statx_(AT_FDCWD, "missing", 0, LX_STATX_BASIC_STATS, &sx), ENOENT,
	      "statx of a missing name -> ENOENT");
	fails(statx_(AT_FDCWD, "f", 0, 0x80000000U, &sx), EINVAL,
	      "statx with the reserved mask bit -> EINVAL");
	close(dfd);

	struct statfs sf, fsf;
	ok(statfs(".", &sf) == 0 && fstatfs(fd, &fsf) == 0, "statfs and fstatfs answer");
	ok(sf.f_type == fsf.f_type && sf.f_bsize > 0 && sf.f_namelen == 255,
	   "the same filesystem, a block size, names up to 255");
	fails(statfs("missing", &sf), ENOENT, "statfs of a missing name -> ENOENT");
	fails(fstatfs(12345, &sf), EBADF, "fstatfs of a closed fd -> EBADF");
	close(fd);
	unlink("d/in");
	rmdir("d");
}

static void test_access(void)
{
	put("a", "x");
	chmod("a", 0);
	ok(access("a", F_OK) == 0, "access F_OK");
	ok(access("a", R_OK | W_OK) == 0, "root may read and write a mode-0 file");
	fails(access("a", X_OK), EACCES, "but not execute it: X_OK -> EACCES");
	chmod("a", 0001);
	ok(access("a", X_OK) == 0, "one x bit (others) lets root execute");
	mkdir("ad", 0);
	ok(access("ad", R_OK | W_OK | X_OK) == 0, "root may search a mode-0 directory");
	fails(access("missing", F_OK), ENOENT, "access of a missing name -> ENOENT");
	fails(access("a", 0x10), EINVAL, "access with an unknown mode bit -> EINVAL");
	fails(access("a/x", F_OK), ENOTDIR, "access through a file -> ENOTDIR");
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	ok(faccessat(dfd, "a", R_OK, 0) == 0, "faccessat relative to a directory fd");
	ok(faccessat(AT_FDCWD, "a", R_OK, AT_EACCESS) == 0, "faccessat(AT_EACCESS)");
	symlink("missing", "dl");
	fails(faccessat(AT_FDCWD, "dl", F_OK, 0), ENOENT,
	      "faccessat through a dangling symlink -> ENOENT");
	ok(syscall(439 /* faccessat2 */, AT_FDCWD, "dl", F_OK, AT_SYMLINK_NOFOLLOW) == 0,
	   "faccessat2(AT_SYMLINK_NOFOLLOW) checks the symlink itself");
	close(dfd);
	unlink("dl");
	rmdir("ad");
	unlink("a");
}

static void test_chmod_chown(void)
{
	put("m", "x");
	ok(chmod("m", 0640) == 0 && (mode_of("m") & 07777) == 0640, "chmod 0640");
	ok(chmod("m", 07755) == 0 && (mode_of("m") & 07777) == 07755 && S_ISREG(mode_of("m")),
	   "chmod keeps set-uid, set-gid and sticky bits and the type");
	int fd = open("m", O_RDONLY);
	ok(fchmod(fd, 0600) == 0 && (mode_of("m") & 07777) == 0600, "fchmod on a read-only fd");
	symlink("m", "ml");
	ok(chmod("ml", 0604) == 0 && (mode_of("m") & 07777) == 0604 && (mode_of("ml") & 0777) == 0777,
	   "chmod through a symlink changes the target");
	ok(fchmodat(AT_FDCWD, "m", 0644, 0) == 0 && (mode_of("m") & 07777) == 0644, "fchmodat");
	fails(chmod("missing", 0644), ENOENT, "chmod of a missing name -> ENOENT");
	fails(fchmod(999, 0644), EBADF, "fchmod of a closed fd -> EBADF");
	mkdir("cd", 0755);
	ok(chmod("cd", 01777) == 0 && mode_of("cd") == (S_IFDIR | 01777),
	   "chmod of a directory to 01777");

	struct stat st;
	ok(chown("m", 1234, 5678) == 0 && stat("m", &st) == 0 && st.st_uid == 1234 && st.st_gid == 5678,
	   "chown to 1234:5678");
	ok(chown("m", -1, 42) == 0 && stat("m", &st) == 0 && st.st_uid == 1234 && st.st_gid == 42,
	   "chown -1 keeps the owner");
	ok(fchown(fd, 7, -1) == 0 && stat("m", &st) == 0 && st.st_uid == 7 && st.st_gid == 42,
	   "fchown -1 keeps the group");
	ok(lchown("ml", 99, 98) == 0 && lstat("ml", &st) == 0 && st.st_uid == 99 && st.st_gid == 98 &&
		   stat("m", &st) == 0 && st.st_uid == 7,
	   "lchown changes the symlink, not its target");
	ok(chown("ml", 3, 4) == 0 && stat("m", &st) == 0 && st.st_uid == 3 && st.st_gid == 4,
	   "chown follows the symlink");
	ok(fchownat(AT_FDCWD, "ml", 5, 6, AT_SYMLINK_NOFOLLOW) == 0 && lstat("ml", &st) == 0 &&
		   st.st_uid == 5 && stat("m", &st) == 0 && st.st_uid == 3,
	   "fchownat(AT_SYMLINK_NOFOLLOW) changes the link");
	ok(fchownat(fd, "", 0, 0, AT_EMPTY_PATH) == 0 && stat("m", &st) == 0 && st.st_uid == 0 &&
		   st.st_gid == 0,
	   "fchownat(fd, \"\", AT_EMPTY_PATH) changes the fd's file");
	ok(chown("cd", 1, 2) == 0 && stat("cd", &st) == 0 && st.st_uid == 1 && st.st_gid == 2,
	   "chown of a directory");
	chmod("m", 06755);
	ok(chown("m", 0, 0) == 0 && (mode_of("m") & 07777) == 0755,
	   "chown of an executable clears set-uid and set-gid (as Linux)");
	fails(chown("missing", 0, 0), ENOENT, "chown of a missing name -> ENOENT");
	fails(fchown(999, 0, 0), EBADF, "fchown of a closed fd -> EBADF");
	close(fd);
	unlink("ml");
	unlink("m");
	rmdir("cd");
}

static int ts_is(struct timespec t, long sec, long nsec)
{
	return t.tv_sec == sec && t.tv_nsec == nsec;
}

static void test_times(void)
{
	struct stat st, st2;
	put("t", "x");
	struct timespec set[2] = { { 1000000000, 123456789 }, { 1234567890, 5 } };
	ok(utimensat(AT_FDCWD, "t", set, 0) == 0 && stat("t", &st) == 0 &&
		   ts_is(st.st_atim, 1000000000, 123456789) && ts_is(st.st_mtim, 1234567890, 5),
	   "utimensat sets atime and mtime to the nanosecond");
	struct timespec omit[2] = { { 0, UTIME_OMIT }, { 2000000000, 0 } };
	ok(utimensat(AT_FDCWD, "t", omit, 0) == 0 && stat("t", &st) == 0 &&
		   ts_is(st.st_atim, 1000000000, 123456789) && ts_is(st.st_mtim, 2000000000, 0),
	   "UTIME_OMIT leaves atime, mtime changes");
	time_t before = time(NULL);
	struct timespec now[2] = { { 5, UTIME_OMIT }, { 7, UTIME_NOW } };
	ok(utimensat(AT_FDCWD, "t", now, 0) == 0 && stat("t", &st) == 0 &&
		   ts_is(st.st_atim, 1000000000, 123456789) && st.st_mtime >= before - 1 &&
		   st.st_mtime <= time(NULL) + 1,
	   "UTIME_NOW sets mtime to now");
	ok(utimensat(AT_FDCWD, "t", set, 0) == 0 && utimensat(AT_FDCWD, "t", NULL, 0) == 0 &&
		   stat("t", &st) == 0 && st.st_atime >= before - 1 && st.st_mtime >= before - 1 &&
		   st.st_mtime <= time(NULL) + 1,
	   "utimensat with NULL sets both to now");
	int fd = open("t", O_RDWR);
	ok(futimens(fd, set) == 0 && fstat(fd, &st) == 0 && ts_is(st.st_mtim, 1234567890, 5),
	   "futimens on an fd");
	ok(syscall(SYS_utimensat, fd, NULL, set, 0) == 0,
	   "utimensat(fd, NULL, ...) as futimens (the old Linux form)");
	symlink("t", "tl");
	struct timespec lset[2] = { { 300, 0 }, { 400, 0 } };
	ok(utimensat(AT_FDCWD, "tl", lset, AT_SYMLINK_NOFOLLOW) == 0 && lstat("tl", &st2) == 0 &&
		   st2.st_mtime == 400 && stat("t", &st) == 0 && ts_is(st.st_mtim, 1234567890, 5),
	   "utimensat(AT_SYMLINK_NOFOLLOW) sets the link's times, not the target's");
	struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
	fails(utimensat(AT_FDCWD, "t", bad, 0), EINVAL, "a tv_nsec of 10^9 -> EINVAL");
	fails(utimensat(AT_FDCWD, "missing", set, 0), ENOENT, "utimensat of a missing name -> ENOENT");

	ok(write(fd, "more", 4) == 4 && fstat(fd, &st) == 0 && st.st_mtime >= before - 1 &&
		   st.st_ctime >= before - 1,
	   "a write sets mtime and ctime to now");
	utimensat(AT_FDCWD, "t", set, 0);
	ok(fchmod(fd, 0600) == 0 && fstat(fd, &st) == 0 && ts_is(st.st_mtim, 1234567890, 5) &&
		   st.st_ctime >= before - 1,
	   "chmod changes ctime, not mtime");
	ok(ftruncate(fd, 1) == 0 && fstat(fd, &st) == 0 && st.st_mtime >= before - 1,
	   "ftruncate changes mtime");
	mkdir("td", 0755);
	utimensat(AT_FDCWD, "td", set, 0);
	put("td/new", "n");
	ok(stat("td", &st) == 0 && st.st_mtime >= before - 1,
	   "creating a file changes its directory's mtime");
	utimensat(AT_FDCWD, "td", set, 0);
	unlink("td/new");
	ok(stat("td", &st) == 0 && st.st_mtime >= before - 1,
	   "removing a file changes its directory's mtime");
	rmdir("td");
	close(fd);
	unlink("tl");
	unlink("t");
}

static void test_umask(void)
{
	ok(umask(077) == 022, "umask returns the previous mask (022)");
	ok(umask(077) == 077, "and the new one took");
	int fd = open("u", O_WRONLY | O_CREAT, 0666);
	ok((mode_of("u") & 0777) == 0600, "O_CREAT 0666 under umask 077 -> 0600");
	close(fd);
	ok(mkdir("ud", 0777) == 0 && (mode_of("ud") & 0777) == 0700,
	   "mkdir 0777 under umask 077 -> 0700");
	ok(symlink("u", "ul") == 0 && (mode_of("ul") & 0777) == 0777,
	   "a symlink is 0777 whatever the umask");
	umask(0);
	fd = open("u0", O_WRONLY | O_CREAT, 0777);
	ok((mode_of("u0") & 0777) == 0777, "umask 0: O_CREAT 0777 -> 0777");
	close(fd);
	ok(chmod("u0", 0777) == 0 && umask(01777) == 0 && umask(022) == 0777,
	   "umask keeps only the 0777 bits");
	ok(mkdir("sd", 01777) == 0 && (mode_of("sd") & 07777) == 01755,
	   "mkdir keeps the sticky bit, umask 022 applies");
	unlink("u");
	unlink("u0");
	unlink("ul");
	rmdir("ud");
	rmdir("sd");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter_workdir("files_meta");
	test_stat();
	test_access();
	test_chmod_chown();
	test_times();
	test_umask();
	leave_workdir();
	return bad;
}
