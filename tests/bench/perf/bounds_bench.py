"""Benchmark 5 (issue 13): do bounds from an LR range test pay off?

1. An LR range test through a coordinator: `cyclrctl lr-find --seed-repeats 3` on the cnn (2
   workers, batch 128, 1e-5 .. 10 over 200 steps), read with `lr-find get --half-cycle-epochs 2`.
2. Time to accuracy (tta_bench.train: standalone ranks, 10,000 test images) over `seeds` seeds,
   the same epoch budget for each: triangular2 and one-cycle with the probe's bounds, triangular2
   with the hand-picked bounds of tta_bench, the best constant LR of tta_bench's sweep (0.03), and
   cosine annealing from 0.1 to 0.0005 over the run (cosine-restarts with t0 = the run).
Reports per schedule: the epoch that first reached the target and the final accuracy, per seed and
their medians.
"""
import json
import statistics
import subprocess

from . import runner, tta_bench
from .coordinator import Coordinator

PROBE = ["--workers", "2", "--model", "cnn", "--dataset", "fashion-mnist", "--batch-size",
         str(tta_bench.BATCH), "--threads", "1", "--start-lr", "1e-5", "--end-lr", "10",
         "--steps", "200"]


def probe(log):
    c = Coordinator("bounds")
    try:
        r = subprocess.run(c.ctl("lr-find", "--name", "probe", *PROBE, "--seed-repeats", "3",
                                 "--follow"), capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise runner.BenchError(f"lr-find failed: {r.stderr}\n{r.stdout}")
        r = subprocess.run(c.ctl("lr-find", "get", "probe", "--half-cycle-epochs", "2",
                                 "--output", "json"), capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise runner.BenchError(f"lr-find get failed: {r.stderr}")
        got = json.loads(r.stdout)
        got.pop("points")
        log(f"  probe: rules {got['rules']}, bounds {got['base_lr']:.4g}..{got['max_lr']:.4g}, "
            f"step_size_up {got['step_size_up']}; {got['note']}")
        return got
    finally:
        c.stop()


def schedules(found, steps_per_epoch, epochs):
    total = str(steps_per_epoch * epochs)
    return {
        "triangular2, lr-find bounds": {
            "policy": "triangular2", "baseLr": found["base_lr"], "maxLr": found["max_lr"],
            "stepSizeUp": str(found["step_size_up"])},
        "one-cycle, lr-find max_lr": {
            "policy": "one-cycle", "maxLr": found["max_lr"], "totalSteps": total,
            "pctStart": 0.3, "baseMomentum": 0.85, "maxMomentum": 0.95},
        "triangular2, hand-picked": {
            "policy": "triangular2", "baseLr": 0.005, "maxLr": 0.1,
            "stepSizeUp": str(steps_per_epoch)},
        "constant 0.03": {"policy": "constant", "baseLr": 0.03},
        "cosine 0.1 to 0.0005": {
            "policy": "cosine-restarts", "maxLr": 0.1, "baseLr": 0.0005, "t0": total},
    }


def run(epochs=10, seeds=(1, 2, 3), log=print):
    found = probe(log)
    steps_per_epoch = 60000 // 2 // tta_bench.BATCH
    out = {"epochs": epochs, "seeds": list(seeds), "target": tta_bench.TARGET, "probe": found,
           "schedules": {}}
    for name, sched in schedules(found, steps_per_epoch, epochs).items():
        runs = []
        for seed in seeds:
            r = tta_bench.train(name, sched, epochs, 60000, 10000, epochs * 120 + 60, seed=seed)
            runs.append({"seed": seed, "epochs_to_target": r["epochs_to_target"],
                         "final_accuracy": r["curve"][-1]["accuracy"],
                         "best_accuracy": r["best_accuracy"],
                         "accuracy": [c["accuracy"] for c in r["curve"]]})
        hits = [x["epochs_to_target"] or epochs + 1 for x in runs]  # not reached = budget + 1
        finals = [x["final_accuracy"] for x in runs]
        out["schedules"][name] = {"schedule": sched, "runs": runs,
                                  "epochs_to_target_median": statistics.median(hits),
                                  "final_accuracy_median": statistics.median(finals)}
        log(f"  bounds {name}: epochs to {tta_bench.TARGET:.0%} {hits} (median "
            f"{statistics.median(hits)}), final {['%.4f' % f for f in finals]} (median "
            f"{statistics.median(finals):.4f})")
    return out


def rows(r):
    out = []
    for name, s in r["schedules"].items():
        hits = [x["epochs_to_target"] or f">{r['epochs']}" for x in s["runs"]]
        out.append(f"| {name} | {', '.join(map(str, hits))} (median "
                   f"{s['epochs_to_target_median']}) | "
                   f"{', '.join('%.4f' % x['final_accuracy'] for x in s['runs'])} (median "
                   f"{s['final_accuracy_median']:.4f}) |")
    return out
