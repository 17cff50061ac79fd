# SPDX-License-Identifier: MIT
# tests/compat/busybox.sh: Debian's static busybox (/bin/busybox, package
# busybox-static), an unmodified real-world program, run natively and under
# elfvm on the same argv and stdin; stdout and the exit status must match.
# Sourced by tests/run.sh inside all_cases.  One line per case:
#     compat NAME [options] -- APPLET ARGS...
# Options are vm_case's (tests/run.sh): -I CMD feeds CMD's output as stdin,
# -x N requires status N of both runs, -e K=V sets a variable.  NAME is
# busybox-APPLET[-what]; keep names unique.

BB_TEXT="printf 'pear\napple\nfig\napple\nbanana\nfig\nfig\ncherry\n'"
BB_NUMS="printf '10\n9\n100\n-3\n42\n7\n7\n0\n'"
BB_PASSWD="printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\nbob:x:1000:1000:Bob,,,:/home/bob:/bin/bash\n'"
BB_BIN="cat $BUSYBOX"

compat busybox-echo -x 0 -- echo hello, world
compat busybox-echo-n -x 0 -- echo -n no newline at the end
compat busybox-echo-e -x 0 -- echo -e 'tab\there\\nnew line \0101'
compat busybox-printf -x 0 -- printf '%s=%d hex %x %05.2f|%-6s|%c\n' pi 3 255 3.14159 ab xyz
compat busybox-expr-arith -x 0 -- expr 3 + 4 '*' 5
compat busybox-expr-length -x 0 -- expr length 'hello world'
compat busybox-expr-zero -x 1 -- expr 0
compat busybox-expr-div0 -x 2 -- expr 1 / 0
compat busybox-true -x 0 -- true
compat busybox-false -x 1 -- false
compat busybox-test-false -x 1 -- test 2 -gt 3
compat busybox-seq -x 0 -- seq 1 2000
compat busybox-seq-step -x 0 -- seq -s , 10 -3 -20
compat busybox-basename -x 0 -- basename /usr/lib/x86_64-linux-gnu/libc.so.6 .6
compat busybox-dirname -x 0 -- dirname /usr/lib/x86_64-linux-gnu/libc.so.6
compat busybox-wc -x 0 -I "$BB_TEXT" -- wc
compat busybox-wc-binary -x 0 -I "$BB_BIN" -- wc -c
compat busybox-sort -x 0 -I "$BB_TEXT" -- sort
compat busybox-sort-nr -x 0 -I "$BB_NUMS" -- sort -n -r
compat busybox-sort-u -x 0 -I "$BB_TEXT" -- sort -u
compat busybox-md5sum -x 0 -I "$BB_BIN" -- md5sum
compat busybox-sha256sum -x 0 -I "$BB_BIN" -- sha256sum
compat busybox-sha1sum -x 0 -I "$BB_TEXT" -- sha1sum
compat busybox-sha512sum -x 0 -I "$BB_TEXT" -- sha512sum
compat busybox-tr -x 0 -I "$BB_TEXT" -- tr a-z A-Z
compat busybox-tr-delete -x 0 -I "$BB_TEXT" -- tr -d aeiou
compat busybox-cut -x 0 -I "$BB_PASSWD" -- cut -d: -f1,3,7
compat busybox-uniq-c -x 0 -I "$BB_TEXT | $BUSYBOX sort" -- uniq -c
compat busybox-head -x 0 -I "$BB_TEXT" -- head -n 3
compat busybox-tail -x 0 -I "$BB_TEXT" -- tail -n 2
compat busybox-tail-c -x 0 -I "$BB_BIN" -- tail -c 300
compat busybox-rev -x 0 -I "$BB_PASSWD" -- rev
compat busybox-fold -x 0 -I "$BB_PASSWD" -- fold -w 11
compat busybox-od -x 0 -I "printf 'ab\001\377\n\000z'" -- od -An -tx1 -c
compat busybox-cat-binary -x 0 -I "$BB_BIN" -- cat
compat busybox-base64 -x 0 -I "$BB_TEXT" -- base64
compat busybox-nl -x 0 -I "$BB_TEXT" -- nl
compat busybox-tac -x 0 -I "$BB_TEXT" -- tac
compat busybox-awk -x 0 -I "$BUSYBOX seq 1 1000" -- awk '{ s += $1 } END { print s, NR }'
compat busybox-sed -x 0 -I "$BB_TEXT" -- sed -n 's/\(p\+\)/[\1]/gp'
compat busybox-grep-c -x 0 -I "$BUSYBOX seq 1 1000" -- grep -c 7
compat busybox-grep-nomatch -x 1 -I "$BB_TEXT" -- grep kiwi
compat busybox-factor -x 0 -- factor 1234567890 97 65536
compat busybox-bc -x 0 -I "echo '2^200; scale=20; 4*a(1)'" -- bc -l
compat busybox-uname -x 0 -- uname -s -m
compat busybox-dd-zero -x 0 -- dd if=/dev/zero bs=1024 count=16
compat busybox-sh -x 3 -- sh -c 'i=0; while [ $i -lt 5 ]; do echo "line $i"; i=$((i + 1)); done; exit 3'
compat busybox-sh-env -x 0 -e ELFVM_TEST_COMPAT=passed -- sh -c 'echo "$ELFVM_TEST_COMPAT"'
