#!/bin/sh
# SPDX-License-Identifier: MIT
# `make format-check`: every C source and header of the project is as
# clang-format (with the root's .clang-format) would write it.  The files
# are git's when git knows the tree, else every *.c and *.h outside build/.
# Prints the first differences and exits 1 when a file is off.
cd "$(dirname "$0")/.." || exit 1
command -v clang-format >/dev/null 2>&1 || { echo "clang-format is not installed"; exit 1; }
[ -f .clang-format ] || { echo "no .clang-format in the root"; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files '*.c' '*.h')
else
	files=$(find . -path ./build -prune -o -path ./third_party -prune -o \
		\( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi
[ -n "$files" ] || { echo "no C files found"; exit 1; }
# shellcheck disable=SC2086 # the names have no spaces (git ls-files)
out=$(clang-format --dry-run -Werror $files 2>&1) && exit 0
printf '%s\n' "$out" | grep -m 10 'error:'
echo "$(printf '%s\n' "$out" | grep -c 'error:') places differ from clang-format's layout (clang-format -i FILE fixes them)"
exit 1
