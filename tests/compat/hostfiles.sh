# SPDX-License-Identifier: MIT
# tests/compat/hostfiles.sh: the host's files through virtio-9p
# (docs/hostfiles.md).  Interpreters whose modules, dlopen()ed libraries
# and data are not in the image must run with no --dir or --lib, their
# system files read from the host on demand: python3, perl, tclsh, node
# and a JVM, each compared with its native run.  With --sealed the same
# programs must fail as they fail natively without the file (their own
# message, no crash); `elfvm pack --trace` of each, booted with --image,
# must print the same as natively.  Volumes (--volume HOST:GUEST[:ro]):
# what the program writes is checked natively afterwards: a tree of
# files made with mkdir, writes, appends, renames, unlinks, truncation,
# symlinks and chmod compared with the same script run natively, a sqlite3
# database with its journal, a file written through mmap MAP_SHARED; a
# read-only volume refuses writes with EROFS.  Sourced by tests/run.sh
# inside all_cases.  The programs are named by their Debian paths so that
# a python3 earlier in PATH (pyenv) is not taken.

HF_PY=/usr/bin/python3
HF_PY_SCRIPT='
import json, sqlite3, threading, asyncio, hashlib, decimal, locale, os
db = sqlite3.connect(":memory:")
db.execute("create table t(a, b)")
db.executemany("insert into t values (?, ?)", [(i, str(i * i)) for i in range(100)])
print(json.dumps({"rows": db.execute("select count(*), sum(a) from t").fetchone()}))
out = []
ts = [threading.Thread(target=lambda k=k: out.append(k * k)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(out))
async def twice(x):
    await asyncio.sleep(0.01)
    return 2 * x
async def main():
    return await asyncio.gather(*(twice(i) for i in range(5)))
print(asyncio.run(main()))
print(hashlib.sha256(b"elfvm").hexdigest()[:16], decimal.Decimal(1) / 7)
'
HF_PERL_SCRIPT='use POSIX qw(floor strftime); use List::Util qw(sum max); use Data::Dumper;
use Time::Local; use Digest::MD5 qw(md5_hex); use Encode;
$Data::Dumper::Sortkeys = 1; $Data::Dumper::Indent = 1;
print floor(2.5), " ", sum(1..10), " ", max(3, 9, 4), "\n";
print strftime("%Y-%m-%d", gmtime(timegm(0, 0, 0, 1, 0, 2020))), "\n";
print md5_hex("elfvm"), " ", length(encode("UTF-8", "\x{263a}")), "\n";
print Dumper({ a => [1, 2], b => "x" });'
HF_TCL_SCRIPT='puts [string toupper hello]; puts [lsort {c a b}]
puts [clock format 0 -gmt 1 -format %Y-%m-%d]; puts [format %.3f [expr {acos(-1)}]]
package require msgcat; puts [msgcat::mc hello]'
HF_NODE_SCRIPT='const zlib = require("zlib"), crypto = require("crypto");
console.log(JSON.stringify({ a: [1, 2] }), require("path").join("a", "b"));
console.log(zlib.gunzipSync(zlib.gzipSync("elfvm")).toString(), crypto.createHash("sha256").update("x").digest("hex").slice(0, 12));
console.log(new Intl.NumberFormat("de-DE").format(1234567.891));'

# The JVM's class, compiled once per suite run (javac), read from a
# read-only volume at the same path (packed with --dir for pack --trace).
hf_java_class() {
	mkdir -p "$T/hf-java" && cat >"$T/hf-java/Hello.java" <<'EOF'
import java.util.*;
import java.util.stream.*;
public class Hello {
	public static void main(String[] a) throws Exception {
		List<Integer> l = IntStream.range(0, 10).boxed().collect(Collectors.toList());
		Thread t = new Thread(() -> System.out.println("thread " + l.stream().mapToInt(i -> i).sum()));
		t.start();
		t.join();
		System.out.println(String.format("%s %.2f", new TreeMap<>(Map.of("b", 2, "a", 1)), Math.PI));
	}
}
EOF
	javac -d "$T/hf-java" "$T/hf-java/Hello.java"
}

vm_case hostfiles/python3 -P $HF_PY -- -c "$HF_PY_SCRIPT"
vm_case hostfiles/perl -P /usr/bin/perl -- -e "$HF_PERL_SCRIPT"
vm_case hostfiles/tclsh -P /usr/bin/tclsh8.6 -I "printf '%s\n' '$HF_TCL_SCRIPT'"
vm_case hostfiles/node -P /usr/bin/node -- -e "$HF_NODE_SCRIPT"
vm_case hostfiles/java -P /usr/lib/jvm/java-17-openjdk-amd64/bin/java -t 60 \
	-S 'shared_inputs "$T/hf-java" 120 hf_java_class' -o --mem -o 1G -o --volume -o "$T/hf-java:$T/hf-java:ro" \
	-- -Xshare:off -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx128m -cp "$T/hf-java" Hello

# Locales and zoneinfo from the host: C.UTF-8 sets without perl's
# "Setting locale failed" (stderr compared too), a zone's name and offset.
vm_case hostfiles/locale -P /usr/bin/perl -s -e LANG=C.UTF-8 -e LC_ALL=C.UTF-8 -- \
	-MPOSIX -e 'print setlocale(LC_ALL), " ", length("\x{e9}"), "\n"'
vm_case hostfiles/zoneinfo -P /bin/date -e TZ=America/New_York -- -d @86400 '+%F %T %Z %z'

# What is never reachable from the host (docs/hostfiles.md), asked with
# the shell's own test so that no fork is needed.
hf_never() {
	next_case hostfiles/never-reachable || return 0
	hf_elfvm run --timeout "$VM_TIMEOUT" --log "$D/log" "$BUSYBOX" sh -c \
		'for p in /etc/shadow /etc/gshadow /etc/sudoers /etc/ssh /etc/ssl/private /etc/machine-id /root /home /var/lib /srv /opt /mnt; do [ -e $p ] && echo "reachable: $p"; done; echo checked'
	[ "$hst" = 0 ] || fail "expected status 0 got $hst: $(head -c 300 "$D/vm.err")"
	[ "$(cat "$D/vm.out")" = checked ] || fail "$(tr '\n' ' ' <"$D/vm.out")"
	pass
}

# hf_elfvm ARGS: $ELFVM ARGS with the case's log, stdin /dev/null, into
# $D/vm.out and $D/vm.err; sets hst to the status.
hf_elfvm() {
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" "$@" </dev/null >"$D/vm.out" 2>"$D/vm.err"
	hst=$?
}

# hf_sealed NAME WANT PROG ARGS: under --sealed PROG must end as a program
# that misses a file does (status 1 or 2, never 125 or a signal), with a
# line matching WANT on stderr.
hf_sealed() {
	next_case "hostfiles/sealed-$1" || return 0
	want=$2
	shift 2
	hf_elfvm run --sealed --timeout "$VM_TIMEOUT" --log "$D/log" "$@"
	case $hst in 1 | 2 | 255) ;; *) fail "expected the program's own failure (1 or 2) got $hst: $(head -c 300 "$D/vm.err")" ;; esac
	grep -q "$want" "$D/vm.err" || fail "stderr has no '$want': $(head -c 300 "$D/vm.err")"
	pass
}

