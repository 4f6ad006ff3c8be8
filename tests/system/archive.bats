#!/usr/bin/env bats
# archive.bats - `berth import`, `save` and `load`, checked against the tools
# that write and read the same formats: a private dockerd (docker save / docker
# load, Debian's 20.10), skopeo (docker-archive: and oci: / oci-archive:) and
# umoci (unpack of an OCI layout). Bad archives fail with one line, exit 1,
# and leave the store as it was.

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth
LIB=$BATS_TEST_DIRNAME/../lib

setup_file() {
	source "$LIB/image-fixtures.sh"
	export FIX
	FIX=$(mktemp -d /tmp/berth-archive.XXXXXX)
	# The rootfs every test imports: busybox-static and its links, a setuid
	# file, an owned directory, a fifo, a hard link.
	fixture_busybox_root "$FIX/rootfs"
	mkdir -p "$FIX/rootfs/srv/data"
	echo hello >"$FIX/rootfs/srv/data/greeting"
	chmod 4755 "$FIX/rootfs/srv/data/greeting"
	ln "$FIX/rootfs/srv/data/greeting" "$FIX/rootfs/srv/data/hardlink"
	chown 1000:2000 "$FIX/rootfs/srv/data"
	mkfifo "$FIX/rootfs/srv/fifo"
	tar -C "$FIX/rootfs" --numeric-owner -cf "$FIX/rootfs.tar" .
	printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$FIX/policy.json"
}

teardown_file() {
	source "$LIB/start-dockerd.sh"
	[ -d "$FIX/dockerd" ] && dockerd_stop "$FIX/dockerd"
	rm -rf "$FIX"
}

setup() {
	T=$(mktemp -d /tmp/berth-archive-test.XXXXXX)
}

teardown() {
	rm -rf "$T"
}

b() {
	timeout 120 "$BERTH" --root "$T/root" --runroot "$T/run" --config "$T/cfg" "$@"
}

# The private dockerd, started by the first test that needs it. A dockerd
# that does not start fails the test (no silent skip).
dockerd() {
	source "$LIB/start-dockerd.sh"
	if [ ! -S "$FIX/dockerd/docker.sock" ]; then
		BERTH_RUNTIME=${BERTH_RUNTIME:-$BUILD/src/cli/berth-runtime} dockerd_start "$FIX/dockerd"
	fi
	export DOCKER_HOST="unix://$FIX/dockerd/docker.sock" DOCKER_CONFIG="$FIX/dockerd/client"
	DOCKER=/usr/bin/docker
}

# tree DIR: path, type and mode, owner, link target, size and sha256 of files.
tree() {
	(
		cd "$1"
		find . -mindepth 1 -printf '%P|%M|%U:%G|%l|' -exec sh -c '
			if [ -f "$1" ] && [ ! -L "$1" ]; then
				printf "%s|%s" "$(stat -c %s "$1")" "$(sha256sum <"$1" | cut -c1-64)"
			fi
			echo' sh {} \; | sort
	)
}

# state: what "nothing stored" means: the image list, the blobs, the layers,
# and an empty tmp/.
state() {
	b images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}'
	ls "$T/root/blobs/sha256" "$T/root/layers"
	[ -z "$(ls -A "$T/root/tmp")" ] || echo "tmp/ holds: $(ls -A "$T/root/tmp")"
}

# refused ARCHIVE PATTERN: berth load fails with one line matching PATTERN,
# exit 1, the store as it was.
refused() {
	local archive=$1 pat=$2
	state >"$T/before"
	run -1 --separate-stderr b load -i "$archive"
	echo "stderr: $stderr"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "berth: "* ]]
	echo "$stderr" | grep -qE -- "$pat"
	state >"$T/after"
	diff -u "$T/before" "$T/after"
}

# A store holding the imported busybox as test/bb:v1; its id in $ID.
import_bb() {
	run -0 b import -c 'CMD ["sh"]' -c 'ENV PATH=/bin' "$FIX/rootfs.tar" test/bb:v1
	ID=$output
}

