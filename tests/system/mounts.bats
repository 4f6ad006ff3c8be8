#!/usr/bin/env bats
# mounts.bats - config.json "mounts", root, maskedPaths, readonlyPaths,
# linux.devices, linux.sysctl and rootfsPropagation, each checked from
# inside the container (mostly through /proc/self/mountinfo).

load helpers
load feature_helpers
bats_require_minimum_version 1.5.0

# add_mount DEST TYPE SOURCE [OPTION...]: append a mount to config.json.
add_mount() {
	local dest=$1 type=$2 src=$3
	shift 3
	cfg '.mounts += [{destination: $d, type: $t, source: $s, options: $o}]' \
		--arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$(jarr "$@")"
}

@test "bind mount, ro: readable, writes fail with EROFS" {
	mkdir "$TEST_TMP/src"
	echo hello >"$TEST_TMP/src/file"
	new_bundle
	add_mount /mnt/ro bind "$TEST_TMP/src" bind ro
	set_args sh -c 'cat /mnt/ro/file; touch /mnt/ro/new 2>&1; grep " /mnt/ro " /proc/self/mountinfo'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "${lines[0]}" = hello ]
	[[ "${lines[1]}" == *"Read-only file system"* ]]
	[[ "${lines[2]}" =~ \ /mnt/ro\ ro[,\ ] ]]
	[ ! -e "$TEST_TMP/src/new" ]
}

@test "bind mount, rw: a write inside shows on the host" {
	mkdir "$TEST_TMP/src"
	new_bundle
	add_mount /mnt/rw bind "$TEST_TMP/src" bind rw
	set_args sh -c 'echo inside >/mnt/rw/new'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/src/new")" = inside ]
}

@test "bind mount: a source relative to the bundle directory" {
	new_bundle
	mkdir "$BUNDLE/data"
	echo rel >"$BUNDLE/data/f"
	add_mount /mnt/rel bind data bind
	set_args cat /mnt/rel/f
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = rel ]
}

@test "rbind carries submounts, bind does not" {
	mkdir -p "$TEST_TMP/src/sub"
	mount -t tmpfs bt-sub "$TEST_TMP/src/sub"
	echo submounted >"$TEST_TMP/src/sub/f"
	new_bundle
	add_mount /mnt/r bind "$TEST_TMP/src" rbind
	add_mount /mnt/b bind "$TEST_TMP/src" bind
	set_args sh -c 'cat /mnt/r/sub/f; ls /mnt/b/sub | wc -l'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = submounted ]
	[ "${lines[1]}" = 0 ]
}

@test "bind mount of a single file" {
	echo single >"$TEST_TMP/onefile"
	new_bundle
	add_mount /etc/bt-file bind "$TEST_TMP/onefile" bind ro
	set_args sh -c 'cat /etc/bt-file; [ -f /etc/bt-file ] && echo isfile'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = single ]
	[ "${lines[1]}" = isfile ]
}

@test "tmpfs with size and mode: mode applied, size enforced" {
	new_bundle
	add_mount /mnt/t tmpfs tmpfs size=1m mode=0710
	set_args sh -c 'stat -c %a /mnt/t; grep " /mnt/t " /proc/self/mountinfo; dd if=/dev/zero of=/mnt/t/big bs=1k count=2048 2>&1; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "${lines[0]}" = 710 ]
	[[ "${lines[1]}" == *" - tmpfs "* ]]
	[[ "${lines[1]}" == *size=1024k* ]]
	[[ "$output" == *"No space left on device"* ]]
	[[ "$output" != *rc=0* ]]
}

@test "nosuid, nodev, noexec show in mountinfo and noexec is enforced" {
	new_bundle
	add_mount /mnt/nx tmpfs tmpfs nosuid nodev noexec
	set_args sh -c 'grep " /mnt/nx " /proc/self/mountinfo; cp /bin/busybox /mnt/nx/bb && /mnt/nx/bb true 2>&1; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	local opts
	opts=$(awk '{print $6}' <<<"${lines[0]}")
	[[ ",$opts," == *,nosuid,* ]]
	[[ ",$opts," == *,nodev,* ]]
	[[ ",$opts," == *,noexec,* ]]
	[[ "$output" == *"Permission denied"* ]]
	[ "${lines[${#lines[@]} - 1]}" = rc=126 ]
}

