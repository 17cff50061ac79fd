#!/bin/sh
# SPDX-License-Identifier: MIT
# libc-aware/build.sh OUT: builds the syscall-aware musl into OUT (the
# Makefile passes build/libc-aware).  Debian's musl source (apt-get source;
# tools/deps.sh adds the deb-src entry) is unpacked under OUT/src, copied
# to OUT/musl, rewritten there by syscall.cocci (spatch, one file at a
# time), given aware.h, aware.c and syscall_cp.s, and built and installed
# under OUT: lib/libc.so (the dynamic linker too), lib/libc.a, the crt
# objects, include/, and bin/musl-gcc, a wrapper whose programs use this
# libc.  OUT/sites.txt records the site counts that tests/compat/libc_aware.sh
# checks (docs/libc-aware.md).  Nothing of musl's source is committed.
set -e
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

if ! ls -d "$out"/src/musl-*/ >/dev/null 2>&1; then
	rm -rf "$out/src"
	mkdir -p "$out/src"
	(cd "$out/src" && apt-get source -q musl >apt.log 2>&1) || {
		cat "$out/src/apt.log" >&2
		echo "libc-aware: apt-get source musl failed (is there a deb-src entry? tools/deps.sh adds one)" >&2
		exit 1
	}
fi
pristine=$(ls -d "$out"/src/musl-*/ | head -n 1)
tree=$out/musl
rm -rf "$tree"
cp -a "$pristine" "$tree"
cd "$tree"

# A syscall site: a call of __syscall, __syscall0 … __syscall6 or musl's
# internal syscall() macro in src/ or ldso/, but not the plumbing that
# defines those names (syscall.h's #defines, the public syscall()).
sites() {
	grep -rnE '\b(__syscall[0-6]?|syscall)[[:space:]]*\(' src ldso --include='*.c' --include='*.h' |
		grep -vE ':[[:space:]]*(#[[:space:]]*define[[:space:]]+(__syscall[0-7]?|syscall)\(|long syscall\()' || true
}
count() { grep -oE '\b(__syscall[0-6]?|syscall)[[:space:]]*\(' | wc -l; }
all=$(sites | count)

for d in src ldso; do
	spatch --very-quiet --sp-file "$here/syscall.cocci" --include-headers --in-place --dir "$d" \
		>>"$out/spatch.log" 2>&1 || {
		tail -n 20 "$out/spatch.log" >&2
		echo "libc-aware: spatch failed on musl's $d (log: $out/spatch.log)" >&2
		exit 1
	}
done
left=$(sites)
nleft=$(printf '%s' "$left" | count)
rewritten=$(grep -rhoE '\b__aware_(syscall[0-6]?|syscall_errno)[[:space:]]*\(' src ldso \
	--include='*.c' --include='*.h' | wc -l)

# Hand-written: the cancellation points' syscall.  Still trapping, with
# the reason in docs/libc-aware.md: the other assembly files' sites.
cp "$here/aware.h" "$here/aware.c" src/internal/
cp "$here/syscall_cp.s" src/thread/x86_64/syscall_cp.s
asm_trap=$(grep -lw syscall src/*/x86_64/*.s | grep -v syscall_cp.s | sort | xargs -n 1 basename | xargs)

{
	echo "c_sites $all"
	echo "c_rewritten $rewritten"
	echo "c_left $nleft"
	[ -z "$left" ] || printf '%s\n' "$left" | sed 's/^/left /'
	echo "asm_rewritten syscall_cp.s"
	echo "asm_trap $asm_trap"
} >"$out/sites.txt"
echo "libc-aware: rewrote $rewritten of $all C syscall sites in musl ($nleft left);" \
	"assembly: syscall_cp.s by hand, trapping: $asm_trap"
[ -z "$left" ] || printf 'libc-aware: not rewritten: %s\n' "$left" >&2

./configure --prefix="$out" --syslibdir=/lib --enable-wrapper=gcc >"$out/configure.log" 2>&1 || {
	cat "$out/configure.log" >&2
	exit 1
}
make -j"$jobs" >"$out/make.log" 2>&1 || {
	tail -n 30 "$out/make.log" >&2
	echo "libc-aware: building musl failed (log: $out/make.log)" >&2
	exit 1
}
# Everything under OUT: the dynamic linker's link too, never /lib's.
make install-headers install-tools >>"$out/make.log" 2>&1
make install-libs LDSO_PATHNAME="$out/lib/ld-musl-x86_64.so.1" >>"$out/make.log" 2>&1
