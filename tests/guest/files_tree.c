// SPDX-License-Identifier: MIT
/* files_tree: the directory tree behaves as on Linux.  mkdir, mkdirat and
 * rmdir (mode under umask, link counts, EEXIST, ENOTEMPTY, EINVAL for ".");
 * unlink and unlinkat (AT_REMOVEDIR; an open file outlives its name);
 * rename, renameat and renameat2 (replacing a file, a directory over an
 * empty one or a non-empty one -> ENOTEMPTY, into its own subdirectory ->
 * EINVAL, RENAME_NOREPLACE, RENAME_EXCHANGE); link and linkat (shared
 * data, AT_SYMLINK_FOLLOW); symlink, symlinkat, readlink and readlinkat
 * (relative targets, dangling links, O_CREAT through one, ELOOP on a cycle
 * and past 40 links); getcwd, chdir and fchdir (through a symlink, after a
 * rename, after rmdir of the working directory).  Works in a fresh
 * /tmp/elfvm-t-files_tree.PID, removed at the end; prints only "ok" lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static nlink_t links_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_nlink : 0;
}

static int is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_reg(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_lnk(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int gone(const char *path)
{
	struct stat st;
	return lstat(path, &st) == -1 && errno == ENOENT;
}

/* same_file: A and B (followed) are the same inode. */
static int same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif
static long renameat2_(int od, const char *o, int nd, const char *n, unsigned flags)
{
	return syscall(SYS_renameat2, od, o, nd, n, flags);
}

static void test_mkdir_rmdir(void)
{
	struct stat st;
	nlink_t top = links_of(".");
	ok(mkdir("m", 0777) == 0 && stat("m", &st) == 0 && S_ISDIR(st.st_mode) &&
		   (st.st_mode & 07777) == 0755,
	   "mkdir 0777 makes a directory with mode 0755 under umask 022");
	ok(st.st_nlink == 2 && links_of(".") == top + 1,
	   "a new directory has 2 links and adds one to its parent");
	ok(mkdir("m/sub/", 0700) == 0 && is_dir("m/sub") && links_of("m") == 3,
	   "mkdir with a trailing slash; the parent has 3 links");
	fails(mkdir("m", 0755), EEXIST, "mkdir of an existing directory -> EEXIST");
	put("f", "file");
	fails(mkdir("f", 0755), EEXIST, "mkdir over an existing file -> EEXIST");
	fails(mkdir("nope/x", 0755), ENOENT, "mkdir under a missing directory -> ENOENT");
	fails(mkdir("f/x", 0755), ENOTDIR, "mkdir under a file -> ENOTDIR");
	int dfd = open("m", O_RDONLY | O_DIRECTORY);
	ok(mkdirat(dfd, "at", 0750) == 0 && stat("m/at", &st) == 0 && (st.st_mode & 0777) == 0750,
	   "mkdirat relative to a directory fd");
	fails(mkdirat(dfd, "at", 0750), EEXIST, "mkdirat of an existing name -> EEXIST");

	put("m/sub/file", "x");
	fails(rmdir("m/sub"), ENOTEMPTY, "rmdir of a non-empty directory -> ENOTEMPTY");
	fails(rmdir("f"), ENOTDIR, "rmdir of a file -> ENOTDIR");
	fails(rmdir("nope"), ENOENT, "rmdir of a missing name -> ENOENT");
	fails(rmdir("m/at/."), EINVAL, "rmdir of a path ending in . -> EINVAL");
	fails(rmdir("m/at/.."), ENOTEMPTY, "rmdir of a path ending in .. -> ENOTEMPTY");
	ok(rmdir("m/at") == 0 && gone("m/at") && links_of("m") == 3,
	   "rmdir of an empty directory; the parent loses a link");
	ok(unlink("m/sub/file") == 0 && rmdir("m/sub/") == 0 && gone("m/sub"),
	   "rmdir with a trailing slash");

	fails(unlink("m"), EISDIR, "unlink of a directory -> EISDIR");
	fails(unlink("nope"), ENOENT, "unlink of a missing name -> ENOENT");
	fails(unlink("f/"), ENOTDIR, "unlink of a file named with a trailing slash -> ENOTDIR");
	fails(unlinkat(AT_FDCWD, "m", 0), EISDIR,
	      "unlinkat of a directory without AT_REMOVEDIR -> EISDIR");
	fails(unlinkat(AT_FDCWD, "f", AT_REMOVEDIR), ENOTDIR,
	      "unlinkat(AT_REMOVEDIR) of a file -> ENOTDIR");
	fails(unlinkat(AT_FDCWD, "f", 0x1), EINVAL, "unlinkat with an unknown flag -> EINVAL");
	mkdir("m/e", 0755);
	put("m/e/x", "x");
	fails(unlinkat(dfd, "e", AT_REMOVEDIR), ENOTEMPTY,
	      "unlinkat(AT_REMOVEDIR) of a non-empty directory -> ENOTEMPTY");
	ok(unlinkat(dfd, "e/x", 0) == 0 && unlinkat(dfd, "e", AT_REMOVEDIR) == 0 && gone("m/e"),
	   "unlinkat removes a file and then, with AT_REMOVEDIR, its directory");
	close(dfd);

	int fd = open("f", O_RDWR);
	ok(unlink("f") == 0 && gone("f"), "unlink of an open file removes the name");
	char buf[8] = { 0 };
	ok(fstat(fd, &st) == 0 && st.st_nlink == 0 && pread(fd, buf, 8, 0) == 4 &&
		   !memcmp(buf, "file", 4),
	   "the open file still reads its data and has 0 links");
	ok(lseek(fd, 0, SEEK_END) == 4 && write(fd, "more", 4) == 4 && fstat(fd, &st) == 0 &&
		   st.st_size == 8,
	   "and can still be written");
	close(fd);
	ok(rmdir("m") == 0, "rmdir m");
}

