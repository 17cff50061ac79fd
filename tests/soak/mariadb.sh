#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/soak/mariadb.sh: 30 s of sysbench oltp_read_write (4 threads) from
# the host against Debian's mariadbd in the VM (tests/compat/mariadb.lib):
# no fatal error, no reconnect; the deadlocks InnoDB reports to concurrent
# transactions are retried by sysbench and counted, as on a native server.
# Then 10 s with one thread, where no error at all is accepted; then the
# server must still answer and sbtest1 must still hold its 1,000 rows.  Run by tests/soak.sh from the repository root with $ELFVM set.
set -u
EV=${ELFVM:-$PWD/build/elfvm}
VT=120
. tests/compat/mariadb.lib
mdb_check || exit 1
dir=$(mktemp -d "${TMPDIR:-/tmp}/elfvm-soak-mariadb.XXXXXX")
trap 'mdb_stop; rm -rf "$dir"' EXIT
MDB_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mdb_init "$dir/data" || exit 1
mdb_start "$dir/data" "$MDB_PORT" "$dir/vm" || exit 1
mdb_sysbench 30 4 "$dir/sb.out" ok || exit 1
mdb_sql sbtest -e "DROP TABLE sbtest1" || exit 1
mdb_sysbench 10 1 "$dir/sb1.out" || exit 1
n=$(mdb_sql -N -B sbtest -e "SELECT COUNT(*) FROM sbtest1" 2>&1)
[ "$n" = 1000 ] || { echo "after the load sbtest1 holds \"$n\" rows, not 1000"; exit 1; }
if grep -q -i -E "warn|panic|bug" "$dir/vm.klog"; then
	echo "the kernel log has warnings: $(grep -m1 -i -E "warn|panic|bug" "$dir/vm.klog")"
	exit 1
fi
echo "mariadb soak: ok"
