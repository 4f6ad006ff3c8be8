#!/bin/sh
# quickstart.sh - the newcomer's first run: install the dependencies, build
# Berth, make a small container image from busybox-static (offline), and run
# it with berth-runtime. Run as root on Debian 12 from the source tree.
set -eu
cd "$(dirname "$0")/.."
./contrib/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
RT=$PWD/build/src/cli/berth-runtime
BUNDLE=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
trap 'rm -rf "$BUNDLE"' EXIT
mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/sys" "$BUNDLE/rootfs/dev" "$BUNDLE/rootfs/etc"
cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$BUNDLE/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$BUNDLE/rootfs/etc/passwd"
(cd "$BUNDLE" && "$RT" spec)
jq '.process.terminal = false
    | .process.args = ["sh", "-c", "echo \"Hello from a Berth container: $(hostname), pid $$, $(id)\"; ls /"]' \
	"$BUNDLE/config.json" >"$BUNDLE/config.json.new" && mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
"$RT" --root /run/berth-runtime-quickstart run --bundle "$BUNDLE" "quickstart-$$"
