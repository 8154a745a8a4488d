#!/usr/bin/env bash
# The TorchScript path against the built-in model, and the cost of opening a large npy dataset.
#   tests/bench/script_bench.sh [BIN_DIR (default build/bin)] [PAIRS (default 3)]
# 1. The benchmark mlp (784-512-10, ReLU) built in (`model: mlp`) and the same layers scripted in
#    Python (`model_file`), cyclr-worker --standalone, 2 ranks, 1 thread each, synthetic data,
#    800 steps per rank, alternating (ABBA): each run's steady samples/s per rank.
# 2. An npy dataset of ~1 GB (uint8, 1,300,000 x 1 x 28 x 28) next to one of 10 MB: the worker's
#    "data: ... ready in X ms" line (headers checked, files mapped, labels copied) for each.
set -euo pipefail
bin=${1:-build/bin}
pairs=${2:-3}
dir=$(mktemp -d /tmp/cyclr-script-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
PY=/usr/bin/python3
$PY - "$dir" <<'PY'
import sys, torch
from torch import nn
torch.jit.script(nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(),
                               nn.Linear(512, 10))).save(sys.argv[1] + "/mlp.pt")
PY
schedule='"schedule": {"policy": "triangular2", "baseLr": 0.001, "maxLr": 0.05, "stepSizeUp": "50"}'
common='"dataset": "synthetic", "trainLimit": "204800", "testLimit": "200", "epochs": 1, "batchSize": 128, "momentum": 0.9, "seed": "1"'
echo "{\"model\": \"mlp\", $common, $schedule}" > "$dir/builtin.json"
echo "{\"modelFile\": \"$dir/mlp.pt\", $common, $schedule}" > "$dir/script.json"

run() {  # $1: spec; prints the mean steady samples/s over both ranks
  local rdv="$dir/rdv-$RANDOM$RANDOM"
  mkdir -p "$rdv"
  for r in 0 1; do
    "$bin/cyclr-worker" --standalone "$1" --rank $r --world-size 2 --rendezvous-dir "$rdv" \
      --threads 1 > "$dir/out$r" 2>&1 &
  done
  wait
  cat "$dir/out0" "$dir/out1" | sed -n 's/.* steady: .*, \([0-9.]*\) samples\/s.*/\1/p' |
    awk '{s += $1; n++} END {if (n != 2) {print "FAILED"; exit 1} printf "%.0f\n", s / n}'
}

echo "1. mlp built in vs TorchScript, load $(cut -d' ' -f1 /proc/loadavg)"
for p in $(seq "$pairs"); do
  if [ $((p % 2)) = 1 ]; then
    b=$(run "$dir/builtin.json"); s=$(run "$dir/script.json")
  else
    s=$(run "$dir/script.json"); b=$(run "$dir/builtin.json")
  fi
  echo "pair $p: built-in $b, TorchScript $s samples/s/rank ($(awk -v b="$b" -v s="$s" 'BEGIN {printf "%+.1f %%", 100 * (s - b) / b}'))"
done

echo "2. opening an npy dataset"
for n in 13000 1300000; do
  mkdir -p "$dir/npy$n"
  $PY - "$dir/npy$n" "$n" <<'PY'
import sys, numpy as np
d, n = sys.argv[1], int(sys.argv[2])
x = np.lib.format.open_memmap(d + "/train_x.npy", mode="w+", dtype=np.uint8, shape=(n, 1, 28, 28))
x[:] = np.random.default_rng(0).integers(0, 256, size=(1, 1, 28, 28), dtype=np.uint8)
x.flush()
np.save(d + "/train_y.npy", (np.arange(n) % 10).astype(np.int64))
PY
  sync
  echo "{\"modelFile\": \"$dir/mlp.pt\", \"dataset\": \"npy\", \"dataDir\": \"$dir/npy$n\", \"trainLimit\": \"2560\", \"epochs\": 1, \"batchSize\": 128, $schedule}" > "$dir/npy$n.json"
  mkdir -p "$dir/rdv-npy$n"
  size=$(du -b "$dir/npy$n/train_x.npy" | cut -f1)
  line=$("$bin/cyclr-worker" --standalone "$dir/npy$n.json" --rank 0 --world-size 1 \
    --rendezvous-dir "$dir/rdv-npy$n" --threads 1 | grep " data: ")
  echo "train_x.npy of $size bytes: ${line#rank 0 data: }"
  rm -rf "$dir/npy$n"
done
