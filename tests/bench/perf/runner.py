"""Shared helpers: where the binaries are, running N ranks as processes, parsing their lines.

Every process gets a wall-clock timeout; a run that fails or times out raises BenchError with the
command and the tail of its output, so run_all.sh stops with one clear message.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.environ.get("CYCLR_BIN", os.path.join(ROOT, "build", "bin"))
LOADGEN = os.environ.get("CYCLR_LOADGEN",
                         os.path.join(ROOT, "build", "bench", "cyclr_loadgen"))
PYTHON = "/usr/bin/python3"  # Debian's, with torch (python3 on PATH may be a pyenv without it)
DDP_PEER = os.path.join(ROOT, "tests", "bench", "peer", "ddp_peer.py")

DONE_RE = re.compile(r"rank (\d+) done: (\d+) steps, loss ([\d.naif-]+), test accuracy ([\d.]+), "
                     r"(\d+) samples/s")
STEADY_RE = re.compile(r"rank (\d+) steady: (\d+) steps after (\d+) warm-up, ([\d.]+) s, "
                       r"(\d+) samples/s")
EPOCH_RE = re.compile(r"rank (\d+) epoch (\d+)/(\d+) step (\d+) loss ([\d.naif-]+) "
                      r"test accuracy ([\d.]+)")


class BenchError(RuntimeError):
    pass


def binary(name):
    path = os.path.join(BIN, name)
    if not os.access(path, os.X_OK):
        raise BenchError(f"{path} is missing: build it first (see docs/performance.md)")
    return path


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fresh_dir(prefix):
    return tempfile.mkdtemp(prefix=f"cyclr-bench-{prefix}-")


class Proc:
    """A child process whose stdout lines are collected with their arrival time."""

    def __init__(self, cmd, log_path=None, env=None):
        self.cmd = cmd
        self.start = time.monotonic()
        self.lines = []  # (seconds since start, line)
        self.log = open(log_path, "w") if log_path else None
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append((time.monotonic() - self.start, line.rstrip("\n")))
            if self.log:
                self.log.write(line)

    def wait(self, deadline):
        try:
            rc = self.p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = "timeout"
        self.reader.join(timeout=5)
        if self.log:
            self.log.close()
        return rc

    def text(self):
        return "\n".join(line for _, line in self.lines)


def run_ranks(cmds, timeout_s):
    """Starts every command at once, waits for all; returns their Procs. Raises on failure."""
    procs = [Proc(c) for c in cmds]
    deadline = time.monotonic() + timeout_s
    failed = []
    for proc in procs:
        rc = proc.wait(deadline)
        if rc != 0:
            failed.append((proc, rc))
    if failed:
        proc, rc = failed[0]
        tail = "\n".join(proc.text().splitlines()[-15:])
        raise BenchError(f"{' '.join(proc.cmd)} ended with {rc}:\n{tail}")
    return procs


def parse_done(text):
    """Per rank: (steps, loss, accuracy, samples/s) from the 'rank R done:' lines."""
    out = {}
    for m in DONE_RE.finditer(text):
        out[int(m.group(1))] = (int(m.group(2)), float(m.group(3)), float(m.group(4)),
                                float(m.group(5)))
    return out


def parse_steady(text):
    return {int(m.group(1)): float(m.group(5)) for m in STEADY_RE.finditer(text)}


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def spec_json(path, **fields):
    """Writes a cyclr.v1.JobSpec as proto JSON (camelCase names; int64 as strings is optional)."""
    with open(path, "w") as f:
        json.dump(fields, f)
    return path


def remove(path):
    shutil.rmtree(path, ignore_errors=True)
