// SPDX-License-Identifier: MIT
/*
 * virtio-console (virtio 1.2 §5.3) as the program's stdout and stderr.  The
 * device is multiport: the VMM names two ports elfvm.stdout and
 * elfvm.stderr (docs/virtio.md), found through the control queue's
 * handshake at boot.  Each stream owns a 256 KiB byte ring: a write copies
 * the program's bytes in once and makes them available as one request per
 * contiguous piece, so the program waits for the host only when a ring is
 * full.  The guarantees are the serial lines': every byte, in order, per
 * stream; and the host gets a stream's bytes before any later-written
 * byte of the other stream (a switch of stream waits for the first to be
 * taken), so `2>&1` interleaves as it did.  console_flush waits until the
 * host has taken everything, before the end-of-run records.
 *
 * Two host-to-guest ports follow (docs/terminal.md): elfvm.stdin, whose
 * receive buffers are posted again only once the reader has consumed them
 * (so a fast producer waits in the host), ending when the host reports
 * the port closed (PORT_OPEN 0 on the control queue, after every byte);
 * and elfvm.ctl, whose text records ("signal 15") go to a hook that
 * syscalls/ctl.c installs.  No port named elfvm.stdin: stdin is empty.
 *
 * A last guest-to-host port, elfvm.core, exists only under `run --core`:
 * kernel/core.c sends the core file on it, one buffer at a time, waiting
 * for each (the program's other threads are parked by then).
 */
#include "kernel/virtio/virtio.h"

#define VIRTIO_CONSOLE_F_MULTIPORT (1ULL << 1)
#define CONSOLE_CFG_MAX_NR_PORTS 4 /* config offset of max_nr_ports */

/* struct virtio_console_control's events (§5.3.6.2). */
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_PORT_ADD 1
#define VIRTIO_CONSOLE_PORT_READY 3
#define VIRTIO_CONSOLE_PORT_OPEN 6
#define VIRTIO_CONSOLE_PORT_NAME 7

#define IN_BUFS 16       /* stdin: receive buffers in flight */
#define IN_BUF_SIZE 4096 /* each one page */
#define CTL_BUFS 4       /* elfvm.ctl's receive buffers */
#define CTL_LINE 128     /* the longest record */

#define RING_SIZE (256 * 1024)
#define MAX_PORTS 6      /* ports whose transmit queues are set up */
#define CTRL_BUFS 32     /* receive buffers of the control queue */
#define CTRL_BUF_SIZE 64 /* a header and a port name */
#define TXQ_SIZE 128
#define HANDSHAKE_NS 2000000000ULL

struct console_control {
	uint32_t id;
	uint16_t event, value;
};

/* A piece of a ring that one request carries. */
struct chunk {
	uint64_t end; /* the ring position after its last byte */
	bool done;
};

struct stream {
	const char *name; /* the port's name */
	int port;         /* -1 until the device names it */
	struct virtqueue *txq;
	uint8_t *ring;
	uint64_t head, tail;  /* bytes queued, bytes the host has taken */
	struct chunk *chunks; /* in flight, oldest at chunk_tail */
	uint32_t chunk_head, chunk_tail;
};

/* A host-to-guest port: its receive queue and the buffer being read. */
struct in_port {
	const char *name;
	int port;
	struct virtqueue *rxq;
	uint8_t *cur; /* a used buffer partly consumed, or NULL */
	uint32_t cur_len, cur_off;
	bool closed; /* the host side closed: the end once cur and rxq are empty */
	struct waitq wq;
	struct mutex lock; /* one reader at a time */
};

static struct {
	struct virtio_dev *dev;
	struct virtqueue *ctrl_rx, *ctrl_tx;
	struct virtqueue *port_tx[MAX_PORTS], *port_rx[MAX_PORTS];
	int nports;
	struct stream out[2]; /* stdout, stderr */
	int last;             /* the stream written last: 0, 1, or -1 */
	bool ready;
	struct waitq wq;   /* writers waiting for the host */
	struct mutex lock; /* one writer at a time, both streams */
	uint8_t (*ctrl_bufs)[CTRL_BUF_SIZE];
	int added, named; /* ports the device added, and named, in the handshake */
	struct in_port in, ctl;
	int core_port;             /* elfvm.core, or -1 */
	struct spinlock ctrl_lock; /* the control queue once running */
	void (*ctl_hook)(const char *line);
	char ctl_line[CTL_LINE];
	size_t ctl_len;
} con = {
	.out = { { "elfvm.stdout", -1 }, { "elfvm.stderr", -1 } },
	.last = -1,
	.lock = MUTEX_INIT("virtio-console"),
	.in = { .name = "elfvm.stdin", .port = -1, .lock = MUTEX_INIT("console stdin") },
	.ctl = { .name = "elfvm.ctl", .port = -1, .lock = MUTEX_INIT("console ctl") },
	.core_port = -1,
	.ctrl_lock = SPINLOCK_INIT("console control"),
};

