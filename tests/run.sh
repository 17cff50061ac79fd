#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/run.sh: the whole test suite, run by `make test` from the repository
# root once everything is built.  In order: the host unit tests
# (build/unit/test_*), 20 s of the ELF fuzzer on a copy of its corpus, every
# guest program (tests/guest/*.c, built six ways) under `elfvm run`, the
# elfvm error cases, and the compat cases (tests/compat/*.sh).
#
# The oracle for a program run in the VM is the same binary run natively on
# this host with the same argv, environment and stdin: stdout must match byte
# for byte and so must the exit status (stderr too where a case says so).
# One line per case, "PASS name" or "FAIL name: why", then exactly one line
# "N passed, N failed" and nothing after it.  A case that cannot run fails
# and says why.  The one exception: a case matched by a line of
# tests/pending.txt (a feature of a later issue) still runs, and a failure
# there is reported as "SKIP name: waits for …" and counted as skipped
# (", N skipped"); a line there that matches no case fails as
# harness/pending.
#
# Usage: sh tests/run.sh [WORD...]   only the cases whose name contains a WORD
# Environment:
#   ELFVM=PATH     the elfvm command under test (default build/elfvm).
#                  ELFVM=tests/fake_elfvm.sh runs programs natively instead,
#                  to check the harness and the programs without a VM.
#   JOBS=N         cases run at once (default 2)
#   VM_TIMEOUT=S   the --timeout given to elfvm for each run (default 60)
#   KEEP=1         keep the temporary directory (its path is printed before
#                  the final line)
#
# How cases are defined (see tests/README.md): all_cases below calls one
# function per case; the same list is walked once to number the cases and
# then once per case by a child (`run.sh --case N`) that runs only case N,
# so a case's arguments are ordinary shell words and cases run in parallel.

set -u
NL='
'
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
export LC_ALL=C
# Nothing of the caller's may leak into the programs' environment or fds:
# ELFVM_TEST_* variables are the tests' own, and a make jobserver's fds
# would show up in the native run but not in the VM.
for v in $(env | sed -n 's/^\(ELFVM_TEST_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
ulimit -c 0 2>/dev/null

: "${ELFVM:=build/elfvm}"
: "${JOBS:=2}"
: "${VM_TIMEOUT:=60}"
case $ELFVM in /*) ;; */*) ELFVM=$ROOT/$ELFVM ;; esac
export ELFVM JOBS VM_TIMEOUT
# The guest build variants, listed once for the Makefile and this script.
VARIANTS=$(grep -v '^#' tests/variants 2>/dev/null | xargs)
BUSYBOX=/bin/busybox

# ---- the cases, in the order they are started ----------------------------

