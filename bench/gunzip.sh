#!/bin/bash
# gunzip.sh - unpacking one large gzip layer: berth's layer_unpack against
# `igzip -d | tar -x` and `pigz -d | tar -x`, side by side in one run.
#
# Figure (issue: layer unpack speed): layer_unpack of a ~300 MB (uncompressed)
# gzip -6 layer into a fresh directory within 1.5 x the time of the peers'
# pipelines, on tmpfs and on ext4. `igzip -d -c >/dev/null` is the floor: the
# decompression alone. layer_unpack also hashes the tar (the DiffID); tar does not.
#
# Usage (root): bench/gunzip.sh [RUNS]   (LAYER_TOOL overrides the binary)
# The layer (a tar of files from /usr, sorted, cut at LAYER_MB) is made once and
# cached in /var/tmp/berth-bench/. Targets: a tmpfs mounted for the run, and a
# directory under /var/tmp (ext4 here); both removed at exit.
set -euo pipefail
RUNS=${1:-10}
LAYER_MB=${LAYER_MB:-300}
SRC=$(cd "$(dirname "$0")/.." && pwd)
TOOL=${LAYER_TOOL:-$SRC/build/tests/tools/layer-tool}
CACHE=/var/tmp/berth-bench
LAYER=$CACHE/usr-${LAYER_MB}M.tar.gz
[ -x "$TOOL" ] || { echo "bench: build first (no $TOOL)" >&2; exit 1; }
for t in hyperfine igzip pigz jq gzip; do
	command -v $t >/dev/null || { echo "bench: needs $t" >&2; exit 1; }
done

if [ ! -s "$LAYER" ]; then
	mkdir -p "$CACHE"
	echo "making $LAYER (once) ..." >&2
	# Every k-th file or symlink of /usr (files under 64 MB), k chosen for
	# about LAYER_MB in all, with their parent directories: a distro layer's
	# mix of many small files and some big ones.
	find /usr -xdev \( -type f -o -type l \) -size -64M -printf '%s %p\n' 2>/dev/null |
		LC_ALL=C sort -k2 >"$CACHE/all"
	awk -v max=$((LAYER_MB * 1024 * 1024)) '
		NR == FNR { total += $1; next }
		FNR == 1 { k = int(total / max + 0.5); if (k < 1) k = 1 }
		FNR % k == 0 {
			p = substr($0, index($0, " ") + 1)
			print p
			while (sub(/\/[^\/]*$/, "", p) && p != "" && !(p in dirs)) { dirs[p] = 1; print p }
		}' "$CACHE/all" "$CACHE/all" | LC_ALL=C sort -u >"$CACHE/list"
	tar --no-recursion -C / -cf - -T <(sed 's|^/||' "$CACHE/list") 2>/dev/null |
		gzip -6 >"$LAYER.tmp"
	mv "$LAYER.tmp" "$LAYER"
	rm -f "$CACHE/list" "$CACHE/all"
fi
TAR_BYTES=$(igzip -d -c "$LAYER" | wc -c)
echo "layer: $LAYER: $(du -m "$LAYER" | cut -f1) MB gzip, $((TAR_BYTES / 1024 / 1024)) MB tar"

WORK=$(mktemp -d /var/tmp/berth-gunzip.XXXXXX)
cleanup() {
	umount "$WORK/tmpfs" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$WORK/tmpfs" "$WORK/ext4"
mount -t tmpfs -o size=4g tmpfs "$WORK/tmpfs"

median_ms() { # hyperfine json, command index -> median in ms
	jq -r ".results[$2].median * 1000" "$1"
}

run() { # FS-LABEL DIR
	local label=$1 dir=$2 json=$WORK/$1.json
	hyperfine -N --runs "$RUNS" --warmup 1 --export-json "$json" --style none \
		--prepare "rm -rf $dir/out" \
		-n berth "$TOOL unpack $LAYER $dir/out" \
		-n igzip-tar "sh -c 'mkdir $dir/out && igzip -d -c $LAYER | tar -x -C $dir/out'" \
		-n pigz-tar "sh -c 'mkdir $dir/out && pigz -d -c $LAYER | tar -x -C $dir/out'" \
		-n igzip-null "sh -c 'igzip -d -c $LAYER >/dev/null'" >/dev/null
	local b i p n
	b=$(median_ms "$json" 0)
	i=$(median_ms "$json" 1)
	p=$(median_ms "$json" 2)
	n=$(median_ms "$json" 3)
	printf '%-5s berth %8.1f ms   igzip|tar %8.1f ms  ratio %.2f   pigz|tar %8.1f ms  ratio %.2f   (goal <= 1.50)\n' \
		"$label" "$b" "$i" "$(echo "$b / $i" | bc -l)" "$p" "$(echo "$b / $p" | bc -l)"
	printf '%-5s igzip -d >/dev/null %8.1f ms: berth is %.2f x the decompression alone (%.0f MB/s of tar)\n' \
		"$label" "$n" "$(echo "$b / $n" | bc -l)" "$(echo "$TAR_BYTES / 1048576 / ($b / 1000)" | bc -l)"
}

run tmpfs "$WORK/tmpfs"
run ext4 "$WORK/ext4"
