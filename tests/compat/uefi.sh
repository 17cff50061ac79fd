# SPDX-License-Identifier: MIT
# tests/compat/uefi.sh: booting through UEFI (docs/uefi.md).
#   uefi/run/NAME    a guest program under `elfvm run --firmware uefi`
#                    (OVMF, the loader, a temporary disk): the native run's
#                    stdout and status
#   uefi/disk/args   `elfvm pack --disk` then `elfvm run --disk`: the same
#                    (and `sgdisk -v` finds no problem in the GPT, where
#                    gdisk is installed)
#   uefi/qemu/NAME   `elfvm pack --disk`, then plain QEMU with OVMF and no
#                    elfvm: the serial line ends with the native stdout and
#                    the kernel's `elfvm: exit status N` line, N the native
#                    status (`elfvm: killed by signal N` for 128+N), and
#                    the machine powered off through UEFI's ResetSystem
#                    (hello-acpi: through ACPI S5, poweroff=acpi on the ESP)
#   uefi/qemu/dhcp   the disk's ip=dhcp: the lease in the kernel log and its
#                    DNS server in /etc/resolv.conf
#   uefi/bad-*       refused with status 125 and one `elfvm: ` line: a file
#                    that is no disk, a --disk-size too small, a missing
#                    firmware (ELFVM_OVMF), --firmware uefi on microvm
# Each UEFI boot costs about 3 s of OVMF under TCG, so the file keeps to a
# handful of programs.  The cases that boot need Debian's ovmf, mtools and
# dosfstools (tools/deps.sh); under the fake elfvm, which boots nothing,
# the booting cases pass at once.  Sourced by tests/run.sh inside all_cases.

UEFI_EV=$ELFVM
case $UEFI_EV in *fake_elfvm.sh) UEFI_EV=$ROOT/build/elfvm ;; esac
UEFI_OVMF=${ELFVM_OVMF:-/usr/share/ovmf/OVMF.fd}

# uefi_ready: fail the case when something a UEFI boot needs is missing.
uefi_ready() {
	[ -x "$UEFI_EV" ] || fail "cannot run: $UEFI_EV is not an executable (make)"
	[ -f "$UEFI_OVMF" ] || fail "cannot run: $UEFI_OVMF is missing (apt-get install ovmf)"
	[ -f "$ROOT/build/BOOTX64.EFI" ] || fail "cannot run: build/BOOTX64.EFI is missing (make)"
	for tool in mkfs.fat mcopy mdir; do
		PATH=$PATH:/usr/sbin:/sbin command -v $tool >/dev/null 2>&1 ||
			fail "cannot run: $tool is missing (apt-get install mtools dosfstools)"
	done
}

# uefi_native PROG ARGS…: the oracle, stdout in $D/native.out, status in nst.
uefi_native() {
	timeout -k 5 "$VM_TIMEOUT" "$@" </dev/null >"$D/native.out" 2>"$D/native.err"
	nst=$?
}

# uefi_run_case NAME PROG ARGS…: PROG under --firmware uefi against the
# native run (a missing firmware or loader is elfvm's own one-line error).
uefi_run_case() {
	n=$1 p=$2
	shift 2
	vm_case "uefi/run/$n" -P "$p" -o --firmware -o uefi -- "$@"
}

# uefi_pack PROG ARGS…: the native run of PROG (uefi_native), then
# `pack --disk` of it into $D/d.img; passes at once under the fake elfvm,
# which boots nothing.
uefi_pack() {
	case $ELFVM in *fake_elfvm.sh) pass ;; esac
	uefi_ready
	[ -f "$1" ] || fail "cannot run: $1 does not exist (make tests)"
	uefi_native "$@"
	"$UEFI_EV" pack --disk "$D/d.img" "$@" 2>"$D/pack.err" ||
		fail "pack --disk failed: $(head -n 1 "$D/pack.err")"
}

