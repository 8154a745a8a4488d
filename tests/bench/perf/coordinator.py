"""Starts a cyclr-coordinator on free loopback ports with a fresh state file, for one benchmark."""
import os
import re
import time

from . import runner


class Coordinator:
    def __init__(self, name, metrics=True):
        self.dir = runner.fresh_dir(name)
        cmd = [runner.binary("cyclr-coordinator"), "--listen", "127.0.0.1:0",
               "--metrics", "127.0.0.1:0" if metrics else "",
               "--state", os.path.join(self.dir, "state.db"),
               "--work-dir", os.path.join(self.dir, "work")]
        self.proc = runner.Proc(cmd)
        deadline = time.monotonic() + 20
        self.address = None
        while time.monotonic() < deadline and self.address is None:
            m = re.search(r"listening on (\S+)", self.proc.text())
            if m:
                self.address = m.group(1)
            elif self.proc.p.poll() is not None:
                break
            time.sleep(0.05)
        if self.address is None:
            self.stop()
            raise runner.BenchError(f"coordinator did not start:\n{self.proc.text()[-2000:]}")

    @property
    def pid(self):
        return self.proc.p.pid

    def worker_log(self, job, rank):
        with open(os.path.join(self.dir, "work", "jobs", job, f"worker-{rank}.log")) as f:
            return f.read()

    @property
    def token_file(self):
        """The admin token the coordinator wrote beside its state (authentication is on)."""
        return os.path.join(self.dir, "cyclr-admin.token")

    def ctl(self, *args):
        return [runner.binary("cyclrctl"), "--coordinator", self.address, "--token-file",
                self.token_file, *args]

    def stop(self):
        if self.proc.p.poll() is None:
            self.proc.p.terminate()
        self.proc.wait(time.monotonic() + 15)
        runner.remove(self.dir)
