# SPDX-License-Identifier: MIT
# tests/compat/redis.sh: Debian's redis-server, unmodified, in the VM and
# reached from the host through --publish by Debian's redis-cli and
# redis-benchmark.  The oracle is the same redis-server run natively on a
# 127.0.0.1 port: the command set must answer alike in both.  SAVE must
# write its RDB into the VM's tmpfs; BGSAVE and BGREWRITEAOF need fork,
# which elfvm does not have, so they must fail as redis reports a failed
# fork and leave the server serving.  Every VM is bounded by --timeout and
# every native server is killed by its case.  Sourced by tests/run.sh
# inside all_cases.  One line per case:
#     redis_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's own directory with $EV = the elfvm to
# test, $VT = the VM timeout, $LOAD = redis_load.py; it passes by exiting
# 0 and otherwise prints why as its last line (die).

REDIS_LIB='
die() { echo "$*"; exit 1; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])"; }
# vm_redis LOG PORT ARGS...: elfvm run ARGS in the background publishing
# PORT to the guest 6379, pid in $VM; waits for PING (up to 60 s).
vm_redis() {
	l=$1 p=$2; shift 2
	"$EV" run --timeout "$VT" --log "$l.log" --publish "$p:6379" "$@" >"$l.out" 2>"$l.err" & VM=$!
	i=0
	until [ "$(redis-cli -p "$p" ping 2>/dev/null)" = PONG ]; do
		i=$((i + 1))
		kill -0 "$VM" 2>/dev/null || die "the VM ended before answering PING: $(tail -c 300 "$l.out" "$l.err")"
		[ $i -lt 120 ] || { stop_vm; die "no PONG from the VM in 60 s: $(tail -c 300 "$l.out")"; }
		sleep 0.5
	done
}
# vm_rs LOG PORT ARGS...: vm_redis with redis-server, no persistence, and
# protected mode off: the VM sees connections through QEMU user networking
# come from 10.0.2.2, not from its loopback, and protected mode refuses them.
vm_rs() {
	l=$1 p=$2; shift 2
	vm_redis "$l" "$p" /usr/bin/redis-server --save "" --appendonly no --protected-mode no "$@"
}
stop_vm() { redis-cli -p "$P" shutdown nosave >/dev/null 2>&1; sleep 0.5; kill "$VM" 2>/dev/null; wait "$VM" 2>/dev/null; }
# native_redis PORT: the oracle, on 127.0.0.1, pid in $NAT.
native_redis() {
	redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
		--dir "$PWD" --logfile "$PWD/native.log" & NAT=$!
	i=0
	until [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; do
		i=$((i + 1)); [ $i -lt 50 ] || { kill $NAT; die "the native redis-server did not start"; }; sleep 0.1
	done
}
# no_warning LOG: the kernel log has no warning, oops or crash report.
no_warning() { [ -s "$1" ] || die "no kernel log in $1"; ! grep -Eiq "warn|panic|oops|crash|assert" "$1" || die "kernel log: $(grep -Ei "warn|panic|oops|crash|assert" "$1" | head -n 2)"; }
'

redis_case() {
	next_case "redis/$1" || return 0
	case $ELFVM in *fake_elfvm.sh) fail "cannot run: needs the VM's network (not the fake elfvm)" ;; esac
	for tool in redis-server redis-cli redis-benchmark; do
		command -v $tool >/dev/null 2>&1 ||
			fail "cannot run: $tool is missing (apt-get install redis-server redis-tools; tools/deps.sh installs them)"
	done
	command -v python3 >/dev/null 2>&1 || fail "cannot run: python3 is missing (tools/deps.sh installs it)"
	out=$(cd "$D" && EV=$ELFVM VT=$VM_TIMEOUT LOAD=$ROOT/tests/compat/redis_load.py sh -c "$REDIS_LIB$2" 2>&1) && pass
	fail "$(printf '%s\n' "$out" | tail -n 1)"
}

