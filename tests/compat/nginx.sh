# SPDX-License-Identifier: MIT
# tests/compat/nginx.sh: Debian's nginx (nginx-light), unmodified, in the
# VM with `-g "daemon off; master_process off;"` (no fork: one process
# serves everything) and a config file passed in with --file: error_log to
# stderr, pid and temporary files under /tmp, a directory of static files
# passed with --dir.  The host's curl fetches small and multi-MB files with
# sendfile on and off and through a proxy_pass to a second server block of
# the same nginx; wrk holds 256 keep-alive connections.  Files are compared
# by checksum with the originals.  Sourced by tests/run.sh inside
# all_cases; one line per case:
#     ng_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's directory with $EV = the elfvm to test,
# $VT = the VM timeout and $NG = nginx; it passes by exiting 0 and
# otherwise prints why as its last line (die).

NG_LIB='
die() { echo "$*"; exit 1; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])"; }
stop_vm() { kill "$VM" 2>/dev/null; wait "$VM" 2>/dev/null; return 0; }
# ng_vm: www/ (index.html, 100 small files, a 6 MB file) and nginx.conf
# made, nginx started in the VM; its host port in $P, pid in $VM.  In the
# VM, port 8080 serves /www (sendfile on; /nosf/ the same files with
# sendfile off; /proxy/ through proxy_pass to port 8081, which serves /www
# too).
ng_vm() {
	mkdir -p www
	echo "hello from nginx in the VM" >www/index.html
	for i in $(seq 1 100); do echo "small file $i" >www/s$i.txt; done
	head -c 6000000 /dev/urandom >www/big
	cat >nginx.conf <<CONF
worker_processes 1;
error_log stderr warn;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy;
	fastcgi_temp_path /tmp/fcgi; uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
	keepalive_requests 100000;
	sendfile on;
	server {
		listen 8080;
		root /www;
		location /nosf/ { sendfile off; alias /www/; }
		location /proxy/ { proxy_pass http://127.0.0.1:8081/; }
	}
	server { listen 127.0.0.1:8081; root /www; }
}
CONF
	P=$(free_port)
	"$EV" run --timeout "$VT" --log vm.log --mem 512M --file "$PWD/nginx.conf:/etc/nginx.conf" \
		--dir "$PWD/www:/www" --publish "$P:8080" \
		"$NG" -e stderr -c /etc/nginx.conf -g "daemon off; master_process off;" >vm.out 2>vm.err & VM=$!
	i=0
	until curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$P/"; do
		i=$((i + 1))
		kill -0 "$VM" 2>/dev/null || die "nginx in the VM ended before serving: $(tail -c 300 vm.err)"
		[ $i -lt 120 ] || { stop_vm; die "no answer from nginx in 60 s: $(tail -c 300 vm.err)"; }
		sleep 0.5
	done
}
# fetch PATH FILE: curl http://127.0.0.1:$P/PATH must give www/FILE.
fetch() {
	curl -sf --max-time 30 -o got "http://127.0.0.1:$P/$1" || { stop_vm; die "curl /$1 failed"; }
	cmp -s got "www/$2" || { stop_vm; die "/$1 arrived changed ($(wc -c <got) of $(wc -c <"www/$2") bytes)"; }
}
'

ng_case() {
	next_case "nginx/$1" || return 0
	case $ELFVM in *fake_elfvm.sh) fail "cannot run: needs the VM's network (not the fake elfvm)" ;; esac
	for tool in python3 curl wrk; do
		command -v $tool >/dev/null 2>&1 || fail "cannot run: $tool is missing (tools/deps.sh installs it)"
	done
	[ -x /usr/sbin/nginx ] || fail "cannot run: /usr/sbin/nginx is missing (tools/deps.sh installs nginx-light)"
	out=$(cd "$D" && EV=$ELFVM VT=$VM_TIMEOUT NG=/usr/sbin/nginx sh -c "$NG_LIB$2" 2>&1) && pass
	fail "$(printf '%s\n' "$out" | tail -n 1)"
}

# Static files, sendfile on (/) and off (/nosf/), then the same through
# proxy_pass; several requests on one connection (keep-alive): curl reports
# how many connections it opened for 20 URLs.
ng_case static-proxy '
ng_vm
for pre in "" nosf/ proxy/; do
	fetch "${pre}index.html" index.html
	fetch "${pre}s7.txt" s7.txt
	fetch "${pre}big" big
done
n=$(curl -sf --max-time 30 -w "%{num_connects}\n" $(for i in $(seq 1 20); do echo "-o /dev/null http://127.0.0.1:$P/s$i.txt"; done) | awk "{ n += \$1 } END { print n }")
[ "$n" = 1 ] || { stop_vm; die "20 requests took $n connections, expected 1 (keep-alive)"; }
code=$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$P/nothing-here")
[ "$code" = 404 ] || { stop_vm; die "a missing file gave $code, expected 404"; }
stop_vm
grep -E "\[(alert|crit|emerg)\]" vm.err && die "nginx logged: $(grep -E "\[(alert|crit|emerg)\]" vm.err | head -n 1)"
exit 0
'

# 256 keep-alive connections from wrk for 5 s, on a small file and through
# the proxy: no socket errors, no non-2xx answers, and requests did flow.
ng_case wrk-256 '
ng_vm
for path in s1.txt proxy/s2.txt; do
	wrk -t2 -c256 -d5s --timeout 10s "http://127.0.0.1:$P/$path" >wrk.out 2>&1 || { stop_vm; die "wrk /$path: status $?: $(tail -n 1 wrk.out)"; }
	grep -q "Socket errors" wrk.out && { stop_vm; die "wrk /$path: $(grep "Socket errors" wrk.out)"; }
	grep -q "Non-2xx" wrk.out && { stop_vm; die "wrk /$path: $(grep "Non-2xx" wrk.out)"; }
	n=$(awk "/requests in/ { print \$1 }" wrk.out)
	[ "${n:-0}" -ge 256 ] || { stop_vm; die "wrk /$path: only ${n:-no} requests: $(tr "\n" " " <wrk.out)"; }
	echo "wrk /$path: $(grep Requests/sec wrk.out)"
done
stop_vm
grep -E "\[(alert|crit|emerg)\]" vm.err && die "nginx logged: $(grep -E "\[(alert|crit|emerg)\]" vm.err | head -n 1)"
exit 0
'
