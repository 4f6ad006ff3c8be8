#!/usr/bin/env bats
# lifecycle.bats - the runc-compatible CLI of the runtime, driven as containerd
# and users drive it: create/start/state/kill/delete, run, exec, ps, list,
# pause/resume, update, spec, features, console socket, preserved fds, logs.
#
# Everything here holds for runc too: `BERTH_RUNTIME=runc bats lifecycle.bats`
# checks the tests themselves. Berth's own error wording is in errors.bats.

bats_require_minimum_version 1.5.0

load helpers
load ../lib/runtime-helpers

setup() {
	common_setup
	new_bundle busybox
}

teardown() { common_teardown; }

@test "create, start, state: created -> running -> stopped, with pid, bundle and annotations" {
	local id
	id=$(cid)
	set_args sleep 100
	cfg '.annotations = {"org.berth.test": "lifecycle", "other": "x y"}'
	create_bg "$id"

	run -0 rt state "$id"
	echo "$output" | jq -e . >/dev/null
	[ "$(echo "$output" | jq -r .id)" = "$id" ]
	[ "$(echo "$output" | jq -r .status)" = created ]
	[ "$(echo "$output" | jq -r .bundle)" = "$BUNDLE" ]
	[ "$(echo "$output" | jq -r .ociVersion)" != null ]
	[ "$(echo "$output" | jq -r '.annotations["org.berth.test"]')" = lifecycle ]
	[ "$(echo "$output" | jq -r '.annotations.other')" = "x y" ]
	local pid
	pid=$(echo "$output" | jq -r .pid)
	[ "$pid" -gt 1 ]
	proc_alive "$pid"

	rt start "$id"
	wait_status "$id" running
	# start execs the user's process in the same init: the pid does not change.
	[ "$(state_of "$id" .pid)" = "$pid" ]
	[ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" = "sleep 100 " ]

	rt kill "$id" KILL
	wait_status "$id" stopped
	! proc_alive "$pid"

	rt delete "$id"
	run ! rt state "$id"
	[ ! -e "$STATE_ROOT/$id" ]
}

@test "create waits: the process does not run until start" {
	local id
	id=$(cid)
	set_args true
	create_bg "$id"
	local pid
	pid=$(state_of "$id" .pid)
	sleep 1
	# `true` would have exited at once: the init is still there, waiting.
	[ "$(state_of "$id")" = created ]
	proc_alive "$pid"
	[ "$(tr '\0' '\n' </proc/"$pid"/cmdline | head -n1)" != true ]
	rt start "$id"
	wait_status "$id" stopped
}

@test "create --pid-file writes the init's pid" {
	local id
	id=$(cid)
	set_args sleep 100
	create_bg "$id" --pid-file "$TEST_TMP/init.pid"
	[ -s "$TEST_TMP/init.pid" ]
	[ "$(cat "$TEST_TMP/init.pid")" = "$(state_of "$id" .pid)" ]
}

@test "kill sends a signal by name, SIG-name or number" {
	local sig id
	# pid 1 of a pid namespace ignores signals it has no handler for: trap it.
	set_args sh -c 'trap "exit 0" USR1; while :; do sleep 0.1; done'
	for sig in USR1 SIGUSR1 10; do
		id=$(cid)
		run_bg "$id"
		wait_status "$id" running
		sleep 0.2 # let the shell install its trap
		rt kill "$id" "$sig"
		wait_status "$id" stopped
		rt delete "$id"
	done
}

@test "kill without a signal sends SIGTERM" {
	local id
	id=$(cid)
	set_args sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	run_bg "$id"
	wait_status "$id" running
	sleep 0.2
	rt kill "$id"
	wait_status "$id" stopped
}

@test "kill --all signals every process of the container" {
	local id
	id=$(cid)
	set_args sh -c 'sleep 1000 & sleep 1000 & wait'
	run_bg "$id"
	wait_status "$id" running
	local pids i
	for i in $(seq 1 50); do
		pids=$(rt ps -f json "$id" | jq -r '.[]')
		[ "$(echo "$pids" | wc -w)" -ge 3 ] && break
		sleep 0.05
	done
	[ "$(echo "$pids" | wc -w)" -ge 3 ]
	rt kill --all "$id" KILL
	wait_status "$id" stopped
	local p
	for p in $pids; do
		for i in $(seq 1 50); do proc_alive "$p" || break; sleep 0.05; done
		! proc_alive "$p"
	done
}

@test "delete: refuses a running container, --force kills and removes it" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	wait_status "$id" running
	local pid
	pid=$(state_of "$id" .pid)
	run ! rt delete "$id"
	proc_alive "$pid"
	[ "$(state_of "$id")" = running ]

	rt delete --force "$id"
	run ! rt state "$id"
	local i
	for i in $(seq 1 50); do proc_alive "$pid" || break; sleep 0.05; done
	! proc_alive "$pid"
	[ ! -e "$STATE_ROOT/$id" ]
	run -0 rt list -q
	! echo "$output" | grep -qx "$id"
}

