# SPDX-License-Identifier: MIT
# tests/compat/analyze.sh: `elfvm analyze` finds every system call a run
# makes (docs/analyze.md).  Each program runs once under `elfvm run
# --profile FILE` (the kernel's counters, docs/trim.md) when this
# elfvm has it, else under `--strace`, whose log lines `NAME(args) = ret`,
# numbered with the kernel's own name table (build/gen/syscall_names.h),
# become the same `NAME NUMBER COUNT` file.  `elfvm analyze --profile`
# must cover it: no `# MISSED` line, status 0.  The PASS line shows the
# static/dynamic ratio.  Cases: analyze/guest/P.V for a selection of guest
# programs in every build variant, analyze/debian/NAME for Debian programs
# of the compat tests, analyze/large-node (node in seconds),
# analyze/errors (bad input: status 125 and one line; MISSED: status 3;
# --json against the text).  Sourced by tests/run.sh inside all_cases.

AN_ELFVM=$ROOT/build/elfvm

# analyze_profile LOG OUT: the strace log's calls as a profile.
analyze_profile() {
	sed -n 's/^\[\([0-9]*\)\] = "\([a-z0-9_]*\)",$/\2 \1/p' "$ROOT/build/gen/syscall_names.h" >"$D/names"
	awk 'NR == FNR { nr[$1] = $2; next }
	     match($0, /^[a-z_][a-z0-9_]*\(/) { n = substr($0, 1, RLENGTH - 1); if (n in nr) c[n]++ }
	     END { print "# from an elfvm run --strace log"; for (n in c) print n, nr[n], c[n] }' \
		"$D/names" "$1" >"$2"
}

# analyze_check OUT: every line of analyze's text output has its format.
analyze_check() {
	bad=$(grep -Ev '^([a-z0-9_]+ [0-9]+ (static|dynamic|both) [0-9]+|unknown 0x[0-9a-f]+ [^ ]+ /[^ ]+|# .*)$' "$1" | head -n 1)
	[ -z "$bad" ] || fail "a line of analyze's output has no known format: $bad"
}

# analyze_case NAME [--libc stock] PROG ARGS...: PROG's run under
# --strace, then analyze, both with the option when given.
analyze_case() {
	next_case "$1" || return 0
	shift
	libc=
	[ "$1" = --libc ] && libc="--libc $2" && shift 2
	run_libc=$libc
	case $ELFVM in */fake_elfvm.sh) run_libc= ;; esac
	[ -x "$AN_ELFVM" ] || fail "cannot run: $AN_ELFVM is not an executable (make)"
	[ -f "$1" ] || fail "cannot run: $1 does not exist (make tests)"
	if "$ELFVM" run --help 2>/dev/null | grep -q -- '--profile FILE'; then
		how="--profile $D/profile"
	else
		how=--strace
	fi
	# shellcheck disable=SC2086 # $run_libc and $how are words
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run $run_libc $how --timeout "$VM_TIMEOUT" --log "$D/log" "$@" \
		</dev/null >"$D/vm.out" 2>"$D/vm.err"
	st=$?
	[ "$st" = 0 ] || fail "the run under $how exited $st: $(grep -m 1 . "$D/vm.err")"
	[ "$how" = --strace ] && analyze_profile "$D/log" "$D/profile"
	# shellcheck disable=SC2086
	"$AN_ELFVM" analyze $libc --profile "$D/profile" "$@" >"$D/out" 2>"$D/err"
	ast=$?
	analyze_check "$D/out"
	# The fake elfvm (tests/fake_elfvm.sh) has no --strace: no profile.
	case $ELFVM in */fake_elfvm.sh) [ "$ast" = 0 ] && pass ;; esac
	[ "$(grep -vc '^#' "$D/profile")" -ge 3 ] || fail "fewer than 3 system calls in the profile ($how)"
	missed=$(grep '^# MISSED' "$D/out" | sed 's/^# MISSED \([^ ]*\).*/\1/' | xargs)
	[ -z "$missed" ] || fail "seen at run time, not found statically: $missed (status $ast)"
	[ "$ast" = 0 ] || fail "analyze exited $ast: $(grep -m 1 . "$D/err")"
	ratio=$(sed -n 's/^# profile .*static\/dynamic ratio \(.*\)$/\1/p' "$D/out")
	[ -n "$ratio" ] || fail "no static/dynamic ratio in analyze's summary"
	CASE="$CASE (static/dynamic $ratio)"
	pass
}

