#!/bin/bash
# Runs every benchmark of docs/performance.md and prints the table (about 25 minutes; --quick
# for a smoke run of a few minutes). Other flags go to bench.py (--only, --reps, --tta-epochs,
# --out). Needs build-main/bin/{cyclr-worker,cyclr-coordinator,cyclrctl} (or $CYCLR_BIN) and
# cyclr_loadgen, which this script builds in build-bench if it is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOADGEN="${CYCLR_LOADGEN:-$ROOT/build-bench/bench/cyclr_loadgen}"
if [[ ! -x "$LOADGEN" ]]; then
  cmake -S "$ROOT" -B "$ROOT/build-bench" -G Ninja -DCYCLR_BUILD_WORKER=OFF >/dev/null
  nice cmake --build "$ROOT/build-bench" -j2 --target cyclr_loadgen
fi
echo "$(date -Is) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Debian's python3 has torch; a python3 earlier on PATH may not.
exec /usr/bin/python3 "$ROOT/tests/bench/bench.py" "$@"
