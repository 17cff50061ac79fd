// SPDX-License-Identifier: MIT
/*
 * The lwIP port: the net lock, the stack's kernel thread, lwIP's clock,
 * heap and timers, the loopback path, and the glue between lwIP's netif and
 * a driver's struct netdev (kernel/net/netdev.h).  The thread polls devices
 * a driver kicked and runs lwIP's timers; it sleeps until the next timer or
 * kick, and lwIP's timers exist only while needed: the TCP timer while a
 * connection lives, the ARP/ND/reassembly timers once a device is up, so
 * an idle VM with no device takes no interrupts.  The way out to a device
 * is tx.c.  Sockets are in syscalls/net_*.c; this file knows nothing of
 * them.
 */
#include "kernel/net/netdev.h"
#include "kernel/net/port.h"
#include "kernel/net/stack.h"

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define NET_POLL_BUDGET 64
#define NET_RX_LENT_MAX 128 /* driver buffers held by the stack before it copies */
#define LO_MTU 16384
#define NET_DRAIN_NS 1000000000 /* the longest an exit waits for sends to leave */

struct mutex net_mutex = MUTEX_INIT("net_lock");
static struct waitq net_wq;       /* the stack's thread sleeps here */
static volatile bool net_kicked;  /* a device has work, or a timer moved */
static uint64_t net_deadline;     /* the thread's wake-up (monotonic ns), 0: none */
static struct thread *net_thread; /* net_flush is not to kick itself */
static bool timers_on;            /* a device is up: every lwIP timer runs */

/* A received frame wrapped for lwIP, kept on a free list (no allocation
 * per packet once the list has grown). */
struct rx_wrap {
	struct pbuf_custom pc;
	struct netdev *d;
	void *buf;
	struct rx_wrap *next;
};

static struct ndev *devs[NET_DEV_MAX];
static int ndevs;
static struct rx_wrap *rx_free;
static struct netif *lo_netif; /* lwip_init's; netif_list's head only until a device is added */

/* ---- lwIP's platform ------------------------------------------------------ */

void *lwip_port_malloc(size_t size)
{
	return kmalloc(size);
}

void lwip_port_free(void *p)
{
	kfree(p);
}

void *lwip_port_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kzalloc(n * size);
}

_Noreturn void lwip_port_assert(const char *msg, int line, const char *file)
{
	panic("lwIP: %s at %s:%d", msg, file, line);
}

unsigned lwip_port_rand(void)
{
	unsigned r;

	random_bytes(&r, sizeof(r));
	return r;
}

u32_t sys_now(void)
{
	return (u32_t)(clock_monotonic_ns() / 1000000);
}

/* ---- the lock, the loopback path and the thread ------------------------- */

void net_flush(void)
{
	/* Each pass delivers what the last one queued (a segment, its ACK…);
	 * the bound only guards against a loop that never settles. */
	for (int pass = 0; pass < 1024; pass++) {
		bool any = false;
		struct netif *n;

		NETIF_FOREACH(n)
		{
			if (n->loop_first) {
				/* Packets to the machine's own address on a device
				 * whose TCP checksums are offloaded never got one. */
				u16_t fl = n->chksum_flags;
				if (n != lo_netif)
					n->chksum_flags = fl & ~NETIF_CHECKSUM_CHECK_TCP;
				netif_poll(n);
				n->chksum_flags = fl;
				any = true;
			}
		}
		if (!any)
			break;
	}
	/* lwip_init starts the cyclic timers (ARP, ND, reassembly); with
	 * no device they have nothing to do, so only the TCP timer's need (a
	 * connection that lives) makes the thread wake for them. */
	if (!timers_on && !tcp_active_pcbs && !tcp_tw_pcbs)
		return;
	u32_t ms = sys_timeouts_sleeptime();
	if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return;
	uint64_t dl = clock_monotonic_ns() + (uint64_t)ms * 1000000 + 1;
	if (!net_deadline || dl < net_deadline) {
		net_deadline = dl;
		if (current != net_thread) {
			net_kicked = true;
			wake_up(&net_wq);
		}
	}
}

