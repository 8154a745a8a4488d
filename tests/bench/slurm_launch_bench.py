#!/usr/bin/env python3
"""What launching through Slurm costs: the same small job (mlp, 2,048 Fashion-MNIST samples,
1 epoch, 2 workers) launched with `cyclrctl launch --follow`, alternately `--scheduler local` and
`--scheduler slurm`, against a real Slurm on this host (munged, slurmctld, slurmd as
tests/deploy/slurm_test.py starts them; needs root) and a coordinator with --slurm
--cluster-poll-ms 300. Prints each run's wall time and the medians.
Usage: slurm_launch_bench.py [BIN_DIR] [PAIRS]
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy"))
from deploy_util import Coordinator  # noqa: E402
from slurm_test import Slurm, launch_args  # noqa: E402


def main():
    bin_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = tempfile.mkdtemp(prefix="cyclr-slurm-bench-")
    slurm = coord = None
    times = {"local": [], "slurm": []}
    try:
        slurm = Slurm(tmp)
        coord = Coordinator(bin_dir, tmp, ["--slurm", "--cluster-poll-ms", "300"], env=slurm.env)
        for i in range(pairs):
            for scheduler in ("local", "slurm"):
                args = launch_args(f"b-{scheduler}-{i}", "--follow")
                args[args.index("--scheduler") + 1] = scheduler
                started = time.time()
                r = coord.ctl(*args, check=False, timeout=300)
                took = time.time() - started
                if r.returncode != 0:
                    sys.exit(f"{scheduler} run {i} failed: {r.stderr}")
                times[scheduler].append(took)
                print(f"{scheduler:6s} run {i}: {took:.2f} s", flush=True)
    finally:
        if coord:
            coord.close()
        if slurm:
            slurm.close()
        shutil.rmtree(tmp, ignore_errors=True)
    for scheduler, t in times.items():
        print(f"{scheduler}: median {statistics.median(t):.2f} s ({min(t):.2f}-{max(t):.2f})")


if __name__ == "__main__":
    main()
