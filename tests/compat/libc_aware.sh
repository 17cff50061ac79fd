# SPDX-License-Identifier: MIT
# tests/compat/libc_aware.sh: libc-aware's musl (docs/libc-aware.md).
#   libc-aware/sites          the build rewrote every C syscall site of musl
#                             (build/libc-aware/sites.txt): a new site that
#                             syscall.cocci misses fails here
#   libc-aware/syscall-insns  the only `syscall` instructions left in libc.so
#                             and libc.a are the fallback and the documented
#                             assembly sites
#   libc-aware/strace/PROG    a busy dynamic musl program under --strace: its
#                             calls are marked [direct], except the
#                             documented trapping ones
#   libc-aware/stock          --libc stock: the host's musl, no direct call
#   libc-aware/native-dyn     the rewritten libc.so runs a program natively,
#                             as its dynamic linker (the fallback path)
#   libc-aware/missing        an elfvm without the built libc: one line and
#                             status 125 for a musl program, --libc stock runs
# The aware-dyn and aware-static guest builds (tests/variants) run every
# guest program against this libc, natively and in the VM.  Sourced by
# tests/run.sh inside all_cases.

AWARE=build/libc-aware

aware_sites() {
	next_case libc-aware/sites || return 0
	f=$AWARE/sites.txt
	[ -f "$f" ] || fail "cannot run: $f does not exist (make)"
	all=$(sed -n 's/^c_sites //p' "$f")
	done_=$(sed -n 's/^c_rewritten //p' "$f")
	left=$(sed -n 's/^c_left //p' "$f")
	[ "${all:-0}" -ge 400 ] || fail "only '${all}' C syscall sites counted in musl: the count is broken"
	[ "$left" = 0 ] || fail "$left C syscall sites not rewritten: $(grep '^left ' "$f" | head -n 3 | xargs)"
	[ "$done_" = "$all" ] || fail "rewrote $done_ of $all C syscall sites"
	pass
}

# The functions holding a `syscall` instruction in objdump's listing.
syscall_functions() {
	objdump -d "$1" | awk '/^[0-9a-f]+ <.*>:$/ { fn = $2 } /\tsyscall/ { print fn }' |
		tr -d '<>:' | sort -u
}

aware_insns() {
	next_case libc-aware/syscall-insns || return 0
	command -v objdump >/dev/null || fail "cannot run: objdump is not installed (binutils)"
	# __aware_trap: the fallback of every C site; __cp_begin: syscall_cp.s's
	# trap path; the rest: the assembly sites that trap on purpose.
	allowed=' __aware_trap __cp_begin __clone __restore_rt __set_thread_area __unmapself vfork '
	for lib in $AWARE/lib/libc.so $AWARE/lib/libc.a; do
		[ -f "$lib" ] || fail "cannot run: $lib does not exist (make)"
		fns=$(syscall_functions "$lib")
		[ -n "$fns" ] || fail "no syscall instruction at all in $lib: the check is broken"
		for fn in $fns; do
			case $allowed in *" $fn "*) ;; *) fail "$lib: $fn still has a syscall instruction" ;; esac
		done
	done
	pass
}

aware_strace() {
	next_case "libc-aware/strace/$1" || return 0
	strace_run "build/guest/$1.musl-dyn"
	[ "$st" = 0 ] || fail "expected status 0 got $st: $(grep -m 1 -v '^ok' "$D/vm.out" "$D/vm.err")"
	n=$(grep -c ' \[direct\]$' "$D/log")
	[ "$n" -ge 50 ] || fail "only $n calls marked [direct] in the --strace log"
	# Trapping on purpose (docs/libc-aware.md): arch_prctl (__set_thread_area,
	# before the entry is found), clone, rt_sigreturn, and munmap from
	# __unmapself (a detached thread freeing its own stack).
	bad=$(grep -E '^[a-z_0-9]+\(' "$D/log" | grep -v ' \[direct\]$' |
		grep -vE '^(arch_prctl|clone|rt_sigreturn|munmap)\(' | head -n 3)
	[ -z "$bad" ] || fail "trapped calls outside the documented sites: $bad"
	pass
}

aware_stock() {
	next_case libc-aware/stock || return 0
	[ -f build/guest/pthreads.musl-dyn ] || fail "cannot run: build/guest/pthreads.musl-dyn does not exist (make tests)"
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --libc stock --strace --timeout "$VM_TIMEOUT" \
		--log "$D/log" build/guest/pthreads.musl-dyn </dev/null >"$D/vm.out" 2>"$D/vm.err"
	st=$?
	[ "$st" = 0 ] || fail "expected status 0 got $st: $(grep -m 1 -v '^ok' "$D/vm.out" "$D/vm.err")"
	grep -q '^getpid() = ' "$D/log" || fail "no getpid in the --strace log"
	n=$(grep -c ' \[direct\]$' "$D/log")
	[ "$n" = 0 ] || fail "$n calls marked [direct] with --libc stock: $(grep -m 1 ' \[direct\]$' "$D/log")"
	pass
}

aware_native_dyn() {
	next_case libc-aware/native-dyn || return 0
	p=build/guest/pthreads.aware-dyn
	[ -f "$p" ] || fail "cannot run: $p does not exist (make tests)"
	"$p" >"$D/host.out" 2>&1
	hst=$?
	"$AWARE/lib/libc.so" "$p" >"$D/aware.out" 2>&1
	ast=$?
	[ "$ast" = "$hst" ] || fail "status $ast under the rewritten libc.so natively, $hst under the host's musl"
	d=$(differ "output (vs the host's musl)" "$D/host.out" "$D/aware.out")
	[ -z "$d" ] || fail "$d"
	pass
}

aware_missing() {
	next_case libc-aware/missing || return 0
	mkdir -p "$D/bin"
	cp "$ELFVM" build/kernel.elf "$D/bin/" || fail "cannot copy elfvm and kernel.elf"
	"$D/bin/elfvm" run --timeout "$VM_TIMEOUT" build/guest/hello.musl-dyn </dev/null >"$D/out" 2>"$D/err"
	st=$?
	[ "$st" = 125 ] || fail "expected status 125 without the libc, got $st"
	[ "$(wc -l <"$D/err")" = 1 ] && grep -q -- '--libc stock' "$D/err" ||
		fail "expected one line naming --libc stock, got: $(head -c 300 "$D/err")"
	"$D/bin/elfvm" run --libc stock --timeout "$VM_TIMEOUT" build/guest/hello.musl-dyn \
		</dev/null >"$D/out" 2>"$D/err"
	st=$?
	[ "$st" = 0 ] || fail "--libc stock: expected status 0 got $st: $(head -c 300 "$D/err")"
	pass
}

aware_sites
aware_insns
for p in pthreads signals net_tcp files_tree; do
	aware_strace "$p"
done
aware_stock
aware_native_dyn
# The fake elfvm (tests/fake_elfvm.sh) is a script: nothing to copy.
case $ELFVM in */fake_elfvm.sh) ;; *) aware_missing ;; esac
