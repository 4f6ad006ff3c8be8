#!/usr/bin/env bats
# volumes.bats - `berth volume create|ls|inspect|rm|prune` as a docker user
# drives them, each test in its own --root and --runroot.

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth

setup() {
	T=$(mktemp -d /tmp/berth-vol-test.XXXXXX)
}

teardown() {
	rm -rf "$T"
}

b() {
	"$BERTH" --root "$T/root" --runroot "$T/run" "$@"
}

@test "volume create: prints the name, is idempotent, makes volumes/NAME/_data" {
	run -0 b volume create data
	[ "$output" = data ]
	echo hi >"$T/root/volumes/data/_data/f"
	run -0 b volume create data
	[ "$output" = data ]
	[ "$(cat "$T/root/volumes/data/_data/f")" = hi ]
	run -0 b volume create --name other
	[ "$output" = other ]
}

@test "volume create: no name makes an anonymous volume with a 64-hex name" {
	run -0 b volume create
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	[ -d "$T/root/volumes/$output/_data" ]
}

@test "volume create: docker's message for a bad name, nothing left behind" {
	run -1 b volume create ./rel
	[ "$output" = 'berth: create ./rel: "./rel" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path' ]
	run -0 b volume ls -q
	[ -z "$output" ]
}

@test "volume create: driver options are refused, not ignored; other drivers unknown" {
	run -1 b volume create -o type=tmpfs -o device=tmpfs t1
	[[ "$output" == *'create t1: volume option'*'not supported'* ]]
	run -125 b volume create -o novalue t2
	run -1 b volume create -d nfs t3
	[[ "$output" == *'plugin "nfs" not found'* ]]
	run -0 b volume ls -q
	[ -z "$output" ]
}

@test "volume inspect: docker's fields, -f templates, missing volume" {
	b volume create --label a=b --label c= v1
	run -0 b volume inspect v1
	echo "$output" | jq -e --arg root "$T/root" '
		length == 1 and (.[0] | keys == ["CreatedAt","Driver","Labels","Mountpoint","Name","Options","Scope"])
		and .[0].Driver == "local" and .[0].Scope == "local" and .[0].Name == "v1"
		and .[0].Labels == {"a":"b","c":""} and .[0].Options == {}
		and .[0].Mountpoint == ($root + "/volumes/v1/_data")
		and (.[0].CreatedAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$"))'
	run -0 b volume inspect -f '{{.Name}} {{.Driver}} {{.Labels.a}}' v1
	[ "$output" = "v1 local b" ]
	run -0 b volume inspect --format json v1
	echo "$output" | jq -e '.[0].Name == "v1"'
	run -1 b volume inspect v1 nope
	[[ "$output" == *"Error: no such volume: nope"* ]]
}

@test "volume ls: docker's columns, -q, filters, --format" {
	b volume create --label env=prod aa
	b volume create bb
	run -0 b volume ls
	[ "${lines[0]}" = "DRIVER    VOLUME NAME" ]
	[ "${lines[1]}" = "local     aa" ]
	[ "${lines[2]}" = "local     bb" ]
	run -0 b volume ls -q --filter label=env=prod
	[ "$output" = aa ]
	run -0 b volume ls -q --filter name=b
	[ "$output" = bb ]
	run -0 b volume ls -q --filter dangling=true
	[ "$output" = $'aa\nbb' ]
	run -0 b volume ls -q --filter dangling=false
	[ -z "$output" ]
	run -0 b volume ls -q --filter driver=local
	[ "$output" = $'aa\nbb' ]
	run -0 b volume ls --format '{{.Name}}:{{.Labels}}'
	[ "$output" = $'aa:env=prod\nbb:' ]
	run -0 b volume ls --format json
	[ "$(echo "${lines[0]}" | jq -r '.Name + " " + .Driver + " " + .Labels')" = "aa local env=prod" ]
	run -125 b volume ls --filter bogus=1
}

@test "volume rm: removes, reports missing, -f ignores missing" {
	b volume create gone
	run -0 b volume rm gone
	[ "$output" = gone ]
	[ ! -e "$T/root/volumes/gone" ]
	run -1 b volume rm gone
	[ "$output" = "berth: get gone: no such volume" ]
	run -0 b volume rm -f gone
}

@test "volume prune: anonymous only by default, -a for all, label filters, docker's output" {
	anon=$(b volume create)
	b volume create --label keep=1 named1
	b volume create named2
	echo 12345 >"$T/root/volumes/$anon/_data/f"
	run -0 b volume prune -f
	[ "$output" = "Deleted Volumes:
$anon

Total reclaimed space: 6B" ]
	run -0 b volume prune -a -f --filter label!=keep
	[ "$output" = "Deleted Volumes:
named2

Total reclaimed space: 0B" ]
	run -0 b volume prune -f
	[ "$output" = "Total reclaimed space: 0B" ]
	run -0 b volume ls -q
	[ "$output" = named1 ]
	# without -f it asks; "n" keeps everything
	run -0 b volume prune -a <<<"n"
	run -0 b volume ls -q
	[ "$output" = named1 ]
	run -0 b volume prune -a <<<"y"
	run -0 b volume ls -q
	[ -z "$output" ]
}

@test "volume: what a killed create or remove left is swept by the next command" {
	b volume create keep
	mkdir -p "$T/root/volumes/halfmade/_data" "$T/root/tmp/volume-0123456789abcdef/_data"
	run -0 b volume ls -q
	[ "$output" = keep ]
	[ ! -e "$T/root/volumes/halfmade" ]
	[ ! -e "$T/root/tmp/volume-0123456789abcdef" ]
	rm -rf "$T/root/volumes/keep"
	run -0 b volume ls -q
	[ -z "$output" ]
}

@test "volume --help lists the commands; volume ls --help its options" {
	run -0 b volume --help
	[[ "$output" == *"prune"*"Remove unused local volumes"* ]]
	run -0 b volume ls --help
	[[ "$output" == *"--filter"* ]]
}

@test "volume create: many berth processes creating one name at once make one volume" {
	b volume ls >/dev/null
	pids=()
	for i in $(seq 1 8); do
		b volume create same >"$T/out.$i" 2>&1 &
		pids+=($!)
	done
	# the pids: a bare wait would also wait for bats's own timeout watcher
	wait "${pids[@]}"
	for i in $(seq 1 8); do
		[ "$(cat "$T/out.$i")" = same ] || { cat "$T/out.$i"; false; }
	done
	run -0 b volume ls -q
	[ "$output" = same ]
	run -0 ls "$T/root/volumes"
	[ "$output" = same ]
}
