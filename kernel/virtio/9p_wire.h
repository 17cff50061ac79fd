/* SPDX-License-Identifier: MIT */
/*
 * The inside of the 9P client, shared by kernel/virtio/9p.c (the device,
 * the round trip, fids, version and attach) and 9p_req.c (one function
 * per request): the per-device state and the marshalling of 9P's
 * little-endian fields into the request buffer and out of the reply,
 * every read bounds-checked (a short reply sets bad, never reads past).
 * Nothing outside these two files includes it; the interface is p9.h.
 */
#ifndef KERNEL_VIRTIO_9P_WIRE_H
#define KERNEL_VIRTIO_9P_WIRE_H

#include "kernel/virtio/p9.h"
#include "kernel/virtio/virtio.h"

#define VIRTIO_9P_MOUNT_TAG (1ULL << 0)
#define MAX_DEVS 8
#define TAG_MAX 64
#define MSIZE (128 * 1024 + 4096) /* 128 KiB of data plus any header */
#define IOHDRSZ 24                /* Linux's P9_IOHDRSZ: a Twrite/Rread header fits */
#define NFIDS 65536
#define P9_NOTAG 0xffff

/* Message types (9P2000.L: Linux's include/net/9p/9p.h). */
enum {
	RLERROR = 7,
	TSTATFS = 8,
	TLOPEN = 12,
	TLCREATE = 14,
	TSYMLINK = 16,
	TREADLINK = 22,
	TGETATTR = 24,
	TSETATTR = 26,
	TREADDIR = 40,
	TFSYNC = 50,
	TLINK = 70,
	TMKDIR = 72,
	TRENAMEAT = 74,
	TUNLINKAT = 76,
	TVERSION = 100,
	TATTACH = 104,
	TWALK = 110,
	TREAD = 116,
	TWRITE = 118,
	TCLUNK = 120,
};
#define P9_GETATTR_BASIC 0x7ffULL

struct p9_dev {
	struct virtio_dev *vdev;
	struct virtqueue *vq;
	char tag[TAG_MAX];
	size_t tag_len;
	uint32_t msize; /* as the host agreed */
	bool attached;
	long root; /* the attached fid, or -errno */
	struct mutex lock;
	struct waitq wq;
	uint8_t *tx, *rx;   /* MSIZE each */
	size_t txlen;       /* the request being built */
	size_t rxlen, rpos; /* the reply, and where parsing is */
	bool bad;           /* the reply ran short or was malformed */
	uint64_t nreq;
	uint32_t per_type[128]; /* requests by type, for the verbose log */
	uint8_t *fids;          /* bitmap */
	uint32_t fid_hint;
};


/* ---- 9p.c ----------------------------------------------------------------------- */

/* Sends the request built since p9_begin and waits for its reply, which
 * must be of type t + 1.  Returns 0 with the reply's body ready to parse,
 * the host's -errno (Rlerror), or -EIO.  Called with p->lock held. */
long p9_transact(struct p9_dev *p, uint8_t t);
/* Ends the parse of a reply: r, or -EIO after a log line when it ran short. */
long p9_done(struct p9_dev *p, uint8_t t, long r);
void p9_fid_free(struct p9_dev *p, uint32_t f);

/* ---- building requests ----------------------------------------------------- */

static inline void put(struct p9_dev *p, const void *v, size_t n)
{
	if (p->txlen + n > p->msize) {
		p->bad = true;
		return;
	}
	memcpy(p->tx + p->txlen, v, n);
	p->txlen += n;
}

static inline void put8(struct p9_dev *p, uint8_t v)
{
	put(p, &v, 1);
}
static inline void put16(struct p9_dev *p, uint16_t v)
{
	put(p, &v, 2); /* x86 is little-endian, as 9P */
}
static inline void put32(struct p9_dev *p, uint32_t v)
{
	put(p, &v, 4);
}
static inline void put64(struct p9_dev *p, uint64_t v)
{
	put(p, &v, 8);
}
static inline void puts_n(struct p9_dev *p, const char *s, size_t n)
{
	if (n > 0xffff) {
		p->bad = true;
		return;
	}
	put16(p, (uint16_t)n);
	put(p, s, n);
}
static inline void put_str(struct p9_dev *p, const char *s)
{
	puts_n(p, s, strlen(s));
}

/* Starts a request of type t: size (filled in later), type, tag 0. */
static inline void p9_begin(struct p9_dev *p, uint8_t t)
{
	p->txlen = 0;
	p->bad = false;
	put32(p, 0);
	put8(p, t);
	put16(p, t == TVERSION ? P9_NOTAG : 0);
}

/* ---- parsing replies ---------------------------------------------------------- */

static const void *get(struct p9_dev *p, size_t n)
{
	if (p->bad || n > p->rxlen - p->rpos) {
		p->bad = true;
		return NULL;
	}
	const void *v = p->rx + p->rpos;
	p->rpos += n;
	return v;
}

#define GETTER(name, type) \
	static inline type name(struct p9_dev *p) \
	{ \
		type v = 0; \
		const void *s = get(p, sizeof(type)); \
		if (s) \
			memcpy(&v, s, sizeof(type)); \
		return v; \
	}
GETTER(get8, uint8_t)
GETTER(get16, uint16_t)
GETTER(get32, uint32_t)
GETTER(get64, uint64_t)

static inline void get_qid(struct p9_dev *p, struct p9_qid *q)
{
	q->type = get8(p);
	q->version = get32(p);
	q->path = get64(p);
}

/* A string: its bytes in the reply (not NUL-terminated), length in *len. */
static const char *get_str(struct p9_dev *p, size_t *len)
{
	*len = get16(p);
	return get(p, *len);
}

#endif
