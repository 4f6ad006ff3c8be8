#!/usr/bin/env bats
# containers-info.bats - looking into containers and the system as a docker
# user does: top, stats, update, port, attach, version, info and system
# prune. Each test has its own --root and --runroot; the image is a busybox
# rootfs imported with `berth import` (no registry needed).

bats_require_minimum_version 1.5.0

load helpers

load container-helpers

setup_file() {
	image_rootfs_begin
	image_rootfs_end
}

teardown_file() {
	rm -rf "$IMGDIR"
}

setup() { container_setup; }
teardown() { container_teardown; }

# The memory limit of the cgroup a host pid is in, read from the cgroup fs.
memory_limit_of() {
	local pid=$1 path
	path=$(sed -n 's/^[0-9]*:memory://p' "/proc/$pid/cgroup")
	if [ -n "$path" ]; then
		cat "/sys/fs/cgroup/memory$path/memory.limit_in_bytes"
	else
		path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup$path/memory.max"
	fi
}

@test "top: the container's processes in ps -ef columns, and no others" {
	b run -d --name mine bb:test sleep 301 >/dev/null
	b run -d --name other bb:test sleep 302 >/dev/null
	run -0 b top mine
	[[ "${lines[0]}" =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *"sleep 301" ]]
	pid=$(b inspect -f '{{.State.Pid}}' mine)
	[[ "${lines[1]}" =~ ^root\ +$pid\  ]]
	[[ "$output" != *"sleep 302"* ]]

	run -0 b container top mine -o pid,comm
	[[ "${lines[0]}" =~ ^PID\ +COMMAND$ ]]
	[[ "${lines[1]}" =~ ^$pid\ +sleep$ ]]

	# ps's own complaint comes back in docker's error
	run -1 b top mine --no-such-ps-option
	[[ "$output" == *"Error response from daemon: ps: exit status 1: "*"option"* ]]

	b create --name idle bb:test true >/dev/null
	run -1 b top idle
	[[ "$output" == *"is not running"* ]]
}

@test "stats --no-stream: docker's columns, the name and the -m limit" {
	b run -d --name limited -m 64m bb:test sleep 300 >/dev/null
	b create --name stopped bb:test true >/dev/null
	run -0 b stats --no-stream
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT\ +MEM\ %\ +NET\ I/O\ +BLOCK\ I/O\ +PIDS$ ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" =~ ^[0-9a-f]{12}\ +limited\ +[0-9.]+%\ +[0-9.]+[KMG]?i?B\ /\ 64MiB\ +[0-9.]+%\ +[0-9.]+[kMG]?B\ /\ [0-9.]+[kMG]?B\ .*\ 1$ ]]

	run -0 b stats --no-stream --format '{{.Name}}={{.MemUsage}} pids={{.PIDs}}' limited
	[[ "$output" =~ ^limited=.*\ /\ 64MiB\ pids=1$ ]]

	# -a: the stopped one too, with nothing to count
	run -0 b stats --no-stream -a --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}'
	[[ "$output" == *"stopped 0.00% 0B / 0B"* ]]

	run -1 b stats --no-stream nosuch
	[[ "$output" == *"No such container: nosuch"* ]]
}

@test "update -m: the running container's cgroup and its HostConfig change" {
	b run -d --name upd -m 64m bb:test sleep 300 >/dev/null
	pid=$(b inspect -f '{{.State.Pid}}' upd)
	[ "$(memory_limit_of "$pid")" -eq $((64 * 1024 * 1024)) ]

	run -0 b update -m 128m --pids-limit 50 upd
	[ "$output" = upd ]
	[ "$(memory_limit_of "$pid")" -eq $((128 * 1024 * 1024)) ]
	run -0 b inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' upd
	[ "$output" = "$((128 * 1024 * 1024)) 50" ]

	run -0 b container update --restart on-failure:3 upd
	run -0 b inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.Memory}}' upd
	[ "$output" = "on-failure:3 $((128 * 1024 * 1024))" ]

	# docker's zero: leave it as it is
	run -0 b update -m 0 upd
	[ "$(memory_limit_of "$pid")" -eq $((128 * 1024 * 1024)) ]
	[ "$(b inspect -f '{{.HostConfig.Memory}}' upd)" -eq $((128 * 1024 * 1024)) ]

	# docker's checks and messages; nothing changes on failure
	run -1 b update -m 1k upd
	[[ "$output" == *"Minimum memory limit allowed is 6MB"* ]]
	[ "$(memory_limit_of "$pid")" -eq $((128 * 1024 * 1024)) ]
	run -125 b update -m lots upd
	[[ "$output" == *'invalid argument "lots" for "-m, --memory" flag'* ]]
	run -1 b update upd
	[[ "$output" == *"you must provide one or more flags"* ]]

	# a stopped container: the next start has the new limit
	b create --name later -m 64m bb:test sleep 300 >/dev/null
	run -0 b update -m 96m later
	b start later >/dev/null
	pid=$(b inspect -f '{{.State.Pid}}' later)
	[ "$(memory_limit_of "$pid")" -eq $((96 * 1024 * 1024)) ]
}

@test "port: a running container's published ports, all or one; none once stopped" {
	p1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
	p2=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("",0)); print(s.getsockname()[1])')
	b run -d --name web -p "$p1:80" -p "127.0.0.1:$p2:53/udp" bb:test sleep 300 >/dev/null
	run -0 b port web
	[ "${lines[0]}" = "53/udp -> 127.0.0.1:$p2" ]
	[ "${lines[1]}" = "80/tcp -> 0.0.0.0:$p1" ]
	[ "${#lines[@]}" -eq 2 ]
	run -0 b port web 80
	[ "$output" = "0.0.0.0:$p1" ]
	run -0 b port web 53/udp
	[ "$output" = "127.0.0.1:$p2" ]
	run -1 b port web 81
	[[ "$output" == *"No public port '81/tcp' published for web"* ]]
	b kill web >/dev/null
	b wait web >/dev/null || true
	run -0 b port web
	[ -z "$output" ]
	b create --name none bb:test true >/dev/null
	run -0 b port none
	[ -z "$output" ]
}

