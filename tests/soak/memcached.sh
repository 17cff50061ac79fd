#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/soak/memcached.sh: Debian's memcached in the VM with 4 worker
# threads under 200 connections of set/get with every answer checked
# (memcached_load.py), for MEMCACHED_SOAK_SECONDS (default 300), then the
# server must still answer "stats" and its log must hold no crash.  Only
# 127.0.0.1 on the host; the VM is bounded by --timeout.  Run by
# tests/soak.sh from the repository root with $ELFVM set.
S=${MEMCACHED_SOAK_SECONDS:-300}
CONNS=${MEMCACHED_SOAK_CONNECTIONS:-200}
die() { echo "$*"; exit 1; }
command -v memcached >/dev/null || die "cannot run: memcached is missing (tools/deps.sh installs it)"
command -v python3 >/dev/null || die "cannot run: python3 is missing"
W=$(mktemp -d "${TMPDIR:-/tmp}/elfvm-soak-mc.XXXXXX") || exit 1
trap 'kill $VM 2>/dev/null; wait $VM 2>/dev/null; rm -rf "$W"' EXIT
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ELFVM" run --timeout $((S + 180)) --log "$W/vm.log" --mem 768M --publish "$P:11211" \
	"$(command -v memcached)" -u root -U 0 -t 4 -c 1024 -m 256 -p 11211 >"$W/vm.out" 2>"$W/vm.err" & VM=$!
stats() {
	python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$P),5); s.settimeout(5); s.sendall(b'stats\r\n'); b=b''
while not b.endswith(b'END\r\n'): b+=s.recv(65536) or sys.exit(1)
sys.stdout.write(b.decode())" 2>/dev/null
}
i=0
until stats >/dev/null; do
	i=$((i + 1))
	kill -0 $VM 2>/dev/null || die "memcached ended before answering: $(tail -c 300 "$W/vm.err")"
	[ $i -lt 120 ] || die "no answer from memcached in 60 s"
	sleep 0.5
done
python3 "$(dirname "$0")/memcached_load.py" 127.0.0.1 "$P" "$CONNS" "$S" || die "the load client failed (above)"
stats >"$W/stats" || die "memcached no longer answers stats after the load"
grep -E "STAT (curr_connections|total_connections|cmd_get|cmd_set|threads) " "$W/stats" | tr -d '\r'
grep -Eq "signal|panic|crash" "$W/vm.log" && die "the VM log reports: $(grep -E "signal|panic|crash" "$W/vm.log" | head -n 1)"
echo "memcached: $CONNS connections, $S s of verified set/get, 4 threads"
