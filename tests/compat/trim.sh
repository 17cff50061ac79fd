# SPDX-License-Identifier: MIT
# tests/compat/trim.sh: syscall profiles and trimmed kernels (docs/trim.md).
#   trim/profile        --profile and --strace of the same run agree: the
#                       same syscalls, each as many times as it was traced
#                       (exit_group, which never returns to be traced,
#                       counted once), and the header's total adds up
#   trim/profile-crash  a program killed by a signal still gets its profile
#   trim/profile-enosys numbers past Linux's table share one counter, a
#                       comment line apart from the header's totals
#   trim/cut            make SYSCALLS=FILE with busybox true's profile: the
#                       trimmed kernel lacks sys_mkdir (nm), busybox mkdir
#                       gets -ENOSYS there, and the log says it was cut
#   trim/bad-list       make SYSCALLS= with a name that is no syscall, or a
#                       number past Linux's table, fails with one clear line
#   trim/dynamic/NAME   --trim=dynamic gives the full kernel's stdout and
#                       status (guest programs, busybox, ls)
#   trim/cache          the second --trim=dynamic of a program boots the
#                       cached kernel (--verbose says so)
#   trim/static/NAME, trim/both/NAME  --trim=static and --trim=both: the
#                       full kernel's output, or, while elfvm has no
#                       analyze verb, status 125 and one line saying so
#   trim/opts           --trim with --kernel, and --trim=nonsense, are
#                       refused with status 125
# Every trimmed kernel lands in the suite's cache ($XDG_CACHE_HOME) and in
# build/trim/KEY/, where make links it once per list.  Sourced by
# tests/run.sh inside all_cases.

# trim_fake: the fake elfvm (tests/fake_elfvm.sh) runs programs natively and
# has neither a kernel to trim nor profiles: nothing to check there.
trim_fake() {
	case $ELFVM in */fake_elfvm.sh) pass ;; esac
}

# trim_run OUT ARGS…: elfvm run ARGS with stdin from /dev/null, stdout in
# $D/OUT.out, stderr in $D/OUT.err, status in st.
trim_run() {
	o=$1
	shift
	timeout -k 5 $((VM_TIMEOUT + 120)) "$ELFVM" run --timeout "$VM_TIMEOUT" "$@" \
		</dev/null >"$D/$o.out" 2>"$D/$o.err"
	st=$?
}

# trim_profile_case NAME PROG ARGS…
trim_profile_case() {
	next_case "$1" || return 0
	shift
	trim_fake
	[ -f "$1" ] || fail "cannot run: $1 does not exist (make tests)"
	trim_run vm --strace --log "$D/log" --profile "$D/prof" "$@"
	[ "$st" = 0 ] || fail "expected status 0 got $st: $(head -c 300 "$D/vm.err")"
	[ -s "$D/prof" ] || fail "--profile wrote no file"
	head -n 1 "$D/prof" | grep -q '^# ' || fail "the profile's first line is not a '#' comment"
	# name count, sorted by name: traced calls, then profiled ones.
	sed -n 's/^\([a-z0-9_]*\)(.*) = -\{0,1\}[0-9]*\( \[direct\]\)\{0,1\}$/\1/p' "$D/log" |
		sort | uniq -c | awk '{ print $2, $1 }' >"$D/traced"
	grep -v '^#' "$D/prof" | awk '$1 != "exit_group" && $1 != "exit" { print $1, $3 }' |
		sort >"$D/profiled"
	[ -s "$D/traced" ] || fail "no --strace lines in the log"
	cmp -s "$D/traced" "$D/profiled" || fail "profile and strace differ (traced < > profiled):" \
		"$(diff "$D/traced" "$D/profiled" | grep '^[<>]' | head -5)"
	grep -q '^exit_group 231 1$' "$D/prof" || fail "exit_group is not counted once"
	awk 'BEGIN { prev = -1 } !/^#/ && NF != 3 { exit 1 } !/^#/ && $2 + 0 <= prev { exit 1 } !/^#/ { prev = $2 }' \
		"$D/prof" || fail "profile lines are not NAME NUMBER COUNT sorted by number"
	total=$(grep -v '^#' "$D/prof" | awk '{ s += $3 } END { print s + 0 }')
	head -n 1 "$D/prof" | grep -q ": $total calls," ||
		fail "the header's total is not the sum of the counts ($total): $(head -n 1 "$D/prof")"
	pass
}

