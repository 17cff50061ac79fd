# SPDX-License-Identifier: MIT
# tests/compat/virtio.sh: the virtio layer (docs/virtio.md) on both machines
# elfvm runs: the network driver alone, without the TCP/IP stack, and the
# program's stdout and stderr through the virtio console.  Sourced by
# tests/run.sh inside all_cases.  One line per case:
#     netselftest_case NAME MACHINE
#     console_case NAME MACHINE

# netselftest_case NAME MACHINE: the virtio-net driver alone, without the
# TCP/IP stack (kernel/virtio/net.c, docs/virtio.md): with netselftest=1 it
# sends 300 ARP requests for 10.0.2.2 at boot over QEMU's user network (both
# rings wrap) and logs whether every answer came back.
netselftest_case() {
	next_case "$1" || return 0
	ELFVM_KERNEL_ARGS=netselftest=1 timeout -k 5 120 "$ELFVM" run --timeout 60 --machine "$2" \
		--net user --log "$D/log" build/guest/hello.gcc-static >"$D/out" 2>&1
	st=$?
	[ $st = 0 ] && grep -q '^netselftest: .*ARP reply from 10.0.2.2: .*, ok' "$D/log" && pass
	fail "expected status 0 and a 'netselftest: ... ok' log line, got status $st: $(grep -m 1 -E 'panic|netselftest|virtio' "$D/log" 2>/dev/null)"
}

# console_case NAME MACHINE: the program's stdout and stderr through the
# virtio console (docs/virtio.md) on MACHINE, as bigout writes them: each
# stream byte for byte, and both into one file (2>&1) interleaved exactly
# as natively, since a switch of stream waits for the other to drain.
console_case() {
	next_case "$1" || return 0
	p=build/guest/bigout.gcc-static
	[ -f "$p" ] || fail "cannot run: $p does not exist (make tests)"
	"$p" >"$D/n.out" 2>"$D/n.err"
	"$p" >"$D/n.all" 2>&1
	ELFVM_KERNEL_ARGS=verbose=1 timeout -k 5 120 "$ELFVM" run --timeout 60 --machine "$2" \
		--log "$D/log" "$p" >"$D/v.out" 2>"$D/v.err"
	st=$?
	timeout -k 5 120 "$ELFVM" run --timeout 60 --machine "$2" "$p" >"$D/v.all" 2>&1
	st2=$?
	why=
	[ $st = 0 ] && [ $st2 = 0 ] || why="expected status 0 twice, got $st and $st2"
	for f in out err all; do
		cmp -s "$D/n.$f" "$D/v.$f" || why="${why:+$why; }$f differs: $(cmp "$D/n.$f" "$D/v.$f" 2>&1 | head -n 1)"
	done
	grep -q '^virtio-console: .*stdout on port' "$D/log" ||
		why="${why:+$why; }no 'virtio-console: ... stdout on port' line in the verbose log: the UARTs were used"
	[ -z "$why" ] && pass
	fail "$why"
}

netselftest_case kernel/netselftest-microvm microvm
netselftest_case kernel/netselftest-q35 q35
console_case console/bigout-microvm microvm
console_case console/bigout-q35 q35