all_cases() {
	units=$(ls build/unit/test_* 2>/dev/null)
	srcs=$(ls tests/unit/test_*.c 2>/dev/null)
	if [ -z "$srcs$units" ]; then
		missing_case unit/none "no unit tests: tests/unit/test_*.c is empty"
	fi
	for s in $srcs; do
		t=build/unit/$(basename "$s" .c)
		case "$NL$units$NL" in *"$NL$t$NL"*) ;; *) missing_case "unit/${t##*/}" "$t not built (make tests)" ;; esac
	done
	for t in $units; do
		case $t in *.d | *.o) continue ;; esac
		unit_case "unit/${t##*/}" "$t"
	done
	fuzz_case fuzz/fuzz_elf
	format_case format/clang-format
	selftest_case kernel/selftest
	shared_inputs_case harness/shared-inputs

	# Without variants every guest line below would make no case at all.
	[ -n "$VARIANTS" ] || missing_case guest/variants "tests/variants names no build variant"
	guest hello -x 0 --
	guest args -l plain -x 0 -- a b c
	guest args -l odd -x 0 -- "" "with space" "  padded  " "tab	here" "new${NL}line" \
		"ünïcødé ✓ 日本語" '$HOME' '*' "-" "--" "--timeout" "1" "--env" "X=Y"
	guest args -l many -x 0 -A 1000 --
	guest args -l env -x 0 -e ELFVM_TEST_A=1 -e "ELFVM_TEST_SPACE=a b  c" \
		-e ELFVM_TEST_EMPTY= -e "ELFVM_TEST_EQ=x=y=z" -e "ELFVM_TEST_UTF8=é✓" -- e1
	guest exit_status -l 0-return -x 0 -- 0 return
	guest exit_status -l 1-exit -x 1 -- 1 exit
	guest exit_status -l 42-_exit -x 42 -- 42 _exit
	guest exit_status -l 255-exit_group -x 255 -- 255 exit_group
	guest exit_status -l 298-exit -x 42 -- 298 exit
	guest bigout -s -x 0 --
	guest stdin_eof -l empty -x 0 --
	guest stdin_eof -l text -x 0 -I "printf 'one\ntwo\nthree'" --
	guest stdin_eof -l 4MiB-binary -x 0 -I "cat $BUSYBOX $BUSYBOX" --
	guest malloc_stress -x 0 --
	guest redzone -x 0 --
	guest sysregs -x 0 --
	guest fpu_state -x 0 --
	guest clock -x 0 --
	guest vdso -x 0 --
	guest direct_entry -x 0 --
	guest efault -x 0 -I "echo input that read must not copy to a bad pointer" --
	guest enosys -x 0 --
	guest nullderef -l read -x 139 -c SIGSEGV -- read
	guest nullderef -l write -x 139 -c SIGSEGV -- write
	guest nullderef -l exec -x 139 -c SIGSEGV -- exec
	guest stackoverflow -x 139 -c SIGSEGV --
	guest crash -l ud2 -x 132 -c SIGILL -- ill
	guest crash -l div0 -x 136 -c SIGFPE -- fpe
	guest crash -l abort -x 134 -c SIGABRT -- abort
	guest segv_handler -x 0 --
	guest mmap -x 0 --
	guest getrandom -x 0 --
	guest uname -x 0 --
	guest cred -x 0 --
	guest sysinfo -x 0 --
	guest proc_self_exe -x 0 --
	guest procfs -x 0 -- one "two words" ""
	guest stdfds -x 0 --
	guest devfiles -x 0 --
	guest pipe -x 0 --
	guest threads -x 0 --
	guest events_pipe_eventfd -x 0 --
	guest epoll -x 0 --
	guest timerfd -x 0 --
	guest aio -x 0 --
	guest flock -x 0 --
	guest poll_select -x 0 --
	guest socketpair -x 0 --
	guest net_unix_stream -x 0 --
	guest net_unix_dgram -x 0 --
	guest net_unix_scm -x 0 --
	guest net_tcp -x 0 -t 120 --
	guest net_tcp_send -x 0 -t 120 --
	guest net_udp -x 0 --
	guest net_errors -x 0 --
	guest net_epoll -x 0 -t 120 --
	guest net_calls -x 0 --
	guest net_ifaddrs -x 0 --
	guest net_resolve -x 0 --
	guest vectored_io -x 0 --
	guest pthreads -x 0 -t 30 --
	guest pthreads -l mainexit -x 0 -- mainexit
	guest pthreads -l exit7 -x 7 -- exit7
	guest sync_stress -x 0 --
	guest futex_timing -x 0 -t 30 --
	guest signals -x 0 -t 30 --
	guest signals -l rt -x 0 -- rt
	guest signals -l sigpipe -x 141 -c SIGPIPE -- sigpipe
	guest signals -l resethand -x 138 -c SIGUSR1 -- resethand
	guest misc_proc -l prctl -x 0 -- prctl
	guest misc_proc -l limits -x 0 -- limits
	guest misc_proc -l sched -x 0 -- sched
	guest misc_proc -l mem -x 0 -- mem
	guest idle -x 0 -- all 200
	guest_vm spawn -x 0 --
	# files: minifs and the file syscalls (issue "Run Debian's own dynamic
	# executables unmodified")
	guest files_rw -x 0 --
	guest files_tree -x 0 --
	guest files_dirents -x 0 --
	guest files_mmap -x 0 --
	guest files_fd -x 0 --
	guest files_meta -x 0 --
	guest files_errors -x 0 --
	guest hostfiles -x 0 --
	GUEST_LISTED="$GUEST_LISTED sigterm stdin_poll tty_probe core_dump" # run by tests/compat/stdin.sh, tty.sh, core.sh
	for s in tests/guest/*.c; do
		n=${s##*/}
		case " $GUEST_LISTED " in *" ${n%.c} "*) ;; *) missing_case "guest/${n%.c}" "tests/guest/$n has no case in tests/run.sh" ;; esac
	done

	elfvm_error errors/not-an-elf 'printf "#!/bin/sh\necho hi\n" >"$D/prog"'
	elfvm_error errors/truncated-elf 'head -c 100 build/guest/hello.gcc-static >"$D/prog"'
	elfvm_error errors/elfclass32 'cp build/guest/hello.gcc-static "$D/prog" &&
		printf "\001" | dd of="$D/prog" bs=1 seek=4 conv=notrunc 2>/dev/null'
	elfvm_error errors/aarch64-machine 'cp build/guest/hello.gcc-static "$D/prog" &&
		printf "\267\000" | dd of="$D/prog" bs=1 seek=18 conv=notrunc 2>/dev/null'
	elfvm_error errors/no-such-program ':' /nonexistent/elfvm-test-program
	elfvm_timeout errors/timeout 3 "$BUSYBOX" sleep 100

	for f in tests/vmm/*.sh tests/compat/*.sh; do
		case $f in */fake_*) continue ;; esac
		[ -f "$f" ] && . "./$f"
	done
}

