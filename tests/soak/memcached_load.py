# SPDX-License-Identifier: MIT
# tests/soak/memcached_load.py HOST PORT CONNECTIONS SECONDS: CONNECTIONS
# clients at once (asyncio, one task each), each owning 20 keys, each
# looping over set-then-get of a value made of its own name and a counter
# (sizes from 10 bytes to 10 KB:
# 200 clients hold at most 40 MB, well inside the server's -m, so nothing
# is evicted), checking every answer.  At the end every
# key of every client is read back once more and must hold the last value
# written.  Prints the operation count and rate; exits 1 at the first
# wrong answer, with what was expected and what came.
import asyncio, sys, time

host, port, nconn, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
KEYS = 20
ops = 0


class Bad(Exception):
    pass


def value(c, k, n):
    head = b"c%d k%d n%d " % (c, k, n)
    return head + b"x" * ((n * 7919 + k * 131) % 10000)


async def get(r, w, key):
    w.write(b"get " + key + b"\r\n")
    line = await r.readline()
    if line == b"END\r\n":
        return None
    parts = line.split()
    if len(parts) != 4 or parts[0] != b"VALUE" or parts[1] != key:
        raise Bad("get %s: unexpected line %r" % (key, line[:80]))
    data = await r.readexactly(int(parts[3]) + 2)
    end = await r.readline()
    if end != b"END\r\n":
        raise Bad("get %s: no END but %r" % (key, end[:80]))
    return data[:-2]


async def client(c, conn, deadline, last):
    global ops
    r, w = conn
    n = 0
    while time.monotonic() < deadline:
        k = n % KEYS
        key = b"soak:%d:%d" % (c, k)
        v = value(c, k, n)
        w.write(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(v), v))
        line = await r.readline()
        if line != b"STORED\r\n":
            raise Bad("set %s: %r" % (key, line[:80]))
        got = await get(r, w, key)
        if got != v:
            raise Bad("get %s after set: expected %d bytes %r…, got %r…" % (
                key, len(v), v[:30], None if got is None else got[:30]))
        last[key] = v
        n += 1
        ops += 2
    for key, v in last.items():
        got = await get(r, w, key)
        if got != v:
            raise Bad("final read of %s: expected %r…, got %r…" % (key, v[:30], None if got is None else got[:30]))
        ops += 1
    w.close()


async def main():
    # The connections are opened one after another, as a client's pool
    # would: QEMU's user networking listens on the published host port
    # with a backlog of 1, so a burst of connects waits out the host's SYN
    # retries (docs/servers.md).  Then all of them work at once.
    conns = [await asyncio.open_connection(host, port, limit=1 << 20) for _ in range(nconn)]
    deadline = time.monotonic() + seconds
    last = [dict() for _ in range(nconn)]
    t0 = time.monotonic()
    await asyncio.gather(*(client(c, conns[c], deadline, last[c]) for c in range(nconn)))
    dt = time.monotonic() - t0
    keys = sum(len(d) for d in last)
    print("%d connections, %d operations in %.0f s (%.0f/s), %d keys verified at the end" % (
        nconn, ops, dt, ops / dt, keys))


try:
    asyncio.run(main())
except Bad as e:
    print("memcached answered wrong: %s" % e)
    sys.exit(1)
except (OSError, asyncio.IncompleteReadError) as e:
    print("connection failed: %r" % e)
    sys.exit(1)
