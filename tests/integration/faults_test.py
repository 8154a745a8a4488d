#!/usr/bin/env python3
"""Fault injection with the real binaries on loopback: worker kills, coordinator kills,
a network partition, divergence, and durability of acknowledged schedule updates.

Cases (each prints PASS/FAIL; the last line is "N passed, M failed"; exit 1 on any failure):
  a. SIGKILL one worker of a local job mid-epoch (checkpoints, --max-restarts 2): the job
     SUCCEEDS with restarts == 1 and ends with the parameters of an uninterrupted run. The same
     kill with --max-restarts 0 FAILS the job; `cyclrctl resume` continues it as a new job that
     ends with the same parameters too.
  b. SIGKILL the coordinator mid-run right after three acknowledged `schedule set`s; a new
     coordinator on the same state file adopts the running workers; the job SUCCEEDS, every
     acknowledged revision is there, and both ranks' applied-LR logs agree row for row.
  c. Partition: rank 1 of an external job reaches the coordinator through a TCP proxy that
     cuts it off for a few seconds while a revision is issued; training goes on, and both ranks
     apply the revision at the same step, after the partition healed.
  d. Divergence: a constant LR of 1e4 ends FAILED with "loss diverged at step", no restarts.
  e. Durability: five times, SIGKILL the coordinator right after UpdateSchedule returned; every
     acknowledged revision survives.
Usage: faults_test.py BIN_DIR   (small Fashion-MNIST subsets, the mlp model, one thread each)
"""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from harness import free_port, wait_until

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CYCLR_BIN_DIR", "build/bin")
TRAIN = ["--model", "mlp", "--dataset", "fashion-mnist", "--test-limit", "500",
         "--batch-size", "32", "--threads", "1"]






class Coordinator:
    """A cyclr-coordinator process; start() again on the same state file after a kill."""

    def __init__(self, tmp, heartbeat_ms=5000):
        self.tmp, self.heartbeat_ms = tmp, heartbeat_ms
        self.addr = f"127.0.0.1:{free_port()}"
        self.token_file = os.path.join(tmp, "cyclr-admin.token")  # written by the coordinator
        self.metrics_port = free_port()
        self.state = os.path.join(tmp, "state.db")
        self.work = os.path.join(tmp, "work")
        self.log = open(os.path.join(tmp, "coordinator.log"), "a")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [f"{BIN}/cyclr-coordinator", "--listen", self.addr,
             "--metrics", f"127.0.0.1:{self.metrics_port}",
             "--state", self.state, "--work-dir", self.work,
             "--heartbeat-timeout-ms", str(self.heartbeat_ms), "--stop-grace-ms", "2000",
             "--allow-path-prefix", self.tmp],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.ctl("jobs", "list", check=False).returncode == 0, 20,
                   "the coordinator to answer")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def ctl(self, *args, check=True):
        # Authentication is on (the default): send the admin token the coordinator wrote.
        r = subprocess.run([f"{BIN}/cyclrctl", "--coordinator", self.addr, *args],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, CYCLR_TOKEN_FILE=self.token_file))
        if check and r.returncode != 0:
            raise AssertionError(f"cyclrctl {' '.join(args)} failed: {r.stderr.strip()}")
        return r

    def metric(self, name, job):
        """The value of `name`{job=...} on /metrics, or None."""
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                      timeout=5).read().decode()
        m = re.search(rf'^{name}{{job="{job}"}} (\S+)$', text, re.M)
        return float(m.group(1)) if m else None

    def job(self, name):
        return json.loads(self.ctl("jobs", "get", name, "--output", "json").stdout)

    def revisions(self, name):
        return json.loads(self.ctl("schedule", "get", name, "--output", "json").stdout)["revisions"]

    def wait_end(self, name, timeout):
        return wait_until(lambda: (lambda j: j if j["state"] in ("SUCCEEDED", "FAILED", "STOPPED")
                                   else None)(self.job(name)), timeout, f"job {name} to end")

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def worker_pid(job, rank):
    """The pid of the cyclr-worker running `rank` of `job` (from /proc)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2] == "Z" or not args[0].endswith(b"cyclr-worker") or \
                b"--job" not in args or b"--rank" not in args:
            continue  # e.g. a standalone worker of someone else's benchmark
        if args[args.index(b"--job") + 1].decode() == job and \
                args[args.index(b"--rank") + 1].decode() == str(rank):
            return int(pid)
    return None


def lr_rows(logdir, rank):
    """(step, lr, momentum, version) of every row of a rank's applied-LR log."""
    lines = open(os.path.join(logdir, f"lr-rank-{rank}.csv")).read().split("\n")[1:]
    return [tuple(line.split(",")[:4]) for line in lines if line]