# The command set, from one redis-cli session and a subscriber, against
# the VM and against the native server: the outputs must be identical.
redis_case commands '
cat >cmds <<"EOF"
SET greeting hello
GET greeting
GET missing
INCR counter
INCR counter
INCRBY counter 40
LPUSH list a b c
RPUSH list z
LRANGE list 0 -1
LLEN list
HSET h f1 v1 f2 v2
HGET h f2
HGETALL h
ZADD z 3 c 1 a 2 b
ZRANGE z 0 -1 WITHSCORES
ZSCORE z b
SET temp x
EXPIRE temp 100
TTL temp
PERSIST temp
TTL temp
TYPE list
MULTI
INCR counter
LPUSH list m
GET greeting
EXEC
MULTI
SET greeting bye
DISCARD
GET greeting
SET big 0123456789
APPEND big abcdef
STRLEN big
DEL greeting big
EXISTS greeting
DBSIZE
EOF
# session PORT OUT: the command list, then PUBLISH to a subscriber.
session() {
	redis-cli -p "$1" <cmds >"$2" 2>&1 || die "redis-cli on port $1 failed: $(tail -n 2 "$2")"
	timeout 20 redis-cli -p "$1" subscribe news >"$2.sub" 2>&1 & S=$!
	i=0
	until [ "$(redis-cli -p "$1" pubsub numsub news | tail -n 1)" = 1 ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { kill $S; die "the subscriber on port $1 never subscribed"; }; sleep 0.1
	done
	redis-cli -p "$1" publish news first >>"$2"
	redis-cli -p "$1" publish news second >>"$2"
	i=0
	until [ "$(wc -l <"$2.sub")" -ge 9 ]; do
		i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
	done
	kill $S 2>/dev/null; wait $S 2>/dev/null
	cat "$2.sub" >>"$2"
}
P=$(free_port) NP=$(free_port)
native_redis "$NP"
session "$NP" native.txt
kill $NAT; wait $NAT 2>/dev/null
vm_rs vm "$P"
session "$P" vm.txt
stop_vm
grep -q "^second$" native.txt || die "the native run is incomplete: $(tail -n 3 native.txt)"
cmp -s native.txt vm.txt || die "answers differ from native redis: $(diff native.txt vm.txt | head -n 6 | tr "\n" " ")"
no_warning vm.log
'

# SAVE writes dump.rdb into the VM'\''s tmpfs: DEBUG RELOAD NOSAVE reads
# that file back (a key set after SAVE disappears, one set before stays),
# and INFO persistence agrees with LASTSAVE.  BGSAVE and BGREWRITEAOF
# answer an error and log the failed fork; the server keeps serving.
redis_case save-bgsave '
P=$(free_port)
vm_rs vm "$P" --enable-debug-command yes
R="redis-cli -p $P"
t0=$(date +%s)
[ "$($R set before 1)" = OK ] || die "SET failed"
[ "$($R save)" = OK ] || die "SAVE answered: $($R save)"
last=$($R lastsave)
# The clock of the guest is that of the host (the realtime= word, then the
# elfvm.ctl record realtime once the kernel listens), give or take the
# transit of that record: a second of slack for a SAVE just after a second
# starts.
[ "$last" -ge $((t0 - 1)) ] 2>/dev/null || die "LASTSAVE $last is before the SAVE ($t0)"
$R info persistence | tr -d "\r" >info
grep -qx "rdb_changes_since_last_save:0" info || die "changes remain after SAVE: $(grep changes info)"
grep -qx "rdb_last_save_time:$last" info || die "INFO and LASTSAVE differ: $(grep last_save_time info) vs $last"
grep -qx "rdb_last_bgsave_status:ok" info || die "$(grep bgsave_status info)"
$R set after 2 >/dev/null
r=$($R debug reload nosave)
[ "$r" = OK ] || die "DEBUG RELOAD NOSAVE (reading dump.rdb back) answered: $r"
[ "$($R get before)" = 1 ] || die "the key saved is missing after loading dump.rdb"
[ "$($R exists after)" = 0 ] || die "a key set after SAVE survived loading dump.rdb"
r=$(timeout 20 $R bgsave 2>&1); st=$?
[ $st = 124 ] && die "BGSAVE hung"
case $r in ERR*) ;; *) die "BGSAVE answered \"$r\", expected an error" ;; esac
r=$(timeout 20 $R bgrewriteaof 2>&1)
case $r in ERR*"background"*) ;; *) die "BGREWRITEAOF answered \"$r\", expected an error" ;; esac
[ "$($R ping)" = PONG ] || die "no PONG after the failed forks"
[ "$($R get before)" = 1 ] || die "the data went after the failed forks"
$R info persistence | tr -d "\r" >info2
grep -qx "rdb_bgsave_in_progress:0" info2 || die "a BGSAVE is said to run"
grep -qx "aof_last_bgrewrite_status:err" info2 || die "$(grep aof_last_bgrewrite_status info2)"
stop_vm
grep -q "Can.t save in background: fork: Function not implemented" vm.out || die "no log line for the failed BGSAVE: $(tail -n 3 vm.out)"
grep -q "Can.t rewrite append only file in background: fork" vm.out || die "no log line for the failed BGREWRITEAOF"
grep -q "DB saved on disk" vm.out || die "no log line for SAVE"
no_warning vm.log
'

