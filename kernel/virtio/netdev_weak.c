// SPDX-License-Identifier: MIT
/*
 * What a kernel without the TCP/IP stack does with a network device: the
 * stack (kernel/net/) defines netdev_register and netdev_kick for real,
 * and its definitions replace these weak ones at link time.  Without it
 * the device is set up (netselftest=1 still works, docs/virtio.md) but
 * carries no traffic, and the log says so.
 */
#include "kernel/net/netdev.h"

__attribute__((weak)) void netdev_register(struct netdev *d)
{
	klog("net: %s: this kernel has no TCP/IP stack; the device stays unused", d->name);
}

/* Nothing to wake: the device's interrupts stay off until a poll, which
 * nobody makes, so an unused device costs nothing. */
__attribute__((weak)) void netdev_kick(struct netdev *d)
{
	(void)d;
}
