#!/bin/bash
# image-fixtures.sh - test images made at run time, without Berth: plain
# tar, gzip, sha256sum and jq write an OCI image layout, and skopeo copies
# it to a registry. So what Berth pulls was made by other tools.
#
# Source it and call:
#   fixture_busybox_root DIR      a busybox-static root: /bin/busybox, /bin/sh
#                                 and a few applet links, /etc/passwd
#   oci_layout OUT TAG LAYERDIR...  an OCI layout at OUT holding one image
#                                 tagged TAG whose layers are the dirs, bottom
#                                 first (gzip); sets CONFIG_DIGEST,
#                                 MANIFEST_DIGEST and DIFF_IDS (array)
#   skopeo_push LAYOUT TAG DEST [skopeo copy options]
#                                 copy oci:LAYOUT:TAG to docker://DEST over
#                                 plain HTTP, no signature policy

_sha() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

fixture_busybox_root() {
	local d=$1 a
	mkdir -p "$d/bin" "$d/etc" "$d/tmp"
	cp /bin/busybox "$d/bin/busybox"
	for a in sh ls cat echo true false sleep id; do
		ln -sf busybox "$d/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$d/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
	chmod 1777 "$d/tmp"
}

oci_layout() {
	local out=$1 tag=$2
	shift 2
	mkdir -p "$out/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
	local layers="[]" diffs="[]" hist="[]" dir tmp dg
	DIFF_IDS=()
	tmp=$(mktemp -d)
	for dir in "$@"; do
		tar -C "$dir" --sort=name --mtime=@0 --numeric-owner \
			--xattrs -cf "$tmp/layer.tar" .
		DIFF_IDS+=("$(_sha "$tmp/layer.tar")")
		gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
		dg=$(_sha "$tmp/layer.tar.gz")
		mv "$tmp/layer.tar.gz" "$out/blobs/sha256/${dg#sha256:}"
		layers=$(jq -c --arg d "$dg" --argjson s "$(stat -c %s "$out/blobs/sha256/${dg#sha256:}")" \
			'. + [{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$d,size:$s}]' <<<"$layers")
		diffs=$(jq -c --arg d "${DIFF_IDS[-1]}" '. + [$d]' <<<"$diffs")
		hist=$(jq -c --arg b "ADD $(basename "$dir") /" '. + [{created:"2024-01-02T03:04:05Z",created_by:$b}]' <<<"$hist")
	done
	rm -rf "$tmp"
	jq -cn --argjson d "$diffs" --argjson h "$hist" \
		'{architecture:"amd64",os:"linux",created:"2024-01-02T03:04:05Z",
		  config:{Env:["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],Cmd:["/bin/sh"],Labels:{"org.berth.test":"yes"}},
		  rootfs:{type:"layers",diff_ids:$d},history:$h}' >"$out/config.json"
	CONFIG_DIGEST=$(_sha "$out/config.json")
	local csize
	csize=$(stat -c %s "$out/config.json")
	mv "$out/config.json" "$out/blobs/sha256/${CONFIG_DIGEST#sha256:}"
	jq -cn --arg c "$CONFIG_DIGEST" --argjson cs "$csize" --argjson l "$layers" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},layers:$l}' \
		>"$out/manifest.json"
	MANIFEST_DIGEST=$(_sha "$out/manifest.json")
	local msize
	msize=$(stat -c %s "$out/manifest.json")
	mv "$out/manifest.json" "$out/blobs/sha256/${MANIFEST_DIGEST#sha256:}"
	jq -cn --arg m "$MANIFEST_DIGEST" --argjson ms "$msize" --arg t "$tag" \
		'{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$m,size:$ms,
		  annotations:{"org.opencontainers.image.ref.name":$t}}]}' >"$out/index.json"
}

skopeo_push() {
	local layout=$1 tag=$2 dest=$3
	shift 3
	local policy
	policy=$(mktemp)
	echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
	skopeo --policy "$policy" copy -q --dest-tls-verify=false "$@" "oci:$layout:$tag" "docker://$dest"
	local rc=$?
	rm -f "$policy"
	return $rc
}