def floats(path):
    data = open(path, "rb").read()
    return struct.unpack(f"{len(data) // 4}f", data)


def assert_ranks_agree(logdir, steps, killed_rank=None):
    """Both ranks' logs hold steps 0..steps-1 once each, with identical (step, lr, momentum,
    version). A SIGKILLed rank's log may lack the rows it had not flushed (the worker buffers
    them): for `killed_rank`, only the rows it has are compared. Returns rank 0's rows."""
    rows = {r: lr_rows(logdir, r) for r in (0, 1)}
    for r in (0, 1):
        steps_seen = [int(row[0]) for row in rows[r]]
        if r == killed_rank:
            assert steps_seen == sorted(set(steps_seen)) and steps_seen[-1] == steps - 1, \
                f"rank {r}: steps out of order or missing at the end"
            if len(steps_seen) < steps:
                print(f"  note: rank {r}'s LR log lacks {steps - len(steps_seen)} rows written "
                      "before it was killed (unflushed; worker side)")
        else:
            assert steps_seen == list(range(steps)), f"rank {r}: steps are not 0..{steps - 1}"
    by_step = {int(row[0]): row for row in rows[0]}
    for row in rows[1]:
        a = by_step[int(row[0])]
        assert a == row, f"ranks applied different values: rank 0 {a}, rank 1 {row}"
    return rows[0]


def launch(c, name, *extra):
    c.ctl("launch", "--name", name, "--workers", "2", *TRAIN, *extra)


# --- a. worker killed -----------------------------------------------------------------------
def case_worker_killed(tmp):
    c = Coordinator(tmp)
    try:
        spec = ["--train-limit", "8192", "--epochs", "2", "--policy", "triangular",
                "--base-lr", "0.01", "--max-lr", "0.1", "--step-size-up", "40",
                "--checkpoint-every", "30"]
        launch(c, "killed", *spec, "--max-restarts", "2",
               "--checkpoint-dir", os.path.join(tmp, "ckpt-killed"))
        launch(c, "clean", *spec, "--max-restarts", "2",
               "--checkpoint-dir", os.path.join(tmp, "ckpt-clean"))
        # No restarts allowed: the kill fails it; `cyclrctl resume` continues it.
        launch(c, "once", *spec, "--max-restarts", "0",
               "--checkpoint-dir", os.path.join(tmp, "ckpt-once"))
        # 4,096 samples per rank at batch 32: 128 steps per epoch, 256 in all.
        for name in ("killed", "once"):
            wait_until(lambda: int(c.job(name)["global_step"]) >= 70 and
                       os.listdir(os.path.join(tmp, f"ckpt-{name}")), 60,
                       f"{name}: step 70 and a checkpoint")
            pid = worker_pid(name, 1)
            assert pid, f"rank 1 of job {name} is not running"
            os.kill(pid, signal.SIGKILL)
            print(f"  {name}: killed rank 1 (pid {pid}) at global step "
                  f"{c.job(name)['global_step']}")
        once = c.wait_end("once", 60)
        assert once["state"] == "FAILED" and once["restarts"] == 0, once
        assert "killed by signal 9" in once["reason"], once["reason"]
        resumed = c.ctl("resume", "once").stdout.strip()
        assert resumed == "once-r1", resumed
        killed, clean = c.wait_end("killed", 120), c.wait_end("clean", 120)
        assert c.wait_end("once-r1", 120)["state"] == "SUCCEEDED", c.job("once-r1")
        assert killed["state"] == "SUCCEEDED", killed
        assert clean["state"] == "SUCCEEDED", clean
        assert killed["restarts"] == 1 and clean["restarts"] == 0, (killed["restarts"],
                                                                    clean["restarts"])
        log = open(os.path.join(c.work, "jobs", "killed", "worker-0.log")).read()
        assert "resumed from" in log, "the restarted rank 0 did not resume from a checkpoint"
        for name in ("killed", "once-r1"):
            worst = 0.0
            for r in (0, 1):
                a = floats(os.path.join(c.work, "jobs", name, f"params-rank-{r}.bin"))
                b = floats(os.path.join(c.work, "jobs", "clean", f"params-rank-{r}.bin"))
                assert len(a) == len(b) > 100000, (len(a), len(b))
                worst = max(worst, max(abs(x - y) for x, y in zip(a, b)))
            assert worst <= 1e-6, f"{name}: parameters differ from the uninterrupted run by {worst}"
            print(f"  {name}: max |param - uninterrupted| = {worst:g}")
        assert_ranks_agree(os.path.join(c.work, "jobs", "killed"), 256, killed_rank=1)
        assert c.metric("cyclr_worker_restarts_total", "killed") == 1.0
        assert c.metric("cyclr_worker_restarts_total", "clean") in (None, 0.0)
    finally:
        c.close()