@test "delete of a created container removes it and its waiting init" {
	local id
	id=$(cid)
	create_bg "$id"
	local pid
	pid=$(state_of "$id" .pid)
	rt delete "$id"
	run ! rt state "$id"
	local i
	for i in $(seq 1 50); do proc_alive "$pid" || break; sleep 0.05; done
	! proc_alive "$pid"
}

@test "state and delete of an unknown container fail" {
	run ! rt state no-such-container
	[ -n "$output" ]
	run ! rt delete no-such-container
	run ! rt start no-such-container
	run ! rt kill no-such-container KILL
}

@test "run: output, and the container's exit code" {
	local id
	id=$(cid)
	set_args echo hello from berth
	run -0 rt run --bundle "$BUNDLE" "$id"
	[ "$output" = "hello from berth" ]

	id=$(cid)
	set_args sh -c 'exit 3'
	run -3 rt run --bundle "$BUNDLE" "$id"

	id=$(cid)
	set_args /no/such/binary
	run ! rt run --bundle "$BUNDLE" "$id"
}

@test "run: killed by SIGKILL exits 137" {
	local id
	id=$(cid)
	set_args sleep 100
	rt run --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 3>&- &
	local bg=$!
	wait_status "$id" running
	rt kill "$id" KILL
	local rc=0
	wait "$bg" || rc=$?
	[ "$rc" -eq 137 ]
}

@test "run -d --pid-file: detaches, and the pid file names the init" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id" --pid-file "$TEST_TMP/run.pid"
	[ "$(state_of "$id")" = running ]
	[ "$(cat "$TEST_TMP/run.pid")" = "$(state_of "$id" .pid)" ]
	proc_alive "$(cat "$TEST_TMP/run.pid")"
}

@test "exec: arguments, exit code, --env, --cwd, --user" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"

	run -0 rt exec "$id" echo one two
	[ "$output" = "one two" ]

	run -5 rt exec "$id" sh -c 'exit 5'

	run -0 rt exec --env FOO=bar --env EMPTY= "$id" sh -c 'echo "$FOO:$EMPTY:"'
	[ "$output" = "bar::" ]

	run -0 rt exec --cwd /tmp "$id" pwd
	[ "$output" = /tmp ]

	run -0 rt exec --user 1000:1000 "$id" sh -c 'echo $(id -u):$(id -g)'
	[ "$output" = 1000:1000 ]

	# The exec'd process is in the container: its pid namespace and root.
	run -0 rt exec "$id" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	[ "$output" = "sleep 100 " ]
}

@test "exec --process runs a process.json" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	cat >"$TEST_TMP/process.json" <<-'EOF'
		{
			"terminal": false,
			"user": {"uid": 1000, "gid": 1000},
			"args": ["sh", "-c", "echo $GREETING $(id -u) $(pwd)"],
			"env": ["PATH=/bin:/usr/bin", "GREETING=hi"],
			"cwd": "/home"
		}
	EOF
	run -0 rt exec --process "$TEST_TMP/process.json" "$id"
	[ "$output" = "hi 1000 /home" ]
}

@test "exec --detach --pid-file" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	rt exec --detach --pid-file "$TEST_TMP/exec.pid" "$id" sleep 77 </dev/null >/dev/null 2>&1 3>&-
	[ -s "$TEST_TMP/exec.pid" ]
	local pid
	pid=$(cat "$TEST_TMP/exec.pid")
	proc_alive "$pid"
	[ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" = "sleep 77 " ]
	# It is one of the container's processes.
	rt ps -f json "$id" | jq -e --argjson p "$pid" 'index($p) != null'
}

@test "exec into a stopped container fails" {
	local id
	id=$(cid)
	set_args true
	rt run --bundle "$BUNDLE" "$id"
	run ! rt exec "$id" true
}

