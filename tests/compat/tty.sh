# SPDX-License-Identifier: MIT
# tests/compat/tty.sh: a real terminal (docs/terminal.md).  Each case
# starts a tmux server on a private socket in its directory, runs elfvm in
# a pane of 80x24, types at it with send-keys and reads the screen with
# capture-pane; the pane's `stty -g` must be the same before and after
# elfvm, however elfvm ended.  The server is killed at the end of the case
# whatever happens.  Sourced by tests/run.sh inside all_cases.  One line
# per case:
#     tty_case NAME 'ELFVM ARGS' 'SHELL SNIPPET'
# The snippet drives the pane with the helpers below; it passes by exiting
# 0 and otherwise prints why as its last line (die).

TTY_LIB='
die() { echo "$*"; tmux -S sock kill-server 2>/dev/null; exit 1; }
keys() { tmux -S sock send-keys "$@"; }
screen() { tmux -S sock capture-pane -p -S 0 2>/dev/null; }
# wait_for TEXT [SECONDS]: until the screen shows TEXT (a fixed string).
wait_for() {
	i=0
	until screen | grep -qF -- "$1"; do
		i=$((i + 1))
		[ $i -lt $((${2:-20} * 10)) ] || die "no \"$1\" on the screen; it shows: $(screen | grep . | tail -n 6 | tr "\n" "|")"
		sleep 0.1
	done
}
# ended WANT_STATUS: elfvm ended with WANT_STATUS and the terminal settings
# are back as they were.
ended() {
	i=0
	until [ -s status ]; do
		i=$((i + 1)); [ $i -lt 200 ] || die "elfvm did not end within 20 s"; sleep 0.1
	done
	[ "$(cat status)" = "$1" ] || die "status $(cat status), expected $1; screen: $(screen | grep . | tail -n 4 | tr "\n" "|")"
	cmp -s before after || die "stty -g differs: before $(cat before), after $(cat after)"
}
'

tty_case() {
	next_case "$1" || return 0
	command -v tmux >/dev/null 2>&1 || fail "cannot run: tmux is not installed (tools/deps.sh installs it)"
	[ -x "$ELFVM" ] || fail "cannot run: $ELFVM is not an executable (make)"
	case $ELFVM in *fake_elfvm.sh) fail "cannot run: a terminal needs the real elfvm" ;; esac
	# The pane records the settings, runs elfvm, records its status and the
	# settings again, then waits to be read.
	# status is written last: ended() reads after once status exists.
	cmd="cd '$D' && stty -g >before; '$ELFVM' run --timeout 25 $2; st=\$?; stty -g >after; echo \$st >status.new; mv status.new status; sleep 30"
	(cd "$D" && env -u TMUX TERM=xterm tmux -S sock -f /dev/null new-session -d -x 80 -y 24 "$cmd") ||
		fail "cannot start tmux"
	out=$(cd "$D" && G=$ROOT/build/guest timeout -k 5 50 sh -c "$TTY_LIB
$3
tmux -S sock kill-server" 2>&1)
	r=$?
	(cd "$D" && tmux -S sock kill-server 2>/dev/null)
	[ $r = 0 ] && pass
	fail "$(printf '%s\n' "$out" | tail -n 1)"
}

TTY_PROBE="$ROOT/build/guest/tty_probe.gcc-static"

tty_case tty/probe-edit-signals-resize "$TTY_PROBE" '
wait_for "termios default"
screen | grep -qF "isatty 1 1 1" || die "not ttys: $(screen | head -n 1)"
screen | grep -qF "size 24x80" || die "size: $(screen | sed -n 2p)"
keys "hello wor" BSpace BSpace BSpace "orld" Enter
wait_for "got hello orld"
keys "one two" C-w "three" Enter
wait_for "got one three"
keys "junk" C-u "kept" Enter
wait_for "got kept"
keys C-s "held" Enter
sleep 1
screen | grep -qF "got held" && die "output went on after Ctrl-S (IXON)"
keys C-q
wait_for "got held"
keys C-c
wait_for "SIGINT"
tmux -S sock resize-window -x 100 -y 30
wait_for "winch 30x100"
keys "size" Enter
wait_for "size 30x100"
keys "ioctls" Enter
wait_for "ioctls "
screen | grep -q "ioctls ok" || die "$(screen | grep -F -e FAIL -e ioctls | head -n 3 | tr "\n" "|")"
screen | grep -q "via /dev/tty" || die "nothing written through /dev/tty"
keys "vtime" Enter
wait_for "vtime 0 in time"
keys "raw" Enter
wait_for "raw ready"
keys "x"
wait_for "raw byte 1 120"
keys C-d
wait_for "eof"
ended 0'

