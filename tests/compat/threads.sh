# SPDX-License-Identifier: MIT
# tests/compat/threads.sh: Debian's own multi-threaded programs, unmodified,
# run natively and under elfvm (one CPU) on the same input files; stdout and
# the exit status must match.  Sourced by tests/run.sh inside all_cases.
# One line per case:
#     th NAME PROG [options] -- ARGS...   reads the inputs in $TH_IN
# PROG is a name looked up in PATH by both runs.  Options are vm_case's
# (tests/run.sh).  Every case names its thread count (-T2, -p 2,
# --parallel=2, --threads=2, ...) rather than taking the number of CPUs,
# which differs between the host and the guest, and each was checked to
# create threads natively (strace -f) and to give the same bytes on every
# run: the threaded xz, zstd, pzstd, pigz and pbzip2 formats depend on the
# block size and the thread count, never on timing.  Compressed output is
# compared as `od -Ax -tx1` so that a difference is reported at its offset.
# Decompression is checked two ways: `-t` on a 2.4 MB archive (every
# checksum verified, nothing written) and `-dc` of a 600 KB archive whose
# text is compared line by line (the guest's stdout runs at a few hundred
# KB/s, so large outputs would make the cases slow).  The inputs are made
# once per suite run under $T and packed with --dir at the same absolute
# path.  Left out: stress-ng, whose parent forks one child per stressor
# instance with no option to run a stressor in-process (see
# tests/README.md); fork returns ENOSYS in the guest.

TH_IN=$T/threads-in
TH_HEX='od -Ax -tx1 -v'

