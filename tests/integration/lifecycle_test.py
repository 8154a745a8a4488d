#!/usr/bin/env python3
"""First-run robustness and the life cycle of jobs, with the real binaries.

  a. Cold start: every worker takes 20 s to start (a wrapper sleeps before exec'ing cyclr-worker,
     as a cold LibTorch load on a fresh machine did), the coordinator runs with its DEFAULT
     timeouts, `cyclrctl launch --follow` says whom it waits for, and the job SUCCEEDS.
  b. The coordinator stalls (SIGSTOP for 3 x its heartbeat timeout) while a job trains: once
     resumed it notices its own stall, grants a grace period, and the job SUCCEEDS.
  c. `--follow` across a coordinator restart (the stream breaks, cyclrctl reconnects and follows to
     the end) and against a frozen coordinator (keepalive notices it; cyclrctl exits non-zero
     with a clear error after --follow-timeout-s, instead of hanging forever).
  d. `jobs delete`: refused while the job runs, then the job, its metric series and its name are
     gone; `jobs list` pages through more jobs than one page holds.
Usage: lifecycle_test.py BIN_DIR
"""
import json
import os
import signal
import stat
import sys
import tempfile
import threading
import time

import harness
from harness import wait_until

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CYCLR_BIN_DIR",
                                                                            "build/bin"))
TRAIN = ["--model", "mlp", "--dataset", "synthetic", "--train-limit", "2048",
         "--test-limit", "256", "--batch-size", "32", "--threads", "1",
         "--policy", "triangular", "--base-lr", "0.01", "--max-lr", "0.1", "--step-size-up", "20"]






class Coordinator(harness.Coordinator):
    def __init__(self, tmp, *flags):
        super().__init__(BIN, tmp, *flags)


def cold_start(tmp):
    wrapper = os.path.join(tmp, "slow-worker")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\necho 'cold start: sleeping 20 s'\nsleep 20\n"
                f"exec {BIN}/cyclr-worker \"$@\"\n")
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IEXEC)
    c = Coordinator(tmp, "--worker-binary", wrapper)  # default heartbeat and registration
    followed = {}

    def follow_logs():  # cyclrctl logs --follow from the job's start to its end
        wait_until(lambda: c.ctl("jobs", "get", "cold", check=False).returncode == 0, 60,
                   "the job to exist")
        followed["r"] = c.ctl("logs", "cold", "--rank", "0", "--follow", check=False, timeout=240)

    follower = threading.Thread(target=follow_logs)
    follower.start()
    try:
        started = time.time()
        r = c.ctl("launch", "--name", "cold", "--workers", "2", "--epochs", "1", *TRAIN,
                  "--follow", timeout=240)
        took = time.time() - started
        follower.join(60)
        f = followed.get("r")
        assert f is not None and f.returncode == 0, f
        assert f.stdout == c.ctl("logs", "cold", "--rank", "0").stdout, (f.stdout[-300:],)
        assert "waiting for ranks 0, 1 (since " in r.stdout, r.stdout
        assert "job cold SUCCEEDED" in r.stdout, r.stdout + r.stderr
        assert took >= 20, f"the workers slept 20 s but the job took {took:.1f} s"
        # cyclrctl logs: each rank's output, whole or its tail; a bad rank is named.
        for rank in (0, 1):
            log = c.ctl("logs", "cold", "--rank", str(rank)).stdout
            assert log.startswith("cold start: sleeping 20 s"), log[:200]
            assert f"rank {rank}/2" in log, log[-300:]
        tail = c.ctl("logs", "cold", "--rank", "1", "--tail", "64").stdout
        assert 0 < len(tail.encode()) <= 64 and log.endswith(tail), (tail, log[-100:])
        bad = c.ctl("logs", "cold", "--rank", "2", check=False)
        assert bad.returncode != 0 and "rank (2) must be between 0 and 1" in bad.stderr, bad.stderr
        print(f"a. cold start of 20 s with default flags: SUCCEEDED in {took:.1f} s; "
              "cyclrctl logs shows each rank's output")
    finally:
        c.close()


