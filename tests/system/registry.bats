#!/usr/bin/env bats
# registry.bats - the registry client (src/image/registry.c) against a real
# docker-registry on loopback, with skopeo as the independent reader and
# writer, and against tests/lib/fake-registry.py for the failures a real
# registry does not make on demand (wrong bytes, dropped and stalled
# connections, 500s, redirects to a storage host, Bearer tokens).
#
# Every registry is started under this test's temp dir and stopped by pid in
# teardown; nothing listens anywhere but 127.0.0.1.

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
TOOL=${REGISTRY_TOOL:-$BUILD/tests/tools/registry-tool}
LIB=$BATS_TEST_DIRNAME/../lib

setup() {
	source "$LIB/start-registry.sh"
	TEST_TMP=$(mktemp -d /tmp/berth-registry.XXXXXX)
	FAKE_PID=
	REG_DIR=$TEST_TMP/registry
	printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$TEST_TMP/policy.json"
	[ -x "$TOOL" ] || { echo "registry-tool not built: $TOOL" >&2; return 1; }
}

teardown() {
	registry_stop "$REG_DIR"
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	rm -rf "$TEST_TMP"
}

sha() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
size() { stat -c %s "$1"; }

skopeo_() { skopeo --policy "$TEST_TMP/policy.json" "$@"; }

# make_image DIR: a one-layer OCI image as files: layer.tar.gz, config.json,
# manifest.json (its blobs' digests in $LAYER, $CONFIG).
make_image() {
	local d=$1
	mkdir -p "$d/root/etc"
	echo "hello from berth $RANDOM" >"$d/root/etc/greeting"
	head -c 100000 /dev/urandom >"$d/root/etc/noise"
	tar -C "$d/root" --sort=name --mtime=@0 --owner=0 --group=0 -cf "$d/layer.tar" .
	gzip -n -c "$d/layer.tar" >"$d/layer.tar.gz"
	LAYER=$(sha "$d/layer.tar.gz")
	jq -cn --arg diff "$(sha "$d/layer.tar")" \
		'{architecture:"amd64",os:"linux",config:{Cmd:["/bin/sh"]},rootfs:{type:"layers",diff_ids:[$diff]}}' \
		>"$d/config.json"
	CONFIG=$(sha "$d/config.json")
	jq -cn --arg c "$CONFIG" --argjson cs "$(size "$d/config.json")" \
		--arg l "$LAYER" --argjson ls "$(size "$d/layer.tar.gz")" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
		  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$l,size:$ls}]}' \
		>"$d/manifest.json"
}

# push_image ADDR REPO TAG DIR [tool options...]
push_image() {
	local addr=$1 repo=$2 tag=$3 d=$4
	shift 4
	"$TOOL" "$@" put-blob "$addr" "$repo" "$d/layer.tar.gz" &&
		"$TOOL" "$@" put-blob "$addr" "$repo" "$d/config.json" &&
		"$TOOL" "$@" put-manifest "$addr" "$repo" "$tag" "$d/manifest.json" \
			application/vnd.oci.image.manifest.v1+json
}

# start_fake MODE BLOB: fake-registry.py in the background; sets FAKE_ADDR.
start_fake() {
	mkdir -p "$TEST_TMP/fake"
	python3 "$LIB/fake-registry.py" "$TEST_TMP/fake" "$1" "$2" \
		</dev/null >"$TEST_TMP/fake/log" 2>&1 3>&- &
	FAKE_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$TEST_TMP/fake/port" ] && break
		sleep 0.1
	done
	[ -s "$TEST_TMP/fake/port" ] || {
		cat "$TEST_TMP/fake/log" >&2
		return 1
	}
	FAKE_ADDR=127.0.0.1:$(cat "$TEST_TMP/fake/port")
}

blob_gets() { grep -c '^GET /v2/.*/blobs/' "$TEST_TMP/fake/requests"; }