for p in hello files_rw pthreads net_tcp signals epoll; do
	for v in $VARIANTS; do
		analyze_case "analyze/guest/$p.$v" "build/guest/$p.$v"
	done
done
# Misses found once and fixed: musl's setuid family through __setxid, and
# read's number reused from a test/je in musl's __stdio_read.
analyze_case analyze/guest/cred.musl-static build/guest/cred.musl-static
analyze_case analyze/guest/net_ifaddrs.musl-static build/guest/net_ifaddrs.musl-static
# The host's own musl, stripped: __syscall_cp_c found by its layout.
analyze_case analyze/guest/files_rw.musl-dyn-stock --libc stock build/guest/files_rw.musl-dyn
analyze_case analyze/guest/net_tcp.musl-dyn-stock --libc stock build/guest/net_tcp.musl-dyn
analyze_case analyze/debian/busybox-ls "$BUSYBOX" ls -la /
analyze_case analyze/debian/ls /usr/bin/ls -la /
analyze_case analyze/debian/sort /usr/bin/sort --parallel=2 /usr/share/common-licenses/GPL-3
analyze_case analyze/debian/perl /usr/bin/perl -e 'print "ok\n"'
analyze_case analyze/debian/python3 /usr/bin/python3 -c pass

# A large program: node (86 MB of code) in seconds, every site counted.
analyze_large() {
	next_case "$1" || return 0
	[ -x "$AN_ELFVM" ] || fail "cannot run: $AN_ELFVM is not an executable (make)"
	[ -x "$2" ] || fail "cannot run: $2 is missing (tools/deps.sh installs it)"
	s=$(date +%s)
	"$AN_ELFVM" analyze "$2" >"$D/out" 2>"$D/err"
	ast=$? e=$(($(date +%s) - s))
	[ "$ast" = 0 ] || fail "analyze exited $ast: $(grep -m 1 . "$D/err")"
	[ "$e" -lt 60 ] || fail "analyze took $e s (want < 60)"
	analyze_check "$D/out"
	n=$(sed -n 's/^# syscall instructions examined: \([0-9]*\).*/\1/p' "$D/out")
	c=$(sed -n 's/^# wrapper call sites examined: \([0-9]*\).*/\1/p' "$D/out")
	t=$(sed -n 's/^# time: //p' "$D/out")
	[ "${n:-0}" -gt 100 ] || fail "only '$n' syscall instructions found in $2"
	CASE="$CASE ($t, $n syscall instructions and $c wrapper calls examined)"
	pass
}
analyze_large analyze/large-node /usr/bin/node

# analyze_bad WHAT STATUS ARGS...: analyze ARGS exits STATUS; 125 with
# exactly one "elfvm analyze: " line on stderr and nothing on stdout.
analyze_bad() {
	what=$1 want=$2
	shift 2
	"$AN_ELFVM" analyze "$@" >"$D/bad.out" 2>"$D/bad.err"
	got=$?
	[ "$got" = "$want" ] || fail "$what: expected status $want got $got: $(head -c 200 "$D/bad.err")"
	[ "$want" = 125 ] || return 0
	[ "$(wc -l <"$D/bad.err")" = 1 ] && grep -q '^elfvm analyze: ' "$D/bad.err" ||
		fail "$what: expected one 'elfvm analyze: ' line on stderr, got: $(head -c 200 "$D/bad.err")"
	[ -s "$D/bad.out" ] && fail "$what: stdout is not empty"
	return 0
}

