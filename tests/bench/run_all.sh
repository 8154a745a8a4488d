#!/bin/bash
# Runs every benchmark of docs/performance.md and prints the table (about 25 minutes; --quick
# for a smoke run of a few minutes). Other flags go to bench.py (--only, --reps, --tta-epochs,
# --out). Uses build/bin/{cyclr-worker,cyclr-coordinator,cyclrctl} (or $CYCLR_BIN) and
# build/bench/cyclr_loadgen (or $CYCLR_LOADGEN), and builds them with deploy/build.sh if missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${CYCLR_BIN:-$ROOT/build/bin}"
LOADGEN="${CYCLR_LOADGEN:-$ROOT/build/bench/cyclr_loadgen}"
if [[ ! -x "$LOADGEN" || ! -x "$BIN/cyclr-worker" ]]; then
  "$ROOT/deploy/build.sh" -DCYCLR_BUILD_BENCH=ON
fi
export CYCLR_BIN="$BIN" CYCLR_LOADGEN="$LOADGEN"
echo "$(date -Is) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Debian's python3 has torch; a python3 earlier on PATH may not.
exec /usr/bin/python3 "$ROOT/tests/bench/bench.py" "$@"
