#!/usr/bin/env bats
# userns.bats - containers in a user namespace: mappings, ownership as seen
# from inside and on the host, devices (bind-mounted, since mknod is not
# allowed in a user namespace), and the features that must keep working.

load helpers
load feature_helpers
bats_require_minimum_version 1.5.0

HOSTUID=100000
HOSTGID=100000

# userns_bundle: a busybox bundle whose rootfs belongs to the mapped root,
# with container 0-65535 mapped to host 100000-165535.
userns_bundle() {
	new_bundle
	# The mapped root must reach the bundle (mktemp -d makes 0700).
	chmod 755 "$TEST_TMP" "$BUNDLE"
	chown -R "$HOSTUID:$HOSTGID" "$BUNDLE/rootfs"
	cfg '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: $u, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: $g, size: 65536}]
		| .root.readonly = false' --argjson u "$HOSTUID" --argjson g "$HOSTGID"
}

@test "userns: uid_map/gid_map as configured and id shows root" {
	userns_bundle
	set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id; readlink /proc/self/ns/user'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[[ "${lines[1]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[ "${lines[2]}" = "uid=0(root) gid=0(root)" ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/user)" ]
}

@test "userns: the chowned rootfs is root's inside; files it creates belong to the mapped uid on the host" {
	userns_bundle
	set_args sh -c 'stat -c "%u:%g" / /bin/busybox; touch /created && echo created'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0:0 ]
	[ "${lines[1]}" = 0:0 ]
	[ "${lines[2]}" = created ]
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/created")" = "$HOSTUID:$HOSTGID" ]
}

@test "userns: a non-root process user maps to hostID + uid" {
	userns_bundle
	cfg '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c 'id -u; touch /tmp/by-user && echo ok'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/by-user")" = "$((HOSTUID + 1000)):$((HOSTGID + 1000))" ]
}

@test "userns: files of unmapped host root on a bind mount appear as nobody and are not writable" {
	mkdir "$TEST_TMP/hostdir"
	chmod 755 "$TEST_TMP/hostdir"
	echo host >"$TEST_TMP/hostdir/f"
	chmod 644 "$TEST_TMP/hostdir/f"
	userns_bundle
	cfg '.mounts += [{destination: "/mnt/h", type: "bind", source: $s, options: ["rbind", "rw"]}]' --arg s "$TEST_TMP/hostdir"
	set_args sh -c 'stat -c "%u:%g" /mnt/h /mnt/h/f; cat /mnt/h/f; { echo x >>/mnt/h/f; } 2>&1; echo write=$?; { touch /mnt/h/new; } 2>&1; echo create=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 65534:65534 ]
	[ "${lines[1]}" = 65534:65534 ]
	[ "${lines[2]}" = host ]
	[[ "$output" =~ write=[1-9] ]]
	[[ "$output" =~ create=[1-9] ]]
	[ "$(cat "$TEST_TMP/hostdir/f")" = host ]
	[ ! -e "$TEST_TMP/hostdir/new" ]
}

@test "userns: default devices are bind mounts of the host's nodes and work" {
	userns_bundle
	set_args sh -c 'ls -l /dev/null; stat -c "%t:%T" /dev/zero; echo x >/dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; grep -E " /dev/(null|zero) " /proc/self/mountinfo | wc -l'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^crw-rw-rw-\ .*\ 1,\ +3\ .*/dev/null$ ]]
	[ "${lines[1]}" = 1:5 ]
	[ "${lines[2]}" = null-ok ]
	[ "${lines[3]}" = 4 ]
	# Each is its own (bind) mount, since mknod is refused in a user namespace.
	[ "${lines[4]}" = 2 ]
}

@test "userns: linux.devices are provided as bind mounts" {
	[ -c /dev/fuse ] || skip "host has no /dev/fuse"
	userns_bundle
	cfg '.linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 438}]'
	set_args sh -c 'stat -c "%F %t:%T" /dev/fuse; grep -c " /dev/fuse " /proc/self/mountinfo'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "character special file a:e5" ]
	[ "${lines[1]}" = 1 ]
}

@test "userns: several mapping ranges" {
	userns_bundle
	chown -R "$HOSTUID:$HOSTGID" "$BUNDLE/rootfs"
	cfg '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1000}, {containerID: 1000, hostID: 300000, size: 10}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1000}, {containerID: 1000, hostID: 300000, size: 10}]
		| .process.user = {uid: 1005, gid: 1005}'
	set_args sh -c 'cat /proc/self/uid_map; touch /tmp/x && echo ok'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" =~ \ +0\ +100000\ +1000 ]]
	[[ "$output" =~ \ +1000\ +300000\ +10 ]]
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/x")" = 300005:300005 ]
}

@test "userns: a process uid outside the mapping is refused" {
	userns_bundle
	cfg '.process.user = {uid: 70000, gid: 0}'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
}

@test "userns: user namespace without mappings is refused" {
	new_bundle
	cfg '.linux.namespaces += [{type: "user"}] | del(.linux.uidMappings, .linux.gidMappings)'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
}

@test "userns: proc, sysfs, mqueue, cgroup and sysctl still work" {
	userns_bundle
	cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward; ls /sys/class/net; for m in /proc /sys /dev/mqueue /dev/pts /dev/shm; do grep -q " $m " /proc/self/mountinfo && echo "mounted $m"; done; ls /sys/fs/cgroup | head -c 1 | wc -c'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = lo ]
	[[ "$output" == *"mounted /proc"* ]]
	[[ "$output" == *"mounted /sys"* ]]
	[[ "$output" == *"mounted /dev/mqueue"* ]]
	[[ "$output" == *"mounted /dev/pts"* ]]
	[[ "$output" == *"mounted /dev/shm"* ]]
	[ "${lines[${#lines[@]} - 1]}" = 1 ]
}

@test "userns: capabilities are the configured ones, but only over the container's own namespaces" {
	userns_bundle
	cfg '.process.capabilities |= map_values(. + ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"])'
	# CAP_SYS_ADMIN in the user namespace: a tmpfs mount works (the mount
	# namespace belongs to it), so does sethostname, yet the host's hostname
	# is untouched; a host-wide knob stays out of reach.
	set_args sh -c 'grep ^CapEff: /proc/self/status; mount -t tmpfs t /tmp && echo mounted; hostname inner && uname -n; { echo 1 >/proc/sys/vm/drop_caches; } 2>&1; echo drop=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "CapEff:	$(hexcaps CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE CAP_SYS_ADMIN CAP_NET_ADMIN)" ]
	[ "${lines[1]}" = mounted ]
	[ "${lines[2]}" = inner ]
	[ "$(uname -n)" != inner ]
	[[ "$output" =~ drop=[1-9] ]]
}
