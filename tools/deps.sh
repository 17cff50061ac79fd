#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages elfvm needs to build and test, when missing.
# Runs once per build tree (make keeps a stamp); needs root or sudo.
set -e
PKGS="gcc make qemu-system-x86 musl-tools libelf-dev busybox-static cpio clang libclang-rt-14-dev
      bc file gawk jq xz-utils bzip2 zstd stress-ng pigz pbzip2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "elfvm: installing Debian packages:$missing" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing >&2
