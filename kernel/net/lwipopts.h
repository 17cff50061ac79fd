/* SPDX-License-Identifier: MIT */
/*
 * lwIP's configuration for elfvm (docs/net.md, "The stack").  NO_SYS with
 * the raw API: one kernel thread and one lock (kernel/net/port.c) stand in
 * for lwIP's tcpip thread, and the socket layer is ours (syscalls/net_*.c).
 * Memory comes from the kernel heap (MEM_LIBC_MALLOC, MEMP_MEM_MALLOC), so
 * the pool counts below are what the stack is sized for, not static
 * arrays: a thousand and more TCP connections at once, each with a 256 KiB
 * window (scaled) and send buffer.
 */
#ifndef KERNEL_NET_LWIPOPTS_H
#define KERNEL_NET_LWIPOPTS_H

/* lwIP's mem_init would clash with the kernel's page allocator's. */
#define mem_init lwip_mem_init

#define NO_SYS 1
#define LWIP_TIMERS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* every call into lwIP holds net_lock */
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_STATS 0
/* DHCP for ip=dhcp (kernel/net/dhcp.c); no duplicate-address ARP probe,
 * which would hold the boot a second.  LWIP_DNS only so that DHCP asks
 * for the DNS servers: lwIP's resolver is not built, dhcp.c supplies the
 * functions it is called by. */
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 1
#define LWIP_RAW 0
#define LWIP_ICMP 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_IPV6_MLD 0 /* its 100 ms timer would wake an idle VM; ND works without */
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_DHCP6 0
#define LWIP_IPV6_NUM_ADDRESSES 3 /* NET_IF_ADDR6_MAX: link-local, ip6=, one more */
#define LWIP_ETHERNET 1
#define LWIP_ARP 1
#define ARP_QUEUEING 1
#define IP_FORWARD 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
/* Fragments held for reassembly, all datagrams together: a 64 KiB UDP
 * datagram is 45 fragments at eth0's MTU (lwIP's default is 10). */
#define IP_REASS_MAX_PBUFS 256
#define LWIP_IPV6_FRAG 1
#define LWIP_IPV6_REASS 1
#define IPV6_FRAG_COPYHEADER 1 /* 64-bit pointers do not fit in the fragment header */
#define SO_REUSE 1
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_SINGLE_NETIF 0

/* The loopback interface (lo: 127.0.0.1/8, ::1), and packets to the
 * machine's own address on eth0, are queued by lwIP and delivered by
 * net_unlock() before the lock is let go: no timer, no thread switch. */
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 0

/* A TCP send buffer's bytes are referenced by PBUF_ROM pbufs (tcp_write
 * without copying, syscalls/net_tcp_sndq.c) and may be reused once
 * acknowledged: a packet held longer than the call that sent it (ARP and
 * ND queues waiting for an address) is copied, as lwIP already does for
 * PBUF_REF. */
#define PBUF_NEEDS_COPY(p) \
	((p)->type_internal == PBUF_ROM || ((p)->type_internal & PBUF_TYPE_FLAG_DATA_VOLATILE))

/* Checksums: lwIP computes and checks them, per interface, so that the
 * loopback interface does neither (its packets never leave memory). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

/* Memory: the kernel heap. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define mem_clib_malloc lwip_port_malloc
#define mem_clib_free lwip_port_free
#define mem_clib_calloc lwip_port_calloc
#include <stddef.h>
void *lwip_port_malloc(size_t size);
void lwip_port_free(void *p);
void *lwip_port_calloc(size_t n, size_t size);
#define MEMP_NUM_TCP_PCB 1100
#define MEMP_NUM_TCP_PCB_LISTEN 64
#define MEMP_NUM_UDP_PCB 256
#define MEMP_NUM_TCP_SEG 16384
#define MEMP_NUM_PBUF 4096
#define MEMP_NUM_REASSDATA 64
#define MEMP_NUM_FRAG_PBUF 64
#define MEMP_NUM_ARP_QUEUE 64
#define MEMP_NUM_ND6_QUEUE 64
#define MEMP_NUM_SYS_TIMEOUT 16
#define PBUF_POOL_SIZE 1024
#define PBUF_POOL_BUFSIZE 1536

/* TCP: a 256 KiB window (scale 3) and send buffer per connection.  The
 * MSS is the loopback's (its MTU is 16 KiB, port.c); on eth0 lwIP lowers
 * it to the device's MTU (TCP_CALCULATE_EFF_SEND_MSS).  lwIP's sanity
 * checks assume a 16-bit send buffer and a 1460-byte MSS, hence off. */
#define TCP_MSS 16344
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 3
#define TCP_WND (256 * 1024)
#define TCP_SND_BUF (256 * 1024)
#define TCP_SND_QUEUELEN 1024 /* segments queued: 256 KiB of 1460-byte ones, and more */
#define TCP_SNDLOWAT (32 * 1024)
/* A window update once the program has read this much: a quarter of a
 * peer's unscaled 64 KiB window.  lwIP's default (4 MSS, with our 16 KiB
 * MSS) would wait for all of it. */
#define TCP_WND_UPDATE_THRESHOLD (16 * 1024)
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define TCP_OVERSIZE TCP_MSS
#define TCP_QUEUE_OOSEQ 1
#define TCP_LISTEN_BACKLOG 0              /* the accept queue's length is ours (net_tcp.c) */
#define TCP_MSL 30000UL                   /* TIME_WAIT lasts 2 MSL: Linux's 60 s */
#define TCP_LOCAL_PORT_RANGE_START 0x8000 /* Linux's ip_local_port_range */
#define TCP_LOCAL_PORT_RANGE_END 0xee47
#define TCP_ENSURE_LOCAL_PORT_RANGE(port) \
	((u16_t)(((port) % (TCP_LOCAL_PORT_RANGE_END - TCP_LOCAL_PORT_RANGE_START + 1)) + \
		 TCP_LOCAL_PORT_RANGE_START))
#define LWIP_CALLBACK_API 1
#define LWIP_EVENT_API 0
#define LWIP_TCP_TIMESTAMPS 0
#define TCP_DEFAULT_LISTEN_BACKLOG 0xff

#endif
