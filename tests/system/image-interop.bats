#!/usr/bin/env bats
# image-interop.bats - what berth pulls and pushes, seen by other tools:
# dockerd pulls what berth pushed (same digest, same image id), and the tree
# berth unpacks for overlayfs is, once mounted, the tree `umoci unpack` makes
# of the same image (names, types, modes, owners, sizes, contents, xattrs).

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth
LIB=$BATS_TEST_DIRNAME/../lib

setup_file() {
	source "$LIB/start-registry.sh"
	source "$LIB/image-fixtures.sh"
	export FIX
	FIX=$(mktemp -d /tmp/berth-interop.XXXXXX)
	registry_start "$FIX/registry" plain || return 1
	echo "$REGISTRY_ADDR" >"$FIX/addr"
	fixture_busybox_root "$FIX/l1"
	mkdir -p "$FIX/l2/etc/app" "$FIX/l2/bin" "$FIX/l2/tmp" "$FIX/l2/srv"
	echo hello >"$FIX/l2/etc/app/greeting"
	chmod 4755 "$FIX/l2/etc/app/greeting"
	chown 1000:2000 "$FIX/l2/srv"
	setfattr -n user.berth -v test "$FIX/l2/etc/app/greeting"
	ln "$FIX/l2/etc/app/greeting" "$FIX/l2/etc/app/hardlink"
	mkfifo "$FIX/l2/srv/fifo"
	touch "$FIX/l2/bin/.wh.false" "$FIX/l2/tmp/.wh..wh..opq"
	oci_layout "$FIX/app" v1 "$FIX/l1" "$FIX/l2" || return 1
	echo "$CONFIG_DIGEST" >"$FIX/app.id"
	skopeo_push "$FIX/app" v1 "$REGISTRY_ADDR/test/app:v1" || return 1
}

teardown_file() {
	source "$LIB/start-registry.sh"
	source "$LIB/start-dockerd.sh"
	[ -d "$FIX/dockerd" ] && dockerd_stop "$FIX/dockerd"
	registry_stop "$FIX/registry"
	rm -rf "$FIX"
}

setup() {
	REG=$(cat "$FIX/addr")
	T=$(mktemp -d /tmp/berth-interop-test.XXXXXX)
}

teardown() {
	mountpoint -q "$T/merged" && umount "$T/merged"
	rm -rf "$T"
}

b() {
	timeout 120 "$BERTH" --root "$T/root" --runroot "$T/run" --config "$T/cfg" "$@"
}

# tree DIR: one line per entry: path, type and mode, owner, size (files),
# link target, sha256 (files), xattrs (other than overlayfs' own).
tree() {
	(
		cd "$1"
		find . -mindepth 1 -printf '%P|%M|%U:%G|%l|' -exec sh -c '
			if [ -f "$1" ] && [ ! -L "$1" ]; then
				printf "%s|%s" "$(stat -c %s "$1")" "$(sha256sum <"$1" | cut -c1-64)"
			fi
			getfattr -h -d -m - --absolute-names "$1" 2>/dev/null | grep -v "^#" | grep -v "^trusted.overlay" | sort | tr "\n" " "
			echo' sh {} \; | sort
	)
}

@test "dockerd pulls what berth pushed: same manifest digest, same image id" {
	source "$LIB/start-dockerd.sh"
	if [ ! -d "$FIX/dockerd" ]; then
		BERTH_RUNTIME=${BERTH_RUNTIME:-$BUILD/src/cli/berth-runtime} dockerd_start "$FIX/dockerd"
	fi
	run -0 b pull -q "$REG/test/app:v1"
	run -0 b tag "$REG/test/app:v1" "$REG/from-berth/app:v1"
	run -0 b push "$REG/from-berth/app:v1"
	local dg
	dg=$(echo "$output" | sed -n 's/^v1: digest: \(sha256:[0-9a-f]*\) size: [0-9]*$/\1/p')
	[ -n "$dg" ]
	run -0 timeout 120 "$DOCKER" pull "$REG/from-berth/app:v1"
	echo "$output"
	[[ $output == *"Digest: $dg"* ]]
	run -0 timeout 60 "$DOCKER" image inspect --format '{{.Id}} {{json .RepoDigests}}' "$REG/from-berth/app:v1"
	[ "$output" = "$(cat "$FIX/app.id") [\"$REG/from-berth/app@$dg\"]" ]
	timeout 60 "$DOCKER" rmi "$REG/from-berth/app:v1" >/dev/null
}

@test "the unpacked layers, mounted, are the tree umoci unpack makes of the image" {
	printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$T/policy.json"
	skopeo --policy "$T/policy.json" copy -q --src-tls-verify=false \
		"docker://$REG/test/app:v1" "oci:$T/oci:v1"
	umoci unpack --image "$T/oci:v1" "$T/bundle" >/dev/null
	run -0 b pull -q "$REG/test/app:v1"
	local lower
	lower=$(b image inspect --format '{{.GraphDriver.Data.LowerDir}}' "$REG/test/app:v1")
	mkdir "$T/merged" "$T/upper" "$T/work"
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$T/upper,workdir=$T/work" "$T/merged"
	tree "$T/bundle/rootfs" >"$T/umoci.tree"
	tree "$T/merged" >"$T/berth.tree"
	umount "$T/merged"
	# the fixture's features are there, so the comparison means something
	grep -q '^etc/app/greeting|-rwsr-xr-x|0:0||6|' "$T/berth.tree"
	grep -q 'user.berth="test"' "$T/berth.tree"
	grep -q '^srv|drwxr-xr-x|1000:2000|' "$T/berth.tree"
	grep -q '^srv/fifo|p' "$T/berth.tree"
	! grep -q '^bin/false|' "$T/berth.tree"
	diff -u "$T/umoci.tree" "$T/berth.tree"
}
