#!/usr/bin/env python3
"""A hostile client against the real cyclr-coordinator: raw gRPC stubs generated from proto/ at
test time, every request the limits issue found crashing or hurting the coordinator, replayed.

Each case must be refused with the right code and a message naming the field (never echoing a
huge value whole), and afterwards the coordinator must still answer every RPC (ListJobs, GetJob,
GetTimeline, PreviewSchedule, health) and /metrics, also after a restart on the same state file.
Cases:
  a. PreviewSchedule{start_step: 2^63-1, steps: 5} (spec and job), steps past the maximum.
  b. ReportProgress{steps: [{step: 2^63-1}]}, NaN accuracy, oversized error, bad rank; the edge
     step kMaxStep - 1 is accepted and GetJob, ListJobs, /metrics and a restart survive it.
  c. Multi-megabyte reasons (UpdateSchedule, StopJob), a 10 kB job name, phase 99.
  d. 300 StoreGet{timeout_ms: 600000}: at most kMaxStoreWaiters wait, the rest RESOURCE_EXHAUSTED;
     cancelled, the coordinator's thread count falls back. 50 x 4 MB StoreSet are refused and
     leave no memory behind; one job's store is capped at kMaxStoreBytesPerJob.
  e. --max-jobs: the job past it is RESOURCE_EXHAUSTED naming the flag.
  g. Forged worker calls (issue 14): ReportProgress claiming success or an error, Register of
     rank 0, StoreSet of a rank's address for a job, with no credential, an unknown one and
     another job's: UNAUTHENTICATED / PERMISSION_DENIED, the job untouched.
  f. A state file corrupted by hand (bad revision blob, global_step=-5, state=99, garbage spec):
     the coordinator starts, each bad job is FAILED "quarantined at recovery: ...", the good one
     runs; again after one more restart.
Usage: hostile_test.py BIN_DIR   (external jobs only: no worker process, no LibTorch; < 60 s)
"""
import collections
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

import grpc

from harness import free_port, wait_until

BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CYCLR_BIN_DIR", "build/bin")
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INT64_MAX = 2**63 - 1
MAX_STEP = 2**40
MAX_WAITERS = 256
MAX_JOBS = 12


def load_stubs(tmp):
    """Generates the Python stubs of proto/cyclr/v1 into tmp and imports them."""
    out = os.path.join(tmp, "stubs")
    os.makedirs(out)
    protos = [os.path.join(SRC, "proto", "cyclr", "v1", f)
              for f in ("job.proto", "schedule.proto", "service.proto")]
    subprocess.run(["protoc", "-I", os.path.join(SRC, "proto"), f"--python_out={out}",
                    f"--grpc_out={out}", "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
                    *protos], check=True)
    sys.path.insert(0, out)
    global pb, job_pb, sched_pb, rpc
    from cyclr.v1 import job_pb2 as job_pb, schedule_pb2 as sched_pb  # noqa: E402
    from cyclr.v1 import service_pb2 as pb, service_pb2_grpc as rpc  # noqa: E402






class _Details(collections.namedtuple("_Details", ("method", "timeout", "metadata", "credentials",
                                                  "wait_for_ready", "compression")),
               grpc.ClientCallDetails):
    pass


class Credentials(grpc.UnaryUnaryClientInterceptor):
    """Authenticates every call as a real client would: the coordinator's admin token, or for
    WorkerService calls the worker credential LaunchJob returned for the request's job."""

    def __init__(self, admin_file):
        self.admin_file, self.workers = admin_file, {}

    def intercept_unary_unary(self, continuation, details, request):
        if details.method.startswith("/cyclr.v1.WorkerService/"):
            token = self.workers.get(getattr(request, "job", ""), "unknown")
        else:
            token = open(self.admin_file).read().strip()
        md = list(details.metadata or []) + [("authorization", f"Bearer {token}")]
        return continuation(_Details(details.method, details.timeout, md, details.credentials,
                                     details.wait_for_ready, details.compression), request)


