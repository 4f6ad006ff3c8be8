#!/usr/bin/env bats
# docker.bats - dockerd (Debian's docker.io, through containerd's runc shim)
# drives berth-runtime: `docker run --runtime berth`, -it, -d + exec, stop,
# --memory and --pids-limit. DOCKER_TEST_RUNTIME=/usr/sbin/runc checks the
# tests themselves against runc.

bats_require_minimum_version 1.5.0

load helpers
load ../lib/dockerd

setup_file() {
	local rt=${DOCKER_TEST_RUNTIME:-$RUNTIME}
	rt=$(command -v "$rt")
	dockerd_start "$rt"
	dockerd_busybox_image
	export DOCKERD_DIR DOCKER
}

teardown_file() {
	dockerd_stop
}

setup() { :; }
teardown() { :; }

@test "docker run --runtime berth --rm prints, and the exit code comes back" {
	run $DOCKER run --runtime berth --rm berth-test/busybox echo hi
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	run $DOCKER run --runtime berth --rm berth-test/busybox sh -c 'exit 7'
	[ "$status" -eq 7 ]
}

@test "docker run -it gets a terminal" {
	run script -qec "$DOCKER run --runtime berth --rm -it berth-test/busybox tty" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == */dev/pts/0* ]]
}

@test "docker run -d, docker exec, docker stop" {
	local name=bt-$$-d
	run -0 $DOCKER run --runtime berth -d --name "$name" berth-test/busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	run -0 $DOCKER exec "$name" sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "'
	[[ "$output" == *in-exec* ]]
	[[ "$output" == *"sh -c"* ]]
	run -0 $DOCKER exec -u 1000:1000 "$name" id
	[[ "$output" == "uid=1000 gid=1000"* ]]
	local t0=$SECONDS
	run -0 $DOCKER stop "$name"
	# The process exits on SIGTERM: stop must not wait for its 10 s timeout.
	[ $((SECONDS - t0)) -lt 8 ]
	run -0 $DOCKER inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$name"
	[ "$output" = "exited 0" ]
	$DOCKER rm "$name"
}

@test "docker stop of a process that ignores SIGTERM kills it after the timeout" {
	local name=bt-$$-k
	run -0 $DOCKER run --runtime berth -d --name "$name" berth-test/busybox sleep 1000
	run -0 $DOCKER stop -t 1 "$name"
	run -0 $DOCKER inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$name"
	[ "$output" = "exited 137" ]
	$DOCKER rm "$name"
}

@test "docker run --memory and --pids-limit take effect inside the container" {
	run -0 $DOCKER run --runtime berth --rm --memory 64m --pids-limit 50 berth-test/busybox \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max;
		       cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'
	[ "${lines[0]}" = 67108864 ]
	[ "${lines[1]}" = 50 ]
	# And the pids limit holds: forking past it fails.
	run $DOCKER run --runtime berth --rm --pids-limit 10 berth-test/busybox \
		sh -c 'for i in $(seq 20); do sleep 5 & done 2>&1; wait' 
	[[ "$output" == *"can't fork"* ]] || [[ "$output" == *"Resource temporarily unavailable"* ]]
}

@test "docker run of a missing command fails as docker says (127)" {
	run -127 $DOCKER run --runtime berth --rm berth-test/busybox no-such-command
	[[ "$output" == *"executable file not found"* ]]
}
