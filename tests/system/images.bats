#!/usr/bin/env bats
# images.bats - `berth pull` and the image commands against a real
# docker-registry on loopback, with images made by tar/jq and pushed by
# skopeo (tests/lib/image-fixtures.sh), each test in its own --root.

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth
LIB=$BATS_TEST_DIRNAME/../lib

setup_file() {
	source "$LIB/start-registry.sh"
	source "$LIB/image-fixtures.sh"
	export FIX
	FIX=$(mktemp -d /tmp/berth-images.XXXXXX)
	registry_start "$FIX/registry" plain || return 1
	echo "$REGISTRY_ADDR" >"$FIX/addr"
	# base: busybox; app: busybox + a layer with a file, a whiteout and an
	# opaque dir; other: busybox + a different top layer (shares the base).
	fixture_busybox_root "$FIX/l1"
	mkdir -p "$FIX/l2/etc/app" "$FIX/l2/tmp"
	echo hello >"$FIX/l2/etc/app/greeting"
	chmod 4755 "$FIX/l2/etc/app/greeting"
	touch "$FIX/l2/bin/.wh.false" 2>/dev/null || { mkdir -p "$FIX/l2/bin" && touch "$FIX/l2/bin/.wh.false"; }
	touch "$FIX/l2/tmp/.wh..wh..opq"
	mkdir -p "$FIX/l3/srv"
	head -c 3000000 /dev/urandom >"$FIX/l3/srv/blob"
	oci_layout "$FIX/base" v1 "$FIX/l1" || return 1
	echo "$CONFIG_DIGEST" >"$FIX/base.id"
	oci_layout "$FIX/app" v1 "$FIX/l1" "$FIX/l2" || return 1
	echo "$CONFIG_DIGEST" >"$FIX/app.id"
	printf '%s\n' "${DIFF_IDS[@]}" >"$FIX/app.diffs"
	oci_layout "$FIX/other" v1 "$FIX/l1" "$FIX/l3" || return 1
	echo "$CONFIG_DIGEST" >"$FIX/other.id"
	skopeo_push "$FIX/base" v1 "$REGISTRY_ADDR/test/base:v1" || return 1
	skopeo_push "$FIX/app" v1 "$REGISTRY_ADDR/test/app:v1" || return 1
	skopeo_push "$FIX/app" v1 "$REGISTRY_ADDR/test/app-v2s2:v1" --format v2s2 || return 1
	skopeo_push "$FIX/other" v1 "$REGISTRY_ADDR/test/other:v1" || return 1
	skopeo_push "$FIX/base" v1 "$REGISTRY_ADDR/library/busybox:latest" || return 1
}

teardown_file() {
	source "$LIB/start-registry.sh"
	registry_stop "$FIX/registry"
	rm -rf "$FIX"
}

setup() {
	REG=$(cat "$FIX/addr")
	T=$(mktemp -d /tmp/berth-img-test.XXXXXX)
}

teardown() {
	if [ -d "$T/authreg" ]; then
		source "$LIB/start-registry.sh"
		registry_stop "$T/authreg"
	fi
	rm -rf "$T"
}

b() {
	timeout 120 "$BERTH" --root "$T/root" --runroot "$T/run" --config "$T/cfg" "$@"
}

@test "pull: docker's output, the image listed, its id the config digest" {
	run -0 b pull "$REG/test/app:v1"
	echo "$output"
	[[ ${lines[0]} == "v1: Pulling from test/app" ]]
	[[ $output == *": Pull complete"* ]]
	[[ $output == *"Digest: sha256:"* ]]
	[[ $output == *"Status: Downloaded newer image for $REG/test/app:v1"* ]]
	[ "${lines[-1]}" = "$REG/test/app:v1" ]
	local id
	id=$(cat "$FIX/app.id")
	run -0 b images --format '{{.Repository}} {{.Tag}} {{.ID}}'
	[ "$output" = "$REG/test/app v1 ${id:7:12}" ]
	run -0 b image inspect --format '{{.Id}} {{json .RootFS.Layers}} {{.Os}}/{{.Architecture}}' "$REG/test/app:v1"
	[ "$output" = "$id $(jq -cR . "$FIX/app.diffs" | jq -cs .) linux/amd64" ]
}