@test "push with berth, read back with skopeo inspect and skopeo copy" {
	registry_start "$REG_DIR" plain
	make_image "$TEST_TMP/img"
	run push_image "$REGISTRY_ADDR" berth/one v1 "$TEST_TMP/img"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "${lines[-1]}" = "$(sha "$TEST_TMP/img/manifest.json")" ]

	run skopeo_ inspect --tls-verify=false "docker://$REGISTRY_ADDR/berth/one:v1"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(jq -r .Digest <<<"$output")" = "$(sha "$TEST_TMP/img/manifest.json")" ]
	[ "$(jq -r '.Layers[0]' <<<"$output")" = "$LAYER" ]

	run skopeo_ copy --src-tls-verify=false "docker://$REGISTRY_ADDR/berth/one:v1" "dir:$TEST_TMP/out"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	cmp "$TEST_TMP/out/manifest.json" "$TEST_TMP/img/manifest.json"
	cmp "$TEST_TMP/out/${LAYER#sha256:}" "$TEST_TMP/img/layer.tar.gz"
	cmp "$TEST_TMP/out/${CONFIG#sha256:}" "$TEST_TMP/img/config.json"

	# and berth reads its own push: manifest by tag and by digest, blobs
	"$TOOL" get-manifest "$REGISTRY_ADDR" berth/one v1 >"$TEST_TMP/m"
	cmp "$TEST_TMP/m" "$TEST_TMP/img/manifest.json"
	run "$TOOL" head-manifest "$REGISTRY_ADDR" berth/one v1
	[ "$output" = "$(sha "$TEST_TMP/img/manifest.json") application/vnd.oci.image.manifest.v1+json" ]
	"$TOOL" get-manifest "$REGISTRY_ADDR" berth/one "$(sha "$TEST_TMP/img/manifest.json")" >"$TEST_TMP/m2"
	cmp "$TEST_TMP/m2" "$TEST_TMP/img/manifest.json"
	"$TOOL" get-blob "$REGISTRY_ADDR" berth/one "$LAYER" "$(size "$TEST_TMP/img/layer.tar.gz")" >"$TEST_TMP/l"
	cmp "$TEST_TMP/l" "$TEST_TMP/img/layer.tar.gz"
}

@test "pull what skopeo pushed (Docker schema 2)" {
	registry_start "$REG_DIR" plain
	make_image "$TEST_TMP/img"
	mkdir -p "$TEST_TMP/dir"
	cp "$TEST_TMP/img/manifest.json" "$TEST_TMP/dir/manifest.json"
	cp "$TEST_TMP/img/layer.tar.gz" "$TEST_TMP/dir/${LAYER#sha256:}"
	cp "$TEST_TMP/img/config.json" "$TEST_TMP/dir/${CONFIG#sha256:}"
	echo 'Directory Transport Version: 1.1' >"$TEST_TMP/dir/version"
	run skopeo_ copy --format v2s2 --dest-tls-verify=false "dir:$TEST_TMP/dir" \
		"docker://$REGISTRY_ADDR/skopeo/pushed:v2"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	skopeo_ inspect --raw --tls-verify=false "docker://$REGISTRY_ADDR/skopeo/pushed:v2" >"$TEST_TMP/raw"

	run "$TOOL" head-manifest "$REGISTRY_ADDR" skopeo/pushed v2
	[ "$status" -eq 0 ]
	[ "$output" = "$(sha "$TEST_TMP/raw") application/vnd.docker.distribution.manifest.v2+json" ]
	"$TOOL" get-manifest "$REGISTRY_ADDR" skopeo/pushed v2 >"$TEST_TMP/m"
	cmp "$TEST_TMP/m" "$TEST_TMP/raw"
	local d s
	for d in $(jq -r '.config.digest, .layers[].digest' "$TEST_TMP/m"); do
		s=$(jq -r --arg d "$d" '[.config, .layers[]] | map(select(.digest == $d))[0].size' "$TEST_TMP/m")
		"$TOOL" get-blob "$REGISTRY_ADDR" skopeo/pushed "$d" "$s" >"$TEST_TMP/blob"
		[ "$(sha "$TEST_TMP/blob")" = "$d" ]
	done
	# an absent tag: head says absent, get says not found
	run "$TOOL" head-manifest "$REGISTRY_ADDR" skopeo/pushed nosuchtag
	[ "$status" -eq 1 ]
	run "$TOOL" get-manifest "$REGISTRY_ADDR" skopeo/pushed nosuchtag
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $REGISTRY_ADDR"*"404"*"[ENOENT]" ]]
}