@test "import: -c changes as docker import -c applies them, -m in history, sha256:<id> printed" {
	run -0 b import -m "from a tarball" \
		-c 'CMD ["sh", "-c", "echo hi"]' -c 'ENTRYPOINT /bin/env' \
		-c 'ENV A=1 B="two words"' -c 'ENV C=${A}x' -c 'ENV D e f' \
		-c 'EXPOSE 80 53/udp 8000-8001' -c 'LABEL org.x=y "sp ace"=z' \
		-c 'USER nobody' -c 'VOLUME ["/data"]' -c 'VOLUME /v1 /v2' \
		-c 'WORKDIR /srv' -c 'WORKDIR data' -c 'STOPSIGNAL SIGINT' \
		-c 'ONBUILD RUN echo built' "$FIX/rootfs.tar" test/bb:v1
	[[ $output =~ ^sha256:[0-9a-f]{64}$ ]]
	local id=$output
	run -0 b images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[ "$output" = "test/bb:v1 $id" ]
	run -0 b image inspect --format '{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Config.Env}}' test/bb:v1
	[ "$output" = '["sh","-c","echo hi"] ["/bin/sh","-c","/bin/env"] ["A=1","B=two words","C=1x","D=e f"]' ]
	run -0 b image inspect --format '{{json .Config.ExposedPorts}} {{json .Config.Labels}} {{.Config.User}}' test/bb:v1
	[ "$output" = '{"53/udp":{},"80/tcp":{},"8000/tcp":{},"8001/tcp":{}} {"org.x":"y","sp ace":"z"} nobody' ]
	run -0 b image inspect --format '{{json .Config.Volumes}} {{.Config.WorkingDir}} {{.Config.StopSignal}} {{json .Config.OnBuild}}' test/bb:v1
	[ "$output" = '{"/data":{},"/v1":{},"/v2":{}} /srv/data SIGINT ["RUN echo built"]' ]
	run -0 b image inspect --format '{{.Os}}/{{.Architecture}} {{.Comment}} {{len .RootFS.Layers}}' test/bb:v1
	[ "$output" = "linux/amd64 from a tarball 1" ]
	# The layer is the tarball itself: its DiffID is the tar's sha256.
	run -0 b image inspect --format '{{index .RootFS.Layers 0}}' test/bb:v1
	[ "$output" = "sha256:$(sha256sum <"$FIX/rootfs.tar" | cut -c1-64)" ]
	run -0 b image history --format '{{.Comment}}' test/bb:v1
	[ "$output" = "from a tarball" ]
}

@test "import: from stdin, gzip and zstd give the same layer; untagged without a name" {
	local diff="sha256:$(sha256sum <"$FIX/rootfs.tar" | cut -c1-64)"
	run -0 b import - <"$FIX/rootfs.tar"
	local plain=$output
	run -0 b image inspect --format '{{index .RootFS.Layers 0}} {{.Comment}} {{json .RepoTags}}' "$plain"
	[ "$output" = "$diff Imported from - []" ]
	gzip -c "$FIX/rootfs.tar" >"$T/r.tar.gz"
	zstd -q -c "$FIX/rootfs.tar" >"$T/r.tar.zst"
	run -0 b import "$T/r.tar.gz" gz:1
	run -0 b import - zst:1 <"$T/r.tar.zst"
	run -0 b image inspect --format '{{index .RootFS.Layers 0}}' gz:1 zst:1
	[ "${lines[0]}" = "$diff" ]
	[ "${lines[1]}" = "$diff" ]
	# one unpacked layer serves all three
	[ "$(ls "$T/root/layers" | wc -l)" -eq 1 ]
}

@test "import: a change docker import refuses, or input that is no tar, is one line and nothing stored" {
	import_bb
	state >"$T/before"
	run -1 --separate-stderr b import -c 'RUN echo no' "$FIX/rootfs.tar" x:1
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"RUN is not a valid change command"* ]]
	run -1 --separate-stderr b import -c 'EXPOSE 70000' "$FIX/rootfs.tar" x:1
	[[ $stderr == *"invalid containerPort: 70000"* ]]
	echo "just text, no tar" >"$T/notatar"
	run -1 --separate-stderr b import "$T/notatar" x:1
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "berth: import: the input is not a tar archive"* ]]
	state >"$T/after"
	diff -u "$T/before" "$T/after"
}

