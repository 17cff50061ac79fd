/* SPDX-License-Identifier: MIT */
/*
 * What the boot sequence and the socket layer (syscalls/net_*.c) use of
 * the stack (kernel/net/port.c).  Every call into lwIP, and every read or
 * change of a socket's lwIP state, holds net_lock; lwIP's callbacks run
 * with it held (they never sleep).  docs/net.md, "The stack", has the
 * whole picture.
 */
#ifndef KERNEL_NET_STACK_H
#define KERNEL_NET_STACK_H

#include "kernel/kernel.h"

/* Starts lwIP, the loopback interface and the stack's thread.  Called once
 * from kmain, before any network driver registers its device. */
void net_init(void);

/* The one lock over lwIP, a sleeping mutex (docs/threads.md has its
 * place in the lock order). */
extern struct mutex net_mutex;

/* net_unlock delivers what lwIP queued on its loopback paths (lo, and
 * packets to the machine's own address) and wakes the stack's thread when
 * a timer came due sooner, then lets the lock go.  net_flush does the same
 * work without letting go: call it before sleeping with net_mutex held
 * (sock_wait), so no queued packet waits for someone else's unlock. */
static inline void net_lock(void)
{
	mutex_lock(&net_mutex);
}
void net_flush(void);
void net_unlock(void);

/* Frees mem (kmalloc's, at least 16 bytes) once every frame handed to a
 * device before now has been let go by it: for memory that frames may
 * point into without a reference (a TCP send buffer, whose bytes lwIP's
 * segments reference until acknowledged, and a driver a little longer).
 * net_mutex held; never sleeps. */
void net_free_after_tx(void *mem);

/* With ip=dhcp: waits, at most 10 s, until every device has a DHCP lease,
 * logs each, and writes the lease's DNS servers to /etc/resolv.conf.
 * Called once from kmain, after the file tree is up. */
void net_dhcp_wait(void);

/* The program is ending (exit_group): waits, at most a second, until every
 * TCP connection to another machine has had its queued bytes and its FIN
 * acknowledged, since nothing sends them once the VM is gone (a Linux
 * kernel would go on sending after the process died).  Sleeps; returns at
 * once without a device. */
void net_drain(void);

#endif
