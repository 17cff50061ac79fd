// SPDX-License-Identifier: MIT
/*
 * The way out to a device (kernel/net/netdev.h's xmit and tx_done): lwIP's
 * frames become fragments for the driver without a copy, TCP checksums
 * are left to a device that sums them, frames wait in a backlog while the
 * driver's ring is full, and every frame handed over is numbered so that
 * memory frames point into without a reference (a TCP send queue's
 * chunks) is freed only after them (net_free_after_tx).  While the stack's
 * thread polls a device, pure ACKs are held and folded, one per
 * connection per batch.  The thread, the lock and the receive side are
 * port.c's.
 */
#include "kernel/net/netdev.h"
#include "kernel/net/port.h"
#include "kernel/net/stack.h"

#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip6.h"

static struct tx_rec tx_recs[NET_TX_SEQS]; /* indexed by number % NET_TX_SEQS */
static uint64_t tx_next, tx_low;           /* the next number, the oldest still held */
/* Memory waiting for the frames that may point into it (net_free_after_tx):
 * a FIFO in number order, linked through the memory itself. */
struct tx_deferred {
	struct tx_deferred *next;
	uint64_t seq; /* freed once tx_low reaches it */
};
static struct tx_deferred *dfr_head, *dfr_tail;

static err_t dev_queue(struct ndev *nd, struct pbuf *p);

/* Where a TCP segment's checksum region starts in frame f (Ethernet, then
 * IPv4 or IPv6 with TCP right after); 0 when f is something else. */
static uint16_t tcp_start(const uint8_t *f, uint32_t len)
{
	if (len >= 14 + 20 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[23] == IP_PROTO_TCP) {
		unsigned ihl = (f[14] & 0xfu) * 4;
		return ihl >= 20 && len >= 14 + ihl + 20 ? (uint16_t)(14 + ihl) : 0;
	}
	if (len >= 14 + 40 + 20 && f[12] == 0x86 && f[13] == 0xdd && f[20] == IP6_NEXTH_TCP)
		return 14 + 40;
	return 0;
}

