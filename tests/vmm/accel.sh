# SPDX-License-Identifier: MIT
# tests/vmm/accel.sh: the accelerator choice and the ways a VM can end
# without an exit record (docs/accel.md), with no real KVM needed: QEMU is
# tests/vmm/fake_qemu.sh (ELFVM_QEMU), which fails as QEMU does on a host
# whose KVM cannot run the kernel, and ELFVM_KVM_DEVICE points at a file
# that opens like /dev/kvm.  Each case asserts the status, the one-line
# reason and a time bound.  Sourced by tests/run.sh inside all_cases.

FAKE_QEMU_SH=$ROOT/tests/vmm/fake_qemu.sh
VMM_HELLO=build/guest/hello.gcc-static

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# vmm_run TAG [VAR=VALUE...] -- ARGS: `elfvm run ARGS` with the stand-in
# QEMU, this case's own cache and KVM device; leaves $D/TAG.out,
# $D/TAG.err, the status in $st and the time it took in $ms.
vmm_run() {
	tag=$1 vars=
	shift
	while [ "$1" != -- ]; do # VAR=VALUE words, without spaces
		vars="$vars $1"
		shift
	done
	shift
	t0=$(now_ms)
	# shellcheck disable=SC2086
	env ELFVM_QEMU="$FAKE_QEMU_SH" XDG_CACHE_HOME="$D/cache" FAKE_QEMU_LOG="$D/qemu.log" \
		ELFVM_KVM_DEVICE="$D/kvm" $vars "$ELFVM" "$@" </dev/null >"$D/$tag.out" 2>"$D/$tag.err"
	st=$?
	ms=$(($(now_ms) - t0))
}

# vmm_expect TAG STATUS MAX_MS PATTERN: the last vmm_run ended with STATUS
# within MAX_MS, and its stderr has a line matching PATTERN (grep -E; an
# empty PATTERN asks for none).  A
# status of 125 also wants exactly one "elfvm: " line.  Adds to $why.
vmm_expect() {
	[ "$st" = "$2" ] || why="${why:+$why; }$1: expected status $2 got $st ($(head -n 1 "$D/$1.err" | cut -c1-200))"
	[ "$ms" -le "$3" ] || why="${why:+$why; }$1: took $ms ms, more than $3"
	[ -z "$4" ] || grep -qE "$4" "$D/$1.err" || why="${why:+$why; }$1: no stderr line matching '$4' in: $(grep -m 3 '^elfvm' "$D/$1.err" | tr '\n' ' ' | cut -c1-300)"
	if [ "$2" = 125 ] && [ "$(grep -c '^elfvm: ' "$D/$1.err")" != 1 ]; then
		why="${why:+$why; }$1: expected one 'elfvm: ' line, got: $(head -c 300 "$D/$1.err" | tr '\n' ' ')"
	fi
}

# kvm_starts N: QEMU was started N times with -accel kvm in this case.
kvm_starts() {
	k=$(grep -c ' kvm$' "$D/qemu.log" 2>/dev/null)
	[ "${k:-0}" = "$1" ] || why="${why:+$why; }expected $1 QEMU start(s) under KVM, got ${k:-0}"
}

# vmm_twice MODE PATTERN_A PATTERN_B: two verbose runs of hello under
# auto with FAKE_QEMU=MODE and one cache; each prints hello and exits 0,
# the first with a stderr line matching PATTERN_A, the second PATTERN_B.
vmm_twice() {
	vmm_run a FAKE_QEMU="$1" -- run --verbose --timeout "$VM_TIMEOUT" "$VMM_HELLO"
	vmm_expect a 0 $((VM_TIMEOUT * 1000)) "$2"
	vmm_run b FAKE_QEMU="$1" -- run --verbose --timeout "$VM_TIMEOUT" "$VMM_HELLO"
	vmm_expect b 0 $((VM_TIMEOUT * 1000)) "$3"
	for t in a b; do
		[ "$(cat "$D/$t.out")" = "hello, world" ] || why="${why:+$why; }$t: stdout: $(head -c 100 "$D/$t.out")"
	done
}

vmm_prologue() {
	next_case "$1" || return 1
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	[ -f "$VMM_HELLO" ] || fail "cannot run: $VMM_HELLO does not exist (make tests)"
	: >"$D/kvm" # opens read-write, as /dev/kvm does
	why=
	return 0
}

vmm_epilogue() {
	[ -z "$why" ] && pass
	fail "$why"
}

# A VM that QEMU stopped (a KVM internal error, then a paused QEMU) ends
# at once with 125, not at --timeout.
if vmm_prologue vmm/stopped-kvm-internal-error; then
	vmm_run a FAKE_QEMU=internal-error -- run --accel tcg --timeout 60 "$VMM_HELLO"
	vmm_expect a 125 4000 '^elfvm: the VM stopped: KVM internal error'
	vmm_epilogue
fi
# The same when only QMP tells (a STOP event, nothing on stderr).
if vmm_prologue vmm/stopped-qmp-event; then
	vmm_run a FAKE_QEMU=qmp-stop -- run --accel tcg --timeout 60 "$VMM_HELLO"
	vmm_expect a 125 4000 '^elfvm: the VM stopped: QEMU paused the VM'
	vmm_epilogue
