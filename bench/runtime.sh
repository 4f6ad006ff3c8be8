#!/bin/bash
# runtime.sh - berth-runtime against runc, side by side in one run.
#
# Figures (issue 2): `run` of a busybox bundle and of a Debian bundle running
# `true`, median wall time, berth <= 0.3 x runc; peak RSS of the runtime
# process, berth <= 0.5 x runc; with a Docker-sized seccomp profile, the
# cached start costs < 1 ms more than no seccomp.
#
# Usage (root): bench/runtime.sh [RUNS]   (BERTH_RUNTIME, RUNC override the binaries)
# Each runtime gets its own --root in a temp dir; nothing of the machine's is used.
# See bench/README.md for what the figures mean.
set -euo pipefail
RUNS=${1:-50}
RSS_RUNS=${RSS_RUNS:-21}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BERTH=${BERTH_RUNTIME:-$SRC/build/src/cli/berth-runtime}
RUNC=${RUNC:-$(command -v runc)}
DEBIAN_CACHE=${BERTH_DEBIAN_ROOTFS:-/var/cache/berth-tests/debian-bookworm}
[ -x "$BERTH" ] || { echo "bench: build first (no $BERTH)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine" >&2; exit 1; }

WORK=$(mktemp -d /run/berth-bench.XXXXXX)
cleanup() {
	local r c bin
	for r in "$WORK"/state-*; do
		[ -d "$r" ] || continue
		bin=$BERTH
		[ "$r" = "$WORK/state-r" ] && bin=$RUNC
		for c in "$r"/*/; do
			[ -d "$c" ] && "$bin" --root "$r" delete --force "$(basename "$c")" >/dev/null 2>&1 || true
		done
	done
	umount "$WORK/debian/rootfs" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

make_bundle() { # DIR ROOTFS-KIND
	local dir=$1 kind=$2
	mkdir -p "$dir/rootfs"
	if [ "$kind" = busybox ]; then
		mkdir -p "$dir/rootfs/"{bin,proc,sys,dev,etc,tmp}
		cp /bin/busybox "$dir/rootfs/bin/"
		ln -s busybox "$dir/rootfs/bin/true"
		ln -s busybox "$dir/rootfs/bin/sh"
	else
		if [ ! -x "$DEBIAN_CACHE/bin/bash" ]; then
			mkdir -p "$(dirname "$DEBIAN_CACHE")"
			debootstrap --variant=minbase bookworm "$DEBIAN_CACHE.tmp" http://deb.debian.org/debian >/dev/null
			mv "$DEBIAN_CACHE.tmp" "$DEBIAN_CACHE"
		fi
		mount --bind -o ro "$DEBIAN_CACHE" "$dir/rootfs"
	fi
	(cd "$dir" && "$BERTH" spec)
	jq '.process.terminal = false | .process.args = ["true"] | .root.readonly = true' "$dir/config.json" >"$dir/c.json"
	mv "$dir/c.json" "$dir/config.json"
}

median_ms() { # hyperfine json -> median of command N in ms
	jq -r ".results[$2].median * 1000" "$1"
}

# hf ARGS...: hyperfine, its chatter kept in a log shown only if it fails.
hf() {
	hyperfine -N --style none --warmup 5 "$@" >"$WORK/hyperfine.log" 2>&1 || {
		cat "$WORK/hyperfine.log" >&2
		return 1
	}
}

compare() { # NAME BUNDLE
	local name=$1 bundle=$2 json=$WORK/$1.json
	# `run` deletes the container when it exits, so each run's id is free again.
	hf --runs "$RUNS" --export-json "$json" \
		"$BERTH --root $WORK/state-b run -b $bundle bench-$name-b" \
		"$RUNC --root $WORK/state-r run -b $bundle bench-$name-r"
	local b r
	b=$(median_ms "$json" 0)
	r=$(median_ms "$json" 1)
	printf '%-28s berth %7.2f ms   runc %7.2f ms   ratio %.2f  (goal <= 0.30)\n' "run $name: median" "$b" "$r" \
		"$(echo "$b / $r" | bc -l)"
}

peak_rss() { # BINARY BUNDLE ROOT -> median of max RSS (KiB) over $RSS_RUNS runs
	local i out=()
	for i in $(seq "$RSS_RUNS"); do
		out+=("$(/usr/bin/time -f %M "$1" --root "$3" run -b "$2" "rss-$i" 2>&1 >/dev/null | tail -1)")
	done
	printf '%s\n' "${out[@]}" | sort -n | sed -n "$(((RSS_RUNS + 1) / 2))p"
}

make_bundle "$WORK/busybox" busybox
make_bundle "$WORK/debian" debian
echo "berth-runtime: $BERTH"
echo "runc:          $RUNC ($("$RUNC" --version | head -1))"
echo "runs per figure: $RUNS (medians)"
echo
compare busybox "$WORK/busybox"
compare debian "$WORK/debian"

rb=$(peak_rss "$BERTH" "$WORK/busybox" "$WORK/state-b")
rr=$(peak_rss "$RUNC" "$WORK/busybox" "$WORK/state-r")
printf '%-28s berth %7d KiB  runc %7d KiB  ratio %.2f  (goal <= 0.50)\n' "peak RSS (busybox run)" "$rb" "$rr" \
	"$(echo "$rb / $rr" | bc -l)"

PROFILE=$SRC/bench/seccomp-profile.json
if [ -f "$PROFILE" ]; then
	mkdir -p "$WORK/seccomp"
	cp -a "$WORK/busybox/rootfs" "$WORK/seccomp/"
	jq --slurpfile p "$PROFILE" '.linux.seccomp = $p[0]' "$WORK/busybox/config.json" >"$WORK/seccomp/config.json"
	# The first start compiles and caches; time that one alone.
	rm -rf "$WORK/state-s"
	t0=$(date +%s%N)
	"$BERTH" --root "$WORK/state-s" run -b "$WORK/seccomp" cold >/dev/null
	t1=$(date +%s%N)
	json=$WORK/seccomp.json
	hf --runs "$RUNS" --export-json "$json" \
		"$BERTH --root $WORK/state-s run -b $WORK/busybox plain" \
		"$BERTH --root $WORK/state-s run -b $WORK/seccomp cached"
	p=$(median_ms "$json" 0)
	s=$(median_ms "$json" 1)
	printf '%-28s %.2f ms (first start, compiling %d syscall rules)\n' "seccomp cold start" \
		"$(echo "($t1 - $t0) / 1000000" | bc -l)" "$(jq '[.syscalls[].names | length] | add' "$PROFILE")"
	printf '%-28s plain %.2f ms   cached seccomp %.2f ms   overhead %.2f ms  (goal < 1 ms)\n' \
		"seccomp (busybox run)" "$p" "$s" "$(echo "$s - $p" | bc -l)"
	printf 'seccomp cached overhead: %.2f ms (goal < 1 ms)\n' "$(echo "$s - $p" | bc -l)"
else
	echo "seccomp: $PROFILE missing: the seccomp figures are NOT measured"
fi
