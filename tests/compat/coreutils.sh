# SPDX-License-Identifier: MIT
# tests/compat/coreutils.sh: Debian's own dynamically linked programs
# (coreutils, grep, sed, gawk, diffutils, findutils, tar, gzip, bzip2, xz,
# bc, file, jq, perl), unmodified, run natively and under elfvm on the same
# input files; stdout and the exit status must match.  Sourced by
# tests/run.sh inside all_cases.  One line per case:
#     cu  NAME PROG [options] -- ARGS...   reads the inputs in $CU_IN
#     cuw NAME PROG [options] -- ARGS...   and may write into $CU_OUT/NAME
# PROG is a name looked up in PATH by both runs (elfvm packs it with its
# libraries).  Options are vm_case's (tests/run.sh): -x N status, -I CMD
# stdin, -F CMD filter both stdouts (e.g. sort, for readdir order), -o WORD
# more elfvm options.  The inputs are made once per suite run by cu_inputs,
# under the suite's own directory $T, and packed with --dir at the same
# absolute path, so both runs name the same files.  A writing case gets
# $CU_OUT/NAME made fresh and empty before each run, and packed.  Run as
# root: the guest is uid 0 and image files belong to root, so owners
# (ls -l, stat %U, whoami) match only then.  Input mtimes are whole seconds
# (an image keeps no nanoseconds).  Programs that fork (xargs, sort's
# compressor, tar -z) are left out until fork exists.

CU_IN=$T/coreutils-in
CU_OUT=$T/coreutils-out

# cu_make DIR: write every input file into DIR (fixed content, modes and
# mtimes).
cu_make() {
	d=$1
	mkdir -p "$d" || return 1
	printf 'pear\napple\nfig\napple\nbanana\nfig\nfig\ncherry\nkiwi\ndate\n' >"$d/fruits.txt"
	printf '10\n9\n100\n-3\n42\n7\n7\n0\n3.5\n1e3\n' >"$d/nums.txt"
	printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbob:x:1000:1000:Bob,,,:/home/bob:/bin/bash\n' >"$d/passwd"
	printf 'fig,3,green\napple,10,red\nbanana,2,yellow\ncherry,10,dark red\nkiwi,2,brown\n' >"$d/table.csv"
	printf 'apple 1\nbanana 2\ncherry 3\n' >"$d/join1"
	printf 'apple red\ncherry dark\ndate brown\n' >"$d/join2"
	printf 'tab\there\rcarriage\001ctl \303\251t\303\251 \377 end\nno newline' >"$d/odd.txt"
	# 2000 lines of words and numbers, about 40 KB.
	awk 'BEGIN { for (i = 1; i <= 2000; i++) printf "%d %s %x line-%05d %s\n", i, (i % 7 ? "alpha" : "BETA"), i * 2654435761 % 65536, 2001 - i, substr("abcdefghijklmnopqrstuvwxyz", i % 26 + 1, i % 11 + 1) }' >"$d/big.txt"
	# 16 KiB of every byte value, in a fixed shuffled order.
	awk 'BEGIN { for (i = 0; i < 16384; i++) printf "%c", (i * 167 + int(i / 256)) % 256 }' >"$d/bin"
	cp "$d/bin" "$d/bin2" && printf 'X' | dd of="$d/bin2" bs=1 seek=9000 conv=notrunc 2>/dev/null
	printf 'one\ntwo\nthree\nfour\nfive\nsix\n' >"$d/old.txt"
	printf 'one\n2\nthree\nfour\nfive and a half\nsix\nseven\n' >"$d/new.txt"
	printf 'scale=30\n4*a(1)\ne(1)\nsqrt(2)\n2^100\nx=7; x*(x+1)/2\n' >"$d/calc.bc"
	printf '{"name":"elfvm","tags":["vm","elf"],"n":[3,1,2],"nested":{"a":1,"b":[true,null]}}\n' >"$d/data.json"
	printf '{ for (w = 2; w <= NF; w++) count[$w]++ } END { n = asorti(count, k); for (i = 1; i <= n; i++) printf "%%s %%d\\n", k[i], count[k[i]] }\n' >"$d/prog.awk"
	base64 "$d/bin" >"$d/bin.b64"
	sha256sum "$d/fruits.txt" "$d/nums.txt" "$d/bin" >"$d/SHA256SUMS" || return 1
	gzip -9 -n -c "$d/big.txt" >"$d/big.txt.gz" &&
		bzip2 -9 -c "$d/big.txt" >"$d/big.txt.bz2" &&
		xz -6 -T1 -c "$d/big.txt" >"$d/big.txt.xz" || return 1

	# ls -l: files with fixed modes and mtimes, a symlink, no subdirectory
	# (a directory's size is the filesystem's business).
	mkdir -p "$d/lsdir" &&
		printf 'alpha\n' >"$d/lsdir/a.txt" && chmod 644 "$d/lsdir/a.txt" &&
		printf '#!/bin/sh\necho hi\n' >"$d/lsdir/b.sh" && chmod 755 "$d/lsdir/b.sh" &&
		printf 'secret\n' >"$d/lsdir/secret" && chmod 600 "$d/lsdir/secret" &&
		: >"$d/lsdir/empty" && chmod 444 "$d/lsdir/empty" &&
		ln -s a.txt "$d/lsdir/link" || return 1
	i=0
	for f in a.txt b.sh secret empty link; do
		touch -h -d "@$((1000000000 + i * 86400))" "$d/lsdir/$f" || return 1
		i=$((i + 1))
	done

	# A tree for find, tar and cp.
	mkdir -p "$d/tree/a/b" "$d/tree/d" "$d/tree/empty" &&
		printf 'c\n' >"$d/tree/a/b/c.txt" &&
		printf 'x log\n' >"$d/tree/a/x.log" &&
		printf 'e\n' >"$d/tree/d/e.txt" &&
		printf 'top\n' >"$d/tree/top.txt" &&
		ln -s a/b/c.txt "$d/tree/to-c" || return 1
	find "$d/tree" -exec touch -h -d @1200000000 {} + || return 1
	tar -cf "$d/tree.tar" --sort=name --owner=0 --group=0 --numeric-owner -C "$d/tree" . || return 1
	# Whole seconds: an image keeps mtimes to the second (cpio "newc").
	find "$d" -maxdepth 1 -type f -exec touch -d @1300000000 {} + &&
		touch -d @1000000000 "$d/fruits.txt" "$d/tree.tar" "$d/bin"
}