void net_unlock(void)
{
	net_flush();
	mutex_unlock(&net_mutex);
}

static void net_thread_fn(void *arg)
{
	(void)arg;
	for (;;) {
		bool more = false;

		net_lock();
		net_kicked = false;
		for (int i = 0; i < ndevs; i++) {
			struct ndev *nd = devs[i];
			nd->polling = true;
			if (nd->d->poll(nd->d, NET_POLL_BUDGET) >= NET_POLL_BUDGET)
				more = true;
			nd->polling = false;
			net_ack_flush(nd);
		}
		if (timers_on || tcp_active_pcbs || tcp_tw_pcbs)
			sys_check_timeouts();
		net_deadline = 0;
		net_unlock();
		if (more) { /* the kernel is not preempted: let the readers run */
			sched_yield_cpu();
			continue;
		}
		wait_event_deadline(&net_wq, net_kicked, net_deadline);
	}
}

void netdev_kick(struct netdev *d)
{
	(void)d;
	net_kicked = true;
	wake_up(&net_wq);
}

void net_init(void)
{
	lwip_init();
	lo_netif = netif_list; /* lwip_init's loopback, the only interface yet */
	lo_netif->mtu = LO_MTU;
	lo_netif->mtu6 = LO_MTU;
	net_thread = kthread_create(net_thread_fn, NULL);
	if (!net_thread)
		panic("net: no memory for the stack's thread");
}

/* ---- a device as an lwIP netif ------------------------------------------ */

static void rx_free_custom(struct pbuf *p)
{
	struct rx_wrap *w = (struct rx_wrap *)p;
	struct ndev *nd = w->d->stack;

	nd->lent--;
	w->d->rx_recycle(w->d, w->buf);
	w->next = rx_free;
	rx_free = w;
}

/* d->rx: runs in the stack's thread, inside d->poll, with net_lock held. */
static void dev_rx(struct netdev *d, void *buf, uint32_t len, bool csum_ok)
{
	struct ndev *nd = d->stack;
	struct pbuf *p = NULL;
	struct rx_wrap *w;

	if (len > 0xffff)
		goto drop;
	if (nd->lent >= NET_RX_LENT_MAX) {
		/* Sockets that are not read hold many buffers: copy, so the
		 * driver's ring does not run dry. */
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
		if (!p)
			goto drop;
		pbuf_take(p, buf, (u16_t)len);
		d->rx_recycle(d, buf);
	} else {
		if ((w = rx_free))
			rx_free = w->next;
		else if (!(w = kmalloc(sizeof(*w))))
			goto drop;
		w->d = d;
		w->buf = buf;
		w->pc.custom_free_function = rx_free_custom;
		p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &w->pc, buf, (u16_t)len);
		nd->lent++;
	}
	/* The device vouched for the TCP/UDP checksum (virtio's DATA_VALID),
	 * or left it partial for us to trust (NEEDS_CSUM, a packet from the
	 * host itself): lwIP must not check it.  lwIP's checks are per
	 * interface, and the frame is processed whole within input(), so the
	 * flags hold for this frame alone. */
	if (csum_ok)
		nd->nif.chksum_flags =
			nd->csum_flags & ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
	if (nd->nif.input(p, &nd->nif) != ERR_OK)
		pbuf_free(p);
	nd->nif.chksum_flags = nd->csum_flags;
	return;
drop:
	d->rx_recycle(d, buf);
}

static err_t dev_netif_init(struct netif *nif)
{
	struct ndev *nd = nif->state;

	nif->name[0] = 'e';
	nif->name[1] = 't';
	nif->hwaddr_len = 6;
	memcpy(nif->hwaddr, nd->d->mac, 6);
	nif->mtu = nd->d->mtu ? nd->d->mtu : 1500;
	nif->mtu6 = nif->mtu;
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	nif->output = etharp_output;
	nif->output_ip6 = ethip6_output;
	nif->linkoutput = net_dev_linkoutput;
	return ERR_OK;
}