@test "berth save | docker load: docker's image id is berth's, tags and config kept" {
	dockerd
	import_bb
	run -0 b import -c 'CMD ["true"]' "$FIX/rootfs.tar" test/other:v2
	local other=$output
	b save test/bb:v1 test/other >"$T/s.tar"
	run -0 timeout 120 "$DOCKER" load -i "$T/s.tar"
	echo "$output"
	[ "${lines[0]}" = "Loaded image: test/bb:v1" ]
	[ "${lines[1]}" = "Loaded image: test/other:v2" ]
	run -0 "$DOCKER" image inspect --format '{{.Id}} {{json .Config.Cmd}}' test/bb:v1 test/other:v2
	[ "${lines[0]}" = "$ID [\"sh\"]" ]
	[ "${lines[1]}" = "$other [\"true\"]" ]
	"$DOCKER" rmi test/bb:v1 test/other:v2 >/dev/null
	# gzip layers (as pulled) are inflated into layer.tar, DiffID for DiffID
	source "$LIB/image-fixtures.sh"
	oci_layout "$T/gz" v1 "$FIX/rootfs"
	jq -c '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "test/gz:v1"' \
		"$T/gz/index.json" >"$T/index.json"
	cp "$T/index.json" "$T/gz/index.json"
	run -0 b load -i "$T/gz"
	b save test/gz:v1 >"$T/gz.tar"
	local layer
	layer=$(tar xOf "$T/gz.tar" manifest.json | jq -r '.[0].Layers[0]')
	[ "sha256:$(tar xOf "$T/gz.tar" "$layer" | sha256sum | cut -c1-64)" = "${DIFF_IDS[0]}" ]
	run -0 timeout 120 "$DOCKER" load -i "$T/gz.tar"
	[ "$("$DOCKER" image inspect --format '{{.Id}}' test/gz:v1)" = "$CONFIG_DIGEST" ]
	"$DOCKER" rmi test/gz:v1 >/dev/null
}

@test "docker save | berth load: same ids, all tags, shared layers as docker links them" {
	dockerd
	source "$LIB/start-dockerd.sh"
	"$DOCKER" image inspect berth-test/busybox >/dev/null 2>&1 || dockerd_import_busybox
	mkdir "$T/ctx"
	echo hi >"$T/ctx/f"
	printf 'FROM berth-test/busybox\nCOPY f /etc/f\nENV X=1\nCOPY f /srv/g\n' >"$T/ctx/Dockerfile"
	DOCKER_BUILDKIT=0 timeout 120 "$DOCKER" build -q -t berth-test/multi:1 "$T/ctx" >/dev/null
	"$DOCKER" tag berth-test/multi:1 berth-test/multi:2
	timeout 120 "$DOCKER" save berth-test/busybox berth-test/multi >"$T/d.tar"
	# docker writes the busybox layer once and links the other copy to it
	tar tvf "$T/d.tar" | grep -q '^l.*layer.tar -> \.\./'
	# through a pipe, gzip-compressed
	run -0 b load < <(gzip -c "$T/d.tar")
	echo "$output"
	[[ $output == *"Loaded image: berth-test/busybox:latest"* ]]
	[[ $output == *"Loaded image: berth-test/multi:1"* ]]
	[[ $output == *"Loaded image: berth-test/multi:2"* ]]
	local d
	for d in berth-test/busybox berth-test/multi:1 berth-test/multi:2; do
		[ "$(b image inspect --format '{{.Id}}' "$d")" = "$("$DOCKER" image inspect --format '{{.Id}}' "$d")" ]
	done
	[ "$(b image inspect --format '{{len .RootFS.Layers}}' berth-test/multi:1)" = 3 ]
	# And berth saves them as docker did: the same member names (v1 layer ids),
	# the same layer json files, the same repositories file.
	b save berth-test/busybox berth-test/multi >"$T/b.tar"
	diff <(tar tf "$T/d.tar" | sort) <(tar tf "$T/b.tar" | sort)
	local f
	for f in $(tar tf "$T/d.tar" | grep -E '/json$|^repositories$'); do
		cmp <(tar xOf "$T/d.tar" "$f") <(tar xOf "$T/b.tar" "$f")
	done
	"$DOCKER" rmi berth-test/multi:1 berth-test/multi:2 >/dev/null
}