# cu_inputs: $CU_IN, made once per suite run (shared_inputs, run.sh).
cu_inputs() {
	shared_inputs "$CU_IN" 30 cu_make "$CU_IN"
}

# The images hold this run's input paths, so they go to a cache of this
# run's own (removed with $T), not the user's.  Only the child that runs a
# case gets this far with it: next_case ends every other.
cu() {
	n=$1 p=$2
	shift 2
	export XDG_CACHE_HOME="$T/elfvm-cache"
	vm_case "compat/coreutils-$n" -P "$p" -S cu_inputs -o --dir -o "$CU_IN" "$@"
}

cuw() {
	n=$1 p=$2
	shift 2
	export XDG_CACHE_HOME="$T/elfvm-cache"
	vm_case "compat/coreutils-$n" -P "$p" -S "cu_inputs && rm -rf '$CU_OUT/$n' && mkdir -p '$CU_OUT/$n'" \
		-o --dir -o "$CU_IN" -o --dir -o "$CU_OUT/$n" "$@"
}

I=$CU_IN
O=$CU_OUT

# coreutils: text
cu sort sort -x 0 -- "$I/fruits.txt"
cu sort-nr sort -x 0 -- -g -r "$I/nums.txt"
cu sort-keys sort -x 0 -- -t, -k2,2n -k1,1r "$I/table.csv"
cu sort-u-stdin sort -x 0 -I "cat $I/big.txt" -- -u -k2,2 -k1,1n
cu uniq-c uniq -x 0 -I "sort $I/fruits.txt" -- -c
cu wc wc -x 0 -- "$I/fruits.txt" "$I/big.txt" "$I/bin"
cu cut cut -x 0 -- -d: -f1,3,7 "$I/passwd"
cu tr tr -x 0 -I "cat $I/big.txt" -- -s 'a-z' 'A-Z'
cu head head -x 0 -- -n 5 "$I/big.txt" "$I/fruits.txt"
cu tail-c tail -x 0 -- -c 300 "$I/bin"
cu tail-n tail -x 0 -- -n 3 "$I/big.txt"
cu cat-A cat -x 0 -- -A "$I/odd.txt"
cu cat-n-binary cat -x 0 -- "$I/bin" "$I/fruits.txt"
cu od od -x 0 -- -A x -t x1z -N 600 -j 100 "$I/bin"
cu base64 base64 -x 0 -- "$I/bin"
cu base64-d base64 -x 0 -- -d "$I/bin.b64"
cu sha256sum sha256sum -x 0 -- "$I/big.txt" "$I/bin"
cu sha256sum-c sha256sum -x 0 -- -c "$I/SHA256SUMS"
cu md5sum md5sum -x 0 -- "$I/big.txt" "$I/bin"
cu b2sum b2sum -x 0 -- "$I/bin"
cu cksum cksum -x 0 -- "$I/big.txt"
cu seq seq -x 0 -- -w 1 7 2000
cu factor factor -x 0 -- 1234567890 600851475143 18446744073709551557
cu expr expr -x 0 -- 7 '*' 6 + 100 / 3
cu expr-match expr -x 0 -- match hello-world-123 '.*-\([0-9]*\)'
cu expr-false expr -x 1 -- 0 '&' 1
cu date date -x 0 -- -u -d @0
cu date-fmt date -x 0 -- -u -d '2000-02-29 12:34:56' '+%s %A %j %V %Y-%m-%d'
cu paste paste -x 0 -- -d, "$I/fruits.txt" "$I/nums.txt"
cu join join -x 0 -- "$I/join1" "$I/join2"
cu comm comm -x 0 -I "sort -u $I/fruits.txt" -- - "$I/join2"
cu nl nl -x 0 -- -ba "$I/fruits.txt"
cu tac tac -x 0 -- "$I/fruits.txt"
cu fold fold -x 0 -- -w 13 "$I/passwd"
cu fmt fmt -x 0 -- -w 40 "$I/big.txt"
cu numfmt numfmt -x 0 -- --to=iec 1000 1048576 123456789
cu shuf shuf -x 0 -- --random-source="$I/bin" -n 5 "$I/big.txt"
cu printf /usr/bin/printf -x 0 -- '%s=%05.2f %x %q\n' pi 3.14159 255 'a b'
cu dd dd -x 0 -- if="$I/bin" bs=1000 skip=3 count=2 status=none

