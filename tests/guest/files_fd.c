// SPDX-License-Identifier: MIT
/* files_fd: the fd table behaves as on Linux.  close (twice -> EBADF),
 * close_range (a range, CLOSE_RANGE_CLOEXEC, bad arguments), the lowest
 * free fd is taken, dup/dup2/dup3 (shared offset and flags, separate
 * FD_CLOEXEC, dup2 onto itself, dup3 onto itself -> EINVAL), fcntl
 * F_GETFD/F_SETFD/F_GETFL/F_SETFL/F_DUPFD/F_DUPFD_CLOEXEC and F_SETLK/F_GETLK
 * within one process; pipe and pipe2 (O_CLOEXEC, O_NONBLOCK: EAGAIN when
 * empty and when full, EOF after the writer closes, EPIPE with SIGPIPE
 * ignored); ioctl FIONREAD on files and pipes, FIOCLEX and FIONCLEX;
 * fstat and lseek on a pipe; /proc/self/fd links.  Works in a fresh
 * /tmp/elfvm-t-files_fd.PID, removed at the end; prints only "ok" lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static long close_range_(unsigned a, unsigned b, unsigned flags)
{
	return syscall(436 /* close_range */, a, b, flags);
}

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void test_close_dup(void)
{
	put("f", "0123456789");
	int a = open("f", O_RDONLY);
	ok(a == 3, "the first open gets fd 3 (0-2 are the standard fds)");
	int b = open("f", O_RDONLY);
	ok(b == 4 && close(a) == 0, "the next gets 4; close 3");
	int c = open("f", O_RDONLY);
	ok(c == 3, "the lowest free fd (3) is taken again");
	ok(close(c) == 0, "close");
	fails(close(c), EBADF, "close of a closed fd -> EBADF");
	fails(close(-1), EBADF, "close(-1) -> EBADF");
	fails(close(100000), EBADF, "close of a huge fd -> EBADF");

	int d = dup(b);
	ok(d == 3, "dup takes the lowest free fd");
	char ch;
	ok(read(b, &ch, 1) == 1 && read(d, &ch, 1) == 1 && ch == '1' && lseek(b, 0, SEEK_CUR) == 2,
	   "dup'ed fds share one offset");
	ok(fcntl(b, F_SETFL, O_NONBLOCK) == 0 && (fcntl(d, F_GETFL) & O_NONBLOCK),
	   "and one set of status flags");
	ok(fcntl(d, F_SETFD, FD_CLOEXEC) == 0 && fcntl(b, F_GETFD) == 0 &&
		   fcntl(d, F_GETFD) == FD_CLOEXEC,
	   "but each has its own FD_CLOEXEC");
	ok(dup2(b, 10) == 10 && is_open(10) && fcntl(10, F_GETFD) == 0,
	   "dup2 to a chosen fd, FD_CLOEXEC clear");
	ok(dup2(b, 10) == 10 && is_open(10), "dup2 onto an fd already open closes and reuses it");
	ok(dup2(b, b) == b && is_open(b), "dup2 of an fd onto itself returns it and changes nothing");
	fails(dup2(b, -1), EBADF, "dup2 to -1 -> EBADF");
	fails(dup2(50, 51), EBADF, "dup2 of a closed fd -> EBADF");
	ok(!is_open(51), "and the target stays closed");
	ok(dup3(b, 11, O_CLOEXEC) == 11 && fcntl(11, F_GETFD) == FD_CLOEXEC, "dup3 with O_CLOEXEC");
	fails(syscall(SYS_dup3, b, b, 0), EINVAL, "dup3 of an fd onto itself -> EINVAL");
	fails(syscall(SYS_dup3, b, 12, O_APPEND), EINVAL,
	      "dup3 with a flag other than O_CLOEXEC -> EINVAL");
	fails(dup(77), EBADF, "dup of a closed fd -> EBADF");

	ok(fcntl(b, F_DUPFD, 20) == 20 && fcntl(20, F_GETFD) == 0,
	   "F_DUPFD takes the lowest fd >= its argument");
	ok(fcntl(b, F_DUPFD, 20) == 21, "F_DUPFD skips fds in use");
	ok(fcntl(b, F_DUPFD_CLOEXEC, 20) == 22 && fcntl(22, F_GETFD) == FD_CLOEXEC,
	   "F_DUPFD_CLOEXEC sets FD_CLOEXEC");
	fails(fcntl(b, F_DUPFD, -1), EINVAL, "F_DUPFD with a negative minimum -> EINVAL");
	ok(fcntl(b, F_SETFD, FD_CLOEXEC) == 0 && fcntl(b, F_GETFD) == FD_CLOEXEC &&
		   fcntl(b, F_SETFD, 0) == 0 && fcntl(b, F_GETFD) == 0,
	   "F_SETFD sets and clears FD_CLOEXEC");
	fails(fcntl(88, F_GETFD), EBADF, "F_GETFD of a closed fd -> EBADF");
	fails(fcntl(b, 9999), EINVAL, "an unknown fcntl command -> EINVAL");

	int w = open("f", O_WRONLY | O_APPEND);
	ok((fcntl(w, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK)) == (O_WRONLY | O_APPEND),
	   "F_GETFL shows O_WRONLY|O_APPEND");
	ok(fcntl(w, F_SETFL, O_NONBLOCK) == 0 &&
		   (fcntl(w, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK)) == (O_WRONLY | O_NONBLOCK),
	   "F_SETFL replaces O_APPEND with O_NONBLOCK");
	ok(write(w, "X", 1) == 1 && lseek(w, 0, SEEK_CUR) == 1 && has("f", "X123456789"),
	   "without O_APPEND the write is at offset 0");
	ok(fcntl(w, F_SETFL, O_APPEND | O_RDWR) == 0 && (fcntl(w, F_GETFL) & O_ACCMODE) == O_WRONLY,
	   "F_SETFL cannot change the access mode");
	ok(write(w, "Y", 1) == 1 && has("f", "X123456789Y"), "O_APPEND set again by F_SETFL appends");
	close(w);

	ok(close_range_(10, 22, 0) == 0 && !is_open(10) && !is_open(11) && !is_open(20) &&
		   !is_open(22) && is_open(b) && is_open(d),
	   "close_range closes fds 10..22 and nothing else");
	int e = dup2(b, 30), f = dup2(b, 31);
	ok(e == 30 && f == 31 && close_range_(30, ~0U, CLOSE_RANGE_CLOEXEC) == 0 &&
		   fcntl(30, F_GETFD) == FD_CLOEXEC && fcntl(31, F_GETFD) == FD_CLOEXEC &&
		   fcntl(b, F_GETFD) == 0,
	   "close_range(CLOSE_RANGE_CLOEXEC) marks 30..~0 close-on-exec, leaves them open");
	ok(close_range_(30, ~0U, 0) == 0 && !is_open(30) && !is_open(31),
	   "close_range up to ~0 closes them");
	fails(close_range_(5, 4, 0), EINVAL, "close_range with first > last -> EINVAL");
	fails(close_range_(5, 6, 0x80), EINVAL, "close_range with an unknown flag -> EINVAL");
	ok(close_range_(200, 300, 0) == 0, "close_range of fds never opened succeeds");

	ok(ioctl(b, FIOCLEX) == 0 && fcntl(b, F_GETFD) == FD_CLOEXEC, "ioctl FIOCLEX sets FD_CLOEXEC");
	ok(ioctl(b, FIONCLEX) == 0 && fcntl(b, F_GETFD) == 0, "ioctl FIONCLEX clears it");
	int avail = -1;
	lseek(b, 3, SEEK_SET);
	ok(ioctl(b, FIONREAD, &avail) == 0 && avail == 8,
	   "FIONREAD on a file: bytes from the offset to the end");

	char path[64], link[256], want[256];
	snprintf(path, sizeof path, "/proc/self/fd/%d", b);
	snprintf(want, sizeof want, "%s/f", workdir);
	ssize_t n = readlink(path, link, sizeof link - 1);
	ok(n == (ssize_t)strlen(want) && !memcmp(link, want, n),
	   "/proc/self/fd/N links to the file's path");
	close(b);
	close(d);
	unlink("f");
}

