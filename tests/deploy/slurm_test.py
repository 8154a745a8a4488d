#!/usr/bin/env python3
"""deploy/slurm/cyclr.sbatch under a real Slurm on this machine.

Starts its own munged (temp key and socket), slurmctld and slurmd (temp slurm.conf for this host,
free ports, no cgroups: see /work/shared/NOTES.md "Slurm on localhost") and a test coordinator;
then
  1. launches an external 2-worker job with cyclrctl and submits cyclr.sbatch with 2 tasks
     (sbatch --wait): both ranks register (SLURM_PROCID 0 and 1) and the job SUCCEEDS;
  2. submits cyclr.sbatch with CYCLR_LAUNCH_ARGS, so the script launches the job itself;
  3. submits it without a coordinator address: it fails with one clear message;
then, with a second coordinator started with --slurm (the coordinator submits, follows, stops
and restarts the batch jobs itself, issue 16):
  4. `cyclrctl launch --scheduler slurm --follow` -> SUCCEEDED, the Slurm job id, state and node
     list in the job, `cyclrctl logs --rank R` shows each rank's output;
  5. `cyclrctl stop` -> STOPPED and the allocation leaves squeue;
  6. one rank SIGKILLed -> the group is resubmitted (restarts 1, submissions 2), resumes from the
     newest checkpoint and SUCCEEDS;
  and `cyclrctl lr-find --scheduler slurm` runs its probe there;
  7. an unknown partition -> the CLI fails with sbatch's words and the job is FAILED; a hostile
     --slurm-time is refused naming slurm.time; a coordinator without --slurm says so.
Every daemon it started is stopped at the end. Needs root (slurmd runs jobs as the submitter).
Usage: slurm_test.py BIN_DIR
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from deploy_util import (DEPLOY, Coordinator, Tally, free_port, need_binaries, need_tools, stop,
                         wait_until)

SBATCH = os.path.join(DEPLOY, "slurm", "cyclr.sbatch")
JOB_FLAGS = ["--model", "mlp", "--dataset", "fashion-mnist", "--train-limit", "2048",
             "--test-limit", "500", "--epochs", "1", "--batch-size", "32", "--policy",
             "triangular2", "--base-lr", "0.001", "--max-lr", "0.01", "--step-size-up", "8"]


class Slurm:
    """munged + slurmctld + slurmd for this host, everything under `tmp`."""

    def __init__(self, tmp):
        self.tmp, self.procs = tmp, []
        os.chmod(tmp, 0o755)  # munged wants its socket's folder traversable
        host = socket.gethostname().split(".")[0]
        key = os.path.join(tmp, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)
        sock = os.path.join(tmp, "munge.sock")
        self.start("munged", ["munged", "--foreground", "--force", f"--socket={sock}",
                              f"--key-file={key}", f"--log-file={tmp}/munged.log",
                              f"--pid-file={tmp}/munged.pid", f"--seed-file={tmp}/munged.seed"])
        wait_until(lambda: os.path.exists(sock), 10, "munged's socket")
        for d in ("state", "spool"):
            os.makedirs(os.path.join(tmp, d))
        self.conf = os.path.join(tmp, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=cyclrtest
SlurmctldHost={host}
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
MpiDefault=none
StateSaveLocation={tmp}/state
SlurmdSpoolDir={tmp}/spool
SlurmctldPidFile={tmp}/slurmctld.pid
SlurmdPidFile={tmp}/slurmd.pid
SlurmctldLogFile={tmp}/slurmctld.log
SlurmdLogFile={tmp}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName={host} CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=cyclr Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
""")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.start("slurmctld", ["slurmctld", "-D", "-f", self.conf])
        self.start("slurmd", ["slurmd", "-D", "-f", self.conf])
        wait_until(self.idle, 30, "an idle Slurm node")

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, f"{name}.out"), "w")
        self.procs.append((name, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                                  env=getattr(self, "env", None)), log))

    def idle(self):
        for name, p, _ in self.procs:
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode}")
        r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                           env=self.env)
        return r.returncode == 0 and r.stdout.strip() == "idle"

    def sbatch(self, args, env_extra, script_args=(), timeout=180):
        """sbatch --wait with 2 tasks and no GPUs (this host has none); returns when it ended."""
        env = dict(self.env, **env_extra)
        return subprocess.run(["sbatch", "--wait", "--ntasks=2", "--gpus-per-task=0", *args,
                               SBATCH, *script_args], capture_output=True, text=True, env=env,
                              cwd=self.tmp, timeout=timeout)

    def close(self):
        for _, p, log in reversed(self.procs):
            stop(p)
            log.close()


def read(path):
    return open(path, errors="replace").read() if os.path.exists(path) else ""


def check_job(t, coord, name, out):
    job = coord.job(name)
    t.equal(f"{name}: state", job["state"], "SUCCEEDED")
    t.equal(f"{name}: launcher", job["spec"]["launcher"], "external")
    t.equal(f"{name}: ranks that reported", sorted(r["rank"] for r in job.get("ranks", [])), [0, 1])
    ranks = sorted(re.findall(r"rank (\d)/2", out))
    t.equal(f"{name}: workers ran as ranks 0 and 1 of 2", ranks, ["0", "1"])


