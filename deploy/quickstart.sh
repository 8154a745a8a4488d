#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, start a coordinator on
# loopback (state in .cyclr/state.db), launch a 2-worker job that trains the CNN on Fashion-MNIST
# with a triangular2 cyclic LR, and follow it until it ends. Jobs of this coordinator may use
# files under this folder (--allow-path-prefix: README's "Train your own model" writes here).
# Environment: CYCLR_PORT (7070), CYCLR_METRICS_PORT (9464), EPOCHS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh

port=${CYCLR_PORT:-7070}
metrics_port=${CYCLR_METRICS_PORT:-9464}
epochs=${EPOCHS:-3}
addr=127.0.0.1:$port
export CYCLR_COORDINATOR=$addr
mkdir -p .cyclr

if build/bin/cyclrctl jobs list >/dev/null 2>&1; then
  echo "quickstart: using the coordinator already listening on $addr"
else
  nohup build/bin/cyclr-coordinator --listen "$addr" --metrics "127.0.0.1:$metrics_port" \
    --state .cyclr/state.db --work-dir .cyclr --allow-path-prefix "$PWD" \
    >.cyclr/coordinator.log 2>&1 &
  echo "quickstart: started cyclr-coordinator (pid $!) on $addr, log .cyclr/coordinator.log"
  for _ in $(seq 1 50); do
    build/bin/cyclrctl jobs list >/dev/null 2>&1 && break
    sleep 0.2
  done
fi

name="quickstart-$(date +%Y%m%d-%H%M%S)"
# 30,000 examples per worker at batch 64: 468 steps per epoch; a cycle of 2 x 234 steps is one
# epoch, and triangular2 halves the amplitude every cycle.
status=0
build/bin/cyclrctl launch --name "$name" --workers 2 --model cnn --dataset fashion-mnist \
  --epochs "$epochs" --batch-size 64 --momentum 0.9 --weight-decay 5e-4 \
  --policy triangular2 --base-lr 0.005 --max-lr 0.05 --step-size-up 234 \
  --follow || status=$?
echo
echo "metrics:   http://127.0.0.1:$metrics_port/metrics (job=\"$name\")"
echo "timeline:  build/bin/cyclrctl schedule get $name"
echo "change it: build/bin/cyclrctl schedule set $name --policy triangular2 --base-lr 0.001 --max-lr 0.02 --step-size-up 234"
echo "worker logs: build/bin/cyclrctl logs $name --rank 0   (files in .cyclr/jobs/$name/)"
exit $status
