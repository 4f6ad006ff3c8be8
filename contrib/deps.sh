#!/bin/bash
# deps.sh - the Debian 12 packages Berth needs, in one place.
#
# Sourced by contrib/test.sh, contrib/quickstart.sh and .ci/run:
#   berth_deps build|test|bench|quickstart   print that set of packages
#   berth_install_deps SET...                install what is missing (apt-get);
#                                            a no-op when all are installed

BERTH_DEPS_BUILD="meson ninja-build pkg-config gcc clang libclang-rt-14-dev libseccomp-dev libcap-dev libjansson-dev libssl-dev libarchive-dev libcurl4-openssl-dev libsqlite3-dev libzstd-dev zlib1g-dev libisal-dev libmnl-dev libnftables-dev"
BERTH_DEPS_TEST="libcmocka-dev bats jq busybox-static debootstrap runc docker.io containerd iproute2 procps util-linux nftables ca-certificates docker-registry skopeo umoci apache2-utils openssl attr"
BERTH_DEPS_BENCH="hyperfine time bc pigz isal iperf3"
BERTH_DEPS_QUICKSTART="busybox-static jq"

berth_deps() {
	local set
	for set in "$@"; do
		case $set in
		build) echo "$BERTH_DEPS_BUILD" ;;
		test) echo "$BERTH_DEPS_TEST" ;;
		bench) echo "$BERTH_DEPS_BENCH" ;;
		quickstart) echo "$BERTH_DEPS_QUICKSTART" ;;
		*) echo "deps.sh: unknown set '$set'" >&2; return 1 ;;
		esac
	done
}

berth_install_deps() {
	local pkgs missing=() p
	pkgs=$(berth_deps "$@") || return 1
	for p in $pkgs; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
