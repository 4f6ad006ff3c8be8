#!/usr/bin/env bats
# containers.bats - `berth run` and the container commands as a docker user
# drives them: attached and detached runs, exit codes, logs, stop/kill/rm,
# names, stdin, restart policies, and what a kill -9 of the CLI or of a
# monitor leaves. Each test has its own --root and --runroot; the image is
# a busybox rootfs imported with `berth import` (no registry needed).

bats_require_minimum_version 1.5.0

load helpers

load container-helpers

setup_file() {
	image_rootfs_begin
	printf '#!/bin/sh\necho not executable\n' >"$IMGDIR/rootfs/bin/noexec"
	chmod 644 "$IMGDIR/rootfs/bin/noexec"
	image_rootfs_end
}

teardown_file() {
	rm -rf "$IMGDIR"
}

setup() { container_setup; }
teardown() { container_teardown; }

@test "run: attached output, stdout and stderr apart, the container's exit code" {
	run --separate-stderr b run --rm bb:test sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = "out" ]
	[ "$stderr" = "err" ]
	assert_no_leaks
}

@test "run: killed by a signal exits 128+N, also for the attached CLI" {
	b run --name victim bb:test sleep 30 &
	cli=$!
	for _ in $(seq 100); do [ "$(b inspect -f '{{.State.Status}}' victim 2>/dev/null)" = running ] && break; sleep 0.05; done
	run -0 b kill victim
	[ "$output" = victim ]
	status=0
	wait $cli || status=$?
	[ "$status" -eq 137 ]
	run -0 b inspect -f '{{.State.ExitCode}}' victim
	[ "$output" = 137 ]
}

@test "run -i: stdin reaches the container and its end closes it" {
	run -0 bash -c "printf 'line1\nline2\n' | '$BERTH' --root '$ROOT' --runroot '$RUN' run -i --rm bb:test cat"
	[ "$output" = "$(printf 'line1\nline2')" ]
}

@test "run -d, ps, logs, stop, rm" {
	run -0 b run -d --name web bb:test sh -c 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done'
	id=$output
	[ ${#id} -eq 64 ]
	run -0 b ps --format '{{.ID}} {{.Names}} {{.Status}}'
	[[ "$output" == "${id:0:12} web Up "* ]]
	for _ in $(seq 50); do b logs web | grep -q started && break; sleep 0.1; done
	run -0 b logs web
	[ "$output" = "started" ]
	run -0 b stop web
	[ "$output" = "web" ]
	run -0 b ps -a --format '{{.Names}} {{.Status}}'
	[[ "$output" == "web Exited (0) "* ]]
	run -0 b logs web
	[ "$output" = "$(printf 'started\nbye')" ]
	run -0 b inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.Name}}' web
	[ "$output" = "exited 0 /web" ]
	run -0 b rm web
	assert_no_leaks
}

@test "logs: json-file lines in Docker's format, --tail and -t" {
	run -0 b run --name chat bb:test sh -c 'for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2'
	run -0 b logs --tail 2 chat
	[ "$output" = "$(printf 'line5\noops')" ]
	run -0 b logs -t --tail 1 chat
	[[ "$output" =~ ^20[0-9-]+T[0-9:.]+Z\ oops$ ]]
	log=$(b inspect -f '{{.LogPath}}' chat)
	run -0 jq -r 'select(.stream=="stderr") | .log' "$log"
	[ "$output" = "oops" ]
	run -0 jq -s 'length' "$log"
	[ "$output" = 6 ]
}

@test "stop: a process that ignores SIGTERM is killed after -t seconds" {
	run -0 b run -d --name stubborn bb:test sh -c 'trap "" TERM; while :; do sleep 0.1; done'
	start=$(date +%s)
	run -0 b stop -t 1 stubborn
	elapsed=$(($(date +%s) - start))
	# the default 10 s was not waited for
	[ "$elapsed" -lt 8 ]
	run -0 b inspect -f '{{.State.ExitCode}}' stubborn
	[ "$output" = 137 ]
}

@test "create, start -a, wait, restart" {
	run -0 b create --name job bb:test sh -c 'echo ran; exit 4'
	run -0 b ps -a --format '{{.Names}} {{.Status}}'
	[ "$output" = "job Created" ]
	run b start -a job
	[ "$status" -eq 4 ]
	[ "$output" = "ran" ]
	run -0 b wait job
	[ "$output" = 4 ]
	run -0 b start job
	run -0 b wait job
	[ "$output" = 4 ]
	run -0 b logs job
	[ "$output" = "$(printf 'ran\nran')" ]
}

