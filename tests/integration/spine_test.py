#!/usr/bin/env python3
"""End-to-end: a real coordinator, two real worker processes on loopback, the real CLI.

Launches a short CNN job on a Fashion-MNIST subset with a triangular2 CLR, changes the schedule
with `cyclrctl schedule set` while it runs, and asserts: the job SUCCEEDED; the loss fell; both
ranks end with identical parameters; each rank's log of applied LRs equals, at every step (before,
across and after the change), the value PyTorch's own CyclicLR gives for the recorded timeline;
/metrics showed the job's LR and loss.
Usage: spine_test.py BIN_DIR
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import torch

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CYCLR_BIN_DIR", "build/bin")
JOB = "spine"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, tmp):
        self.tmp = tmp
        self.port, self.metrics_port = free_port(), free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.token_file = os.path.join(tmp, "cyclr-admin.token")  # written by the coordinator
        self.log = open(os.path.join(tmp, "coordinator.log"), "w")
        self.proc = subprocess.Popen(
            [f"{BIN}/cyclr-coordinator", "--listen", self.addr, "--metrics",
             f"127.0.0.1:{self.metrics_port}", "--state", os.path.join(tmp, "state.db"),
             "--work-dir", os.path.join(tmp, "work"), "--allow-path-prefix", tmp],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while self.ctl("jobs", "list", check=False).returncode != 0:
            assert time.time() < deadline, "coordinator did not come up"
            assert self.proc.poll() is None, "coordinator exited"
            time.sleep(0.1)

    def ctl(self, *args, check=True):
        # Authentication is on (the default): send the admin token the coordinator wrote.
        r = subprocess.run([f"{BIN}/cyclrctl", "--coordinator", self.addr, *args],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, CYCLR_TOKEN_FILE=self.token_file))
        if check and r.returncode != 0:
            raise AssertionError(f"cyclrctl {' '.join(args)} failed: {r.stderr}")
        return r

    def job(self, missing_ok=False):
        r = self.ctl("jobs", "get", JOB, "--output", "json", check=not missing_ok)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def metrics(self):
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        return urllib.request.urlopen(url, timeout=5).read().decode()

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def metric_value(text, name, job):
    m = re.search(rf'^{name}{{[^}}]*job="{job}"[^}}]*}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


def torch_cyclic(spec, steps):
    """PyTorch's CyclicLR values for steps 0..steps-1 of a triangular* spec."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=spec["base_lr"], momentum=0.9)
    sched = torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=spec["base_lr"], max_lr=spec["max_lr"],
        step_size_up=int(spec["step_size_up"]), mode=spec["policy"], cycle_momentum=False)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="cyclr-spine-")
    cluster = Cluster(tmp)
    try:
        run(cluster, tmp)
    except BaseException:
        for f in sorted(os.listdir(os.path.join(tmp, "work", "jobs", JOB))
                        if os.path.isdir(os.path.join(tmp, "work", "jobs", JOB)) else []):
            if f.endswith(".log"):
                print(f"--- {f}\n" + open(os.path.join(tmp, "work", "jobs", JOB, f)).read()[-3000:])
        cluster.log.flush()
        print("--- coordinator.log\n" + open(os.path.join(tmp, "coordinator.log")).read()[-3000:])
        raise
    finally:
        cluster.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print("spine_test: 1 passed, 0 failed")


def run(cluster, tmp):
    follow = subprocess.Popen(
        [f"{BIN}/cyclrctl", "--coordinator", cluster.addr, "launch", "--name", JOB,
         "--workers", "2", "--model", "cnn", "--dataset", "fashion-mnist",
         "--train-limit", "12800", "--test-limit", "2000", "--epochs", "3", "--batch-size", "32",
         "--momentum", "0.9", "--threads", "1",
         "--policy", "triangular2", "--base-lr", "0.005", "--max-lr", "0.05",
         "--step-size-up", "50", "--follow"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, CYCLR_TOKEN_FILE=cluster.token_file))
    # 6,400 examples per rank at batch 32: 200 steps per epoch, 600 in all.
    saw_metrics, changed = False, False
    while follow.poll() is None:
        # The job exists once the Launch RPC of the cyclrctl just started has returned.
        job = cluster.job(missing_ok=True)
        if job is None:
            time.sleep(0.05)
            continue
        step = int(job.get("global_step", 0))
        if not saw_metrics and step > 0:
            text = cluster.metrics()
            lr = metric_value(text, "cyclr_learning_rate", JOB)
            loss = metric_value(text, "cyclr_loss_mean", JOB)
            if lr is not None and loss is not None:
                assert 0.005 <= lr <= 0.05, lr
                assert loss > 0, loss
                saw_metrics = True
        if not changed and step >= 150:
            r = cluster.ctl("schedule", "set", JOB, "--policy", "triangular",
                            "--base-lr", "0.001", "--max-lr", "0.02", "--step-size-up", "30",
                            "--phase", "restart", "--reason", "integration test")
            print("schedule set:", r.stdout.strip())
            changed = True
        time.sleep(0.05)
    out = follow.stdout.read()
    print(out[-2000:])
    assert follow.returncode == 0, f"launch --follow exited {follow.returncode}"
    assert changed, "the job ended before the schedule could be changed"
    assert saw_metrics, "/metrics never showed the job's learning rate and loss"

    job = cluster.job()
    assert job["state"] == "SUCCEEDED", job
    timeline = json.loads(cluster.ctl("schedule", "get", JOB, "--output", "json").stdout)
    revs = timeline["revisions"]
    assert len(revs) == 2, revs
    applied = int(revs[1]["applied_step"])
    assert applied >= int(revs[1]["effective_step"]) >= 150, revs[1]

    logdir = os.path.join(tmp, "work", "jobs", JOB)
    params = [open(os.path.join(logdir, f"params-rank-{r}.bin"), "rb").read() for r in (0, 1)]
    assert len(params[0]) > 100000 and params[0] == params[1], "ranks ended with different parameters"

    before = torch_cyclic({"policy": "triangular2", "base_lr": 0.005, "max_lr": 0.05,
                           "step_size_up": 50}, applied)
    after = torch_cyclic({"policy": "triangular", "base_lr": 0.001, "max_lr": 0.02,
                          "step_size_up": 30}, 600 - applied)
    expected = before + after
    for r in (0, 1):
        rows = [line.split(",") for line in open(os.path.join(logdir, f"lr-rank-{r}.csv"))][1:]
        assert len(rows) == 600, len(rows)
        for i, row in enumerate(rows):
            assert int(row[0]) == i
            lr = float(row[1])
            assert abs(lr - expected[i]) <= 1e-9 * expected[i], (r, i, lr, expected[i])
            assert int(row[3]) == (1 if i < applied else 2), (r, i, row)
        losses = [float(row[4]) for row in rows]
        first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
        assert last < 0.75 * first, f"rank {r}: loss did not fall ({first:.3f} -> {last:.3f})"
    print(f"revision 2 applied at step {applied}; test accuracy {job.get('test_accuracy')}")


if __name__ == "__main__":
    main()
