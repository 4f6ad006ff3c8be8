#!/bin/bash
# run.sh - `berth run` against `runc run` and `docker run`, side by side in one run.
#
# Figures (issue 4):
#   berth run --rm --network none busybox true: median wall <= 0.5 x runc run of
#     the same rootfs as a bundle, <= 0.05 x docker run --rm --network none;
#   the same with a Debian image and --network host;
#   RSS of one idle container's monitor, and of 100 monitors together, against
#     containerd-shim's for the same 100 containers under dockerd.
#
# Usage (root): bench/run.sh [RUNS] [CONTAINERS]   (defaults 30 and 100)
# Berth, runc and a private dockerd (tests/lib/start-dockerd.sh: its own
# containerd, data root and socket, no networking of the host touched) each get
# their own state in a temp dir. See bench/README.md.
set -euo pipefail
RUNS=${1:-30}
N=${2:-100}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BERTH_BUILD_DIR:-$SRC/build}
BERTH=$BUILD/src/cli/berth
RUNC=${RUNC:-$(command -v runc)}
DEBIAN_CACHE=${BERTH_DEBIAN_ROOTFS:-/var/cache/berth-tests/debian-bookworm}
[ -x "$BERTH" ] || { echo "bench: build first (no $BERTH)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine" >&2; exit 1; }

WORK=$(mktemp -d /run/berth-bench-run.XXXXXX)
b() { "$BERTH" --root "$WORK/root" --runroot "$WORK/run" "$@"; }
cleanup() {
	set +e
	b ps -aq 2>/dev/null | xargs -r "$BERTH" --root "$WORK/root" --runroot "$WORK/run" rm -f >/dev/null 2>&1
	if [ -n "${DOCKER_HOST:-}" ]; then
		$DOCKER ps -aq | xargs -r $DOCKER rm -f >/dev/null 2>&1
		dockerd_stop "$WORK/docker"
	fi
	for r in "$WORK"/state-r; do
		[ -d "$r" ] && for c in "$r"/*/; do [ -d "$c" ] && "$RUNC" --root "$r" delete -f "$(basename "$c")"; done
	done >/dev/null 2>&1
	umount "$WORK/debian-bundle/rootfs" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

hf() {
	hyperfine -N --style none --warmup 3 "$@" >"$WORK/hyperfine.log" 2>&1 || {
		cat "$WORK/hyperfine.log" >&2
		return 1
	}
}
median_ms() { jq -r ".results[$2].median * 1000" "$1"; }

# The images: a busybox rootfs and the cached Debian minbase, as tarballs.
mkdir -p "$WORK/bb/rootfs"/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$WORK/bb/rootfs/bin/"
for a in sh true sleep; do ln -s busybox "$WORK/bb/rootfs/bin/$a"; done
tar -C "$WORK/bb/rootfs" -cf "$WORK/bb.tar" .
if [ ! -x "$DEBIAN_CACHE/bin/bash" ]; then
	mkdir -p "$(dirname "$DEBIAN_CACHE")"
	debootstrap --variant=minbase bookworm "$DEBIAN_CACHE.tmp" http://deb.debian.org/debian >/dev/null
	mv "$DEBIAN_CACHE.tmp" "$DEBIAN_CACHE"
fi
tar -C "$DEBIAN_CACHE" -cf "$WORK/debian.tar" .
b import "$WORK/bb.tar" bench/busybox >/dev/null
b import "$WORK/debian.tar" bench/debian >/dev/null

# runc bundles of the same rootfs.
bundle() { # DIR ROOTFS NETHOST
	mkdir -p "$1/rootfs"
	if [ "$2" = bb ]; then cp -a "$WORK/bb/rootfs/." "$1/rootfs/"; else mount --bind -o ro "$DEBIAN_CACHE" "$1/rootfs"; fi
	(cd "$1" && "$RUNC" spec)
	local f='.process.terminal = false | .process.args = ["true"]'
	[ "$3" = host ] && f="$f | .linux.namespaces |= map(select(.type != \"network\"))"
	jq "$f" "$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
}
bundle "$WORK/bb-bundle" bb none
bundle "$WORK/debian-bundle" debian host

# A private dockerd with the same two images.
source "$SRC/tests/lib/start-dockerd.sh"
BERTH_RUNTIME=$RUNC dockerd_start "$WORK/docker" >/dev/null
$DOCKER import "$WORK/bb.tar" bench/busybox >/dev/null
$DOCKER import "$WORK/debian.tar" bench/debian >/dev/null

echo "berth:  $BERTH"
echo "runc:   $RUNC ($("$RUNC" --version | head -1))"
echo "docker: $($DOCKER version --format '{{.Server.Version}}' 2>/dev/null)"
echo "runs per figure: $RUNS (medians)"
echo

compare() { # NAME IMAGE NET BUNDLE
	local json=$WORK/$1.json
	hf --runs "$RUNS" --export-json "$json" \
		"$BERTH --root $WORK/root --runroot $WORK/run run --rm --network $3 $2 true" \
		"$RUNC --root $WORK/state-r run -b $4 bench-$1" \
		"$DOCKER run --rm --network $3 $2 true"
	local bm rm dm
	bm=$(median_ms "$json" 0)
	rm=$(median_ms "$json" 1)
	dm=$(median_ms "$json" 2)
	printf '%-34s berth %7.2f ms  runc %7.2f ms  docker %7.2f ms\n' "run --rm $1 --network $3:" "$bm" "$rm" "$dm"
	printf '%-34s vs runc %.2f (goal <= 0.5)   vs docker %.3f (goal <= 0.05)\n' "" \
		"$(echo "$bm / $rm" | bc -l)" "$(echo "$bm / $dm" | bc -l)"
}
compare busybox bench/busybox none "$WORK/bb-bundle"
compare debian bench/debian host "$WORK/debian-bundle"

# Memory: idle containers' monitors against containerd-shim-runc-v2.
rss_of() { # PIDS... -> total KiB
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
	echo $t
}
seq "$N" | xargs -P 8 -I{} "$BERTH" --root "$WORK/root" --runroot "$WORK/run" run -d --network none bench/busybox sleep 600 >/dev/null
seq "$N" | xargs -P 8 -I{} $DOCKER run -d --network none bench/busybox sleep 600 >/dev/null
sleep 1
mapfile -t mons < <(pgrep -f "berth-monitor .*$WORK/run/")
mapfile -t shims < <(pgrep -f "containerd-shim.*$WORK/docker" || pgrep -f containerd-shim-runc-v2)
one_b=$(rss_of "${mons[0]}")
one_s=$(rss_of "${shims[0]}")
all_b=$(rss_of "${mons[@]}")
all_s=$(rss_of "${shims[@]}")
printf '%-34s berth-monitor %6d KiB   containerd-shim %6d KiB   ratio %.3f (goal <= 1024 KiB)\n' \
	"RSS of one idle container:" "$one_b" "$one_s" "$(echo "$one_b / $one_s" | bc -l)"
printf '%-34s %d monitors %7d KiB   %d shims %7d KiB   ratio %.3f\n' "RSS of $N containers:" \
	"${#mons[@]}" "$all_b" "${#shims[@]}" "$all_s" "$(echo "$all_b / $all_s" | bc -l)"
