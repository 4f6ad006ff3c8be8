#!/usr/bin/env bats
# errors.bats - bad input to berth-runtime: one clear line naming the field,
# exit code 1, and nothing left behind (state dir, cgroups, mounts, processes).
#
# The wording checks are Berth's own promise (DESIGN.md, "Errors"); runc words
# these differently, so this file is meant for berth-runtime only. The
# "nothing left behind" checks hold for runc too.

bats_require_minimum_version 1.5.0

load helpers
load ../lib/runtime-helpers

setup() {
	common_setup
	new_bundle busybox
	set_args true
}

teardown() { common_teardown; }

# no_leftovers ID: the failed command left nothing of container ID behind.
no_leftovers() {
	local id=$1
	[ ! -e "$STATE_ROOT/$id" ] || { echo "state dir $STATE_ROOT/$id left behind" >&2; return 1; }
	run ! rt state "$id"
	local cg
	cg=$(find /sys/fs/cgroup -name "*$id*" 2>/dev/null)
	[ -z "$cg" ] || { echo "cgroups left behind: $cg" >&2; return 1; }
	if grep -F "$BUNDLE" /proc/self/mountinfo >&2; then
		echo "mounts of the bundle left behind" >&2
		return 1
	fi
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		case $r in "$BUNDLE"*)
			echo "process ${p#/proc/} left behind, root $r" >&2
			return 1
			;;
		esac
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$id"; then
			echo "process ${p#/proc/} left behind: $(tr '\0' ' ' <"$p/cmdline")" >&2
			return 1
		fi
	done
}

# rt_to_files ARGS...: run the runtime with its stdio on files, setting
# $status, $output, $stderr and $stderr_lines. Not bats' `run`: if a bad config
# were wrongly accepted, the created container would hold run's pipe open and
# the test would hang instead of failing.
rt_to_files() {
	status=0
	rt "$@" </dev/null >"$TEST_TMP/rt.stdout" 2>"$TEST_TMP/rt.stderr" 3>&- || status=$?
	output=$(cat "$TEST_TMP/rt.stdout")
	stderr=$(cat "$TEST_TMP/rt.stderr")
	mapfile -t stderr_lines <"$TEST_TMP/rt.stderr"
}

# rejects PATTERN...: `create` and `run` of $BUNDLE both fail with exit code 1,
# print nothing on stdout and one line on stderr that matches every PATTERN
# (grep -E), and leave nothing behind.
rejects() {
	local cmd id pat
	for cmd in create run; do
		id=$(cid)
		rt_to_files "$cmd" --bundle "$BUNDLE" "$id"
		echo "$cmd: exit $status, stderr: $stderr"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == berth* ]]
		for pat in "$@"; do
			echo "$stderr" | grep -qE -- "$pat" || {
				echo "stderr does not match '$pat'" >&2
				return 1
			}
		done
		no_leftovers "$id"
	done
}

@test "config.json that is not JSON: names the file and where it broke" {
	printf '{"ociVersion": "1.0.2",\n "process": {"args": ["true"]\n' >"$BUNDLE/config.json"
	rejects 'config\.json' '(line|:)[ ]*[0-9]'
}

@test "no config.json in the bundle" {
	rm "$BUNDLE/config.json"
	rejects 'config\.json'
}

@test "a bundle that does not exist" {
	local real=$BUNDLE
	BUNDLE=$TEST_TMP/no-such-bundle
	rejects 'no-such-bundle'
	BUNDLE=$real
}

@test "missing process.args" {
	cfg 'del(.process.args)'
	rejects 'process\.args'
}

@test "empty process.args" {
	cfg '.process.args = []'
	rejects 'process\.args'
}

@test "process.terminal of the wrong type" {
	cfg '.process.terminal = "yes"'
	rejects 'process\.terminal'
}

@test "an unknown namespace type" {
	cfg '.linux.namespaces += [{"type": "foo"}]'
	rejects 'linux\.namespaces' 'foo'
}

@test "an unknown capability" {
	cfg '.process.capabilities.bounding += ["CAP_FOO"]'
	rejects 'process\.capabilities\.bounding' 'CAP_FOO'
}

@test "root.path that does not exist" {
	cfg '.root.path = "no-such-rootfs"'
	rejects 'root\.path' 'no-such-rootfs'
}

@test "a mount destination of '..'" {
	cfg '.mounts += [{"destination": "..", "type": "tmpfs", "source": "tmpfs"}]'
	local n
	n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
	rejects "mounts\\[$n\\]\\.destination"
}

@test "a relative mount destination that climbs out of the rootfs" {
	cfg '.mounts += [{"destination": "/../../etc", "type": "tmpfs", "source": "tmpfs"}]'
	local n
	n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
	# Either refused by name, or clamped inside the rootfs: never the host's /etc.
	local id
	id=$(cid)
	rt_to_files run --bundle "$BUNDLE" "$id"
	if [ "$status" -ne 0 ]; then
		echo "$stderr" | grep -qE "mounts\\[$n\\]\\.destination"
		no_leftovers "$id"
	fi
	# The host's /etc is untouched in every case.
	[ -f /etc/passwd ]
	! grep -qE ' /etc tmpfs ' /proc/self/mounts
}

@test "an unknown signal to kill" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	run -1 --separate-stderr rt kill "$id" SIGNOPE
	[ "${#stderr_lines[@]}" -eq 1 ]
	echo "$stderr" | grep -q SIGNOPE
	[ "$(state_of "$id")" = running ]
}

@test "an id that is already taken" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	local pid
	pid=$(state_of "$id" .pid)
	rt_to_files create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	echo "$stderr" | grep -qF "$id"
	# The first container is untouched.
	[ "$(state_of "$id")" = running ]
	[ "$(state_of "$id" .pid)" = "$pid" ]
}

@test "an id with a slash or dot-dot is refused" {
	rt_to_files create --bundle "$BUNDLE" ../escape
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ ! -e "$TEST_TMP/escape" ]
	rt_to_files create --bundle "$BUNDLE" a/b
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ ! -e "$STATE_ROOT/a" ]
}