# A signal to elfvm: TERM is forwarded (the program dies of it: 143);
# PIPE ends elfvm at once (141); SEGV stands for elfvm crashing (its
# handler restores the terminal, then elfvm dies of it: 139).
for sig in TERM:143 PIPE:141 SEGV:139; do
	tty_case "tty/sig${sig%:*}-to-elfvm-restores" "$TTY_PROBE" '
wait_for "termios default"
pid=$(cat /proc/$(tmux -S sock display -p "#{pane_pid}")/task/*/children 2>/dev/null | head -n 1)
[ -n "$pid" ] || die "cannot find elfvm in the pane"
kill -'"${sig%:*} \$pid
ended ${sig#*:}"
done

tty_case tty/crash-restores "$TTY_PROBE" '
wait_for "termios default"
keys "crash" Enter
ended 139'

tty_case tty/escape-ctrl-bracket-q "$TTY_PROBE" '
wait_for "termios default"
keys C-] q
ended 130
wait_for "Ctrl-] q typed"'

tty_case tty/python-repl "/usr/bin/python3 -q" '
wait_for ">>>" 25
keys "print(6*7)" Enter
wait_for "42"
keys "x = 1" C-c
wait_for "KeyboardInterrupt"
keys "import os; os.get_terminal_size()" Enter
wait_for "columns=80, lines=24"
keys "exit()" Enter
ended 0'

# A program that ignores SIGINT: the second Ctrl-C, 3 s or more after the
# first, ends the VM (status 130, one line); Ctrl-C within 3 s does not.
tty_case tty/ctrl-c-ignored-twice-ends "/bin/busybox sh -c 'trap \"\" INT; echo ignoring; read x; echo read \$x'" '
wait_for "ignoring"
keys C-c
sleep 1
keys C-c
sleep 0.5
[ -s status ] && die "ended on a second Ctrl-C within 3 s"
sleep 2
keys C-c
ended 130
wait_for "ignores Ctrl-C"'

# stdin not a terminal, output to one: the terminal stays cooked, Ctrl-C
# sends SIGINT to elfvm's process group, and elfvm forwards it; QEMU, in a
# session of its own, must not end the VM first.
tty_case tty/ctrl-c-cooked-forwarded "$ROOT/build/guest/sigterm.gcc-static pause </dev/null" '
wait_for "ready"
keys C-c
ended 0
wait_for "caught SIGINT"'

# Debian's interactive programs as a user types at them: sqlite3's shell,
# bash with its line editor (readline) and builtins, less paging and
# searching a file (terminfo comes from the host).
tty_case tty/sqlite3-session "/usr/bin/sqlite3" '
wait_for "sqlite>" 25
keys -l "create table t(a)\;"; keys Enter
keys -l "insert into t values (21)\;"; keys Enter
keys -l "select a * 2 from t\;"; keys Enter
wait_for "42"
keys -l ".quit"; keys Enter
ended 0'

tty_case tty/bash-session "/bin/bash --norc --noprofile" '
wait_for "bash-5" 25
keys -l "x=6; echo \$((x * 7))"; keys Enter
wait_for "42"
keys -l "echo abcX"; keys BSpace; keys -l "d"; keys Enter
wait_for "abcd"
keys -l "[ -t 0 ] && echo tty-yes"; keys Enter
wait_for "tty-yes"
keys -l "exit 3"; keys Enter
ended 3'

tty_case tty/less-search "/usr/bin/less /etc/services" '
wait_for "services" 25
keys -l "/^http"; keys Enter
wait_for "80/tcp"
keys q
ended 0'
