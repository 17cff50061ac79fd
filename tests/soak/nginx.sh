#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/soak/nginx.sh: Debian's nginx in the VM (tests/compat/nginx.lib,
# as tests/compat/nginx.sh starts it) under wrk with 256 keep-alive
# connections for NGINX_SOAK_SECONDS (default 60), on a small static file;
# then the 6 MB file must still arrive intact.  Passes with 0 socket
# errors, 0 non-2xx answers and requests flowing.  Only 127.0.0.1 on the
# host; the VM is bounded by --timeout.  Run by tests/soak.sh from the
# repository root with $ELFVM set.
S=${NGINX_SOAK_SECONDS:-60}
EV=${ELFVM:-$PWD/build/elfvm}
VT=$((S + 120))
die() { echo "$*"; exit 1; }
. tests/compat/nginx.lib
ng_check || exit 1
W=$(mktemp -d "${TMPDIR:-/tmp}/elfvm-soak-ng.XXXXXX") || exit 1
trap 'ng_stop; rm -rf "$W"' EXIT
ng_files "$W" || exit 1
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ng_start "$W" "$P" || exit 1
wrk -t2 -c256 -d"${S}s" --timeout 10s "http://127.0.0.1:$P/index.html" >"$W/wrk" 2>&1 || die "wrk: status $?: $(tail -n 1 "$W/wrk")"
cat "$W/wrk"
grep -q "Socket errors" "$W/wrk" && die "wrk: $(grep "Socket errors" "$W/wrk")"
grep -q "Non-2xx" "$W/wrk" && die "wrk: $(grep "Non-2xx" "$W/wrk")"
n=$(awk '/requests in/ { print $1 }' "$W/wrk")
[ "${n:-0}" -ge 256 ] || die "only ${n:-no} requests in $S s"
curl -sf --max-time 60 -o "$W/got" "http://127.0.0.1:$P/big" || die "the 6 MB file could not be fetched after the load"
cmp -s "$W/got" "$W/www/big" || die "the 6 MB file arrived changed after the load"
grep -E "\[(alert|crit|emerg)\]" "$W/vm.err" && die "nginx logged: $(grep -E "\[(alert|crit|emerg)\]" "$W/vm.err" | head -n 1)"
echo "nginx: 256 connections for $S s, $n requests, 0 socket errors, 0 non-2xx"