@test "a blob over 32 MiB goes up in chunks and comes back intact" {
	registry_start "$REG_DIR" plain
	head -c $((40 * 1024 * 1024 + 12345)) /dev/urandom >"$TEST_TMP/big"
	run "$TOOL" put-blob "$REGISTRY_ADDR" big/blob "$TEST_TMP/big"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = "$(sha "$TEST_TMP/big")" ]
	# 16 MiB chunks: three PATCHes, then the PUT that names the digest
	[ "$(grep -c '"PATCH /v2/big/blob/blobs/uploads/' "$REG_DIR/registry.log")" -eq 3 ]
	run "$TOOL" exists "$REGISTRY_ADDR" big/blob "$(sha "$TEST_TMP/big")"
	[ "$output" = "$(size "$TEST_TMP/big")" ]
	"$TOOL" get-blob "$REGISTRY_ADDR" big/blob "$(sha "$TEST_TMP/big")" "$(size "$TEST_TMP/big")" >"$TEST_TMP/back"
	cmp "$TEST_TMP/back" "$TEST_TMP/big"
	# a second push finds the blob there and uploads nothing
	"$TOOL" put-blob "$REGISTRY_ADDR" big/blob "$TEST_TMP/big"
	[ "$(grep -c '"PATCH /v2/big/blob/blobs/uploads/' "$REG_DIR/registry.log")" -eq 3 ]
}

@test "cross-repository mount" {
	registry_start "$REG_DIR" plain
	head -c 5000 /dev/urandom >"$TEST_TMP/b"
	"$TOOL" put-blob "$REGISTRY_ADDR" src/repo "$TEST_TMP/b"
	run "$TOOL" exists "$REGISTRY_ADDR" dst/repo "$(sha "$TEST_TMP/b")"
	[ "$status" -eq 1 ]
	run "$TOOL" mount "$REGISTRY_ADDR" dst/repo "$(sha "$TEST_TMP/b")" src/repo
	[ "$status" -eq 0 ]
	[ "$output" = mounted ]
	run "$TOOL" exists "$REGISTRY_ADDR" dst/repo "$(sha "$TEST_TMP/b")"
	[ "$status" -eq 0 ]
	[ "$output" = 5000 ]
	# a blob the source does not have: the registry wants an upload
	head -c 10 /dev/urandom >"$TEST_TMP/c"
	run "$TOOL" mount "$REGISTRY_ADDR" dst/repo "$(sha "$TEST_TMP/c")" src/repo
	[ "$status" -eq 0 ]
	[ "$output" = upload ]
}

@test "basic auth: wrong password is a clear error naming the registry, right one works" {
	registry_start "$REG_DIR" htpasswd
	make_image "$TEST_TMP/img"
	run push_image "$REGISTRY_ADDR" auth/img v1 "$TEST_TMP/img" -u "$REGISTRY_USER" -p wrong
	[ "$status" -eq 2 ]
	[[ "$output" == "registry-tool: registry $REGISTRY_ADDR: "*"401 Unauthorized"*"wrong username or password"*"[EACCES]" ]]
	run "$TOOL" get-manifest "$REGISTRY_ADDR" auth/img v1
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $REGISTRY_ADDR"*"401"*"no credentials given"* ]]
	run "$TOOL" -u "$REGISTRY_USER" -p wrong login "$REGISTRY_ADDR"
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $REGISTRY_ADDR"*"401"* ]]

	run "$TOOL" -u "$REGISTRY_USER" -p "$REGISTRY_PASSWORD" login "$REGISTRY_ADDR"
	[ "$status" -eq 0 ]
	[ "$output" = "Login Succeeded" ]
	run push_image "$REGISTRY_ADDR" auth/img v1 "$TEST_TMP/img" -u "$REGISTRY_USER" -p "$REGISTRY_PASSWORD"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	"$TOOL" -u "$REGISTRY_USER" -p "$REGISTRY_PASSWORD" get-manifest "$REGISTRY_ADDR" auth/img v1 >"$TEST_TMP/m"
	cmp "$TEST_TMP/m" "$TEST_TMP/img/manifest.json"
	run skopeo_ inspect --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" \
		"docker://$REGISTRY_ADDR/auth/img:v1"
	[ "$status" -eq 0 ]
	[ "$(jq -r .Digest <<<"$output")" = "$(sha "$TEST_TMP/img/manifest.json")" ]
}

@test "TLS: the test CA in certs.d/<host:port> is trusted; without it, a certificate error" {
	registry_start "$REG_DIR" tls
	mkdir -p "$TEST_TMP/certs.d/$REGISTRY_ADDR"
	cp "$REGISTRY_CA" "$TEST_TMP/certs.d/$REGISTRY_ADDR/ca.crt"
	make_image "$TEST_TMP/img"
	run push_image "$REGISTRY_ADDR" tls/img v1 "$TEST_TMP/img" --certs-dir "$TEST_TMP/certs.d"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	"$TOOL" --certs-dir "$TEST_TMP/certs.d" get-blob "$REGISTRY_ADDR" tls/img "$LAYER" \
		"$(size "$TEST_TMP/img/layer.tar.gz")" >"$TEST_TMP/l"
	cmp "$TEST_TMP/l" "$TEST_TMP/img/layer.tar.gz"
	run skopeo_ inspect --cert-dir "$TEST_TMP/certs.d/$REGISTRY_ADDR" "docker://$REGISTRY_ADDR/tls/img:v1"
	[ "$status" -eq 0 ]
	[ "$(jq -r .Digest <<<"$output")" = "$(sha "$TEST_TMP/img/manifest.json")" ]

	# no CA: the certificate does not verify, and there is no fallback to http
	run "$TOOL" get-manifest "$REGISTRY_ADDR" tls/img v1
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $REGISTRY_ADDR"*"https://$REGISTRY_ADDR/v2/"*"certificate"*"[EPROTO]" ]]
	# a certs.d without this host's directory changes nothing
	mkdir -p "$TEST_TMP/other.d"
	run "$TOOL" --certs-dir "$TEST_TMP/other.d" get-manifest "$REGISTRY_ADDR" tls/img v1
	[ "$status" -eq 2 ]
	[[ "$output" == *"certificate"* ]]
	# listed as insecure: the certificate is not checked
	"$TOOL" --insecure "$REGISTRY_ADDR" get-manifest "$REGISTRY_ADDR" tls/img v1 >"$TEST_TMP/m"
	cmp "$TEST_TMP/m" "$TEST_TMP/img/manifest.json"
}

@test "wrong bytes or too many: -EBADMSG" {
	head -c 200000 /dev/urandom >"$TEST_TMP/blob"
	start_fake wrong "$TEST_TMP/blob"
	run "$TOOL" get-blob "$FAKE_ADDR" some/repo "$(sha "$TEST_TMP/blob")" 200000
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $FAKE_ADDR: blob $(sha "$TEST_TMP/blob")"*"content has digest"*"[EBADMSG]" ]]
	kill "$FAKE_PID"
	wait "$FAKE_PID" || true
	rm -rf "$TEST_TMP/fake"
	start_fake long "$TEST_TMP/blob"
	run "$TOOL" get-blob "$FAKE_ADDR" some/repo "$(sha "$TEST_TMP/blob")" 200000
	[ "$status" -eq 2 ]
	[[ "$output" == *"more data than the expected 200000 bytes"*"[EBADMSG]" ]]
	# a short size is a mismatch too
	run "$TOOL" get-blob "$FAKE_ADDR" some/repo "$(sha "$TEST_TMP/blob")" 200002
	[ "$status" -eq 2 ]
	[[ "$output" == *"[EBADMSG]" ]]
}

@test "500s: retried with back-off, then success; always 500: a clear error after bounded retries" {
	head -c 100000 /dev/urandom >"$TEST_TMP/blob"
	start_fake 500x3 "$TEST_TMP/blob"
	"$TOOL" get-blob "$FAKE_ADDR" r/x "$(sha "$TEST_TMP/blob")" 100000 >"$TEST_TMP/out"
	cmp "$TEST_TMP/out" "$TEST_TMP/blob"
	[ "$(blob_gets)" -eq 4 ]
	kill "$FAKE_PID"
	wait "$FAKE_PID" || true
	rm -rf "$TEST_TMP/fake"

	start_fake 500always "$TEST_TMP/blob"
	run "$TOOL" get-blob "$FAKE_ADDR" r/x "$(sha "$TEST_TMP/blob")" 100000
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $FAKE_ADDR: GET http://$FAKE_ADDR/v2/r/x/blobs/"*"HTTP 500"*"always broken (5 attempts)"* ]]
	[ "$(blob_gets)" -eq 5 ]
	# the budget is the caller's to set
	: >"$TEST_TMP/fake/requests"
	run "$TOOL" --retries 1 get-blob "$FAKE_ADDR" r/x "$(sha "$TEST_TMP/blob")" 100000
	[ "$status" -eq 2 ]
	[ "$(blob_gets)" -eq 2 ]
}

@test "a connection closed mid-blob resumes with Range; a registry that cannot resume is an error" {
	head -c 300000 /dev/urandom >"$TEST_TMP/blob"
	start_fake close-mid "$TEST_TMP/blob"
	"$TOOL" get-blob "$FAKE_ADDR" r/x "$(sha "$TEST_TMP/blob")" 300000 >"$TEST_TMP/out"
	cmp "$TEST_TMP/out" "$TEST_TMP/blob"
	grep -q "^GET /v2/r/x/blobs/.* bytes=150000- " "$TEST_TMP/fake/requests"
	[ "$(blob_gets)" -eq 2 ]
	kill "$FAKE_PID"
	wait "$FAKE_PID" || true
	rm -rf "$TEST_TMP/fake"

	start_fake norange "$TEST_TMP/blob"
	run "$TOOL" get-blob "$FAKE_ADDR" r/x "$(sha "$TEST_TMP/blob")" 300000
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $FAKE_ADDR"*"dropped after 150000 bytes and the registry cannot resume"* ]]
}

@test "a stalled transfer counts as dropped and resumes" {
	head -c 300000 /dev/urandom >"$TEST_TMP/blob"
	start_fake hang "$TEST_TMP/blob"
	BERTH_REGISTRY_STALL_TIMEOUT=1 "$TOOL" get-blob "$FAKE_ADDR" r/x "$(sha "$TEST_TMP/blob")" 300000 >"$TEST_TMP/out"
	cmp "$TEST_TMP/out" "$TEST_TMP/blob"
	grep -q "^GET /v2/r/x/blobs/.* bytes=150000- " "$TEST_TMP/fake/requests"
}

@test "a redirect to a storage host follows without the registry's credentials" {
	head -c 100000 /dev/urandom >"$TEST_TMP/blob"
	start_fake redirect "$TEST_TMP/blob"
	"$TOOL" -u someone -p secret get-blob "$FAKE_ADDR" r/x "$(sha "$TEST_TMP/blob")" 100000 >"$TEST_TMP/out"
	cmp "$TEST_TMP/out" "$TEST_TMP/blob"
	grep -q "^GET /v2/r/x/blobs/.* Basic$" "$TEST_TMP/fake/requests"
	grep -q "^GET /storage/.* -$" "$TEST_TMP/fake/requests"
}

@test "Bearer: a token for the repository's scope, fetched with the credentials" {
	head -c 1000 /dev/urandom >"$TEST_TMP/blob"
	mkdir -p "$TEST_TMP/fake"
	echo "alice:pw" >"$TEST_TMP/fake/creds"
	start_fake bearer "$TEST_TMP/blob"
	"$TOOL" -u alice -p pw get-blob "$FAKE_ADDR" org/app "$(sha "$TEST_TMP/blob")" 1000 >"$TEST_TMP/out"
	cmp "$TEST_TMP/out" "$TEST_TMP/blob"
	grep -q '^GET /token?service=fake-svc&scope=repository%3Aorg%2Fapp%3Apull - Basic$' "$TEST_TMP/fake/requests"
	grep -q "^GET /v2/org/app/blobs/.* Bearer$" "$TEST_TMP/fake/requests"
	run "$TOOL" -u alice -p pw login "$FAKE_ADDR"
	[ "$status" -eq 0 ]
	run "$TOOL" -u alice -p nope get-blob "$FAKE_ADDR" org/app "$(sha "$TEST_TMP/blob")" 1000
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry $FAKE_ADDR: token for repository:org/app:pull: GET http://$FAKE_ADDR/token?"*"401 Unauthorized"*"wrong username or password"*"[EACCES]" ]]
}

@test "an expired token is refreshed once and the request retried" {
	head -c 1000 /dev/urandom >"$TEST_TMP/blob"
	start_fake expire "$TEST_TMP/blob"
	# each token is good for two requests: 7 fetches need 4 tokens
	run "$TOOL" get-blob-many "$FAKE_ADDR" org/app "$(sha "$TEST_TMP/blob")" 1000 1 7
	[ "$status" -eq 0 ]
	[ "$output" = "ok 7" ]
	[ "$(grep -c '^GET /token' "$TEST_TMP/fake/requests")" -eq 4 ]
}

@test "one client, many threads: parallel downloads share connections and tokens" {
	registry_start "$REG_DIR" plain
	head -c 3000000 /dev/urandom >"$TEST_TMP/blob"
	"$TOOL" put-blob "$REGISTRY_ADDR" par/x "$TEST_TMP/blob"
	run "$TOOL" get-blob-many "$REGISTRY_ADDR" par/x "$(sha "$TEST_TMP/blob")" 3000000 8 5
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = "ok 40" ]

	start_fake bearer "$TEST_TMP/blob"
	run "$TOOL" get-blob-many "$FAKE_ADDR" org/app "$(sha "$TEST_TMP/blob")" 3000000 8 5
	[ "$status" -eq 0 ]
	[ "$output" = "ok 40" ]
	# the token is cached: at most one fetch per thread that raced the first
	[ "$(grep -c '^GET /token' "$TEST_TMP/fake/requests")" -le 8 ]
	[ "$(blob_gets)" -eq 40 ]
}

