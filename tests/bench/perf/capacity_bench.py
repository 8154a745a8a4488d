"""Benchmark 3: coordinator capacity, with cyclr_loadgen (tests/bench/loadgen) on loopback.

1,000 simulated workers (20 jobs x 50, launcher external; a job allows at most 64 workers)
each send one ReportProgress with one StepReport every 100 ms, 100 WatchTimeline streams watch
one job, and 5 UpdateSchedule calls are spread over the measured window. The load generator
shares the machine's 2 cores with the coordinator; both CPU figures are printed. Two shapes:
16 client connections carrying all workers (a node agent multiplexing its workers), and one
connection per worker (what cyclr-worker does: each process opens its own channel).
"""
import os
import re

from . import runner
from .coordinator import Coordinator

RESULT_RE = re.compile(r"^RESULT (\S+) (\S+)$", re.M)


def run(duration_s=20, jobs=20, workers_per_job=50, rate_hz=10, watchers=100, channels=16,
        log=print):
    if not os.access(runner.LOADGEN, os.X_OK):
        raise runner.BenchError(f"{runner.LOADGEN} is missing: build target cyclr_loadgen "
                                "(see docs/performance.md)")
    coord = Coordinator("capacity")
    try:
        cmd = [runner.LOADGEN, "--coordinator", coord.address, "--coordinator-pid",
               str(coord.pid), "--jobs", str(jobs), "--workers-per-job", str(workers_per_job),
               "--rate-hz", str(rate_hz), "--watchers", str(watchers), "--updates", "5",
               "--duration-s", str(duration_s), "--channels", str(channels),
               "--token-file", coord.token_file]
        proc = runner.run_ranks([cmd], duration_s + 120)[0]
    finally:
        coord.stop()
    text = proc.text()
    results = {k: float(v) for k, v in RESULT_RE.findall(text)}
    results["summary"] = [l for l in text.splitlines() if not l.startswith("RESULT")]
    results["workers"] = jobs * workers_per_job
    results["watchers"] = watchers
    results["rate_hz"] = rate_hz
    results["duration_s"] = duration_s
    results["channels"] = channels
    for line in results["summary"]:
        log("  capacity: " + line)
    return results
