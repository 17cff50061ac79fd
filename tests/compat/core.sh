# SPDX-License-Identifier: MIT
# tests/compat/core.sh: `elfvm run --core FILE` writes an ELF core file
# that Debian's gdb reads (docs/debugging.md), for tests/guest/core_dump.c
# built statically and dynamically with glibc and musl.
#   core/V/null      a fault three calls deep: gdb's bt shows crash_in
#                    three times and main, `print local` in frame 1 is 14,
#                    a global reads 42, the signal is SIGSEGV
#   core/V/abort     abort(): SIGABRT, bt shows raise or abort, or the vDSO
#                    entry libc-aware's raise calls (glibc also main; musl
#                    has no unwind tables past raise, as in a core Linux
#                    writes of the same program)
#   core/V/lib       a fault inside the C library (strlen): bt shows
#                    strlen and main
#   core/V/threads   four threads in the core, each with a frame
#   core/limits      RLIMIT_CORE 0 writes no core (and says so); 4096
#                    cuts the file there, as Linux does
#   core/dontdump    a MADV_DONTDUMP page's bytes are not in the core (gdb
#                    reads zeros there), a global's are
#   core/errors      --core in a directory that does not exist: 125 and
#                    one line; a clean exit leaves no file behind
# gdb runs as the command line elfvm prints with the core (for dynamic musl
# programs, which run with libc-aware's libc.so, it points gdb at it).  Sourced by tests/run.sh inside all_cases.

# core_skip: the fake elfvm (native runs) writes no cores; no gdb, no test.
core_skip() {
	case $ELFVM in */fake_elfvm.sh) pass ;; esac
	command -v gdb >/dev/null 2>&1 || fail "gdb is not installed (tools/deps.sh installs it)"
}

# core_run V HOW: core_dump.V HOW under --core $D/core; st, $D/out, $D/err.
core_run() {
	prog=$ROOT/build/guest/core_dump.$1
	[ -f "$prog" ] || fail "$prog does not exist (make tests)"
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --timeout "$VM_TIMEOUT" --core "$D/core" \
		"$prog" "$2" </dev/null >"$D/out" 2>"$D/err"
	st=$?
}

# core_gdb COMMANDS…: gdb in batch mode with COMMANDS, run as the command
# line elfvm printed after "read it with: " (for a dynamic musl program it
# points gdb at libc-aware's libc.so), its output in $D/gdb.
core_gdb() {
	hint=$(sed -n 's/^elfvm: core dumped to .*; read it with: //p' "$D/err")
	[ -n "$hint" ] || fail "elfvm printed no gdb command line: $(head -c 300 "$D/err")"
	cmds=$*
	eval "set -- $hint"
	shift # gdb
	eval "timeout -k 5 60 gdb -batch -nx $cmds \"\$@\"" >"$D/gdb" 2>&1
}

core_has() {
	grep -q "$1" "$D/gdb" || fail "gdb's output lacks '$1': $(grep -v '^warning' "$D/gdb" | head -c 600)"
}

