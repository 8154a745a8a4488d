#!/usr/bin/env bash
# A/B of the CPU all-reduce inside training: cyclr-worker --standalone, 2 ranks as processes,
# 1 thread each, the benchmark mlp on synthetic data (the settings of tests/bench/perf/
# peer_bench.py), with shared memory (default) and with CYCLR_SHM=0 (plain Gloo), alternating.
#   tests/bench/shm_ab.sh [BIN_DIR (default build/bin)] [PAIRS (default 3)] [MODEL (default mlp)]
# Prints each run's steady samples/s per rank (the worker's "steady" line: after 10 warm-up steps,
# outside evaluations), averaged over the ranks.
set -euo pipefail
bin=${1:-build/bin}
pairs=${2:-3}
model=${3:-mlp}
steps=200
[ "$model" = cnn ] && steps=100
dir=$(mktemp -d /tmp/cyclr-shm-ab-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/spec.json" <<JSON
{"model": "$model", "dataset": "synthetic", "trainLimit": "$((steps * 128 * 2))",
 "testLimit": "200", "epochs": 1, "batchSize": 128, "momentum": 0.9, "seed": "1",
 "schedule": {"policy": "triangular2", "baseLr": 0.001, "maxLr": 0.05, "stepSizeUp": "50"}}
JSON

run() {  # $1: CYCLR_SHM value; prints the mean samples/s over both ranks
  local rdv="$dir/rdv-$RANDOM$RANDOM"
  mkdir -p "$rdv"
  for r in 0 1; do
    CYCLR_SHM=$1 "$bin/cyclr-worker" --standalone "$dir/spec.json" --rank $r --world-size 2 \
      --rendezvous-dir "$rdv" --threads 1 --log-dir "$dir/log$r" > "$dir/out$r" 2>&1 &
  done
  wait
  cat "$dir/out0" "$dir/out1" |
    sed -n 's/.* steady: .*, \([0-9.]*\) samples\/s.*/\1/p' |
    awk '{s += $1; n++} END {if (n != 2) {print "FAILED"; exit 1} printf "%.0f\n", s / n}'
}

echo "model $model, $steps steps/rank, load $(cut -d' ' -f1 /proc/loadavg)"
for p in $(seq "$pairs"); do
  echo "pair $p: shm $(run 1) samples/s/rank, gloo (CYCLR_SHM=0) $(run 0) samples/s/rank"
done