# --- b. coordinator killed ------------------------------------------------------------------
def case_coordinator_killed(tmp):
    c = Coordinator(tmp)
    try:
        launch(c, "phoenix", "--train-limit", "8192", "--epochs", "2", "--policy", "triangular",
               "--base-lr", "0.01", "--max-lr", "0.1", "--step-size-up", "40",
               "--checkpoint-dir", os.path.join(tmp, "ckpt"), "--checkpoint-every", "50",
               "--max-restarts", "1")
        wait_until(lambda: int(c.job("phoenix")["global_step"]) >= 40, 60, "step 40")
        acked = []
        for i in range(3):
            r = c.ctl("schedule", "set", "phoenix", "--policy", "triangular", "--base-lr", "0.01",
                      "--max-lr", f"0.0{i + 3}", "--step-size-up", "10", "--reason", f"set {i}")
            acked.append((i + 2, f"0.0{i + 3}"))
        c.kill()
        print(f"  coordinator killed after revisions {[v for v, _ in acked]} were acknowledged")
        time.sleep(1.0)
        c.start()
        job = c.wait_end("phoenix", 120)
        assert job["state"] == "SUCCEEDED", job
        assert job["restarts"] == 0, f"the workers were restarted: {job['reason']}"
        revs = c.revisions("phoenix")
        assert len(revs) == 4, revs
        for version, max_lr in acked:
            rev = revs[version - 1]
            assert int(rev["version"]) == version and abs(rev["spec"]["max_lr"] - float(max_lr)) \
                < 1e-12, rev
        rows = assert_ranks_agree(os.path.join(c.work, "jobs", "phoenix"), 256)
        assert int(rows[-1][3]) == 4, f"the last revision was never applied: {rows[-1]}"
        print(f"  SUCCEEDED; revision 4 applied at step {revs[3].get('applied_step')}")
    finally:
        c.close()


