#!/usr/bin/env bats
# cli.bats - the berth command line itself: help, usage errors, exit codes
# (docker's: 125 for bad usage).

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth

setup() {
	T=$(mktemp -d /tmp/berth-cli.XXXXXX)
}

teardown() {
	rm -rf "$T"
}

b() {
	"$BERTH" --root "$T/root" --runroot "$T/run" "$@"
}

@test "every command answers --help with its usage, and exits 0" {
	local c
	for c in pull push images rmi tag save load import login logout "image ls" "image rm" \
		"image inspect" "image history" "image prune" "image pull" "image push" "image tag" \
		"image save" "image load" "image import" "system df" "system check"; do
		run -0 b $c --help
		[[ ${lines[0]} == "Usage:  berth $c "* ]] || { echo "$c: $output"; false; }
	done
	run -0 b --help
	[[ $output == *"Management Commands:"* ]]
	run -0 b image --help
	[[ $output == *"Usage:  berth image COMMAND"* ]]
}

@test "bad usage exits 125 with docker's wording; nothing is created" {
	run -125 b nosuch
	[ "${lines[0]}" = "berth: 'nosuch' is not a berth command." ]
	run -125 b image nosuch
	[ "${lines[0]}" = "berth: 'image nosuch' is not a berth command." ]
	run -125 b images --bogus
	[ "${lines[0]}" = "berth images: unknown flag: --bogus" ]
	run -125 b tag onlyone
	[[ ${lines[0]} == *"requires exactly 2 arguments"* ]]
	run -125 b --bogus-global
	[[ ${lines[0]} == "unknown flag: --bogus-global" ]]
	[ ! -e "$T/root" ]
}

@test "--version" {
	run -0 b --version
	[[ $output == "Berth version "* ]]
}
