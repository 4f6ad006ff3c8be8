#!/usr/bin/env bats
# resources.bats - linux.resources, read back from inside the container
# through its cgroup mount (/sys/fs/cgroup/<controller>/ on cgroup v1 and
# hybrid hosts, /sys/fs/cgroup/ on v2), plus a behaviour check where one is
# cheap (fork limit, OOM kill, device access) and `update` on a running
# container.

load helpers
load feature_helpers
bats_require_minimum_version 1.5.0

# True on a pure cgroup v2 host.
is_v2() {
	[ -f /sys/fs/cgroup/cgroup.controllers ]
}

# cgf V1_CONTROLLER/V1_FILE V2_FILE: the file's path inside the container.
cgf() {
	if is_v2; then
		echo "/sys/fs/cgroup/$2"
	else
		echo "/sys/fs/cgroup/$1"
	fi
}

# run_cat FILE...: run the bundle, printing each cgroup FILE on its own line.
run_cat() {
	local script="" f
	for f in "$@"; do
		script+="cat $f; "
	done
	set_args sh -c "$script"
	run rt run -b "$BUNDLE" "$(cid)"
}

# start_bg ID: start the bundle in the background (detached), wait until running.
start_bg() {
	rt run -d -b "$BUNDLE" "$1" </dev/null >/dev/null 2>&1 || return 1
	local i
	for i in $(seq 100); do
		[ "$(rt state "$1" 2>/dev/null | jq -r .status)" = running ] && return 0
		sleep 0.1
	done
	return 1
}

@test "memory.limit: memory.limit_in_bytes / memory.max" {
	new_bundle
	cfg '.linux.resources.memory = {limit: 67108864}'
	run_cat "$(cgf memory/memory.limit_in_bytes memory.max)"
	[ "$status" -eq 0 ]
	[ "$output" = 67108864 ]
}

@test "memory.reservation: memory.soft_limit_in_bytes / memory.low" {
	new_bundle
	cfg '.linux.resources.memory = {limit: 67108864, reservation: 33554432}'
	run_cat "$(cgf memory/memory.soft_limit_in_bytes memory.low)"
	[ "$status" -eq 0 ]
	[ "$output" = 33554432 ]
}

@test "memory.swap: memory.memsw.limit_in_bytes / memory.swap.max" {
	is_v2 || skip_unless_file /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
	new_bundle
	cfg '.linux.resources.memory = {limit: 67108864, swap: 134217728}'
	run_cat "$(cgf memory/memory.memsw.limit_in_bytes memory.swap.max)"
	[ "$status" -eq 0 ]
	if is_v2; then
		# v2 counts swap apart from memory: swap.max = swap - limit.
		[ "$output" = 67108864 ]
	else
		[ "$output" = 134217728 ]
	fi
}

@test "memory.swap without swap accounting on the host: an error naming swap (berth only)" {
	is_v2 && skip "cgroup v2 host"
	[ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] && skip "host has swap accounting (memsw)"
	new_bundle
	cfg '.linux.resources.memory = {limit: 67108864, swap: 134217728}'
	run --separate-stderr rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *swap* ]]
}

@test "memory.swappiness and disableOOMKiller (v1)" {
	is_v2 && skip "cgroup v1 only"
	new_bundle
	cfg '.linux.resources.memory = {limit: 67108864, swappiness: 17, disableOOMKiller: true}'
	run_cat /sys/fs/cgroup/memory/memory.swappiness /sys/fs/cgroup/memory/memory.oom_control
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 17 ]
	[ "${lines[1]}" = "oom_kill_disable 1" ]
}

@test "memory limit is enforced: an allocation beyond it is OOM-killed" {
	new_bundle
	cfg '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	if is_v2; then cfg '.linux.resources.memory.swap = 33554432'; fi
	# busybox dd allocates and fills a bs-sized buffer.
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo "dd=$?"'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]}" = dd=137 ]
}

@test "cpu shares, quota and period" {
	new_bundle
	cfg '.linux.resources.cpu = {shares: 512, quota: 50000, period: 100000}'
	if is_v2; then
		run_cat /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/cpu.max
		[ "$status" -eq 0 ]
		# runc's conversion of shares 512 to weight.
		[ "${lines[0]}" = 20 ]
		[ "${lines[1]}" = "50000 100000" ]
	else
		run_cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = 512 ]
		[ "${lines[1]}" = 50000 ]
		[ "${lines[2]}" = 100000 ]
	fi
}

@test "cpu realtimeRuntime and realtimePeriod (v1)" {
	is_v2 && skip "cgroup v1 only"
	skip_unless_file /sys/fs/cgroup/cpu/cpu.rt_runtime_us
	new_bundle
	cfg '.linux.resources.cpu = {realtimePeriod: 1000000, realtimeRuntime: 10000}'
	run_cat /sys/fs/cgroup/cpu/cpu.rt_period_us /sys/fs/cgroup/cpu/cpu.rt_runtime_us
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000000 ]
	[ "${lines[1]}" = 10000 ]
}

