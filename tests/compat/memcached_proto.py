# SPDX-License-Identifier: MIT
# tests/compat/memcached_proto.py HOST PORT: one fixed conversation with a
# memcached server over raw sockets, in the text protocol and then the
# binary protocol (set, get, add, replace, cas, incr, decr, delete,
# flush_all, large values, several keys), printing every answer as it came.
# Run against a native memcached and one in the VM, the two outputs must be
# equal byte for byte; CAS values are printed too, since a fresh server
# numbers them the same way given the same commands.
import socket, struct, sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=20)
buf = b""


def recv_until(pred):
    global buf
    while True:
        r = pred(buf)
        if r is not None:
            buf = buf[r:]
            return
        b = s.recv(65536)
        if not b:
            sys.exit("connection closed with %r pending" % buf[:80])
        buf += b


def text(cmd, ends=(b"\r\n",)):
    """Send one text command; read lines until one is a final answer."""
    s.sendall(cmd)
    out = []

    def pred(b):
        pos = 0
        while True:
            i = b.find(b"\r\n", pos)
            if i < 0:
                return None
            line = b[pos:i]
            if line.startswith(b"VALUE "):
                n = int(line.split()[3])
                if len(b) < i + 2 + n + 2:
                    return None
                data = b[i + 2:i + 2 + n]
                out.append(line.decode() + " len=%d sum=%d" % (n, sum(data) % 65521))
                pos = i + 2 + n + 2
                continue
            out.append(line.decode())
            pos = i + 2
            if line in (b"END", b"STORED", b"NOT_STORED", b"EXISTS", b"NOT_FOUND", b"DELETED",
                        b"OK", b"ERROR", b"TOUCHED") or line.isdigit() or \
                    line.startswith(b"CLIENT_ERROR") or line.startswith(b"SERVER_ERROR"):
                return pos

    recv_until(pred)
    print("T %-40s -> %s" % (cmd[:40].split(b"\r\n")[0].decode(), " | ".join(out)))
    return out


big = bytes((i * 7 + 3) % 256 for i in range(500000))
text(b"flush_all\r\n")
text(b"set k1 5 0 5\r\nhello\r\n")
text(b"get k1\r\n")
text(b"add k1 0 0 3\r\nabc\r\n")
text(b"add k2 7 0 3\r\nabc\r\n")
text(b"replace k3 0 0 1\r\nx\r\n")
text(b"replace k2 0 0 4\r\nwxyz\r\n")
text(b"get k1 k2 k3\r\n")
g = text(b"gets k1\r\n")
cas = int(g[0].split()[4])
text(b"cas k1 0 0 3 %d\r\nnew\r\n" % (cas + 1000))
text(b"cas k1 0 0 3 %d\r\nnew\r\n" % cas)
text(b"gets k1\r\n")
text(b"set n 0 0 2\r\n10\r\n")
text(b"incr n 5\r\n")
text(b"decr n 100\r\n")
text(b"incr n 18446744073709551615\r\n")
text(b"incr k1 1\r\n")
text(b"incr nokey 1\r\n")
text(b"append k2 0 0 2\r\n!!\r\n")
text(b"prepend k2 0 0 2\r\n<<\r\n")
text(b"get k2\r\n")
text(b"set big 0 0 %d\r\n" % len(big) + big + b"\r\n")
text(b"get big\r\n")
text(b"delete k1\r\n")
text(b"delete k1\r\n")
text(b"get k1\r\n")
text(b"touch k2 100\r\n")
text(b"bogus command\r\n")
text(b"flush_all\r\n")
text(b"get k2 n big\r\n")

# The binary protocol: 24-byte headers, magic 0x80 out and 0x81 back.  A
# connection's protocol is fixed by its first byte, so this is a new one.
s.close()
s = socket.create_connection((host, port), timeout=20)
buf = b""
opaque = 0


def binary(op, key=b"", extras=b"", value=b"", cas=0, quiet_reply=True):
    global opaque
    opaque += 1
    hdr = struct.pack(">BBHBBHIIQ", 0x80, op, len(key), len(extras), 0, 0,
                      len(key) + len(extras) + len(value), opaque, cas)
    s.sendall(hdr + extras + key + value)
    res = {}

    def pred(b):
        if len(b) < 24:
            return None
        magic, rop, kl, el, dt, st, bl, opq, rcas = struct.unpack(">BBHBBHIIQ", b[:24])
        if len(b) < 24 + bl:
            return None
        body = b[24:24 + bl]
        res.update(magic=magic, op=rop, status=st, opaque=opq, cas=rcas,
                   extras=body[:el].hex(), key=body[el:el + kl],
                   value=body[el + kl:])
        return 24 + bl

    recv_until(pred)
    v = res["value"]
    shown = v.decode("latin-1") if len(v) < 40 else "len=%d sum=%d" % (len(v), sum(v) % 65521)
    print("B op=%02x key=%-6s -> magic=%02x op=%02x status=%d opaque=%d cas=%d extras=%s key=%r value=%r" % (
        op, key.decode(), res["magic"], res["op"], res["status"], res["opaque"], res["cas"],
        res["extras"], res["key"], shown))
    return res


GET, SET, ADD, REPLACE, DELETE, INCR, DECR, FLUSH, GETK, APPEND, NOOP = \
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x0c, 0x0e, 0x0a


def setx(flags, exp=0):
    return struct.pack(">II", flags, exp)


def incx(delta, init, exp=0):
    return struct.pack(">QQI", delta, init, exp)


binary(FLUSH, extras=struct.pack(">I", 0))
r = binary(SET, b"b1", setx(0xdeadbeef), b"binval")
binary(GET, b"b1")
binary(GETK, b"b1")
binary(ADD, b"b1", setx(1), b"x")
binary(ADD, b"b2", setx(2), b"second")
binary(REPLACE, b"b3", setx(3), b"x")
binary(SET, b"b1", setx(4), b"stale cas", cas=r["cas"] + 1000)
binary(SET, b"b1", setx(5), b"right cas", cas=r["cas"])
binary(GET, b"b1")
binary(INCR, b"c", incx(5, 100))
binary(INCR, b"c", incx(5, 100))
binary(DECR, b"c", incx(1000, 0))
binary(INCR, b"b1", incx(1, 0))
binary(APPEND, b"b2", b"", b"+more")
binary(GET, b"b2")
binary(SET, b"bb", setx(0), big)
binary(GET, b"bb")
binary(DELETE, b"b1")
binary(DELETE, b"b1")
binary(GET, b"b1")
binary(FLUSH, extras=struct.pack(">I", 0))
binary(GET, b"b2")
binary(NOOP)
s.close()
print("done")