def run(t, slurm, coord, bin_dir):
    tmp = slurm.tmp
    # 1. The job is launched first (external), then the batch script supplies its ranks.
    token = os.path.join(tmp, "ext.token")  # the workers' credential, written by the launch
    coord.ctl("launch", "--name", "slurm-ext", "--workers", "2", *JOB_FLAGS,
              "--launcher", "external", "--worker-token-file", token)
    out1 = os.path.join(tmp, "ext.out")
    # Coordinator address and job name as the script's arguments.
    r = slurm.sbatch([f"--output={out1}"], {"CYCLR_BIN": bin_dir, "CYCLR_WORKER_TOKEN_FILE": token,
                                            "CYCLR_TOKEN_FILE": coord.token_file},
                     script_args=[coord.addr, "slurm-ext"])
    t.equal("sbatch (pre-launched job) exit status", r.returncode, 0)
    check_job(t, coord, "slurm-ext", read(out1))

    # 2. The batch script launches the job itself (CYCLR_LAUNCH_ARGS); address/job as env vars.
    out2 = os.path.join(tmp, "self.out")
    r = slurm.sbatch([f"--output={out2}"], {
        "CYCLR_BIN": bin_dir, "CYCLR_COORDINATOR": coord.addr, "CYCLR_JOB": "slurm-self",
        "CYCLR_LAUNCH_ARGS": " ".join(JOB_FLAGS), "CYCLR_LOG_DIR": os.path.join(tmp, "logs"),
        "CYCLR_TOKEN_FILE": coord.token_file})
    t.equal("sbatch (script launches the job) exit status", r.returncode, 0)
    check_job(t, coord, "slurm-self", read(out2))
    logs = os.listdir(os.path.join(tmp, "logs")) if os.path.isdir(os.path.join(tmp, "logs")) else []
    t.check("per-rank logs in CYCLR_LOG_DIR", logs, str(logs))

    # 3. No coordinator: the script refuses with one message naming what is missing.
    out3 = os.path.join(tmp, "bad.out")
    env = {k: v for k, v in slurm.env.items() if k not in ("CYCLR_COORDINATOR", "CYCLR_JOB")}
    r = subprocess.run(["sbatch", "--wait", "--ntasks=2", "--gpus-per-task=0",
                        f"--output={out3}", SBATCH], capture_output=True, text=True, env=env,
                       cwd=tmp, timeout=120)  # (self.env has no CYCLR_* variables)
    t.check("sbatch without a coordinator fails", r.returncode != 0, r.stdout + r.stderr)
    t.check("and says the coordinator and job are required",
            "coordinator and job are required" in read(out3), read(out3))


def wait_job(coord, name, pred, timeout, what):
    def ready():
        job = coord.job(name)
        return job if pred(job) else None
    return wait_until(ready, timeout, what, interval=0.3)


def ended(job):
    return job["state"] in ("SUCCEEDED", "FAILED", "STOPPED")


def in_squeue(slurm, slurm_id):
    r = subprocess.run(["squeue", "-h", "-j", slurm_id, "-o", "%i"], capture_output=True,
                       text=True, env=slurm.env)
    return r.stdout.strip() != ""


