// SPDX-License-Identifier: MIT
/*
 * A TCP socket's send queue: the one copy between the program's buffer and
 * the network card (DESIGN.md §8).  A send copies the program's bytes into
 * 64 KiB chunks that belong to the connection and hands lwIP references to
 * them (tcp_write without TCP_WRITE_FLAG_COPY); lwIP's segments point into
 * the chunks, and so do the frames the driver sends (kernel/net/port.c
 * hands it the pbufs' memory).  Bytes are released as lwIP's sent callback
 * says they were acknowledged; a chunk emptied that way becomes the
 * connection's spare, and any other is freed only once the devices have
 * let go of every frame that may point into it (net_free_after_tx).  A
 * socket closed with bytes still unacknowledged gives its queue to the
 * pcb, which frees it when the last byte is acknowledged or the connection
 * dies.  Receiving is net_tcp.c's.
 */
#include "syscalls/net_inet.h"

#include "lwip/tcp.h"

/* A chunk is 16 pages with kmalloc's header: the data starts 16 bytes in,
 * after the link that net_free_after_tx may overwrite. */
#define SNDQ_ALLOC (64 * 1024 - 16)
struct sndq_chunk {
	struct sndq_chunk *next;
	uint64_t unused;
	char data[];
};
#define SNDQ_DATA (SNDQ_ALLOC - sizeof(struct sndq_chunk))

struct tcp_sndq {
	struct sndq_chunk *head, *tail; /* the oldest chunk, the one written into */
	struct sndq_chunk *spare;       /* an emptied chunk, kept for the next */
	size_t head_off;                /* bytes of head acknowledged */
	size_t tail_len;                /* bytes of tail written */
	size_t queued;                  /* written, not yet acknowledged */
};

size_t sndq_queued(const struct tcp_sndq *q)
{
	return q ? q->queued : 0;
}

long sndq_write(struct tcp_sndq **qp, struct tcp_pcb *p, struct uio *u, size_t n, u8_t flags)
{
	struct tcp_sndq *q = *qp;

	if (!q && !(q = *qp = kzalloc(sizeof(*q))))
		return -ENOMEM;
	if (!q->tail || q->tail_len == SNDQ_DATA) {
		struct sndq_chunk *c = q->spare;
		if (c)
			q->spare = NULL;
		else if (!(c = kmalloc(SNDQ_ALLOC)))
			return -ENOMEM;
		c->next = NULL;
		if (q->tail) {
			q->tail->next = c;
		} else {
			q->head = c;
			q->head_off = 0;
		}
		q->tail = c;
		q->tail_len = 0;
	}
	n = MIN(n, MIN(SNDQ_DATA - q->tail_len, (size_t)0xffff));
	char *dst = q->tail->data + q->tail_len;
	/* A fault is EFAULT here, before lwIP has seen anything; the bytes
	 * copied before it are dropped too, as Linux drops the piece it was
	 * copying. */
	long c = uio_copy_in(u, dst, n);
	if (c < (long)n)
		return c < 0 ? c : -EFAULT;
	err_t e = tcp_write(p, dst, (u16_t)c, flags);
	if (e != ERR_OK)
		return -(e == ERR_MEM ? ENOBUFS : inet_errno(e));
	q->tail_len += (size_t)c;
	q->queued += (size_t)c;
	return c;
}

/* A chunk nothing will be written into again: the first becomes the
 * spare (a frame of a retransmission the driver still holds may show its
 * new bytes, which the peer discards as already acknowledged); the rest
 * wait for the devices. */
static void chunk_release(struct tcp_sndq *q, struct sndq_chunk *c)
{
	if (!q->spare)
		q->spare = c;
	else
		net_free_after_tx(c);
}

void sndq_acked(struct tcp_sndq *q, size_t n)
{
	if (!q)
		return;
	n = MIN(n, q->queued);
	q->queued -= n;
	while (n && q->head) {
		size_t end = q->head == q->tail ? q->tail_len : SNDQ_DATA;
		size_t c = MIN(n, end - q->head_off);
		q->head_off += c;
		n -= c;
		if (q->head_off < SNDQ_DATA || q->head == q->tail)
			break;
		struct sndq_chunk *h = q->head;
		q->head = h->next;
		q->head_off = 0;
		chunk_release(q, h);
	}
	/* Everything acknowledged: write from the start again. */
	if (!q->queued && q->tail) {
		q->head_off = 0;
		q->tail_len = 0;
	}
}

void sndq_drop(struct tcp_sndq *q)
{
	if (!q)
		return;
	while (q->head) {
		struct sndq_chunk *c = q->head;
		q->head = c->next;
		net_free_after_tx(c);
	}
	net_free_after_tx(q->spare);
	q->tail = q->spare = NULL;
	q->head_off = q->tail_len = q->queued = 0;
}

void sndq_free(struct tcp_sndq *q)
{
	if (!q)
		return;
	sndq_drop(q);
	kfree(q);
}

/* ---- a queue that outlives its socket (net_mutex held) -------------------- */

static void orphan_done(struct tcp_pcb *pcb, struct tcp_sndq *q)
{
	if (pcb) {
		tcp_arg(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
	}
	sndq_free(q);
}

static err_t orphan_sent_cb(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct tcp_sndq *q = arg;

	sndq_acked(q, len);
	if (!q->queued)
		orphan_done(pcb, q);
	return ERR_OK;
}

static void orphan_err_cb(void *arg, err_t err)
{
	(void)err;
	orphan_done(NULL, arg); /* the pcb is gone */
}

void sndq_give_to_pcb(struct tcp_sndq *q, struct tcp_pcb *pcb)
{
	tcp_arg(pcb, q);
	tcp_sent(pcb, orphan_sent_cb);
	tcp_err(pcb, orphan_err_cb);
}