# uefi_disk_case NAME PROG ARGS…: pack --disk, then run --disk.
uefi_disk_case() {
	next_case "uefi/disk/$1" || return 0
	shift
	uefi_pack "$@"
	# gdisk's own check of the GPT, where it is installed.
	if PATH=$PATH:/usr/sbin:/sbin command -v sgdisk >/dev/null 2>&1; then
		PATH=$PATH:/usr/sbin:/sbin sgdisk -v "$D/d.img" >"$D/sgdisk.out" 2>&1
		grep -q 'No problems found' "$D/sgdisk.out" ||
			fail "sgdisk -v finds problems: $(grep -m 1 -i problem "$D/sgdisk.out")"
	fi
	timeout -k 5 $((VM_TIMEOUT + 60)) "$UEFI_EV" run --timeout "$VM_TIMEOUT" --log "$D/log" \
		--disk "$D/d.img" </dev/null >"$D/vm.out" 2>"$D/vm.err"
	vst=$?
	[ "$vst" = "$nst" ] || fail "expected status $nst got $vst: $(grep -m 1 '^elfvm:' "$D/vm.err")"
	d=$(differ stdout "$D/native.out" "$D/vm.out")
	[ -n "$d" ] && fail "$d"
	pass
}

# uefi_qemu_case NAME [poweroff=acpi] PROG ARGS…: pack --disk, then QEMU
# alone boots it (what a cloud VM does): the first serial line (COM1) is
# the firmware's messages, the program's stdout, then the kernel's status
# line; stderr goes to COM2, which this QEMU has not.  The kernel log
# (debugcon, which a cloud VM lacks and nothing needs) says how the
# machine was powered off: UEFI's ResetSystem, or ACPI S5 when the ESP's
# command line says poweroff=acpi (written there with mtools).
uefi_qemu_case() {
	next_case "uefi/qemu/$1" || return 0
	shift
	how="UEFI's ResetSystem" words=
	if [ "$1" = poweroff=acpi ]; then
		how="ACPI (S5)" words=$1
		shift
	fi
	uefi_pack "$@"
	if [ -n "$words" ]; then
		echo "$words" >"$D/cmdline"
		mcopy -o -i "$D/d.img@@1048576" "$D/cmdline" ::/EFI/elfvm/cmdline ||
			fail "mcopy could not write the ESP's cmdline"
	fi
	timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -M q35 -m 256M -bios "$UEFI_OVMF" \
		-drive "file=$D/d.img,format=raw" -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
		-display none \
		-serial "file:$D/serial" -debugcon "file:$D/log" -no-reboot </dev/null >"$D/qemu.out" 2>&1
	qst=$?
	[ "$qst" = 0 ] || fail "qemu exited $qst: $(tail -n 1 "$D/qemu.out") (serial: $(tail -c 200 "$D/serial" | tr -c '[:print:]' ' '))"
	grep -q "powering off through $how" "$D/log" ||
		fail "the kernel log does not say it powered off through $how: $(grep -a powering "$D/log")"
	want_last="elfvm: exit status $nst"
	[ "$nst" -gt 128 ] && want_last="elfvm: killed by signal $((nst - 128))"
	last=$(tail -n 1 "$D/serial" | tr -d '\r')
	[ "$last" = "$want_last" ] ||
		fail "the serial line does not end with '$want_last' but '$(printf '%s' "$last" | cut -c1-100)'"
	# Everything before that line must end with the native stdout.
	total=$(wc -c <"$D/serial") lastn=$(tail -n 1 "$D/serial" | wc -c) want=$(wc -c <"$D/native.out")
	head -c $((total - lastn)) "$D/serial" | tail -c "$want" >"$D/vm.out"
	d=$(differ stdout "$D/native.out" "$D/vm.out")
	[ -n "$d" ] && fail "on the serial line, $d"
	pass
}

