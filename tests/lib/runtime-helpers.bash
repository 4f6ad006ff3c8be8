# runtime-helpers.bash - helpers for the runtime system tests, on top of
# tests/system/helpers.bash (load that first).
#
#   create_bg ID [ARGS...]   `create` a container with its stdio on files
#                            ($TEST_TMP/ID.out, ID.err), never on bats' pipes
#   run_bg ID [ARGS...]      same for `run -d`
#   state_of ID [JQ]         `state ID`, filtered by jq (default .status)
#   wait_status ID STATUS    poll `state` until STATUS (5 s), else fail loudly
#   proc_alive PID           the process exists and is not a zombie
#   cgroup_read_in ID V1FILE V2FILE   read a cgroup file from inside the container
#   tool_path NAME           a test tool of the build (tests/tools/NAME)

# A detached container keeps the stdio it was given. bats' `run` reads its
# output to EOF, so a container holding that pipe would hang the test; and
# fd 3 is bats' own reporting pipe, which nothing long-lived may keep.
create_bg() {
	local id=$1
	shift
	rt create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_TMP/$id.out" 2>"$TEST_TMP/$id.err" 3>&-
}

run_bg() {
	local id=$1
	shift
	rt run -d --bundle "$BUNDLE" "$@" "$id" </dev/null >"$TEST_TMP/$id.out" 2>"$TEST_TMP/$id.err" 3>&-
}

state_of() {
	local id=$1 filter=${2:-.status}
	rt state "$id" | jq -r "$filter"
}

wait_status() {
	local id=$1 want=$2 i got=
	for i in $(seq 1 100); do
		got=$(rt state "$id" 2>/dev/null | jq -r .status) || got=
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	echo "container $id: status '$got' after 5 s, wanted '$want'" >&2
	return 1
}

proc_alive() {
	local pid=$1 st
	[ -r "/proc/$pid/stat" ] || return 1
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# cgroup v1 (per-controller dirs) or v2 (one unified dir), as the container sees it.
cgroup_read_in() {
	local id=$1 v1=$2 v2=$3
	rt exec "$id" sh -c "cat /sys/fs/cgroup/$v1 2>/dev/null || cat /sys/fs/cgroup/$v2"
}

# Test tools are built with the runtime: $BERTH_BUILD_DIR/tests/tools/NAME, or
# next to the runtime binary's build tree (build/src/cli/../../tests/tools).
tool_path() {
	local name=$1 p
	for p in ${BERTH_TOOLS_DIR:+"$BERTH_TOOLS_DIR/$name"} \
		${BERTH_BUILD_DIR:+"$BERTH_BUILD_DIR/tests/tools/$name"} \
		"$(dirname "$(command -v "$RUNTIME" || echo /nonexistent)")/../../tests/tools/$name"; do
		if [ -x "$p" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# A tool the test needs is missing: in CI that is a failure, not a skip.
need_tool() {
	local name=$1
	TOOL=$(tool_path "$name") && return 0
	if [ -n "${CI:-}" ]; then
		echo "test tool $name not found (set BERTH_BUILD_DIR or BERTH_TOOLS_DIR)" >&2
		return 1
	fi
	skip "test tool $name not built (looked in \$BERTH_TOOLS_DIR, \$BERTH_BUILD_DIR/tests/tools, next to $RUNTIME)"
}
