// SPDX-License-Identifier: MIT
/* uname: the program sees a Linux x86-64 system.  Prints sysname and
 * machine (the parts that must equal the host's); checks that release and
 * version are non-empty and every field is NUL-terminated, without
 * printing them. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	memset(&u, 0x7f, sizeof u);
	if (uname(&u) != 0) {
		printf("FAIL: uname failed\n");
		return 1;
	}
	int bad = 0;
	const char *fields[] = { u.sysname, u.nodename, u.release, u.version, u.machine };
	for (int i = 0; i < 5; i++)
		if (!memchr(fields[i], 0, sizeof u.sysname)) {
			printf("FAIL: field %d is not NUL-terminated\n", i);
			bad = 1;
		}
	if (!bad && (!u.release[0] || !u.version[0])) {
		printf("FAIL: release or version is empty\n");
		bad = 1;
	}
	if (!bad) {
		printf("sysname %s\n", u.sysname);
		printf("machine %s\n", u.machine);
	}
	return bad;
}
