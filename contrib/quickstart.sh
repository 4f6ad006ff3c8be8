#!/bin/bash
# quickstart.sh - from a fresh Debian 12 machine to running containers:
# install the build dependencies, build, make a busybox image offline (a
# rootfs of busybox-static imported into Berth's image store with
# `berth import`; no registry, no network past Debian's packages), then run
# containers from it with `berth run` as one would with docker: attached,
# detached with logs and exec, stopped and removed; a web server on a user
# network found by name and published on a host port.
#
#   sudo ./contrib/quickstart.sh
#
# Everything lives in a temp --root and --runroot, with its own default
# bridge (bq<pid>); `berth system reset` removes it all at the end.
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
BERTH=$(pwd)/$BUILD_DIR/src/cli/berth

WORK=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
B=("$BERTH" --root "$WORK/root" --runroot "$WORK/run" --bridge "bq$$")
cleanup() {
	"${B[@]}" system reset -f >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "+ berth $*"; }

# An image: a root filesystem of busybox-static, imported as `docker import` would.
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$ROOTFS/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$ROOTFS/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
say "import -c 'CMD [\"sh\"]' - quickstart/busybox:latest"
tar -C "$ROOTFS" -c . | "${B[@]}" import -c 'CMD ["sh"]' - quickstart/busybox:latest
say images
"${B[@]}" images

# Attached, removed when it exits; its exit code is berth's.
say 'run --rm --hostname berth-quickstart quickstart/busybox sh -c "echo Hello from ..."'
"${B[@]}" run --rm --hostname berth-quickstart quickstart/busybox \
	sh -c 'echo "Hello from $(hostname): pid $$, user $(id -un), $(ls /bin | wc -l) busybox applets"'

# Detached: ps, logs, exec, stop, rm.
say "run -d --name ticker quickstart/busybox sh -c 'while :; do date; sleep 1; done'"
"${B[@]}" run -d --name ticker quickstart/busybox sh -c 'trap "exit 0" TERM; while :; do date; sleep 1; done'
say ps
"${B[@]}" ps
sleep 1.5
say "exec ticker ps"
"${B[@]}" exec ticker ps
say "stop ticker"
"${B[@]}" stop ticker
say "logs ticker"
"${B[@]}" logs ticker
say "ps -a"
"${B[@]}" ps -a
say "rm ticker"
"${B[@]}" rm ticker

# Networks: a web server found by name on a user network, published on the host.
mkdir -p "$WORK/www"
echo "Hello from a published port" >"$WORK/www/index.html"
PORT=$((20000 + RANDOM % 20000))
say "network create demo"
"${B[@]}" network create demo >/dev/null
say "run -d --name web --network demo -p 127.0.0.1:$PORT:80 -v $WORK/www:/www:ro quickstart/busybox httpd -f -p 80 -h /www"
"${B[@]}" run -d --name web --network demo -p "127.0.0.1:$PORT:80" -v "$WORK/www:/www:ro" \
	quickstart/busybox httpd -f -p 80 -h /www >/dev/null
say "run --rm --network demo quickstart/busybox wget -qO- http://web/"
"${B[@]}" run --rm --network demo quickstart/busybox timeout 5 wget -qO- http://web/
say "port web"
"${B[@]}" port web
echo "+ wget -qO- http://127.0.0.1:$PORT/   (from the host)"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	timeout 3 /bin/busybox wget -qO- "http://127.0.0.1:$PORT/" && break
	sleep 0.2
done
say "rm -f web; network rm demo"
"${B[@]}" rm -f web >/dev/null
"${B[@]}" network rm demo >/dev/null
say "system reset -f"
"${B[@]}" system reset -f
echo "quickstart: done"