@test "cpu cpus and mems: cpuset files and the process's affinity" {
	new_bundle
	cfg '.linux.resources.cpu = {cpus: "0", mems: "0"}'
	set_args sh -c "cat $(cgf cpuset/cpuset.cpus cpuset.cpus) $(cgf cpuset/cpuset.mems cpuset.mems); grep -E '^(Cpus|Mems)_allowed_list:' /proc/self/status"
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[[ "${lines[2]}" =~ ^Cpus_allowed_list:[[:space:]]+0$ ]]
	[[ "${lines[3]}" =~ ^Mems_allowed_list:[[:space:]]+0$ ]]
}

@test "pids.limit: pids.max, and forking past it fails" {
	new_bundle
	cfg '.linux.resources.pids = {limit: 10}'
	# A child shell forks 20 sleepers; busybox sh gives up at the first
	# failed fork, the container's init survives to report.
	local cur
	cur=$(cgf pids/pids.current pids.current)
	set_args sh -c "cat $(cgf pids/pids.max pids.max); sh -c 'for i in \$(seq 20); do sleep 5 & done; wait' 2>&1; echo child=\$?; echo current=\$(cat $cur)"
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 10 ]
	[[ "$output" == *"can't fork"* ]] || [[ "$output" == *"Resource temporarily unavailable"* ]]
	[[ "$output" != *child=0* ]]
	local n
	n=$(grep '^current=' <<<"$output")
	[ "${n#current=}" -le 10 ]
}

# The weight files exist only below the root cgroup: look in a probe group.
blkio_weight_file() {
	local probe wf=""
	if is_v2; then
		probe=/sys/fs/cgroup/berth-probe-$$
		mkdir "$probe" 2>/dev/null || true
		[ -e "$probe/io.weight" ] && wf=io.weight
		[ -e "$probe/io.bfq.weight" ] && wf=io.bfq.weight
	else
		probe=/sys/fs/cgroup/blkio/berth-probe-$$
		mkdir "$probe" 2>/dev/null || true
		[ -e "$probe/blkio.weight" ] && wf=blkio/blkio.weight
		[ -e "$probe/blkio.bfq.weight" ] && wf=blkio/blkio.bfq.weight
	fi
	rmdir "$probe" 2>/dev/null || true
	echo "$wf"
}

@test "blockIO weight: written when the host supports it" {
	local wf
	wf=$(blkio_weight_file)
	[ -n "$wf" ] || skip "host has no blkio/io weight file (no BFQ group scheduling)"
	new_bundle
	cfg '.linux.resources.blockIO = {weight: 300}'
	run_cat "/sys/fs/cgroup/$wf"
	[ "$status" -eq 0 ]
	[[ "$output" == *300* ]]
}

@test "blockIO weight the host cannot apply is not silently dropped (berth; runc 1.1.5 fails)" {
	[ -n "$(blkio_weight_file)" ] && skip "host supports blkio weight"
	new_bundle
	cfg '.linux.resources.blockIO = {weight: 300}'
	run --separate-stderr rt run -b "$BUNDLE" "$(cid)"
	# Either refused or run with a warning; in both cases the user is told.
	[[ "$stderr" == *weight* ]]
}

@test "blockIO throttle: read bps and write iops per device" {
	local dev majmin
	dev=$(findmnt -no SOURCE / 2>/dev/null || awk '$2 == "/" {print $1}' /proc/mounts | tail -1)
	majmin=$(lsblk -no MAJ:MIN "$dev" 2>/dev/null | head -1 | tr -d ' ')
	[ -n "$majmin" ] || skip "cannot find the block device of /"
	# Throttling needs a whole disk; a partition's parent is as good.
	local maj=${majmin%:*} min=${majmin#*:}
	new_bundle
	cfg '.linux.resources.blockIO = {throttleReadBpsDevice: [{major: $ma, minor: $mi, rate: 1048576}], throttleWriteIOPSDevice: [{major: $ma, minor: $mi, rate: 120}]}' \
		--argjson ma "$maj" --argjson mi "$min"
	if is_v2; then
		run_cat /sys/fs/cgroup/io.max
		[ "$status" -eq 0 ]
		[[ "$output" == *"$maj:$min rbps=1048576"*"wiops=120"* ]]
	else
		run_cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "$maj:$min 1048576" ]
		[ "${lines[1]}" = "$maj:$min 120" ]
	fi
}

@test "hugepageLimits: 2MB limit in the hugetlb controller (hybrid: the v2 hierarchy; runc 1.1.5 fails here)" {
	skip_unless_file /sys/kernel/mm/hugepages/hugepages-2048kB
	new_bundle
	cfg '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 4194304}]'
	set_args sleep 30
	local id
	id=$(cid)
	start_bg "$id"
	local pid file
	pid=$(rt state "$id" | jq -r .pid)
	if [ -d /sys/fs/cgroup/hugetlb ]; then
		file=/sys/fs/cgroup/hugetlb$(awk -F: '$2 ~ /(^|,)hugetlb(,|$)/ {print $3}' "/proc/$pid/cgroup")/hugetlb.2MB.limit_in_bytes
	elif is_v2; then
		file=/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' "/proc/$pid/cgroup")/hugetlb.2MB.max
	else
		# hybrid: hugetlb is enabled only in the unified hierarchy.
		file=/sys/fs/cgroup/unified$(awk -F: '$1 == 0 {print $3}' "/proc/$pid/cgroup")/hugetlb.2MB.max
	fi
	run cat "$file"
	[ "$status" -eq 0 ]
	[ "$output" = 4194304 ]
}

