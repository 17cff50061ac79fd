/* SPDX-License-Identifier: MIT */
/*
 * The line between a network card's driver (kernel/virtio/net.c) and the
 * TCP/IP stack (kernel/net/, lwIP).  Neither side knows the other's types:
 * the driver moves Ethernet frames in memory it owns or is lent, the stack
 * wraps them in its own buffers.  The stack runs in one kernel thread under
 * one lock (kernel/net/port.c); the driver's interrupt handler never calls
 * into the stack, it only says that work is waiting (netdev_kick).
 */
#ifndef KERNEL_NET_NETDEV_H
#define KERNEL_NET_NETDEV_H

#include "kernel/kernel.h"

/* One piece of a frame to send: kernel memory, contiguous. */
struct netdev_frag {
	const void *data;
	uint32_t len;
};

/* Checksum work a frame needs or had (virtio-net's header, kept generic). */
struct netdev_csum {
	bool needed;     /* TX: the device must fill the checksum in */
	uint16_t start;  /* offset of the region to sum, from the frame's start */
	uint16_t offset; /* where, from start, the checksum goes */
};

struct netdev {
	const char *name;
	uint8_t mac[6];
	uint16_t mtu;
	bool tx_csum; /* the device fills TX checksums in (netdev_csum) */
	bool rx_csum; /* the device has checked RX checksums (rx's csum_ok) */

	/* Queues one frame of n fragments for sending; token comes back
	 * through tx_done once the device no longer reads the fragments.
	 * Returns 0, or -EAGAIN when the ring is full (the stack keeps the
	 * frame and tries again after the next tx_done). */
	long (*xmit)(struct netdev *d, const struct netdev_frag *f, int n,
		     const struct netdev_csum *csum, void *token);
	/* Takes up to budget received frames off the ring, calling rx for
	 * each, and completed sends, calling tx_done for each; returns the
	 * frames received.  Runs in the stack's thread, never in an
	 * interrupt.  Re-enables the device's interrupts when it found the
	 * rings empty. */
	int (*poll)(struct netdev *d, int budget);
	/* Gives back a receive buffer that rx handed to the stack. */
	void (*rx_recycle)(struct netdev *d, void *buf);

	/* Set by the stack. rx: a frame in buf (the driver's, lent until
	 * rx_recycle), len bytes, csum_ok when the device checked its
	 * checksums.  tx_done: the token of a finished xmit. */
	void (*rx)(struct netdev *d, void *buf, uint32_t len, bool csum_ok);
	void (*tx_done)(struct netdev *d, void *token);
	void *stack; /* the stack's per-device state */
};

/* Stack side (kernel/net/): a driver registers its device once it can send
 * and receive; the stack brings the interface up with the configured
 * address.  netdev_kick may be called from an interrupt handler: it wakes
 * the stack's thread, which then calls d->poll. */
void netdev_register(struct netdev *d);
void netdev_kick(struct netdev *d);

/* What the stack tells the socket layer about its interfaces (netlink's
 * RTM_GETLINK/RTM_GETADDR, the SIOCGIF* ioctls).  Addresses in network
 * order. */
#define NET_IF_ADDR6_MAX 3
struct net_ifinfo {
	int index; /* 1: lo, 2: eth0 */
	char name[16];
	unsigned flags; /* IFF_* */
	unsigned mtu;
	uint8_t mac[6];
	bool has_mac;
	uint32_t addr4, mask4; /* 0: none */
	int prefix4;
	uint8_t addr6[NET_IF_ADDR6_MAX][16];
	uint8_t prefix6[NET_IF_ADDR6_MAX];
	int naddr6;
};
/* Fills out with up to max interfaces in index order; returns how many. */
int net_if_list(struct net_ifinfo *out, int max);

#endif
