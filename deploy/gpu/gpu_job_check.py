#!/usr/bin/env python3
"""GPU job check (deploy/gpu/run.sh step 5): a real coordinator, one worker with backend nccl
(world size 1, CUDA) and the real CLI, as tests/integration/spine_test.py does on CPU.

Trains the cnn on synthetic 1x28x28 data (the Fashion-MNIST files, 30 MB, do not fit in the
64 MiB that travels next to the sysroot) with a triangular2 CLR; at step >= 150 it runs
`cyclrctl schedule set` (triangular, restart) while the job trains. Asserts: the job SUCCEEDED;
the timeline has 2 revisions, the second applied at or after its effective step; the worker's
log of applied LRs (lr-rank-0.csv) equals, at every step, PyTorch's CyclicLR for the recorded
timeline; the loss fell. Writes its logs and result.json into --out; exit 0 only if all held.

The cyclr binaries get LD_LIBRARY_PATH from $LD_PATH_FOR_CYCLR (the sysroot's libraries); this
Python process (PyTorch) keeps the machine's own.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import torch

JOB = "gpu-spine"
STEPS = 600  # 2 epochs of 300 steps: 38,400 examples at batch 128


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cyclr_env():
    env = dict(os.environ)
    extra = os.environ.get("LD_PATH_FOR_CYCLR", "")
    if extra:
        env["LD_LIBRARY_PATH"] = extra
    return env


def torch_cyclic(policy, base_lr, max_lr, step_size_up, steps):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=base_lr, max_lr=max_lr,
                                              step_size_up=step_size_up, mode=policy,
                                              cycle_momentum=False)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    work = os.path.join(a.out, "work")
    shutil.rmtree(work, ignore_errors=True)
    env = cyclr_env()
    state = os.path.join(a.out, "state.db")
    if os.path.exists(state):
        os.remove(state)
    # Authentication is on: cyclrctl sends the admin token the coordinator writes beside its state.
    env["CYCLR_TOKEN_FILE"] = os.path.join(a.out, "cyclr-admin.token")
    addr = f"127.0.0.1:{free_port()}"
    clog = open(os.path.join(a.out, "coordinator.log"), "w")
    coord = subprocess.Popen(
        [f"{a.bin}/cyclr-coordinator", "--listen", addr, "--metrics", f"127.0.0.1:{free_port()}",
         "--state", state, "--work-dir", work, "--allow-path-prefix", a.out],
        stdout=clog, stderr=subprocess.STDOUT, env=env)
    result = {"ok": False}

    def ctl(*args, check=True):
        r = subprocess.run([f"{a.bin}/cyclrctl", "--coordinator", addr, *args],
                           capture_output=True, text=True, timeout=60, env=env)
        if check and r.returncode != 0:
            raise AssertionError(f"cyclrctl {' '.join(args)}: {r.stderr.strip()}")
        return r

    try:
        deadline = time.time() + 30
        while ctl("jobs", "list", check=False).returncode != 0:
            assert coord.poll() is None, "coordinator exited (coordinator.log)"
            assert time.time() < deadline, "coordinator did not come up in 30 s"
            time.sleep(0.2)
        follow = subprocess.Popen(
            [f"{a.bin}/cyclrctl", "--coordinator", addr, "launch", "--name", JOB,
             "--workers", "1", "--backend", "nccl", "--model", "cnn", "--dataset", "synthetic",
             "--train-limit", "38400", "--test-limit", "2000", "--epochs", "2",
             "--batch-size", "128", "--momentum", "0.9", "--threads", "4",
             "--policy", "triangular2", "--base-lr", "0.005", "--max-lr", "0.05",
             "--step-size-up", "50", "--follow"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        changed = False
        t0 = time.time()
        while follow.poll() is None:
            assert time.time() - t0 < 240, "job did not end in 240 s"
            r = ctl("jobs", "get", JOB, "--output", "json", check=False)
            if r.returncode == 0 and not changed:
                if int(json.loads(r.stdout).get("global_step", 0)) >= 150:
                    s = ctl("schedule", "set", JOB, "--policy", "triangular", "--base-lr", "0.001",
                            "--max-lr", "0.02", "--step-size-up", "30", "--phase", "restart",
                            "--reason", "gpu check")
                    result["schedule_set"] = s.stdout.strip()
                    changed = True
            time.sleep(0.05)
        out = follow.stdout.read()
        open(os.path.join(a.out, "follow.log"), "w").write(out)
        job = json.loads(ctl("jobs", "get", JOB, "--output", "json").stdout)
        result["job"] = job
        assert follow.returncode == 0 and job["state"] == "SUCCEEDED", \
            f"job {job.get('state')}: {job.get('message', job.get('reason', ''))} " + out[-600:]
        assert changed, "the job ended before the schedule could be changed"
        revs = json.loads(ctl("schedule", "get", JOB, "--output", "json").stdout)["revisions"]
        result["revisions"] = revs
        assert len(revs) == 2, revs
        applied = int(revs[1]["applied_step"])
        assert applied >= int(revs[1]["effective_step"]) >= 150, revs[1]
        expected = (torch_cyclic("triangular2", 0.005, 0.05, 50, applied) +
                    torch_cyclic("triangular", 0.001, 0.02, 30, STEPS - applied))
        rows = [line.split(",") for line in open(os.path.join(work, "jobs", JOB, "lr-rank-0.csv"))][1:]
        assert len(rows) == STEPS, f"{len(rows)} rows in lr-rank-0.csv, expected {STEPS}"
        for i, row in enumerate(rows):
            assert int(row[0]) == i, row
            assert abs(float(row[1]) - expected[i]) <= 1e-9 * expected[i], (i, row, expected[i])
            assert int(row[3]) == (1 if i < applied else 2), (i, row)
        losses = [float(row[4]) for row in rows]
        first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
        result.update(applied_step=applied, loss_first20=first, loss_last20=last)
        assert last < 0.9 * first, f"loss did not fall ({first:.3f} -> {last:.3f})"
        result["ok"] = True
        msg = (f"job SUCCEEDED on CUDA; revision 2 applied at step {applied}; "
               f"{STEPS} applied LRs equal the timeline; loss {first:.3f} -> {last:.3f}")
    except (AssertionError, subprocess.SubprocessError, OSError, ValueError, KeyError) as e:
        result["error"] = str(e)[:2000]
        msg = f"FAILED: {str(e)[:600]}"
    finally:
        coord.terminate()
        try:
            coord.wait(10)
        except subprocess.TimeoutExpired:
            coord.kill()
        clog.close()
        jobdir = os.path.join(work, "jobs", JOB)
        if os.path.isdir(jobdir):  # the worker's own log says why it failed, if it did
            for f in os.listdir(jobdir):
                if f.endswith(".log"):
                    print(f"--- {f}\n" + open(os.path.join(jobdir, f)).read()[-3000:])
    json.dump(result, open(os.path.join(a.out, "result.json"), "w"), indent=2)
    print(msg)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