@test "ps: a table, and -f json gives the pids" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	local pid
	pid=$(state_of "$id" .pid)
	run -0 rt ps -f json "$id"
	echo "$output" | jq -e 'type == "array"'
	echo "$output" | jq -e --argjson p "$pid" 'index($p) != null'
	run -0 rt ps "$id"
	[[ ${lines[0]} == *PID* ]]
	echo "$output" | grep -qw "$pid"
}

@test "list: -q gives ids, -f json gives id, pid, status, bundle" {
	local a b
	a=$(cid)
	b=$(cid)
	set_args sleep 100
	run_bg "$a"
	create_bg "$b"
	run -0 rt list -q
	echo "$output" | grep -qx "$a"
	echo "$output" | grep -qx "$b"
	[ "${#lines[@]}" -eq 2 ]

	run -0 rt list -f json
	[ "$(echo "$output" | jq -r --arg i "$a" '.[] | select(.id == $i) | .status')" = running ]
	[ "$(echo "$output" | jq -r --arg i "$b" '.[] | select(.id == $i) | .status')" = created ]
	[ "$(echo "$output" | jq -r --arg i "$a" '.[] | select(.id == $i) | .bundle')" = "$BUNDLE" ]
	[ "$(echo "$output" | jq -r --arg i "$a" '.[] | select(.id == $i) | .pid')" = "$(state_of "$a" .pid)" ]

	run -0 rt list
	[[ ${lines[0]} == *ID*STATUS* ]]
}

@test "list of an empty root prints no container" {
	run -0 rt list -q
	[ -z "$output" ]
	run -0 rt list -f json
	echo "$output" | jq -e 'length == 0'
}

@test "pause and resume" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	rt pause "$id"
	[ "$(state_of "$id")" = paused ]
	rt resume "$id"
	[ "$(state_of "$id")" = running ]
	run -0 rt exec "$id" echo alive
	[ "$output" = alive ]
}

@test "update --memory and --pids-limit are seen inside the container" {
	local id
	id=$(cid)
	set_args sleep 100
	run_bg "$id"
	rt update --memory 100M "$id"
	run -0 cgroup_read_in "$id" memory/memory.limit_in_bytes memory.max
	[ "$output" = 104857600 ]
	rt update --pids-limit 42 "$id"
	run -0 cgroup_read_in "$id" pids/pids.max pids.max
	[ "$output" = 42 ]
}

@test "linux.resources of config.json apply at create" {
	local id
	id=$(cid)
	set_args sleep 100
	cfg '.linux.resources.memory.limit = 67108864 | .linux.resources.pids.limit = 50'
	run_bg "$id"
	run -0 cgroup_read_in "$id" memory/memory.limit_in_bytes memory.max
	[ "$output" = 67108864 ]
	run -0 cgroup_read_in "$id" pids/pids.max pids.max
	[ "$output" = 50 ]
}

@test "spec writes a config.json that runs" {
	local dir=$TEST_TMP/specbundle
	mkdir -p "$dir"
	busybox_rootfs "$dir/rootfs"
	(cd "$dir" && "$RUNTIME" spec)
	jq -e '.ociVersion and .process.args and .root.path == "rootfs" and .linux.namespaces' "$dir/config.json"
	# As written it wants a terminal; without one, the same spec runs.
	jq '.process.terminal = false | .process.args = ["echo", "spec ok"]' "$dir/config.json" >"$dir/c.new"
	mv "$dir/c.new" "$dir/config.json"
	local id
	id=$(cid)
	run -0 rt run --bundle "$dir" "$id"
	[ "$output" = "spec ok" ]
}

@test "spec --bundle writes there, and refuses to overwrite" {
	local dir=$TEST_TMP/specdir
	mkdir -p "$dir"
	"$RUNTIME" spec --bundle "$dir"
	jq -e .ociVersion "$dir/config.json"
	run ! "$RUNTIME" spec --bundle "$dir"
}

@test "features prints JSON with the OCI versions" {
	run -0 "$RUNTIME" features
	echo "$output" | jq -e '.ociVersionMin and .ociVersionMax'
	echo "$output" | jq -e '.hooks | index("prestart") != null'
	echo "$output" | jq -e '.linux.namespaces | index("pid") != null'
}

