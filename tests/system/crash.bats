#!/usr/bin/env bats
# crash.bats - kill -9 of the runtime at any moment loses nothing: the next
# delete finds what a killed create or run left and removes all of it.

bats_require_minimum_version 1.5.0

load helpers

setup() {
	common_setup
	new_bundle busybox
	set_args sleep 1000
}

teardown() {
	common_teardown
	for c in /sys/fs/cgroup/*/berth-crash-test-$$-* /sys/fs/cgroup/berth-crash-test-$$-*; do
		[ -d "$c" ] && rmdir "$c" 2>/dev/null
	done
	true
}

# Processes whose root is inside this test's bundle: the containers' own.
bundle_procs() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$BUNDLE/rootfs" ] && echo "${p#/proc/}"
	done
}

cgroup_dirs() {
	find /sys/fs/cgroup -maxdepth 3 -type d -name "berth-crash-test-$$-*" 2>/dev/null
}

@test "kill -9 of create at random moments: delete cleans up every time" {
	local i id delay left=0
	# Spread the kills over the time one create takes here (much longer under
	# a sanitizer than in a release build).
	cfg ".linux.cgroupsPath = \"/berth-crash-test-$$-probe\""
	local t0 t1
	t0=$(date +%s%N)
	rt create -b "$BUNDLE" probe >/dev/null
	t1=$(date +%s%N)
	rt delete probe
	local span_us=$(( (t1 - t0) / 1000 ))
	for i in $(seq 1 25); do
		id=crash-$i
		cfg ".linux.cgroupsPath = \"/berth-crash-test-$$-$i\""
		delay=$(awk -v s="$span_us" -v i="$i" 'BEGIN { printf "%.6f", s * ((i * 7) % 25) / 25 / 1e6 }')
		# The runtime itself, not a shell function around it: $! must be its pid.
		"$RUNTIME" --root "$STATE_ROOT" create -b "$BUNDLE" "$id" >/dev/null 2>&1 &
		local pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		# Whatever state it was left in, delete (without --force) must clear it,
		# unless create had finished: then the container is "created", which
		# delete also removes.
		if [ -e "$STATE_ROOT/$id" ]; then
			left=$((left + 1))
			run rt delete "$id"
			[ "$status" -eq 0 ] || { echo "delete after kill at ${delay}s: $output"; false; }
		fi
		[ ! -e "$STATE_ROOT/$id" ]
	done
	# The kills must have hit creates in flight, or this tested nothing.
	echo "creates that left state behind: $left of 25"
	[ "$left" -gt 0 ]
	# Give killed inits a moment to be reaped by init(1).
	local tries=0
	while [ -n "$(bundle_procs)" ] && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
	[ -z "$(bundle_procs)" ] || { echo "left processes: $(bundle_procs)"; false; }
	[ -z "$(cgroup_dirs)" ] || { echo "left cgroups: $(cgroup_dirs)"; false; }
	! grep -q "$BUNDLE/rootfs" /proc/self/mountinfo
}

@test "kill -9 of a foreground run: the container lives on, delete --force removes it" {
	cfg ".linux.cgroupsPath = \"/berth-crash-test-$$-run\""
	"$RUNTIME" --root "$STATE_ROOT" run -b "$BUNDLE" crash-run >"$TEST_TMP/run.out" 2>&1 &
	local pid=$!
	local tries=0
	until [ "$(rt state crash-run 2>/dev/null | jq -r .status)" = running ]; do
		sleep 0.05
		tries=$((tries + 1))
		[ $tries -lt 100 ] || { echo "never running: $(cat "$TEST_TMP/run.out")"; false; }
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	[ "$(rt state crash-run | jq -r .status)" = running ]
	rt delete --force crash-run
	[ ! -e "$STATE_ROOT/crash-run" ]
	tries=0
	while [ -n "$(bundle_procs)" ] && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
	[ -z "$(bundle_procs)" ]
	[ -z "$(cgroup_dirs)" ]
}