bool virtio_console_ready(void)
{
	return con.ready;
}

/* ---- the control queue (boot only) --------------------------------------- */

static long ctrl_send(uint32_t id, uint16_t event, uint16_t value)
{
	static struct console_control msg;
	uint64_t deadline = clock_monotonic_ns() + HANDSHAKE_NS;

	msg = (struct console_control){ id, event, value };
	struct virtq_buf b = { &msg, sizeof(msg) };
	long r = virtq_add(con.ctrl_tx, &b, 1, 0, &msg);
	if (r < 0)
		return r;
	virtq_kick(con.ctrl_tx);
	/* One message at a time: msg is reused. */
	while (!virtq_get(con.ctrl_tx, NULL)) {
		if (clock_monotonic_ns() > deadline)
			return -ETIMEDOUT;
		cpu_relax();
	}
	return 0;
}

static void ctrl_post(uint8_t *buf)
{
	struct virtq_buf b = { buf, CTRL_BUF_SIZE };
	virtq_add(con.ctrl_rx, &b, 0, 1, buf);
}

/* One control message from the device during the handshake. */
static long ctrl_message(const uint8_t *buf, uint32_t len)
{
	struct console_control c;

	if (len < sizeof(c))
		return 0;
	memcpy(&c, buf, sizeof(c));
	if (c.event == VIRTIO_CONSOLE_PORT_ADD && c.id < (uint32_t)con.nports) {
		con.added++;
		return ctrl_send(c.id, VIRTIO_CONSOLE_PORT_READY, 1);
	}
	if (c.event != VIRTIO_CONSOLE_PORT_NAME || c.id >= (uint32_t)con.nports)
		return 0;
	con.named++;
	const char *name = (const char *)buf + sizeof(c);
	size_t nlen = strnlen(name, len - sizeof(c));
	int *ports[] = { &con.out[0].port, &con.out[1].port, &con.in.port, &con.ctl.port,
			 &con.core_port };
	const char *names[] = { con.out[0].name, con.out[1].name, con.in.name, con.ctl.name,
				"elfvm.core" };
	for (size_t s = 0; s < ARRAY_SIZE(ports); s++) {
		if (*ports[s] < 0 && nlen == strlen(names[s]) && !memcmp(name, names[s], nlen)) {
			*ports[s] = (int)c.id;
			/* Opened by the guest: QEMU passes input only to an open port. */
			return ctrl_send(c.id, VIRTIO_CONSOLE_PORT_OPEN, 1);
		}
	}
	return 0;
}

/* DEVICE_READY, then answers the device's PORT_ADDs until every port
 * added is named (at least both streams') or HANDSHAKE_NS pass.  QEMU
 * queues all its PORT_ADDs while it handles DEVICE_READY, and each
 * PORT_NAME while it handles our PORT_READY, which ctrl_send waits for. */
static long handshake(void)
{
	uint64_t deadline = clock_monotonic_ns() + HANDSHAKE_NS;
	long r = ctrl_send(0, VIRTIO_CONSOLE_DEVICE_READY, 1);

	while (r == 0 && (con.out[0].port < 0 || con.out[1].port < 0 || con.named < con.added)) {
		uint32_t len;
		uint8_t *buf = virtq_get(con.ctrl_rx, &len);
		if (!buf) {
			if (clock_monotonic_ns() > deadline)
				return -ETIMEDOUT;
			cpu_relax();
			continue;
		}
		r = ctrl_message(buf, len);
		ctrl_post(buf);
		virtq_kick(con.ctrl_rx);
	}
	return r;
}

/* ---- the transmit path --------------------------------------------------- */

static void tx_done(struct virtqueue *q)
{
	(void)q;
	wake_up(&con.wq);
}

/* Takes back what the host has used; the ring's tail moves over the
 * pieces done, oldest first.  Called with con.lock held. */