def stall(tmp):
    c = Coordinator(tmp, "--heartbeat-timeout-ms", "2000")
    try:
        c.ctl("launch", "--name", "stalled", "--workers", "2", "--epochs", "3", *TRAIN)
        wait_until(lambda: c.job("stalled")["state"] == "RUNNING" and
                   int(c.job("stalled")["global_step"]) > 5, 120, "training to start")
        c.proc.send_signal(signal.SIGSTOP)
        time.sleep(6)
        c.proc.send_signal(signal.SIGCONT)
        job = wait_until(lambda: (lambda j: j if j["state"] in ("SUCCEEDED", "FAILED", "STOPPED")
                                  else None)(c.job("stalled")), 240, "the job to end")
        assert job["state"] == "SUCCEEDED", job
        assert "stalled for" in c.log_text(), c.log_text()
        print("b. coordinator stopped for 6 s (heartbeat 2 s): the job SUCCEEDED")
    finally:
        c.close()


def follow_across_restart_and_freeze(tmp):
    c = Coordinator(tmp)
    try:
        # External jobs: no workers; they stay PENDING until stopped.
        c.ctl("launch", "--name", "ext", "--workers", "1", "--launcher", "external",
              "--epochs", "1", *TRAIN)
        f = c.follow("launch", "--name", "ext2", "--workers", "1", "--launcher", "external",
                     "--epochs", "1", *TRAIN, "--follow")
        wait_until(lambda: c.state("ext2") == "PENDING", 30, "ext2 to exist")
        time.sleep(1)
        c.proc.send_signal(signal.SIGKILL)
        c.proc.wait(10)
        time.sleep(2)
        c.start()
        c.ctl("stop", "ext2", "--reason", "done following")
        out, err = f.communicate(timeout=60)
        assert f.returncode != 0 and "job ext2 STOPPED (done following)" in out, (out, err)
        assert "reconnecting" in err, err
        print("c1. --follow reconnected after a coordinator restart and saw the end")

        f = c.follow("--follow-timeout-s", "5", "launch", "--name", "ext3", "--workers", "1",
                     "--launcher", "external", "--epochs", "1", *TRAIN, "--follow")
        wait_until(lambda: c.state("ext3") == "PENDING", 30, "ext3 to exist")
        time.sleep(1)
        c.proc.send_signal(signal.SIGSTOP)
        frozen = time.time()
        out, err = f.communicate(timeout=90)
        took = time.time() - frozen
        c.proc.send_signal(signal.SIGCONT)
        assert f.returncode != 0, (out, err)
        assert "giving up on following job ext3" in err, err
        assert took < 60, f"cyclrctl took {took:.1f} s to give up"
        print(f"c2. --follow on a frozen coordinator: a clear error after {took:.1f} s")
    finally:
        c.close()


def delete_and_pages(tmp):
    c = Coordinator(tmp)
    try:
        for i in range(55):
            c.ctl("launch", "--name", f"j{i:02d}", "--workers", "1", "--launcher", "external",
                  "--epochs", "1", *TRAIN)
        r = c.ctl("jobs", "delete", "j00", check=False)
        assert r.returncode != 0 and "only an ended job can be deleted (stop it first)" in r.stderr, r
        listed = json.loads(c.ctl("jobs", "list", "--output", "json").stdout)["jobs"]
        assert [j["name"] for j in listed] == [f"j{i:02d}" for i in range(55)], len(listed)
        assert 'job="j00"' in c.metrics()
        c.ctl("stop", "j00")
        r = c.ctl("jobs", "delete", "j00")
        assert r.stdout.strip() == "job j00 deleted", r.stdout
        assert 'job="j00"' not in c.metrics()
        r = c.ctl("jobs", "get", "j00", check=False)
        assert r.returncode != 0 and "not found" in r.stderr, r
        listed = json.loads(c.ctl("jobs", "list", "--output", "json").stdout)["jobs"]
        assert len(listed) == 54 and listed[0]["name"] == "j01", len(listed)
        print("d. jobs delete (refused while running; gone with its series) and 55 jobs in pages")
    finally:
        c.close()


def main():
    cases = {"a": cold_start, "b": stall, "c": follow_across_restart_and_freeze,
             "d": delete_and_pages}
    only = sys.argv[2:] or list(cases)
    for key in only:
        with tempfile.TemporaryDirectory(prefix=f"cyclr-life-{key}-") as tmp:
            try:
                cases[key](tmp)
            except Exception:
                for root, _, files in os.walk(tmp):
                    for name in files:
                        if name.endswith(".log"):
                            path = os.path.join(root, name)
                            print(f"--- {path}\n" + open(path, errors="replace").read()[-3000:])
                raise
    print("lifecycle: all cases passed")


if __name__ == "__main__":
    main()
