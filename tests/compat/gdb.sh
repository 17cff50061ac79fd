# SPDX-License-Identifier: MIT
# tests/compat/gdb.sh: `elfvm run --gdb` (docs/debugging.md) with Debian's
# gdb in batch mode.  Small programs built here with -O0 -g (static and
# dynamic, glibc and musl) run under --gdb; gdb sources the command file
# elfvm prints, then a script: a breakpoint in a program function and one
# in libc (qsort; musl-dyn is libc-aware's musl), bt through program and
# library frames, next, step, printf of locals and globals, finish and
# its value, a watchpoint, continue to the end.  The program's status must
# stay elfvm's and its stdout the native run's.  gdb/threads-V lists every
# thread through elfvm-threads and backtraces each with elfvm-thread;
# gdb/dlopen-V breaks in a library that dlopen loads later;
# gdb/crash-V-SIG stops where the program dies of a signal;
# gdb/syscall-step-V steps over and out of a syscall; gdb/fault-step-V
# over page faults; gdb/refused
# checks the answers to a bad --gdb.  Every process is bounded by timeout.
# Sourced by tests/run.sh inside all_cases.

GDB_OUT=$T/gdb

# gdb_build: the programs, in $GDB_OUT (once per suite run, shared_inputs).
gdb_build() {
	command -v gdb >/dev/null || { echo "gdb is not installed (apt-get install gdb)"; return 1; }
	mkdir -p "$GDB_OUT" && cd "$GDB_OUT" || return 1
	cat >prog.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int counter;
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
int work(int n)
{
	int local = n * 7;
	counter += local;
	return local + 1;
}
int main(int argc, char **argv)
{
	int v[4] = { 3, 1, 2, 0 };
	int r = work(argc + 5);
	(void)argv;
	qsort(v, 4, sizeof(int), cmp);
	counter = r;
	puts("hello from the program");
	printf("r=%d v0=%d counter=%d\n", r, v[0], counter);
	return 3;
}
C
	cat >threads.c <<'C'
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static pthread_barrier_t ready;
static int fds[2];
static void *waiter(void *arg)
{
	char c;
	pthread_barrier_wait(&ready);
	return read(fds[0], &c, 1) == 1 ? arg : NULL;
}
void all_started(void) {}
int main(void)
{
	pthread_t t[2];
	if (pipe(fds))
		return 1;
	pthread_barrier_init(&ready, NULL, 3);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, waiter, &t[i]);
	pthread_barrier_wait(&ready);
	usleep(100000); /* both waiters in read */
	all_started();
	if (write(fds[1], "xx", 2) != 2)
		return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	puts("threads done");
	return 0;
}
C
	cat >crash.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int poke(int *p, int depth)
{
	int local = depth * 3;
	if (depth < 2)
		return poke(p, depth + 1) + local;
	return *p + local;
}
int main(int argc, char **argv)
{
	(void)argv;
	puts("about to crash");
	fflush(stdout);
	if (argc > 1)
		abort();
	return poke(NULL, 0);
}
C
	cat >sys.c <<'C'
#include <stdio.h>
long raw_getppid(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"(110L) : "rcx", "r11", "memory");
	return r;
}
int main(void)
{
	long a = raw_getppid();
	long b = raw_getppid();
	puts(a == b ? "same parent twice" : "two parents");
	return 0;
}
C
	cat >big.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	char *p = malloc(32 << 20);
	p[16 << 20] = 1;
	p[17 << 20] = 2;
	printf("%d\n", p[16 << 20] + p[17 << 20]);
	return 0;
}
C
	cat >lib.c <<'C'
int gdbt_twice(int x) { int twice = 2 * x; return twice; }
C
	cat >dl.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
	int (*twice)(int) = h ? (int (*)(int))dlsym(h, "gdbt_twice") : NULL;
	if (!twice)
		return 1;
	printf("twice 21 = %d\n", twice(21));
	dlclose(h);
	puts("closed");
	return 0;
}
C
	for p in prog threads crash sys big; do
		gcc -O0 -g -o "$p.gcc-dyn" "$p.c" -lpthread &&
			gcc -O0 -g -static -o "$p.gcc-static" "$p.c" -lpthread &&
			gcc -O0 -g -static-pie -fPIE -o "$p.gcc-spie" "$p.c" -lpthread &&
			musl-gcc -O0 -g -o "$p.musl-dyn" "$p.c" &&
			musl-gcc -O0 -g -static -o "$p.musl-static" "$p.c" || return 1
	done
	gcc -O0 -g -shared -fPIC -o lib.gcc.so lib.c && gcc -O0 -g -o dl.gcc-dyn dl.c -ldl &&
		musl-gcc -O0 -g -shared -fPIC -o lib.musl.so lib.c && musl-gcc -O0 -g -o dl.musl-dyn dl.c
}

