# SPDX-License-Identifier: MIT
# tests/compat/dns.sh: Debian's dnsmasq (dnsmasq-base), unmodified, as the
# DNS server in the VM for a zone given on its command line, published on
# one host port for both UDP and TCP and asked by the host's dig (dnsutils)
# and dnsperf.  Why dnsmasq and which flags: docs/servers.md, "DNS".
# Sourced by tests/run.sh inside all_cases (before net.sh, so the few
# helpers it shares with net.sh's NET_LIB are written out here).
# One line per case:
#     dns_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's own directory with $EV, $VT as in net.sh
# and dns_start PORT to boot the server (its pid in $VM); it passes by
# exiting 0 and otherwise prints why as its last line (die).

# The zone: an A and an AAAA record, an MX and a TXT; --local makes every
# other name under example.test NXDOMAIN, answered here, never forwarded.
DNS_LIB='
die() { echo "$*"; exit 1; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])"; }
vm_bg() { l=$1; shift; "$EV" run --timeout "$VT" "$@" >"$l.out" 2>"$l.err" & VM=$!; }
stop_vm() { kill "$VM" 2>/dev/null; wait "$VM" 2>/dev/null; true; }
dns_start() {
	vm_bg vm --publish "$1:53/udp" --publish "$1:53/tcp" "$DNSMASQ" -d -u root --pid-file= \
		--no-hosts --no-resolv --local=/example.test/ \
		--host-record=www.example.test,192.0.2.10,2001:db8::10 \
		--mx-host=example.test,mail.example.test,10 \
		--txt-record=example.test,"v=spf1 -all"
	i=0
	until [ "$(dig +short +time=1 +tries=1 -p "$1" @127.0.0.1 www.example.test A 2>/dev/null)" = 192.0.2.10 ]; do
		i=$((i + 1))
		kill -0 "$VM" 2>/dev/null || die "dnsmasq in the VM ended before answering: $(tail -c 300 vm.err)"
		[ $i -lt 40 ] || { stop_vm; die "no answer from dnsmasq in the VM in 40 s: $(tail -c 300 vm.err)"; }
		sleep 0.5
	done
}
'

dns_case() {
	next_case "dns/$1" || return 0
	case $ELFVM in *fake_elfvm.sh) fail "cannot run: needs the VM's network (not the fake elfvm)" ;; esac
	DNSMASQ=/usr/sbin/dnsmasq
	[ -x $DNSMASQ ] || fail "cannot run: $DNSMASQ is missing (tools/deps.sh installs dnsmasq-base)"
	for tool in dig dnsperf python3; do
		command -v $tool >/dev/null 2>&1 || fail "cannot run: $tool is missing (tools/deps.sh installs dnsutils, dnsperf)"
	done
	out=$(cd "$D" && EV=$ELFVM VT=$VM_TIMEOUT DNSMASQ=$DNSMASQ sh -c "$DNS_LIB$2" 2>&1) && pass
	fail "$(printf '%s\n' "$out" | tail -n 1)"
}

# Each record type over UDP and over TCP, and NXDOMAIN both ways.
dns_case dig-udp-tcp '
p=$(free_port)
dns_start "$p"
ask() { dig +time=3 +tries=2 -p "$p" @127.0.0.1 "$@"; }
for t in "" +tcp; do
	via=udp; [ -z "$t" ] || via=tcp
	[ "$(ask $t +short www.example.test A)" = 192.0.2.10 ] || { stop_vm; die "$via A: $(ask $t +short www.example.test A)"; }
	[ "$(ask $t +short www.example.test AAAA)" = 2001:db8::10 ] || { stop_vm; die "$via AAAA: $(ask $t +short www.example.test AAAA)"; }
	[ "$(ask $t +short example.test MX)" = "10 mail.example.test." ] || { stop_vm; die "$via MX: $(ask $t +short example.test MX)"; }
	[ "$(ask $t +short example.test TXT)" = "\"v=spf1 -all\"" ] || { stop_vm; die "$via TXT: $(ask $t +short example.test TXT)"; }
	ask $t nope.example.test A >nx
	grep -q "status: NXDOMAIN" nx || { stop_vm; die "$via: nope.example.test is not NXDOMAIN: $(grep -m1 status: nx)"; }
	grep -q "^;; SERVER: 127.0.0.1#$p(127.0.0.1) ($(echo $via | tr a-z A-Z))" nx || { stop_vm; die "$via: dig did not use $via: $(grep SERVER: nx)"; }
done
stop_vm
'

# dnsperf over UDP: 5 names (4 records, 1 NXDOMAIN) asked 200 times by 4
# clients; every query answered, with the right split of codes.
dns_case dnsperf '
p=$(free_port)
printf "www.example.test A\nwww.example.test AAAA\nexample.test MX\nexample.test TXT\nnope.example.test A\n" >queries
dns_start "$p"
dnsperf -s 127.0.0.1 -p "$p" -d queries -n 200 -c 4 -l 30 >perf 2>&1; st=$?
stop_vm
[ $st = 0 ] || die "dnsperf status $st: $(tail -n 3 perf)"
grep -q "Queries completed: *1000 (100.00%)" perf || die "dnsperf: $(grep -E "Queries (completed|lost)" perf | xargs)"
grep -q "Response codes: *NOERROR 800 (80.00%), NXDOMAIN 200 (20.00%)$" perf || die "dnsperf: $(grep "Response codes" perf)"
sed -n "s/^ *Queries per second: *\([0-9]*\).*/dnsperf: \1 queries per second/p" perf
'