@test "names: a name in use is a conflict, and nothing is made" {
	run -0 b create --name dup bb:test true
	run -125 b run --name dup bb:test true
	[[ "$output" == *'Conflict. The container name "/dup" is already in use'* ]]
	run -0 b ps -aq
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	run -0 b rename dup dup2
	run -0 b inspect -f '{{.Name}}' dup2
	[ "$output" = /dup2 ]
	run -1 b inspect dup
}

@test "a missing command exits 127, a non-executable one 126, and --rm leaves nothing" {
	run -127 b run --rm bb:test /no/such/thing
	[[ "$output" == *"no such file or directory"* ]]
	run -126 b run --rm bb:test /bin/noexec
	[[ "$output" == *"permission denied"* ]]
	assert_no_leaks
}

@test "unknown image fails with 125 (pull never)" {
	run -125 b run --pull never --rm nosuchimage:1 true
	[[ "$output" == *"nosuchimage"* ]]
	assert_no_leaks
}

@test "rm of a running container refuses without -f" {
	run -0 b run -d --name busy bb:test sleep 60
	run -1 b rm busy
	[[ "$output" == *"container is running: stop the container before removing or force remove"* ]]
	run -0 b rm -f busy
	assert_no_leaks
}

@test "Config: -e, -w, -u, --entrypoint, --hostname and the image's Cmd" {
	run -0 b run --rm -e A=1 -e EMPTY= -w /tmp -u 1000:2000 -h myhost bb:test \
		sh -c 'echo "$A [$EMPTY] $(pwd) $(id -u):$(id -g) $(hostname)"'
	[ "$output" = "1 [] /tmp 1000:2000 myhost" ]
	run -0 b run --rm --entrypoint /bin/echo bb:test hello
	[ "$output" = "hello" ]
	run -0 b run --rm -u tester bb:test id -un
	[ "$output" = "tester" ]
}

@test "exec: a second process, its exit code, env and user" {
	run -0 b run -d --name box bb:test sleep 60
	run -0 b exec box echo hi
	[ "$output" = hi ]
	run -3 b exec box sh -c 'exit 3'
	run -0 b exec -e X=y -u 1000 box sh -c 'echo $X $(id -u)'
	[ "$output" = "y 1000" ]
	run -127 b exec box /nonexistent
	run -0 b stop -t 0 box
	run -1 b exec box true
	[[ "$output" == *"is not running"* ]]
}

@test "restart=on-failure:2 restarts twice, then stays exited" {
	run -0 b run -d --name flaky --restart on-failure:2 bb:test sh -c 'echo try; exit 1'
	for _ in $(seq 100); do
		s=$(b inspect -f '{{.State.Status}} {{.RestartCount}}' flaky)
		[ "$s" = "exited 2" ] && break
		sleep 0.1
	done
	[ "$s" = "exited 2" ]
	run -0 b logs flaky
	[ "$output" = "$(printf 'try\ntry\ntry')" ]
}

@test "kill -9 of the CLI: the container runs on, and --rm still removes it" {
	b run --rm --name orphan bb:test sh -c 'sleep 1; echo done' >/dev/null &
	cli=$!
	for _ in $(seq 50); do b ps -q | grep -q . && break; sleep 0.05; done
	kill -9 $cli
	run -0 b ps --format '{{.Names}}'
	[ "$output" = orphan ]
	for _ in $(seq 100); do [ -z "$(b ps -aq)" ] && break; sleep 0.05; done
	assert_no_leaks
}

@test "kill -9 of a monitor: the container is found, running, then exited" {
	run -0 b run -d --name watched bb:test sleep 60
	mon=$(pgrep -f "berth-monitor .*$RUN/containers/")
	[ -n "$mon" ]
	kill -9 $mon
	run -0 b ps --format '{{.Names}} {{.State}}'
	[ "$output" = "watched running" ]
	pid=$(b inspect -f '{{.State.Pid}}' watched)
	kill -9 "$pid"
	for _ in $(seq 50); do [ "$(b inspect -f '{{.State.Status}}' watched)" = exited ] && break; sleep 0.05; done
	run -0 b inspect -f '{{.State.Status}}' watched
	[ "$output" = exited ]
	run -0 b rm watched
	assert_no_leaks
}

@test "many at once: 100 run -d in parallel start, show in ps, stop and go" {
	seq 100 | xargs -P 16 -I{} "$BERTH" --root "$ROOT" --runroot "$RUN" run -d --name c{} bb:test sleep 120 >/dev/null
	run -0 b ps -q
	[ "$(echo "$output" | wc -l)" -eq 100 ]
	b ps -q | xargs -P 16 -n 10 "$BERTH" --root "$ROOT" --runroot "$RUN" rm -f >/dev/null
	assert_no_leaks
}

