#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/soak/redis.sh: Debian's redis-server in the VM under 1000
# concurrent clients for 10 minutes (REDIS_SOAK_SECONDS, REDIS_SOAK_CLIENTS
# change that), each client overwriting its own 50 keys one SET at a time
# (tests/compat/redis_load.py).  Holds when: every SET is answered +OK,
# DBSIZE and a SHA-256 over every value read back match the last values
# written, redis-benchmark still runs clean afterwards, the kernel log has
# no warning, and memory is flat after warm-up: used_memory_rss (the guest
# kernel's count of the server's resident pages, which redis reads from
# /proc/self/stat) is sampled every 5 s, and after the first third of the
# run no sample may exceed the first one of that stretch by more than 10%
# plus 1 MiB.  Only 127.0.0.1 on the host; the VM is bounded by --timeout.
cd "$(dirname "$0")/../.." || exit 1
: "${ELFVM:=$PWD/build/elfvm}"
SECS=${REDIS_SOAK_SECONDS:-600}
CLIENTS=${REDIS_SOAK_CLIENTS:-1000}
die() { echo "$*"; exit 1; }
for tool in redis-server redis-cli redis-benchmark python3; do
	command -v $tool >/dev/null 2>&1 || die "cannot run: $tool is missing (tools/deps.sh installs it)"
done
W=$(mktemp -d "${TMPDIR:-/tmp}/elfvm-soak-redis.XXXXXX") || exit 1
VM=
trap '[ -n "$VM" ] && kill $VM 2>/dev/null; rm -rf "$W"' EXIT
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

"$ELFVM" run --timeout $((SECS + 300)) --mem 512M --log "$W/log" --publish "$P:6379" \
	/usr/bin/redis-server --save "" --appendonly no --protected-mode no \
	>"$W/out" 2>"$W/err" &
VM=$!
i=0
until [ "$(redis-cli -p "$P" ping 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	kill -0 $VM 2>/dev/null || die "the VM ended before answering PING: $(tail -c 300 "$W/err")"
	[ $i -lt 120 ] || die "no PONG from the VM in 60 s"
	sleep 0.5
done

echo "$CLIENTS clients for $SECS s on 127.0.0.1:$P"
timeout $((SECS + 240)) python3 tests/compat/redis_load.py "$P" "$CLIENTS" "$SECS" 50 "$W/rss" >"$W/load" 2>&1
st=$?
cat "$W/load"
[ $st = 0 ] || die "load: status $st: $(tail -n 1 "$W/load")"
timeout 120 redis-benchmark -p "$P" -q -n 2000 -c 50 -t set,get >"$W/bench" 2>&1 ||
	die "redis-benchmark after the soak failed: $(tail -c 200 "$W/bench")"
tr '\r' '\n' <"$W/bench" | grep "requests per second"
grep -qi error "$W/bench" && die "redis-benchmark after the soak: $(grep -i error "$W/bench" | head -n 1)"
redis-cli -p "$P" info memory | tr -d '\r' | grep -E '^used_memory(_rss)?:'
redis-cli -p "$P" shutdown nosave >/dev/null 2>&1
wait $VM
VM=

# Memory: the samples after the first third of the run.
awk -v warm=$((SECS / 3)) '
	$1 >= warm { if (!n++) first = $2; if ($2 > max) max = $2; if (min == "" || $2 < min) min = $2 }
	END {
		if (n < 2) { print "too few memory samples after warm-up (" n ")"; exit 1 }
		printf "used_memory_rss after warm-up: %d samples, first %.1f MiB, min %.1f MiB, max %.1f MiB\n",
			n, first / 1048576, min / 1048576, max / 1048576
		if (max > first * 1.1 + 1048576) { printf "memory grew after warm-up: %.1f MiB to %.1f MiB\n", first / 1048576, max / 1048576; exit 1 }
	}' "$W/rss" || exit 1
if grep -Eiq 'warn|panic|oops|crash|assert' "$W/log"; then
	die "kernel log: $(grep -Ei 'warn|panic|oops|crash|assert' "$W/log" | head -n 2)"
fi
echo "redis soak held: $CLIENTS clients, $SECS s"