trim_crash_case() {
	next_case trim/profile-crash || return 0
	trim_fake
	trim_run vm --profile "$D/prof" build/guest/crash.gcc-static abort
	[ "$st" = 134 ] || fail "expected status 134 (SIGABRT) got $st"
	grep -q '^write 1 ' "$D/prof" || fail "the profile of the killed program lacks its write"
	pass
}

# enosys calls 1000, 100000, 0x7fffffff and -1: one shared counter.
trim_enosys_case() {
	next_case trim/profile-enosys || return 0
	trim_fake
	trim_run vm --profile "$D/prof" build/guest/enosys.gcc-static
	[ "$st" = 0 ] || fail "expected status 0 got $st"
	grep -q '^# >=512 4 ' "$D/prof" || fail "no '# >=512 4' line: $(grep -m 1 '>=' "$D/prof")"
	head -n 1 "$D/prof" | grep -q '; 4 calls to numbers that are no syscall$' ||
		fail "the header does not count them apart: $(head -n 1 "$D/prof")"
	pass
}

# trim_kernel_for LIST: make's trimmed kernel for LIST, its path in K.
trim_kernel_for() {
	make -s -C "$ROOT" SYSCALLS="$1" trim >"$D/make.out" 2>"$D/make.err" ||
		fail "make SYSCALLS=$1 failed: $(tail -n 3 "$D/make.err")"
	K=$ROOT/$(sed -n 's/^trimmed kernel: //p' "$D/make.out")
	[ -f "$K" ] || fail "make SYSCALLS=… trim named no kernel: $(head -n 2 "$D/make.out")"
}

trim_cut_case() {
	next_case trim/cut || return 0
	trim_fake
	trim_run prof --profile "$D/prof" "$BUSYBOX" true
	[ "$st" = 0 ] || fail "busybox true: status $st"
	trim_kernel_for "$D/prof"
	nm "$ROOT/build/kernel.elf" | grep -q ' sys_mkdir$' || fail "the full kernel lacks sys_mkdir"
	nm "$K" | grep -q ' sys_mkdir$' && fail "sys_mkdir is still in the trimmed kernel $K"
	nm "$K" | grep -q ' sys_getuid$' || fail "sys_getuid (busybox true calls it) was cut"
	trim_run vm --kernel "$K" --log "$D/log" "$BUSYBOX" true
	[ "$st" = 0 ] || fail "busybox true under its own trimmed kernel: status $st"
	trim_run vm --kernel "$K" --log "$D/log" "$BUSYBOX" mkdir /tmp/trim-test-dir
	[ "$st" = 1 ] || fail "busybox mkdir under a kernel without mkdir: status $st, expected 1"
	grep -q '^syscall mkdir (83) was cut from this trimmed kernel: -ENOSYS$' "$D/log" ||
		fail "the log does not say mkdir was cut: $(grep -m 2 mkdir "$D/log")"
	pass
}

trim_bad_list_case() {
	next_case trim/bad-list || return 0
	trim_fake
	printf 'read write\nfrobnicate # a typo\n' >"$D/list"
	make -s -C "$ROOT" SYSCALLS="$D/list" trim >"$D/make.out" 2>"$D/make.err" &&
		fail "make accepted a list naming frobnicate"
	grep -q "no syscall named 'frobnicate'" "$D/make.err" ||
		fail "no clear error: $(head -n 2 "$D/make.err")"
	printf 'read 0 static 1\nsyscall_9999 9999 static 1\n' >"$D/list2"
	make -s -C "$ROOT" SYSCALLS="$D/list2" trim >"$D/make.out" 2>"$D/make.err" &&
		fail "make accepted a list with number 9999"
	grep -q "no syscall number 9999" "$D/make.err" ||
		fail "no clear error: $(head -n 2 "$D/make.err")"
	pass
}