@test "propagation rshared / rslave / rprivate: shared:/master: in mountinfo and host mounts propagate" {
	# A shared source on the host (the host's / here is private).
	mkdir "$TEST_TMP/src"
	mount -t tmpfs bt-prop "$TEST_TMP/src"
	mount --make-shared "$TEST_TMP/src"
	new_bundle
	add_mount /mnt/sh bind "$TEST_TMP/src" rbind rshared
	add_mount /mnt/sl bind "$TEST_TMP/src" rbind rslave
	add_mount /mnt/pr bind "$TEST_TMP/src" rbind rprivate
	set_args sh -c 'grep -E " /mnt/(sh|sl|pr) " /proc/self/mountinfo; while [ ! -e /mnt/sh/late/f ] && [ $((n+=1)) -lt 100 ]; do sleep 0.1; done;
		for d in sh sl pr; do [ -e /mnt/$d/late/f ] && echo "$d:seen" || echo "$d:unseen"; done'
	local id
	id=$(cid)
	rt run -b "$BUNDLE" "$id" >"$TEST_TMP/out" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		[ "$(rt state "$id" 2>/dev/null | jq -r .status)" = running ] && break
		sleep 0.1
	done
	mkdir "$TEST_TMP/src/late"
	mount -t tmpfs bt-late "$TEST_TMP/src/late"
	touch "$TEST_TMP/src/late/f"
	wait "$pid"
	run cat "$TEST_TMP/out"
	local sh sl pr
	sh=$(grep ' /mnt/sh ' <<<"$output")
	sl=$(grep ' /mnt/sl ' <<<"$output")
	pr=$(grep ' /mnt/pr ' <<<"$output")
	[[ "$sh" == *" shared:"* ]]
	[[ "$sl" == *" master:"* ]]
	[[ "$sl" != *" shared:"* ]]
	[[ "$pr" != *" shared:"* ]]
	[[ "$pr" != *" master:"* ]]
	[[ "$output" == *sh:seen* ]]
	[[ "$output" == *sl:seen* ]]
	[[ "$output" == *pr:unseen* ]]
}

# rootfs_shared: make the bundle's rootfs a shared mount point on the host,
# so that the container's root has a peer group to join or follow.
rootfs_shared() {
	mount --bind "$BUNDLE/rootfs" "$BUNDLE/rootfs"
	mount --make-shared "$BUNDLE/rootfs"
}

@test "rootfsPropagation: shared root shows shared: for / (runc 1.1.5 fails)" {
	new_bundle
	rootfs_shared
	cfg '.linux.rootfsPropagation = "shared"'
	set_args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" == *" shared:"* ]]
}

@test "rootfsPropagation: rslave root shows master: for / and host mounts propagate in" {
	new_bundle
	rootfs_shared
	mkdir "$BUNDLE/rootfs/late"
	cfg '.linux.rootfsPropagation = "rslave"'
	set_args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo; n=0; while [ ! -e /late/f ] && [ $((n+=1)) -lt 100 ]; do sleep 0.1; done; ls /late'
	local id
	id=$(cid)
	rt run -b "$BUNDLE" "$id" >"$TEST_TMP/out" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		[ "$(rt state "$id" 2>/dev/null | jq -r .status)" = running ] && break
		sleep 0.1
	done
	mount -t tmpfs bt-late "$BUNDLE/rootfs/late"
	touch "$BUNDLE/rootfs/late/f"
	wait "$pid"
	run cat "$TEST_TMP/out"
	[[ "${lines[0]}" == *" master:"* ]]
	[[ "${lines[0]}" != *" shared:"* ]]
	[ "${lines[1]}" = f ]
}