# ---- case kinds ------------------------------------------------------------

# next_case NAME: number the case; true only in the child that runs it.
next_case() {
	IDX=$((IDX + 1))
	CASE=$1
	if [ "$MODE" = list ]; then
		printf '%s\n' "$1" >>"$T/names"
		if [ -z "$FILTER" ] || printf '%s\n' "$1" | grep -qF "$FILTER"; then
			printf '%s\t%s\n' "$IDX" "$1"
		fi
		return 1
	fi
	[ "$IDX" = "$TARGET" ] || return 1
	D=$T/c$IDX
	mkdir -p "$D"
}

pass() {
	echo PASS >"$T/r/$IDX"
	printf 'PASS %s\n' "$CASE"
	exit 0
}

# A case matched by a line of tests/pending.txt still runs; when it fails it
# is counted as skipped and the line says which unfinished feature it waits
# for.  A line's first word is a shell pattern for whole case names.
pending_reason() {
	while read -r pattern reason; do
		case $pattern in '#'* | '') continue ;; esac
		case $CASE in $pattern) printf '%s' "$reason"; return 0 ;; esac
	done <"$ROOT/tests/pending.txt"
	return 1
}

# pending_stale: one FAIL line for each pattern of tests/pending.txt that
# matches none of the case names in the file $T/names (all cases, whatever
# the words given), so a line left behind by a renamed case is seen.
pending_stale() {
	while read -r pattern reason; do
		case $pattern in '#'* | '') continue ;; esac
		hit=0
		while IFS= read -r name; do
			case $name in $pattern) hit=1 && break ;; esac
		done <"$T/names"
		[ $hit = 1 ] && continue
		printf 'FAIL harness/pending: %s in tests/pending.txt matches no case\n' "$pattern"
	done <"$ROOT/tests/pending.txt"
}

fail() {
	msg=$(printf '%s' "$*" | tr '\n\t' '  ' | cut -c1-700)
	if reason=$(pending_reason); then
		echo SKIP >"$T/r/$IDX"
		printf 'SKIP %s: waits for %s (now: %s)\n' "$CASE" "$reason" "$(printf '%s' "$msg" | cut -c1-200)"
		exit 0
	fi
	echo FAIL >"$T/r/$IDX"
	printf 'FAIL %s: %s\n' "$CASE" "$msg"
	exit 0
}

missing_case() {
	next_case "$1" || return 0
	fail "$2"
}

unit_case() {
	next_case "$1" || return 0
	timeout -k 5 600 "$2" >"$D/out" 2>&1
	st=$?
	[ $st = 0 ] && pass
	fail "expected status 0 got $st; last output: $(tail -n 1 "$D/out" | cut -c1-200)"
}