static void reclaim(struct stream *st)
{
	struct chunk *c;

	while ((c = virtq_get(st->txq, NULL)))
		c->done = true;
	while (st->chunk_tail != st->chunk_head && st->chunks[st->chunk_tail % TXQ_SIZE].done) {
		st->tail = st->chunks[st->chunk_tail % TXQ_SIZE].end;
		st->chunk_tail++;
	}
}

static bool drained(struct stream *st)
{
	reclaim(st);
	return st->tail == st->head;
}

/* Sleeps until the host has taken all of st (interrupts on for its queue
 * meanwhile). */
static void wait_drained(struct stream *st)
{
	while (!drained(st)) {
		if (virtq_cb_enable(st->txq))
			wait_event_uninterruptible(&con.wq, drained(st));
		virtq_cb_disable(st->txq);
	}
}

/* Free bytes at the ring's head that one request can carry. */
static size_t contiguous_space(struct stream *st)
{
	if (st->txq->nfree == 0 || st->chunk_head - st->chunk_tail == TXQ_SIZE)
		return 0;
	size_t free = RING_SIZE - (size_t)(st->head - st->tail);
	size_t to_end = RING_SIZE - (size_t)(st->head % RING_SIZE);
	return MIN(free, to_end);
}

static bool has_space(struct stream *st)
{
	reclaim(st);
	return contiguous_space(st) > 0;
}

/* Makes the n bytes just copied at the ring's head available. */
static void submit(struct stream *st, size_t n)
{
	struct chunk *c = &st->chunks[st->chunk_head % TXQ_SIZE];
	struct virtq_buf b = { st->ring + st->head % RING_SIZE, (uint32_t)n };

	st->head += n;
	*c = (struct chunk){ st->head, false };
	st->chunk_head++;
	if (virtq_add(st->txq, &b, 1, 0, c) < 0)
		panic("virtio-console: no descriptor although the ring had space");
}

/* Copies from either a kernel buffer or a uio (exactly one is set) into
 * stream s; returns the bytes taken, or -EFAULT if none could be read. */
static long stream_write(int s, const void *buf, struct uio *u, size_t len)
{
	struct stream *st = &con.out[s];
	size_t done = 0;
	long r = 0;

	mutex_lock(&con.lock);
	if (con.last >= 0 && con.last != s)
		wait_drained(&con.out[con.last]); /* keep the order between streams */
	con.last = s;
	while (done < len) {
		if (!has_space(st)) {
			if (virtq_cb_enable(st->txq))
				wait_event_uninterruptible(&con.wq, has_space(st));
			virtq_cb_disable(st->txq);
			continue;
		}
		size_t n = MIN(contiguous_space(st), len - done);
		uint8_t *dst = st->ring + st->head % RING_SIZE;
		if (u) {
			r = uio_copy_in(u, dst, n);
			if (r <= 0)
				break;
			n = (size_t)r;
		} else {
			memcpy(dst, (const uint8_t *)buf + done, n);
		}
		submit(st, n);
		virtq_kick(st->txq);
		done += n;
		if (u && !u->count)
			break;
	}
	mutex_unlock(&con.lock);
	return done ? (long)done : r < 0 ? r : 0;
}

void virtio_console_write(int stream, const void *buf, size_t len)
{
	stream_write(stream == 2, buf, NULL, len);
}

long virtio_console_write_uio(int stream, struct uio *u)
{
	return stream_write(stream == 2, NULL, u, u->count);
}

void virtio_console_flush(void)
{
	/* The end of the run, perhaps with interrupts off or with a writer
	 * asleep holding the lock: look, never take. */
	for (int s = 0; s < 2; s++) {
		struct virtqueue *q = con.out[s].txq;
		while (q && __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->avail_idx)
			cpu_relax();
	}
}

bool virtio_console_core_ready(void)
{
	return con.ready && con.core_port >= 0;
}

long virtio_console_core_write(const void *buf, size_t len)
{
	struct virtqueue *q = con.port_tx[con.core_port];
	struct virtq_buf b = { (void *)buf, (uint32_t)len };

	virtq_cb_disable(q);
	if (virtq_add(q, &b, 1, 0, (void *)buf) < 0)
		return -EIO;
	virtq_kick(q);
	while (!virtq_get(q, NULL))
		cpu_relax();
	return (long)len;
}

/* ---- the receive ports: elfvm.stdin and elfvm.ctl ------------------------- */

static void in_post(struct in_port *p, uint8_t *buf, uint32_t size)
{
	struct virtq_buf b = { buf, size };
	virtq_add(p->rxq, &b, 0, 1, buf);
}

