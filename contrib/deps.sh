#!/bin/sh
# deps.sh - install everything Berth builds, tests and benchmarks with, from
# Debian 12's own packages. Idempotent; needs root and apt.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	meson ninja-build pkg-config gcc clang libclang-rt-14-dev \
	libseccomp-dev libcap-dev libjansson-dev libcmocka-dev \
	bats jq busybox-static debootstrap runc docker.io \
	iproute2 procps util-linux ca-certificates hyperfine time bc >/dev/null