static void test_locks(void)
{
	int fd = open("lock", O_RDWR | O_CREAT, 0644);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
	ok(fcntl(fd, F_SETLK, &fl) == 0, "F_SETLK takes a write lock");
	struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 10 };
	ok(fcntl(fd, F_GETLK, &q) == 0 && q.l_type == F_UNLCK,
	   "F_GETLK: one's own lock does not conflict (F_UNLCK)");
	fl.l_type = F_RDLCK;
	ok(fcntl(fd, F_SETLK, &fl) == 0, "F_SETLK converts it to a read lock");
	fl.l_type = F_UNLCK;
	ok(fcntl(fd, F_SETLK, &fl) == 0, "F_SETLK F_UNLCK releases it");
	ok(fcntl(fd, F_SETLKW, &(struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET }) == 0,
	   "F_SETLKW on the whole file");
	fl.l_type = 99;
	fails(fcntl(fd, F_SETLK, &fl), EINVAL, "F_SETLK with a bad l_type -> EINVAL");
	close(fd);
	fd = open("lock", O_RDONLY);
	fl.l_type = F_WRLCK;
	fails(fcntl(fd, F_SETLK, &fl), EBADF, "a write lock on a read-only fd -> EBADF");
	close(fd);
	unlink("lock");
}