@test "skopeo's OCI layout (a directory, a tar of it, oci-archive:) loads; a tag-only ref.name loads untagged" {
	import_bb
	b save test/bb:v1 >"$T/s.tar"
	skopeo --policy "$FIX/policy.json" copy -q "docker-archive:$T/s.tar" "oci:$T/layout:mytag"
	local cfg
	cfg=$(jq -r '.manifests[0].digest' "$T/layout/index.json")
	cfg=$(jq -r .config.digest "$T/layout/blobs/sha256/${cfg#sha256:}")
	mkdir "$T/r1"
	# skopeo's oci: names the image by its tag alone: no repository, so untagged
	run -0 timeout 60 "$BERTH" --root "$T/r1" load -i "$T/layout"
	[ "$output" = "Loaded image ID: $cfg" ]
	tar -C "$T/layout" -cf "$T/layout.tar" .
	run -0 timeout 60 "$BERTH" --root "$T/r2" load -i "$T/layout.tar"
	[ "$output" = "Loaded image ID: $cfg" ]
	skopeo --policy "$FIX/policy.json" copy -q "docker-archive:$T/s.tar" \
		"oci-archive:$T/oa.tar:localhost:5000/x/y:z"
	run -0 timeout 60 "$BERTH" --root "$T/r3" load -i "$T/oa.tar"
	[ "$output" = "Loaded image: localhost:5000/x/y:z" ]
	run -0 timeout 60 "$BERTH" --root "$T/r3" images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[ "$output" = "localhost:5000/x/y:z $cfg" ]
}

@test "berth save --format oci: umoci unpacks the imported tree; berth loads it back with its tag" {
	import_bb
	b save --format oci -o "$T/o.tar" test/bb:v1
	mkdir "$T/oci"
	tar -C "$T/oci" -xf "$T/o.tar"
	jq -e '.manifests[0].annotations["org.opencontainers.image.ref.name"] == "v1"' "$T/oci/index.json"
	umoci unpack --image "$T/oci:v1" "$T/bundle" >/dev/null
	tree "$FIX/rootfs" >"$T/want"
	tree "$T/bundle/rootfs" >"$T/got"
	grep -q '^srv/data/greeting|-rwsr-xr-x|0:0||6|' "$T/got"
	grep -q '^srv/data|drwxr-xr-x|1000:2000|' "$T/got"
	grep -q '^srv/fifo|p' "$T/got"
	diff -u "$T/want" "$T/got"
	run -0 timeout 60 "$BERTH" --root "$T/r2" load -i "$T/o.tar"
	[ "$output" = "Loaded image: test/bb:v1" ]
	[ "$(timeout 60 "$BERTH" --root "$T/r2" image inspect --format '{{.Id}}' test/bb:v1)" = "$ID" ]
}

@test "save refuses a terminal; -o writes no file when a name is unknown" {
	import_bb
	run -1 --separate-stderr script -qec "$BERTH --root $T/root save test/bb:v1" /dev/null
	[[ $output == *"cowardly refusing to save to a terminal. Use the -o flag or redirect"* ]]
	run -1 --separate-stderr b save -o "$T/x.tar" test/bb:v1 nosuch:image
	[[ $stderr == *"No such image: nosuch:image"* ]]
	[ -z "$(ls -A "$T" | grep x.tar)" ]
}

