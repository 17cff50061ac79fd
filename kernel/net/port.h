/* SPDX-License-Identifier: MIT */
/*
 * What kernel/net/port.c (the thread, the lock, receiving, devices as
 * netifs) and kernel/net/tx.c (sending to a device) share; nothing outside
 * kernel/net/ includes it.  Everything here is used with net_mutex held.
 */
#ifndef KERNEL_NET_PORT_H
#define KERNEL_NET_PORT_H

#include "kernel/net/netdev.h"

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

#define NET_DEV_MAX 2 /* eth0, eth1 */
#define NET_TX_FRAGS 16
#define NET_TX_BACKLOG 256 /* frames kept while the driver's ring is full */
/* Frames the devices may hold at once, all of them: more than NET_DEV_MAX
 * times (a ring's 256 + NET_TX_BACKLOG); a power of two. */
#define NET_TX_SEQS 2048
#define NET_ACK_HOLD 8 /* connections whose ACKs one poll holds (tx.c) */

/* A frame held for a device (in its ring or the backlog), numbered in the
 * order the stack handed frames over, so that net_free_after_tx knows when
 * every frame older than a moment has been let go. */
struct tx_rec {
	struct pbuf *p;
	bool busy;
};

struct ndev {
	struct netif nif;
	struct netdev *d;
	int index; /* netlink's: 2 for eth0 */
	struct tx_rec *backlog[NET_TX_BACKLOG];
	int bl_head, bl_len;
	int inflight; /* frames the driver has, before their tx_done */
	bool polling; /* the stack's thread is in d->poll: ACKs are held */
	struct pbuf *held[NET_ACK_HOLD];
	int nheld;
	int lent;         /* receive buffers held in pbufs */
	u16_t csum_flags; /* the netif's checksum flags between frames */
	ip4_addr_t addr, mask, gw;
	int prefix4, prefix6;
};

/* dhcp.c: whether the command line says ip=dhcp, and the client started
 * on a device's netif (net_mutex held). */
bool net_dhcp_wanted(void);
void net_dhcp_start(struct netif *nif);

/* lwIP's linkoutput for a device's netif: queues p for the driver (or
 * holds it, a pure ACK while the device is polled). */
err_t net_dev_linkoutput(struct netif *nif, struct pbuf *p);
/* The driver's tx_done: the frame token was sent. */
void net_dev_tx_done(struct netdev *d, void *token);
/* Sends the ACKs held during a poll of nd. */
void net_ack_flush(struct ndev *nd);

#endif