hf_sealed python3 "No module named 'encodings'" $HF_PY -c 'print(1)'
hf_sealed perl "Can't locate POSIX.pm" /usr/bin/perl -MPOSIX -e 'print 1'
hf_sealed java "could not find libjava.so" /usr/lib/jvm/java-17-openjdk-amd64/bin/java -version

# hf_trace NAME 'RUN OPTIONS' 'PACK OPTIONS' PROG ARGS: pack --trace (with
# both sets of options), then the image alone, with only the run options
# (no share is given to QEMU), prints what the native run prints.
hf_trace() {
	next_case "hostfiles/trace-$1" || return 0
	[ "$1" = java ] && { shared_inputs "$T/hf-java" 120 hf_java_class || fail "cannot run: javac failed"; }
	[ "$1" = tclsh ] && printf '%s\n' "$HF_TCL_SCRIPT" >"$T/hf.tcl"
	ropts=$2 popts=$3
	shift 3
	"$@" </dev/null >"$D/native.out" 2>"$D/native.err"
	nst=$?
	# shellcheck disable=SC2086 # the options are words
	timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" pack --trace --timeout "$VM_TIMEOUT" $ropts $popts \
		-o "$D/img" "$@" </dev/null >"$D/trace.out" 2>"$D/trace.err" ||
		fail "pack --trace failed: $(tail -n 2 "$D/trace.err")"
	cpio -it --quiet <"$D/img" | grep -qx .elfvm/sealed || fail "the traced image is not marked sealed"
	# shellcheck disable=SC2086
	ELFVM_PRINT_QEMU=1 timeout -k 5 $((VM_TIMEOUT + 60)) "$ELFVM" run --timeout "$VM_TIMEOUT" \
		--log "$D/log" $ropts --image "$D/img" </dev/null >"$D/vm.out" 2>"$D/vm.err"
	vst=$?
	grep -q -- -fsdev "$D/vm.err" && fail "a sealed image was given host shares"
	[ "$vst" = "$nst" ] || fail "expected status $nst got $vst: $(grep -v qemu-system "$D/vm.err" | head -c 300)"
	d=$(differ stdout "$D/native.out" "$D/vm.out")
	[ -n "$d" ] && fail "$d"
	pass
}

