/* SPDX-License-Identifier: MIT */
/*
 * The virtio layer's one header (docs/virtio.md): the transport-independent
 * core (virtio.c: feature negotiation, split virtqueues, interrupts), the
 * two transports that find devices and reach their registers (mmio.c on
 * microvm, pci.c on q35), and the drivers on top (console.c, net.c, and
 * 9p.c, whose client interface is p9.h).  A transport fills a struct
 * virtio_dev and calls virtio_probe, which hands it to the driver of its
 * device type.  Only virtio 1.x ("modern") devices are driven: a
 * legacy-only device is refused with a log line.
 */
#ifndef KERNEL_VIRTIO_VIRTIO_H
#define KERNEL_VIRTIO_VIRTIO_H

#include "kernel/kernel.h"

/* Device types (virtio 1.2 §5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_9P 9

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 128

/* Feature bits common to every device (§6). */
#define VIRTIO_F_VERSION_1 (1ULL << 32)

/* The split virtqueue's three areas (§2.7), as the device reads them. */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
struct virtq_avail {
	uint16_t flags, idx;
	uint16_t ring[];
};
struct virtq_used_elem {
	uint32_t id, len;
};
struct virtq_used {
	uint16_t flags, idx;
	struct virtq_used_elem ring[];
};

struct virtio_dev;
struct virtqueue;

/* What a transport does for the core; every register access goes here. */
struct virtio_transport {
	const char *name;
	uint64_t (*get_features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t features);
	uint8_t (*get_status)(struct virtio_dev *d);
	void (*set_status)(struct virtio_dev *d, uint8_t status);
	/* The most entries queue idx takes; 0 when there is no such queue. */
	uint16_t (*queue_max)(struct virtio_dev *d, int idx);
	/* Tells the device where q's areas are and enables it; 0 or -errno. */
	long (*queue_enable)(struct virtio_dev *d, struct virtqueue *q);
	void (*notify)(struct virtqueue *q);
	/* Device-specific configuration, byte offset off (§4.1.4.6, §4.2.2). */
	uint32_t (*config_read)(struct virtio_dev *d, unsigned off, int width);
};

struct virtio_dev {
	const struct virtio_transport *tr;
	void *tr_priv;            /* the transport's per-device state */
	uint32_t device_id;       /* VIRTIO_ID_* */
	uint64_t features;        /* negotiated */
	char where[32];           /* for messages: "mmio@0xfeb00000", "pci 00:03.0" */
	struct virtqueue *vq[16]; /* a console: control, and a pair per port */
	int nvq;
	void *priv; /* the driver's */
};

/* A buffer a descriptor points at: kernel memory, physically contiguous. */
struct virtq_buf {
	const void *addr;
	uint32_t len;
};

struct virtqueue {
	struct virtio_dev *dev;
	int index;
	uint16_t size;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint64_t desc_pa, avail_pa, used_pa;
	uint16_t free_head; /* the free descriptors, chained through next */
	uint16_t nfree;
	uint16_t avail_idx; /* our copy of avail->idx */
	uint16_t last_used; /* the next used entry to take */
	void **token;       /* per head descriptor: what virtq_get returns */
	/* Called from the interrupt handler when the device may have used
	 * buffers of this queue (or NULL). */
	void (*callback)(struct virtqueue *q);
	volatile void *notify_addr; /* the transport's */
	uint32_t notify_data;
	void *priv; /* the driver's */
};

/* ---- virtio.c: the core ---------------------------------------------------- */

/* Called by a transport for each device it found: starts the driver of
 * d->device_id, if any.  The transport must have set d->tr, d->tr_priv,
 * d->device_id and d->where. */
void virtio_probe(struct virtio_dev *d);
/* Resets d and negotiates: VERSION_1 plus whatever of wanted the device
 * offers.  Returns 0 with d->features set, or -ENODEV (a legacy device,
 * or one that refused the features) after a log line and FAILED. */