fuzz_case() {
	next_case "$1" || return 0
	[ -x build/fuzz_elf ] || fail "build/fuzz_elf not built (make tests)"
	[ -d tests/unit/elf_corpus ] || fail "tests/unit/elf_corpus is missing"
	cp -R tests/unit/elf_corpus "$D/corpus" || fail "cannot copy the corpus"
	(cd "$D" && exec timeout -k 5 120 "$ROOT/build/fuzz_elf" -max_total_time=20 corpus) \
		>"$D/fuzz.log" 2>&1
	st=$?
	[ $st = 0 ] && pass
	why=$(grep -m 1 -E 'ERROR|SUMMARY|Test unit written' "$D/fuzz.log")
	for a in "$D"/crash-* "$D"/leak-* "$D"/timeout-* "$D"/oom-*; do
		[ -f "$a" ] || continue
		mkdir -p build/fuzz_failures && cp "$a" build/fuzz_failures/ &&
			why="$why (input kept in build/fuzz_failures/${a##*/})"
	done
	fail "expected status 0 got $st: $why"
}

# The sources are as clang-format writes them (make format-check).
format_case() {
	next_case "$1" || return 0
	sh tests/format.sh >"$D/out" 2>&1 && pass
	fail "$(tail -n 1 "$D/out"); first: $(head -n 1 "$D/out" | cut -c1-200)"
}

# The kernel's boot-time checks of kernel threads, wait queues, mutexes
# and deadlines (kernel/selftest.c), which no program can reach directly.
selftest_case() {
	next_case "$1" || return 0
	ELFVM_KERNEL_ARGS=selftest=1 timeout -k 5 120 "$ELFVM" run --timeout 60 \
		--log "$D/log" build/guest/hello.gcc-static >"$D/out" 2>&1
	st=$?
	[ $st = 0 ] && grep -q '^selftest: .* ok' "$D/log" && pass
	fail "expected status 0 and a 'selftest: ... ok' log line, got status $st: $(grep -m 1 -E 'panic|selftest' "$D/log" 2>/dev/null)"
}

