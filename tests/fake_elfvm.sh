#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fake_elfvm.sh: a stand-in for `elfvm run` that runs the program
# natively, for checking the harness and the guest programs without a VM:
#     ELFVM=tests/fake_elfvm.sh sh tests/run.sh
# It keeps the contract's outside: --env, --timeout (status 124 and
# "elfvm: timed out after N s"), --log (a crash line naming the signal),
# status 125 and "elfvm: REASON" for what is not an x86-64 ELF.  Other
# options are accepted and ignored.  Every case should pass with it.

die() {
	echo "elfvm: $*" >&2
	exit 125
}

[ "${1:-}" = run ] || die "the fake only knows 'run'"
shift
timeout=0 log=/dev/null
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--log) log=$2; : >"$log"; shift 2 ;;
	--env) export "$2"; shift 2 ;;
	--mem | --cpus | --accel | --file | --dir | --publish | --kernel | --firmware) shift 2 ;;
	--strace | --verbose) shift ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "no program given"

prog=$1
case $prog in */*) ;; *) prog=$(command -v "$prog") || die "$1: not found" ;; esac
[ -f "$prog" ] || die "$1: no such file"
# e_ident: magic, ELFCLASS64, little-endian; e_machine (offset 18) EM_X86_64.
hdr=$(od -An -tx1 -N20 "$prog" | tr -d ' \n')
case $hdr in
7f454c460201*) ;;
7f454c46*) die "$1: not a 64-bit little-endian ELF" ;;
*) die "$1: not an ELF file" ;;
esac
[ "${hdr#????????????????????????????????????}" = 3e00 ] || die "$1: not an x86-64 program"
# The program headers must be in the file.  A truncated file would fail
# execve with ENOEXEC, and timeout (execvp) would then run it as a shell
# script, whose redirections made files with odd names in the current
# directory.
size=$(wc -c <"$prog")
phoff=$(od -An -tu8 -j32 -N8 "$prog" | tr -d ' ')
ph=$(od -An -tu2 -j54 -N4 "$prog")
phent=${ph% *} phnum=${ph##* }
[ "$size" -ge 64 ] && [ $((phoff + phent * phnum)) -le "$size" ] ||
	die "$1: truncated ELF (program headers past the end of the file)"
shift

timeout -k 2 "$timeout" "$prog" "$@"
st=$?
case $st in
124) echo "elfvm: timed out after $timeout s" >&2 ;;
126 | 127) die "$prog: cannot be run" ;;
1[3-9][0-9] | 2[0-9][0-9])
	n=$((st - 128))
	echo "fake elfvm: the program died of signal $n (SIG$(kill -l "$n"))" >>"$log"
	;;
esac
exit $st
