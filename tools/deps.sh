#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian packages elfvm needs to build and test, when missing:
# the build tools first (a minimal Debian has no make or gcc), then QEMU,
# musl, libelf, clang and the programs the compat tests compare.  Quiet
# unless apt fails (its output is shown then); one line says what it
# installs; and a deb-src entry for bookworm main, since the build unpacks
# lwIP with `apt-get source`.  Needs root or sudo.  Run by ./elfvm before make exists, and by
# make through its stamp (build/.deps).
set -e
BUILD="make gcc libc6-dev binutils"
PKGS="$BUILD qemu-system-x86 musl-tools musl-dev libelf-dev busybox-static cpio
      clang libclang-rt-14-dev clang-format git
      bc file gawk jq xz-utils bzip2 zstd pigz pbzip2 perl nodejs qemu-utils
      curl python3-minimal gnuplot-nox dpkg-dev tmux coccinelle"
# The disassembler of `elfvm analyze` (tools/analyze_walk.c).
PKGS="$PKGS libcapstone-dev"
# The UEFI loader (boot/efi/) is built with GNU-EFI.
PKGS="$PKGS gnu-efi"
# gdb reads the core files of `elfvm run --core` (tests/compat/core.sh) and
# attaches to `elfvm run --gdb` (tests/compat/gdb.sh, docs/debugging.md).
PKGS="$PKGS gdb"
# The servers the compat tests run unmodified (tests/compat/redis.sh).
PKGS="$PKGS redis-server redis-tools"
# The servers of tests/compat/{memcached,nginx}.sh and their load clients.
PKGS="$PKGS memcached libmemcached-tools nginx-light wrk"
# The servers of tests/compat/dns.sh and mariadb.sh, and their clients.
PKGS="$PKGS dnsmasq-base dnsutils dnsperf mariadb-server mariadb-client sysbench"
# The interpreters tests/compat/hostfiles.sh runs with the host's system
# files on demand (python3's full standard library, tclsh, a JDK for javac
# and java), and sqlite3 for a database on a volume.
PKGS="$PKGS python3 tcl8.6 sqlite3 openjdk-17-jdk-headless"
# UEFI boot (docs/uefi.md): the OVMF firmware, and Debian's FAT tools that
# make and fill a disk image's EFI system partition (tools/disk.c).
PKGS="$PKGS ovmf mtools dosfstools"
[ "${1:-}" = --build-tools ] && PKGS=$BUILD

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# A deb-src entry for bookworm main, in either format apt reads.
has_src() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -Eq '^deb-src .* bookworm .*main' && return 0
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; found = 1 }
		     /Types:[^\n]*deb-src/ && /Suites:[^\n]*bookworm( |\n|$)/ && /Components:[^\n]*main/ { found = 0 }
		     END { exit found }' "$f" && return 0
	done
	return 1
}
[ -z "$missing" ] && has_src && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "elfvm: missing Debian packages or deb-src entry:$missing (install them as root)" >&2
		exit 1
	}
	SUDO=sudo
fi

# The deb-src twin of the deb entries: same URIs, suites and key.
if ! has_src; then
	echo "elfvm: adding deb-src entries (/etc/apt/sources.list.d/elfvm-src.sources)" >&2
	src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ]; then
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
		     /Types:[^\n]*deb( |\n)/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$src"
	else
		grep -E '^deb ' /etc/apt/sources.list | awk '{ printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $2, $3;
			for (i = 4; i <= NF; i++) printf " %s", $i; printf "\n\n" }'
	fi | $SUDO tee /etc/apt/sources.list.d/elfvm-src.sources >/dev/null
	$SUDO apt-get update -q >/dev/null 2>&1 || {
		echo "elfvm: apt-get update failed after adding deb-src entries" >&2
		exit 1
	}
fi
[ -z "$missing" ] && exit 0
echo "elfvm: installing Debian packages:$missing" >&2
log=$(mktemp "${TMPDIR:-/tmp}/elfvm-apt.XXXXXX")
apt_install() {
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends $missing >>"$log" 2>&1
}
# The servers the tests run (redis, memcached, nginx, dnsmasq, mariadb)
# are packages with services: their daemons must not start on this host,
# nor fail the install where no init system runs.  Unless the machine has
# a policy of its own, one that refuses every start (invoke-rc.d and
# deb-systemd-invoke both ask it) stands while apt runs.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# elfvm (tools/deps.sh): no service starts while it installs\nexit 101\n' |
		$SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && own_policy=1
fi
trap '[ -n "$own_policy" ] && $SUDO rm -f "$policy"' EXIT
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