@test "pull: the layers are unpacked for overlayfs (modes, whiteouts, opaque dirs)" {
	run -0 b pull -q "$REG/test/app:v1"
	local lower top base
	lower=$(b image inspect --format '{{.GraphDriver.Data.LowerDir}}' "$REG/test/app:v1")
	top=${lower%%:*}
	base=${lower##*:}
	[ -x "$base/bin/busybox" ]
	cmp "$base/bin/busybox" /bin/busybox
	[ "$(readlink "$base/bin/sh")" = busybox ]
	[ "$(stat -c %a "$base/tmp")" = 1777 ]
	[ "$(stat -c %a "$top/etc/app/greeting")" = 4755 ]
	[ "$(cat "$top/etc/app/greeting")" = hello ]
	# .wh.false -> a 0:0 character device; .wh..wh..opq -> the opaque xattr
	[ "$(stat -c '%F %t:%T' "$top/bin/false")" = "character special file 0:0" ]
	[ ! -e "$top/bin/.wh.false" ]
	[ "$(getfattr --only-values -n trusted.overlay.opaque "$top/tmp")" = y ]
	# and overlayfs agrees: a merged view hides false and busybox is there
	mkdir "$T/merged" "$T/upper" "$T/work"
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$T/upper,workdir=$T/work" "$T/merged"
	[ -x "$T/merged/bin/busybox" ] && [ ! -e "$T/merged/bin/false" ] && [ -e "$T/merged/bin/true" ]
	local ok=$?
	umount "$T/merged"
	[ $ok -eq 0 ]
}

@test "pull again: nothing downloaded, 'Image is up to date'" {
	run -0 b pull "$REG/test/app:v1"
	run -0 b pull "$REG/test/app:v1"
	echo "$output"
	[[ $output == *"Already exists"* ]]
	[[ $output != *"Pull complete"* ]]
	[[ $output == *"Status: Image is up to date for $REG/test/app:v1"* ]]
}

@test "a Docker schema 2 image (skopeo --format v2s2) pulls to the same id" {
	run -0 b pull "$REG/test/app-v2s2:v1"
	run -0 b image inspect --format '{{.Id}}' "$REG/test/app-v2s2:v1"
	[ "$output" = "$(cat "$FIX/app.id")" ]
}

@test "layers shared between images are stored once; rmi frees what no image uses" {
	run -0 b pull -q "$REG/test/app:v1"
	run -0 b pull "$REG/test/other:v1"
	[[ $output == *"Already exists"* ]] # the busybox base layer
	[ "$(ls "$T/root/layers" | wc -l)" -eq 3 ]
	run -0 b rmi "$REG/test/app:v1"
	[[ $output == *"Untagged: $REG/test/app:v1"* ]]
	[[ $output == *"Deleted: $(cat "$FIX/app.id")"* ]]
	[ "$(ls "$T/root/layers" | wc -l)" -eq 2 ]
	run -0 b rmi "$REG/test/other:v1"
	[ "$(ls "$T/root/layers" | wc -l)" -eq 0 ]
	[ "$(ls "$T/root/blobs/sha256" | wc -l)" -eq 0 ]
	run -0 b images -q
	[ -z "$output" ]
	run -0 b system check
	[ "$output" = "0 problems found" ]
}

@test "tag and rmi: untag while other names remain; by id needs -f across repositories" {
	run -0 b pull -q "$REG/test/base:v1"
	run -0 b tag "$REG/test/base:v1" mybase:latest
	run -0 b tag mybase mybase:two
	run -0 b images --format '{{.Repository}}:{{.Tag}}'
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "$REG/test/base:v1 mybase:latest mybase:two " ]
	run -0 b rmi mybase:two
	[ "$output" = "Untagged: mybase:two" ]
	local id
	id=$(cat "$FIX/base.id")
	run -1 b rmi "${id:7:12}"
	[[ $output == *"conflict: unable to delete ${id:7:12} (must be forced) - image is referenced in multiple repositories"* ]]
	run -0 b rmi -f "${id:7:12}"
	[[ $output == *"Deleted: $id"* ]]
	run -1 b rmi nosuch:image
	[ "$output" = "Error: No such image: nosuch:image" ]
	run -1 b tag mybase "bad:tag@sha256:$(printf '%064d' 0)"
}

