#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages elfvm needs to build and test, when missing:
# the build tools first (a minimal Debian has no make or gcc), then QEMU,
# musl, libelf, clang and the programs the compat tests compare.  Quiet
# unless apt fails (its output is shown then); one line says what it
# installs.  Needs root or sudo.  Run by ./elfvm before make exists, and by
# make through its stamp (build/.deps).
set -e
BUILD="make gcc libc6-dev binutils"
PKGS="$BUILD qemu-system-x86 musl-tools musl-dev libelf-dev busybox-static cpio
      clang libclang-rt-14-dev clang-format git
      bc file gawk jq xz-utils bzip2 zstd pigz pbzip2 perl nodejs qemu-utils
      curl python3-minimal gnuplot-nox"
[ "${1:-}" = --build-tools ] && PKGS=$BUILD

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "elfvm: these Debian packages are missing:$missing (install them as root)" >&2
		exit 1
	}
	SUDO=sudo
fi
echo "elfvm: installing Debian packages:$missing" >&2
log=$(mktemp "${TMPDIR:-/tmp}/elfvm-apt.XXXXXX")
apt_install() {
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends $missing >>"$log" 2>&1
}
# The package lists may be missing (a fresh image) or stale (a package
# moved): update them once when the first try fails.
if ! apt_install; then
	if ! $SUDO apt-get update -q >>"$log" 2>&1 || ! apt_install; then
		echo "elfvm: installing Debian packages failed; apt said:" >&2
		grep -E '^(E|W|Err):' "$log" >&2 || tail -n 20 "$log" >&2
		rm -f "$log"
		exit 1
	fi
fi
rm -f "$log"
