#!/usr/bin/env bats
# docker.bats - the runtime under Docker: a private dockerd (Debian's docker.io
# 20.10, with its own containerd and shims) runs containers with
# `--runtime $DOCKER_TEST_RUNTIME`. Docker drives create/start/state/kill/
# delete/exec/ps/pause/update through containerd-shim-runc-v2 exactly as it
# drives runc, so this is the interop test that matters.
#
# DOCKER_TEST_RUNTIME (default berth) names the runtime in dockerd; "berth" is
# registered as $BERTH_RUNTIME. To check the tests themselves:
#   BERTH_RUNTIME=/usr/sbin/runc bats tests/system/docker.bats

bats_require_minimum_version 1.5.0

setup_file() {
	source "$BATS_TEST_DIRNAME/../lib/start-dockerd.sh"
	export DOCKERD_DIR
	DOCKERD_DIR=$(mktemp -d /tmp/berth-dockerd.XXXXXX)
	dockerd_start "$DOCKERD_DIR" || return 1
	dockerd_import_busybox || {
		dockerd_stop "$DOCKERD_DIR"
		return 1
	}
	export DOCKER_TEST_RUNTIME=${DOCKER_TEST_RUNTIME:-berth}
}

teardown_file() {
	source "$BATS_TEST_DIRNAME/../lib/start-dockerd.sh"
	dockerd_stop "$DOCKERD_DIR"
}

teardown() {
	local ids
	ids=$(d ps -aq 2>/dev/null) || ids=
	[ -z "$ids" ] || d rm -f $ids >/dev/null 2>&1 || true
}

# d ARGS...: Debian's docker client on the private daemon, never hanging a test.
d() {
	timeout 120 "$DOCKER" "$@"
}

# drun ARGS...: docker run with the runtime under test.
drun() {
	d run --runtime "$DOCKER_TEST_RUNTIME" "$@"
}

@test "docker run --rm echo prints its output" {
	run -0 drun --rm berth-test/busybox echo hi
	[ "$output" = hi ]
}

@test "docker run: the container's exit code comes back" {
	run -7 drun --rm berth-test/busybox sh -c 'exit 7'
}

@test "docker run of a missing command fails as docker says (127)" {
	run -127 drun --rm berth-test/busybox no-such-command
	[[ $output == *"executable file not found"* ]]
	run -127 drun --rm berth-test/busybox /no/such/binary
}

@test "docker run -it gets a tty" {
	# script(1) gives the client a terminal. The client stays in the
	# terminal's foreground group (timeout --foreground): in a background
	# group its tcsetattr would stop it with SIGTTOU. The client forwards
	# SIGTERM to the container, so only the outer SIGKILL bounds a hang.
	run timeout -s KILL 90 script -qec \
		"timeout --foreground -k 5 60 $DOCKER run -it --runtime $DOCKER_TEST_RUNTIME --rm berth-test/busybox tty" \
		/dev/null </dev/null
	echo "status $status, output: $output"
	if [ "$status" -ne 0 ]; then
		d ps -a
		tail -n 30 "$DOCKERD_DIR/dockerd.log" "$DOCKERD_DIR/containerd.log"
	fi
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '/dev/pts/0'
}

@test "docker run -d, then docker exec" {
	local c
	c=$(drun -d berth-test/busybox sleep 1000)
	run -0 d exec "$c" echo from-exec
	[ "$output" = from-exec ]
	run -3 d exec "$c" sh -c 'exit 3'
	run -0 d exec -u 65534 "$c" id -u
	[ "$output" = 65534 ]
	run -0 d exec -u 1000:1000 "$c" id
	[[ $output == "uid=1000 gid=1000"* ]]
	# exec joins the container: its pid namespace, where pid 1 is the sleep.
	run -0 d exec "$c" sh -c 'tr "\0" " " </proc/1/cmdline'
	[ "$output" = "sleep 1000 " ]
	run -0 d exec -e FOO=bar -w /tmp "$c" sh -c 'echo "$FOO $(pwd)"'
	[ "$output" = "bar /tmp" ]
	[ "$(d inspect -f '{{.State.Status}}' "$c")" = running ]
}