static uint32_t sum16(const uint8_t *b, int n, uint32_t sum)
{
	for (int i = 0; i < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	return sum;
}

/* With the device summing TCP (tx_csum), lwIP leaves the checksum 0: put
 * the pseudo-header's sum there, as virtio's NEEDS_CSUM wants (Linux's
 * tcp_v4_send_check).  f is contiguous up to the TCP header's end. */
static void tcp_pseudo_sum(uint8_t *f, uint16_t start)
{
	uint32_t sum;

	if (f[12] == 0x08) { /* IPv4: addresses, protocol, TCP length */
		unsigned tot = (unsigned)f[16] << 8 | f[17];
		sum = sum16(f + 26, 8, IP_PROTO_TCP + tot - (start - 14));
	} else { /* IPv6: addresses, payload length, next header */
		sum = sum16(f + 22, 32, IP6_NEXTH_TCP + ((unsigned)f[18] << 8 | f[19]));
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[start + 16] = (uint8_t)(sum >> 8);
	f[start + 17] = (uint8_t)sum;
}

/* Frees what waited for frames now let go. */
static void tx_deferred_run(void)
{
	while (dfr_head && dfr_head->seq <= tx_low) {
		struct tx_deferred *d = dfr_head;
		if (!(dfr_head = d->next))
			dfr_tail = NULL;
		kfree(d);
	}
}

void net_free_after_tx(void *mem)
{
	struct tx_deferred *d = mem;

	if (!mem)
		return;
	if (tx_low == tx_next && !dfr_head) {
		kfree(mem);
		return;
	}
	d->next = NULL;
	d->seq = tx_next;
	if (dfr_tail)
		dfr_tail->next = d;
	else
		dfr_head = d;
	dfr_tail = d;
}

/* A frame is let go (sent, or dropped): its pbuf is freed and the oldest
 * number still held moves on. */
static void tx_rec_done(struct tx_rec *r)
{
	pbuf_free(r->p);
	r->p = NULL;
	r->busy = false;
	while (tx_low < tx_next && !tx_recs[tx_low % NET_TX_SEQS].busy)
		tx_low++;
	tx_deferred_run();
}

/* Hands one frame to the driver; -EAGAIN when its ring is full. */
static long dev_xmit(struct ndev *nd, struct tx_rec *rec)
{
	struct pbuf *p = rec->p;
	struct netdev_frag f[NET_TX_FRAGS];
	struct netdev_csum csum = { 0 };
	int n = 0;

	if (nd->d->tx_csum && (csum.start = tcp_start(p->payload, p->len))) {
		csum.needed = true;
		csum.offset = 16;
	}

	for (struct pbuf *q = p; q; q = q->next) {
		if (!q->len)
			continue;
		if (n == NET_TX_FRAGS)
			return -EINVAL; /* the caller made p one piece first */
		f[n++] = (struct netdev_frag){ q->payload, q->len };
	}
	long r = nd->d->xmit(nd->d, f, n, &csum, rec);
	if (!r)
		nd->inflight++;
	return r;
}

void net_dev_tx_done(struct netdev *d, void *token)
{
	struct ndev *nd = d->stack;

	nd->inflight--;
	tx_rec_done(token);
	while (nd->bl_len) {
		struct tx_rec *rec = nd->backlog[nd->bl_head];
		long r = dev_xmit(nd, rec);
		if (r == -EAGAIN)
			break;
		nd->bl_head = (nd->bl_head + 1) % NET_TX_BACKLOG;
		nd->bl_len--;
		if (r)
			tx_rec_done(rec);
	}
}

/* ---- ACKs held while the stack's thread takes frames off a device ---------
 * lwIP acknowledges every second segment, and each ACK is a frame for the
 * device.  While one poll hands lwIP up to NET_POLL_BUDGET frames, a pure
 * ACK (no data, no SYN/FIN/RST) is held, and a later one of the same
 * connection that acknowledges more replaces it; what is held leaves when
 * the poll ends or before any other frame, so a batch of segments costs
 * one ACK per connection, as Linux's GRO makes it.  A duplicate ACK (the
 * same number again: the peer's fast retransmit counts them) is never
 * folded. */

/* Where p's TCP header starts, when p is one piece holding a pure ACK
 * over IPv4 or IPv6; 0 otherwise. */
static uint16_t pure_ack(const struct pbuf *p)
{
	const uint8_t *f = p->payload;
	uint16_t t;
	unsigned iplen;

	if (p->len != p->tot_len || !(t = tcp_start(f, p->len)) || p->len < t + 20u)
		return 0;
	if (f[12] == 0x08)
		iplen = ((unsigned)f[16] << 8 | f[17]) - (t - 14u);
	else
		iplen = (unsigned)f[18] << 8 | f[19];
	unsigned doff = (f[t + 12] >> 4) * 4u;
	return iplen == doff && f[t + 13] == 0x10 ? t : 0;
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Whether the two frames (their TCP headers at t) belong to one
 * connection: the same addresses and ports. */
static bool same_flow(const uint8_t *a, const uint8_t *b, uint16_t t)
{
	unsigned from = a[12] == 0x08 ? 26 : 22;

	return a[12] == b[12] && a[13] == b[13] && !memcmp(a + from, b + from, t - from) &&
	       !memcmp(a + t, b + t, 4);
}

void net_ack_flush(struct ndev *nd)
{
	for (int i = 0; i < nd->nheld; i++)
		dev_queue(nd, nd->held[i]);
	nd->nheld = 0;
}

/* Holds p, a reference the caller gave up, when it is a pure ACK; false
 * when p is to be sent now (after what is held). */
static bool ack_hold(struct ndev *nd, struct pbuf *p)
{
	uint16_t t = pure_ack(p);

	if (!t)
		return false;
	const uint8_t *f = p->payload;
	for (int i = 0; i < nd->nheld; i++) {
		const uint8_t *h = nd->held[i]->payload;
		if (pure_ack(nd->held[i]) != t || !same_flow(f, h, t))
			continue;
		if ((int32_t)(be32(f + t + 8) - be32(h + t + 8)) <= 0)
			return false; /* a duplicate: both go, in order */
		pbuf_free(nd->held[i]);
		nd->held[i] = p;
		return true;
	}
	if (nd->nheld == NET_ACK_HOLD)
		net_ack_flush(nd);
	nd->held[nd->nheld++] = p;
	return true;
}

err_t net_dev_linkoutput(struct netif *nif, struct pbuf *p)
{
	struct ndev *nd = nif->state;
	int frags = 0;

	uint16_t start = nd->d->tx_csum ? tcp_start(p->payload, p->len) : 0;

	for (struct pbuf *q = p; q; q = q->next)
		frags++;
	/* A TCP segment whose headers straddle pbufs is made one piece, so
	 * its checksum field can be reached (lwIP builds them whole). */
	bool split = nd->d->tx_csum && !start && p->len < p->tot_len && p->len < 14 + 60 + 20;
	if (frags > NET_TX_FRAGS || split) {
		if (!(p = pbuf_clone(PBUF_RAW, PBUF_RAM, p)))
			return ERR_MEM;
		start = nd->d->tx_csum ? tcp_start(p->payload, p->len) : 0;
	} else {
		pbuf_ref(p);
	}
	if (start)
		tcp_pseudo_sum(p->payload, start);
	if (nd->polling && ack_hold(nd, p))
		return ERR_OK;
	net_ack_flush(nd);
	return dev_queue(nd, p);
}

/* Hands p (a reference the caller gave up) to the driver, or to the
 * backlog while its ring is full. */
static err_t dev_queue(struct ndev *nd, struct pbuf *p)
{
	if (nd->bl_len == NET_TX_BACKLOG || tx_next - tx_low >= NET_TX_SEQS) {
		pbuf_free(p);
		return ERR_MEM; /* TCP sends it again */
	}
	struct tx_rec *rec = &tx_recs[tx_next++ % NET_TX_SEQS];
	*rec = (struct tx_rec){ .p = p, .busy = true };
	if (!nd->bl_len) {
		long r = dev_xmit(nd, rec);
		if (r == 0)
			return ERR_OK;
		if (r != -EAGAIN) {
			tx_rec_done(rec);
			return ERR_IF;
		}
	}
	nd->backlog[(nd->bl_head + nd->bl_len++) % NET_TX_BACKLOG] = rec;
	return ERR_OK;
}
