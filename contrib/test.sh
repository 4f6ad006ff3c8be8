#!/bin/sh
# test.sh - the whole test suite: install dependencies, build, run the unit
# (cmocka) and system (bats) tests through meson. Run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."
./contrib/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build
meson test -C build --print-errorlogs
