#!/usr/bin/env bash
# Runs every cyclr test on a fresh machine: installs what is missing, builds, runs ctest (unit
# tests, tests against the real binaries, the end-to-end integration test), then the fuzz targets
# for a short while (tests/fuzz/run.sh; CYCLR_FUZZ_SECONDS per target, default 15).
# Usage: tests/run.sh [ctest args, e.g. -R schedule]
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --with-tests
deploy/build.sh -DCYCLR_BUILD_TESTS=ON
(cd build && ctest --output-on-failure --timeout 900 "$@")
# libFuzzer targets, 15 s each by default (docs/limits.md, "Fuzzing"); its own build-fuzz/.
tests/fuzz/run.sh --seconds "${CYCLR_FUZZ_SECONDS:-15}"
