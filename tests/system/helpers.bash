# helpers.bash - shared setup for the bats system tests.
#
# Every test gets its own temp dir with its own runtime --root; nothing of
# the machine's is touched. BERTH_RUNTIME names the runtime under test (the
# build's berth-runtime; "runc" works too, to check a test against the peer).
#
#   rt ARGS...            the runtime with this test's --root
#   new_bundle [busybox|debian]   make $BUNDLE with a rootfs and a default config.json
#   cfg JQ_FILTER [ARGS]  edit $BUNDLE/config.json in place with jq
#   set_args CMD...       process.args = CMD (terminal off)
#   cid                   a fresh container id for this test
#   debian_rootfs         path of a cached debootstrap --variant=minbase rootfs (made once)

RUNTIME=${BERTH_RUNTIME:-berth-runtime}
SRCROOT=${BERTH_SOURCE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
DEBIAN_CACHE=${BERTH_DEBIAN_ROOTFS:-/var/cache/berth-tests/debian-bookworm}

common_setup() {
	TEST_TMP=$(mktemp -d /tmp/berth-test.XXXXXX)
	# A container's mapped root (user namespaces) must be able to reach its rootfs.
	chmod 755 "$TEST_TMP"
	STATE_ROOT=$TEST_TMP/state
	mkdir -p "$STATE_ROOT"
	CID_SEQ=0
}

common_teardown() {
	if [ -d "$STATE_ROOT" ]; then
		for d in "$STATE_ROOT"/*/; do
			[ -d "$d" ] || continue
			"$RUNTIME" --root "$STATE_ROOT" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
		done
	fi
	# Unmount anything a failed test left under its temp dir, deepest first.
	if [ -n "$TEST_TMP" ]; then
		awk -v t="$TEST_TMP" '$5 ~ "^"t {print $5}' /proc/self/mountinfo | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null || true; done
		rm -rf "$TEST_TMP"
	fi
}

setup() { common_setup; }
teardown() { common_teardown; }

rt() {
	"$RUNTIME" --root "$STATE_ROOT" "$@"
}

# Called as $(cid), i.e. in a subshell: the counter lives in a file.
cid() {
	CID_SEQ=$(($(cat "$TEST_TMP/.cid-seq" 2>/dev/null || echo 0) + 1))
	echo "$CID_SEQ" >"$TEST_TMP/.cid-seq"
	echo "bt-$$-$BATS_TEST_NUMBER-$CID_SEQ"
}

busybox_rootfs() {
	local dir=$1
	mkdir -p "$dir"/{bin,proc,sys,dev,etc,tmp,root,home}
	cp /bin/busybox "$dir/bin/busybox"
	local a
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
	done
	mkdir -p "$dir/usr/bin" "$dir/sbin" "$dir/usr/sbin"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ntester:x:1000:1000:tester:/home:/bin/sh\n' >"$dir/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\ntester:x:1000:\nextra:x:2000:tester\n' >"$dir/etc/group"
	chmod 1777 "$dir/tmp"
}

debian_rootfs() {
	if [ ! -x "$DEBIAN_CACHE/bin/bash" ]; then
		mkdir -p "$(dirname "$DEBIAN_CACHE")"
		local tmp="$DEBIAN_CACHE.tmp.$$"
		rm -rf "$tmp"
		debootstrap --variant=minbase bookworm "$tmp" http://deb.debian.org/debian >/dev/null 2>&1 ||
			{ echo "debootstrap failed" >&2; rm -rf "$tmp"; return 1; }
		# -T: when another run made the cache meanwhile, never move into it
		mv -T "$tmp" "$DEBIAN_CACHE" 2>/dev/null || rm -rf "$tmp"
	fi
	echo "$DEBIAN_CACHE"
}

new_bundle() {
	local kind=${1:-busybox}
	BUNDLE=$TEST_TMP/bundle$CID_SEQ.$RANDOM
	mkdir -p "$BUNDLE"
	case $kind in
	busybox) busybox_rootfs "$BUNDLE/rootfs" ;;
	debian)
		local src
		src=$(debian_rootfs) || return 1
		mkdir -p "$BUNDLE/rootfs"
		mount --bind "$src" "$BUNDLE/rootfs"
		;;
	esac
	(cd "$BUNDLE" && "$RUNTIME" spec) || return 1
	cfg '.process.terminal = false | .process.args = ["true"]'
}

cfg() {
	local filter=$1
	shift
	jq "$@" "$filter" "$BUNDLE/config.json" >"$BUNDLE/config.json.new" &&
		mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

set_args() {
	local json
	json=$(jq -cn '$ARGS.positional' --args -- "$@")
	cfg ".process.args = $json"
}
