#!/bin/sh
# SPDX-License-Identifier: MIT
# A stand-in for qemu-system-x86_64 (given to elfvm as ELFVM_QEMU) that
# fails the way a real QEMU does on a host whose KVM cannot run the kernel,
# or dies, or runs the real QEMU.  FAKE_QEMU picks the behaviour:
#   internal-error  print QEMU's KVM internal-error report, then sleep (a
#                   real QEMU pauses the VM and waits for a monitor)
#   die             print an error line and exit 1
#   qmp-stop        answer on the QMP socket (fd 5) and send a STOP event,
#                   then sleep, saying nothing on stderr
#   qmp-deaf        greet on QMP having shut down its reading side (as a
#                   QEMU that exited right after its greeting), then send
#                   the kernel's @@exit 0 record and exit
#   mute            greet on QMP, then sleep: a VM whose kernel never says
#                   @@ctl, so elfvm has nobody to forward a signal to
#   old-host        the real QEMU without the elfvm.stdin and elfvm.ctl
#                   ports (an older elfvm's command line)
#   kvm-broken      internal-error when asked for -accel kvm, else the real
#                   QEMU
#   kvm-once        the first -accel kvm run is real (under TCG: the probe
#                   passes), every later one is internal-error
#   real            the real QEMU
# FAKE_QEMU_LOG, when set, gets one line per start: its pid and accelerator.
accel=tcg
prev=
for a in "$@"; do
	[ "$prev" = -accel ] && accel=$a
	prev=$a
done
[ -n "${FAKE_QEMU_LOG:-}" ] && echo "$$ $accel" >>"$FAKE_QEMU_LOG"

internal_error() {
	printf 'KVM internal error. Suberror: 1\nextra data[0]: 0x0000000000000001\nemulation failure\n' >&2
	printf 'RAX=00007fffffffe6d8 RBX=0000000000000000 RCX=0000000000000000\n' >&2
	exec sleep 100
}

# The real QEMU, under TCG when it was asked for KVM.
real() {
	for a in "$@"; do
		shift
		[ "$a" = kvm ] && a=tcg
		set -- "$@" "$a"
	done
	exec qemu-system-x86_64 "$@"
}

case ${FAKE_QEMU:-real} in
internal-error) internal_error ;;
die)
	echo "qemu-system-x86_64: stand-in QEMU failing on purpose" >&2
	exit 1
	;;
qmp-stop)
	printf '{"QMP": {"version": {}, "capabilities": ["oob"]}}\r\n' >&5
	read -r _ <&5
	printf '{"return": {}}\r\n{"return": {"status": "running", "running": true}}\r\n' >&5
	printf '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}\r\n' >&5
	exec sleep 100
	;;
qmp-deaf)
	exec perl -e 'open(my $q, "+<&=5") or die; shutdown($q, 0) or die;
		syswrite($q, qq({"QMP": {"version": {}, "capabilities": []}}\r\n));
		sleep 1; open(my $l, ">&=4") or die; syswrite($l, "\@\@exit 0\n")'
	;;
mute)
	printf '{"QMP": {"version": {}, "capabilities": ["oob"]}}\r\n' >&5
	exec sleep 100
	;;
old-host)
	# Drop each -chardev/-device pair of the two input ports.
	n=$#
	while [ $n -gt 0 ]; do
		a=$1
		shift
		n=$((n - 1))
		case $a in -chardev | -device)
			case ${1:-} in socket,id=in,* | socket,id=ctl,* | virtserialport,chardev=in,* | virtserialport,chardev=ctl,*)
				shift
				n=$((n - 1))
				continue
				;;
			esac
			;;
		esac
		set -- "$@" "$a"
	done
	;;
kvm-broken) [ "$accel" = kvm ] && internal_error ;;
kvm-once)
	if [ "$accel" = kvm ]; then
		[ "$(grep -c ' kvm$' "$FAKE_QEMU_LOG")" -gt 1 ] && internal_error
	fi
	;;
esac
real "$@"