# th_make DIR: every input file.  An archive whose tool is missing is left
# out (the case naming that tool then fails as "not installed").
th_make() {
	d=$1
	mkdir -p "$d" || return 1
	# Text that compresses about 7:1: a line number and one of 256 fixed
	# sentences chosen by a Lehmer generator (exact in awk's doubles).
	cat >"$d/gen.awk" <<'EOF'
BEGIN {
	x = 12345
	split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega", w, " ")
	for (k = 0; k < 256; k++) {
		s = ""
		for (j = 0; j < 4 + k % 9; j++) { x = (x * 16807) % 2147483647; s = s " " w[x % 24 + 1] }
		sent[k] = s
	}
	for (i = 1; i <= n; i++) { x = (x * 16807) % 2147483647; printf "%07d%s\n", i, sent[x % 256] }
}
EOF
	awk -v n=50000 -f "$d/gen.awk" >"$d/text" &&
		awk -v n=12000 -f "$d/gen.awk" >"$d/small" || return 1
	# 300000 short lines, 7200 distinct: sort -u prints 63 KB.
	awk 'BEGIN { x = 4242; split("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega", w, " "); for (i = 0; i < 300000; i++) { x = (x * 16807) % 2147483647; printf "%s %d\n", w[x % 24 + 1], int(x / 24) % 300 } }' >"$d/sortin" || return 1
	# Several blocks or streams each, so that decompression has work for
	# more than one thread.
	if command -v xz >/dev/null; then
		xz -T2 -1 --block-size=512KiB -c "$d/text" >"$d/text.xz" &&
			xz -T2 -1 --block-size=128KiB -c "$d/small" >"$d/small.xz" || return 1
	fi
	if command -v zstd >/dev/null; then
		zstd -q -T2 -3 -B512KiB -c "$d/text" >"$d/text.zst" || return 1
	fi
	if command -v pzstd >/dev/null; then
		pzstd -q -p 2 -3 -c "$d/small" >"$d/small.pzst" || return 1
	fi
	if command -v pigz >/dev/null; then
		pigz -p 2 -n -6 -c "$d/text" >"$d/text.gz" &&
			pigz -p 2 -n -6 -c "$d/small" >"$d/small.gz" || return 1
	fi
	if command -v pbzip2 >/dev/null; then
		pbzip2 -p2 -9 -c "$d/text" >"$d/text.bz2" &&
			pbzip2 -p2 -1 -c "$d/small" >"$d/small.bz2" || return 1
	fi
	# A git work tree of 200 files (an index, no commit) for git grep.
	if command -v git >/dev/null; then
		mkdir -p "$d/repo" &&
			awk -v dir="$d/repo" 'BEGIN { x = 99; for (f = 1; f <= 200; f++) { p = sprintf("%s/f%03d.txt", dir, f); for (i = 0; i < 100 + f; i++) { x = (x * 16807) % 2147483647; printf "line %d %s %d\n", i, (x % 13 ? "foo" : "needle"), x % 1000 >p } close(p) } }' &&
			git -C "$d/repo" init -q && git -C "$d/repo" add . || return 1
	fi
	# perl ithreads: a work queue, a shared counter under lock, join.
	cat >"$d/threads.pl" <<'EOF'
use strict; use warnings;
use threads; use threads::shared; use Thread::Queue;
my $q = Thread::Queue->new; my $r = Thread::Queue->new;
my $total :shared = 0;
my @w = map { threads->create(sub {
	while (defined(my $n = $q->dequeue)) {
		my $s = 0; $s = ($s * 31 + $_) % 1000003 for 1 .. $n;
		{ lock($total); $total += $s; }
		$r->enqueue("$n $s");
	}
	return threads->tid; }) } 1 .. 3;
$q->enqueue($_ * 1000) for 1 .. 40; $q->end;
my @tids = map { $_->join } @w;
print "$_\n" for sort { (split ' ', $a)[0] <=> (split ' ', $b)[0] } map { $r->dequeue } 1 .. 40;
print "total $total joined ", scalar(@tids), "\n";
EOF
	# node: worker threads, and libuv's thread pool (zlib, pbkdf2).
	cat >"$d/threads.js" <<'EOF'
const { Worker } = require('worker_threads');
const zlib = require('zlib');
const crypto = require('crypto');
const code = `const { parentPort, workerData } = require('worker_threads');
let s = 0; for (let i = 1; i <= workerData * 1000; i++) s = (s * 31 + i) % 1000003;
parentPort.postMessage(workerData + ' ' + s);`;
const jobs = [1, 2, 3, 4].map(n => new Promise((res, rej) => {
	const w = new Worker(code, { eval: true, workerData: n });
	w.on('message', res); w.on('error', rej);
}));
const buf = Buffer.alloc(1 << 20, 'elfvm threads ');
const z = new Promise((res, rej) => zlib.gzip(buf, { level: 6 }, (e, out) => e ? rej(e) :
	zlib.gunzip(out, (e2, back) => e2 ? rej(e2) : res('zlib ' + out.length + ' ' + back.equals(buf)))));
const h = new Promise((res, rej) => crypto.pbkdf2('pw', 'salt', 2000, 32, 'sha256',
	(e, k) => e ? rej(e) : res('pbkdf2 ' + k.toString('hex'))));
Promise.all([...jobs, z, h]).then(r => { for (const l of r) console.log(l); });
EOF
	# qemu-img: a compressed qcow2 of 1 MiB, the same raw and one with a
	# byte changed.
	if command -v qemu-img >/dev/null; then
		head -c 1048576 "$d/text" >"$d/img.raw" &&
			qemu-img convert -f raw -O qcow2 -c "$d/img.raw" "$d/img.qcow2" &&
			cp "$d/img.raw" "$d/img2.raw" &&
			printf 'X' | dd of="$d/img2.raw" bs=1 seek=700000 conv=notrunc 2>/dev/null || return 1
	fi
	return 0
}

# th_inputs: $TH_IN, made once per suite run (shared_inputs, run.sh).
th_inputs() {
	shared_inputs "$TH_IN" 60 th_make "$TH_IN"
}

th() {
	n=$1 p=$2
	shift 2
	export XDG_CACHE_HOME="$T/elfvm-cache"
	vm_case "compat/threads-$n" -P "$p" -S th_inputs -o --dir -o "$TH_IN" "$@"
}

I=$TH_IN
PL=/usr/lib/x86_64-linux-gnu/perl
# perl's own module directories (versioned, e.g. .../perl/5.36), from perl.
PL_ARCH=$(perl -MConfig -e 'print $Config{archlibexp}' 2>/dev/null)
PL_PRIV=$(perl -MConfig -e 'print $Config{privlibexp}' 2>/dev/null)