# --- c. partition ---------------------------------------------------------------------------
class PausableProxy:
    """Forwards 127.0.0.1:port to `upstream`; pause() cuts every connection and refuses new ones
    (accepted, then closed at once) until resume()."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.paused, self.conns, self.lock = False, [], threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                if self.paused:
                    client.close()
                    continue
                try:
                    server = socket.create_connection(self.upstream, timeout=5)
                    server.settimeout(None)
                except OSError:
                    client.close()
                    continue
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def pause(self):
        with self.lock:
            self.paused = True
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.conns = []

    def resume(self):
        with self.lock:
            self.paused = False

    def close(self):
        self.pause()
        self.sock.close()


def case_partition(tmp):
    c = Coordinator(tmp, heartbeat_ms=3000)
    proxy = PausableProxy(("127.0.0.1", int(c.addr.split(":")[1])))
    logdir = os.path.join(tmp, "logs")
    workers = []
    try:
        # The workers started by hand present the credential the launch wrote for them.
        token = os.path.join(tmp, "split.token")
        launch(c, "split", "--launcher", "external", "--train-limit", "16384", "--epochs", "24",
               "--policy", "triangular", "--base-lr", "0.01", "--max-lr", "0.1",
               "--step-size-up", "40", "--worker-token-file", token)
        for rank, addr in ((0, c.addr), (1, f"127.0.0.1:{proxy.port}")):
            log = open(os.path.join(tmp, f"worker-{rank}.log"), "w")
            workers.append(subprocess.Popen(
                [f"{BIN}/cyclr-worker", "--coordinator", addr, "--job", "split", "--rank",
                 str(rank), "--world-size", "2", "--log-dir", logdir, "--threads", "1",
                 "--worker-token-file", token],
                stdout=log, stderr=subprocess.STDOUT))
        # 8,192 samples per rank at batch 32: 256 steps per epoch, 6,144 in all (rank 1 may need
        # several seconds after the partition heals: its reconnect backoffs grew meanwhile). A
        # step takes 1.5-5 ms here (the VM's speed varies): the partition lasts 1.5 s, and at
        # the fastest the job still runs ~7 s after it heals (8 epochs were too few on a fast
        # day: the job ended before rank 1 reconnected).
        wait_until(lambda: int(c.job("split")["global_step"]) >= 60, 60, "step 60")

        def rank_status(r):
            return next(x for x in c.job("split")["ranks"] if x["rank"] == r)
        proxy.pause()
        time.sleep(0.5)  # reports already in flight land
        cut_at = rank_status(1)
        step0_before = int(rank_status(0)["step"])
        c.ctl("schedule", "set", "split", "--policy", "triangular", "--base-lr", "0.005",
              "--max-lr", "0.02", "--step-size-up", "25", "--reason", "during the partition")
        time.sleep(1.5)
        during = rank_status(1)
        step0_healed = int(rank_status(0)["step"])
        proxy.resume()
        print(f"  partition: rank 0 went from step {step0_before} to {step0_healed}; rank 1 "
              f"last heard at step {during['step']}")
        assert step0_healed >= step0_before + 40, "training stalled during the partition"
        assert during["last_report_unix_ms"] == cut_at["last_report_unix_ms"], \
            "rank 1 reached the coordinator during the partition"
        for w in workers:
            assert w.wait(120) == 0, f"worker exited {w.returncode}"
        job = c.wait_end("split", 30)
        assert job["state"] == "SUCCEEDED", job
        rows = assert_ranks_agree(logdir, 6144)
        applied = next((int(r[0]) for r in rows if int(r[3]) == 2), None)
        assert applied is not None, "revision 2 was never applied (the job ended first)"
        assert applied > step0_healed, \
            f"revision 2 applied at step {applied}, before the partition healed ({step0_healed})"
        assert int(c.revisions("split")[1]["applied_step"]) == applied
        print(f"  both ranks applied revision 2 at step {applied} (healed after step "
              f"{step0_healed})")
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        proxy.close()
        c.close()


# --- d. divergence --------------------------------------------------------------------------
def case_divergence(tmp):
    c = Coordinator(tmp)
    try:
        launch(c, "boom", "--train-limit", "4096", "--epochs", "1", "--policy", "constant",
               "--base-lr", "10000", "--checkpoint-dir", os.path.join(tmp, "ckpt"),
               "--checkpoint-every", "10", "--max-restarts", "2")
        job = c.wait_end("boom", 60)
        assert job["state"] == "FAILED", job
        assert "loss diverged at step" in job["reason"], job["reason"]
        assert job["restarts"] == 0, job["restarts"]
        print(f"  FAILED: {job['reason'][:100]}")
    finally:
        c.close()


def case_divergence_rollback(tmp):
    """Policy rollback: the ranks reload the checkpoint from before the loss rose, rank 0 appends
    a revision with the peak LR lowered (through the real coordinator), and the job goes on."""
    c = Coordinator(tmp)
    try:
        launch(c, "phoenix", "--train-limit", "4096", "--epochs", "1", "--policy", "constant",
               "--base-lr", "0.05", "--checkpoint-dir", os.path.join(tmp, "ckpt"),
               "--checkpoint-every", "10", "--divergence-policy", "rollback",
               "--rollback-lr-factor", "0.00001")
        # From step 40 an absurd LR: the loss explodes and the job must recover by itself.
        c.ctl("schedule", "set", "phoenix", "--policy", "constant", "--base-lr", "10000",
              "--at-step", "40", "--reason", "too hot")
        job = c.wait_end("phoenix", 90)
        assert job["state"] == "SUCCEEDED", job
        revs = c.revisions("phoenix")
        assert len(revs) == 3, revs
        rb = revs[2]
        assert rb["author"] == "cyclr-worker", rb
        assert "loss diverged at step" in rb["reason"] and "rolled back" in rb["reason"], rb
        assert abs(rb["spec"]["base_lr"] - 0.1) < 1e-12, rb["spec"]
        logdir = os.path.join(tmp, "work", "jobs", "phoenix")
        rows = [lr_rows(logdir, r) for r in (0, 1)]
        assert [x[:4] for x in rows[0]] == [x[:4] for x in rows[1]], "ranks applied different LRs"
        print(f"  SUCCEEDED after a rollback: {rb['reason'][:110]}")
    finally:
        c.close()


# --- e. durability --------------------------------------------------------------------------
def case_durable_updates(tmp):
    c = Coordinator(tmp)
    try:
        launch(c, "ledger", "--launcher", "external", "--train-limit", "4096", "--epochs", "1",
               "--policy", "triangular", "--base-lr", "0.01", "--max-lr", "0.1",
               "--step-size-up", "40")
        acked = {1: 0.1}
        for round_ in range(5):
            for i in range(3):
                max_lr = round(0.02 + 0.001 * (round_ * 3 + i), 6)
                r = c.ctl("schedule", "set", "ledger", "--policy", "triangular", "--base-lr",
                          "0.01", "--max-lr", str(max_lr), "--step-size-up", "10")
                acked[len(acked) + 1] = max_lr
            c.kill()  # right after the third acknowledgement
            c.start()
            revs = c.revisions("ledger")
            got = {int(r["version"]): r["spec"]["max_lr"] for r in revs}
            assert got == acked, f"round {round_}: acknowledged {acked}, recovered {got}"
        with sqlite3.connect(c.state) as db:
            n = db.execute("SELECT COUNT(*) FROM revisions WHERE job='ledger'").fetchone()[0]
        assert n == 16, n
        print(f"  5 SIGKILLs, {len(acked) - 1} acknowledged updates, all recovered")
    finally:
        c.close()


CASES = [("a worker killed mid-epoch", case_worker_killed),
         ("b coordinator killed after acknowledged updates", case_coordinator_killed),
         ("c partition of rank 1", case_partition),
         ("d divergence", case_divergence),
         ("f divergence with rollback", case_divergence_rollback),
         ("e acknowledged updates survive SIGKILL", case_durable_updates)]


def dump_logs(tmp):
    for root, _, files in os.walk(tmp):
        for f in sorted(files):
            if f.endswith(".log"):
                text = open(os.path.join(root, f), errors="replace").read()
                print(f"  --- {os.path.relpath(os.path.join(root, f), tmp)}\n" + text[-1500:])


def main():
    only = os.environ.get("CYCLR_FAULTS_ONLY", "")  # e.g. "ac": run cases a and c
    passed = failed = 0
    for title, fn in CASES:
        if only and title[0] not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="cyclr-faults-")
        start = time.time()
        try:
            fn(tmp)
            passed += 1
            print(f"PASS {title} ({time.time() - start:.1f} s)", flush=True)
            shutil.rmtree(tmp, ignore_errors=True)
        except Exception as e:  # one case's failure must not hide the others'
            failed += 1
            print(f"FAIL {title} ({time.time() - start:.1f} s): {e!r}", flush=True)
            dump_logs(tmp)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