# Debian'\''s /etc/redis/redis.conf as it is, with the overrides a VM needs
# on the command line: no daemonize (it forks, and redis'\''s parent side
# exits 0 when fork fails), the log on stdout, every address bound
# (connections arrive on 10.0.2.15), protected mode off, and the data
# directory made in the VM.  Its built-in save points stay, so SAVE writes
# /var/lib/redis/dump.rdb.
redis_case debian-conf '
[ -f /etc/redis/redis.conf ] || die "cannot run: /etc/redis/redis.conf missing (apt-get install redis-server)"
P=$(free_port)
mkdir empty
vm_redis vm "$P" --file /etc/redis/redis.conf --dir "$PWD/empty:/var/lib/redis" --dir "$PWD/empty:/run/redis" \
	/usr/bin/redis-server /etc/redis/redis.conf --daemonize no --logfile "" --bind "* -::*" --protected-mode no
R="redis-cli -p $P"
[ "$($R set k v)" = OK ] && [ "$($R get k)" = v ] || { stop_vm; die "SET/GET failed"; }
[ "$($R config get dir | tail -n 1)" = /var/lib/redis ] || { stop_vm; die "dir: $($R config get dir)"; }
[ "$($R config get save | tail -n 1)" = "3600 1 300 100 60 10000" ] || { stop_vm; die "save points: $($R config get save | tail -n 1)"; }
[ "$($R save)" = OK ] || { stop_vm; die "SAVE into /var/lib/redis failed"; }
stop_vm
grep -q "Ready to accept connections" vm.out || die "no ready line on stdout: $(tail -c 200 vm.out)"
# mmap charges nothing against memory, which /proc/sys/vm/overcommit_memory
# must say (1), or redis warns that BGSAVE may fail for want of memory.
grep -q "overcommit" vm.out && die "redis reads a wrong overcommit policy: $(grep overcommit vm.out | cut -c1-120)"
no_warning vm.log
'

# redis-benchmark -q, 2000 requests from 50 clients per test: every test
# completes with a rate and no error.
redis_case benchmark '
P=$(free_port)
vm_rs vm "$P"
timeout 120 redis-benchmark -p "$P" -q -n 2000 -c 50 -t ping,set,get,incr,lpush,lrange_100,mset >bench 2>&1; st=$?
stop_vm
tr "\r" "\n" <bench | grep "requests per second" >rates
[ $st = 0 ] || die "redis-benchmark: status $st: $(tail -c 200 bench)"
grep -qi "error" bench && die "redis-benchmark: $(grep -i error bench | head -n 1)"
for t in PING_INLINE PING_MBULK SET GET INCR LPUSH LRANGE_100 MSET; do
	grep -q "^ *$t[: ]" rates || die "no rate for $t: $(cat rates | tr "\n" " ")"
done
no_warning vm.log
'

# 200 clients writing their own keys for 10 s: DBSIZE and a checksum over
# every value read back match what was acknowledged.
redis_case load-200 '
P=$(free_port)
vm_rs vm "$P"
python3 "$LOAD" "$P" 200 10 >load 2>&1; st=$?
stop_vm
[ $st = 0 ] || die "$(tail -n 1 load)"
no_warning vm.log
'
