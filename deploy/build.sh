#!/usr/bin/env bash
# Configures and builds cyclr into build/ (binaries in build/bin). Usage: deploy/build.sh [cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j "$jobs"