@test "rootfsPropagation: private root shows neither shared: nor master:" {
	new_bundle
	rootfs_shared
	cfg '.linux.rootfsPropagation = "private"'
	set_args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" != *" shared:"* ]]
	[[ "$output" != *" master:"* ]]
}

@test "mqueue and devpts mounts of the default spec" {
	new_bundle
	set_args sh -c 'grep -E " /dev/(mqueue|pts) " /proc/self/mountinfo; ls -l /dev/ptmx'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	grep -q ' /dev/mqueue .* - mqueue ' <<<"$output"
	grep -q ' /dev/pts .* - devpts .*ptmxmode=666' <<<"$output"
	# devpts newinstance: /dev/ptmx points into the container's own devpts.
	[[ "$output" == *"/dev/ptmx -> pts/ptmx"* ]]
}

@test "sysfs mounted read-only" {
	new_bundle
	set_args sh -c 'awk "\$5 == \"/sys\"" /proc/self/mountinfo; { echo 1 >/sys/kernel/uevent_helper; } 2>&1; echo "net:$(ls /sys/class/net)"'
	run rt run -b "$BUNDLE" "$(cid)"
	[[ "${lines[0]}" == *" - sysfs "* ]]
	[[ "${lines[0]}" =~ \ /sys\ ro, ]]
	[[ "$output" == *"Read-only file system"* ]]
	# The container's own network namespace shows through sysfs.
	[[ "$output" == *net:lo* ]]
}

@test "cgroup mount: the container's cgroup hierarchy is visible under /sys/fs/cgroup" {
	new_bundle
	set_args sh -c 'ls /sys/fs/cgroup; grep " /sys/fs/cgroup" /proc/self/mountinfo'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		[[ "$output" == *cgroup.controllers* ]]
	else
		[[ "$output" == *memory* ]]
		[[ "$output" == *pids* ]]
		[[ "$output" == *" - cgroup cgroup "*memory* ]]
	fi
	# Read-only as the default spec asks.
	local l
	while read -r l; do
		[[ "$l" =~ \ /sys/fs/cgroup/[a-z_=,]+\ ro, ]]
	done < <(grep ' - cgroup' <<<"$output")
}

@test "root.readonly=true: / cannot be written; false: it can" {
	new_bundle
	cfg '.root.readonly = true'
	set_args sh -c 'touch /x 2>&1; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *rc=1* ]]
	cfg '.root.readonly = false'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$output" = rc=0 ]
	[ -e "$BUNDLE/rootfs/x" ]
}

@test "maskedPaths: /proc/kcore reads empty, a masked directory is empty" {
	new_bundle
	mkdir -p "$BUNDLE/rootfs/secret"
	echo s3cret >"$BUNDLE/rootfs/secret/key"
	echo s3cret >"$BUNDLE/rootfs/etc/secretfile"
	cfg '.linux.maskedPaths += ["/secret", "/etc/secretfile", "/does/not/exist"]'
	set_args sh -c 'echo "kcore:$(head -c 16 /proc/kcore | wc -c)"; echo "acpi:$(ls -A /proc/acpi 2>/dev/null | wc -l)";
		echo "dir:$(ls -A /secret | wc -l)"; echo "file:$(cat /etc/secretfile)"; echo "keys:$(cat /proc/keys | wc -c)"'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" == *kcore:0* ]]
	[[ "$output" == *acpi:0* ]]
	[[ "$output" == *dir:0* ]]
	[[ "$output" == *"file:"$'\n'* ]] || [[ "${lines[3]}" = "file:" ]]
	[[ "$output" == *keys:0* ]]
	[[ "$output" != *s3cret* ]]
}

