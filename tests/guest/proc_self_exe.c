// SPDX-License-Identifier: MIT
/* proc_self_exe: the program can find itself.  readlink("/proc/self/exe")
 * gives an absolute path whose last component is the program's file name
 * (only that name is printed: the directory differs between the host and
 * the VM); AT_EXECFN ends in the same name; and the file at that path can
 * be opened and starts with the ELF magic. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	if (n <= 0) {
		printf("FAIL: readlink(/proc/self/exe) failed\n");
		return 1;
	}
	path[n] = 0;
	int bad = 0;
	if (path[0] != '/') {
		printf("FAIL: /proc/self/exe is not absolute\n");
		bad = 1;
	}
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	printf("exe basename %s\n", base);

	const char *execfn = (const char *)getauxval(AT_EXECFN);
	size_t bl = strlen(base), el = execfn ? strlen(execfn) : 0;
	if (!execfn || el < bl || strcmp(execfn + el - bl, base) != 0) {
		printf("FAIL: AT_EXECFN does not end in the same name\n");
		bad = 1;
	}

	int fd = open(path, O_RDONLY);
	char magic[4] = { 0 };
	if (fd < 0 || read(fd, magic, 4) != 4 || memcmp(magic, "\177ELF", 4) != 0) {
		printf("FAIL: cannot read the ELF magic from /proc/self/exe's target\n");
		bad = 1;
	} else {
		printf("ok the file at /proc/self/exe is an ELF\n");
	}
	return bad;
}
