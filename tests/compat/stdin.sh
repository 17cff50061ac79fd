# SPDX-License-Identifier: MIT
# tests/compat/stdin.sh: stdin streams into the program while it runs, and
# the signals sent to elfvm reach it (docs/terminal.md).  The oracle is the
# same command run natively, or a fixed expectation with a time bound.
# Sourced by tests/run.sh inside all_cases.  One line per case:
#     stdin_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's directory with $EV = the elfvm to test and
# $G = the directory of the guest programs; it passes by exiting 0 and
# otherwise prints why as its last line (die).  Every VM gets --timeout 25
# and every wait is bounded, so a case never hangs the suite.

STDIN_LIB='
die() { echo "$*"; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
R="$EV run --timeout 25" # the elfvm run under test, bounded
# signal_case SIG MODE WANT_STATUS WANT_OUT [twice]: the sigterm guest
# program in MODE, SIG sent to elfvm (twice, 0.5 s apart) once it printed
# "ready"; its stdin is a fifo held open (WRITE=LINE: written 0.5 s after
# the signal); $ms: from the (last) signal to
# the end of elfvm.  perl resets SIGINT, which a background job ignores.
signal_case() {
	rm -f fifo && mkfifo fifo || die "cannot make a fifo"
	perl -e "\$SIG{\$_} = \"DEFAULT\" for qw(INT HUP TERM); exec @ARGV or die" \
		$R "$G/sigterm.gcc-static" "$2" <fifo >out 2>err &
	pid=$!
	exec 3>fifo # stdin stays open while the case runs
	i=0
	until grep -q ready out 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ] || { kill -9 $pid; die "no ready line within 20 s: $(cat err)"; }
		sleep 0.1
	done
	t0=$(now_ms)
	kill -s "$1" $pid
	if [ "${5:-}" = twice ]; then sleep 0.5; t0=$(now_ms); kill -s "$1" $pid; fi
	if [ -n "${WRITE:-}" ]; then sleep 0.5; echo "$WRITE" >&3; fi
	wait $pid
	st=$?
	ms=$(($(now_ms) - t0))
	exec 3>&-
	[ "$st" = "$3" ] || die "status $st, expected $3 (stderr: $(cat err))"
	[ "$(cat out)" = "$(printf "$4")" ] || die "stdout: $(cat out | tr "\n" "|")"
}'

stdin_case() {
	next_case "$1" || return 0
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	# shellcheck disable=SC2016
	out=$(cd "$D" && EV=$ELFVM G=$ROOT/build/guest timeout -k 5 60 sh -c "$STDIN_LIB
$2" 2>&1) && pass
	fail "$(printf '%s\n' "$out" | tail -n 1)"
}

stdin_case stdin/yes-head-ends-at-once '
t0=$(now_ms)
yes | $R head -n 2 >out 2>err; st=$?
ms=$(($(now_ms) - t0))
[ $st = 0 ] || die "status $st: $(cat err)"
[ "$(cat out)" = "$(printf "y\ny")" ] || die "stdout: $(head -c 100 out)"
[ $ms -lt 15000 ] || die "took $ms ms"'

stdin_case stdin/slow-producer-first-line-early '
t0=$(now_ms)
(echo a; sleep 6; echo b) | $R cat 2>err | while read -r l; do echo "$l $(($(now_ms) - t0))"; done >out
set -- $(head -n 1 out)
[ "$1" = a ] || die "first line: $(head -n 1 out)"
[ "$2" -lt 5000 ] || die "a arrived after $2 ms: the producer had not ended, it should not wait"
[ "$(cut -d" " -f1 out | tr "\n" " ")" = "a b " ] || die "lines: $(cat out | tr "\n" "|")"'

stdin_case stdin/100MB-sha256 '
want=$(seq 30000000 | head -c 100M | sha256sum)
got=$(seq 30000000 | head -c 100M | $R sha256sum 2>err) || die "status $?: $(cat err)"
[ "$got" = "$want" ] || die "got $got, expected $want"'

stdin_case stdin/from-file '
head -c 300000 /bin/busybox >in
[ "$($R wc -c <in)" = "$(wc -c <in)" ] || die "byte counts differ"
[ "$($R sha256sum <in)" = "$(sha256sum <in)" ] || die "checksums differ"'

stdin_case stdin/dev-null-and-closed '
[ -z "$($R cat </dev/null)" ] || die "output from /dev/null"
$R cat </dev/null || die "status $? from /dev/null"
$R cat <&- || die "status $? with fd 0 closed"'

stdin_case stdin/image-streams '
"$EV" pack -o img cat >/dev/null 2>err || die "pack: $(cat err)"
[ "$(printf "one\ntwo\n" | $R --image img)" = "$(printf "one\ntwo")" ] || die "wrong output"'

stdin_case stdin/sigterm-caught-exits-0 '
signal_case TERM pause 0 "ready\ncaught SIGTERM"
[ $ms -lt 5000 ] || die "took $ms ms"'

stdin_case stdin/sigint-interrupts-read '
signal_case INT stdin 0 "ready\ncaught SIGINT"'

stdin_case stdin/sigint-restarts-read-with-sa-restart '
WRITE=late signal_case INT restart 0 "ready\nread restarted: late\ncaught SIGINT"'

stdin_case stdin/sighup-caught '
signal_case HUP pause 0 "ready\ncaught SIGHUP"'

stdin_case stdin/sigterm-ignored-second-one-ends '
signal_case TERM ignore 143 "ready" twice
[ $ms -lt 5000 ] || die "took $ms ms after the second SIGTERM"'

stdin_case stdin/sigterm-ignored-grace-ends '
signal_case TERM ignore 143 "ready"
[ $ms -ge 9000 ] && [ $ms -lt 16000 ] || die "ended after $ms ms, expected the 10 s grace"
grep -q "did not end within 10 s of SIGTERM" err || die "no line saying why: $(cat err)"'

stdin_case stdin/nonblock-poll-epoll-eof '
rm -f fifo && mkfifo fifo || die "cannot make a fifo"
$R "$G/stdin_poll.gcc-static" <fifo >out 2>err &
pid=$!
exec 3>fifo
i=0
until grep -q ready out 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 200 ] || { kill -9 $pid; die "no ready line: $(cat out err)"; }
	sleep 0.1
done
sleep 0.3
echo x >&3
sleep 0.3
exec 3>&-
wait $pid || die "status $?: $(grep FAIL out) $(cat err)"
[ "$(grep -c "^ok" out)" = 9 ] || die "checks: $(cat out | tr "\n" "|")"'

# A host without the input ports (tests/vmm/fake_qemu.sh old-host): fd 0
# reads end-of-file at once, and a signal stops the VM at once (no @@ctl).
stdin_case stdin/old-host-eof-and-signal '
export ELFVM_QEMU=$G/../../tests/vmm/fake_qemu.sh FAKE_QEMU=old-host
[ -z "$(echo data | $R cat)" ] || die "fd 0 read bytes without an elfvm.stdin port"
signal_case TERM pause 143 "ready"
[ $ms -lt 3000 ] || die "took $ms ms to stop the VM"'