@test "images: -q, --digests, --filter dangling/reference/label, --no-trunc" {
	run -0 b pull -q "$REG/test/app:v1"
	run -0 b pull -q "$REG/test/base:v1"
	local app base
	app=$(cat "$FIX/app.id")
	base=$(cat "$FIX/base.id")
	run -0 b images -q
	[ "$(echo "$output" | sort)" = "$(printf '%s\n%s\n' "${app:7:12}" "${base:7:12}" | sort)" ]
	run -0 b images -q --no-trunc --filter "reference=*/test/app"
	[ "$output" = "$app" ]
	run -0 b images --digests
	[[ ${lines[0]} == "REPOSITORY"*"TAG"*"DIGEST"*"IMAGE ID"*"CREATED"*"SIZE" ]]
	[[ $output == *"sha256:"* ]]
	run -0 b images --filter label=org.berth.test=yes -q
	[ "$(echo "$output" | wc -l)" -eq 2 ]
	run -0 b images --filter label=org.berth.test=no -q
	[ -z "$output" ]
	run -0 b tag "$REG/test/base:v1" "$REG/test/base:v2"
	run -0 b pull -q "$REG/test/other:v1"
	run -0 b images --filter dangling=true -q
	[ -z "$output" ]
	run -1 b images --filter bogus=1
	[[ $output == *"invalid filter 'bogus'"* ]]
}

@test "pull by digest records the repo digest; image history and system df" {
	local dg
	dg=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/test/base:v1")
	run -0 b pull "$REG/test/base@$dg"
	run -0 b image inspect --format '{{json .RepoDigests}} {{json .RepoTags}}' "$REG/test/base@$dg"
	[ "$output" = "[\"$REG/test/base@$dg\"] []" ]
	run -0 b image history "$REG/test/base@$dg"
	[[ ${lines[0]} == "IMAGE"*"CREATED"*"CREATED BY"*"SIZE"*"COMMENT" ]]
	[[ ${lines[1]} == *"ADD l1 /"* ]]
	run -0 b system df
	[[ ${lines[1]} == "Images"*"1"*"0"* ]]
}

@test "docker.io names resolve through --registry-mirror" {
	run -0 b --registry-mirror "http://$REG" pull busybox
	[[ $output == *"Using default tag: latest"* ]]
	[[ $output == *"latest: Pulling from library/busybox"* ]]
	[ "${lines[-1]}" = "docker.io/library/busybox:latest" ]
	run -0 b images --format '{{.Repository}}:{{.Tag}}'
	[ "$output" = "busybox:latest" ]
	run -0 b image inspect --format '{{.Id}}' busybox
	[ "$output" = "$(cat "$FIX/base.id")" ]
}

@test "bad input: unknown image, unknown registry, bad reference; nothing stored" {
	run -1 b pull "$REG/test/nosuch:v1"
	echo "$output"
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == "berth: "*"test/nosuch"* ]]
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run -1 b pull "127.0.0.1:$port/x:y"
	[[ $output == "berth: "*"127.0.0.1:$port"* ]]
	run -1 b pull "Bad/Name"
	[[ $output == *"repository name must be lowercase"* ]]
	run -0 b images -q
	[ -z "$output" ]
	[ -z "$(ls "$T/root/blobs/sha256" 2>/dev/null)" ]
	[ -z "$(ls "$T/root/layers" 2>/dev/null)" ]
	[ -z "$(ls "$T/root/tmp" 2>/dev/null)" ]
}

@test "two pulls of overlapping images at once both succeed and share the base layer" {
	b pull -q "$REG/test/app:v1" >"$T/a.out" 2>&1 &
	local pa=$!
	b pull -q "$REG/test/other:v1" >"$T/b.out" 2>&1 &
	local pb=$!
	wait $pa || { cat "$T/a.out"; false; }
	wait $pb || { cat "$T/b.out"; false; }
	[ "$(ls "$T/root/layers" | wc -l)" -eq 3 ]
	run -0 b system check
	[ "$output" = "0 problems found" ]
}

@test "kill -9 during pull at random moments: the next pull succeeds and the store is consistent" {
	local i
	for i in $(seq 1 8); do
		rm -rf "$T/root"
		b pull -q "$REG/test/other:v1" >/dev/null 2>&1 &
		local pid=$!
		sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		run -0 b pull -q "$REG/test/other:v1"
		run -0 b system check
		echo "round $i: $output"
		[ "$output" = "0 problems found" ]
		[ -z "$(ls "$T/root/tmp")" ]
	done
}

