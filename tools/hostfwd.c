// SPDX-License-Identifier: MIT
/*
 * Widens the accept queue of QEMU's published TCP ports.  QEMU's user
 * networking (libslirp's tcp_listen) listens on each hostfwd port with a
 * backlog of 1, so a burst of clients connecting at once (wrk -c 256, a
 * connection pool) overflows the host's accept queue: their SYNs are
 * dropped and retried after 1, 3, 7… s, and a handshake the client saw
 * complete is later reset.  Once QEMU has made its sockets (its QMP
 * greeting comes after the -netdev is set up), elfvm, QEMU's parent, takes
 * a copy of each listening socket with pidfd_getfd and calls listen()
 * again with SOMAXCONN, which Linux allows on a listening socket and which
 * changes only the queue's length.  Where the host refuses (no pidfd_getfd,
 * ptrace denied), nothing changes and the log says so.
 */
#define _GNU_SOURCE
#include "tools.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* The inode of the socket listening on 127.0.0.1 or 0.0.0.0:port, from
 * /proc/net/tcp; 0 when none. */
static unsigned long listen_inode(unsigned port)
{
	char line[512], local[64];
	unsigned long inode = 0, ino;
	unsigned st;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (!f)
		return 0;
	while (!inode && fgets(line, sizeof(line), f)) {
		unsigned addr, p;
		if (sscanf(line, " %*d: %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &ino) != 3 ||
		    sscanf(local, "%x:%x", &addr, &p) != 2)
			continue;
		if (st == 0x0a && p == port)
			inode = ino;
	}
	fclose(f);
	return inode;
}

/* QEMU's fd number for the socket with this inode; -1 when none. */
static int qemu_fd_of(int qemu, unsigned long inode)
{
	char dir[64], path[320], target[64], want[48];
	struct dirent *e;
	int fd = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)qemu);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	if (!(d = opendir(dir)))
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		ssize_t n;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', !strcmp(target, want)))
			fd = atoi(e->d_name);
	}
	closedir(d);
	return fd;
}

int hostfwd_widen(int qemu, const char *netdev, FILE *log)
{
	const char *s = netdev;
	int pidfd = -1, left = 0;

	while (s && (s = strstr(s, ",hostfwd=tcp:"))) {
		const char *c = strchr(s + 13, ':');
		unsigned port = c ? (unsigned)strtoul(c + 1, NULL, 10) : 0;
		unsigned long inode = port ? listen_inode(port) : 0;
		int fd = inode ? qemu_fd_of(qemu, inode) : -1, mine = -1;

		s += 13;
		if (fd >= 0 && pidfd < 0)
			pidfd = (int)syscall(SYS_pidfd_open, qemu, 0);
		if (fd >= 0 && pidfd >= 0)
			mine = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		if (mine >= 0 && listen(mine, SOMAXCONN) == 0) {
			close(mine);
			continue;
		}
		left++;
		if (log)
			fprintf(log, "elfvm: published port %u keeps QEMU's accept queue of 1: %s\n",
				port, fd < 0 ? "its socket was not found" : strerror(errno));
		if (mine >= 0)
			close(mine);
	}
	if (pidfd >= 0)
		close(pidfd);
	return left;
}
