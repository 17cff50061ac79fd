# SPDX-License-Identifier: MIT
# tests/compat/memcached.sh: Debian's memcached, unmodified, in the VM with
# 1 and 4 worker threads (UDP off; -u root, since memcached refuses to run
# as root without it and then drops to that user through setgid/setuid),
# published on a host port.  memcached_proto.py holds one conversation in
# the text and binary protocols; its output from the VM must equal its
# output from a native memcached started with the same flags on a
# 127.0.0.1 port.  memcslap (libmemcached-tools) then loads the VM's
# server in both protocols and must report no error, and the soak's own
# client (tests/soak/memcached_load.py) holds 200 connections of checked
# set/get for 15 s.  Sourced by tests/run.sh inside all_cases; one line
# per case:
#     mc_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's directory with $EV = the elfvm to test,
# $VT = the VM timeout, $PROTO = memcached_proto.py, $LOAD =
# memcached_load.py, $MC = memcached; it passes by exiting 0 and otherwise
# prints why as its last line (die).

MC_LIB='
die() { echo "$*"; exit 1; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])"; }
# wait_mc PORT PID: until a memcached on PORT answers "version" (up to 60 s).
wait_mc() {
	i=0
	until python3 -c "import socket,sys; s=socket.create_connection((\"127.0.0.1\",$1),2); s.settimeout(2); s.sendall(b\"version\\r\\n\"); sys.exit(not s.recv(100).startswith(b\"VERSION\"))" 2>/dev/null; do
		i=$((i + 1))
		kill -0 "$2" 2>/dev/null || die "memcached ended before answering on $1: $(tail -c 300 vm.err 2>/dev/null)"
		[ $i -lt 120 ] || die "no answer from memcached on $1 in 60 s"
		sleep 0.5
	done
}
# mc_vm THREADS: memcached in the VM, its host port in $P and pid in $VM.
mc_vm() {
	P=$(free_port)
	"$EV" run --timeout "$VT" --log vm.log --publish "$P:11211" "$MC" -u root -U 0 -p 11211 -t "$1" >vm.out 2>vm.err & VM=$!
	wait_mc "$P" "$VM"
}
# mc_native THREADS: the oracle, on 127.0.0.1; its port in $NP, pid in $NAT.
mc_native() {
	NP=$(free_port)
	"$MC" -u root -U 0 -l 127.0.0.1 -p "$NP" -t "$1" >nat.out 2>nat.err & NAT=$!
	wait_mc "$NP" "$NAT"
}
stop() { for p in "$@"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; return 0; }
'

mc_case() {
	next_case "memcached/$1" || return 0
	case $ELFVM in *fake_elfvm.sh) fail "cannot run: needs the VM's network (not the fake elfvm)" ;; esac
	for tool in python3 memcached memcslap; do
		command -v $tool >/dev/null 2>&1 || fail "cannot run: $tool is missing (tools/deps.sh installs memcached, libmemcached-tools)"
	done
	out=$(cd "$D" && EV=$ELFVM VT=$VM_TIMEOUT MC=$(command -v memcached) PROTO=$ROOT/tests/compat/memcached_proto.py \
		LOAD=$ROOT/tests/soak/memcached_load.py sh -c "$MC_LIB$2" 2>&1) && pass
	fail "$(printf '%s\n' "$out" | tail -n 1)"
}

# The same conversation, text then binary protocol, with 1 and 4 workers.
for t in 1 4; do
	mc_case proto-t$t '
mc_native '$t'
python3 "$PROTO" 127.0.0.1 "$NP" >want 2>want.err; st=$?
stop $NAT
[ $st = 0 ] || die "the client against native memcached (the oracle) failed: $(tail -n 1 want.err)"
mc_vm '$t'
python3 "$PROTO" 127.0.0.1 "$P" >got 2>got.err; st=$?
stop $VM
[ $st = 0 ] || die "the client against the VM failed: $(tail -n 1 got.err)"
cmp -s want got || die "answers differ from native: $(diff want got | grep "^[<>]" | head -n 2 | tr "\n" " ")"
'
done

# memcslap against the VM (4 workers), text and binary protocol: it exits 0
# even when requests fail, so success is an empty stderr (failures print
# "Fatal error for key …" there) and a summary line for every key.
mc_case memcslap '
mc_vm 4
for b in "" --binary; do
	for t in set get; do
		timeout 60 memcslap --servers=127.0.0.1:$P --concurrency=4 --execute-number=300 --test=$t $b >slap.out 2>slap.err; st=$?
		[ $st = 0 ] || { stop $VM; die "memcslap --test=$t $b: status $st: $(tail -n 1 slap.err)"; }
		[ -s slap.err ] && { stop $VM; die "memcslap --test=$t $b: $(head -n 1 slap.err)"; }
		grep -Eq "Time to (set|get) +1200 keys by +4 threads" slap.out || { stop $VM; die "memcslap --test=$t $b: no summary of 1200 keys: $(tr "\n" " " <slap.out)"; }
	done
done
stop $VM
'

# The short version of tests/soak/memcached.sh: its client, 200 connections
# opened at once against the VM's 4 workers, each setting and getting its
# own 20 keys for 15 s with every answer checked, then every key read back
# once more.  The client prints the first wrong answer as its last line;
# memcached must still be running after it.
mc_case load-200-15s '
mc_vm 4
python3 "$LOAD" 127.0.0.1 "$P" 200 15 >load.out 2>&1; st=$?
kill -0 $VM 2>/dev/null || die "memcached in the VM ended during the load: $(tail -c 300 vm.err)"
stop $VM
[ $st = 0 ] || die "memcached_load.py, 200 connections for 15 s: status $st: $(tail -n 1 load.out)"
'