@test "push: skopeo sees the digest berth reports; again: layers exist; another repository: mounted" {
	run -0 b pull -q "$REG/test/app:v1"
	run -0 b tag "$REG/test/app:v1" "$REG/pushed/app:v1"
	run -0 b push "$REG/pushed/app:v1"
	echo "$output"
	[ "${lines[0]}" = "The push refers to repository [$REG/pushed/app]" ]
	local dg
	dg=$(echo "$output" | sed -n 's/^v1: digest: \(sha256:[0-9a-f]*\) size: [0-9]*$/\1/p')
	[ -n "$dg" ]
	run -0 skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/pushed/app:v1"
	[ "$output" = "$dg" ]
	# the registry's copy is the image: pull it into a fresh store
	run -0 "$BERTH" --root "$T/root2" pull -q "$REG/pushed/app:v1"
	run -0 "$BERTH" --root "$T/root2" image inspect --format '{{.Id}}' "$REG/pushed/app:v1"
	[ "$output" = "$(cat "$FIX/app.id")" ]
	run -0 b push "$REG/pushed/app:v1"
	[[ $output == *": Layer already exists"* ]]
	[[ $output != *": Pushed"* ]]
	run -0 b tag "$REG/test/app:v1" "$REG/pushed/copy:v1"
	run -0 b push "$REG/pushed/copy:v1"
	echo "$output"
	[[ $output == *": Mounted from "* ]]
	run -1 b push "$REG/pushed/nosuch:v1"
	[[ $output == "berth: No such image: $REG/pushed/nosuch:v1" ]]
}

@test "login with --password-stdin, pull from a registry with basic auth, logout" {
	source "$LIB/start-registry.sh"
	registry_start "$T/authreg" htpasswd
	local areg=$REGISTRY_ADDR
	skopeo_push_auth() {
		local policy=$T/policy.json
		echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
		skopeo --policy "$policy" copy -q --dest-tls-verify=false \
			--dest-creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "oci:$FIX/base:v1" "docker://$areg/private/base:v1"
	}
	skopeo_push_auth
	run -1 b pull "$areg/private/base:v1"
	[[ $output == "berth: "*"$areg"* ]]
	run -1 b login -u "$REGISTRY_USER" --password-stdin "$areg" <<<"wrong"
	[[ $output == *"$areg"* ]]
	[ ! -e "$T/cfg/config.json" ]
	run -0 b login -u "$REGISTRY_USER" --password-stdin "$areg" <<<"$REGISTRY_PASSWORD"
	[ "$output" = "Login Succeeded" ]
	# Docker's file format: auths.<host>.auth = base64(user:password), mode 0600
	[ "$(jq -r --arg h "$areg" '.auths[$h].auth' "$T/cfg/config.json" | base64 -d)" = "$REGISTRY_USER:$REGISTRY_PASSWORD" ]
	[ "$(stat -c %a "$T/cfg/config.json")" = 600 ]
	run -0 b pull -q "$areg/private/base:v1"
	run -0 b logout "$areg"
	[ "$output" = "Removing login credentials for $areg" ]
	run -0 b logout "$areg"
	[ "$output" = "Not logged in to $areg" ]
}

@test "disk full during a pull: a clear error, nothing half-stored" {
	mkdir -p "$T/small"
	mount -t tmpfs -o size=3m tmpfs "$T/small"
	run -1 timeout 120 "$BERTH" --root "$T/small/root" pull "$REG/test/other:v1"
	echo "$output"
	[[ $output == *"No space left on device"* ]]
	[ -z "$(ls "$T/small/root/tmp")" ]
	[ -z "$(ls "$T/small/root/layers")" ]
	run timeout 60 "$BERTH" --root "$T/small/root" images -q
	local listed=$output
	umount "$T/small"
	[ -z "$listed" ]
}