hf_trace python3 '' '' $HF_PY -c "$HF_PY_SCRIPT"
hf_trace perl '' '' /usr/bin/perl -e "$HF_PERL_SCRIPT"
hf_trace node '' '' /usr/bin/node -e "$HF_NODE_SCRIPT"
hf_trace tclsh '' "--file $T/hf.tcl" /usr/bin/tclsh8.6 "$T/hf.tcl"
# The JVM's image holds its 130 MB lib/modules (mapped whole at start).
hf_trace java '--mem 1G' "--dir $T/hf-java" /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
	-Xshare:off -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx128m -cp "$T/hf-java" Hello

# The volume cases' script: every kind of change a program makes to a
# tree, in the directory given as argv[1] (python3: busybox's shell would
# need fork for mkdir and mv).
HF_TREE='
import os, sys, shutil, errno
os.chdir(sys.argv[1])
def tryit(what, f, *a):
    try:
        f(*a)
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
os.makedirs("a/b/c")
with open("a/f", "w") as f: f.write("one\n")
with open("a/f", "a") as f: f.write("two\n")
with open("a/b/g", "wb") as f: f.write(b"x")
os.rename("a/f", "a/b/c/f2"); os.rename("a/b/g", "a/g2"); os.unlink("a/g2")
tryit("rmdir-full", os.rmdir, "a/b/c")
tryit("unlink-missing", os.unlink, "nope")
tryit("mkdir-exists", os.mkdir, "a")
tryit("open-excl", os.open, "a/b/c/f2", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
tryit("rename-dir-over-file", os.rename, "a/b", "a/b/c/f2")
with open("big", "w") as f: f.write("".join("%d\n" % i for i in range(2000)))
os.truncate("big", 100)
with open("sparse", "wb") as f: f.truncate(9000)
os.symlink("b/c/f2", "a/link")
print(open("a/link").read(), end="")
os.chmod("big", 0o600)
os.mkdir("d"); open("d/x", "w").close(); shutil.rmtree("d")
fd = os.open("big", os.O_RDWR); os.lseek(fd, 0, os.SEEK_END); os.write(fd, b"tail"); os.fsync(fd); os.fdatasync(fd); os.close(fd)
print(os.stat("big").st_size, os.path.getsize("sparse"), sorted(os.listdir("a")), os.readlink("a/link"))
print("done")
'
# Lists a tree as `find` sees it: type, mode, size, name, link target.
HF_LIST='find . -printf "%y %m %s %p %l\n" | sort'

# The tree script natively in $D/native and in the VM on a volume at
# /vol ($D/vol on the host): same output, same tree.
hf_volume_tree() {
	next_case hostfiles/volume-tree || return 0
	mkdir -p "$D/native" "$D/vol"
	$HF_PY -c "$HF_TREE" "$D/native" >"$D/native.out" 2>&1
	hf_elfvm run --timeout "$VM_TIMEOUT" --log "$D/log" --volume "$D/vol:/vol" $HF_PY -c "$HF_TREE" /vol
	[ "$hst" = 0 ] || fail "expected status 0 got $hst: $(head -c 300 "$D/vm.err")"
	d=$(differ stdout "$D/native.out" "$D/vm.out")
	[ -n "$d" ] && fail "$d"
	(cd "$D/native" && sh -c "$HF_LIST") >"$D/native.tree"
	(cd "$D/vol" && sh -c "$HF_LIST") >"$D/vol.tree"
	d=$(differ tree "$D/native.tree" "$D/vol.tree")
	[ -n "$d" ] && fail "$d"
	cmp -s "$D/native/big" "$D/vol/big" || fail "big differs"
	pass
}
hf_volume_tree

# A sqlite3 database with a rollback journal, written in the VM, read
# natively.
hf_volume_sqlite() {
	next_case hostfiles/volume-sqlite || return 0
	command -v sqlite3 >/dev/null || fail "cannot run: sqlite3 is not installed"
	mkdir -p "$D/vol"
	hf_elfvm run --timeout "$VM_TIMEOUT" --log "$D/log" --volume "$D/vol:/db" /usr/bin/sqlite3 /db/t.db \
		"create table t(a integer, b text); begin; $(seq 1 500 | sed 's/.*/insert into t values(&, hex(&));/' | tr -d '\n') commit; update t set b = 'x' where a % 7 = 0; delete from t where a > 400; vacuum;"
	[ "$hst" = 0 ] || fail "expected status 0 got $hst: $(head -c 300 "$D/vm.err")"
	got=$(sqlite3 "$D/vol/t.db" 'pragma integrity_check; select count(*), sum(a), sum(b = "x") from t;' 2>&1)
	[ "$got" = "ok${NL}400|80200|57" ] || fail "the database read natively: $got"
	[ -e "$D/vol/t.db-journal" ] && fail "the journal was left behind"
	pass
}
hf_volume_sqlite

# mmap MAP_SHARED writes reach the host (msync, then munmap), and a
# read-only volume refuses every change with EROFS.
hf_volume_mmap() {
	next_case hostfiles/volume-mmap || return 0
	mkdir -p "$D/vol"
	hf_elfvm run --timeout "$VM_TIMEOUT" --log "$D/log" --volume "$D/vol:/m" $HF_PY -c '
import mmap, os
fd = os.open("/m/f", os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 3 * 4096)
m = mmap.mmap(fd, 3 * 4096, mmap.MAP_SHARED)
m[0:5] = b"hello"; m[8190:8195] = b"world"; m.flush()
m[-3:] = b"end"; m.close(); os.close(fd); print("ok")'
	[ "$hst" = 0 ] || fail "expected status 0 got $hst: $(head -c 300 "$D/vm.err")"
	printf 'hello' >"$D/want" && head -c 8185 /dev/zero >>"$D/want" && printf 'world' >>"$D/want" &&
		head -c $((3 * 4096 - 8195 - 3)) /dev/zero >>"$D/want" && printf 'end' >>"$D/want"
	cmp -s "$D/want" "$D/vol/f" || fail "the file on the host: $(cmp "$D/want" "$D/vol/f" 2>&1)"
	pass
}
hf_volume_mmap

hf_volume_ro() {
	next_case hostfiles/volume-ro || return 0
	mkdir -p "$D/ro" && echo keep >"$D/ro/f"
	hf_elfvm run --timeout "$VM_TIMEOUT" --log "$D/log" --volume "$D/ro:/ro:ro" $HF_PY -c '
import os, errno
print(open("/ro/f").read(), end="")
for what, f in [("write", lambda: open("/ro/f", "w")), ("create", lambda: open("/ro/new", "w")),
                ("unlink", lambda: os.unlink("/ro/f")), ("mkdir", lambda: os.mkdir("/ro/d")),
                ("rename", lambda: os.rename("/ro/f", "/ro/g")), ("chmod", lambda: os.chmod("/ro/f", 0o600))]:
    try:
        f()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])'
	[ "$hst" = 0 ] || fail "expected status 0 got $hst: $(head -c 300 "$D/vm.err")"
	want="keep write EROFS create EROFS unlink EROFS mkdir EROFS rename EROFS chmod EROFS "
	[ "$(tr '\n' ' ' <"$D/vm.out")" = "$want" ] || fail "stdout: $(tr '\n' ' ' <"$D/vm.out")"
	[ "$(cat "$D/ro/f")" = keep ] && [ ! -e "$D/ro/new" ] && [ ! -e "$D/ro/d" ] || fail "the host directory changed"
	pass
}
hf_volume_ro
hf_never
