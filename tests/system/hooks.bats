#!/usr/bin/env bats
# hooks.bats - the six kinds of config.json hooks: when each runs, in which
# mount namespace, what state it reads on stdin, and what a failing or
# hanging hook does to the lifecycle.

load helpers
load feature_helpers
bats_require_minimum_version 1.5.0

# A recorder: rec.sh NAME DIR saves its stdin as DIR/NAME.json, appends NAME to
# DIR/order and its mount namespace to DIR/NAME.mnt.
# runtime-spec: every hook's path resolves in the runtime namespace except
# startContainer's, which resolves in the container (after pivot_root);
# createContainer and startContainer hooks are executed in the container
# namespace. So host hooks and createContainer use the copy in $HOOKBIN with
# $HOOKS; startContainer uses the rootfs copy with /hooks, a bind mount of
# $HOOKS.
setup() {
	common_setup
	HOOKS=$TEST_TMP/hooks
	HOOKBIN=$TEST_TMP/hookbin
	mkdir -p "$HOOKS" "$HOOKBIN"
	write_rec "$HOOKBIN/rec.sh"
}

write_rec() {
	cat >"$1" <<-'EOF'
		#!/bin/sh
		cat >"$2/$1.json"
		readlink /proc/self/ns/mnt >"$2/$1.mnt"
		echo "$1" >>"$2/order"
	EOF
	chmod 755 "$1"
}

# hook_bundle: a busybox bundle with the recorder in its rootfs and $HOOKS
# bind-mounted at /hooks.
hook_bundle() {
	new_bundle
	mkdir -p "$BUNDLE/rootfs/hookbin"
	write_rec "$BUNDLE/rootfs/hookbin/rec.sh"
	cfg '.mounts += [{destination: "/hooks", type: "bind", source: $h, options: ["rbind", "rw"]}]' --arg h "$HOOKS"
}

# add_hook KIND NAME: a recorder hook of KIND recording under NAME.
add_hook() {
	local kind=$1 name=$2
	case $kind in
	startContainer)
		cfg '.hooks[$k] += [{path: "/hookbin/rec.sh", args: ["rec.sh", $n, "/hooks"]}]' --arg k "$kind" --arg n "$name"
		;;
	*)
		cfg '.hooks[$k] += [{path: $p, args: ["rec.sh", $n, $d]}]' --arg k "$kind" --arg n "$name" --arg p "$HOOKBIN/rec.sh" --arg d "$HOOKS"
		;;
	esac
}

all_hooks() {
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		add_hook "$k" "$k"
	done
}

wait_stopped() {
	local i
	for i in $(seq 100); do
		[ "$(rt state "$1" 2>/dev/null | jq -r .status)" = stopped ] && return 0
		sleep 0.1
	done
	return 1
}

@test "all six hooks run, each at its step of create/start/delete, in spec order (runc 1.1.5 fails: poststart at create)" {
	hook_bundle
	all_hooks
	set_args true
	local id
	id=$(cid)
	rt create -b "$BUNDLE" "$id"
	run cat "$HOOKS/order"
	[ "$output" = "$(printf 'prestart\ncreateRuntime\ncreateContainer')" ]
	rt start "$id"
	wait_stopped "$id"
	run cat "$HOOKS/order"
	[ "$output" = "$(printf 'prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart')" ]
	rt delete "$id"
	run cat "$HOOKS/order"
	[ "$output" = "$(printf 'prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop')" ]
}

@test "hooks run with run too, poststop after the process exits (runc 1.1.5 fails: poststart before startContainer)" {
	hook_bundle
	all_hooks
	set_args sh -c 'echo process >>/hooks/order'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	run cat "$HOOKS/order"
	[ "${lines[0]}" = prestart ]
	[ "${lines[1]}" = createRuntime ]
	[ "${lines[2]}" = createContainer ]
	[ "${lines[3]}" = startContainer ]
	# poststart and the process race; both come before poststop.
	[ "${lines[6]}" = poststop ]
	[[ "${lines[4]} ${lines[5]}" == *poststart* ]]
	[[ "${lines[4]} ${lines[5]}" == *process* ]]
}

@test "each hook gets the state on stdin with the status the spec gives its step (runc 1.1.5 fails: poststart sees created)" {
	hook_bundle
	all_hooks
	set_args true
	local id
	id=$(cid)
	rt create -b "$BUNDLE" "$id"
	local pid
	pid=$(rt state "$id" | jq -r .pid)
	rt start "$id"
	wait_stopped "$id"
	rt delete "$id"
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		jq -e . "$HOOKS/$k.json" >/dev/null
		[ "$(jq -r .id "$HOOKS/$k.json")" = "$id" ]
		[ "$(jq -r .bundle "$HOOKS/$k.json")" = "$BUNDLE" ]
		[ "$(jq -r .ociVersion "$HOOKS/$k.json")" != null ]
	done
	# state.pid is the pid as seen by the hook: the host's for hooks in the
	# runtime namespace, the container's (1) for those in the container's.
	for k in prestart createRuntime poststart; do
		[ "$(jq -r .pid "$HOOKS/$k.json")" = "$pid" ]
	done
	for k in createContainer startContainer; do
		[ "$(jq -r .pid "$HOOKS/$k.json")" = 1 ]
	done
	[ "$(jq -r .status "$HOOKS/prestart.json")" = creating ]
	[ "$(jq -r .status "$HOOKS/createRuntime.json")" = creating ]
	[ "$(jq -r .status "$HOOKS/createContainer.json")" = creating ]
	[ "$(jq -r .status "$HOOKS/startContainer.json")" = created ]
	[ "$(jq -r .status "$HOOKS/poststart.json")" = running ]
	[ "$(jq -r .status "$HOOKS/poststop.json")" = stopped ]
}