/* "ADDR/PREFIX" from the kernel command line word key; false when absent
 * or malformed. */
static bool cmdline_prefix(const char *key, char *addr, size_t size, int *prefix, int max)
{
	char buf[64];
	char *slash;

	if (!cmdline_get(key, buf, sizeof(buf)))
		return false;
	if ((slash = strchr(buf, '/'))) {
		int v = 0;
		*slash = 0;
		for (const char *c = slash + 1; *c; c++) {
			if (*c < '0' || *c > '9' || (v = v * 10 + (*c - '0')) > max)
				return false;
		}
		*prefix = v;
	}
	snprintf(addr, size, "%s", buf);
	return true;
}

void netdev_register(struct netdev *d)
{
	struct ndev *nd;
	char a[64];
	int prefix = 24;

	if (!net_thread)
		panic("netdev_register before net_init");
	if (ndevs == NET_DEV_MAX || !(nd = kzalloc(sizeof(*nd)))) {
		klog("net: %s not used (too many devices, or no memory)", d->name);
		return;
	}
	/* QEMU's user network unless the command line says otherwise. */
	IP4_ADDR(&nd->addr, 10, 0, 2, 15);
	IP4_ADDR(&nd->gw, 10, 0, 2, 2);
	bool dhcp = net_dhcp_wanted();
	if (dhcp) { /* no address until the lease */
		ip4_addr_set_zero(&nd->addr);
		ip4_addr_set_zero(&nd->gw);
		prefix = 0;
	} else if (cmdline_prefix("ip", a, sizeof(a), &prefix, 32) && !ip4addr_aton(a, &nd->addr))
		klog("net: ip=%s is not an IPv4 address; using 10.0.2.15", a);
	if (cmdline_get("gw", a, sizeof(a)) && !ip4addr_aton(a, &nd->gw))
		klog("net: gw=%s is not an IPv4 address", a);
	nd->prefix4 = prefix;
	ip4_addr_set_u32(&nd->mask, prefix ? lwip_htonl(~0u << (32 - prefix)) : 0);
	nd->d = d;
	nd->index = 2 + ndevs;
	d->stack = nd;
	d->rx = dev_rx;
	d->tx_done = net_dev_tx_done;

	net_lock();
	if (!netif_add(&nd->nif, &nd->addr, &nd->mask, &nd->gw, nd, dev_netif_init, ethernet_input)) {
		net_unlock();
		klog("net: %s: lwIP refused the interface", d->name);
		return;
	}
	devs[ndevs++] = nd;
	netif_create_ip6_linklocal_address(&nd->nif, 1);
	nd->nif.ip6_autoconfig_enabled = 1;
	int p6 = 64;
	ip6_addr_t a6;
	if (cmdline_prefix("ip6", a, sizeof(a), &p6, 128)) {
		s8_t idx;
		if (ip6addr_aton(a, &a6) && netif_add_ip6_address(&nd->nif, &a6, &idx) == ERR_OK)
			netif_ip6_addr_set_state(&nd->nif, idx, IP6_ADDR_PREFERRED);
		else
			klog("net: ip6=%s is not usable", a);
	}
	nd->prefix6 = p6;
	/* The device sums TCP segments: lwIP leaves their checksum to it. */
	nd->csum_flags = d->tx_csum ? NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP
				    : NETIF_CHECKSUM_ENABLE_ALL;
	nd->nif.chksum_flags = nd->csum_flags;
	if (ndevs == 1)
		netif_set_default(&nd->nif);
	netif_set_up(&nd->nif);
	netif_set_link_up(&nd->nif);
	if (dhcp)
		net_dhcp_start(&nd->nif);
	timers_on = true;
	net_kicked = true;
	net_unlock();
	wake_up(&net_wq);
	if (dhcp)
		kdebug("net: %s is eth%d, asking DHCP for its address", d->name, ndevs - 1);
	else
		klog("net: %s is eth%d, %s/%d", d->name, ndevs - 1, ip4addr_ntoa(&nd->addr), prefix);
}

