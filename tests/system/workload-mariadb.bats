#!/usr/bin/env bats
# workload-mariadb.bats - a real service: MariaDB from Debian 12's packages
# in an image made the way a user without a builder would (a debootstrap
# rootfs through `berth import`, mariadb-server installed by `berth run`,
# the result kept with `berth commit`), run detached on a named volume,
# queried through `berth exec`, its data kept across `rm` and a new `run`,
# and stopped cleanly within the stop timeout.
#
# The image is made once and kept as a `berth save` archive in the test cache
# (/var/cache/berth-tests), as the Debian rootfs is.

bats_require_minimum_version 1.5.0

load helpers

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth
CACHE=${BERTH_TEST_CACHE:-/var/cache/berth-tests}

setup_file() {
	export WROOT WRUN WBRIDGE
	WROOT=$(mktemp -d /tmp/berth-mariadb.XXXXXX)
	WRUN=$WROOT/run
	WBRIDGE=bm$$
	local b=("$BERTH" --root "$WROOT/root" --runroot "$WRUN" --bridge "$WBRIDGE")
	if [ -f "$CACHE/mariadb-image.tar" ]; then
		"${b[@]}" load -q -i "$CACHE/mariadb-image.tar" >/dev/null || return 1
		return 0
	fi
	local rootfs
	rootfs=$(debian_rootfs) || return 1
	tar -C "$rootfs" -c . | "${b[@]}" import - berth-test/debian:12 >/dev/null || return 1
	"${b[@]}" run --name build --network host berth-test/debian:12 sh -c \
		'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -qq -y --no-install-recommends mariadb-server mariadb-client >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*' \
		>"$WROOT/build.log" 2>&1 || { cat "$WROOT/build.log" >&2; return 1; }
	"${b[@]}" commit -c 'CMD ["mariadbd", "--user=mysql"]' -c 'STOPSIGNAL SIGTERM' build berth-test/mariadb:10 >/dev/null || return 1
	"${b[@]}" rm build >/dev/null || return 1
	mkdir -p "$CACHE"
	"${b[@]}" save -o "$CACHE/mariadb-image.tar.tmp" berth-test/mariadb:10 &&
		mv "$CACHE/mariadb-image.tar.tmp" "$CACHE/mariadb-image.tar"
}

teardown_file() {
	b system reset -f >/dev/null 2>&1 || true
	awk -v t="$WROOT/" '$5 ~ "^"t {print $5}' /proc/self/mountinfo | sort -ru | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$WROOT"
}

b() {
	"$BERTH" --root "$WROOT/root" --runroot "$WRUN" --bridge "$WBRIDGE" "$@"
}

# mariadbd needs its socket directory, which Debian makes at boot.
start_db() {
	b run -d --name db -v dbdata:/var/lib/mysql berth-test/mariadb:10 \
		sh -c 'mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld && exec mariadbd --user=mysql --skip-networking'
}

wait_ready() {
	local i
	for i in $(seq 120); do
		b exec db mariadb -e 'SELECT 1' >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	b logs db >&2
	return 1
}

@test "mariadb: runs on a named volume, answers through exec, keeps its data, stops cleanly" {
	run -0 start_db
	wait_ready
	run -0 b exec db mariadb -e "CREATE DATABASE berth; CREATE TABLE berth.t (v TEXT); INSERT INTO berth.t VALUES ('kept across rm')"
	run -0 b exec db mariadb -N -e 'SELECT v FROM berth.t'
	[ "$output" = "kept across rm" ]
	# a clean shutdown on SIGTERM, well within the default 10 s timeout
	start=$(date +%s)
	run -0 b stop db
	[ $(($(date +%s) - start)) -lt 10 ]
	run -0 b inspect -f '{{.State.ExitCode}}' db
	[ "$output" = 0 ]
	run -0 b logs db
	[[ "$output" == *"Shutdown complete"* ]]
	run -0 b rm db
	run -0 start_db
	wait_ready
	run -0 b exec db mariadb -N -e 'SELECT v FROM berth.t'
	[ "$output" = "kept across rm" ]
	run -0 b rm -f db
	run -0 b volume rm dbdata
}