# coreutils: files and metadata (fixed mtimes; no inode or device numbers)
cu stat stat -x 0 -- -c '%n %s %a %A %F %Y %U %G' "$I/fruits.txt" "$I/lsdir/link" "$I/lsdir/b.sh"
cu stat-L stat -x 0 -- -L -c '%n %s %F %Y' "$I/lsdir/link"
cu ls-l ls -x 0 -- -l --time-style=+%s "$I/lsdir"
cu ls-R ls -x 0 -- -R -p "$I/tree"
cu ls-missing ls -x 2 -- "$I/no-such-file"
cu realpath realpath -x 0 -- "$I/tree/to-c" "$I/tree/a/../d/e.txt"
cu readlink-f readlink -x 0 -- -f "$I/tree/to-c"
cu whoami whoami -x 0 --
cuw cp-a cp -x 0 -F sort -- -av "$I/tree" "$O/cp-a/copy"
cuw install install -x 0 -- -v -m 640 "$I/fruits.txt" "$I/passwd" "$O/install/"
cuw split split -x 0 -- --verbose -b 9000 "$I/big.txt" "$O/split/part-"
cuw csplit csplit -x 0 -- -f "$O/csplit/cs" "$I/big.txt" '/^500 /' '/^1500 /'
cuw ln-s ln -x 0 -- -sv "$I/fruits.txt" "$O/ln-s/link"

# grep, sed, gawk, diffutils, findutils
cu grep grep -x 0 -- -n -E 'BETA.*(aa|bc)' "$I/big.txt"
cu grep-c grep -x 0 -- -c -i beta "$I/big.txt"
cu grep-none grep -x 1 -- kiwi-not-there "$I/fruits.txt"
cu grep-r grep -x 0 -F sort -- -r -n e "$I/tree"
cu sed sed -x 0 -- -n -e 's/^\([0-9]*\) BETA/[\1]/p' -e '/line-0000[1-3]/p' "$I/big.txt"
cu gawk gawk -x 0 -- -F, '{ s[$3] += $2 } END { PROCINFO["sorted_in"] = "@ind_str_asc"; for (k in s) printf "%-10s %5.1f\n", k, s[k] }' "$I/table.csv"
cu gawk-f gawk -x 0 -- -f "$I/prog.awk" "$I/big.txt"
cu diff diff -x 1 -- -u "$I/old.txt" "$I/new.txt"
cu diff-same diff -x 0 -- "$I/fruits.txt" "$I/fruits.txt"
cu cmp cmp -x 1 -- "$I/bin" "$I/bin2"
cu find find -x 0 -F sort -- "$I/tree" -printf '%y %m %TY %P\n'
cu find-name find -x 0 -F sort -- "$I/tree" -name '*.txt' -type f

# archives and compression (one process each: no fork)
cu tar-t tar -x 0 -- -tvf "$I/tree.tar"
cuw tar-c tar -x 0 -- -cvf "$O/tar-c/out.tar" --sort=name -C "$I/tree" .
cuw tar-x tar -x 0 -- -xvf "$I/tree.tar" -C "$O/tar-x"
cu gzip gzip -x 0 -- -c -n -6 "$I/big.txt"
cu gzip-d gzip -x 0 -- -dc "$I/big.txt.gz"
cu bzip2 bzip2 -x 0 -- -c -9 "$I/fruits.txt" "$I/bin"
cu bzip2-d bzip2 -x 0 -- -dc "$I/big.txt.bz2"
cu xz xz -x 0 -- -c -T1 -3 "$I/big.txt"
cu xz-d xz -x 0 -- -dc "$I/big.txt.xz"

# bc, file, jq, perl
cu bc bc -x 0 -I "cat $I/calc.bc" -- -l
cu file file -x 0 -o --file -o /usr/share/misc/magic.mgc -o --file -o /etc/magic -- \
	"$I/fruits.txt" "$I/bin" "$I/tree.tar" "$I/big.txt.gz" "$I/big.txt.xz" "$I/lsdir/b.sh" "$I/tree"
cu jq jq -x 0 -- -S '{name, n: (.n | sort), count: (.tags | length), b: .nested.b}' "$I/data.json"
cu perl perl -x 0 -- -ne 'chomp; $w{$_}++; END { print map { "$_ $w{$_}\n" } sort keys %w }' "$I/fruits.txt"