/* ---- the end of the run ---------------------------------------------------- */

/* Whether a connects to this machine (its packets never leave it). */
static bool peer_is_local(const ip_addr_t *a)
{
	struct netif *n;

	if (IP_IS_V4(a) && ip4_addr_isloopback(ip_2_ip4(a)))
		return true;
	if (IP_IS_V6(a) && ip6_addr_isloopback(ip_2_ip6(a)))
		return true;
	NETIF_FOREACH(n)
	{
		if (IP_IS_V4(a) ? ip4_addr_cmp(ip_2_ip4(a), netif_ip4_addr(n))
				: netif_get_ip6_addr_match(n, ip_2_ip6(a)) >= 0)
			return true;
	}
	return false;
}

/* A connection to another machine still owes it bytes or its FIN, or a
 * frame (a UDP datagram sent just before exit, say) has not yet left
 * through the device. */
static bool net_owes(void)
{
	for (int i = 0; i < ndevs; i++)
		if (devs[i]->inflight || devs[i]->bl_len)
			return true;
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
		if (peer_is_local(&p->remote_ip))
			continue;
		if (p->unsent || p->unacked || p->state == FIN_WAIT_1 || p->state == CLOSING ||
		    p->state == LAST_ACK)
			return true;
	}
	return false;
}

void net_drain(void)
{
	uint64_t end = clock_monotonic_ns() + NET_DRAIN_NS;
	bool owes;

	if (!ndevs)
		return;
	for (;;) {
		net_lock();
		owes = net_owes();
		net_unlock();
		if (!owes || clock_monotonic_ns() >= end)
			break;
		/* The stack's thread does the work; look again in 5 ms. */
		wait_event_deadline(NULL, false, MIN(end, clock_monotonic_ns() + 5000000));
	}
}

/* ---- what netlink and the SIOCGIF* ioctls see ----------------------------- */

static void if_fill(struct net_ifinfo *o, struct netif *n, int index, int prefix6)
{
	memset(o, 0, sizeof(*o));
	o->index = index;
	o->mtu = n->mtu;
	o->addr4 = ip4_addr_get_u32(netif_ip4_addr(n));
	o->mask4 = ip4_addr_get_u32(netif_ip4_netmask(n));
	for (uint32_t m = lwip_ntohl(o->mask4); m & 0x80000000u; m <<= 1)
		o->prefix4++;
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && o->naddr6 < NET_IF_ADDR6_MAX; i++) {
		/* Tentative ones too (duplicate detection is under way), as
		 * Linux lists them. */
		if (ip6_addr_isinvalid(netif_ip6_addr_state(n, i)))
			continue;
		const ip6_addr_t *a = netif_ip6_addr(n, i);
		memcpy(o->addr6[o->naddr6], a->addr, 16);
		o->prefix6[o->naddr6++] = ip6_addr_isloopback(a) ? 128 : prefix6;
	}
}

int net_if_list(struct net_ifinfo *out, int max)
{
	int n = 0;

	if (max <= 0)
		return 0;
	net_lock();
	if (lo_netif) {
		if_fill(&out[n], lo_netif, 1, 128);
		snprintf(out[n].name, sizeof(out[n].name), "lo");
		out[n].flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP;
		n++;
	}
	for (int i = 0; i < ndevs && n < max; i++, n++) {
		struct ndev *nd = devs[i];
		if_fill(&out[n], &nd->nif, nd->index, nd->prefix6);
		snprintf(out[n].name, sizeof(out[n].name), "eth%d", i);
		out[n].flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP;
		memcpy(out[n].mac, nd->d->mac, 6);
		out[n].has_mac = true;
	}
	net_unlock();
	return n;
}

/* For lwIP's netif_find (kernel/net/libc/stdlib.h). */
int atoi(const char *s)
{
	int v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}