# gdb_session CMDS PROG ARGS...: PROG under `elfvm run --gdb`, and gdb
# with the command file it prints, then CMDS (a file); gdb's output in
# $D/gdb.out, the program's in $D/vm.out, elfvm's status in $GDB_ST.
gdb_session() {
	cmds=$1
	shift
	timeout -k 5 90 "$ELFVM" run --gdb "$@" </dev/null >"$D/vm.out" 2>"$D/vm.err" &
	vm=$!
	i=0
	while ! grep -q 'debug with: gdb -x ' "$D/vm.err" && kill -0 $vm 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	f=$(sed -n 's/.*debug with: gdb -x //p' "$D/vm.err")
	if [ -n "$f" ]; then
		timeout -k 5 60 gdb -nx -batch -x "$f" -x "$cmds" </dev/null >"$D/gdb.out" 2>&1
	else
		kill $vm 2>/dev/null
	fi
	wait $vm
	GDB_ST=$?
	[ -n "$f" ] || fail "no gdb command line on elfvm's stderr within 30 s: $(head -n 3 "$D/vm.err")"
}

# gdb_expect PATTERN WHAT: gdb's output has a line matching PATTERN (ERE).
gdb_expect() {
	grep -Eq -- "$1" "$D/gdb.out" ||
		fail "$2: no line matching '$1' in gdb's output: $(grep -v '^warning' "$D/gdb.out" | tail -n 6)"
}

# gdb_same NATIVE-ARGS...: elfvm's stdout is the native run's.
gdb_same() {
	"$@" >"$D/native.out" 2>/dev/null
	cmp -s "$D/native.out" "$D/vm.out" ||
		fail "--gdb changed the output: native $(head -c 200 "$D/native.out" | tr '\n' '|'), elfvm $(head -c 200 "$D/vm.out" | tr '\n' '|')"
}

gdb_prog_case() {
	next_case "gdb/prog-$1" || return 0
	shared_inputs "$GDB_OUT" 120 gdb_build >"$D/why" || fail "cannot run: $(cat "$D/why")"
	cat >"$D/cmds" <<'G'
break main
break qsort
continue
set backtrace past-main on
bt
set backtrace past-main off
next
step
bt
next
next
printf "local=%d n=%d\n", local, n
finish
printf "counter=%d\n", counter
continue
bt
finish
watch counter
continue
delete
continue
G
	gdb_session "$D/cmds" "$GDB_OUT/prog.$1"
	gdb_expect '^Breakpoint [0-9]+, main \(argc=1, .*prog.c:13' "the breakpoint in main"
	gdb_expect '^#1  0x[0-9a-f]+ in [_a-z0-9]*start[_a-z0-9]* \(' "bt: the caller of main"
	gdb_expect '^work \(n=6\) at .*prog.c:7' "step into work"
	gdb_expect '^#1  0x[0-9a-f]+ in main \(argc=1, ' "bt: work called by main"
	gdb_expect '^local=42 n=6$' "locals after next"
	gdb_expect '^Value returned is \$[0-9]+ = 43$' "finish from work"
	gdb_expect '^counter=42$' "a global"
	gdb_expect '^Breakpoint [0-9]+, (0x[0-9a-f]+ in )?[_a-zA-Z]*qsort' "the breakpoint in libc's qsort"
	gdb_expect '^#[1-9] +0x[0-9a-f]+ in main \(argc=1, ' "bt from qsort to main"
	gdb_expect '^main \(argc=1, .*prog.c:17$' "finish from qsort"
	gdb_expect '^New value = 43$' "the watchpoint on counter"
	[ "$GDB_ST" = 3 ] || fail "elfvm exited $GDB_ST, not the program's 3: $(tail -n 2 "$D/vm.err")"
	gdb_same "$GDB_OUT/prog.$1"
	pass
}

