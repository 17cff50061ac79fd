# SPDX-License-Identifier: MIT
# tests/compat/vdso_strace.sh: the clocks take the vDSO's fast path.
# tests/guest/vdso.c reads clock_gettime, gettimeofday and time hundreds of
# thousands of times; under `elfvm run --strace` not one of those may reach
# the kernel as a syscall.  The only clock syscalls allowed are the two
# clock_gettime(12345, …) = -22 that the program provokes on purpose (an
# invalid clock falls back to the real syscall), and they must be there:
# they prove the strace was taken.  One case per build variant, named
# vdso-strace/VARIANT.  Sourced by tests/run.sh inside all_cases.

# vdso_strace_case NAME PROG
vdso_strace_case() {
	next_case "$1" || return 0
	strace_run "$2"
	# Checked before the status: without the vDSO, strace'ing every read
	# is slow enough to hit the timeout, and this says why.
	grep -E '^(clock_gettime|gettimeofday|time)\(' "$D/log" >"$D/clock_syscalls" 2>/dev/null
	grep -v '^clock_gettime(0x3039, .*) = -22$' "$D/clock_syscalls" >"$D/unexpected"
	if [ -s "$D/unexpected" ]; then
		fail "$(wc -l <"$D/unexpected") clock syscalls bypassed the vDSO (status $st), first: $(head -n 1 "$D/unexpected")"
	fi
	[ "$st" = 0 ] || fail "expected status 0 got $st: $(cat "$D/vm.out" "$D/vm.err" | grep -m 1 -v '^ok')"
	# The fake elfvm (tests/fake_elfvm.sh) runs the program natively and
	# has no --strace: that the program ran and passed is all it can show.
	case $ELFVM in */fake_elfvm.sh) pass ;; esac
	n=$(grep -c '^clock_gettime(0x3039, .*) = -22$' "$D/clock_syscalls")
	[ "$n" = 2 ] || fail "expected the 2 invalid-clock fallbacks in the --strace log, found $n"
	pass
}

for v in $VARIANTS; do
	vdso_strace_case "vdso-strace/$v" "build/guest/vdso.$v"
done