static void test_rename(void)
{
	put("a", "A");
	put("b", "B");
	ok(rename("a", "c") == 0 && gone("a") && has("c", "A"), "rename to a new name");
	int fd = open("b", O_RDONLY);
	ok(rename("c", "b") == 0 && gone("c") && has("b", "A"),
	   "rename over an existing file replaces it");
	char ch = 0;
	ok(read(fd, &ch, 1) == 1 && ch == 'B',
	   "an fd open on the replaced file still reads its old data");
	close(fd);
	ok(rename("b", "b") == 0 && has("b", "A"), "rename of a name onto itself changes nothing");
	link("b", "b2");
	ok(rename("b", "b2") == 0 && has("b", "A") && has("b2", "A") && links_of("b") == 2,
	   "rename onto another link of the same file changes nothing");
	unlink("b2");
	fails(rename("nope", "x"), ENOENT, "rename of a missing name -> ENOENT");
	fails(rename("b", "nodir/x"), ENOENT, "rename into a missing directory -> ENOENT");

	mkdir("d1", 0755);
	put("d1/in", "in");
	mkdir("d2", 0755);
	nlink_t top = links_of(".");
	ok(rename("d1", "d2") == 0 && gone("d1") && has("d2/in", "in") && links_of(".") == top - 1,
	   "a directory renamed over an empty directory replaces it");
	mkdir("d3", 0755);
	put("d3/other", "o");
	fails(rename("d3", "d2"), ENOTEMPTY,
	      "a directory renamed over a non-empty directory -> ENOTEMPTY");
	fails(rename("d2", "d2/sub"), EINVAL, "a directory renamed into itself -> EINVAL");
	mkdir("d2/deep", 0755);
	fails(rename("d2", "d2/deep/x"), EINVAL,
	      "a directory renamed into its own subdirectory -> EINVAL");
	fails(rename("b", "d3"), EISDIR, "a file renamed over a directory -> EISDIR");
	fails(rename("d3", "b"), ENOTDIR, "a directory renamed over a file -> ENOTDIR");
	fails(rename("b/", "x"), ENOTDIR, "a file named with a trailing slash -> ENOTDIR");
	ok(rename("d3/", "d4") == 0 && has("d4/other", "o"),
	   "a directory named with a trailing slash renames");
	fails(rename(".", "x"), EBUSY, "rename of . -> EBUSY");
	ok(rename("d4", "d2/deep/d4") == 0 && has("d2/deep/d4/other", "o") && links_of("d2/deep") == 3,
	   "a directory moved into another directory; the new parent gains a link");
	int d2 = open("d2", O_RDONLY | O_DIRECTORY), deep = open("d2/deep", O_RDONLY | O_DIRECTORY);
	ok(renameat(deep, "d4/other", d2, "moved") == 0 && has("d2/moved", "o"),
	   "renameat between two directory fds");

	put("p", "P");
	put("q", "Q");
	fails(renameat2_(AT_FDCWD, "p", AT_FDCWD, "q", RENAME_NOREPLACE), EEXIST,
	      "renameat2 RENAME_NOREPLACE onto an existing name -> EEXIST");
	ok(has("p", "P") && has("q", "Q"), "both files are untouched");
	ok(renameat2_(AT_FDCWD, "p", AT_FDCWD, "r", RENAME_NOREPLACE) == 0 && gone("p") && has("r", "P"),
	   "renameat2 RENAME_NOREPLACE to a new name");
	ok(renameat2_(AT_FDCWD, "r", AT_FDCWD, "q", RENAME_EXCHANGE) == 0 && has("r", "Q") &&
		   has("q", "P"),
	   "renameat2 RENAME_EXCHANGE swaps two files");
	ok(renameat2_(d2, "moved", AT_FDCWD, "q", RENAME_EXCHANGE) == 0 && has("d2/moved", "P") &&
		   has("q", "o"),
	   "renameat2 RENAME_EXCHANGE across directories");
	ok(renameat2_(AT_FDCWD, "q", d2, "deep", RENAME_EXCHANGE) == 0 && is_dir("q") &&
		   is_reg("d2/deep") && has("q/d4/../../d2/deep", "o"),
	   "renameat2 RENAME_EXCHANGE swaps a file and a directory");
	fails(renameat2_(AT_FDCWD, "q", AT_FDCWD, "nope", RENAME_EXCHANGE), ENOENT,
	      "RENAME_EXCHANGE with a missing target -> ENOENT");
	fails(renameat2_(AT_FDCWD, "q", AT_FDCWD, "r", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL,
	      "RENAME_EXCHANGE|RENAME_NOREPLACE -> EINVAL");
	close(d2);
	close(deep);
	ok(rmdir("q/d4") == 0 && rmdir("q") == 0 && unlink("d2/deep") == 0 && unlink("d2/moved") == 0 &&
		   unlink("d2/in") == 0 && rmdir("d2") == 0 && unlink("b") == 0 && unlink("r") == 0,
	   "everything renamed is where it should be to be removed");
}

static void test_link(void)
{
	put("orig", "shared");
	ok(link("orig", "hard") == 0 && links_of("orig") == 2 && links_of("hard") == 2 &&
		   same_file("orig", "hard"),
	   "link makes a second name for the same file: 2 links");
	int fd = open("hard", O_WRONLY | O_APPEND);
	write(fd, "!", 1);
	close(fd);
	ok(has("orig", "shared!"), "a write through one name is seen through the other");
	fails(link("orig", "hard"), EEXIST, "link onto an existing name -> EEXIST");
	fails(link("nope", "x"), ENOENT, "link of a missing file -> ENOENT");
	mkdir("ld", 0755);
	fails(link("ld", "ld2"), EPERM, "link of a directory -> EPERM");
	ok(linkat(AT_FDCWD, "orig", AT_FDCWD, "ld/third", 0) == 0 && links_of("orig") == 3,
	   "linkat into a subdirectory: 3 links");
	ok(unlink("orig") == 0 && links_of("hard") == 2 && has("ld/third", "shared!"),
	   "unlink one name: the others keep the data");
	symlink("hard", "sym");
	ok(link("sym", "sym2") == 0 && is_lnk("sym2"), "link of a symlink links the symlink itself");
	ok(linkat(AT_FDCWD, "sym", AT_FDCWD, "followed", AT_SYMLINK_FOLLOW) == 0 && is_reg("followed") &&
		   links_of("hard") == 3,
	   "linkat(AT_SYMLINK_FOLLOW) links the symlink's target");
	fails(linkat(AT_FDCWD, "hard", AT_FDCWD, "x", 0x2), EINVAL,
	      "linkat with an unknown flag -> EINVAL");
	unlink("sym");
	unlink("sym2");
	unlink("followed");
	unlink("hard");
	unlink("ld/third");
	rmdir("ld");
}

static void test_symlink(void)
{
	char buf[256];
	mkdir("s", 0755);
	put("s/target", "T");
	ok(symlink("target", "s/rel") == 0 && has("s/rel", "T"),
	   "a relative symlink resolves from its own directory");
	ok(symlink("../s/target", "s/up") == 0 && has("s/up", "T"), "a relative symlink with ..");
	char abs[128];
	snprintf(abs, sizeof abs, "%s/s/target", workdir);
	ok(symlink(abs, "absl") == 0 && has("absl", "T"), "an absolute symlink");
	ok(symlink("s", "sdir") == 0 && has("sdir/target", "T") && has("sdir/rel", "T"),
	   "a symlink to a directory in the middle of a path");
	ssize_t n = readlink("s/up", buf, sizeof buf);
	ok(n == 11 && !memcmp(buf, "../s/target", 11), "readlink returns the target without a NUL");
	n = readlink("s/up", buf, 4);
	ok(n == 4 && !memcmp(buf, "../s", 4), "readlink into a short buffer truncates to its size");
	fails(readlink("s/target", buf, sizeof buf), EINVAL, "readlink of a file -> EINVAL");
	fails(readlink("nope", buf, sizeof buf), ENOENT, "readlink of a missing name -> ENOENT");
	fails(syscall(SYS_readlink, "s/up", buf, 0), EINVAL,
	      "readlink with a zero-size buffer -> EINVAL");
	int dfd = open("s", O_RDONLY | O_DIRECTORY);
	ok(symlinkat("rel", dfd, "rel2") == 0 && has("s/rel2", "T"),
	   "symlinkat relative to a directory fd (a link to a link)");
	n = readlinkat(dfd, "rel2", buf, sizeof buf);
	ok(n == 3 && !memcmp(buf, "rel", 3), "readlinkat relative to a directory fd");
	int lfd = openat(dfd, "rel2", O_PATH | O_NOFOLLOW);
	n = readlinkat(lfd, "", buf, sizeof buf);
	ok(n == 3 && !memcmp(buf, "rel", 3),
	   "readlinkat with an empty path on an O_PATH fd of the link");
	close(lfd);
	close(dfd);
	fails(symlink("x", "s/target"), EEXIST, "symlink onto an existing name -> EEXIST");
	fails(symlink("", "empty"), ENOENT, "symlink with an empty target -> ENOENT");
	struct stat st;
	ok(lstat("absl", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == (off_t)strlen(abs),
	   "lstat of a symlink: S_IFLNK, size is the target's length");
	fails(open("s/target/", O_RDONLY), ENOTDIR, "a file named with a trailing slash -> ENOTDIR");
	fails(open("s/rel/", O_RDONLY), ENOTDIR,
	      "a symlink to a file named with a trailing slash -> ENOTDIR");

	ok(symlink("s/nothing", "dangling") == 0 && is_lnk("dangling"),
	   "a dangling symlink exists for lstat");
	fails(stat("dangling", &st), ENOENT, "stat through a dangling symlink -> ENOENT");
	fails(open("dangling", O_RDONLY), ENOENT, "open through a dangling symlink -> ENOENT");
	fails(open("dangling", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
	      "O_CREAT|O_EXCL on a dangling symlink -> EEXIST");
	int fd = open("dangling", O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0 && is_reg("s/nothing") && is_lnk("dangling"),
	   "O_CREAT through a dangling symlink creates its target");
	close(fd);
	ok(unlink("dangling") == 0 && is_reg("s/nothing"),
	   "unlink of a symlink removes the link, not the target");

	ok(symlink("loop2", "loop1") == 0 && symlink("loop1", "loop2") == 0,
	   "two symlinks pointing at each other");
	fails(open("loop1", O_RDONLY), ELOOP, "open of a symlink cycle -> ELOOP");
	fails(stat("loop2", &st), ELOOP, "stat of a symlink cycle -> ELOOP");
	fails(open("loop1/x", O_RDONLY), ELOOP, "a cycle in the middle of a path -> ELOOP");
	fails(open("loop1", O_WRONLY | O_CREAT, 0644), ELOOP, "O_CREAT through a cycle -> ELOOP");
	ok(symlink("self", "self") == 0, "a symlink to itself");
	fails(access("self", F_OK), ELOOP, "access of a self-link -> ELOOP");
	ok(lstat("loop1", &st) == 0 && S_ISLNK(st.st_mode), "lstat of a link in a cycle works");

	/* A chain of 40 links resolves (Linux's limit); 41 is too many. */
	char name[32], to[32];
	put("chain_end", "E");
	int good = 1;
	for (int i = 0; i < 41; i++) {
		snprintf(name, sizeof name, "chain%d", i);
		if (i == 40)
			snprintf(to, sizeof to, "chain_end");
		else
			snprintf(to, sizeof to, "chain%d", i + 1);
		good &= symlink(to, name) == 0;
	}
	ok(good, "a chain of 41 symlinks");
	ok(has("chain1", "E"), "following 40 symlinks works");
	fails(open("chain0", O_RDONLY), ELOOP, "following 41 symlinks -> ELOOP");
	for (int i = 0; i < 41; i++) {
		snprintf(name, sizeof name, "chain%d", i);
		unlink(name);
	}
	unlink("chain_end");
	unlink("self");
	unlink("loop1");
	unlink("loop2");
	unlink("absl");
	unlink("sdir");
	unlink("s/rel");
	unlink("s/rel2");
	unlink("s/up");
	unlink("s/nothing");
	unlink("s/target");
	ok(rmdir("s") == 0, "every link removed");
}

static long getcwd_(char *buf, size_t n)
{
	return syscall(SYS_getcwd, buf, n);
}

static void test_cwd(void)
{
	char buf[512], want[512];
	ok(getcwd(buf, sizeof buf) && !strcmp(buf, workdir), "getcwd is the work directory");
	long n = getcwd_(buf, sizeof buf);
	ok(n == (long)strlen(workdir) + 1, "the getcwd syscall returns the length with the NUL");
	fails(getcwd_(buf, 5), ERANGE, "getcwd into a too short buffer -> ERANGE");
	mkdir("c1", 0755);
	mkdir("c1/c2", 0755);
	ok(chdir("c1/c2") == 0 && getcwd(buf, sizeof buf), "chdir c1/c2");
	snprintf(want, sizeof want, "%s/c1/c2", workdir);
	ok(!strcmp(buf, want), "getcwd shows c1/c2");
	ok(chdir("..//./") == 0 && getcwd(buf, sizeof buf) != NULL, "chdir ..//./");
	snprintf(want, sizeof want, "%s/c1", workdir);
	ok(!strcmp(buf, want), "getcwd shows c1");
	int top = open(workdir, O_RDONLY | O_DIRECTORY);
	ok(fchdir(top) == 0 && getcwd(buf, sizeof buf) && !strcmp(buf, workdir),
	   "fchdir back to the work directory");
	put("plain", "p");
	fails(chdir("plain"), ENOTDIR, "chdir to a file -> ENOTDIR");
	fails(chdir("nope"), ENOENT, "chdir to a missing name -> ENOENT");
	int pf = open("plain", O_RDONLY);
	fails(fchdir(pf), ENOTDIR, "fchdir to a file fd -> ENOTDIR");
	close(pf);
	fails(fchdir(999), EBADF, "fchdir to a closed fd -> EBADF");
	symlink("c1/c2", "c2link");
	snprintf(want, sizeof want, "%s/c1/c2", workdir);
	ok(chdir("c2link") == 0 && getcwd(buf, sizeof buf) && !strcmp(buf, want),
	   "chdir through a symlink: getcwd shows the real path");
	ok(rename("../../c1", "../../renamed") == 0 && getcwd(buf, sizeof buf),
	   "rename a directory above the working directory");
	snprintf(want, sizeof want, "%s/renamed/c2", workdir);
	ok(!strcmp(buf, want), "getcwd shows the new name");
	ok(put("here", "h") == 0 && fchdir(top) == 0 && has("renamed/c2/here", "h"),
	   "a relative path still works in the renamed directory");
	ok(chdir("renamed/c2") == 0 && rmdir(want) == -1 && errno == ENOTEMPTY && unlink("here") == 0 &&
		   rmdir(want) == 0,
	   "rmdir of the working directory itself");
	fails(getcwd_(buf, sizeof buf), ENOENT, "getcwd in a removed directory -> ENOENT");
	fails(open("new", O_WRONLY | O_CREAT, 0644), ENOENT,
	      "creating a file in a removed directory -> ENOENT");
	ok(fchdir(top) == 0 && getcwd(buf, sizeof buf) && !strcmp(buf, workdir),
	   "fchdir out of the removed directory");
	close(top);
	unlink("c2link");
	unlink("plain");
	ok(rmdir("renamed") == 0, "rmdir renamed");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter_workdir("files_tree");
	test_mkdir_rmdir();
	test_rename();
	test_link();
	test_symlink();
	test_cwd();
	leave_workdir();
	return bad;
}
