# SPDX-License-Identifier: MIT
# tests/compat/net.sh: Debian's own network programs, unmodified, talking
# across the VM's edge through QEMU user networking: the host's curl and
# busybox nc reaching servers in the VM through --publish, and programs in
# the VM reaching servers the test starts on the host through the gateway
# (10.0.2.2 is the host's 127.0.0.1 there).  Every socket on the host is
# on 127.0.0.1; every server is bounded by --timeout or killed by the case.
# Sourced by tests/run.sh inside all_cases.  One line per case:
#     net_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's own directory with $EV = the elfvm to
# test, $BB = busybox, $VT = the VM timeout, $JS = static_httpd.js (a
# static file server on node's http module: busybox httpd forks for each
# connection, and a program here has no fork); it passes by exiting 0 and
# otherwise prints why as its last line (die).

NET_LIB='
die() { echo "$*"; exit 1; }
# free_port: a TCP port nobody listens on now, on 127.0.0.1.
free_port() { python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])"; }
# vm_bg LOG ARGS...: elfvm run ARGS in the background, its pid in $VM.
vm_bg() { l=$1; shift; "$EV" run --timeout "$VT" "$@" >"$l.out" 2>"$l.err" & VM=$!; }
# wait_http URL: until URL answers (up to 60 s), or die with the VM output.
wait_http() {
	i=0
	while ! curl -sf -o /dev/null --max-time 5 "$1"; do
		i=$((i + 1))
		kill -0 "$VM" 2>/dev/null || die "the VM ended before serving $1: $(tail -c 300 vm.err)"
		[ $i -lt 120 ] || die "no answer from $1 in 60 s: $(tail -c 300 vm.err)"
		sleep 0.5
	done
}
stop_vm() { kill "$VM" 2>/dev/null; wait "$VM" 2>/dev/null; }
# host_sink: a listener on the host'\''s 127.0.0.1 (python: busybox nc
# cannot listen on 127.0.0.1 alone) that writes what its one connection
# sends into the file got, until EOF; its port in the file port, its pid
# in $L.
host_sink() {
	cat >sink.py <<"PY"
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(60); c, _ = s.accept(); c.settimeout(60)
with open("got", "wb") as f:
    while True:
        b = c.recv(65536)
        if not b: break
        f.write(b)
PY
	python3 sink.py >port & L=$!
	i=0; until [ -s port ]; do i=$((i+1)); [ $i -lt 50 ] || die "the host listener did not start"; sleep 0.1; done
}
'

net_case() {
	next_case "net/$1" || return 0
	case $ELFVM in *fake_elfvm.sh) fail "cannot run: needs the VM's network (not the fake elfvm)" ;; esac
	for tool in curl python3 sha256sum; do
		command -v $tool >/dev/null 2>&1 || fail "cannot run: $tool is missing (tools/deps.sh installs it)"
	done
	[ -x "$BUSYBOX" ] || fail "cannot run: $BUSYBOX missing (apt-get install busybox-static)"
	command -v node >/dev/null 2>&1 || fail "cannot run: node is missing (tools/deps.sh installs nodejs)"
	out=$(cd "$D" && EV=$ELFVM BB=$BUSYBOX VT=$VM_TIMEOUT JS=$ROOT/tests/compat/static_httpd.js sh -c "$NET_LIB$2" 2>&1) && pass
	fail "$(printf '%s\n' "$out" | tail -n 1)"
}

# node's http server in the VM, published on a host port, fetched by the
# host's curl: a small page and a 3 MB file, compared by checksum.
net_case http-publish '
mkdir www && echo hello from the VM >www/index.html && head -c 3000000 /dev/urandom >www/big
p=$(free_port)
vm_bg vm --mem 512M --file "$JS:/srv.js" --dir "$PWD/www:/www" --publish "$p:8080" \
	"$(command -v node)" /srv.js /www 8080
