#!/bin/bash
# pull.sh - `berth pull` against `docker pull` and `skopeo copy`, side by side.
#
# Figures (issue 3), all from one local docker-registry on 127.0.0.1:
#   - pull of a 200 MB+ Debian image in 4 layers into an empty store: median
#     wall time, berth <= 0.5 x docker pull (into an empty private dockerd),
#     and <= 0.7 x skopeo copy to an OCI directory (which does not unpack);
#   - a second pull of the image when every layer is present: < 50 ms.
#
# Usage (root): bench/pull.sh [RUNS]     RUNS defaults to 5
#   BENCH_DIR=/dev/shm bench/pull.sh   puts the stores (berth's, dockerd's,
#   skopeo's) on tmpfs instead of /var/tmp: file creation on this machine's
#   ext4 costs ~0.6 ms of kernel CPU per file (ENVIRONMENT.md), which then
#   dominates both engines' unpacking
# The image is made once from the debootstrap rootfs the tests use and cached
# as an OCI layout in /var/cache/berth-tests/bench-debian-oci. The registry,
# dockerd and every store live in a temp dir and are stopped by pid at exit.
set -euo pipefail
RUNS=${1:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BERTH=${BERTH:-$SRC/build/src/cli/berth}
CACHE=/var/cache/berth-tests
LAYOUT=$CACHE/bench-debian-oci
[ -x "$BERTH" ] || { echo "bench: build first (no $BERTH)" >&2; exit 1; }
for t in hyperfine skopeo jq /usr/bin/docker-registry; do
	command -v "$t" >/dev/null || { echo "bench: needs $t (contrib/deps.sh bench)" >&2; exit 1; }
done

source "$SRC/tests/lib/start-registry.sh"
source "$SRC/tests/lib/start-dockerd.sh"
source "$SRC/tests/lib/image-fixtures.sh"
BERTH_SOURCE_ROOT=$SRC source "$SRC/tests/system/helpers.bash"

WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/berth-bench-pull.XXXXXX")
cleanup() {
	dockerd_stop "$WORK/dockerd" >/dev/null 2>&1 || true
	registry_stop "$WORK/registry" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# The image: the Debian root split as a real image would be.
if [ ! -s "$LAYOUT/index.json" ]; then
	echo "making the Debian image (once) in $LAYOUT"
	root=$(debian_rootfs)
	stage=$WORK/stage
	mkdir -p "$stage"/{base,usr,var,app}
	(cd "$root" && tar --exclude='./usr' --exclude='./var' --exclude='./debian-bookworm.tmp.*' -cf - .) |
		tar -C "$stage/base" -xf -
	cp -a "$root/usr" "$stage/usr/"
	cp -a "$root/var" "$stage/var/"
	mkdir -p "$stage/app/opt/app" && head -c 20000000 /dev/urandom >"$stage/app/opt/app/data"
	rm -rf "$LAYOUT.tmp"
	oci_layout "$LAYOUT.tmp" latest "$stage/base" "$stage/usr" "$stage/var" "$stage/app"
	mv "$LAYOUT.tmp" "$LAYOUT"
	rm -rf "$stage"
fi
size=$(jq '[.layers[].size] | add' "$LAYOUT/blobs/sha256/$(jq -r '.manifests[0].digest' "$LAYOUT/index.json" | cut -d: -f2)")

registry_start "$WORK/registry" plain >/dev/null
REF=$REGISTRY_ADDR/bench/debian:latest
skopeo_push "$LAYOUT" latest "$REF"
BERTH_RUNTIME=${BERTH_RUNTIME:-$SRC/build/src/cli/berth-runtime} dockerd_start "$WORK/dockerd" >/dev/null

policy=$WORK/policy.json
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"

echo "stores in $(df --output=fstype "$WORK" | tail -1) ($WORK)"
echo "image: $REF, 4 layers, $((size / 1000000)) MB compressed; runs per figure: $RUNS (medians)"
json=$WORK/pull.json
hyperfine -N --style none --runs "$RUNS" --export-json "$json" \
	--prepare "rm -rf $WORK/broot" \
	"$BERTH --root $WORK/broot pull -q $REF" \
	--prepare "$DOCKER rmi -f $REF" \
	"$DOCKER pull -q $REF" \
	--prepare "rm -rf $WORK/oci" \
	"skopeo --policy $policy copy -q --src-tls-verify=false docker://$REF oci:$WORK/oci:latest" \
	>"$WORK/hf.log" 2>&1 || { cat "$WORK/hf.log" >&2; exit 1; }
m() { jq -r ".results[$1].median" "$json"; }
b=$(m 0) d=$(m 1) s=$(m 2)
printf '%-34s berth %6.2f s   docker %6.2f s   ratio %.2f  (goal <= 0.50)\n' "pull into an empty store" "$b" "$d" "$(echo "$b / $d" | bc -l)"
printf '%-34s berth %6.2f s   skopeo %6.2f s   ratio %.2f  (goal <= 0.70)\n' "  vs skopeo copy to oci:" "$b" "$s" "$(echo "$b / $s" | bc -l)"

"$BERTH" --root "$WORK/broot2" pull -q "$REF" >/dev/null
hyperfine -N --style none --warmup 2 --runs $((RUNS * 4)) --export-json "$json" \
	"$BERTH --root $WORK/broot2 pull -q $REF" >"$WORK/hf.log" 2>&1 || { cat "$WORK/hf.log" >&2; exit 1; }
printf '%-34s berth %6.1f ms  (goal < 50 ms)\n' "second pull, all layers present" "$(echo "$(m 0) * 1000" | bc -l)"
