# SPDX-License-Identifier: MIT
# tests/compat/redis_load.py: many clients writing to one redis at once,
# then a check that the server holds exactly what they wrote.
#
#     python3 redis_load.py PORT CLIENTS SECONDS [RSS_FILE]
#
# CLIENTS connections on 127.0.0.1:PORT each SET their own keys
# (k:CLIENT:N = a value derived from both) one request at a time, round
# after round, until SECONDS have passed.  Then one connection checks:
# DBSIZE equals the number of keys written, and the SHA-256 over every
# key=value read back (MGET, in key order) equals the SHA-256 over what was
# sent.  With RSS_FILE, INFO memory's used_memory_rss (the guest kernel's
# resident pages of the server, from /proc/self/stat) is appended to it
# every 5 s.  Prints one summary line; exits 1 with the reason as the last
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
    rss_file = sys.argv[4] if len(sys.argv) > 4 else None
    sel = selectors.DefaultSelector()
    socks = []
    for c in range(nclients):
        s = connect(port)
        s.setblocking(False)
        socks.append(s)
    count = [0] * nclients  # keys each client has had acknowledged
    pending = [b""] * nclients
    start = time.monotonic()
    end = start + seconds
    next_rss = start

    def send_next(c):
        socks[c].sendall(cmd("SET", "k:%d:%d" % (c, count[c]), value(c, count[c])))

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
    keys = sorted("k:%d:%d" % (c, n) for c in range(nclients) for n in range(count[c]))
    want, got = hashlib.sha256(), hashlib.sha256()
    for k in keys:
        c, n = map(int, k.split(":")[1:])
        want.update(k.encode() + b"=" + value(c, n) + b"\n")
    for i in range(0, len(keys), 500):
        batch = keys[i : i + 500]
        s.sendall(cmd("MGET", *batch))
        for k, v in zip(batch, r.reply()):
            got.update(k.encode() + b"=" + (v if v is not None else b"<nil>") + b"\n")
    print(
        "%d clients, %.1f s: %d SETs acknowledged (%.0f/s), DBSIZE %d, sha256 %s"
        % (nclients, elapsed, written, written / elapsed, dbsize, got.hexdigest()[:16]),
        flush=True,
    )
    if dbsize != written:
        die("DBSIZE %d, but %d keys were written" % (dbsize, written))
    if got.digest() != want.digest():
        die("the values read back differ from those written (sha256 %s, expected %s)"
            % (got.hexdigest()[:16], want.hexdigest()[:16]))
    if min(count) == 0:
        die("a client had no SET acknowledged")


main()