# Compressors: compress with 2 threads (several blocks), test, decompress.
th xz xz -x 0 -F "$TH_HEX" -- -T2 -1 --block-size=512KiB -c "$I/text"
th xz-t xz -x 0 -- -T2 -t "$I/text.xz"
th xz-d xz -x 0 -- -T2 -dc "$I/small.xz"
th zstd zstd -x 0 -F "$TH_HEX" -- -q -T2 -3 -B512KiB -c "$I/text"
th zstd-t zstd -x 0 -- -q -T2 -t "$I/text.zst"
th pzstd pzstd -x 0 -F "$TH_HEX" -- -q -p 2 -3 -c "$I/text"
th pzstd-d pzstd -x 0 -- -q -p 2 -dc "$I/small.pzst"
th pigz pigz -x 0 -F "$TH_HEX" -- -p 2 -n -6 -c "$I/text"
th pigz-t pigz -x 0 -- -p 2 -t "$I/text.gz"
th pigz-d pigz -x 0 -- -p 2 -dc "$I/small.gz"
th pbzip2 pbzip2 -x 0 -F "$TH_HEX" -- -p2 -9 -c "$I/text"
th pbzip2-t pbzip2 -x 0 -- -p2 -t "$I/text.bz2"
th pbzip2-d pbzip2 -x 0 -- -p2 -dc "$I/small.bz2"

# sort: with 32M the 300000 lines are one buffer, sorted and merged by two
# threads (sort threads only from 128Ki lines a buffer); with -S 1M it
# sorts 1M buffers into temporary files in /tmp and merges them.
th sort-parallel sort -x 0 -- --parallel=2 -S 32M -u -k2,2n -k1,1 "$I/sortin"
th sort-S1M sort -x 0 -- --parallel=2 -S 1M -u -k2,2n -k1,1 "$I/sortin"

# git grep: two threads over a work tree's 200 files, output in file order.
th git-grep git -x 0 -- -C "$I/repo" grep --threads=2 -c needle
th git-grep-n git -x 0 -- -C "$I/repo" grep --threads=2 -n -e 'needle 9[0-9][0-9]$'

# perl ithreads with Thread::Queue and threads::shared (its modules packed
# one by one; perl-base is Debian's essential part of perl).
th perl-ithreads perl -x 0 -o --dir -o "$PL-base" -o --file -o "$PL_ARCH/threads.pm" \
	-o --file -o "$PL_ARCH/threads/shared.pm" -o --file -o "$PL_PRIV/Thread/Queue.pm" \
	-o --file -o "$PL_ARCH/auto/threads/threads.so" \
	-o --file -o "$PL_ARCH/auto/threads/shared/shared.so" -- "$I/threads.pl"

# node: V8's platform threads, worker_threads and the libuv thread pool.
# Debian's own nodejs (unlike a nodejs.org build) loads some builtins from
# /usr/share/nodejs as it starts: they go into the image by name (the
# system files on demand of a later issue will make this unnecessary).
NODE_EXT=
for f in acorn-walk/dist/walk.js acorn/dist/acorn.js cjs-module-lexer/dist/lexer.js \
	cjs-module-lexer/lexer.js undici/undici-fetch.js; do
	[ -f "/usr/share/nodejs/$f" ] && NODE_EXT="$NODE_EXT -o --file -o /usr/share/nodejs/$f"
done
# shellcheck disable=SC2086 # NODE_EXT is words without spaces
th node-workers node -x 0 $NODE_EXT -- "$I/threads.js"

# qemu-img: its RCU thread and block-layer thread pool; it takes open file
# description locks (fcntl F_OFD_GETLK/F_OFD_SETLK) on the images.
th qemu-img-compare qemu-img -x 0 -- compare -f qcow2 -F raw "$I/img.qcow2" "$I/img.raw"
th qemu-img-mismatch qemu-img -x 1 -- compare -f qcow2 -F raw "$I/img.qcow2" "$I/img2.raw"
