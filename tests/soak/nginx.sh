#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/soak/nginx.sh: Debian's nginx in the VM (master_process off, as in
# tests/compat/nginx.sh) under wrk with 256 keep-alive connections for
# NGINX_SOAK_SECONDS (default 60), on a small static file; then the 6 MB
# file must still arrive intact.  Passes with 0 socket errors, 0 non-2xx
# answers and requests flowing.  Only 127.0.0.1 on the host; the VM is
# bounded by --timeout.  Run by tests/soak.sh from the repository root
# with $ELFVM set.
S=${NGINX_SOAK_SECONDS:-60}
die() { echo "$*"; exit 1; }
[ -x /usr/sbin/nginx ] || die "cannot run: /usr/sbin/nginx is missing (tools/deps.sh installs nginx-light)"
for t in wrk curl python3; do command -v $t >/dev/null || die "cannot run: $t is missing (tools/deps.sh installs it)"; done
W=$(mktemp -d "${TMPDIR:-/tmp}/elfvm-soak-ng.XXXXXX") || exit 1
trap 'kill $VM 2>/dev/null; wait $VM 2>/dev/null; rm -rf "$W"' EXIT
mkdir "$W/www"
echo "hello from nginx in the VM" >"$W/www/index.html"
head -c 6000000 /dev/urandom >"$W/www/big"
cat >"$W/nginx.conf" <<CONF
worker_processes 1;
error_log stderr warn;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy;
	fastcgi_temp_path /tmp/fcgi; uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
	keepalive_requests 1000000;
	sendfile on;
	server { listen 8080; root /www; }
}
CONF
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ELFVM" run --timeout $((S + 120)) --log "$W/vm.log" --mem 512M --file "$W/nginx.conf:/etc/nginx.conf" \
	--dir "$W/www:/www" --publish "$P:8080" \
	/usr/sbin/nginx -e stderr -c /etc/nginx.conf -g "daemon off; master_process off;" >"$W/vm.out" 2>"$W/vm.err" & VM=$!
i=0
until curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$P/"; do
	i=$((i + 1))
	kill -0 $VM 2>/dev/null || die "nginx ended before serving: $(tail -c 300 "$W/vm.err")"
	[ $i -lt 120 ] || die "no answer from nginx in 60 s"
	sleep 0.5
done
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