# trim_same_case NAME PROG ARGS…: --trim=dynamic against the full kernel.
trim_same_case() {
	next_case "$1" || return 0
	shift
	trim_fake
	[ -f "$1" ] || fail "cannot run: $1 does not exist"
	trim_run full "$@"
	fst=$st
	trim_run trim --trim=dynamic --verbose "$@"
	grep -q '^elfvm: trimmed kernel ' "$D/trim.err" ||
		fail "no trimmed kernel (status $st): $(grep -m 2 'elfvm' "$D/trim.err")"
	[ "$st" = "$fst" ] || fail "status $st under the trimmed kernel, $fst under the full one:" \
		"$(grep -m 3 -e 'cut from' -e '^elfvm:' "$D/trim.err")"
	cmp -s "$D/full.out" "$D/trim.out" || fail "stdout differs from the full kernel's at line" \
		"$(cmp "$D/full.out" "$D/trim.out" 2>&1 | sed -n 's/.* line //p')"
	pass
}

trim_cache_case() {
	next_case trim/cache || return 0
	trim_fake
	trim_run one --trim=dynamic --verbose build/guest/hello.musl-static
	[ "$st" = 0 ] || fail "first run: status $st"
	t0=$(date +%s%N)
	trim_run two --trim=dynamic --verbose build/guest/hello.musl-static
	t1=$(date +%s%N)
	[ "$st" = 0 ] || fail "second run: status $st"
	grep -q '^elfvm: trimmed kernel .*, from the cache: ' "$D/two.err" ||
		fail "the second run did not use the cache: $(grep -m 1 'trimmed kernel' "$D/two.err")"
	grep -q 'elfvm: make:' "$D/two.err" && fail "the second run ran make"
	echo "second run $(((t1 - t0) / 1000000)) ms" >"$D/timing"
	pass
}

# trim_analyzed_case MODE NAME PROG ARGS…: --trim=MODE (static or both)
# gives the full kernel's stdout and status; while elfvm has no analyze
# verb, status 125 and one line saying so.
trim_analyzed_case() {
	m=$1
	next_case "$2" || return 0
	shift 2
	trim_fake
	trim_run full "$@"
	fst=$st
	trim_run trim --trim="$m" "$@"
	if grep -q 'needs `elfvm analyze`' "$D/trim.err"; then
		[ "$st" = 125 ] || fail "status $st without analyze, expected 125"
		[ "$(wc -l <"$D/trim.err")" = 1 ] || fail "more than one line: $(head -c 300 "$D/trim.err")"
		pass
	fi
	[ "$st" = "$fst" ] || fail "--trim=$m: status $st, $fst under the full kernel:" \
		"$(head -c 300 "$D/trim.err")"
	cmp -s "$D/full.out" "$D/trim.out" || fail "stdout differs from the full kernel's"
	pass
}

trim_opts_case() {
	next_case trim/opts || return 0
	trim_fake
	trim_run a --trim --kernel "$ROOT/build/kernel.elf" build/guest/hello.gcc-static
	[ "$st" = 125 ] && grep -q 'not with --image or --kernel' "$D/a.err" ||
		fail "--trim --kernel: status $st: $(head -c 200 "$D/a.err")"
	trim_run b --trim=nonsense build/guest/hello.gcc-static
	[ "$st" = 125 ] && grep -q "bad --trim 'nonsense'" "$D/b.err" ||
		fail "--trim=nonsense: status $st: $(head -c 200 "$D/b.err")"
	pass
}

trim_profile_case trim/profile build/guest/files_rw.gcc-static
trim_crash_case
trim_enosys_case
trim_cut_case
trim_bad_list_case
for p in hello files_rw pthreads net_tcp signals epoll; do
	trim_same_case "trim/dynamic/$p" "build/guest/$p.gcc-static"
done
trim_same_case trim/dynamic/pthreads.musl-dyn build/guest/pthreads.musl-dyn
trim_same_case trim/dynamic/busybox "$BUSYBOX" ls -l /etc
trim_same_case trim/dynamic/ls /bin/ls /
trim_cache_case
trim_analyzed_case static trim/static/hello build/guest/hello.gcc-static
trim_analyzed_case both trim/both/files_rw build/guest/files_rw.musl-dyn
trim_analyzed_case both trim/both/busybox "$BUSYBOX" ls -l /etc
trim_opts_case