fi
# A QEMU that is gone before elfvm answers its QMP greeting (a program
# that ends at once) ends the run with its record, not with SIGPIPE.
if vmm_prologue vmm/qmp-peer-gone; then
	vmm_run a FAKE_QEMU=qmp-deaf -- run --accel tcg --timeout 60 "$VMM_HELLO"
	vmm_expect a 0 4000 ''
	vmm_epilogue
fi
# QEMU dying without a record: 125 with QEMU's own line.
if vmm_prologue vmm/qemu-dies; then
	vmm_run a FAKE_QEMU=die -- run --accel tcg --timeout 60 "$VMM_HELLO"
	vmm_expect a 125 4000 '^elfvm: qemu failed: .*failing on purpose'
	vmm_epilogue
fi
# auto, a device that opens but a KVM that cannot run the kernel: the probe
# says so, the program runs under TCG; the answer is kept, so the second
# run starts no KVM at all.
if vmm_prologue vmm/auto-probe-says-tcg; then
	vmm_twice kvm-broken \
		'^elfvm: accelerator tcg: KVM cannot run this kernel: KVM internal error.*a probe boot' \
		'^elfvm: accelerator tcg: KVM cannot run this kernel: .*an earlier probe'
	kvm_starts 1
	vmm_epilogue
fi
# --accel kvm where KVM cannot run the kernel: 125 and one line, quickly.
if vmm_prologue vmm/kvm-asked-cannot-run; then
	vmm_run a FAKE_QEMU=kvm-broken -- run --accel kvm --timeout 60 "$VMM_HELLO"
	vmm_expect a 125 6000 '^elfvm: --accel kvm: KVM cannot run this kernel'
	[ -s "$D/a.out" ] && why="${why:+$why; }stdout is not empty"
	vmm_epilogue
fi
# auto, the probe passes but the run fails at boot under KVM: the same run
# goes on under TCG (the user sees the output), and TCG is kept.
if vmm_prologue vmm/auto-falls-back-to-tcg; then
	vmm_twice kvm-once \
		'^elfvm: KVM failed at boot \(KVM internal error.*running again under TCG' \
		'^elfvm: accelerator tcg: KVM cannot run this kernel: KVM internal error.*earlier'
	kvm_starts 2
	vmm_epilogue
fi
# No KVM device: auto is TCG without a probe; --accel kvm is 125.
if vmm_prologue vmm/no-kvm-device; then
	rm -f "$D/kvm"
	vmm_run a -- run --verbose --timeout "$VM_TIMEOUT" "$VMM_HELLO"
	vmm_expect a 0 $((VM_TIMEOUT * 1000)) "^elfvm: accelerator tcg: .*/kvm: No such file"
	vmm_run b -- run --accel kvm --timeout 60 "$VMM_HELLO"
	vmm_expect b 125 3000 '^elfvm: KVM is not available: .*/kvm: No such file'
	kvm_starts 0
	vmm_epilogue
fi

# QEMU never outlives elfvm, whatever signal ends it: elfvm runs a long
# sleep, gets SIG, and QEMU (the stand-in's pid: it execs the real one)
# must be gone within 3 s; elfvm ends with 128+SIG.  The real kernel says
# @@ctl, so TERM, INT and HUP are forwarded and the sleep dies of them
# (docs/terminal.md); KILL cannot be caught: PR_SET_PDEATHSIG does the
# work.  With the mute stand-in nobody reads elfvm.ctl, so elfvm kills
# QEMU at once and dies of SIG itself.
for signum in KILL:9 TERM:15 INT:2 HUP:1 TERM:15:mute INT:2:mute; do
	sig=${signum%%:*}
	mode=real suffix=
	case $signum in *:mute) mode=mute suffix=-nobody-listens signum=${signum%:mute} ;; esac
	vmm_prologue "vmm/qemu-dies-with-elfvm-SIG$sig$suffix" || continue
	[ -x "$BUSYBOX" ] || fail "cannot run: $BUSYBOX is missing"
	# A shell's background job ignores SIGINT; perl puts it back.
	FAKE_QEMU=$mode ELFVM_QEMU="$FAKE_QEMU_SH" XDG_CACHE_HOME="$D/cache" FAKE_QEMU_LOG="$D/qemu.log" \
		perl -e '$SIG{$_} = "DEFAULT" for qw(INT HUP TERM); exec @ARGV or die' \
		"$ELFVM" run --accel tcg --timeout 60 "$BUSYBOX" sleep 30 \
		</dev/null >"$D/a.out" 2>"$D/a.err" &
	epid=$!
	i=0
	while [ ! -s "$D/qemu.log" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	qpid=$(cut -d' ' -f1 "$D/qemu.log" 2>/dev/null)
	[ -n "$qpid" ] || { kill -9 "$epid"; fail "QEMU did not start within 10 s"; }
	sleep 1
	kill -s "$sig" "$epid"
	wait "$epid"
	est=$?
	i=0
	alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^[ZX]'; }
	while alive "$qpid" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	if alive "$qpid"; then
		kill -9 "$qpid"
		why="QEMU ($qpid) still runs 3 s after elfvm got SIG$sig"
	fi
	want=$((128 + ${signum#*:}))
	[ "$est" = "$want" ] || why="${why:+$why; }elfvm exited $est, expected $want (died of SIG$sig)"
	vmm_epilogue
done
