// SPDX-License-Identifier: MIT
/* cred: the user and group ids as a server that drops root sees them
 * (memcached -u, nginx's user): root sets the real, effective and saved
 * ids at will; after setresuid to another user with the saved id kept at
 * 0, seteuid(0) regains root; after setuid to another user as root, every
 * id is that user's and setuid(0) fails with EPERM; setfsuid returns the
 * old fs id; -1 leaves an id as it is.  Runs as root (the VM's only user;
 * natively the tests run as root too). */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/fsuid.h>
#include <unistd.h>
#include "check.h"

static void ids(const char *what, unsigned r, unsigned e, unsigned s, int uid)
{
	uid_t a, b, c;
	int ret = uid ? getresuid(&a, &b, &c) : getresgid(&a, &b, &c);

	okf(ret == 0 && a == r && b == e && c == s, what, "got %u %u %u, want %u %u %u", (unsigned)a,
	    (unsigned)b, (unsigned)c, r, e, s);
}

int main(void)
{
	ok(getuid() == 0 && geteuid() == 0 && getgid() == 0 && getegid() == 0, "starts as root");
	ids("getresuid at start", 0, 0, 0, 1);
	ok(setresgid(-1, -1, -1) == 0, "setresgid(-1,-1,-1) changes nothing");
	ids("getresgid unchanged", 0, 0, 0, 0);
	ok(setregid(100, 200) == 0, "setregid as root");
	ids("setregid sets real, effective and saved", 100, 200, 200, 0);
	ok(setgid(50) == 0, "setgid as root");
	ids("setgid as root sets all three", 50, 50, 50, 0);
	ok(getgid() == 50 && getegid() == 50, "getgid and getegid follow");
	ok(setgroups(0, NULL) == 0, "setgroups(0) as root");

	ok(setresuid(1000, 1000, 0) == 0, "setresuid(1000, 1000, 0)");
	ids("ids after setresuid", 1000, 1000, 0, 1);
	ok(getuid() == 1000 && geteuid() == 1000, "getuid and geteuid follow");
	fails(setresuid(2000, -1, -1), EPERM, "a user may not take a foreign real id");
	fails(setgid(60), EPERM, "a user may not setgid to a foreign id");
	ok(setfsuid(1000) == 1000, "setfsuid returns the old fs id (the euid)");
	ok(seteuid(0) == 0, "seteuid(0) back to the saved id 0");
	ids("root again through the saved id", 1000, 0, 0, 1);
	ok(setuid(3000) == 0, "setuid(3000) as root");
	ids("setuid as root sets all three", 3000, 3000, 3000, 1);
	fails(setuid(0), EPERM, "setuid(0) after dropping root");
	fails(seteuid(0), EPERM, "seteuid(0) after dropping root");
	ok(setuid(3000) == 0, "setuid to one's own id");
	fails(setuid(-1), EINVAL, "setuid(-1)");
	return bad;
}