class Coordinator:
    def __init__(self, tmp):
        self.tmp = tmp
        self.creds = Credentials(os.path.join(tmp, "cyclr-admin.token"))
        self.addr = f"127.0.0.1:{free_port()}"
        self.metrics_port = free_port()
        self.state = os.path.join(tmp, "state.db")
        self.log = open(os.path.join(tmp, "coordinator.log"), "a")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [f"{BIN}/cyclr-coordinator", "--listen", self.addr,
             "--metrics", f"127.0.0.1:{self.metrics_port}", "--state", self.state,
             "--work-dir", os.path.join(self.tmp, "work"), "--max-jobs", str(MAX_JOBS)],
            stdout=self.log, stderr=subprocess.STDOUT)
        raw = grpc.insecure_channel(self.addr)
        grpc.channel_ready_future(raw).result(timeout=20)
        self.channel = grpc.intercept_channel(raw, self.creds)
        self.jobs = rpc.JobServiceStub(self.channel)
        self.schedules = rpc.ScheduleServiceStub(self.channel)
        self.workers = rpc.WorkerServiceStub(self.channel)

    def stop(self):
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        assert self.proc.returncode == 0, f"coordinator exited with {self.proc.returncode}"

    def restart(self):
        self.stop()
        self.start()

    def alive(self):
        assert self.proc.poll() is None, f"the coordinator died (exit {self.proc.returncode})"

    def status(self, key):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {key} in /proc/{self.proc.pid}/status")

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as r:
            assert r.status == 200
            return r.read().decode()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def refused(call, code, *parts):
    """Runs `call`; it must fail with `code` and a message holding every part."""
    try:
        call()
    except grpc.RpcError as e:
        assert e.code() == code, f"{e.code()} != {code}: {e.details()}"
        for part in parts:
            assert part in e.details(), f"{part!r} not in {e.details()!r}"
        assert len(e.details()) < 600, f"the reply echoes too much: {len(e.details())} bytes"
        return e.details()
    raise AssertionError(f"accepted; expected {code} naming {parts}")


INVALID = grpc.StatusCode.INVALID_ARGUMENT
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


def triangular():
    return sched_pb.ScheduleSpec(policy="triangular", base_lr=0.001, max_lr=0.1, step_size_up=100)


def launch(c, name, workers=1):
    spec = job_pb.JobSpec(name=name, workers=workers, model="mlp", dataset="synthetic", epochs=1,
                          batch_size=32, launcher="external", schedule=triangular())
    job = c.jobs.LaunchJob(pb.LaunchJobRequest(spec=spec), timeout=10)
    c.creds.workers[name] = job.worker_token  # what its workers would be given
    return job


def report(c, job, rank=0, **fields):
    return c.workers.ReportProgress(pb.ReportProgressRequest(job=job, rank=rank, **fields),
                                    timeout=10)