@test "--console-socket receives the pty master" {
	need_tool recvtty
	local id sock=$TEST_TMP/console.sock
	id=$(cid)
	set_args sh -c 'tty; echo console-ok'
	cfg '.process.terminal = true'
	"$TOOL" --mode single --pid-file "$TEST_TMP/recvtty.pid" "$sock" </dev/null >"$TEST_TMP/console.out" 2>&1 3>&- &
	local rpid=$!
	local i
	for i in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ]
	create_bg "$id" --console-socket "$sock"
	rt start "$id"
	wait_status "$id" stopped
	# recvtty copies the console until the container closes it.
	for i in $(seq 1 100); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.05; done
	kill "$rpid" 2>/dev/null || true
	cat "$TEST_TMP/console.out"
	grep -q '^/dev/pts/0' "$TEST_TMP/console.out"
	grep -q console-ok "$TEST_TMP/console.out"
}

@test "terminal: true without --console-socket is refused" {
	local id
	id=$(cid)
	cfg '.process.terminal = true'
	run ! rt create --bundle "$BUNDLE" "$id" </dev/null 3>&-
	run ! rt state "$id"
}

@test "--preserve-fds passes fds 3.. to the process" {
	local id
	id=$(cid)
	echo preserved-three >"$TEST_TMP/fd3"
	echo preserved-four >"$TEST_TMP/fd4"
	set_args sh -c 'cat <&3; cat <&4'
	run -0 rt run --preserve-fds 2 --bundle "$BUNDLE" "$id" 3<"$TEST_TMP/fd3" 4<"$TEST_TMP/fd4"
	[ "${lines[0]}" = preserved-three ]
	[ "${lines[1]}" = preserved-four ]

	# Without --preserve-fds, nothing past stderr leaks in.
	id=$(cid)
	set_args sh -c 'ls /proc/self/fd'
	run -0 rt run --bundle "$BUNDLE" "$id" 3<"$TEST_TMP/fd3" 4<"$TEST_TMP/fd4"
	[ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ] # 3: the fd ls reads the dir with
}

@test "--log with --log-format json writes JSON lines on a failure" {
	local log=$TEST_TMP/runtime.log
	run ! rt --log "$log" --log-format json state no-such-container
	[ -s "$log" ]
	cat "$log"
	# Every line is one JSON object with level and msg (containerd parses these).
	while IFS= read -r line; do
		echo "$line" | jq -e 'type == "object" and (.msg | type == "string") and (.level | type == "string")' >/dev/null
	done <"$log"
	jq -se 'map(select(.level == "error")) | length >= 1' "$log"
}

@test "--log with --log-format text, and --debug, are accepted" {
	local id log=$TEST_TMP/runtime.log
	id=$(cid)
	set_args true
	run -0 rt --debug --log "$log" --log-format text run --bundle "$BUNDLE" "$id"
}

@test "a container's own root: namespaces and hostname" {
	local id
	id=$(cid)
	cfg '.hostname = "berthbox"'
	set_args sh -c 'hostname; echo $$; ls /'
	run -0 rt run --bundle "$BUNDLE" "$id"
	[ "${lines[0]}" = berthbox ]
	[ "${lines[1]}" = 1 ]
	echo "$output" | grep -qx bin
	! echo "$output" | grep -qx vmlinuz
}

@test "root.readonly: the rootfs cannot be written" {
	local id
	id=$(cid)
	cfg '.root.readonly = true'
	set_args sh -c 'touch /x 2>/dev/null && echo writable || echo readonly'
	run -0 rt run --bundle "$BUNDLE" "$id"
	[ "$output" = readonly ]
	id=$(cid)
	cfg '.root.readonly = false'
	run -0 rt run --bundle "$BUNDLE" "$id"
	[ "$output" = writable ]
}

@test "a Debian bundle runs bash and apt's tools" {
	local id
	id=$(cid)
	new_bundle debian
	cfg '.root.readonly = true'
	set_args bash -c 'echo "$BASH_VERSION" | cut -d. -f1; dpkg-query -W -f="\${Status}\n" bash'
	run -0 rt run --bundle "$BUNDLE" "$id"
	[ "${lines[0]}" = 5 ]
	[ "${lines[1]}" = "install ok installed" ]
}

@test "every command answers --help on stdout with exit 0" {
	local c
	for c in create start state kill delete run exec ps list pause resume update features spec; do
		run -0 "$RUNTIME" "$c" --help
		[ -n "$output" ] || { echo "$c --help printed nothing" >&2; return 1; }
	done
	run -0 "$RUNTIME" --help
	run -0 "$RUNTIME" --version
}
