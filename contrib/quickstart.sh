#!/bin/bash
# quickstart.sh - from a fresh Debian 12 machine to a running container:
# install the build dependencies, build, make a busybox bundle (no registry,
# no network past Debian's packages) and run it with `berth-runtime run`.
#
#   sudo ./contrib/quickstart.sh
#
# RUNTIME=runc runs the same bundle with runc instead, for comparison.
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "quickstart.sh: containers need root here: run it with sudo" >&2
	exit 1
fi

source contrib/deps.sh
berth_install_deps build quickstart

BUILD_DIR=${BUILD_DIR:-build}
if [ ! -d "$BUILD_DIR/meson-private" ]; then
	meson setup "$BUILD_DIR" >/dev/null
fi
ninja -C "$BUILD_DIR" >/dev/null
RUNTIME=${RUNTIME:-$(pwd)/$BUILD_DIR/src/cli/berth-runtime}

WORK=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
ID=quickstart-$$
cleanup() {
	"$RUNTIME" --root "$WORK/state" delete --force "$ID" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# A bundle: a root filesystem of busybox-static, and config.json from `spec`.
BUNDLE=$WORK/bundle
mkdir -p "$BUNDLE"/rootfs/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$BUNDLE/rootfs/bin/$applet"
done
(cd "$BUNDLE" && "$RUNTIME" spec)
jq '.process.terminal = false
  | .hostname = "berth-quickstart"
  | .process.args = ["sh", "-c", "echo \"Hello from $(hostname): pid $$, $(ls /bin | wc -l) busybox applets, root $(cat /proc/self/mountinfo | head -n1 | cut -d\" \" -f5)\""]' \
	"$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"

echo "+ $RUNTIME --root $WORK/state run --bundle $BUNDLE $ID"
"$RUNTIME" --root "$WORK/state" run --bundle "$BUNDLE" "$ID"