@test "a config that is not JSON, a layer whose DiffID lies: refused, nothing stored" {
	local tool=$BUILD/tests/tools/registry-tool d=$T/bad
	mkdir -p "$d"
	echo 'this is not json' >"$d/config"
	local layer m
	m=$(jq -r '.manifests[0].digest' "$FIX/base/index.json")
	layer=$(jq -r '.layers[0].digest' "$FIX/base/blobs/sha256/${m#sha256:}")
	layer=${layer#sha256:}
	cp "$FIX/base/blobs/sha256/$layer" "$d/layer"
	"$tool" put-blob "$REG" bad/config "$d/layer"
	"$tool" put-blob "$REG" bad/config "$d/config"
	jq -cn --arg c "sha256:$(sha256sum "$d/config" | cut -d' ' -f1)" --argjson cs "$(stat -c %s "$d/config")" \
		--arg l "sha256:$layer" --argjson ls "$(stat -c %s "$d/layer")" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
		  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$l,size:$ls}]}' >"$d/manifest"
	"$tool" put-manifest "$REG" bad/config v1 "$d/manifest" application/vnd.oci.image.manifest.v1+json
	run -1 b pull "$REG/bad/config:v1"
	echo "$output"
	[ "${#lines[@]}" -eq 1 ] || [[ ${lines[-1]} == "berth: "* ]]
	[[ ${lines[-1]} == "berth: "*"JSON"* ]] || [[ ${lines[-1]} == "berth: "*"json"* ]]
	# a config whose diff_ids do not match the layer
	jq -cn '{architecture:"amd64",os:"linux",rootfs:{type:"layers",diff_ids:["sha256:'"$(printf '%064d' 0)"'"]}}' >"$d/config"
	"$tool" put-blob "$REG" bad/diff "$d/layer"
	"$tool" put-blob "$REG" bad/diff "$d/config"
	jq --arg c "sha256:$(sha256sum "$d/config" | cut -d' ' -f1)" --argjson cs "$(stat -c %s "$d/config")" \
		'.config.digest = $c | .config.size = $cs' "$d/manifest" >"$d/manifest2"
	"$tool" put-manifest "$REG" bad/diff v1 "$d/manifest2" application/vnd.oci.image.manifest.v1+json
	run -1 b pull "$REG/bad/diff:v1"
	echo "$output"
	[[ ${lines[-1]} == "berth: "*"DiffID"* ]]
	run -0 b images -q
	[ -z "$output" ]
	[ -z "$(ls "$T/root/layers")" ]
	[ -z "$(ls "$T/root/tmp")" ]
}

@test "image prune: dangling only, -a, label and until filters, and the space given back" {
	run -0 b pull -q "$REG/test/app:v1"
	run -0 b pull -q "$REG/test/base:v1"
	run -0 b image prune -f
	[[ $output == *"Total reclaimed space: 0B"* ]]
	[[ $output != *"deleted:"* ]]
	run -0 b image prune -a -f --filter label=org.berth.test=no
	[[ $output != *"deleted:"* ]]
	run -0 b image prune -a -f --filter until=2020-01-01
	[[ $output != *"deleted:"* ]] # the images were made in 2024
	run -0 b image prune -a -f --filter until=1h --filter label=org.berth.test
	echo "$output"
	[[ $output == *"deleted: $(cat "$FIX/app.id")"* ]]
	[[ $output == *"deleted: $(cat "$FIX/base.id")"* ]]
	[[ $output =~ Total\ reclaimed\ space:\ [1-9] ]]
	[ -z "$(ls "$T/root/layers")" ]
	[ -z "$(ls "$T/root/blobs/sha256")" ]
	run -125 b image prune -f --filter bogus=1
}

@test "pull on a terminal: per-layer progress lines redrawn in place" {
	run -0 timeout -s KILL 120 script -qec "$BERTH --root $T/root --runroot $T/run pull $REG/test/other:v1" /dev/null </dev/null
	echo "$output"
	# each layer has its own line, moved to with cursor-up escapes
	[[ $output == *$'\e['*A* ]]
	[[ $output == *": Pull complete"* ]]
	[[ $output == *"Status: Downloaded newer image for $REG/test/other:v1"* ]]
}

@test "the same image pulled under two names keeps both names and both repo digests" {
	run -0 b pull -q "$REG/test/app:v1"
	run -0 b pull -q "$REG/test/app-v2s2:v1"
	run -0 b image inspect --format '{{len .RepoTags}} {{len .RepoDigests}}' "$(cat "$FIX/app.id")"
	[ "$output" = "2 2" ]
	run -0 b images --format '{{.Repository}}:{{.Tag}}'
	[ "$(echo "$output" | sort | tr '\n' ' ')" = "$REG/test/app-v2s2:v1 $REG/test/app:v1 " ]
}
