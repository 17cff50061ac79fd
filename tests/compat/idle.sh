# SPDX-License-Identifier: MIT
# tests/compat/idle.sh: a program that waits must leave the host idle
# (DESIGN.md §7: an idle CPU halts, it never spins).  tests/guest/idle.c
# waits 2 s in nanosleep, a condition variable, a pipe read and pause();
# each case runs it under elfvm alone (no native run) and reads the CPU
# time of the whole elfvm process tree (its cutime + cstime, as the shell
# that waited for it sees them in /proc/$$/stat).  Booting costs about
# 0.3 s under TCG; a waiting VM must stay under 1 s in all.  The control
# case busy-loops for 2 s and must cost at least 1 s, so that a measurement
# that misses the VM (QEMU not a waited-for child) cannot pass silently.
# Sourced by tests/run.sh inside all_cases.  One line per case:
#     idle_case NAME MIN_CS MAX_CS MODE
# MIN_CS/MAX_CS bound the CPU time in hundredths of a second.

idle_case() {
	next_case "$1" || return 0
	lo=$2 hi=$3 mode=$4
	prog=build/guest/idle.gcc-static
	[ -f "$prog" ] || fail "cannot run: $prog does not exist (make tests)"
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	[ -r /proc/self/stat ] || fail "cannot run: no /proc/self/stat to read CPU times from"
	# shellcheck disable=SC2016
	D=$D sh -c '"$@" </dev/null >"$D/vm.out" 2>"$D/vm.err"; st=$?
		read -r s </proc/$$/stat; set -- ${s##*) }
		echo "$st ${14} ${15}"' sh \
		timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --timeout "$VM_TIMEOUT" \
		--log "$D/log" "$prog" "$mode" 2000 >"$D/times"
	read -r st ut stt <"$D/times"
	hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	cs=$(((ut + stt) * 100 / hz))
	why=
	[ "$st" = 0 ] || why="expected status 0 got $st ($(grep -m 1 '^elfvm:' "$D/vm.err"))"
	[ "$(cat "$D/vm.out")" = "ok $mode waited" ] ||
		why="${why:+$why; }stdout: $(head -c 200 "$D/vm.out" | tr '\n' ' ')"
	[ "$cs" -ge "$lo" ] && [ "$cs" -le "$hi" ] ||
		why="${why:+$why; }host CPU time $((cs / 100)).$((cs % 100 / 10))$((cs % 10)) s, expected $lo..$hi hundredths"
	[ -z "$why" ] && pass
	fail "$why"
}

idle_case idle/nanosleep 0 100 sleep
idle_case idle/cond_wait 0 100 futex
idle_case idle/pipe_read 0 100 pipe
idle_case idle/pause 0 100 pause
idle_case idle/spin-control 100 100000 spin