@test "load refuses bad archives with one line, exit 1, and stores nothing" {
	import_bb
	b save test/bb:v1 >"$T/good.tar"
	b rmi test/bb:v1 >/dev/null
	mkdir "$T/x"
	tar -C "$T/x" -xf "$T/good.tar"
	local layer
	layer=$(jq -r '.[0].Layers[0]' "$T/x/manifest.json")

	echo "hello, no tar here" >"$T/notatar"
	refused "$T/notatar" "not a tar archive"
	refused /dev/null "the input is empty"
	head -c 1500000 "$T/good.tar" >"$T/truncated.tar"
	refused "$T/truncated.tar" "layer.tar\": Truncated tar archive"

	jq -c '.[0].Layers[0] = "nope/layer.tar"' "$T/x/manifest.json" >"$T/m.json"
	cp -a "$T/x" "$T/missing"
	cp "$T/m.json" "$T/missing/manifest.json"
	tar -C "$T/missing" -cf "$T/missing.tar" .
	refused "$T/missing.tar" 'manifest.json: layer: "nope/layer.tar" is not in the archive'

	python3 - "$T/good.tar" "$T/dotdot.tar" <<-'EOF'
		import io, sys, tarfile
		with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
		    for m in src.getmembers():
		        dst.addfile(m, src.extractfile(m) if m.isfile() else None)
		    evil = tarfile.TarInfo("../x")
		    evil.size = 4
		    dst.addfile(evil, io.BytesIO(b"evil"))
	EOF
	refused "$T/dotdot.tar" 'archive member "\.\./x": "\.\." leaves the archive'

	cp -a "$T/x" "$T/diff"
	echo extra >"$T/extra"
	tar -C "$T" -rf "$T/diff/$layer" extra
	tar -C "$T/diff" -cf "$T/diff.tar" .
	refused "$T/diff.tar" "layer \"$layer\": its content has DiffID sha256:[0-9a-f]{64}, the image config .* says sha256:"

	# A compressed layer is checked only when it is unpacked: what was
	# stored by then is taken back.
	source "$LIB/image-fixtures.sh"
	oci_layout "$T/oci" v1 "$FIX/rootfs"
	local cfgfile="$T/oci/blobs/sha256/${CONFIG_DIGEST#sha256:}"
	jq -c '.rootfs.diff_ids[0] = "sha256:" + ("0" * 64)' "$cfgfile" >"$T/cfg.json"
	local cd md
	cd="sha256:$(sha256sum <"$T/cfg.json" | cut -c1-64)"
	cp "$T/cfg.json" "$T/oci/blobs/sha256/${cd#sha256:}"
	jq -c --arg d "$cd" --argjson s "$(stat -c %s "$T/cfg.json")" '.config.digest = $d | .config.size = $s' \
		"$T/oci/blobs/sha256/${MANIFEST_DIGEST#sha256:}" >"$T/man.json"
	md="sha256:$(sha256sum <"$T/man.json" | cut -c1-64)"
	cp "$T/man.json" "$T/oci/blobs/sha256/${md#sha256:}"
	jq -c --arg d "$md" --argjson s "$(stat -c %s "$T/man.json")" \
		'.manifests[0].digest = $d | .manifests[0].size = $s | .manifests[0].annotations["org.opencontainers.image.ref.name"] = "bad/diff:v1"' \
		"$T/oci/index.json" >"$T/index.json"
	cp "$T/index.json" "$T/oci/index.json"
	tar -C "$T/oci" -cf "$T/ocidiff.tar" .
	refused "$T/ocidiff.tar" "DiffID"

	# and the good archive still loads
	run -0 b load -i "$T/good.tar"
	[ "$output" = "Loaded image: test/bb:v1" ]
}

@test "load: a name taken from another image is said as docker says it; the image's other names stay; a directory loads" {
	import_bb
	b save test/bb:v1 >"$T/s.tar"
	b tag test/bb:v1 keep:me
	run -0 b import -c 'CMD ["other"]' "$FIX/rootfs.tar" test/bb:v1
	local other=$output
	run -0 b load -i "$T/s.tar"
	[ "${lines[0]}" = "The image test/bb:v1 already exists, renaming the old one with ID $other to empty string" ]
	[ "${lines[1]}" = "Loaded image: test/bb:v1" ]
	run -0 b images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[[ $output == *"keep:me $ID"* ]]
	[[ $output == *"test/bb:v1 $ID"* ]]
	[[ $output == *"<none>:<none> $other"* ]]
	# an unpacked docker-archive is a directory berth load accepts
	mkdir "$T/dir"
	tar -C "$T/dir" -xf "$T/s.tar"
	run -0 timeout 60 "$BERTH" --root "$T/r2" load -i "$T/dir"
	[ "$output" = "Loaded image: test/bb:v1" ]
	[ "$(timeout 60 "$BERTH" --root "$T/r2" image inspect --format '{{.Id}}' test/bb:v1)" = "$ID" ]
}

