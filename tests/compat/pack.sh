# SPDX-License-Identifier: MIT
# tests/compat/pack.sh: `elfvm pack` on Debian's own dynamic executables and
# on small programs built here: the image must hold what the host's dynamic
# linker would open (ldd is the oracle), under the names it opens them by,
# refuse what ld.so would fail on (status 125, one line), place --file,
# --dir and --lib, and reuse its cache.  Sourced by tests/run.sh inside
# all_cases.  One line per case:
#     pack_case NAME 'SHELL SNIPPET'
# The snippet runs in the case's own directory with $EV = the elfvm to test
# and XDG_CACHE_HOME=./cache; it passes by exiting 0 and otherwise prints
# why as its last line (die).  Packing boots no VM, so these cases use
# build/elfvm even when ELFVM is tests/fake_elfvm.sh (which only runs).

PACK_EV=$ELFVM
case $PACK_EV in *fake_elfvm.sh) PACK_EV=$ROOT/build/elfvm ;; esac

# Helpers every snippet gets.
PACK_LIB='
die() { echo "$*"; exit 1; }
# pack OUT ARGS...: elfvm pack -o OUT ARGS, which must succeed.
pack() { o=$1; shift; "$EV" pack -o "$o" "$@" 2>err || die "pack $* failed: $(cat err)"; }
# listing IMAGE: "cpio -itv" of the content part into IMAGE.v, the links
# ("NAME TARGET") into IMAGE.l, the regular files into IMAGE.f.
listing() {
	cpio -itv --quiet <"$1" >"$1.v" || die "cpio cannot read $1"
	awk "\$1 ~ /^l/ { print \$9, \$11 }" "$1.v" >"$1.l"
	awk "\$1 ~ /^-/ { print \$9 }" "$1.v" >"$1.f"
}
# resolve IMAGE PATH: PATH resolved through the links listed in IMAGE.l,
# as the guest kernel will resolve it (no "..").
resolve() {
	p=${2#/} out= hops=0
	while [ -n "$p" ]; do
		c=${p%%/*}
		case $p in */*) p=${p#*/} ;; *) p= ;; esac
		[ -z "$c" ] || [ "$c" = . ] && continue
		cand=${out:+$out/}$c
		t=$(awk -v n="$cand" "\$1 == n { print \$2; exit }" "$1.l")
		if [ -z "$t" ]; then out=$cand; continue; fi
		hops=$((hops + 1))
		[ $hops -le 40 ] || die "$2: too many links in the image"
		case $t in /*) out= ;; esac
		p=${t#/}${p:+/$p}
	done
	echo "$out"
}
# has_file IMAGE PATH: PATH reaches a regular file in the image.
has_file() {
	f=$(resolve "$1" "$2")
	grep -qxF "$f" "$1.f" || die "$2 (resolved: $f) is not a file in the image"
}
# lib NAME SRC [GCC ARGS]: build a shared library libNAME.so from SRC.
lib() { n=$1 c=$2; shift 2; printf "%s\n" "$c" >"$n.c" && gcc -shared -fPIC -o "lib$n.so" "$n.c" "$@" || die "gcc failed for lib$n.so"; }
'

# pack_case NAME SNIPPET: see the top of this file.
pack_case() {
	next_case "pack/$1" || return 0
	[ -x "$PACK_EV" ] || fail "cannot run: $PACK_EV is not an executable (make)"
	for tool in cpio gcc awk ldd; do
		command -v $tool >/dev/null 2>&1 || fail "cannot run: $tool is missing"
	done
	(cd "$D" && XDG_CACHE_HOME=$D/cache EV=$PACK_EV exec sh -c "$PACK_LIB$2") \
		</dev/null >"$D/out" 2>&1
	st=$?
	[ $st = 0 ] && pass
	fail "status $st: $(tail -n 1 "$D/out")"
}

# The image holds exactly the files ldd names (the interpreter among
# them), each reachable under the name ld.so opens it by, plus the program
# and /etc; /lib64/ld-linux-x86-64.so.2 reaches the interpreter through the
# host's symlinks, which the image keeps as symlinks.
for p in sha256sum bash ls tar grep qemu-system-x86_64; do
	pack_case ldd-closure-$p '
	prog=$(PATH=/usr/bin:/bin command -v '$p') || die "cannot run: '$p' is not installed"
	pack img "$prog"
	listing img
	has_file img "$prog"
	ldd "$prog" >ldd.out || die "ldd $prog failed"
	grep -q "libc.so.6 => /" ldd.out || die "ldd names no libc.so.6"
	paths=$(sed -n "s/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p" ldd.out)
	for f in $paths; do has_file img "$f"; done
	for f in "$prog" $paths; do r=$(readlink -f "$f") && echo "${r#/}"; done |
		grep -v "/libgcc_s.so.1\$" | sort -u >want
	# libgcc_s.so.1 is added on purpose for glibc programs (docs/packer.md).
	grep -v -e "^etc/" -e "^usr/share/zoneinfo/" -e "/libgcc_s.so.1\$" img.f | sort >got
	cmp -s want got || die "files other than ldd names: $(diff want got | grep "^[<>]" | tr "\n" " ")"
	has_file img /lib64/ld-linux-x86-64.so.2
	real=$(readlink -f /lib64/ld-linux-x86-64.so.2)
	[ "$(resolve img /lib64/ld-linux-x86-64.so.2)" = "${real#/}" ] ||
		die "/lib64/ld-linux-x86-64.so.2 resolves to $(resolve img /lib64/ld-linux-x86-64.so.2), not $real"
	grep -qE "^(lib64|lib64/ld-linux-x86-64.so.2) " img.l ||
		die "no symlink for /lib64 or /lib64/ld-linux-x86-64.so.2 in the image"
	cpio -it --quiet <img | sort | uniq -d | grep . && die "a name appears twice"
	exit 0'
done

# A library that is not there: status 125 and one line naming it, who
# needed it and where it was looked for; also when a library needs it.
pack_case missing-lib '
lib elfvmgone "int gone(void) { return 1; }" -Wl,-soname,libelfvmgone.so.1
printf "int gone(void);\nint main(void) { return gone(); }\n" >m.c
gcc -o prog m.c -L. -l:libelfvmgone.so || die "gcc failed"
rm libelfvmgone.so
"$EV" pack -o img ./prog 2>err
st=$?
[ $st = 125 ] || die "expected status 125 got $st"
[ "$(wc -l <err)" = 1 ] || die "expected one line on stderr: $(cat err)"
grep -q "^elfvm: $(pwd -P)/prog: libelfvmgone.so.1 (needed by $(pwd -P)/prog) not found in /etc/ld.so.cache:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib:/usr/lib\$" err ||
	die "unexpected message: $(cat err)"
[ -e img ] && die "a failed pack left its output behind"
mkdir l
lib elfvmgone "int gone(void) { return 1; }" -Wl,-soname,libelfvmgone.so.1
lib mid "int gone(void); int mid(void) { return gone(); }" -L. -l:libelfvmgone.so
mv libmid.so l/ && mv libelfvmgone.so libelfvmgone.so.1
printf "int mid(void);\nint main(void) { return mid(); }\n" >m2.c
gcc -o prog2 m2.c -Ll -lmid -Wl,-rpath-link,. -Wl,--enable-new-dtags -Wl,-rpath,"\$ORIGIN/l" &&
gcc -o prog3 m2.c -Ll -lmid -Wl,-rpath-link,. -Wl,--disable-new-dtags -Wl,-rpath,"/nonexistent-dir:\$ORIGIN/l" ||
	die "gcc failed"
rm libelfvmgone.so.1
P=$(pwd -P)
"$EV" pack -o img ./prog2 2>err
[ $? = 125 ] || die "expected status 125 for prog2"
grep -q "^elfvm: $P/prog2: libelfvmgone.so.1 (needed by $P/l/libmid.so) not found in /etc/ld.so.cache:" err ||
	die "unexpected message for prog2: $(cat err)"
"$EV" pack -o img ./prog3 2>err
[ $? = 125 ] || die "expected status 125 for prog3"
grep -q "^elfvm: $P/prog3: libelfvmgone.so.1 (needed by $P/l/libmid.so) not found in /nonexistent-dir:$P/l:/etc/ld.so.cache:" err ||
	die "unexpected message for prog3 (DT_RPATH is inherited): $(cat err)"
exit 0'

# $ORIGIN in DT_RPATH and DT_RUNPATH, against the host: DT_RPATH is
# inherited by what the program loads, DT_RUNPATH is not, so the same
# program links with RPATH and does not start with RUNPATH; elfvm pack
# must agree with the native run both times.
pack_case origin-rpath '
mkdir -p app/bin/lib
lib b "int b(void) { return 42; }"
lib a "int b(void); int a(void) { return b(); }" -L. -lb
mv liba.so libb.so app/bin/lib/
printf "int a(void);\nint main(void) { return a(); }\n" >m.c
gcc -o app/bin/rp m.c -Lapp/bin/lib -la -Wl,-rpath-link,app/bin/lib -Wl,--disable-new-dtags -Wl,-rpath,"\$ORIGIN/lib" || die "gcc failed"
gcc -o app/bin/rup m.c -Lapp/bin/lib -la -Wl,-rpath-link,app/bin/lib -Wl,--enable-new-dtags -Wl,-rpath,"\${ORIGIN}/lib" || die "gcc failed"
app/bin/rp
[ $? = 42 ] || die "native run of the RPATH program failed"
app/bin/rup 2>/dev/null && die "the RUNPATH program ran natively: the test is wrong"
pack img app/bin/rp
listing img
has_file img "$PWD/app/bin/lib/liba.so"
has_file img "$PWD/app/bin/lib/libb.so"
"$EV" pack -o img2 app/bin/rup 2>err
[ $? = 125 ] || die "RUNPATH: expected status 125, as ld.so fails"
grep -q "libb.so (needed by $PWD/app/bin/lib/liba.so) not found in /etc/ld.so.cache:" err ||
	die "RUNPATH: unexpected message: $(cat err)"
exit 0'

# A musl program: its interpreter is libc itself (DT_NEEDED libc.so is
# musl's own name), its libraries are found by RPATH with $ORIGIN, and
# musl's path file replaces ld.so.cache.
pack_case musl-dynamic '
command -v musl-gcc >/dev/null || die "cannot run: musl-gcc is missing (musl-tools)"
mkdir -p bin/lib
printf "int m(void) { return 7; }\n" >m.c && musl-gcc -shared -fPIC -o bin/lib/libm7.so m.c &&
printf "int m(void);\nint main(void) { return m(); }\n" >p.c &&
musl-gcc -o bin/p p.c -Lbin/lib -lm7 -Wl,-rpath,"\$ORIGIN/lib" || die "musl-gcc failed"
bin/p
[ $? = 7 ] || die "the native run failed"
pack img bin/p
listing img
has_file img /lib/ld-musl-x86_64.so.1
has_file img "$PWD/bin/lib/libm7.so"
grep -q "ld.so.cache" img.f && die "a musl program got glibc'"'"'s ld.so.cache"
[ -e /etc/ld-musl-x86_64.path ] && { grep -qx etc/ld-musl-x86_64.path img.f || die "no ld-musl-x86_64.path"; }
exit 0'

# --file and --dir put host files at the guest paths asked for (through
# the image symlinks), keep symlinks and modes; --lib adds a library and
# what it needs.
pack_case file-dir-lib '
mkdir -p tree/sub && echo one >tree/one && echo two >tree/sub/two && ln -s one tree/ln
chmod 0750 tree/sub && chmod 0600 tree/one
echo f >f.txt
pack img --file f.txt --file "$PWD/f.txt:/opt/x/g.txt" --file f.txt:/lib/ \
	--dir tree --dir "tree:/srv/t" --lib libz.so.1 /usr/bin/true
listing img
has_file img "$PWD/f.txt"
has_file img /opt/x/g.txt
has_file img /lib/f.txt
for t in "$PWD/tree" /srv/t; do
	has_file img "$t/one"
	has_file img "$t/sub/two"
	grep -q "^${t#/}/ln one\$" img.l || die "$t/ln is not the symlink to one"
	grep -q "^drwxr-x--- .* ${t#/}/sub\$" img.v || die "$t/sub lost its mode 0750"
	grep -q "^-rw------- .* ${t#/}/one\$" img.v || die "$t/one lost its mode 0600"
done
z=$(ldd /usr/bin/gzip 2>/dev/null | sed -n "s/.*libz.so.1 => \(\/[^ ]*\) .*/\1/p")
[ -n "$z" ] || z=/lib/x86_64-linux-gnu/libz.so.1
has_file img "$z"
"$EV" pack -o img --lib libelfvm-nonexistent.so /usr/bin/true 2>err
[ $? = 125 ] && grep -q "libelfvm-nonexistent.so (--lib) not found" err ||
	die "--lib of a missing library: $(cat err)"
exit 0'

# The cache: a second pack reuses the entry (same inode and mtime, one
# entry), gives the same content part, and a damaged entry is rebuilt.
pack_case cache '
pack img1 /usr/bin/sha256sum
[ "$(ls cache/elfvm | wc -l)" = 1 ] || die "expected one cache entry: $(ls -a cache/elfvm)"
e=cache/elfvm/$(ls cache/elfvm)
before=$(stat -c "%i %Y %s" "$e")
pack img2 /usr/bin/sha256sum
[ "$(stat -c "%i %Y %s" "$e")" = "$before" ] || die "the entry was rewritten"
[ "$(ls -a cache/elfvm | wc -l)" = 3 ] || die "expected one cache entry: $(ls -a cache/elfvm)"
n=$(stat -c %s "$e")
cmp -n "$n" img1 "$e" >/dev/null && cmp -n "$n" img2 "$e" >/dev/null || die "the images do not start with the entry"
pack img3 --no-cache /usr/bin/sha256sum
cmp -n "$n" img3 "$e" >/dev/null || die "--no-cache gives another content part"
head -c 1000 "$e" >t && cat t >"$e"
pack img4 /usr/bin/sha256sum
[ "$(stat -c %s "$e")" = "$n" ] || die "the damaged entry was not rebuilt"
cmp -n "$n" img4 img1 >/dev/null || die "the rebuilt image differs"
pack img5 --env ELFVM_TEST_X=1 /usr/bin/sha256sum a b
[ "$(ls cache/elfvm | wc -l)" = 1 ] || die "argv or env made a new entry"
pack img6 --file img1:/x /usr/bin/sha256sum
[ "$(ls cache/elfvm | wc -l)" = 2 ] || die "--file did not make a new entry"
exit 0'

# elfvm run --image boots a packed image as it is (its argv and
# environment), adding only stdin.
pack_case run-image '
[ -f /bin/busybox ] || die "cannot run: /bin/busybox is missing (busybox-static)"
pack img1 --env ELFVM_TEST_IMG=packed /bin/busybox env
timeout -k 5 120 "$EV" run --timeout 60 --image img1 >out 2>err </dev/null
st=$?
[ $st = 0 ] || die "expected status 0 got $st: $(head -c 300 err)"
grep -qx ELFVM_TEST_IMG=packed out || die "the packed environment is lost: $(head -c 200 out)"
pack img2 /bin/busybox cat
echo "from stdin" | timeout -k 5 120 "$EV" run --timeout 60 --image img2 >out 2>err
st=$?
[ $st = 0 ] || die "expected status 0 got $st: $(head -c 300 err)"
[ "$(cat out)" = "from stdin" ] || die "expected the stdin back, got $(cat out)"
"$EV" run --image img2 extra 2>err </dev/null
[ $? = 125 ] || die "ARGS after --image were accepted"
exit 0'

# The dynamic linker run as the program (running the interpreter directly
# works too): elfvm packs the program it is asked to load.
vm_case compat/ldso-direct-true -P /lib64/ld-linux-x86-64.so.2 -x 0 -- /usr/bin/true
vm_case compat/ldso-direct-echo -P /lib64/ld-linux-x86-64.so.2 -x 0 -- --argv0 e /usr/bin/echo via ld.so
