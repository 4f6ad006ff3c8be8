#!/usr/bin/env bats
# namespaces.bats - linux.namespaces: each type, created new and joined by
# path, checked from inside the container.

load helpers
load feature_helpers
bats_require_minimum_version 1.5.0

NETNS=""

teardown() {
	if [ -n "$NETNS" ]; then
		ip netns del "$NETNS" 2>/dev/null || true
	fi
	common_teardown
}

# ns_of TYPE: the host's namespace id for TYPE ("net:[4026531840]").
ns_of() {
	readlink "/proc/self/ns/$1"
}

# wait_running ID: wait (bounded) until the container is running.
wait_running() {
	local i
	for i in $(seq 100); do
		[ "$(rt state "$1" 2>/dev/null | jq -r .status)" = running ] && return 0
		sleep 0.1
	done
	return 1
}

@test "pid namespace: the process is pid 1 and sees only its own processes" {
	new_bundle
	set_args sh -c 'echo $$; cat /proc/1/comm; ls -d /proc/[0-9]* | wc -l; readlink /proc/self/ns/pid'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = sh ]
	# sh, and ls (and wc's parent is sh): at most a handful, never the host's.
	[ "${lines[2]}" -le 3 ]
	[ "${lines[3]}" != "$(ns_of pid)" ]
}

@test "pid namespace absent: the container shares the host's pid namespace" {
	new_bundle
	cfg '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'echo $$; readlink /proc/self/ns/pid'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" != 1 ]
	[ "${lines[1]}" = "$(ns_of pid)" ]
}

@test "mount namespace: own mount table; its mounts do not reach the host" {
	new_bundle
	cfg '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	set_args sh -c 'readlink /proc/self/ns/mnt; mount -t tmpfs bt-ns-marker /tmp && grep -c bt-ns-marker /proc/self/mountinfo'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" != "$(ns_of mnt)" ]
	[ "${lines[1]}" = 1 ]
	! grep -q bt-ns-marker /proc/self/mountinfo
}

@test "network namespace: only lo, and it is up" {
	new_bundle
	set_args sh -c 'ls /sys/class/net; ip -o link show lo; readlink /proc/self/ns/net'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = lo ]
	[[ "${lines[1]}" == *"1: lo:"* ]]
	[[ "${lines[1]}" == *UP* ]]
	[ "${lines[2]}" != "$(ns_of net)" ]
}

@test "network namespace absent: the host's interfaces are visible" {
	new_bundle
	cfg '.linux.namespaces |= map(select(.type != "network"))'
	set_args readlink /proc/self/ns/net
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = "$(ns_of net)" ]
}

@test "uts namespace: hostname set inside does not change the host's" {
	new_bundle
	cfg '.hostname = "inner-uts"'
	set_args sh -c 'uname -n; readlink /proc/self/ns/uts'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = inner-uts ]
	[ "${lines[1]}" != "$(ns_of uts)" ]
	[ "$(uname -n)" != inner-uts ]
}

@test "hostname without a uts namespace is refused" {
	new_bundle
	cfg '.hostname = "nope" | .linux.namespaces |= map(select(.type != "uts"))'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
	[ "$(uname -n)" != nope ]
}

@test "ipc namespace: a different ipc namespace and its own SysV/mqueue space" {
	new_bundle
	set_args sh -c 'readlink /proc/self/ns/ipc; cat /proc/sys/kernel/shmmni; ls /dev/mqueue | wc -l'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" != "$(ns_of ipc)" ]
	[ "${lines[2]}" = 0 ]
}

@test "user namespace: uidMappings/gidMappings appear in /proc/self/{uid,gid}_map" {
	new_bundle
	# The mapped root must be able to reach the rootfs (mktemp -d is 0700).
	chmod 755 "$TEST_TMP" "$BUNDLE"
	cfg '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 1000}]'
	set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; readlink /proc/self/ns/user'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[[ "${lines[1]}" =~ ^\ +0\ +200000\ +1000$ ]]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" != "$(ns_of user)" ]
}

@test "cgroup namespace: /proc/self/cgroup shows the root" {
	new_bundle
	cfg '.linux.namespaces += [{type: "cgroup"}]'
	set_args sh -c 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]}" != "$(ns_of cgroup)" ]
	# Every hierarchy line ends in ":/" (memory included, though the
	# container's cgroup is several levels deep on the host).
	local l n=0
	for l in "${lines[@]}"; do
		case $l in cgroup:*) continue ;; esac
		[[ "$l" == *:/ ]]
		n=$((n + 1))
	done
	[ "$n" -ge 1 ]
	grep -q '^0::/' <<<"$output"
}

@test "time namespace: timeOffsets shift monotonic and boottime clocks (runc 1.1.5 lacks it)" {
	new_bundle
	cfg '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {monotonic: {secs: 864000000, nanosecs: 0}, boottime: {secs: 1728000000, nanosecs: 500}}'
	set_args sh -c 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime; readlink /proc/self/ns/time'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" =~ monotonic\ +864000000\ +0 ]]
	[[ "$output" =~ boottime\ +1728000000\ +500 ]]
	local up
	up=$(grep -E '^[0-9]+$' <<<"$output")
	[ "$up" -ge 1728000000 ]
	[ "${lines[${#lines[@]} - 1]}" != "$(ns_of time)" ]
}

@test "network namespace by path: the container joins it and sees its links" {
	NETNS=bt-$$-$BATS_TEST_NUMBER
	ip netns add "$NETNS"
	# A veth pair made inside the namespace (this kernel has no dummy driver).
	ip -n "$NETNS" link add d0 type veth peer name d1
	ip -n "$NETNS" addr add 10.203.7.1/24 dev d0
	ip -n "$NETNS" link set d0 up
	new_bundle
	cfg '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "/run/netns/$NETNS"
	set_args sh -c 'ls /sys/class/net; ip -o -4 addr show d0; readlink /proc/self/ns/net'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" == *d0* ]]
	[[ "$output" == *10.203.7.1/24* ]]
	[ "${lines[${#lines[@]} - 1]}" = "$(ip netns exec "$NETNS" readlink /proc/self/ns/net)" ]
	# The namespace outlives the container.
	ip -n "$NETNS" link show d0
}

@test "uts namespace by path: a second container joins the first's" {
	new_bundle
	cfg '.hostname = "first-box"'
	set_args sleep 60
	local a
	a=$(cid)
	rt run -d -b "$BUNDLE" "$a" </dev/null >/dev/null 2>&1
	wait_running "$a"
	local pid
	pid=$(rt state "$a" | jq -r .pid)

	new_bundle
	cfg 'del(.hostname) | .linux.namespaces |= map(if .type == "uts" then .path = $p else . end)' --arg p "/proc/$pid/ns/uts"
	set_args sh -c 'uname -n; readlink /proc/self/ns/uts'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = first-box ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/uts")" ]
}

@test "a namespace path of the wrong type is refused" {
	new_bundle
	cfg '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/uts" else . end)'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
}

@test "a namespace path that does not exist is refused" {
	new_bundle
	cfg '.linux.namespaces |= map(if .type == "network" then .path = "/run/netns/bt-does-not-exist" else . end)'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
}