# shared_inputs, proved without a VM: four cases at once share one maker;
# a maker that fails fails its waiters (and later comers) at once with its
# reason; a maker that dies is noticed.  Each must take far less than the
# 30 s a waiter would otherwise wait.
shared_inputs_case() {
	next_case "$1" || return 0
	why=
	t0=$(date +%s)
	for k in 1 2 3 4; do
		(shared_inputs "$D/ok" 30 sh -c 'sleep 0.3 && echo made >>"$1.runs" && mkdir "$1"' sh "$D/ok" \
			>"$D/ok.$k"; echo $? >>"$D/ok.status") &
	done
	wait
	[ "$(sort -u "$D/ok.status" | tr '\n' ' ')" = "0 " ] && [ -d "$D/ok" ] ||
		why="four cases at once: expected all to find the inputs, got statuses $(tr '\n' ' ' <"$D/ok.status")$(cat "$D"/ok.? | head -n 1)"
	[ "$(wc -l <"$D/ok.runs")" = 1 ] ||
		why="${why:+$why; }four cases at once: expected one maker, got $(wc -l <"$D/ok.runs")"

	for k in 1 2 3; do
		(shared_inputs "$D/bad" 30 sh -c 'sleep 0.3; echo disk full; exit 3' >"$D/bad.$k"
			echo $? >>"$D/bad.status") &
	done
	wait
	shared_inputs "$D/bad" 30 true >"$D/bad.4"
	echo $? >>"$D/bad.status"
	[ "$(sort -u "$D/bad.status" | tr '\n' ' ')" = "1 " ] && [ "$(grep -l 'disk full' "$D"/bad.? | wc -l)" = 4 ] ||
		why="${why:+$why; }a failing maker: expected 4 failures naming its 'disk full', got statuses $(tr '\n' ' ' <"$D/bad.status"): $(cat "$D"/bad.? | tr '\n' ' ')"

	(shared_inputs "$D/dead" 30 sleep 3 >/dev/null) &
	i=0
	while [ ! -s "$D/dead.lock/pid" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$(cat "$D/dead.lock/pid")" 2>/dev/null
	shared_inputs "$D/dead" 30 true >"$D/dead.out"
	st=$?
	[ $st = 1 ] && grep -q 'ended without making them' "$D/dead.out" ||
		why="${why:+$why; }a maker that dies: expected status 1 and 'ended without making them', got $st: $(cat "$D/dead.out")"

	took=$(($(date +%s) - t0))
	[ $took -lt 15 ] || why="${why:+$why; }took $took s: a waiter waited out its time"
	[ -z "$why" ] && pass
	fail "$why"
}

# guest NAME [-l LABEL] [case options] -- ARGS: one case per build variant
# of tests/guest/NAME.c, named guest/NAME.VARIANT[/LABEL].
guest() {
	g=$1
	shift
	label=
	if [ "${1:-}" = -l ]; then
		label=/$2
		shift 2
	fi
	GUEST_LISTED="${GUEST_LISTED:-} $g"
	for v in $VARIANTS; do
		vm_case "guest/$g.$v$label" -P "build/guest/$g.$v" "$@"
	done
}

# guest_vm NAME [-l LABEL] [-x N] -- ARGS: for what elfvm does differently
# from Linux on purpose (a unikernel runs one program: no fork, no exec).
# One case per build variant, run under elfvm only; the oracle is a file:
# stdout must equal tests/guest/NAME[.LABEL].expected and the status N
# (default 0).
guest_vm() {
	g=$1
	shift
	label=
	if [ "${1:-}" = -l ]; then
		label=/$2
		shift 2
	fi
	GUEST_LISTED="${GUEST_LISTED:-} $g"
	for v in $VARIANTS; do
		vm_expect "guest/$g.$v$label" "build/guest/$g.$v" \
			"tests/guest/$g${label:+.${label#/}}.expected" "$@"
	done
}

# vm_expect NAME PROG EXPECTED [-x N] -- ARGS: PROG ARGS under elfvm (stdin
# /dev/null); stdout must equal the file EXPECTED, the status N.
vm_expect() {
	next_case "$1" || return 0
	prog=$2 expected=$3 want=0
	shift 3
	if [ "${1:-}" = -x ]; then
		want=$2
		shift 2
	fi
	[ "${1:-}" = -- ] && shift
	[ -f "$prog" ] || fail "cannot run: $prog does not exist (make tests)"
	[ -f "$expected" ] || fail "cannot run: $expected does not exist"
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --timeout "$VM_TIMEOUT" --log "$D/log" \
		"$prog" "$@" </dev/null >"$D/vm.out" 2>"$D/vm.err"
	vst=$?
	why=
	if [ "$vst" != "$want" ]; then
		why="expected status $want got $vst"
		e=$(grep -m 1 '^elfvm:' "$D/vm.err")
		[ -n "$e" ] && why="$why ($e)"
	fi
	d=$(differ "stdout (vs $expected)" "$expected" "$D/vm.out")
	[ -n "$d" ] && why="${why:+$why; }$d"
	[ -z "$why" ] && pass
	fail "$why"
}

# strace_run PROG: PROG under `elfvm run --strace` (stdin /dev/null), the
# strace records in $D/log, its output in $D/vm.out and $D/vm.err; st is
# its status (tests/compat/vdso_strace.sh, direct.sh).
strace_run() {
	[ -f "$1" ] || fail "cannot run: $1 does not exist (make tests)"
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --strace --timeout "$VM_TIMEOUT" \
		--log "$D/log" "$1" </dev/null >"$D/vm.out" 2>"$D/vm.err"
	st=$?
}

# compat NAME [case options] -- ARGS: busybox with ARGS, named compat/NAME.
compat() {
	c=$1
	shift
	vm_case "compat/$c" -P "$BUSYBOX" "$@"
}

# shq WORD: WORD quoted for the shell.
shq() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# show FILE LINE: line LINE of FILE, made printable and short.
show() {
	l=$(sed -n "$2{p;q;}" "$1" | cut -c1-80 | tr -c '[:print:]\n' '?')
	if [ -z "$l" ] && [ "$(wc -l <"$1")" -lt "$2" ]; then
		echo "<end of output>"
	else
		echo "'$l'"
	fi
}

# differ WHAT EXPECTED GOT: empty when the files are equal, else where and how.
differ() {
	cmp -s "$2" "$3" && return 0
	c=$(cmp "$2" "$3" 2>&1)
	line=$(printf '%s' "$c" | sed -n 's/.* line \([0-9]*\).*/\1/p' | head -n 1)
	# "EOF on F after byte B, line L": F ends after L whole lines, so line
	# L+1 is the first that differs; "in line L": F ends inside line L.
	case $c in *"in line"*) ;; *EOF*) line=$((${line:-0} + 1)) ;; esac
	sizes="($(wc -c <"$2") bytes expected, $(wc -c <"$3") got)"
	if [ -n "$line" ]; then
		e=$(show "$2" "$line")
		g=$(show "$3" "$line")
		[ "$e" = "$g" ] && sizes="$sizes (the line differs past its first 80 characters or in its newline)"
		echo "$1 differs at line $line: expected $e got $g $sizes"
	else
		echo "$1 differs: $c $sizes"
	fi
}

