"""Benchmark 1: cyclr-worker (standalone; shared-memory all-reduce on one host) against PyTorch DDP (gloo), same work.

Both: 2 ranks as processes, 1 intra-op thread each, synthetic 1x28x28 data, batch 128 per rank,
SGD momentum 0.9 with a triangular2 schedule applied every step, a 200-example test set
evaluated once at the end. The number compared is each side's own summary, samples/s per rank
over the same window (first step to end of the final evaluation, excluding process start-up,
data generation and the initial parameter broadcast). Repetitions run in ABBA order (cyclr, DDP,
bound, then bound, DDP, cyclr) so drifting machine load hits both sides alike; the ratio is taken
per pair, then the median.
Each repetition also runs the "no-communication bound": two independent world-size-1 cyclr
processes doing the same per-rank work side by side, the most any all-reduce could give back.
"""
import os
import re

from . import runner

STEPS = {"mlp": 800, "cnn": 200}  # per rank; about 7-9 s per run here with OpenBLAS
BATCH = 128
TEST_LIMIT = 200


def _train_limit(model, steps_scale):
    return int(STEPS[model] * steps_scale) * BATCH * 2


def cyclr_run(model, train_limit, timeout_s=120, solo=False):
    """Two ranks of one job; with `solo`, two independent world-size-1 jobs of the same per-rank
    work run side by side instead: the same compute with no communication (an upper bound)."""
    d = runner.fresh_dir("peer-cyclr")
    if solo:
        train_limit //= 2
    spec = runner.spec_json(
        os.path.join(d, "spec.json"), model=model, dataset="synthetic",
        trainLimit=str(train_limit), testLimit=str(TEST_LIMIT), epochs=1, batchSize=BATCH,
        momentum=0.9, seed="1",
        schedule={"policy": "triangular2", "baseLr": 0.001, "maxLr": 0.05, "stepSizeUp": "50"})
    worker = runner.binary("cyclr-worker")
    cmds = []
    for r in range(2):
        rdv = os.path.join(d, f"rdv{r if solo else ''}")
        os.makedirs(rdv, exist_ok=True)
        cmds.append([worker, "--standalone", spec, "--rank", "0" if solo else str(r),
                     "--world-size", "1" if solo else "2", "--rendezvous-dir", rdv,
                     "--threads", "1"])
    procs = runner.run_ranks(cmds, timeout_s)
    runner.remove(d)
    return _summary(procs, solo)


def ddp_run(model, train_limit, timeout_s=120):
    d = runner.fresh_dir("peer-ddp")
    cmds = [[runner.PYTHON, runner.DDP_PEER, "--model", model, "--train-limit", str(train_limit),
             "--test-limit", str(TEST_LIMIT), "--batch-size", str(BATCH), "--rank", str(r),
             "--world-size", "2", "--init-file", os.path.join(d, "init"), "--threads", "1"]
            for r in range(2)]
    procs = runner.run_ranks(cmds, timeout_s)
    runner.remove(d)
    return _summary(procs)


def _summary(procs, solo=False):
    text = "\n".join(p.text() for p in procs)
    if solo:  # both processes are rank 0 of their own job
        done = {i: v for i, p in enumerate(procs) for v in runner.parse_done(p.text()).values()}
    else:
        done = runner.parse_done(text)
    if sorted(done) != [0, 1]:
        raise runner.BenchError(f"expected a 'done' line from ranks 0 and 1, got:\n{text[-2000:]}")
    steady = runner.parse_steady(text)
    waits = [float(w) for w in re.findall(r"blocked per step: gradients ([\d.]+) ms", text)]
    blas = sorted(set(re.findall(r" blas (\S+)", text)))
    if not blas:
        raise runner.BenchError(f"no side named its BLAS:\n{text[-2000:]}")
    if "reference" in blas:
        raise runner.BenchError("refusing to report: the reference BLAS (netlib) was resolved, "
                                "~18x slower than an optimized one; install libopenblas0-openmp "
                                "(deploy/install-deps.sh does)")
    return {
        "blas": ",".join(blas),
        "steps": done[0][0],
        "samples_per_s": sum(v[3] for v in done.values()) / len(done),
        "steady_samples_per_s": sum(steady.values()) / len(steady) if steady else None,
        "gradient_wait_ms": sum(waits) / len(waits) if waits else 0.0,
    }


def run(reps=3, models=("mlp", "cnn"), steps_scale=1.0, log=print):
    results = {}
    for model in models:
        limit = _train_limit(model, steps_scale)
        rows = []
        for rep in range(reps):
            # ABBA: every other repetition runs in the reverse order, so a drift in the machine's
            # load favours neither side.
            order = ["cyclr", "ddp", "solo"] if rep % 2 == 0 else ["solo", "ddp", "cyclr"]
            got = {}
            for side in order:
                got[side] = (ddp_run(model, limit) if side == "ddp" else
                             cyclr_run(model, limit, solo=(side == "solo")))
            c, d, solo = got["cyclr"], got["ddp"], got["solo"]
            ratio = c["samples_per_s"] / d["samples_per_s"]
            rows.append({"cyclr": c, "ddp": d, "solo": solo, "ratio": ratio})
            log(f"  peer {model} rep {rep + 1}/{reps} (blas cyclr {c['blas']}, ddp {d['blas']}): "
                f"cyclr {c['samples_per_s']:.0f}, "
                f"ddp {d['samples_per_s']:.0f}, no-communication bound "
                f"{solo['samples_per_s']:.0f} samples/s per rank, ratio {ratio:.3f}, "
                f"cyclr blocked on gradients {c['gradient_wait_ms']:.2f} ms/step")
        results[model] = {
            "steps_per_rank": rows[0]["cyclr"]["steps"],
            "runs": rows,
            "cyclr_median": runner.median([r["cyclr"]["samples_per_s"] for r in rows]),
            "ddp_median": runner.median([r["ddp"]["samples_per_s"] for r in rows]),
            "ddp_steady_median": runner.median(
                [r["ddp"]["steady_samples_per_s"] for r in rows
                 if r["ddp"]["steady_samples_per_s"]]),
            "solo_median": runner.median([r["solo"]["samples_per_s"] for r in rows]),
            "ratio_median": runner.median([r["ratio"] for r in rows]),
            "bound_ratio_median": runner.median(
                [r["solo"]["samples_per_s"] / r["ddp"]["samples_per_s"] for r in rows]),
            "ratio_min": min(r["ratio"] for r in rows),
            "ratio_max": max(r["ratio"] for r in rows),
        }
    return results