@test "rmi and image prune keep the image a container uses" {
	run -0 b create --name keep bb:test sh -c 'echo still here'
	run -1 b rmi bb:test
	[[ "$output" == *'unable to remove repository reference "bb:test" (must force) - container'* ]]
	run -0 b rmi -f bb:test
	[[ "$output" == *"Untagged: bb:test"* ]]
	run -0 b image prune -a -f
	run -0 b start -a keep
	[ "$output" = "still here" ]
	run -0 b rm keep
	run -0 b image prune -f
	[[ "$output" == *"Deleted"* ]]
	run -0 b images -q
	[ -z "$output" ]
}

@test "volumes: a named volume outlives its containers; binds; read-only; bad specs" {
	run -0 b run --rm -v data:/data bb:test sh -c 'echo kept >/data/f'
	run -0 b run --rm -v data:/data:ro bb:test cat /data/f
	[ "$output" = kept ]
	run b run --rm -v data:/data:ro bb:test sh -c 'echo x >/data/g'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	mkdir "$TEST_TMP/host"
	echo from-host >"$TEST_TMP/host/h"
	run -0 b run --rm -v "$TEST_TMP/host:/h" bb:test sh -c 'cat /h/h; echo back >/h/w'
	[ "$output" = from-host ]
	[ "$(cat "$TEST_TMP/host/w")" = back ]
	run -0 b volume ls -q
	[ "$output" = data ]
	run -125 b run --rm -v /a:relative bb:test true
	[[ "$output" == *"invalid"* ]]
	# an anonymous volume of a --rm container goes with it
	run -0 b run --rm -v /anon bb:test true
	run -0 b volume ls -q
	[ "$output" = data ]
	assert_no_leaks
}

@test "health checks: starting, unhealthy after the retries, healthy when the test passes" {
	run -0 b run -d --name doc --health-cmd 'test -f /tmp/ok' --health-interval 1s --health-retries 2 bb:test sleep 60
	run -0 b inspect -f '{{.State.Health.Status}}' doc
	[ "$output" = starting ]
	for _ in $(seq 100); do [ "$(b inspect -f '{{.State.Health.Status}}' doc)" = unhealthy ] && break; sleep 0.1; done
	run -0 b ps --filter health=unhealthy --format '{{.Names}} {{.Status}}'
	[[ "$output" == "doc Up "*"(unhealthy)" ]]
	run -0 b exec doc sh -c ': >/tmp/ok'
	for _ in $(seq 100); do [ "$(b inspect -f '{{.State.Health.Status}}' doc)" = healthy ] && break; sleep 0.1; done
	run -0 b inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' doc
	[ "$output" = "healthy 0" ]
	run -0 b run --rm --no-healthcheck bb:test true
	run -0 b rm -f doc
	assert_no_leaks
}

@test "after a reboot (monitors and containers killed, runroot gone): start works, restore brings back --restart always" {
	run -0 b run -d --name always --restart always bb:test sleep 120
	run -0 b run -d --name plain bb:test sleep 120
	run -0 b run -d --name stopped --restart always bb:test sleep 120
	run -0 b stop -t 0 stopped
	# the reboot: every process of these containers and their monitors dies,
	# their mounts go, and the runroot is empty again
	for c in always plain; do kill -9 "$(b inspect -f '{{.State.Pid}}' $c)"; done
	pkill -9 -f "berth-monitor .*$RUN/containers/" || true
	awk -v r="$RUN/" '$5 ~ "^"r {print $5}' /proc/self/mountinfo | sort -ru | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$RUN"
	run -0 b ps -a --format '{{.Names}} {{.State}}'
	[[ "$output" == *"always exited"* ]]
	[[ "$output" == *"plain exited"* ]]
	run -0 b system restore
	[ "$output" = always ]
	run -0 b ps --format '{{.Names}}'
	[ "$output" = always ]
	run -0 b start plain
	run -0 b exec plain true
	run -0 b rm -f always plain stopped
	assert_no_leaks
}