def health(c):
    check = c.channel.unary_unary("/grpc.health.v1.Health/Check",
                                  request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
    return check(b"", timeout=5) == b"\x08\x01"  # HealthCheckResponse{status: SERVING}


def answers_everything(c):
    """Every read RPC and /metrics answer, for every job the coordinator holds."""
    c.alive()
    jobs = c.jobs.ListJobs(pb.ListJobsRequest(), timeout=10).jobs
    for j in jobs:
        c.jobs.GetJob(pb.GetJobRequest(name=j.name), timeout=10)
        c.schedules.GetTimeline(pb.GetTimelineRequest(job=j.name), timeout=10)
        try:
            c.schedules.PreviewSchedule(
                pb.PreviewScheduleRequest(job=j.name, start_step=0, steps=3), timeout=10)
        except grpc.RpcError as e:  # a quarantined job may have no schedule left
            assert e.code() == grpc.StatusCode.FAILED_PRECONDITION, e
    points = c.schedules.PreviewSchedule(
        pb.PreviewScheduleRequest(spec=triangular(), start_step=MAX_STEP, steps=3), timeout=10)
    assert len(points.points) == 3
    assert health(c)
    text = c.metrics()
    for j in jobs:
        assert f'cyclr_job_state{{job="{j.name}",state="{job_pb.JobState.Name(j.state)}"}} 1' \
            in text, j.name
    return {j.name: j for j in jobs}


def case_preview(c):
    refused(lambda: c.schedules.PreviewSchedule(
        pb.PreviewScheduleRequest(spec=triangular(), start_step=INT64_MAX, steps=5), timeout=10),
        INVALID, "start_step (9223372036854775807)")
    launch(c, "preview")
    refused(lambda: c.schedules.PreviewSchedule(
        pb.PreviewScheduleRequest(job="preview", start_step=INT64_MAX, steps=5), timeout=10),
        INVALID, "start_step")
    refused(lambda: c.schedules.PreviewSchedule(
        pb.PreviewScheduleRequest(job="preview", start_step=0, steps=INT64_MAX), timeout=10),
        INVALID, "steps (9223372036854775807) must be between 1 and 100000")


def case_report(c):
    launch(c, "progress")
    refused(lambda: report(c, "progress", steps=[pb.StepReport(step=INT64_MAX)]),
            INVALID, "steps[0].step (9223372036854775807)")
    refused(lambda: report(c, "progress", epochs=[pb.EpochReport(test_accuracy=math.nan)]),
            INVALID, "epochs[0].test_accuracy (nan)")
    refused(lambda: report(c, "progress", error="e" * 5000), INVALID, "error (", "4096 bytes")
    refused(lambda: report(c, "progress", rank=7, steps=[pb.StepReport(step=1)]),
            INVALID, "rank (7) must be between 0 and 0")
    refused(lambda: report(c, "progress", applied=[pb.AppliedRevision(version=1, step=-3)]),
            INVALID, "applied[0].step (-3)")
    # A diverging worker's NaN loss is information, not an error; the edge step is accepted.
    report(c, "progress", steps=[pb.StepReport(step=MAX_STEP - 1, loss=math.nan)])
    job = c.jobs.GetJob(pb.GetJobRequest(name="progress"), timeout=10)
    assert job.global_step == MAX_STEP and job.state == job_pb.RUNNING, job
    answers_everything(c)
    c.restart()
    assert answers_everything(c)["progress"].global_step == MAX_STEP


def case_text(c):
    launch(c, "texts")
    big = "r" * (3 << 20)
    refused(lambda: c.schedules.UpdateSchedule(
        pb.UpdateScheduleRequest(job="texts", spec=triangular(), reason=big), timeout=10),
        INVALID, "reason (", "(3145728 bytes)) must be at most 1024 bytes")
    refused(lambda: c.schedules.UpdateSchedule(
        pb.UpdateScheduleRequest(job="texts", spec=triangular(), author=big), timeout=10),
        INVALID, "author (")
    refused(lambda: c.schedules.UpdateSchedule(
        pb.UpdateScheduleRequest(job="texts", spec=triangular(), phase=99), timeout=10),
        INVALID, "phase (99)")
    refused(lambda: c.jobs.StopJob(pb.StopJobRequest(name="texts", reason="s" * (1 << 20)),
                                   timeout=10), INVALID, "reason (")
    name = "n" * 10240
    refused(lambda: c.jobs.GetJob(pb.GetJobRequest(name=name), timeout=10),
            INVALID, "(10240 bytes)) must be a job name")
    refused(lambda: launch(c, name), INVALID, "name (", "(10240 bytes)")
    spec = job_pb.JobSpec(name="paths", workers=1, model="mlp", dataset="synthetic", epochs=1,
                          batch_size=32, launcher="external", schedule=triangular(),
                          checkpoint_dir="d" * 5000)
    refused(lambda: c.jobs.LaunchJob(pb.LaunchJobRequest(spec=spec), timeout=10),
            INVALID, "checkpoint_dir (", "must be at most 4096 bytes")
    # The longest reason is accepted; the author is the caller (the admin token's name).
    rev = c.schedules.UpdateSchedule(pb.UpdateScheduleRequest(
        job="texts", spec=triangular(), reason="x" * 1024), timeout=10)
    assert rev.version == 2 and rev.author == "admin", rev.author
    assert len(c.schedules.GetTimeline(pb.GetTimelineRequest(job="texts"),
                                       timeout=10).revisions) == 2


def case_store(c):
    launch(c, "store", workers=2)
    c.jobs.GetJob(pb.GetJobRequest(name="store"), timeout=10)
    base_threads = c.status("Threads")
    get = pb.StoreGetRequest(job="store", keys=["never"], timeout_ms=600000)
    calls = [c.workers.StoreGet.future(get, timeout=120) for _ in range(300)]
    time.sleep(2)
    done = [f for f in calls if f.done()]
    codes = [f.code() for f in done]
    assert len(done) == 300 - MAX_WAITERS and all(code == EXHAUSTED for code in codes), codes
    assert "kMaxStoreWaiters (256)" in done[0].details(), done[0].details()
    peak = c.status("Threads")
    for f in calls:
        f.cancel()
    settled = wait_until(lambda: (lambda n: n if n <= base_threads + 8 else None)(
        c.status("Threads")), 10, "the coordinator's threads to fall back")
    print(f"  threads: {base_threads} before, {peak} with {MAX_WAITERS} waits, {settled} after")

    rss = c.status("VmRSS")
    value = b"v" * 4000000  # 4 MB: under gRPC's 4 MiB message limit, so the coordinator decides
    for i in range(50):
        refused(lambda: c.workers.StoreSet(pb.StoreSetRequest(job="store", key=f"k{i}",
                                                              value=value), timeout=10),
                INVALID, "value (4000000 bytes) must be at most 65536 bytes")
    chunk = b"c" * 65536
    stored = 0
    while True:
        try:
            c.workers.StoreSet(pb.StoreSetRequest(job="store", key=f"k{stored}", value=chunk),
                               timeout=10)
            stored += 1
        except grpc.RpcError as e:
            assert e.code() == EXHAUSTED and "kMaxStoreBytesPerJob (1048576 bytes)" in e.details()
            break
        assert stored < 100, "no per-job store limit"
    grown = (c.status("VmRSS") - rss) / 1024
    print(f"  memory: +{grown:.1f} MB after 50 x 4 MB refused and {stored} x 64 KB stored")
    assert grown < 64, f"RSS grew by {grown:.1f} MB"
    values = c.workers.StoreGet(pb.StoreGetRequest(job="store", keys=["k0"]), timeout=10)
    assert values.values[0] == chunk


def case_max_jobs(c):
    held = len(c.jobs.ListJobs(pb.ListJobsRequest(), timeout=10).jobs)
    for i in range(held, MAX_JOBS):
        launch(c, f"fill-{i}")
    refused(lambda: launch(c, "one-too-many"), EXHAUSTED, f"--max-jobs ({MAX_JOBS})")


def case_corrupt_state(c):
    for name in ("good", "rev-bad", "step-bad", "state-bad", "spec-bad"):
        launch(c, name)
    c.stop()
    db = sqlite3.connect(c.state)
    db.execute("UPDATE revisions SET revision = x'ffff0102' WHERE job = 'rev-bad'")
    db.execute("UPDATE jobs SET global_step = -5 WHERE name = 'step-bad'")
    db.execute("UPDATE jobs SET state = 99 WHERE name = 'state-bad'")
    db.execute("UPDATE jobs SET spec = x'67617262616765' WHERE name = 'spec-bad'")
    db.commit()
    db.close()
    expected = {"rev-bad": "revision 1: revision is not a serialized",
                "step-bad": "global_step (-5) must be between 0 and",
                "state-bad": "state (99)",
                "spec-bad": "spec is not a serialized cyclr.v1.JobSpec"}
    for _ in range(2):  # the quarantine is persisted: the next start serves the same
        c.start()
        jobs = answers_everything(c)
        for name, why in expected.items():
            assert jobs[name].state == job_pb.FAILED, jobs[name]
            assert jobs[name].reason.startswith("quarantined at recovery: ") and \
                why in jobs[name].reason, jobs[name].reason
        assert jobs["good"].state == job_pb.PENDING
        assert not report(c, "good", steps=[pb.StepReport(step=9, loss=0.5)]).stop
        job = c.jobs.GetJob(pb.GetJobRequest(name="good"), timeout=10)
        assert job.state == job_pb.RUNNING and job.global_step == 10, job
        refused(lambda: c.schedules.UpdateSchedule(
            pb.UpdateScheduleRequest(job="rev-bad", spec=triangular()), timeout=10),
            grpc.StatusCode.FAILED_PRECONDITION, "has ended")
        for name in expected:  # their workers hear that they must stop
            assert report(c, name, steps=[pb.StepReport(step=1)]).stop, name
        c.stop()
        db = sqlite3.connect(c.state)
        db.execute("UPDATE jobs SET state = 1, global_step = 0 WHERE name = 'good'")
        db.commit()
        db.close()
    c.start()


def case_forged_worker(c):
    """Issue 14: forged reports, registrations and rendezvous writes for someone else's job."""
    launch(c, "prey", workers=2)
    launch(c, "mallory", workers=2)
    UNAUTH, DENIED = grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED
    calls = [
        lambda: c.workers.ReportProgress(pb.ReportProgressRequest(
            job="prey", rank=0, finished=True, epochs=[pb.EpochReport(test_accuracy=1.0)]),
            timeout=10),
        lambda: c.workers.ReportProgress(pb.ReportProgressRequest(
            job="prey", rank=1, error="forged error"), timeout=10),
        lambda: c.workers.Register(pb.RegisterRequest(job="prey", rank=0, world_size=2,
                                                      host="evil", pid=1), timeout=10),
        lambda: c.workers.StoreSet(pb.StoreSetRequest(job="prey", key="rank/1/addr",
                                                      value=b"evil:1"), timeout=10),
    ]
    real = c.creds.workers["prey"]
    try:
        for token, code, why in [("", UNAUTH, "no credentials"),
                                 ("cyclr_" + "0" * 64, UNAUTH, "unknown or revoked"),
                                 (c.creds.workers["mallory"], DENIED, "not a worker of job")]:
            c.creds.workers["prey"] = token
            for call in calls:
                refused(call, code, why)
    finally:
        c.creds.workers["prey"] = real
    job = c.jobs.GetJob(pb.GetJobRequest(name="prey"), timeout=10)
    assert job.state == job_pb.PENDING and not job.ranks and job.restarts == 0, job
    assert job.test_accuracy == 0, job.test_accuracy


CASES = [
    ("g. forged worker calls", case_forged_worker),
    ("a. PreviewSchedule overflow", case_preview),
    ("b. ReportProgress ranges", case_report),
    ("c. text sizes, names, phase", case_text),
    ("d. StoreGet waiters, store sizes", case_store),
    ("f. corrupted state file", case_corrupt_state),
    ("e. --max-jobs", case_max_jobs),  # last: it fills the coordinator
]


def main():
    tmp = tempfile.mkdtemp(prefix="cyclr-hostile-")
    load_stubs(tmp)
    passed = failed = 0
    c = Coordinator(tmp)
    try:
        for title, fn in CASES:
            start = time.time()
            try:
                fn(c)
                answers_everything(c)
                c.restart()
                answers_everything(c)
                passed += 1
                print(f"PASS {title} ({time.time() - start:.1f} s)", flush=True)
            except Exception as e:  # one case's failure must not hide the others'
                failed += 1
                print(f"FAIL {title} ({time.time() - start:.1f} s): {e!r}", flush=True)
                if c.proc.poll() is not None:
                    print(open(os.path.join(tmp, "coordinator.log")).read()[-3000:])
                    c.start()
    finally:
        c.close()
    print(f"{passed} passed, {failed} failed")
    if not failed:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
