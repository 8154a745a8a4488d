"""Benchmark 2: control-plane overhead. The same mlp job runs standalone (no coordinator) and
through a live coordinator (launched with `cyclrctl launch --follow`, so the workers register,
rendezvous through the coordinator's store, report progress, hold a WatchTimeline stream, and
a follower streams WatchJob), with one `cyclrctl schedule set` issued a third of the way in.
Runs alternate (ABBA); the overhead is 1 - coordinated/standalone steady-state samples/s per pair,
then the median.
"""
import json
import re
import subprocess
import time

from . import peer_bench, runner
from .coordinator import Coordinator

STEP_RE = re.compile(r"step (\d+)/(\d+)")
SCHEDULE = ["--policy", "triangular2", "--base-lr", "0.001", "--max-lr", "0.05",
            "--step-size-up", "50"]


def coordinated_run(coord, name, train_limit, timeout_s=300):
    launch = coord.ctl("launch", "--name", name, "--workers", "2", "--model", "mlp",
                       "--dataset", "synthetic", "--train-limit", str(train_limit),
                       "--test-limit", str(peer_bench.TEST_LIMIT), "--epochs", "1",
                       "--batch-size", str(peer_bench.BATCH), "--threads", "1",
                       "--momentum", "0.9", "--seed", "1", *SCHEDULE, "--follow")
    follow = runner.Proc(launch)
    deadline = time.monotonic() + timeout_s
    set_at = _wait_for_progress(follow, deadline)
    changed = subprocess.run(
        coord.ctl("schedule", "set", name, "--policy", "triangular2", "--base-lr", "0.001",
                  "--max-lr", "0.03", "--step-size-up", "50", "--reason", "benchmark"),
        capture_output=True, text=True, timeout=30)
    if changed.returncode != 0:
        raise runner.BenchError(f"schedule set failed: {changed.stderr}")
    rc = follow.wait(deadline)
    if rc != 0:
        raise runner.BenchError(f"{' '.join(launch)} ended with {rc}:\n{follow.text()[-2000:]}")
    done = runner.parse_done(coord.worker_log(name, 0) + coord.worker_log(name, 1))
    if sorted(done) != [0, 1]:
        raise runner.BenchError(f"job {name}: no 'done' line from both ranks")
    steady = runner.parse_steady(coord.worker_log(name, 0) + coord.worker_log(name, 1))
    return {"samples_per_s": sum(v[3] for v in done.values()) / 2,
            "steady_samples_per_s": sum(steady.values()) / len(steady) if steady else None,
            "set_at_step": set_at, "applied_step": _applied_step(coord, name)}


def _wait_for_progress(follow, deadline):
    """Returns the global step once the follower shows a third of the steps done."""
    while time.monotonic() < deadline:
        for _, line in reversed(follow.lines):
            m = STEP_RE.search(line)
            if m and int(m.group(1)) * 3 >= int(m.group(2)):
                return int(m.group(1))
        if follow.p.poll() is not None:
            raise runner.BenchError(f"job ended before a third of its steps:\n{follow.text()}")
        time.sleep(0.05)
    raise runner.BenchError("no progress from the follower")


def _applied_step(coord, name):
    out = subprocess.run(coord.ctl("schedule", "get", name, "-o", "json"), capture_output=True,
                         text=True, timeout=30)
    revs = json.loads(out.stdout).get("revisions", [])
    if len(revs) < 2:
        raise runner.BenchError(f"job {name}: the schedule change is missing:\n{out.stdout}")
    rev = revs[-1]
    step = rev.get("applied_step", rev.get("appliedStep"))
    if step is None:
        raise runner.BenchError(f"job {name}: revision {rev} was never applied")
    return int(step)


def _throughput(result):
    """Steady-state samples/s per rank (after the warm-up steps, outside evaluation)."""
    return result["steady_samples_per_s"] or result["samples_per_s"]


def run(reps=3, steps=400, log=print):
    limit = steps * peer_bench.BATCH * 2
    coord = Coordinator("control")
    rows = []
    try:
        for rep in range(reps):
            # Which mode runs first alternates (ABBA), so a drift within a pair (the cores
            # warming, a periodic background task) does not always hit the same mode.
            if rep % 2 == 0:
                s = peer_bench.cyclr_run("mlp", limit)
                c = coordinated_run(coord, f"overhead-{rep}", limit)
            else:
                c = coordinated_run(coord, f"overhead-{rep}", limit)
                s = peer_bench.cyclr_run("mlp", limit)
            overhead = 1 - _throughput(c) / _throughput(s)
            rows.append({"standalone": s, "coordinated": c, "overhead": overhead,
                         "standalone_first": rep % 2 == 0})
            log(f"  control rep {rep + 1}/{reps} ({'standalone' if rep % 2 == 0 else 'coordinated'}"
                f" first): standalone {_throughput(s):.0f}, coordinated {_throughput(c):.0f} "
                f"steady samples/s per rank "
                f"(schedule set at step {c['set_at_step']}, applied at {c['applied_step']}), "
                f"overhead {100 * overhead:+.2f}%")
    finally:
        coord.stop()
    return {
        "steps_per_rank": steps,
        "runs": rows,
        "standalone_median": runner.median([_throughput(r["standalone"]) for r in rows]),
        "coordinated_median": runner.median([_throughput(r["coordinated"]) for r in rows]),
        "overhead_median": runner.median([r["overhead"] for r in rows]),
    }