@test "readonlyPaths: /proc/sys and a rootfs directory are read-only" {
	new_bundle
	cfg '.root.readonly = false | .linux.readonlyPaths += ["/home"]'
	set_args sh -c 'echo x >/proc/sys/kernel/hostname 2>&1; touch /home/x 2>&1; touch /tmp/ok && echo tmp-ok; grep -E " /proc/sys | /home " /proc/self/mountinfo'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$(grep -c 'Read-only file system' <<<"$output")" -eq 2 ]
	[[ "$output" == *tmp-ok* ]]
	[[ "$output" =~ \ /proc/sys\ ro, ]]
	[[ "$output" =~ \ /home\ ro, ]]
}

@test "linux.devices: a char device with type, major/minor, fileMode, uid and gid" {
	new_bundle
	cfg '.linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 416, uid: 1000, gid: 2000}]' # 0640
	set_args sh -c 'ls -ln /dev/fuse; stat -c "%F %t:%T %a %u:%g" /dev/fuse'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^crw-r-----\ +1\ +1000\ +2000\ +10,\ +229\  ]]
	[ "${lines[1]}" = "character special file a:e5 640 1000:2000" ]
}

@test "linux.devices: a block device and a fifo" {
	new_bundle
	cfg '.linux.devices = [{path: "/dev/bt-loop", type: "b", major: 7, minor: 200, fileMode: 432}, {path: "/dev/bt-fifo", type: "p", fileMode: 420}]' # 0660, 0644
	set_args stat -c "%n %F %t:%T %a" /dev/bt-loop /dev/bt-fifo
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/dev/bt-loop block special file 7:c8 660" ]
	[ "${lines[1]}" = "/dev/bt-fifo fifo 0:0 644" ]
}

@test "default devices exist with the right numbers, plus /dev/fd and std links" {
	new_bundle
	set_args sh -c 'for d in null zero full random urandom tty; do stat -c "%n %t:%T" /dev/$d; done; for l in fd stdin stdout stderr; do readlink /dev/$l; done; echo x >/dev/null && echo null-ok'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/dev/null 1:3" ]
	[ "${lines[1]}" = "/dev/zero 1:5" ]
	[ "${lines[2]}" = "/dev/full 1:7" ]
	[ "${lines[3]}" = "/dev/random 1:8" ]
	[ "${lines[4]}" = "/dev/urandom 1:9" ]
	[ "${lines[5]}" = "/dev/tty 5:0" ]
	[ "${lines[6]}" = /proc/self/fd ]
	[ "${lines[7]}" = /proc/self/fd/0 ]
	[ "${lines[8]}" = /proc/self/fd/1 ]
	[ "${lines[9]}" = /proc/self/fd/2 ]
	[ "${lines[10]}" = null-ok ]
}

@test "linux.sysctl: namespaced net and ipc keys read back inside, host untouched" {
	local host_fwd host_shm
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_shm=$(cat /proc/sys/kernel/shm_rmid_forced)
	new_bundle
	cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1", "net.ipv4.ping_group_range": "0 2000"}'
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ping_group_range'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 1 ]
	[[ "${lines[2]}" =~ ^0[[:space:]]+2000$ ]]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
	[ "$(cat /proc/sys/kernel/shm_rmid_forced)" = "$host_shm" ]
}

@test "linux.sysctl: a key not in a namespace the container owns is refused" {
	local before
	before=$(cat /proc/sys/kernel/panic)
	new_bundle
	cfg '.linux.sysctl = {"kernel.panic": "17"}'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
	[ "$(cat /proc/sys/kernel/panic)" = "$before" ]
}

@test "linux.sysctl: a net key without a network namespace is refused" {
	new_bundle
	cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces |= map(select(.type != "network"))'
	local before
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$before" ]
}

@test "mount over a destination that is a symlink to a file elsewhere stays in the rootfs" {
	echo data >"$TEST_TMP/onefile"
	new_bundle
	ln -s /etc/target "$BUNDLE/rootfs/etc/link"
	add_mount /etc/link bind "$TEST_TMP/onefile" bind ro
	set_args sh -c 'cat /etc/target'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = data ]
	[ ! -e /etc/target ]
}
