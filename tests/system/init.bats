#!/usr/bin/env bats
# init.bats - berth-init, the PID 1 of `berth run --init`, run directly on the host:
# exit statuses, signal forwarding, zombie reaping (as PID 1 of a new PID namespace),
# the terminal's foreground group, and that it is linked statically.

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
INIT=$BUILD/src/init/berth-init

setup() {
	T=$(mktemp -d /tmp/berth-init.XXXXXX)
}

teardown() {
	rm -rf "$T"
}

# Wait up to 5 s for the file $1 to exist.
wait_for_file() {
	local i
	for i in $(seq 50); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# Whether process $1 is gone (or a zombie, which only its reaper can clear): 2 s at most.
gone() {
	local i state
	for i in $(seq 20); do
		state=$(sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | cut -d" " -f1)
		[ -z "$state" ] || [ "$state" = Z ] && return 0
		sleep 0.1
	done
	return 1
}

# No line of $1 is "Z", and there is at least one line.
no_zombies() {
	[ -n "$1" ] && [ "$(grep -cx Z <<<"$1")" -eq 0 ]
}

# The command's "forever": 30 s, so a test that fails does not leave it running.
BOUNDED_WAIT='i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done'

# The state letter of every process in /proc, one a line ("S", "Z", ...): the field after
# the ")" that ends the command name, which may itself hold spaces.
PROC_STATES='for f in /proc/[0-9]*/stat; do sed "s/.*) //" "$f" 2>/dev/null | cut -d" " -f1; done'

# Three orphans that exit after 0.2 s, then the states of all processes once they have.
ORPHANS_THEN_STATES='for i in 1 2 3; do sh -c "sleep 0.2 &"; done; sleep 1; '$PROC_STATES

@test "the command's exit status is the init's" {
	run -3 "$INIT" -- sh -c 'exit 3'
	run -0 "$INIT" -- true
	# without "--" too, and the command's own options stay its own
	run -5 "$INIT" sh -c 'exit 5'
	run -0 --separate-stderr "$INIT" -- echo -v -s
	[ "$output" = "-v -s" ]
}

@test "a command killed by signal N gives 128+N" {
	run -137 "$INIT" -- sh -c 'kill -KILL $$'
	run -143 "$INIT" -- sh -c 'kill -TERM $$'
}

@test "a command that is not found gives 127, one that cannot be executed 126" {
	run -127 "$INIT" -- /nonexistent/cmd
	[ "$output" = "berth-init: exec /nonexistent/cmd: No such file or directory" ]
	run -127 "$INIT" -- berth-no-such-command-in-path
	[ "$output" = "berth-init: exec berth-no-such-command-in-path: No such file or directory" ]

	printf '#!/bin/sh\nexit 0\n' >"$T/noexec"
	chmod 644 "$T/noexec"
	run -126 "$INIT" -- "$T/noexec"
	[ "$output" = "berth-init: exec $T/noexec: Permission denied" ]
}

@test "without a command it prints its usage and fails" {
	run -125 "$INIT"
	[[ $output == "Usage: berth-init "* ]]
	run -125 "$INIT" -s --
	run -125 "$INIT" -x true
}

@test "a signal sent to the init reaches the command" {
	"$INIT" -- sh -c "trap 'exit 42' TERM; touch $T/ready; $BOUNDED_WAIT" &
	local pid=$!
	wait_for_file "$T/ready"
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 42 ]

	"$INIT" -- sh -c "trap 'exit 43' USR1; touch $T/ready2; $BOUNDED_WAIT" &
	pid=$!
	wait_for_file "$T/ready2"
	kill -USR1 "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 43 ]
}

@test "with -g a signal reaches the command's whole process group" {
	# The command's child ignores nothing: TERM to the group ends it too, and the
	# command (waiting for it) is killed by the same TERM.
	"$INIT" -g -- sh -c "sleep 30 & echo \$! >$T/sleeper; wait" &
	local pid=$!
	wait_for_file "$T/sleeper"
	local sleeper
	sleeper=$(cat "$T/sleeper")
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	gone "$sleeper"

	# Without -g only the command gets it, and its child lives on.
	"$INIT" -- sh -c "sleep 30 & echo \$! >$T/sleeper2; wait" &
	pid=$!
	wait_for_file "$T/sleeper2"
	sleeper=$(cat "$T/sleeper2")
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	kill -0 "$sleeper"
	kill "$sleeper"
}

@test "as PID 1 of a PID namespace it reaps the orphans reparented to it" {
	unshare --pid --fork true 2>/dev/null || skip "no PID namespaces here"

	# The check can fail: with a PID 1 that never waits, the orphans stay zombies.
	run -0 unshare --fork --pid --mount-proc \
		sh -c "sh -c '$ORPHANS_THEN_STATES' >$T/control & exec sleep 2"
	grep -qx Z "$T/control"

	run -0 --separate-stderr unshare --fork --pid --mount-proc "$INIT" -- sh -c "$ORPHANS_THEN_STATES"
	no_zombies "$output"
}

@test "with -s it reaps orphans as a subreaper when it is not PID 1" {
	# The states of the init's descendants only: they are in the init's session.
	local states='sid=$(set -- $(sed "s/.*) //" /proc/$$/stat); echo $4)
		for i in 1 2 3; do sh -c "sleep 0.2 &"; done; sleep 1
		for f in /proc/[0-9]*/stat; do
			set -- $(sed "s/.*) //" "$f" 2>/dev/null) && [ "$4" = "$sid" ] && echo "$1"
		done; true'
	run -0 --separate-stderr setsid -w "$INIT" -s -- sh -c "$states"
	no_zombies "$output"

	# Without -s the orphans go to the host's reaper, not to the init.
	run -0 --separate-stderr setsid -w "$INIT" -v -- sh -c 'sh -c "sleep 0.2 &"; sleep 0.5'
	[[ $stderr != *"berth-init: reaped "* ]]
	run -0 --separate-stderr setsid -w "$INIT" -s -v -- sh -c 'sh -c "sleep 0.2 &"; sleep 0.5'
	[[ $stderr == *"berth-init: reaped "* ]]
}

@test "the command gets a process group of its own, the terminal's foreground one" {
	command -v script >/dev/null || skip "script(1) not installed"
	# In the command: its pid, process group, the terminal's foreground group, and the
	# init's (its parent's) process group; fields after ")": state ppid pgrp sid tty tpgid.
	local probe='set -- $(sed "s/.*) //" /proc/$$/stat); me="$$ $3 $6"
		set -- $(sed "s/.*) //" /proc/$PPID/stat); echo "$me $3"'
	run -0 script -qec "$INIT -- sh -c '$probe'" /dev/null </dev/null
	local pid pgrp tpgid init_pgrp
	read -r pid pgrp tpgid init_pgrp <<<"${output//$'\r'/}"
	[ "$pgrp" = "$pid" ]
	[ "$tpgid" = "$pid" ]
	[ "$init_pgrp" != "$pid" ]
}

@test "berth-init is linked statically (no program interpreter)" {
	run -0 readelf -lW "$INIT"
	[[ $output != *INTERP* ]]
	[[ $output == *LOAD* ]]
}