@test "attach: a running container's output, then its exit code" {
	b run -d --name talker bb:test sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; echo hello; echo oops >&2; exit 5' >/dev/null
	"$BERTH" --root "$ROOT" --runroot "$RUN" attach talker >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	cli=$!
	# attached once the CLI holds the attach socket (it opens no other)
	for _ in $(seq 100); do
		ls -l "/proc/$cli/fd" 2>/dev/null | grep -q 'socket:' && break
		sleep 0.05
	done
	b exec talker touch /tmp/go
	rc=0
	wait "$cli" || rc=$?
	[ "$rc" -eq 5 ]
	[ "$(cat "$TEST_TMP/out")" = hello ]
	[ "$(cat "$TEST_TMP/err")" = oops ]

	run -1 b attach talker
	[[ "$output" == *"You cannot attach to a stopped container, start it first"* ]]
}

@test "info: container and image counts, docker's fields for --format" {
	b run -d --name up bb:test sleep 300 >/dev/null
	b create --name down bb:test true >/dev/null
	run -0 b info
	[[ "$output" == *" Containers: 2"* ]]
	[[ "$output" == *"  Running: 1"* ]]
	[[ "$output" == *"  Paused: 0"* ]]
	[[ "$output" == *"  Stopped: 1"* ]]
	[[ "$output" == *" Images: 1"* ]]
	[[ "$output" == *" Storage Driver: overlay2"* ]]
	[[ "$output" == *" Cgroup Version: "[12]* ]]
	[[ "$output" == *" Berth Root Dir: $(realpath "$ROOT")"* ]]
	run -0 b info --format '{{.ContainersRunning}}/{{.ContainersStopped}}/{{.Containers}} {{.Images}} {{.Driver}} {{.NCPU}}'
	[ "$output" = "1/1/2 1 overlay2 $(nproc)" ]
	run -0 b system info --format '{{json .}}'
	[[ "$output" == *'"DockerRootDir":"'"$(realpath "$ROOT")"'"'* ]]
	[[ "$output" == *'"KernelVersion":"'"$(uname -r)"'"'* ]]
}

@test "version: client and server blocks, --format on docker's fields" {
	run -0 b version
	[[ "${lines[0]}" = "Client:" ]]
	[[ "$output" == *" API version:       1.43"* ]]
	[[ "$output" == *"Server:"* ]]
	want=$(b --version | awk '{print $3}')
	run -0 b version --format '{{.Client.Version}} {{.Server.Version}} {{.Client.ApiVersion}}'
	[ "$output" = "$want $want 1.43" ]
}

@test "system prune: stopped containers and dangling images go, used ones stay" {
	mkdir -p "$TEST_TMP/t"
	echo one >"$TEST_TMP/t/f"
	tar -C "$TEST_TMP/t" -cf "$TEST_TMP/one.tar" .
	echo two >"$TEST_TMP/t/f"
	tar -C "$TEST_TMP/t" -cf "$TEST_TMP/two.tar" .
	dangling=$(b import "$TEST_TMP/one.tar" scratch:x)
	b import "$TEST_TMP/two.tar" scratch:x >/dev/null
	b network create unused >/dev/null
	b network create used >/dev/null
	b run -d --name keep --network used bb:test sleep 300 >/dev/null
	gone=$(b create --name gone bb:test true)

	# without -f it asks; no answer keeps everything
	run -0 b system prune </dev/null
	[[ "$output" == "WARNING! This will remove:"* ]]
	[[ "$output" == *"  - all stopped containers"* ]]
	[[ "$output" == *"  - all networks not used by at least one container"* ]]
	[[ "$output" == *"  - all dangling images"* ]]
	[ "$(b ps -aq | wc -l)" -eq 2 ]

	run -0 b system prune -f
	[[ "$output" == *"Deleted Containers:"*"$gone"* ]]
	[[ "$output" == *"Deleted Networks:"$'\n'"unused"$'\n'* ]]
	[[ "$output" == *"Deleted Images:"*"deleted: $dangling"* ]]
	[[ "${lines[-1]}" =~ ^Total\ reclaimed\ space:\ [0-9.]+k?B$ ]]
	run -0 b network ls --format '{{.Name}}'
	[[ "$output" == *used* && "$output" != *unused* ]]
	run -0 b ps -a --format '{{.Names}}'
	[ "$output" = keep ]
	run -0 b images --format '{{.Repository}}:{{.Tag}}'
	[[ "$output" != *"<none>"* ]]
	[[ "$output" == *"bb:test"* ]]
	[[ "$output" == *"scratch:x"* ]]
}

@test "system prune --volumes: unused anonymous volumes too, named ones stay" {
	b volume create named >/dev/null
	b create --name withvol -v /data -v named:/named bb:test true >/dev/null
	anon=$(b volume ls -q | grep -v '^named$')
	[ -n "$anon" ]
	run -0 b system prune -f
	[[ "$output" == *"Deleted Containers:"* ]]
	[[ "$output" != *"Deleted Volumes:"* ]]
	run -0 b volume ls -q
	[[ "$output" == *"$anon"* ]]

	run -0 b system prune -f --volumes
	[[ "$output" == *"Deleted Volumes:"*"$anon"* ]]
	run -0 b volume ls -q
	[ "$output" = named ]
}
