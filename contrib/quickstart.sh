#!/bin/bash
# quickstart.sh - from a fresh Debian 12 machine to a running container:
# install the build dependencies, build, make a busybox image offline (a
# rootfs of busybox-static imported into Berth's image store with
# `berth import`; no registry, no network past Debian's packages), mount the
# image's layer with overlayfs as a bundle's rootfs and run it with
# `berth-runtime run`.
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

BERTH=$(pwd)/$BUILD_DIR/src/cli/berth

WORK=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
ID=quickstart-$$
BUNDLE=$WORK/bundle
cleanup() {
	"$RUNTIME" --root "$WORK/state" delete --force "$ID" >/dev/null 2>&1 || true
	umount "$BUNDLE/rootfs" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# An image: a root filesystem of busybox-static, imported into a store of
# its own (--root), as `docker import` would.
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$ROOTFS/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$ROOTFS/bin/$applet"
done
B=("$BERTH" --root "$WORK/store" --runroot "$WORK/run")
echo "+ tar -C $ROOTFS -c . | berth import -c 'CMD [\"sh\"]' - quickstart/busybox:latest"
tar -C "$ROOTFS" -c . | "${B[@]}" import -c 'CMD ["sh"]' - quickstart/busybox:latest
echo "+ berth images"
"${B[@]}" images

# A bundle whose rootfs is the image's layer, mounted with overlayfs (the
# writes go to an upper dir of this run), and config.json from `spec`.
mkdir -p "$BUNDLE/rootfs" "$WORK/upper" "$WORK/work"
LOWER=$("${B[@]}" image inspect --format '{{.GraphDriver.Data.LowerDir}}' quickstart/busybox)
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$WORK/upper,workdir=$WORK/work" "$BUNDLE/rootfs"
(cd "$BUNDLE" && "$RUNTIME" spec)
jq '.process.terminal = false
  | .hostname = "berth-quickstart"
  | .process.args = ["sh", "-c", "echo \"Hello from $(hostname): pid $$, $(ls /bin | wc -l) busybox applets, root $(cat /proc/self/mountinfo | head -n1 | cut -d\" \" -f5)\""]' \
	"$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"

echo "+ $RUNTIME --root $WORK/state run --bundle $BUNDLE $ID"
"$RUNTIME" --root "$WORK/state" run --bundle "$BUNDLE" "$ID"