@test "network classID: net_cls.classid, or a clear error when net_cls is not mounted" {
	new_bundle
	cfg '.linux.resources.network = {classID: 1048577}'
	if [ -d /sys/fs/cgroup/net_cls ] || [ -d /sys/fs/cgroup/net_cls,net_prio ]; then
		run_cat /sys/fs/cgroup/net_cls/net_cls.classid
		[ "$status" -eq 0 ]
		[ "$output" = 1048577 ]
	else
		# This host (v1 hybrid without a net_cls hierarchy) cannot apply it.
		run --separate-stderr rt run -b "$BUNDLE" "$(cid)"
		[ "$status" -ne 0 ]
		[[ "$stderr" == *net_cls* ]] || [[ "$stderr" == *classID* ]]
	fi
}

@test "devices cgroup: denying c 1:3 makes /dev/null unusable (runc 1.1.5 fails: it appends its default allow list after the config's rules)" {
	new_bundle
	set_args sh -c 'echo x >/dev/null && echo null-ok'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$output" = null-ok ]
	cfg '.linux.resources.devices += [{allow: false, type: "c", major: 1, minor: 3, access: "rwm"}]'
	set_args sh -c '{ echo x >/dev/null; } 2>&1; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[[ "$output" == *"Operation not permitted"* ]]
	[[ "$output" == *rc=1* ]]
}

@test "devices cgroup: a device node outside the allow list cannot be opened until allowed" {
	new_bundle
	cfg '.linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 438}]'
	set_args sh -c '{ exec 3</dev/fuse; } 2>&1 && echo opened'
	run rt run -b "$BUNDLE" "$(cid)"
	[[ "$output" == *"Operation not permitted"* ]]
	[[ "$output" != *opened* ]]
	cfg '.linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 229, access: "rw"}]'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = opened ]
}

@test "devices cgroup: rules apply in order (allow rw, then deny w)" {
	new_bundle
	cfg '.linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 438}]
		| .linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 229, access: "rw"},
			{allow: false, type: "c", major: 10, minor: 229, access: "w"}]'
	set_args sh -c '( exec 3</dev/fuse ) 2>&1 && echo read-opened; ( exec 4>/dev/fuse ) 2>&1 && echo write-opened; exit 0'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" == *read-opened* ]]
	[[ "$output" != *write-opened* ]]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "devices cgroup: the v1 list shows the allow rules (v1)" {
	is_v2 && skip "cgroup v1 only"
	new_bundle
	cfg '.linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 229, access: "rw"}]'
	run_cat /sys/fs/cgroup/devices/devices.list
	[ "$status" -eq 0 ]
	[[ "$output" == *"c 10:229 rw"* ]]
	[[ "$output" == *"c 1:3 rwm"* ]]
	[[ "$output" != *"a *:* rwm"* ]]
}

@test "update: memory and pids limits of a running container change" {
	new_bundle
	cfg '.linux.resources.memory = {limit: 67108864, swap: 67108864} | .linux.resources.pids = {limit: 50}'
	if is_v2; then cfg '.linux.resources.memory.swap = 67108864'; fi
	set_args sleep 60
	local id
	id=$(cid)
	start_bg "$id"
	local mem pids
	mem=$(cgf memory/memory.limit_in_bytes memory.max)
	pids=$(cgf pids/pids.max pids.max)
	run rt exec "$id" cat "$mem" "$pids"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 67108864 ]
	[ "${lines[1]}" = 50 ]
	run rt update --memory 134217728 --memory-swap 268435456 --pids-limit 70 "$id"
	[ "$status" -eq 0 ]
	run rt exec "$id" cat "$mem" "$pids"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 134217728 ]
	[ "${lines[1]}" = 70 ]
}

@test "update -r: resources from a JSON file" {
	new_bundle
	cfg '.linux.resources.cpu = {shares: 1024}'
	set_args sleep 60
	local id
	id=$(cid)
	start_bg "$id"
	echo '{"cpu": {"shares": 256, "quota": 20000, "period": 100000}}' >"$TEST_TMP/res.json"
	run rt update -r "$TEST_TMP/res.json" "$id"
	[ "$status" -eq 0 ]
	if is_v2; then
		run rt exec "$id" cat /sys/fs/cgroup/cpu.max
		[ "$output" = "20000 100000" ]
	else
		run rt exec "$id" cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us
		[ "${lines[0]}" = 256 ]
		[ "${lines[1]}" = 20000 ]
	fi
}