@test "docker stop: SIGTERM to a process that handles it, SIGKILL after the timeout" {
	local c start end
	c=$(drun -d berth-test/busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
	sleep 0.5
	start=$(date +%s)
	d stop -t 10 "$c"
	end=$(date +%s)
	[ $((end - start)) -lt 10 ]
	[ "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c")" = "exited 0" ]

	# pid 1 without a TERM handler ignores it: docker kills after -t seconds.
	c=$(drun -d berth-test/busybox sleep 1000)
	start=$(date +%s)
	d stop -t 2 "$c"
	end=$(date +%s)
	[ $((end - start)) -lt 15 ]
	[ "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c")" = "exited 137" ]
}

@test "docker run --memory and --pids-limit are set in the container's cgroups" {
	run -0 drun --rm --memory 64m berth-test/busybox \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
	[ "$output" = 67108864 ]
	run -0 drun --rm --pids-limit 50 berth-test/busybox \
		sh -c 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'
	[ "$output" = 50 ]
	# And the limit holds: forking past it fails.
	run drun --rm --pids-limit 10 berth-test/busybox \
		sh -c 'for i in $(seq 20); do sleep 5 & done 2>&1; wait'
	[[ $output == *"can't fork"* ]] || [[ $output == *"Resource temporarily unavailable"* ]]
}

@test "docker update changes a running container's memory limit" {
	local c
	c=$(drun -d --memory 64m berth-test/busybox sleep 1000)
	d update --memory 128m --memory-swap 256m "$c"
	run -0 d exec "$c" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
	[ "$output" = 134217728 ]
}

@test "docker top lists the container's processes" {
	local c
	c=$(drun -d berth-test/busybox sh -c 'sleep 1001 & sleep 1002')
	sleep 0.5
	run -0 d top "$c"
	echo "$output" | grep -q 'sleep 1001'
	echo "$output" | grep -q 'sleep 1002'
}

@test "docker pause and unpause" {
	local c
	c=$(drun -d berth-test/busybox sleep 1000)
	d pause "$c"
	[ "$(d inspect -f '{{.State.Status}}' "$c")" = paused ]
	d unpause "$c"
	[ "$(d inspect -f '{{.State.Status}}' "$c")" = running ]
	run -0 d exec "$c" echo alive
	[ "$output" = alive ]
}

@test "docker logs and docker wait" {
	local c
	c=$(drun -d berth-test/busybox sh -c 'echo out; echo err >&2; exit 4')
	run -0 d wait "$c"
	[ "$output" = 4 ]
	run -0 d logs "$c"
	echo "$output" | grep -qx out
	echo "$output" | grep -qx err
}

@test "docker run with --user, --workdir, --env, --hostname, --read-only" {
	run -0 drun --rm -u 65534:65534 -w /tmp -e GREETING=hey -h boxname --read-only \
		berth-test/busybox sh -c 'echo "$(id -u):$(id -g) $(pwd) $GREETING $(hostname)"; touch /x 2>/dev/null && echo rw || echo ro'
	[ "${lines[0]}" = "65534:65534 /tmp hey boxname" ]
	[ "${lines[1]}" = ro ]
}

@test "docker run --cap-drop and --cap-add change the capability sets" {
	local def dropped added
	# CapEff bit 0 is CAP_CHOWN (in Docker's default set), bit 12 CAP_NET_ADMIN (not).
	def=$(drun --rm berth-test/busybox awk '/^CapEff/ {print $2}' /proc/self/status)
	dropped=$(drun --rm --cap-drop CHOWN berth-test/busybox awk '/^CapEff/ {print $2}' /proc/self/status)
	added=$(drun --rm --cap-add NET_ADMIN berth-test/busybox awk '/^CapEff/ {print $2}' /proc/self/status)
	echo "default $def, --cap-drop CHOWN $dropped, --cap-add NET_ADMIN $added"
	[ $((0x$def & 1)) -eq 1 ]
	[ $((0x$def >> 12 & 1)) -eq 0 ]
	[ $((0x$dropped & 1)) -eq 0 ]
	[ $((0x$added >> 12 & 1)) -eq 1 ]
}

@test "many containers in a row start and are removed" {
	local n out
	for n in $(seq 1 10); do
		out=$(drun --rm berth-test/busybox echo "n$n")
		[ "$out" = "n$n" ]
	done
	[ -z "$(d ps -aq)" ]
}
