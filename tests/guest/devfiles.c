// SPDX-License-Identifier: MIT
/* devfiles: the standard device files behave as on Linux.  /dev/null
 * swallows writes and reads end-of-file; /dev/zero reads zeros (also
 * through mmap of MAP_PRIVATE); /dev/full fails writes with ENOSPC;
 * /dev/urandom gives bytes; each is a character device. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static int chardev(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

int main(void)
{
	static char buf[8192];
	static const char zero[8192];

	int n = open("/dev/null", O_RDWR);
	ok(n >= 0 && chardev("/dev/null"), "/dev/null opens and is a character device");
	ok(write(n, "xyz", 3) == 3, "/dev/null takes a write");
	ok(read(n, buf, sizeof buf) == 0, "/dev/null reads end-of-file");
	close(n);

	int z = open("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof buf);
	ok(z >= 0 && chardev("/dev/zero"), "/dev/zero opens and is a character device");
	ok(read(z, buf, sizeof buf) == sizeof buf && memcmp(buf, zero, sizeof buf) == 0,
	   "/dev/zero reads 8 KiB of zeros");
	close(z);

	int f = open("/dev/full", O_WRONLY);
	ok(f >= 0 && chardev("/dev/full"), "/dev/full opens and is a character device");
	ok(write(f, "x", 1) == -1 && errno == ENOSPC, "/dev/full fails a write with ENOSPC");
	close(f);

	int u = open("/dev/urandom", O_RDONLY);
	ok(u >= 0 && chardev("/dev/urandom"), "/dev/urandom opens and is a character device");
	ok(read(u, buf, 64) == 64 && memcmp(buf, zero, 64) != 0, "/dev/urandom reads bytes");
	close(u);
	return bad;
}