# case_setup: vm_case's -S command, if any.
case_setup() {
	[ -z "$setup" ] && return 0
	(eval "$setup") >"$D/setup.log" 2>&1 ||
		fail "cannot run: the setup failed: $setup: $(tail -n 1 "$D/setup.log")"
}

# shared_inputs DIR SECONDS COMMAND [ARG...]: inputs that several cases
# read (tests/compat/coreutils.sh, threads.sh), made once per suite run by
# COMMAND in whichever case gets here first; the others wait for it, at
# most SECONDS.  The marks beside DIR: DIR.lock/ is taken by the maker and
# holds the pid of its shell in DIR.lock/pid; DIR.ready says the inputs are
# made; DIR.failed holds the last line COMMAND printed when it failed (all
# of it is in DIR.log).  A waiter fails at once on DIR.failed, and when the
# maker's shell is gone without leaving a mark, rather than waiting out
# SECONDS.  Returns 1 and prints why when the inputs are not there.
shared_inputs() {
	si_dir=$1 si_wait=$2
	shift 2
	[ -f "$si_dir.ready" ] && return 0
	if mkdir "$si_dir.lock" 2>/dev/null; then
		# The pid of this shell ($$ would be run.sh's, even in a subshell),
		# renamed into place so that a waiter never reads half of it.
		sh -c 'echo $PPID' >"$si_dir.lock/pid.new" &&
			mv "$si_dir.lock/pid.new" "$si_dir.lock/pid"
		("$@") >"$si_dir.log" 2>&1
		si_st=$?
		if [ $si_st = 0 ]; then
			: >"$si_dir.ready"
			return 0
		fi
		si_why="$*: status $si_st: $(tail -n 1 "$si_dir.log")"
		printf '%s\n' "$si_why" >"$si_dir.failed.new" && mv "$si_dir.failed.new" "$si_dir.failed"
		echo "making the inputs in $si_dir failed: $si_why"
		return 1
	fi
	si_i=0
	while [ $si_i -lt $((si_wait * 10)) ]; do
		[ -f "$si_dir.ready" ] && return 0
		if [ -f "$si_dir.failed" ]; then
			echo "the inputs in $si_dir could not be made (by another case): $(cat "$si_dir.failed")"
			return 1
		fi
		si_pid=$(cat "$si_dir.lock/pid" 2>/dev/null)
		# Gone: the marks it left, if any, are all there now.
		if [ -n "$si_pid" ] && ! kill -0 "$si_pid" 2>/dev/null &&
			[ ! -f "$si_dir.ready" ] && [ ! -f "$si_dir.failed" ]; then
			echo "the case making the inputs in $si_dir (pid $si_pid) ended without making them"
			return 1
		fi
		sleep 0.1
		si_i=$((si_i + 1))
	done
	echo "the inputs in $si_dir were not made within $si_wait s (the maker's pid: ${si_pid:-none})"
	return 1
}

