"""Helpers shared by the deploy tests: a pass/fail tally, free ports, a real coordinator.

Every test script prints one line per check and ends with `N passed, N failed`; its exit status
is non-zero when a check failed.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(REPO, "deploy")


class Tally:
    """Counts checks; `check` never raises, so one failure does not hide the others."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        sys.stdout.flush()
        return bool(ok)

    def equal(self, what, got, want):
        return self.check(f"{what} == {want!r}", got == want, f"got {got!r}")

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn, timeout, what, interval=0.1):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def stop(proc, grace=10):
    """Ends a process this test started (SIGTERM, then SIGKILL)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Coordinator:
    """A real cyclr-coordinator on free loopback ports with its state in `tmp`."""

    def __init__(self, bin_dir, tmp, extra_args=(), env=None):
        self.bin_dir, self.tmp = bin_dir, tmp
        self.port, self.metrics_port = free_port(), free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.metrics_addr = f"127.0.0.1:{self.metrics_port}"
        self.log_path = os.path.join(tmp, "coordinator.log")
        self.token_file = os.path.join(tmp, "cyclr-admin.token")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [os.path.join(bin_dir, "cyclr-coordinator"), "--listen", self.addr,
             "--metrics", self.metrics_addr, "--state", os.path.join(tmp, "state.db"),
             "--work-dir", os.path.join(tmp, "work"), "--allow-path-prefix", tmp, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_until(lambda: self.proc.poll() is not None or
                   self.ctl("jobs", "list", check=False).returncode == 0, 20, "the coordinator")
        if self.proc.poll() is not None:
            raise RuntimeError("coordinator exited: " + self.tail())

    def ctl(self, *args, check=True, timeout=120):
        r = subprocess.run([os.path.join(self.bin_dir, "cyclrctl"), "--coordinator", self.addr,
                            *args], capture_output=True, text=True, timeout=timeout,
                           env=self.env())
        if check and r.returncode != 0:
            raise RuntimeError(f"cyclrctl {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r

    def env(self, **extra):
        """Environment for cyclrctl and workers: the admin token the coordinator wrote."""
        return dict(os.environ, CYCLR_TOKEN_FILE=self.token_file, **extra)

    def job(self, name):
        return json.loads(self.ctl("jobs", "get", name, "--output", "json").stdout)

    def tail(self, chars=3000):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-chars:]

    def close(self):
        stop(self.proc)
        self.log.close()


def need_binaries(bin_dir, names=("cyclr-coordinator", "cyclr-worker", "cyclrctl")):
    missing = [n for n in names if not os.access(os.path.join(bin_dir, n), os.X_OK)]
    if missing:
        print(f"missing binaries in {bin_dir}: {', '.join(missing)} (build them first)")
        print("0 passed, 1 failed")
        sys.exit(1)


def need_tools(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print(f"missing tools: {', '.join(missing)} (deploy/install-deps.sh --with-tests)")
        print("0 passed, 1 failed")
        sys.exit(1)


def dashboard_queries(dashboard):
    """(where, expr) for every panel target and annotation of a Grafana dashboard."""
    out = []
    panels = list(dashboard.get("panels", []))
    while panels:
        p = panels.pop(0)
        panels.extend(p.get("panels", []))  # rows may nest panels
        for tgt in p.get("targets", []):
            out.append((f"panel '{p.get('title')}' {tgt.get('refId')}", tgt.get("expr", "")))
    for a in dashboard.get("annotations", {}).get("list", []):
        if a.get("expr"):
            out.append((f"annotation '{a.get('name')}'", a["expr"]))
    return out


def catalog_metrics(metrics_md):
    """{name: type} from the table in docs/metrics.md."""
    import re
    out = {}
    for m in re.finditer(r"^\| `(cyclr_[a-z0-9_]+)` \| (\w+) \|", open(metrics_md).read(), re.M):
        out[m.group(1)] = m.group(2)
    return out


_PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                 "unless", "offset", "bool", "inf", "nan", "atan2"}


def promql_metric_names(expr):
    """Metric names (and recording-rule names) an expression selects; labels, functions, grouping
    lists, strings and durations are left out."""
    import re
    s = re.sub(r'"(\\.|[^"\\])*"', '""', expr)            # strings
    s = re.sub(r"\{[^}]*\}", "", s)                        # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)                       # ranges / subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)                     # Grafana variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        word, rest = m.group(0), s[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in _PROMQL_WORDS:
            continue
        if re.fullmatch(r"\d+(ms|s|m|h|d|w|y)", word) or s[m.start() - 1:m.start()].isdigit():
            continue
        names.add(word)
    return names
