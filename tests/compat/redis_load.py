# SPDX-License-Identifier: MIT
# tests/compat/redis_load.py: many clients writing to one redis at once,
# then a check that the server holds exactly what they wrote.
#
#     python3 redis_load.py PORT CLIENTS SECONDS [KEYS [RSS_FILE]]
#
# CLIENTS connections on 127.0.0.1:PORT each SET their own keys one
# request at a time, round after round, until SECONDS have passed: the
# N-th SET of client C writes k:C:N (or k:C:N%KEYS when KEYS > 0, so the
# data set stops growing and later SETs overwrite) with a value derived
# from C and N.  Then one connection checks: DBSIZE equals the number of
# keys written, and the SHA-256 over every key=value read back (MGET, in
# key order) equals the SHA-256 over the last value sent for each key.
# With RSS_FILE, INFO memory's used_memory_rss (the guest kernel's count of
# the server's resident pages: redis reads it from /proc/self/stat) is
# appended to it as "SECONDS BYTES" every 5 s.  Prints one summary line; exits 1 with the reason as the last
# line when anything differs, a connection fails or a reply is not +OK.
import hashlib, selectors, socket, sys, time


def die(msg):
    print(msg, flush=True)
    sys.exit(1)


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def value(c, n):
    return hashlib.sha1(b"%d/%d" % (c, n)).hexdigest().encode() * 2


class Reader:
    """RESP replies from a blocking socket."""

    def __init__(self, s):
        self.f = s.makefile("rb")

    def reply(self):
        line = self.f.readline()
        if not line:
            die("the server closed the checking connection")
        t, rest = line[:1], line[1:-2]
        if t in (b"+", b":"):
            return rest
        if t == b"-":
            die("error reply: " + rest.decode(errors="replace"))
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        die("unexpected reply line %r" % line[:80])


def connect(port):
    for _ in range(100):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            time.sleep(0.2)
    die("cannot connect to 127.0.0.1:%d" % port)


def info_rss(port):
    s = connect(port)
    s.sendall(cmd("INFO", "memory"))
    text = Reader(s).reply().decode()
    s.close()
    for line in text.split("\r\n"):
        if line.startswith("used_memory_rss:"):
            return int(line.split(":")[1])
    die("INFO memory has no used_memory_rss")


def main():
    port, nclients, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    nkeys = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    rss_file = sys.argv[5] if len(sys.argv) > 5 else None
    sel = selectors.DefaultSelector()
    socks = []
    for c in range(nclients):
        # One at a time, each answering PING before the next: QEMU user
        # networking listens on the host with a backlog of 1, and a burst
        # of connects costs each dropped SYN a 1 s retransmission.
        s = connect(port)
        s.sendall(cmd("PING"))
        if s.recv(16) != b"+PONG\r\n":
            die("client %d: no +PONG on a new connection" % c)
        s.setblocking(False)
        socks.append(s)
    count = [0] * nclients  # keys each client has had acknowledged
    pending = [b""] * nclients
    start = time.monotonic()
    end = start + seconds
    next_rss = start

    def slot(n):
        return n % nkeys if nkeys else n

    def send_next(c):
        socks[c].sendall(cmd("SET", "k:%d:%d" % (c, slot(count[c])), value(c, count[c])))

    for c, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, c)
        send_next(c)
    live = nclients
    while live:
        now = time.monotonic()
        if rss_file and now >= next_rss:
            with open(rss_file, "a") as f:
                f.write("%d %d\n" % (now - start, info_rss(port)))
            next_rss = now + 5
        for key, _ in sel.select(timeout=30):
            c = key.data
            data = key.fileobj.recv(4096)
            if not data:
                die("client %d: the server closed the connection" % c)
            pending[c] += data
            if not pending[c].endswith(b"\r\n"):
                continue
            if pending[c] != b"+OK\r\n":
                die("client %d: SET answered %r" % (c, pending[c][:80]))
            pending[c] = b""
            count[c] += 1
            if time.monotonic() < end:
                send_next(c)
            else:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                live -= 1
        if time.monotonic() > end + 60:
            die("%d clients had no answer 60 s after the end" % live)
    written = sum(count)
    elapsed = time.monotonic() - start

    s = connect(port)
    r = Reader(s)
    s.sendall(cmd("DBSIZE"))
    dbsize = int(r.reply())
    last = {}  # key -> the N of the last SET acknowledged for it
    for c in range(nclients):
        for n in range(max(0, count[c] - nkeys) if nkeys else 0, count[c]):
            last["k:%d:%d" % (c, slot(n))] = (c, n)
    keys = sorted(last)
    want, got = hashlib.sha256(), hashlib.sha256()
    for k in keys:
        want.update(k.encode() + b"=" + value(*last[k]) + b"\n")
    for i in range(0, len(keys), 500):
        batch = keys[i : i + 500]
        s.sendall(cmd("MGET", *batch))
        for k, v in zip(batch, r.reply()):
            got.update(k.encode() + b"=" + (v if v is not None else b"<nil>") + b"\n")
    print(
        "%d clients, %.1f s: %d SETs acknowledged (%.0f/s), %d keys, DBSIZE %d, sha256 %s"
        % (nclients, elapsed, written, written / elapsed, len(keys), dbsize, got.hexdigest()[:16]),
        flush=True,
    )
    if dbsize != len(keys):
        die("DBSIZE %d, but %d keys were written" % (dbsize, len(keys)))
    if got.digest() != want.digest():
        die("the values read back differ from those written (sha256 %s, expected %s)"
            % (got.hexdigest()[:16], want.hexdigest()[:16]))
    if min(count) == 0:
        die("a client had no SET acknowledged")


main()
