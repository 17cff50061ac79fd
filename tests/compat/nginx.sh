# SPDX-License-Identifier: MIT
# tests/compat/nginx.sh: Debian's nginx (nginx-light), unmodified, in the
# VM as tests/compat/nginx.lib starts it (one process, a config file and a
# directory of static files passed in; the 60 s load is
# tests/soak/nginx.sh).  The host's curl fetches small and multi-MB files
# with sendfile on and off and through a proxy_pass to a second server
# block of the same nginx; wrk holds 256 keep-alive connections.  Files
# are compared by checksum with the originals.  Sourced by tests/run.sh
# inside all_cases; one line per case:
#     ng_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's directory with $EV = the elfvm to test,
# $VT = the VM timeout and nginx.lib's functions; it passes by exiting 0
# and otherwise prints why as its last line (die).

NG_LIB='
die() { echo "$*"; exit 1; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])"; }
# ng_vm: www/ and nginx.conf made here, nginx started in the VM (ng_files,
# ng_start); its host port in $P, pid in $VM.
ng_vm() { ng_files "$PWD" && P=$(free_port) && ng_start "$PWD" "$P" || exit 1; }
# fetch PATH FILE: curl http://127.0.0.1:$P/PATH must give www/FILE.
fetch() {
	curl -sf --max-time 30 -o got "http://127.0.0.1:$P/$1" || { ng_stop; die "curl /$1 failed"; }
	cmp -s got "www/$2" || { ng_stop; die "/$1 arrived changed ($(wc -c <got) of $(wc -c <"www/$2") bytes)"; }
}
'

ng_case() {
	next_case "nginx/$1" || return 0
	case $ELFVM in *fake_elfvm.sh) fail "cannot run: needs the VM's network (not the fake elfvm)" ;; esac
	out=$(cd "$D" && EV=$ELFVM VT=$VM_TIMEOUT sh -c ". '$ROOT/tests/compat/nginx.lib'
ng_check || exit 1$NG_LIB$2" 2>&1) && pass
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
[ "$n" = 1 ] || { ng_stop; die "20 requests took $n connections, expected 1 (keep-alive)"; }
code=$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$P/nothing-here")
[ "$code" = 404 ] || { ng_stop; die "a missing file gave $code, expected 404"; }
ng_stop
grep -E "\[(alert|crit|emerg)\]" vm.err && die "nginx logged: $(grep -E "\[(alert|crit|emerg)\]" vm.err | head -n 1)"
exit 0
'

# 256 keep-alive connections from wrk for 5 s, on a small file and through
# the proxy: no socket errors, no non-2xx answers, and requests did flow.
ng_case wrk-256 '
ng_vm
for path in s1.txt proxy/s2.txt; do
	wrk -t2 -c256 -d5s --timeout 10s "http://127.0.0.1:$P/$path" >wrk.out 2>&1 || { ng_stop; die "wrk /$path: status $?: $(tail -n 1 wrk.out)"; }
	grep -q "Socket errors" wrk.out && { ng_stop; die "wrk /$path: $(grep "Socket errors" wrk.out)"; }
	grep -q "Non-2xx" wrk.out && { ng_stop; die "wrk /$path: $(grep "Non-2xx" wrk.out)"; }
	n=$(awk "/requests in/ { print \$1 }" wrk.out)
	[ "${n:-0}" -ge 256 ] || { ng_stop; die "wrk /$path: only ${n:-no} requests: $(tr "\n" " " <wrk.out)"; }
	echo "wrk /$path: $(grep Requests/sec wrk.out)"
done
ng_stop
grep -E "\[(alert|crit|emerg)\]" vm.err && die "nginx logged: $(grep -E "\[(alert|crit|emerg)\]" vm.err | head -n 1)"
exit 0
'