def rank_pid(job, rank):
    """The pid of a cyclr-worker of `job` whose Slurm task is `rank`, or None."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if (cmd and cmd[0].endswith(b"cyclr-worker") and job.encode() in cmd
                and f"SLURM_PROCID={rank}".encode() in env):
            return int(pid)
    return None


def launch_args(name, *extra, epochs="1"):
    flags = list(JOB_FLAGS)
    flags[flags.index("--epochs") + 1] = epochs
    return ["launch", "--scheduler", "slurm", "--name", name, "--workers", "2", *flags, *extra]


def run_scheduler(t, slurm, plain, bin_dir):
    """Issue 16: the coordinator runs the batch jobs (--slurm)."""
    tmp = os.path.join(slurm.tmp, "sched")
    os.makedirs(tmp)
    coord = Coordinator(bin_dir, tmp, ["--slurm", "--cluster-poll-ms", "300"], env=slurm.env)
    host = socket.gethostname().split(".")[0]
    try:
        # 4. To its end, followed from the CLI.
        r = coord.ctl(*launch_args("sl-a", "--follow"), check=False, timeout=240)
        t.equal("launch --scheduler slurm --follow: exit status", r.returncode, 0)
        job = coord.job("sl-a")
        c = job.get("cluster", {})
        t.equal("sl-a: state", job["state"], "SUCCEEDED")
        t.equal("sl-a: launcher", job["spec"]["launcher"], "slurm")
        t.check("sl-a: the Slurm job id is recorded", c.get("id", "").isdigit(), str(c))
        t.equal("sl-a: Slurm's last word", c.get("state"), "COMPLETED")
        t.equal("sl-a: node list", c.get("nodes"), host)
        shown = coord.ctl("jobs", "get", "sl-a").stdout
        t.check("jobs get shows the Slurm job", f"job {c.get('id')} COMPLETED on {host}" in shown,
                shown)
        for rank in (0, 1):
            logs = coord.ctl("logs", "sl-a", "--rank", str(rank)).stdout
            t.check(f"cyclrctl logs sl-a --rank {rank} shows that rank's output",
                    f"rank {rank}/2" in logs, logs[-400:])

        # 5. Stop: the allocation is cancelled.
        coord.ctl(*launch_args("sl-b", epochs="400"))
        job = wait_job(coord, "sl-b", lambda j: j["state"] == "RUNNING" and
                       j.get("cluster", {}).get("state") == "RUNNING", 120, "sl-b to run")
        coord.ctl("stop", "sl-b")
        sid = job["cluster"]["id"]
        t.check("stop: the allocation leaves squeue",
                wait_until(lambda: not in_squeue(slurm, sid), 60, "squeue to forget " + sid))
        t.equal("sl-b: state", coord.job("sl-b")["state"], "STOPPED")

        # 6. One rank killed: the group is resubmitted and resumes from its checkpoint.
        ckpt = os.path.join(tmp, "ckpt")
        coord.ctl(*launch_args("sl-c", "--checkpoint-dir", ckpt, "--checkpoint-every", "20",
                               "--max-restarts", "1", epochs="60"))
        wait_until(lambda: os.path.isdir(ckpt) and any(f.startswith("ckpt-")
                                                       for f in os.listdir(ckpt)),
                   120, "sl-c's first checkpoint", interval=0.05)
        pid = wait_until(lambda: rank_pid("sl-c", 1), 30, "rank 1 of sl-c", interval=0.05)
        os.kill(pid, signal.SIGKILL)
        job = wait_job(coord, "sl-c", ended, 240, "sl-c to end")
        t.equal("sl-c (rank 1 killed): state", job["state"], "SUCCEEDED")
        t.equal("sl-c: restarts", job.get("restarts", 0), 1)
        t.equal("sl-c: Slurm submissions", job["cluster"].get("submissions"), 2)
        log0 = coord.ctl("logs", "sl-c", "--rank", "0").stdout
        t.check("sl-c: the new group resumed from a checkpoint", "resumed from" in log0,
                log0[-600:])

        # An LR range test through Slurm: the probe's curve comes from rank 0 in the allocation.
        r = coord.ctl("lr-find", "--scheduler", "slurm", "--name", "sl-probe", "--workers", "2",
                      "--model", "mlp", "--dataset", "fashion-mnist", "--batch-size", "64",
                      "--train-limit", "12000", "--test-limit", "500", "--start-lr", "1e-4",
                      "--end-lr", "10", "--steps", "120", "--follow", check=False, timeout=240)
        probe = coord.job("sl-probe")
        t.check("lr-find --scheduler slurm: suggestions printed",
                r.returncode == 0 and "valley" in r.stdout, r.stdout[-500:] + r.stderr)
        t.check("  the probe ran as a Slurm job and SUCCEEDED",
                probe["state"] == "SUCCEEDED" and probe["cluster"].get("state") == "COMPLETED",
                str(probe.get("cluster")) + probe.get("reason", ""))

        # 7. Refusals.
        r = coord.ctl(*launch_args("sl-d", "--slurm-partition", "nosuch"), check=False)
        t.check("unknown partition: cyclrctl fails", r.returncode != 0, r.stdout)
        t.check("  with sbatch's words", "invalid partition" in r.stderr, r.stderr)
        t.equal("  and the job is FAILED", coord.job("sl-d")["state"], "FAILED")
        r = coord.ctl(*launch_args("sl-e", "--slurm-time", "1:00;reboot"), check=False)
        t.check("hostile --slurm-time refused naming slurm.time",
                r.returncode != 0 and "slurm.time" in r.stderr, r.stderr)
        r = plain.ctl(*launch_args("sl-f"), check=False)
        t.check("a coordinator without --slurm says so",
                r.returncode != 0 and "--slurm" in r.stderr, r.stderr)
    finally:
        if t.failed:
            print("--- scheduler coordinator.log\n" + coord.tail())
        coord.close()


def main():
    bin_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
    need_binaries(bin_dir)
    need_tools("munged", "slurmctld", "slurmd", "sbatch", "sinfo")
    t = Tally("slurm_test")
    if os.geteuid() != 0:
        t.check("running as root (slurmd must run jobs)", False, "run this test as root")
        t.finish()
    tmp = tempfile.mkdtemp(prefix="cyclr-deploy-slurm-")
    slurm = coord = None
    ok = False
    try:
        coord = Coordinator(bin_dir, tmp)
        slurm = Slurm(tmp)
        run(t, slurm, coord, bin_dir)
        run_scheduler(t, slurm, coord, bin_dir)
        ok = t.failed == 0
    except Exception as e:
        t.check("test ran to the end", False, repr(e))
    finally:
        if not ok:
            for name in ("coordinator.log", "ext.out", "self.out", "bad.out", "slurmctld.log",
                         "slurmd.log", "munged.out"):
                text = read(os.path.join(tmp, name))
                if text:
                    print(f"--- {name}\n{text[-2000:]}")
        if slurm:
            slurm.close()
        if coord:
            coord.close()
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