# uefi_dhcp_case: a packed disk asks DHCP for its address (ip=dhcp on the
# ESP), as on a cloud VM: under plain QEMU whose DHCP server hands out
# 10.0.2.9 as the DNS server, the kernel logs the lease and the program
# reads 10.0.2.9 in /etc/resolv.conf, where the image had the host's.
uefi_dhcp_case() {
	next_case uefi/qemu/dhcp || return 0
	case $ELFVM in *fake_elfvm.sh) pass ;; esac
	uefi_ready
	"$UEFI_EV" pack --disk "$D/d.img" "$BUSYBOX" cat /etc/resolv.conf 2>"$D/pack.err" ||
		fail "pack --disk failed: $(head -n 1 "$D/pack.err")"
	[ "$(mtype -i "$D/d.img@@1048576" ::/EFI/elfvm/cmdline)" = ip=dhcp ] ||
		fail "the ESP's cmdline is not ip=dhcp"
	timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -M q35 -m 256M -bios "$UEFI_OVMF" \
		-drive "file=$D/d.img,format=raw" -netdev user,id=n0,dns=10.0.2.9 \
		-device virtio-net-pci,netdev=n0 -display none -serial "file:$D/serial" \
		-debugcon "file:$D/log" -no-reboot </dev/null >"$D/qemu.out" 2>&1
	qst=$?
	[ "$qst" = 0 ] || fail "qemu exited $qst: $(tail -n 1 "$D/qemu.out")"
	grep -q "eth0: DHCP lease 10.0.2.15 netmask 255.255.255.0 gateway 10.0.2.2" "$D/log" ||
		fail "no DHCP lease in the kernel log: $(grep -a net: "$D/log")"
	tail -n 2 "$D/serial" | tr -d '\r' >"$D/tail"
	printf 'nameserver 10.0.2.9\nelfvm: exit status 0\n' | cmp -s - "$D/tail" ||
		fail "the serial line ends with: $(tr '\n' '|' <"$D/tail")"
	pass
}

# uefi_bad_case NAME WANT SHELL-SNIPPET: the snippet (run in $D with $EV)
# must end with status 125, nothing on stdout and one `elfvm` line on
# stderr matching the grep pattern WANT.
uefi_bad_case() {
	next_case "uefi/bad-$1" || return 0
	[ -x "$UEFI_EV" ] || fail "cannot run: $UEFI_EV is not an executable (make)"
	(cd "$D" && EV=$UEFI_EV ROOT=$ROOT exec timeout -k 5 120 sh -c "$3") </dev/null >"$D/out" 2>"$D/err"
	st=$?
	[ "$st" = 125 ] || fail "expected status 125 got $st: $(head -n 1 "$D/err")"
	[ -s "$D/out" ] && fail "stdout is not empty: $(head -c 100 "$D/out")"
	[ "$(wc -l <"$D/err")" = 1 ] || fail "expected one line on stderr, got: $(head -n 3 "$D/err")"
	grep -q "$2" "$D/err" || fail "stderr does not say '$2': $(cat "$D/err")"
	pass
}

uefi_run_case hello build/guest/hello.gcc-static
uefi_run_case args build/guest/args.gcc-static "two words" "" "  padded  " "tab	here" last
uefi_run_case files_rw build/guest/files_rw.gcc-static
uefi_run_case threads build/guest/threads.gcc-dyn
uefi_run_case net_tcp build/guest/net_tcp.gcc-static
uefi_run_case exit42 build/guest/exit_status.gcc-static 42 _exit
uefi_disk_case args build/guest/args.gcc-static "a disk" b
uefi_qemu_case hello build/guest/hello.gcc-static
uefi_qemu_case hello-acpi poweroff=acpi build/guest/hello.gcc-static
uefi_dhcp_case
uefi_qemu_case args build/guest/args.gcc-static "two words" "" c
uefi_qemu_case files_rw build/guest/files_rw.gcc-static
uefi_qemu_case threads build/guest/threads.gcc-static
uefi_qemu_case net_tcp build/guest/net_tcp.gcc-static
uefi_qemu_case exit42 build/guest/exit_status.gcc-static 42 _exit
uefi_qemu_case abort build/guest/crash.gcc-static abort

uefi_bad_case not-a-disk 'not an elfvm disk image (no GPT)' '"$EV" run --disk /etc/passwd'
uefi_bad_case disk-size 'do not fit in a 16 MiB disk' \
	'"$EV" pack --disk d.img --disk-size 16M "$ROOT/build/guest/hello.gcc-static"; st=$?; [ -e d.img ] && echo "d.img left behind"; exit $st'
uefi_bad_case no-firmware 'UEFI firmware not found (/nonexistent/OVMF.fd)' \
	'ELFVM_OVMF=/nonexistent/OVMF.fd "$EV" run --firmware uefi "$ROOT/build/guest/hello.gcc-static"'
uefi_bad_case microvm 'not --machine microvm' \
	'"$EV" run --firmware uefi --machine microvm "$ROOT/build/guest/hello.gcc-static"'