gdb_threads_case() {
	next_case "gdb/threads-$1" || return 0
	shared_inputs "$GDB_OUT" 120 gdb_build >"$D/why" || fail "cannot run: $(cat "$D/why")"
	cat >"$D/cmds" <<'G'
break all_started
continue
python
import re
out = gdb.execute("elfvm-threads", to_string=True)
print(out)
for tid in re.findall(r"^[ *]\s*(\d+)\s", out, re.M):
    print("thread %s:" % tid)
    gdb.execute("elfvm-thread %s bt 4" % tid)
end
bt
continue
G
	gdb_session "$D/cmds" "$GDB_OUT/threads.$1"
	n=$(grep -Ec '^[ *] +[0-9]+  (running|sleeping|runnable) ' "$D/gdb.out")
	[ "$n" = 3 ] || fail "elfvm-threads: expected 3 program threads, got $n: $(grep -A4 TID "$D/gdb.out" | tr '\n' '|')"
	gdb_expect '^\* +1  running .* all_started' "the main thread in all_started"
	[ "$(grep -Ec '^#0 .*read' "$D/gdb.out")" -ge 2 ] ||
		fail "elfvm-thread: expected two threads in read, got: $(grep '^#0' "$D/gdb.out" | tr '\n' '|')"
	case $1 in *-dyn) gdb_expect '^#[1-3] .* in waiter \(arg=' "a waiter thread backtraced to waiter" ;; esac
	gdb_expect '^#1  0x[0-9a-f]+ in main \(\) at' "bt after elfvm-thread: the CPU registers are back"
	[ "$GDB_ST" = 0 ] || fail "elfvm exited $GDB_ST, not the program's 0: $(tail -n 2 "$D/vm.err")"
	gdb_same "$GDB_OUT/threads.$1"
	pass
}

gdb_dlopen_case() {
	next_case "gdb/dlopen-$1-dyn" || return 0
	shared_inputs "$GDB_OUT" 120 gdb_build >"$D/why" || fail "cannot run: $(cat "$D/why")"
	cat >"$D/cmds" <<'G'
break gdbt_twice
continue
bt
finish
continue
G
	lib=$GDB_OUT/lib.$1.so
	gdb_session "$D/cmds" --file "$lib" "$GDB_OUT/dl.$1-dyn" "$lib"
	gdb_expect '^Breakpoint [0-9]+, gdbt_twice \(x=21\) at .*lib.c' "the breakpoint in the dlopened library"
	gdb_expect '^#1  0x[0-9a-f]+ in main \(argc=2, ' "bt from the library to main"
	gdb_expect '^Value returned is \$[0-9]+ = 42$' "finish from the library"
	[ "$GDB_ST" = 0 ] || fail "elfvm exited $GDB_ST, not the program's 0: $(tail -n 2 "$D/vm.err")"
	gdb_same "$GDB_OUT/dl.$1-dyn" "$lib"
	pass
}

# gdb_crash_case V SIGNAL STATUS [ARG]: the program dies; gdb stops at
# the kernel's elfvm_gdb_signal and shows the program's frames.
gdb_crash_case() {
	next_case "gdb/crash-$1-$2" || return 0
	shared_inputs "$GDB_OUT" 120 gdb_build >"$D/why" || fail "cannot run: $(cat "$D/why")"
	cat >"$D/cmds" <<'G'
continue
elfvm-thread 1 frame 1 ; info locals
bt 1
continue
G
	gdb_session "$D/cmds" "$GDB_OUT/crash.$1" ${4:-}
	gdb_expect "^Program received signal $2 \\([0-9]+\\) in thread 1 " "the stop at the signal"
	if [ $2 = SIGSEGV ]; then
		gdb_expect '^#0  0x[0-9a-f]+ in poke \(p=0x0, depth=2\) at .*crash.c' "the faulting frame"
		gdb_expect '^#3  0x[0-9a-f]+ in main \(argc=1, ' "its callers up to main"
		gdb_expect '^local = 3$' "a local of frame 1 through elfvm-thread"
	else
		gdb_expect '^#[0-9]+  0x[0-9a-f]+ in [_a-zA-Z]*abort ' "abort in the frames"
		gdb_expect '^#[0-9]+  0x[0-9a-f]+ in main \(argc=2, ' "main in the frames"
	fi
	gdb_expect '^#0  elfvm_gdb_signal ' "the CPU registers back after elfvm-thread"
	[ "$GDB_ST" = "$3" ] || fail "elfvm exited $GDB_ST, not $3: $(tail -n 2 "$D/vm.err")"
	gdb_same sh -c "\"\$0\" \"\$@\" 2>/dev/null; true" "$GDB_OUT/crash.$1" ${4:-}
	pass
}