analyze_errors() {
	next_case "$1" || return 0
	[ -x "$AN_ELFVM" ] || fail "cannot run: $AN_ELFVM is not an executable (make)"
	h=build/guest/hello.gcc-static
	[ -f $h ] || fail "cannot run: $h does not exist (make tests)"
	analyze_bad "a missing program" 125 /nonexistent/prog
	printf 'not an elf\n' >"$D/text" && chmod +x "$D/text"
	analyze_bad "a text file" 125 "$D/text"
	head -c 3000 $h >"$D/cut" && chmod +x "$D/cut"
	analyze_bad "a truncated ELF" 125 "$D/cut"
	analyze_bad "a missing profile" 125 --profile /nonexistent/profile $h
	printf 'read 0 5\nwrite one 3\n' >"$D/malformed"
	analyze_bad "a malformed profile" 125 --profile "$D/malformed" $h
	analyze_bad "an unknown option" 125 --frobnicate $h
	# A call the program cannot make: MISSED, status 3, marked dynamic.
	printf '# NAME NUMBER COUNT\nwrite 1 2\nkexec_file_load 320 1\n' >"$D/missed"
	analyze_bad "a profile with a call not in the program" 3 --profile "$D/missed" $h
	grep -qx '# MISSED kexec_file_load 320: seen at run time, not found statically' "$D/bad.out" ||
		fail "no MISSED line for kexec_file_load"
	grep -qx 'kexec_file_load 320 dynamic 0' "$D/bad.out" || fail "kexec_file_load not listed as dynamic"
	grep -Eqx 'write 1 both [1-9][0-9]*' "$D/bad.out" || fail "write not listed as both"
	# ARGS are ignored; --json says what the text says.
	"$AN_ELFVM" analyze $h >"$D/text.out" && "$AN_ELFVM" analyze $h one two >"$D/args.out" ||
		fail "analyze $h failed"
	[ "$(grep -v '^# time' "$D/text.out")" = "$(grep -v '^# time' "$D/args.out")" ] ||
		fail "ARGS changed the output"
	"$AN_ELFVM" analyze --json $h >"$D/json" || fail "analyze --json failed"
	jq -r '.syscalls[] | "\(.name) \(.number) \(.source) \(.sites)"' "$D/json" >"$D/json.lines" ||
		fail "analyze --json is not JSON jq reads"
	grep -Ev '^(#|unknown )' "$D/text.out" | cmp -s - "$D/json.lines" ||
		fail "--json's syscalls differ from the text's"
	[ "$(jq '.unknown | length' "$D/json")" = "$(grep -c '^unknown ' "$D/text.out")" ] ||
		fail "--json's unknown sites differ from the text's"
	[ "$(jq '.summary.kernel.text > 0 and .summary.kernel.loaded >= .summary.kernel.text' "$D/json")" = true ] ||
		fail "--json has no kernel sizes"
	grep -Eq '^# full kernel: text [0-9]+ bytes, loaded [0-9]+ bytes' "$D/text.out" ||
		fail "no '# full kernel' summary line"
	pass
}
analyze_errors analyze/errors

# --sizes: the kernel trimmed to the program's list (built, or taken from
# the cache) and its sizes beside the full kernel's, smaller; --json the
# same numbers.
analyze_sizes() {
	next_case "$1" || return 0
	h=build/guest/hello.gcc-static
	[ -f "$h" ] || fail "cannot run: $h does not exist (make tests)"
	"$AN_ELFVM" analyze --sizes $h >"$D/out" 2>"$D/err" || fail "analyze --sizes failed: $(head -n 1 "$D/err")"
	line=$(grep '^# trimmed kernel (' "$D/out") || fail "no '# trimmed kernel' line: $(grep '^# trimmed' "$D/out")"
	t=$(printf '%s\n' "$line" | sed -n 's/.*\.text \([0-9]*\) of \([0-9]*\) bytes.*/\1 \2/p')
	[ -n "$t" ] && [ "${t% *}" -lt "${t#* }" ] || fail "the trimmed .text is not smaller: $line"
	k=$(sed -n 's/^# trimmed kernel file: //p' "$D/out")
	[ -f "$k" ] || fail "no trimmed kernel file at '$k'"
	nm "$k" | grep -q ' sys_mkdir$' && fail "sys_mkdir is still in $k, which hello never calls"
	"$AN_ELFVM" analyze --sizes --json $h >"$D/json" || fail "analyze --sizes --json failed"
	[ "$(jq '.summary.trimmed_kernel.text < .summary.trimmed_kernel.full_text' "$D/json")" = true ] ||
		fail "--json has no smaller trimmed kernel"
	pass
}
analyze_sizes analyze/sizes