wait_http "http://127.0.0.1:$p/"
[ "$(curl -sf "http://127.0.0.1:$p/")" = "hello from the VM" ] || { stop_vm; die "index.html differs"; }
curl -sf -o got "http://127.0.0.1:$p/big" || { stop_vm; die "curl of /big failed"; }
stop_vm
[ "$(sha256sum <got)" = "$(sha256sum <www/big)" ] || die "the 3 MB file arrived changed ($(wc -c <got) bytes)"
'

# A program in the VM fetching from a server on the host, through QEMU
# user networking'\''s gateway: busybox wget from python3'\''s http.server.
net_case guest-fetch '
mkdir srv && head -c 1000000 /dev/urandom >srv/blob
p=$(free_port)
python3 -m http.server -b 127.0.0.1 -d srv "$p" >srv.log 2>&1 & SRV=$!
i=0; until curl -sf -o /dev/null "http://127.0.0.1:$p/blob"; do i=$((i+1)); [ $i -lt 50 ] || { kill $SRV; die "host server did not start"; }; sleep 0.2; done
"$EV" run --timeout "$VT" "$BB" wget -q -O - "http://10.0.2.2:$p/blob" >got 2>err; st=$?
kill $SRV; wait $SRV 2>/dev/null
[ $st = 0 ] || die "wget in the VM: status $st: $(tail -c 300 err)"
[ "$(sha256sum <got)" = "$(sha256sum <srv/blob)" ] || die "the blob arrived changed ($(wc -c <got) bytes)"
'

# --ip dhcp: the kernel takes its lease from QEMU's DHCP server (logged),
# writes the lease's DNS server (--dns gives QEMU another one to hand out,
# which the image's resolv.conf also names) and fetches through the
# gateway the lease names.
net_case dhcp '
mkdir srv && echo leased >srv/f
p=$(free_port)
python3 -m http.server -b 127.0.0.1 -d srv "$p" >srv.log 2>&1 & SRV=$!
i=0; until curl -sf -o /dev/null "http://127.0.0.1:$p/f"; do i=$((i+1)); [ $i -lt 50 ] || { kill $SRV; die "host server did not start"; }; sleep 0.2; done
"$EV" run --timeout "$VT" --log log --ip dhcp --dns 10.0.2.9 "$BB" wget -q -O - "http://10.0.2.2:$p/f" >got 2>err; st=$?
kill $SRV; wait $SRV 2>/dev/null
[ $st = 0 ] || die "wget in the VM: status $st: $(tail -c 300 err)"
[ "$(cat got)" = leased ] || die "got: $(head -c 100 got)"
grep -q "eth0: DHCP lease 10.0.2.15 netmask 255.255.255.0 gateway 10.0.2.2" log || die "no lease in the log: $(grep net: log)"
"$EV" run --timeout "$VT" --ip dhcp --dns 10.0.2.9 "$BB" cat /etc/resolv.conf >got 2>err
[ "$(cat got)" = "nameserver 10.0.2.9" ] || die "resolv.conf: $(head -c 100 got)"
'

# busybox nc both ways: host to a listener in the VM (published), and the
# VM to a listener on the host.
# The listener's stdin is a FIFO the case holds open: at the end of its
# stdin, nc -l shuts down its sending half at once, and the host's nc quits
# on that FIN, under load before it has sent everything.
net_case nc-host-to-guest '
p=$(free_port)
mkfifo in && exec 9<>in
"$EV" run --timeout "$VT" --publish "$p:7000" "$BB" nc -l -p 7000 <in >vm.out 2>vm.err & VM=$!
seq 1 20000 >data
i=0
until "$BB" nc 127.0.0.1 "$p" <data 2>/dev/null; do
	i=$((i+1)); kill -0 $VM 2>/dev/null || die "the VM ended early: $(tail -c 300 vm.err)"
	[ $i -lt 120 ] || { stop_vm; die "cannot connect to the published port"; }; sleep 0.5
done
wait $VM; st=$?
exec 9>&-
[ $st = 0 ] || die "nc -l in the VM: status $st: $(tail -c 300 vm.err)"
cmp -s vm.out data || die "the VM received $(wc -c <vm.out) bytes, not the $(wc -c <data) sent"
'

# The other way: nc in the VM sends to host_sink.
net_case nc-guest-to-host '
host_sink
seq 1 20000 >data
"$EV" run --timeout "$VT" "$BB" nc 10.0.2.2 "$(cat port)" <data >vm.out 2>vm.err; st=$?
wait $L
[ $st = 0 ] || die "nc in the VM: status $st: $(tail -c 300 vm.err)"
cmp -s got data || die "the host received $(wc -c <got) bytes, not the $(wc -c <data) sent"
'

# SO_LINGER {1, 10} over the device: python in the VM sends 4 MB to a
# host listener and closes; close returns once the FIN is acknowledged,
# well before the 10 s, and the host gets every byte.
net_case linger-guest-to-host '
py=/usr/bin/python3
[ -x $py ] || die "cannot run: $py missing (apt-get install python3-minimal)"
lib=$($py -c "import sys; print(sys.prefix + \"/lib/python%d.%d\" % sys.version_info[:2])")
cat >send.py <<"PY"
import socket, struct, sys, time
s = socket.create_connection(("10.0.2.2", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 10))
s.sendall(open(sys.argv[2], "rb").read())
t = time.monotonic(); s.close()
print("close %.3f" % (time.monotonic() - t))
PY
host_sink
head -c 4000000 /dev/urandom >data
"$EV" run --timeout "$VT" --mem 512M --dir "$lib" --dir "$PWD:/w" $py /w/send.py "$(cat port)" /w/data >vm.out 2>vm.err; st=$?
wait $L
[ $st = 0 ] || die "python in the VM: status $st: $(tail -c 300 vm.err)"
cmp -s got data || die "the host received $(wc -c <got) bytes, not the $(wc -c <data) sent"
dt=$(sed -n "s/^close //p" vm.out)
[ -n "$dt" ] && awk "BEGIN { exit !($dt < 5) }" || die "close with SO_LINGER {1, 10} took ${dt:-?} s: $(cat vm.out)"
'

# python3 -m http.server in the VM (its standard library passed with --dir
# until host files are shared), serving a file the host checks.
net_case python-http-server '
py=/usr/bin/python3
[ -x $py ] || die "cannot run: $py missing (apt-get install python3-minimal)"
lib=$($py -c "import sys; print(sys.prefix + \"/lib/python%d.%d\" % sys.version_info[:2])")
mkdir srv && head -c 500000 /dev/urandom >srv/file
p=$(free_port)
vm_bg vm --mem 512M --dir "$lib" --dir "$PWD/srv:/srv" --publish "$p:8000" $py -m http.server -d /srv 8000
wait_http "http://127.0.0.1:$p/file"
curl -sf -o got "http://127.0.0.1:$p/file"; st=$?
stop_vm
[ $st = 0 ] || die "curl: status $st"
[ "$(sha256sum <got)" = "$(sha256sum <srv/file)" ] || die "the file arrived changed"
'

# A UDP port published with /udp: node's dgram socket in the VM answers
# one datagram and exits at once; its answer must still leave the VM.
net_case udp-publish-reply-at-exit '
p=$(free_port)
"$EV" run --timeout "$VT" --mem 512M --publish "$p:5000/udp" "$(command -v node)" -e "
const d = require(\"dgram\").createSocket(\"udp4\");
d.on(\"message\", (m, r) => d.send(Buffer.concat([Buffer.from(\"echo \"), m]), r.port, r.address, () => d.close()));
d.bind(5000);" >vm.out 2>vm.err & VM=$!
cat >client.py <<"PY"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
for i in range(120):
    s.sendto(b"ping", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recvfrom(100)[0].decode()); break
    except socket.timeout:
        pass
PY
got=$(python3 client.py "$p")
wait $VM; st=$?
[ "$got" = "echo ping" ] || die "the host got \"$got\", not \"echo ping\" (VM status $st: $(tail -c 200 vm.err))"
[ $st = 0 ] || die "the VM ended with status $st: $(tail -c 300 vm.err)"
'

# A host port that is taken is refused before the VM starts.
net_case publish-busy '
p=$(free_port)
python3 -c "import socket,sys,time; s=socket.socket(); s.bind((\"127.0.0.1\",$p)); s.listen(); print(1, flush=True); time.sleep(30)" >ready & H=$!
i=0; until [ -s ready ]; do i=$((i+1)); [ $i -lt 50 ] || die "blocker did not start"; sleep 0.1; done
"$EV" run --publish "$p:80" "$BB" true >out 2>err; st=$?
kill $H
[ $st = 125 ] || die "status $st, expected 125"
grep -q "^elfvm: cannot publish 127.0.0.1:$p/tcp: Address already in use$" err || die "message: $(cat err)"
[ $(wc -l <err) = 1 ] || die "more than one line: $(cat err)"
'

# --net tap:IF, inside a network namespace this case makes and that ends
# with it: the namespace's side of tap0 is 10.0.3.1, the guest 10.0.3.15;
# curl in the namespace fetches from node's http server in the VM.
net_case tap-netns '
command -v unshare >/dev/null && command -v ip >/dev/null || die "cannot run: needs unshare and ip (util-linux, iproute2)"
mkdir www && echo hello over tap >www/index.html
cat >inner.sh <<"INNER"
set -e
ip link set lo up
ip tuntap add tap0 mode tap
ip addr add 10.0.3.1/24 dev tap0
ip link set tap0 up
"$EV" run --timeout "$VT" --net tap:tap0 --ip 10.0.3.15/24 --gateway 10.0.3.1 --mem 512M \
	--file "$JS:/srv.js" --dir "$PWD/www:/www" "$(command -v node)" /srv.js /www 8080 \
	>vm.out 2>vm.err & VM=$!
i=0
until curl -sf --max-time 5 -o got http://10.0.3.15:8080/; do
	i=$((i+1)); kill -0 $VM 2>/dev/null || { echo "the VM ended: $(tail -c 300 vm.err)"; exit 1; }
	[ $i -lt 120 ] || { kill $VM; echo "no answer over tap0 in 60 s"; exit 1; }; sleep 0.5
done
kill $VM; wait $VM 2>/dev/null || true
INNER
o=$(unshare -n env EV="$EV" BB="$BB" VT="$VT" JS="$JS" sh inner.sh 2>&1) || die "$(printf "%s\n" "$o" | tail -n 1)"
[ "$(cat got)" = "hello over tap" ] || die "got: $(head -c 100 got)"
'
