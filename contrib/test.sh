#!/bin/bash
# test.sh - the test suite, as the README gives it and CI runs it:
# install what is missing, build in ./build, run unit and system tests.
#
#   sudo ./contrib/test.sh [MESON_TEST_ARGS...]     e.g. --suite unit
#
# BUILD_DIR (default build) picks the build directory.
set -euo pipefail

cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: the system tests need root (namespaces, cgroups, mounts): run it with sudo" >&2
	exit 1
fi

source contrib/deps.sh
berth_install_deps build test

if [ ! -d "$BUILD_DIR/meson-private" ]; then
	meson setup "$BUILD_DIR"
fi
ninja -C "$BUILD_DIR"

# The Debian rootfs the system tests use, made once (about 30 s), before the
# tests so that no single test carries its cost.
BERTH_SOURCE_ROOT=$SRC bash -c 'source tests/system/helpers.bash && debian_rootfs >/dev/null'

meson test -C "$BUILD_DIR" --print-errorlogs "$@"