# vm_case NAME -P PROG [options] -- ARGS: PROG ARGS natively, then under
# elfvm; compare.  Options:
#   -i FILE  stdin (default /dev/null)    -I CMD  stdin is the output of CMD
#   -e K=V   environment variable (repeat; natively exported, elfvm --env)
#   -s       compare stderr too           -x N    both runs must exit with N
#   -c SIG   the elfvm log must name SIG (a crash report)
#   -A N     append N generated arguments -t S    elfvm --timeout S
#   -S CMD   setup: the shell command CMD runs before each of the two
#            runs (inputs, a fresh output directory); failing is "cannot run"
#   -o WORD  one more word for `elfvm run` before the program, e.g.
#            -o --dir -o PATH (repeat; the native run ignores them)
#   -F CMD   compare both stdouts filtered through CMD (e.g. sort)
# A PROG without a slash is a name looked up in PATH, by both runs.
vm_case() {
	next_case "$1" || return 0
	shift
	prog='' stdin=/dev/null gen='' envs='' cmp_err=0 want='' sig='' nargs=0 to=$VM_TIMEOUT
	setup='' vmopts='' filter=''
	OPTIND=1
	while getopts P:i:I:e:sx:c:A:t:S:o:F: o; do
		case $o in
		P) prog=$OPTARG ;;
		i) stdin=$OPTARG ;;
		I) gen=$OPTARG ;;
		e) envs="$envs$OPTARG$NL" ;;
		s) cmp_err=1 ;;
		x) want=$OPTARG ;;
		c) sig=$OPTARG ;;
		A) nargs=$OPTARG ;;
		t) to=$OPTARG ;;
		S) setup=$OPTARG ;;
		o) vmopts="$vmopts$OPTARG$NL" ;;
		F) filter=$OPTARG ;;
		*) fail "bad case definition in tests/run.sh" ;;
		esac
	done
	shift $((OPTIND - 1))
	case_setup
	case $prog in
	*/*) [ -f "$prog" ] || fail "cannot run: $prog does not exist (make tests; apt-get install busybox-static for compat)" ;;
	*) command -v "$prog" >/dev/null 2>&1 || fail "cannot run: $prog is not installed (not found in PATH)" ;;
	esac
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	if [ -n "$gen" ]; then
		sh -c "$gen" >"$D/stdin" || fail "cannot run: stdin command failed: $gen"
		stdin=$D/stdin
	fi
	i=1
	while [ "$i" -le "$nargs" ]; do
		set -- "$@" "arg$i-abcdefghijklmnopqrstuvwxyz-0123456789"
		i=$((i + 1))
	done

	(
		set -f
		IFS=$NL
		for kv in $envs; do export "$kv"; done
		exec timeout -k 5 "$to" "$prog" "$@"
	) <"$stdin" >"$D/native.out" 2>"$D/native.err"
	nst=$?
	envq=
	set -f
	IFS=$NL
	for kv in $envs; do envq="$envq --env $(shq "$kv")"; done
	for w in $vmopts; do envq="$envq $(shq "$w")"; done
	IFS=' 	'
	set +f
	eval "set -- $envq \"\$prog\" \"\$@\""
	case_setup
	timeout -k 5 $((to + 60)) "$ELFVM" run --timeout "$to" --log "$D/log" "$@" \
		<"$stdin" >"$D/vm.out" 2>"$D/vm.err"
	vst=$?

	if [ -n "$filter" ]; then
		for f in native vm; do
			sh -c "$filter" <"$D/$f.out" >"$D/$f.filtered" && mv "$D/$f.filtered" "$D/$f.out"
		done
	fi
	why=
	if [ -n "$want" ] && [ "$nst" != "$want" ]; then
		why="native run (the oracle) exited $nst, expected $want: $(head -c 200 "$D/native.out" "$D/native.err" | tr '\n' ' ')"
		fail "$why"
	fi
	if [ "$vst" != "$nst" ]; then
		why="expected status $nst got $vst"
		e=$(grep -m 1 '^elfvm:' "$D/vm.err")
		case $vst in 12[4-7]) [ -z "$e" ] && e=$(tail -n 1 "$D/vm.err" | cut -c1-200) ;; esac
		[ -n "$e" ] && why="$why ($e)"
	fi
	d=$(differ stdout "$D/native.out" "$D/vm.out")
	[ -n "$d" ] && why="${why:+$why; }$d"
	if [ "$cmp_err" = 1 ]; then
		d=$(differ stderr "$D/native.err" "$D/vm.err")
		[ -n "$d" ] && why="${why:+$why; }$d"
	fi
	if [ -n "$sig" ] && ! grep -q "$sig" "$D/log" 2>/dev/null; then
		why="${why:+$why; }the --log has no crash report naming $sig"
	fi
	[ -z "$why" ] && pass
	fail "$why"
}

# elfvm_error NAME PREP [PROG]: elfvm must refuse PROG (default "$D/prog",
# made by the shell command PREP) with status 125 and one "elfvm: " line.
elfvm_error() {
	next_case "$1" || return 0
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	eval "$2" || fail "cannot run: preparing the program failed"
	p=${3:-$D/prog}
	[ -f "$D/prog" ] && chmod +x "$D/prog"
	timeout -k 5 120 "$ELFVM" run --timeout "$VM_TIMEOUT" --log "$D/log" "$p" \
		</dev/null >"$D/vm.out" 2>"$D/vm.err"
	st=$?
	why=
	[ "$st" = 125 ] || why="expected status 125 got $st"
	grep -q '^elfvm: ' "$D/vm.err" || why="${why:+$why; }no 'elfvm: reason' line on stderr"
	[ -s "$D/vm.out" ] && why="${why:+$why; }stdout is not empty"
	[ -z "$why" ] && pass
	fail "$why"
}

# elfvm_timeout NAME SECONDS PROG ARGS: --timeout ends a program that runs
# too long with status 124 and "elfvm: timed out".
elfvm_timeout() {
	next_case "$1" || return 0
	s=$2
	shift 2
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	[ -f "$1" ] || fail "cannot run: $1 does not exist"
	timeout -k 5 120 "$ELFVM" run --timeout "$s" --log "$D/log" "$@" \
		</dev/null >"$D/vm.out" 2>"$D/vm.err"
	st=$?
	why=
	[ "$st" = 124 ] || why="expected status 124 got $st"
	grep -q '^elfvm: timed out' "$D/vm.err" || why="${why:+$why; }no 'elfvm: timed out' line on stderr"
	[ -z "$why" ] && pass
	fail "$why"
}

# ---- driver ----------------------------------------------------------------

if [ "${1:-}" = --case ]; then
	MODE=run TARGET=$2 IDX=0 FILTER=
	exec 2>"$T/c$2.harness"
	all_cases
	fail "no case number $TARGET"
fi

missing=''
for tool in timeout cmp xargs mktemp od sed grep cut tr head tail wc dd; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	echo "FAIL harness: these host tools are missing:$missing"
	echo "0 passed, 1 failed"
	exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/elfvm-tests.XXXXXX") || exit 1
export T
# The image cache of this run lives and dies with it.
export XDG_CACHE_HOME="$T/cache"
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		:
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$T/r"

FILTER=
for w in "$@"; do FILTER="$FILTER$w$NL"; done
FILTER=${FILTER%"$NL"}
MODE=list IDX=0
all_cases >"$T/list"

cut -f1 "$T/list" | xargs -P "$JOBS" -n 1 sh "$ROOT/tests/run.sh" --case

passed=0 failed=0 skipped=0
while IFS='	' read -r n name; do
	r=$(cat "$T/r/$n" 2>/dev/null)
	case $r in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	*)
		failed=$((failed + 1))
		printf 'FAIL %s: the harness gave no result (%s)\n' "$name" \
			"$(tail -n 1 "$T/c$n.harness" 2>/dev/null | cut -c1-200)"
		;;
	esac
done <"$T/list"
pending_stale >"$T/stale"
cat "$T/stale"
failed=$((failed + $(wc -l <"$T/stale")))
[ "${KEEP:-0}" = 1 ] && echo "kept $T"
if [ "$skipped" = 0 ]; then
	echo "$passed passed, $failed failed"
else
	echo "$passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" = 0 ]