@test "docker.io names go to the mirror when one is set" {
	registry_start "$REG_DIR" plain
	make_image "$TEST_TMP/img"
	push_image "$REGISTRY_ADDR" library/busybox latest "$TEST_TMP/img"
	"$TOOL" --mirror "http://$REGISTRY_ADDR/" get-manifest docker.io library/busybox latest >"$TEST_TMP/m"
	cmp "$TEST_TMP/m" "$TEST_TMP/img/manifest.json"
	run "$TOOL" --mirror "ftp://$REGISTRY_ADDR" get-manifest docker.io library/busybox latest
	[ "$status" -eq 2 ]
	[[ "$output" == *"not an http:// or https:// URL"* ]]
}

@test "bad input: repository, reference and digest are checked before any request" {
	run "$TOOL" get-manifest 127.0.0.1:1 "bad repo" latest
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad repository name 'bad repo'"*"[EINVAL]" ]]
	run "$TOOL" get-blob 127.0.0.1:1 ok/repo sha256:nothex 10
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a sha256 digest"* ]]
	run "$TOOL" get-manifest "host/with/slash" r latest
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a host[:port]"* ]]
	# nothing listens there: a clear connection error after bounded retries
	run "$TOOL" --retries 1 get-manifest 127.0.0.1:1 ok/repo latest
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry 127.0.0.1:1: GET http"*"127.0.0.1:1/v2/"*"[ECONNREFUSED]" ]]
}