@test "--pid, --ipc and --network container:X join X's namespaces; --ipc needs a shareable donor" {
	run -0 b run -d --name donor --ipc shareable bb:test sh -c 'echo from-donor >/dev/shm/x; exec sleep 60'
	for _ in $(seq 50); do b exec donor test -f /dev/shm/x && break; sleep 0.1; done
	run -0 b run --rm --pid container:donor --ipc container:donor --network container:donor bb:test \
		sh -c 'echo $(cat /proc/1/cmdline | tr "\0" " "); cat /dev/shm/x'
	[ "${lines[0]}" = "sleep 60" ]
	[ "${lines[1]}" = from-donor ]
	run -0 b run -d --name private bb:test sleep 60
	run -125 b run --rm --ipc container:private bb:test true
	[[ "$output" == *"non-shareable IPC"* ]]
	run -125 b run --rm --pid container:nosuch bb:test true
	[[ "$output" == *"No such container: nosuch"* ]]
	run -0 b rm -f donor private
	assert_no_leaks
}

@test "run -it: a terminal of the caller's size, typed input, ctrl-p ctrl-q detaches" {
	run -7 timeout 30 script -qec "stty cols 91 rows 33; $BERTH --root $ROOT --runroot $RUN run -it --rm bb:test sh -c 'tty; stty size; exit 7'" /dev/null
	[[ "$output" == *"/dev/pts/0"* ]]
	[[ "$output" == *"33 91"* ]]
	run -0 bash -c "(sleep 1; printf 'echo typed-\$((6*7))\nexit\n') | timeout 30 script -qec '$BERTH --root $ROOT --runroot $RUN run -it --rm bb:test sh' /dev/null"
	[[ "$output" == *"typed-42"* ]]
	run -0 bash -c "(sleep 1; printf '\020\021') | timeout 30 script -qec '$BERTH --root $ROOT --runroot $RUN run -it --name det bb:test sh' /dev/null"
	run -0 b ps --format '{{.Names}} {{.State}}'
	[ "$output" = "det running" ]
	run -0 b rm -f det
	assert_no_leaks
}

@test "kill -9 of berth run -d at any moment: what it left is found, and rm -f leaves nothing" {
	for i in $(seq 0 2 38); do
		b run -d --name k$i bb:test sleep 60 >/dev/null 2>&1 &
		pid=$!
		sleep "0.00$i"
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
	done
	# every container it recorded is in a state a user can act on
	run -0 b ps -a --format '{{.Names}} {{.State}}'
	echo "$output"
	while read -r name state; do
		[ -z "$name" ] && continue
		[[ "$state" =~ ^(created|running|exited)$ ]]
	done <<<"$output"
	b ps -aq | xargs -r "$BERTH" --root "$ROOT" --runroot "$RUN" rm -f >/dev/null
	assert_no_leaks
}

@test "logs -f follows until the container stops; --log-opt max-size/max-file rotate" {
	run -0 b run -d --name talker bb:test sh -c 'for i in 1 2 3; do echo tick$i; sleep 0.3; done'
	run -0 timeout 20 "$BERTH" --root "$ROOT" --runroot "$RUN" logs -f talker
	[ "$output" = "$(printf 'tick1\ntick2\ntick3')" ]
	run -0 b run --name chatty --log-opt max-size=2k --log-opt max-file=2 bb:test \
		sh -c 'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done'
	log=$(b inspect -f '{{.LogPath}}' chatty)
	[ -f "$log" ] && [ -f "$log.1" ] && [ ! -e "$log.2" ]
	[ "$(stat -c %s "$log")" -le 2048 ]
	run -0 b logs --tail 1 chatty
	[ "$output" = line-299 ]
}

@test "bad input: too small a memory limit, a bad -v, an unknown flag: one line, 125, nothing made" {
	run -125 b run --rm -m 1m bb:test true
	[ "$output" = "berth: Minimum memory limit allowed is 6MB" ]
	run -125 b run --rm -v /x:/y:bogus bb:test true
	[[ "$output" == *"invalid mode: bogus"* ]]
	run -125 b run --rm --bogus bb:test true
	[[ "$output" == *"unknown flag: --bogus"* ]]
	assert_no_leaks
	run -0 b volume ls -q
	[ -z "$output" ]
}

@test "create records the image's command (inspect Path, ps COMMAND); rm -v removes only anonymous volumes" {
	run -0 b create --name plaincmd -v /anon -v "$(printf 'a%.0s' $(seq 64)):/named" bb:test
	run -0 b inspect -f '{{.Path}} {{json .Config.Cmd}}' plaincmd
	[ "$output" = '/bin/sh ["/bin/sh"]' ]
	run -0 b ps -a --format '{{.Command}}'
	[ "$output" = '"/bin/sh"' ]
	run -0 b rm -v plaincmd
	run -0 b volume ls -q
	[ "$output" = "$(printf 'a%.0s' $(seq 64))" ]
}