@test "a load killed mid-stream leaves nothing once the next command opens the store" {
	# a layer over the size held in memory, so it is staged in tmp/
	mkdir -p "$T/big/srv"
	head -c 6000000 /dev/urandom >"$T/big/srv/blob"
	tar -C "$T/big" -cf "$T/big.tar" .
	run -0 b import "$T/big.tar" big:1
	b save big:1 >"$T/s.tar"
	b rmi big:1 >/dev/null
	state >"$T/before"
	mkfifo "$T/fifo"
	"$BERTH" --root "$T/root" load -i "$T/fifo" >/dev/null 2>&1 &
	local pid=$!
	# half the archive, the pipe kept open: the load is staging a member
	(head -c 3000000 "$T/s.tar" && exec sleep 30) >"$T/fifo" &
	local writer=$!
	local i
	for i in $(seq 1 100); do
		[ -n "$(ls -A "$T/root/tmp")" ] && break
		sleep 0.1
	done
	[ -n "$(ls -A "$T/root/tmp")" ]
	kill -9 "$pid"
	wait "$pid" || true
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
	state >"$T/after"
	diff -u "$T/before" "$T/after"
}

@test "an OCI index of several platforms: the host's manifest is loaded, the others need not be there" {
	source "$LIB/image-fixtures.sh"
	oci_layout "$T/oci" v1 "$FIX/rootfs"
	local msize
	msize=$(stat -c %s "$T/oci/blobs/sha256/${MANIFEST_DIGEST#sha256:}")
	jq -cn --arg m "$MANIFEST_DIGEST" --argjson s "$msize" '{schemaVersion:2,
		mediaType:"application/vnd.oci.image.index.v1+json",
		manifests:[
		  {mediaType:"application/vnd.oci.image.manifest.v1+json",digest:("sha256:" + ("1" * 64)),size:100,
		   platform:{os:"linux",architecture:"arm64",variant:"v8"}},
		  {mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$m,size:$s,
		   platform:{os:"linux",architecture:"amd64"}}]}' >"$T/idx.json"
	local idg
	idg="sha256:$(sha256sum <"$T/idx.json" | cut -c1-64)"
	cp "$T/idx.json" "$T/oci/blobs/sha256/${idg#sha256:}"
	jq -cn --arg d "$idg" --argjson s "$(stat -c %s "$T/idx.json")" '{schemaVersion:2,manifests:[
		{mediaType:"application/vnd.oci.image.index.v1+json",digest:$d,size:$s,
		 annotations:{"io.containerd.image.name":"docker.io/library/multi:1",
		              "org.opencontainers.image.ref.name":"1"}}]}' >"$T/oci/index.json"
	run -0 b load -i "$T/oci"
	[ "$output" = "Loaded image: multi:1" ]
	run -0 b image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}}' multi:1
	[ "$output" = "$CONFIG_DIGEST linux/amd64" ]
	# and no entry for the host: the error names what there is
	jq -c '.manifests |= map(select(.platform.architecture != "amd64"))' "$T/idx.json" >"$T/idx2.json"
	idg="sha256:$(sha256sum <"$T/idx2.json" | cut -c1-64)"
	cp "$T/idx2.json" "$T/oci/blobs/sha256/${idg#sha256:}"
	jq -c --arg d "$idg" --argjson s "$(stat -c %s "$T/idx2.json")" \
		'.manifests[0].digest = $d | .manifests[0].size = $s' "$T/oci/index.json" >"$T/i.json"
	cp "$T/i.json" "$T/oci/index.json"
	run -1 --separate-stderr b load -i "$T/oci"
	[[ $stderr == *"linux/amd64"*"linux/arm64/v8"* ]]
}