long virtio_negotiate(struct virtio_dev *d, uint64_t wanted);
/* Creates queue idx with at most size entries (a power of two; smaller if
 * the device takes fewer) in fresh page-aligned memory, and enables it;
 * callback (may be NULL) runs from the interrupt handler.  Returns the
 * queue, or NULL after a log line. */
struct virtqueue *virtq_create(struct virtio_dev *d, int idx, uint16_t size,
			       void (*callback)(struct virtqueue *q));
/* Sets DRIVER_OK: the device may now use the queues and interrupt. */
void virtio_driver_ok(struct virtio_dev *d);
/* Marks the device FAILED, after a driver's log line. */
void virtio_fail(struct virtio_dev *d);
/* The interrupt of a device: every queue's callback.  The transport's
 * handler calls it after it acknowledged the interrupt. */
void virtio_interrupt(struct virtio_dev *d);

/* Chains nout device-readable buffers then nin device-writable ones into
 * one request and makes it available (not yet notified: virtq_kick).
 * token (not NULL) comes back from virtq_get.  Returns 0, or -ENOSPC when
 * fewer than nout + nin descriptors are free.  Callers serialise their
 * use of one queue. */
long virtq_add(struct virtqueue *q, const struct virtq_buf *bufs, int nout, int nin, void *token);
/* Tells the device that requests are available, unless it asked not to
 * be told. */
void virtq_kick(struct virtqueue *q);
/* The next used request's token (its descriptors are freed), the bytes
 * the device wrote in *len; NULL when the device has used nothing more. */
void *virtq_get(struct virtqueue *q, uint32_t *len);
/* Whether the device has used requests that virtq_get would return. */
bool virtq_pending(const struct virtqueue *q);
/* Asks the device not to interrupt for this queue (a hint it may ignore). */
void virtq_cb_disable(struct virtqueue *q);
/* Asks for interrupts again; returns false when used requests are already
 * waiting (the caller polls again instead of waiting for an interrupt
 * that was never sent). */
bool virtq_cb_enable(struct virtqueue *q);

/* ---- mmio.c, pci.c: the transports ------------------------------------- */

/* Finds the devices the VMM described (virtio_mmio.device= words on the
 * command line; PCI bus 0) and probes each; a transport with nothing to
 * find does nothing. */
void virtio_mmio_init(void);
void virtio_pci_init(void);

/* ---- console.c ------------------------------------------------------------ */

long virtio_console_probe(struct virtio_dev *d);
/* Whether the program's streams leave through a virtio console. */
bool virtio_console_ready(void);
/* Queues len bytes of stream 1 or 2 (kernel/console.c decides), waiting
 * while the stream's ring is full. */
void virtio_console_write(int stream, const void *buf, size_t len);
long virtio_console_write_uio(int stream, struct uio *u);
/* Waits until the host has taken every byte queued so far. */
void virtio_console_flush(void);
/* The elfvm.core port (run --core): whether there is one, and one buffer
 * sent on it, waited for; returns len or -EIO. */
bool virtio_console_core_ready(void);
long virtio_console_core_write(const void *buf, size_t len);
/* The program's stdin (port elfvm.stdin): whether the host offers it;
 * the bytes received so far into u, 0 at the end (also when there is no
 * such port), or -EAGAIN when none are there yet (sleep on the waitq
 * until virtio_console_input_poll() says EPOLLIN). */
bool virtio_console_has_input(void);
long virtio_console_read(struct uio *u);
unsigned virtio_console_input_poll(void);
/* The bytes received and not read yet (FIONREAD). */
size_t virtio_console_input_bytes(void);
struct waitq *virtio_console_input_wq(void);
/* Installs the hook that gets each elfvm.ctl record (a line without its
 * newline), called from the interrupt handler; then tells the host (the
 * @@ctl record) that records are acted on. */
void virtio_console_set_ctl(void (*hook)(const char *line));

/* ---- net.c ---------------------------------------------------------------- */

long virtio_net_probe(struct virtio_dev *d);

#endif