/* elfvm.ctl's records, from the interrupt: each whole line to the hook. */
static void ctl_receive(void)
{
	uint8_t *buf;
	uint32_t len;

	while ((buf = virtq_get(con.ctl.rxq, &len))) {
		for (uint32_t i = 0; i < len && i < CTL_LINE * 2; i++) {
			char ch = (char)buf[i];
			if (ch != '\n') {
				if (con.ctl_len < CTL_LINE - 1)
					con.ctl_line[con.ctl_len++] = ch;
				continue;
			}
			con.ctl_line[con.ctl_len] = '\0';
			con.ctl_len = 0;
			if (con.ctl_hook)
				con.ctl_hook(con.ctl_line);
		}
		in_post(&con.ctl, buf, CTL_LINE * 2);
	}
	virtq_kick(con.ctl.rxq);
}

static void rx_done(struct virtqueue *q)
{
	if (q == con.ctl.rxq)
		ctl_receive();
	else if (q == con.in.rxq)
		wake_up_key(&con.in.wq, EPOLLIN | EPOLLRDNORM);
}

/* The control queue after the handshake, from the interrupt: the host side
 * of elfvm.stdin closing is its end of file. */
static void ctrl_done(struct virtqueue *q)
{
	uint64_t fl = spin_lock_irqsave(&con.ctrl_lock);
	uint8_t *buf;
	uint32_t len;

	while ((buf = virtq_get(q, &len))) {
		struct console_control c;
		if (len >= sizeof(c)) {
			memcpy(&c, buf, sizeof(c));
			if (c.event == VIRTIO_CONSOLE_PORT_OPEN && (int)c.id == con.in.port &&
			    !c.value) {
				__atomic_store_n(&con.in.closed, true, __ATOMIC_RELEASE);
				wake_up_key(&con.in.wq, EPOLLIN | EPOLLRDNORM | EPOLLHUP);
			}
		}
		ctrl_post(buf);
	}
	virtq_kick(q);
	spin_unlock_irqrestore(&con.ctrl_lock, fl);
}

bool virtio_console_has_input(void)
{
	return con.in.rxq != NULL;
}

struct waitq *virtio_console_input_wq(void)
{
	return &con.in.wq;
}

void virtio_console_set_ctl(void (*hook)(const char *line))
{
	con.ctl_hook = hook;
	if (con.ctl.rxq)
		klog("@@ctl"); /* records are acted on now: the host may forward signals */
}

unsigned virtio_console_input_poll(void)
{
	struct in_port *p = &con.in;
	/* closed first: every byte before the close is in the used ring then. */
	bool closed = !p->rxq || __atomic_load_n(&p->closed, __ATOMIC_ACQUIRE);
	bool data = p->rxq && (p->cur || virtq_pending(p->rxq));

	return (data || closed ? EPOLLIN | EPOLLRDNORM : 0) | (closed ? EPOLLHUP : 0);
}

size_t virtio_console_input_bytes(void)
{
	struct in_port *p = &con.in;
	size_t n = 0;

	if (!p->rxq)
		return 0;
	mutex_lock(&p->lock);
	struct virtqueue *q = p->rxq;
	uint16_t end = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	if (p->cur)
		n = p->cur_len - p->cur_off;
	for (uint16_t i = q->last_used; i != end; i++) /* used, not taken yet */
		n += q->used->ring[i % q->size].len;
	mutex_unlock(&p->lock);
	return n;
}

long virtio_console_read(struct uio *u)
{
	struct in_port *p = &con.in;
	size_t done = 0;
	long r = 0;

	if (!p->rxq)
		return 0;
	bool closed = __atomic_load_n(&p->closed, __ATOMIC_ACQUIRE);
	mutex_lock(&p->lock);
	while (u->count) {
		if (!p->cur) {
			p->cur = virtq_get(p->rxq, &p->cur_len);
			p->cur_off = 0;
			if (!p->cur)
				break;
		}
		r = uio_copy_out(u, p->cur + p->cur_off, p->cur_len - p->cur_off);
		if (r <= 0)
			break;
		done += (size_t)r;
		p->cur_off += (uint32_t)r;
		if (p->cur_off == p->cur_len) { /* consumed: the host may fill it again */
			in_post(p, p->cur, IN_BUF_SIZE);
			virtq_kick(p->rxq);
			p->cur = NULL;
		}
	}
	bool empty = !p->cur && !virtq_pending(p->rxq);
	mutex_unlock(&p->lock);
	if (done)
		return (long)done;
	if (r < 0)
		return r;
	return closed && empty ? 0 : -EAGAIN;
}

