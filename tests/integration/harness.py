"""Helpers the integration tests share (they run as scripts: this folder is on sys.path)."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout, what):
    """Polls cond() every 50 ms; returns its first true value or fails naming `what`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Coordinator:
    """A cyclr-coordinator on loopback with its state and work folders under `tmp`."""

    def __init__(self, bin_dir, tmp, *flags, ctl_flags=(), listen=None):
        """`flags` go to the coordinator, `ctl_flags` to every cyclrctl call (e.g. --tls-ca)."""
        # The test's files (checkpoints, npy data, models) live in `tmp`: jobs may use it.
        self.bin, self.tmp, self.flags = bin_dir, tmp, ["--allow-path-prefix", tmp, *flags]
        self.ctl_flags = list(ctl_flags)
        # The admin token the coordinator creates beside its state file; every cyclrctl call
        # here sends it (as a user would with $CYCLR_TOKEN_FILE).
        self.token_file = os.path.join(tmp, "cyclr-admin.token")
        self.addr = f"127.0.0.1:{free_port()}"
        self.listen = listen or self.addr
        self.metrics_port = free_port()
        self.log_path = os.path.join(tmp, "coordinator.log")
        self.log = open(self.log_path, "a")
        self.start()

    def start(self):
        if self.log.closed:  # started again after close(): a restart
            self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [f"{self.bin}/cyclr-coordinator", "--listen", self.listen,
             "--metrics", f"127.0.0.1:{self.metrics_port}",
             "--state", os.path.join(self.tmp, "state.db"),
             "--work-dir", os.path.join(self.tmp, "work"), *self.flags],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.ctl("jobs", "list", check=False).returncode == 0, 30,
                   "the coordinator to answer")

    def ctl(self, *args, check=True, timeout=60):
        r = subprocess.run([f"{self.bin}/cyclrctl", "--coordinator", self.addr, *self.ctl_flags,
                            *args],
                           capture_output=True, text=True, timeout=timeout, env=self.env())
        if check and r.returncode != 0:
            raise AssertionError(f"cyclrctl {' '.join(args)} failed: {r.stderr.strip()}")
        return r

    def env(self):
        """The environment of a cyclrctl call: the coordinator's admin token (none under
        --insecure, which writes no token file)."""
        if not os.path.exists(self.token_file):
            return dict(os.environ)
        return dict(os.environ, CYCLR_TOKEN_FILE=self.token_file)

    def follow(self, *args):
        return subprocess.Popen([f"{self.bin}/cyclrctl", "--coordinator", self.addr,
                                 *self.ctl_flags, *args], env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def job(self, name):
        return json.loads(self.ctl("jobs", "get", name, "--output", "json").stdout)

    def state(self, name):
        """The job's state, or None while it does not exist (yet)."""
        r = self.ctl("jobs", "get", name, "--output", "json", check=False)
        return json.loads(r.stdout)["state"] if r.returncode == 0 else None

    def metrics(self):
        return urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                      timeout=5).read().decode()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()

    def log_text(self):
        return open(self.log_path).read()