core_case() {
	next_case "core/$1/$2" || return 0
	core_skip
	v=$1
	how=$2
	core_run "$v" "$how"
	case $how in abort) want=134 ;; *) want=139 ;; esac
	[ "$st" = "$want" ] || fail "expected status $want got $st: $(head -c 300 "$D/err")"
	grep -q "^core_dump $how" "$D/out" || fail "the program's line is missing: $(head -c 200 "$D/out")"
	[ -s "$D/core" ] || fail "no core file: $(head -c 300 "$D/err")"
	grep -q "core dumped to $D/core" "$D/err" || fail "no 'core dumped' line: $(head -c 300 "$D/err")"
	case $how in
	null)
		core_gdb -ex bt -ex "'frame 1'" -ex "'print local'" -ex "'print global_counter'"
		core_has "SIGSEGV"
		[ "$(grep -c '^#[0-9].* crash_in ' "$D/gdb")" -ge 3 ] || fail "bt lacks three crash_in frames: $(head -c 600 "$D/gdb")"
		core_has "^#[0-9].* main "
		core_has '^\$1 = 14$'
		core_has '^\$2 = 42$'
		;;
	abort)
		core_gdb -ex bt
		core_has "SIGABRT"
		grep -Eq '^#[0-9].* (raise|abort|__restore_sigs|__pthread_kill_implementation|__elfvm_syscall) ' "$D/gdb" ||
			fail "bt shows neither raise nor abort: $(head -c 600 "$D/gdb")"
		case $v in gcc-*) core_has "^#[0-9].* main " ;; esac
		;;
	lib)
		core_gdb -ex bt
		core_has "SIGSEGV"
		core_has "^#0 .*strlen"
		core_has "^#1 .* main "
		;;
	threads)
		core_gdb -ex "'info threads'" -ex "'thread apply all bt 1'"
		n=$(grep -Ec '^[* ] +[0-9]+ +(Thread|LWP)' "$D/gdb")
		[ "$n" = 4 ] || fail "expected 4 threads in the core, gdb lists $n: $(head -c 600 "$D/gdb")"
		core_has "crash_in"
		;;
	esac
	pass
}

core_limits_case() {
	next_case core/limits || return 0
	core_skip
	core_run gcc-static nocore
	[ "$st" = 134 ] || fail "RLIMIT_CORE 0: expected status 134 got $st"
	[ ! -e "$D/core" ] || fail "RLIMIT_CORE 0: a core file was written"
	grep -q "no core written" "$D/err" || fail "RLIMIT_CORE 0: no line says so: $(head -c 200 "$D/err")"
	ls "$D" | grep -q 'core\.elfvm-' && fail "RLIMIT_CORE 0: the temporary file stayed"
	core_run musl-static small
	[ "$st" = 134 ] || fail "RLIMIT_CORE 4096: expected status 134 got $st"
	size=$(stat -c %s "$D/core" 2>/dev/null)
	[ "$size" = 4096 ] || fail "RLIMIT_CORE 4096: the core has ${size:-no} bytes"
	pass
}

core_dontdump_case() {
	next_case core/dontdump || return 0
	core_skip
	core_run gcc-dyn dontdump
	[ "$st" = 139 ] || fail "expected status 139 got $st"
	core_gdb -ex "'print *secret_page@6'" -ex "'print global_counter'"
	# The page is a PT_LOAD without bytes: gdb reads it as zeros, as it
	# reads a core Linux wrote.
	grep -q secret "$D/gdb" && fail "gdb read the secret: $(grep secret "$D/gdb")"
	grep -q secret "$D/core" && fail "the core holds the MADV_DONTDUMP page's bytes"
	core_has '^\$2 = 42$'
	pass
}

core_errors_case() {
	next_case core/errors || return 0
	core_skip
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --core "$D/no/such/dir/core" \
		"$ROOT/build/guest/hello.gcc-static" </dev/null >"$D/out" 2>"$D/err"
	st=$?
	[ "$st" = 125 ] && [ "$(wc -l <"$D/err")" = 1 ] && grep -q "cannot create a file there" "$D/err" ||
		fail "a missing directory: status $st: $(head -c 300 "$D/err")"
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --core "$D/core" \
		"$ROOT/build/guest/hello.gcc-static" </dev/null >"$D/out" 2>"$D/err"
	st=$?
	[ "$st" = 0 ] || fail "hello under --core: status $st"
	[ -z "$(ls "$D" | grep core)" ] || fail "a clean exit left $(ls "$D" | grep core)"
	pass
}

for v in gcc-static gcc-dyn musl-static musl-dyn; do
	for how in null abort lib; do
		core_case "$v" "$how"
	done
done
core_case gcc-dyn threads
core_case musl-static threads
core_limits_case
core_dontdump_case
core_errors_case