/* Posts the receive buffers of a host-to-guest port that was named. */
static void in_start(struct in_port *p, int nbufs, uint32_t size)
{
	if (p->port < 0)
		return;
	p->rxq = con.port_rx[p->port];
	uint64_t pa = pages_alloc((nbufs * size + PAGE_SIZE - 1) / PAGE_SIZE);
	if (!pa || p->rxq->size < nbufs)
		panic("virtio-console: no memory or descriptors for %s", p->name);
	uint8_t *bufs = phys_to_virt(pa);
	for (int i = 0; i < nbufs; i++)
		in_post(p, bufs + i * size, size);
	virtq_kick(p->rxq);
}

/* ---- start-up ---------------------------------------------------------------- */

static struct virtqueue *tx_queue(int port)
{
	return port == 0 ? virtq_create(con.dev, 1, TXQ_SIZE, tx_done)
			 : virtq_create(con.dev, 3 + 2 * port, TXQ_SIZE, tx_done);
}

long virtio_console_probe(struct virtio_dev *d)
{
	long r;

	if (con.dev) {
		klog("virtio-console: %s: a second console is not used", d->where);
		return -EBUSY;
	}
	r = virtio_negotiate(d, VIRTIO_CONSOLE_F_MULTIPORT);
	if (r < 0)
		return r;
	if (!(d->features & VIRTIO_CONSOLE_F_MULTIPORT)) {
		klog("virtio-console: %s: no multiport support, so no named ports", d->where);
		virtio_fail(d);
		return -ENODEV;
	}
	con.dev = d;
	con.nports = (int)MIN(d->tr->config_read(d, CONSOLE_CFG_MAX_NR_PORTS, 4), (uint32_t)MAX_PORTS);
	con.ctrl_bufs = kzalloc(CTRL_BUFS * CTRL_BUF_SIZE);
	con.ctrl_rx = virtq_create(d, 2, CTRL_BUFS, NULL);
	con.ctrl_tx = virtq_create(d, 3, 8, NULL);
	for (int p = 0; p < con.nports; p++)
		if (!(con.port_tx[p] = tx_queue(p)) ||
		    !(con.port_rx[p] = virtq_create(d, p ? 2 + 2 * p : 0, IN_BUFS, rx_done)))
			goto fail;
	if (!con.ctrl_bufs || !con.ctrl_rx || !con.ctrl_tx)
		goto fail;
	for (int i = 0; i < CTRL_BUFS && i < con.ctrl_rx->size; i++)
		ctrl_post(con.ctrl_bufs[i]);
	virtio_driver_ok(d);
	virtq_kick(con.ctrl_rx);
	r = handshake();
	if (r < 0) {
		klog("virtio-console: %s: ports %s and %s not both found (error %ld): output stays on "
		     "the serial lines",
		     d->where, con.out[0].name, con.out[1].name, r);
		goto fail;
	}
	for (int s = 0; s < 2; s++) {
		struct stream *st = &con.out[s];
		uint64_t pa = pages_alloc(RING_SIZE / PAGE_SIZE);
		st->chunks = kzalloc(TXQ_SIZE * sizeof(struct chunk));
		st->txq = con.port_tx[st->port];
		if (!pa || !st->chunks)
			panic("virtio-console: out of memory for the stream rings");
		st->ring = phys_to_virt(pa);
		virtq_cb_disable(st->txq);
	}
	in_start(&con.in, IN_BUFS, IN_BUF_SIZE);
	in_start(&con.ctl, CTL_BUFS, CTL_LINE * 2);
	uint64_t fl = spin_lock_irqsave(&con.ctrl_lock);
	con.ctrl_rx->callback = ctrl_done; /* from now on, events come by interrupt */
	spin_unlock_irqrestore(&con.ctrl_lock, fl);
	ctrl_done(con.ctrl_rx); /* a PORT_OPEN that came during the handshake */
	con.ready = true;
	kdebug("virtio-console: %s: stdout on port %d, stderr on port %d", d->where, con.out[0].port,
	       con.out[1].port);
	return 0;
fail:
	virtio_fail(d);
	con.out[0].txq = con.out[1].txq = NULL;
	return -ENODEV;
}