# gdb_syscall_case V: next over a line whose syscall instruction the
# single step enters the kernel by (syscall_entry is skipped: the helper
# unwinds it to the program), then stepi onto it and finish back.
gdb_syscall_case() {
	next_case "gdb/syscall-step-$1" || return 0
	shared_inputs "$GDB_OUT" 120 gdb_build >"$D/why" || fail "cannot run: $(cat "$D/why")"
	cat >"$D/cmds" <<'G'
break raw_getppid
continue
next
continue
python
for i in range(20):
    if "syscall" in gdb.execute("x/i $pc", to_string=True):
        break
    gdb.execute("stepi", to_string=True)
end
stepi
finish
delete
continue
G
	gdb_session "$D/cmds" "$GDB_OUT/sys.$1"
	gdb_expect '^6[[:space:]]+return r;$' "next over the syscall line"
	gdb_expect '^syscall_entry \(\) at ' "stepi onto the syscall"
	gdb_expect '^(Run till exit from .*|0x[0-9a-f]+ in )raw_getppid \(\) at .*sys.c:5' "finish from the kernel back to the program"
	[ "$GDB_ST" = 0 ] || fail "elfvm exited $GDB_ST, not 0: $(tail -n 2 "$D/vm.err")"
	gdb_same "$GDB_OUT/sys.$1"
	pass
}

# gdb_fault_case V: next over stores that fault on pages of a 32 MiB
# block (its middle is not faulted in ahead): the step into the page fault
# handler's vector stub is unwound to the program and skipped.
gdb_fault_case() {
	next_case "gdb/fault-step-$1" || return 0
	shared_inputs "$GDB_OUT" 120 gdb_build >"$D/why" || fail "cannot run: $(cat "$D/why")"
	printf 'break main\ncontinue\nnext\nnext\nnext\nbt 1\ncontinue\n' >"$D/cmds"
	gdb_session "$D/cmds" "$GDB_OUT/big.$1"
	gdb_expect '^8[[:space:]]+printf' "three nexts over two faulting stores"
	gdb_expect '^#0  main \(\) at .*big.c:8' "still in main"
	grep -q vector_stubs "$D/gdb.out" && fail "a step stopped in the kernel: $(grep -m1 vector_stubs "$D/gdb.out")"
	[ "$GDB_ST" = 0 ] || fail "elfvm exited $GDB_ST, not 0: $(tail -n 2 "$D/vm.err")"
	gdb_same "$GDB_OUT/big.$1"
	pass
}

gdb_refused_case() {
	next_case gdb/refused || return 0
	for spec in 0.0.0.0:1234 10.1.2.3 '[::]:1234' 127.0.0.1:70000 nohost unix:/tmp/a,b; do
		timeout 30 "$ELFVM" run --gdb="$spec" /bin/true </dev/null >"$D/out" 2>"$D/err"
		st=$?
		[ $st = 125 ] || fail "--gdb=$spec: expected status 125, got $st"
		[ "$(wc -l <"$D/err")" = 1 ] && grep -q "^elfvm: --gdb=" "$D/err" ||
			fail "--gdb=$spec: expected one elfvm: line, got: $(head -n 3 "$D/err" | tr '\n' '|')"
	done
	pass
}

for v in gcc-static gcc-spie gcc-dyn musl-static musl-dyn; do
	gdb_prog_case $v
done
gdb_threads_case gcc-dyn
gdb_threads_case musl-static
gdb_crash_case gcc-dyn SIGSEGV 139
gdb_crash_case musl-static SIGSEGV 139
gdb_crash_case gcc-dyn SIGABRT 134 abort
gdb_syscall_case gcc-static
gdb_syscall_case musl-dyn
gdb_fault_case gcc-static
gdb_fault_case musl-dyn
gdb_dlopen_case gcc
gdb_dlopen_case musl
gdb_refused_case
