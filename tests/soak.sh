#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/soak.sh: `make soak`, the long load tests that `make test` only
# samples.  Runs each tests/soak/*.sh (or those whose name contains a WORD
# given as an argument) one after another, from the repository root with
# ELFVM set; each is bounded in count and time, talks only to 127.0.0.1,
# and ends by itself.  A soak script prints what it measured and exits 0
# when everything held.  One line per script, "PASS name" or "FAIL name:
# why" (its last line of output), then "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
: "${ELFVM:=$PWD/build/elfvm}"
export ELFVM
passed=0 failed=0
for f in tests/soak/*.sh; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .sh)
	if [ $# -gt 0 ]; then
		want=
		for w in "$@"; do case $name in *"$w"*) want=1 ;; esac; done
		[ -n "$want" ] || continue
	fi
	log=$(mktemp "${TMPDIR:-/tmp}/elfvm-soak.XXXXXX")
	if sh "$f" >"$log" 2>&1; then
		echo "PASS soak/$name"
		passed=$((passed + 1))
	else
		echo "FAIL soak/$name: $(tail -n 1 "$log")"
		failed=$((failed + 1))
	fi
	sed 's/^/    /' "$log"
	rm -f "$log"
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
