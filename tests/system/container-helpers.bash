# container-helpers.bash - what the `berth` container tests share (load it
# after helpers): each test gets its own --root and --runroot in its temp dir
# and the image bb:test, a busybox rootfs imported with `berth import`.
#
#   image_rootfs_begin       setup_file, part 1: $IMGDIR/rootfs, a busybox root to add to
#   image_rootfs_end         setup_file, part 2: pack it as $IMGDIR/rootfs.tar
#   container_setup          setup: ROOT, RUN, BRIDGE, the image bb:test, the host's berth
#                            cgroups noted
#   container_teardown       teardown: remove what a failed test left (`system reset`:
#                            containers, networks with their bridges, rules and
#                            responders), then common_teardown
#   b ARGS...                berth with this test's --root, --runroot and default
#                            bridge (--bridge $BRIDGE, never the machine's berth0)
#   wait_running NAME        until NAME's state is running (5 s at most)
#   berth_cgroups            the cgroup dirs of berth containers on this host (64-hex names)
#   assert_no_leaks          no container, mount, cgroup or monitor of this test is left
#                            (a cgroup counts when it is new and stays empty), and
#                            assert_net_clean
#   assert_net_clean         no lease on any network, no veth on the test's bridge

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth

image_rootfs_begin() {
	export IMGDIR
	IMGDIR=$(mktemp -d /tmp/berth-ctr-img.XXXXXX)
	busybox_rootfs "$IMGDIR/rootfs"
}

image_rootfs_end() {
	tar -C "$IMGDIR/rootfs" -cf "$IMGDIR/rootfs.tar" .
}

container_setup() {
	common_setup
	ROOT=$TEST_TMP/root
	RUN=$TEST_TMP/run
	BRIDGE=bt$$
	b import -c 'CMD ["/bin/sh"]' "$IMGDIR/rootfs.tar" bb:test >/dev/null
	berth_cgroups >"$TEST_TMP/cgroups.before"
}

container_teardown() {
	if [ -x "$BERTH" ] && [ -d "$ROOT" ]; then
		b system reset -f >/dev/null 2>&1 || true
	fi
	if ip link show "$BRIDGE" >/dev/null 2>&1; then
		echo "# teardown: bridge $BRIDGE left by the test; removed" >&3
		ip link del "$BRIDGE"
	fi
	common_teardown
}

b() {
	"$BERTH" --root "$ROOT" --runroot "$RUN" --bridge "$BRIDGE" "$@"
}

wait_running() {
	for _ in $(seq 100); do
		[ "$(b inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = running ] && return 0
		sleep 0.05
	done
	return 1
}

# 64-hex names: berth's containers, not the runtime tests' own.
berth_cgroups() {
	find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path '*/berth/*' 2>/dev/null |
		grep -E '/[0-9a-f]{64}$' | sort || true
}

empty_new_cgroups() {
	berth_cgroups | comm -13 "$TEST_TMP/cgroups.before" - | while read -r d; do
		if [ -d "$d" ] && [ -z "$(cat "$d/cgroup.procs" 2>/dev/null)" ]; then echo "$d"; fi
	done
}

assert_no_leaks() {
	run -0 b ps -aq
	[ -z "$output" ] || { echo "containers left: $output"; return 1; }
	if grep -q " $RUN/" /proc/self/mountinfo; then
		grep " $RUN/" /proc/self/mountinfo
		return 1
	fi
	# A leaked cgroup is new since setup, and stays there without a process:
	# another test's containers running meanwhile are not this test's leak.
	local left
	left=$(empty_new_cgroups)
	if [ -n "$left" ]; then
		sleep 1
		left=$(empty_new_cgroups)
	fi
	[ -z "$left" ] || { echo "cgroups left: $left"; return 1; }
	if pgrep -f "berth-monitor .* $RUN/" >/dev/null; then
		pgrep -af "berth-monitor"
		return 1
	fi
	assert_net_clean
}

# What must be gone once the test's containers are: their leases and veths
# (network.bats checks the ports by using them).
assert_net_clean() {
	local ids bridges=$BRIDGE
	ids=$(b network ls -q --no-trunc)
	for n in $ids; do
		bridges="$bridges br-${n:0:12}"
		run -0 b network inspect "$n"
		[ "$(echo "$output" | jq '.[0].Containers | length')" = 0 ] || {
			echo "leases left on $n: $output"
			return 1
		}
	done
	# a veth goes with its namespace, which the kernel frees a little later
	local br left
	for br in $bridges; do
		for _ in $(seq 40); do
			left=$(ip -o link show master "$br" 2>/dev/null || true)
			[ -z "$left" ] && break
			sleep 0.05
		done
		[ -z "$left" ] || { echo "veths left on $br: $left"; return 1; }
	done
}


