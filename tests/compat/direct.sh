# SPDX-License-Identifier: MIT
# tests/compat/direct.sh: calls through the vDSO's __elfvm_syscall reach the
# dispatcher as calls of their own, and --strace says so.
# tests/guest/direct_entry.c run under `elfvm run --strace`: each call it
# makes through the entry must be in the log with the trap path's format
# plus " [direct]" (an unknown number, a bad pointer, pause's -EINTR, the
# -ERESTARTSYS read and its restart among them).  libc's own stdio output
# must be there too: unmarked from glibc and the host's musl (the `syscall`
# instruction), marked from libc-aware's musl (the aware-* builds, and
# musl-dyn, which elfvm gives that libc; docs/libc-aware.md).
# One case per build variant, named direct-strace/VARIANT.  Sourced by
# tests/run.sh inside all_cases.

# direct_strace_case NAME PROG MARK: MARK is libc's stdio writes' suffix.
direct_strace_case() {
	next_case "$1" || return 0
	strace_run "$2"
	[ "$st" = 0 ] || fail "expected status 0 got $st: $(cat "$D/vm.out" "$D/vm.err" | grep -m 1 -v '^ok')"
	# The fake elfvm (tests/fake_elfvm.sh) runs the program natively and
	# has no --strace: that the program ran and passed is all it can show.
	case $ELFVM in */fake_elfvm.sh) pass ;; esac
	# In the order the program makes them; each pattern matches one line.
	for re in '^getpid\(\) = [0-9]+ \[direct\]$' \
		'^getppid\(\) = [0-9]+ \[direct\]$' \
		'^write\(0x1, 0x[0-9a-f]+, 0x1b\) = 27 \[direct\]$' \
		'^read\(0x[0-9a-f]+, 0x[0-9a-f]+, 0x40\) = 64 \[direct\]$' \
		'^read\(0x[0-9a-f]+, 0x10, 0x8\) = -14 \[direct\]$' \
		'^unknown\(0x1, 0x2, 0x3, 0x4, 0x5, 0x6\) = -38 \[direct\]$' \
		'^mmap\(0x0, 0x1000, 0x1, 0x2, 0x[0-9a-f]+, 0x1000\) = [0-9]+ \[direct\]$' \
		'^nanosleep\(0x[0-9a-f]+, 0x0\) = 0 \[direct\]$' \
		'^pause\(\) = -4 \[direct\]$' \
		'^read\(0x[0-9a-f]+, 0x[0-9a-f]+, 0x1\) = -512 \[direct\]$' \
		'^read\(0x[0-9a-f]+, 0x[0-9a-f]+, 0x1\) = 1 \[direct\]$' \
		'^gettid\(\) = [0-9]+ \[direct\]$'; do
		grep -Eq "$re" "$D/log" || fail "no line matching '$re' in the --strace log"
	done
	# libc's own stdio writes (glibc write, musl writev).
	grep -Eq "^writev?\\(0x1, 0x[0-9a-f]+, 0x[0-9a-f]+\\) = [0-9]+${3:+ \\[$3\\]}\$" "$D/log" ||
		fail "no write or writev to fd 1 from libc marked '${3:-(unmarked)}' in the --strace log"
	pass
}

for v in $VARIANTS; do
	case $v in
	aware-* | musl-dyn) mark=direct ;;
	*) mark= ;;
	esac
	direct_strace_case "direct-strace/$v" "build/guest/direct_entry.$v" "$mark"
done
