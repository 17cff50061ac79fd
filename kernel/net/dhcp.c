// SPDX-License-Identifier: MIT
/*
 * IPv4 addresses from DHCP (`ip=dhcp` on the command line, which `elfvm
 * pack --disk` writes so that a disk image finds its network on a cloud
 * VM; docs/net.md).  lwIP's own client (core/ipv4/dhcp.c) does the
 * protocol on each device; this file starts it, waits at boot until every
 * device has its lease (or DHCP_WAIT_NS pass: the program then starts
 * without, and the client keeps trying), and turns the servers' DNS
 * option into /etc/resolv.conf.
 *
 * lwIP hands a lease's DNS servers to its DNS client through
 * dns_setserver(), and builds the option request only when LWIP_DNS is
 * on.  Its resolver is not built (the program's libc resolves names):
 * this file supplies the three functions lwIP calls of it, and keeps the
 * servers.
 */
#include "kernel/net/port.h"
#include "kernel/net/stack.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "minifs/minifs.h"

#define DHCP_WAIT_NS (10 * NSEC_PER_SEC)

static struct netif *started[NET_DEV_MAX];
static int nstarted;
static ip4_addr_t servers[DNS_MAX_SERVERS];

/* lwIP's DNS client, as far as DHCP and the timers reach it. */
void dns_init(void)
{
}
void dns_tmr(void)
{
}
void dns_setserver(u8_t n, const ip_addr_t *addr)
{
	if (n < DNS_MAX_SERVERS && addr && IP_IS_V4(addr))
		servers[n] = *ip_2_ip4(addr);
}

/* The device's name as netlink shows it (its netif is the ndev's first
 * member; eth0 is index 2). */
static int eth_of(struct netif *nif)
{
	return ((struct ndev *)nif)->index - 2;
}

bool net_dhcp_wanted(void)
{
	char buf[8];

	return cmdline_get("ip", buf, sizeof(buf)) && !strcmp(buf, "dhcp");
}

void net_dhcp_start(struct netif *nif)
{
	err_t e = dhcp_start(nif);

	if (e != ERR_OK) {
		klog("net: eth%d: DHCP did not start (lwIP error %d)", eth_of(nif), e);
		return;
	}
	if (nstarted < NET_DEV_MAX)
		started[nstarted++] = nif;
}

static bool all_bound(void)
{
	bool bound = true;

	net_lock();
	for (int i = 0; i < nstarted; i++)
		bound &= dhcp_supplied_address(started[i]) != 0;
	net_unlock();
	return bound;
}

/* The servers as resolv.conf lines, over whatever the image had. */
static void write_resolv(void)
{
	char text[128];
	size_t len = 0;

	for (int i = 0; i < DNS_MAX_SERVERS; i++)
		if (!ip4_addr_isany_val(servers[i]))
			len += (size_t)snprintf(text + len, sizeof(text) - len, "nameserver %s\n",
						ip4addr_ntoa(&servers[i]));
	if (!len)
		return;
	struct inode *etc = mfs_lookup("/etc"), *f = NULL;
	if (etc) {
		mfs_lock();
		f = mfs_dir_lookup(etc, "resolv.conf", 11);
		if (!f)
			f = mfs_create(etc, "resolv.conf", S_IFREG | 0644);
		mfs_unlock();
	}
	struct uio u;
	uio_init_kernel(&u, text, len);
	long r = f ? mfs_truncate(f, 0) : -ENOENT;
	if (r >= 0)
		r = mfs_write(f, &u, 0);
	if (r < 0)
		klog("net: cannot write /etc/resolv.conf (error %ld)", r);
}

void net_dhcp_wait(void)
{
	uint64_t end = clock_monotonic_ns() + DHCP_WAIT_NS;

	if (!nstarted)
		return;
	while (!all_bound() && clock_monotonic_ns() < end)
		wait_event_deadline(NULL, false, MIN(end, clock_monotonic_ns() + 5000000));
	net_lock();
	for (int i = 0; i < nstarted; i++) {
		struct netif *n = started[i];
		char a[16], m[16], g[16];
		if (!dhcp_supplied_address(n)) {
			klog("net: eth%d: no DHCP lease in %lu s; the program starts without an IPv4 "
			     "address (the client keeps asking)",
			     eth_of(n), DHCP_WAIT_NS / NSEC_PER_SEC);
			continue;
		}
		snprintf(a, sizeof(a), "%s", ip4addr_ntoa(netif_ip4_addr(n)));
		snprintf(m, sizeof(m), "%s", ip4addr_ntoa(netif_ip4_netmask(n)));
		snprintf(g, sizeof(g), "%s", ip4addr_ntoa(netif_ip4_gw(n)));
		klog("net: eth%d: DHCP lease %s netmask %s gateway %s", eth_of(n), a, m, g);
	}
	net_unlock();
	write_resolv();
}