@test "annotations reach the hooks' state" {
	hook_bundle
	cfg '.annotations = {"org.example.key": "value 1"}'
	add_hook createRuntime createRuntime
	set_args true
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.annotations["org.example.key"]' "$HOOKS/createRuntime.json")" = "value 1" ]
}

@test "createContainer/startContainer run in the container's mount namespace, the others in the runtime's" {
	hook_bundle
	all_hooks
	set_args sh -c 'readlink /proc/self/ns/mnt >/hooks/container.mnt'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	local host ctr
	host=$(readlink /proc/self/ns/mnt)
	ctr=$(cat "$HOOKS/container.mnt")
	[ "$ctr" != "$host" ]
	[ "$(cat "$HOOKS/createContainer.mnt")" = "$ctr" ]
	[ "$(cat "$HOOKS/startContainer.mnt")" = "$ctr" ]
	[ "$(cat "$HOOKS/prestart.mnt")" = "$host" ]
	[ "$(cat "$HOOKS/createRuntime.mnt")" = "$host" ]
	[ "$(cat "$HOOKS/poststart.mnt")" = "$host" ]
	[ "$(cat "$HOOKS/poststop.mnt")" = "$host" ]
}

@test "a hook's args and env are passed as given (env not inherited)" {
	hook_bundle
	cat >"$HOOKBIN/env.sh" <<-'EOF'
		#!/bin/sh
		{ echo "argv0=$0 args=$*"; echo "FOO=$FOO"; echo "LEAK=${BERTH_HOOK_LEAK:-none}"; } >"$HOOKS_OUT"
	EOF
	chmod 755 "$HOOKBIN/env.sh"
	cfg '.hooks.createRuntime = [{path: $p, args: ["env.sh", "a", "b c"], env: ["FOO=bar", ("HOOKS_OUT=" + $o)]}]' \
		--arg p "$HOOKBIN/env.sh" --arg o "$HOOKS/env.out"
	set_args true
	BERTH_HOOK_LEAK=yes run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	run cat "$HOOKS/env.out"
	[ "${lines[0]}" = "argv0=$HOOKBIN/env.sh args=a b c" ] || [ "${lines[0]}" = "argv0=env.sh args=a b c" ]
	[ "${lines[1]}" = FOO=bar ]
	[ "${lines[2]}" = LEAK=none ]
}

@test "hooks of one kind run in the listed order" {
	hook_bundle
	add_hook createRuntime first
	add_hook createRuntime second
	add_hook createRuntime third
	set_args true
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	run cat "$HOOKS/order"
	[ "$output" = "$(printf 'first\nsecond\nthird')" ]
}

@test "a failing prestart hook fails create and leaves nothing behind" {
	hook_bundle
	cfg '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]'
	add_hook createRuntime after-failure
	set_args sleep 60
	local id
	id=$(cid)
	run rt create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[ ! -e "$HOOKS/order" ]
	run rt state "$id"
	[ "$status" -ne 0 ]
	run rt list -q
	[ -z "$output" ]
	# No container process survives (the pid namespace's sleep).
	! pgrep -f '^sleep 60$' -P 1 >/dev/null
	# No cgroup is left for this id.
	! find /sys/fs/cgroup -maxdepth 6 -type d -name "*$id*" 2>/dev/null | grep -q .
}

@test "a failing createContainer hook fails create and leaves nothing behind" {
	hook_bundle
	cfg '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", "exit 1"]}]'
	local id
	id=$(cid)
	run rt create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	run rt state "$id"
	[ "$status" -ne 0 ]
	! find /sys/fs/cgroup -maxdepth 6 -type d -name "*$id*" 2>/dev/null | grep -q .
}

@test "a hook that outlives its timeout fails create, promptly" {
	hook_bundle
	cfg '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]'
	local id
	id=$(cid)
	local t0=$SECONDS
	run timeout 25 "$RUNTIME" --root "$STATE_ROOT" create -b "$BUNDLE" "$id"
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ] # the runtime gave up, not timeout(1)
	[ $((SECONDS - t0)) -lt 15 ]
	run rt state "$id"
	[ "$status" -ne 0 ]
	! pgrep -f '^sleep 30$' >/dev/null
}

@test "a failing poststop hook does not stop delete nor the later poststop hooks (runc 1.1.5 fails)" {
	hook_bundle
	cfg '.hooks.poststop = [{path: "/bin/false", args: ["false"]}]'
	add_hook poststop after-failure
	set_args true
	local id
	id=$(cid)
	rt create -b "$BUNDLE" "$id"
	rt start "$id"
	wait_stopped "$id"
	run rt delete "$id"
	[ "$status" -eq 0 ]
	run rt state "$id"
	[ "$status" -ne 0 ]
	# The hooks after the failing one still ran.
	[ "$(cat "$HOOKS/order")" = after-failure ]
}