static void test_pipes(void)
{
	int p[2];
	struct stat st;
	ok(pipe(p) == 0 && fcntl(p[0], F_GETFD) == 0 && (fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY &&
		   (fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY,
	   "pipe: a read end and a write end");
	ok(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat of a pipe: S_IFIFO");
	fails(lseek(p[0], 0, SEEK_SET), ESPIPE, "lseek on a pipe -> ESPIPE");
	fails(pread(p[0], (char[1]){ 0 }, 1, 0), ESPIPE, "pread64 on a pipe -> ESPIPE");
	int avail = -1;
	ok(write(p[1], "hello", 5) == 5 && ioctl(p[0], FIONREAD, &avail) == 0 && avail == 5,
	   "FIONREAD on a pipe counts 5 bytes");
	fails(write(p[0], "x", 1), EBADF, "write to the read end -> EBADF");
	fails(read(p[1], (char[1]){ 0 }, 1), EBADF, "read from the write end -> EBADF");
	char buf[16];
	ok(read(p[0], buf, sizeof buf) == 5 && !memcmp(buf, "hello", 5), "read gets what was written");
	close(p[1]);
	ok(read(p[0], buf, sizeof buf) == 0, "end-of-file once the write end is closed");
	close(p[0]);

	ok(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0 && fcntl(p[0], F_GETFD) == FD_CLOEXEC &&
		   fcntl(p[1], F_GETFD) == FD_CLOEXEC && (fcntl(p[0], F_GETFL) & O_NONBLOCK) &&
		   (fcntl(p[1], F_GETFL) & O_NONBLOCK),
	   "pipe2(O_CLOEXEC|O_NONBLOCK) sets both on both ends");
	fails(read(p[0], buf, 1), EAGAIN, "reading an empty non-blocking pipe -> EAGAIN");
	static char chunk[4096];
	long total = 0;
	ssize_t r;
	while ((r = write(p[1], chunk, sizeof chunk)) > 0)
		total += r;
	ok(r == -1 && errno == EAGAIN && total == 65536,
	   "a non-blocking pipe fills at 64 KiB, then EAGAIN");
	errno = 0;
	ok(ioctl(p[0], FIONREAD, &avail) == 0 && avail == 65536, "FIONREAD counts 65536");
	ok(read(p[0], chunk, 4096) == 4096 && write(p[1], chunk, 4096) == 4096,
	   "reading 4096 bytes makes room for 4096 more");
	fails(write(p[1], "ab", 2), EAGAIN, "full again: EAGAIN");
	close(p[0]);
	close(p[1]);
	fails(pipe2(p, O_APPEND), EINVAL,
	      "pipe2 with a flag other than O_CLOEXEC/O_NONBLOCK/O_DIRECT -> EINVAL");

	signal(SIGPIPE, SIG_IGN);
	ok(pipe(p) == 0 && close(p[0]) == 0, "a pipe whose read end is closed");
	fails(write(p[1], "x", 1), EPIPE, "write with no reader -> EPIPE (SIGPIPE ignored)");
	close(p[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter_workdir("files_fd");
	test_close_dup();
	test_locks();
	test_pipes();
	leave_workdir();
	return bad;
}
