#!/usr/bin/env python3
"""promtool on deploy/prometheus: the configs and rule files are valid, the alert unit tests in
alerts_test.yml pass, and each alert's tests can fail: with that alert's expression replaced by
one that never fires, `promtool test rules` must report a failure.
Usage: promtool_test.py
"""
import os
import shutil
import subprocess
import tempfile

import yaml

from deploy_util import DEPLOY, REPO, Tally, need_tools

HERE = os.path.dirname(os.path.abspath(__file__))
PROM = os.path.join(DEPLOY, "prometheus")


def promtool(*args, cwd=None):
    return subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def main():
    need_tools("promtool")
    t = Tally("promtool_test")
    r = promtool("check", "config", os.path.join(PROM, "prometheus.yml"))
    t.check("promtool check config deploy/prometheus/prometheus.yml", r.returncode == 0,
            r.stdout + r.stderr)
    # The in-cluster config names rule files by their mount path: check its syntax only.
    r = promtool("check", "config", "--syntax-only", os.path.join(DEPLOY, "k8s", "prometheus.yml"))
    t.check("promtool check config --syntax-only deploy/k8s/prometheus.yml", r.returncode == 0,
            r.stdout + r.stderr)
    rules = [os.path.join(PROM, "rules", f) for f in ("recording.yml", "alerts.yml")]
    r = promtool("check", "rules", *rules)
    t.check("promtool check rules", r.returncode == 0, r.stdout + r.stderr)
    r = promtool("test", "rules", "alerts_test.yml", cwd=HERE)
    t.check("promtool test rules alerts_test.yml", r.returncode == 0, r.stdout + r.stderr)

    alerts = yaml.safe_load(open(rules[1]))
    names = [rule["alert"] for g in alerts["groups"] for rule in g["rules"] if "alert" in rule]
    tests = yaml.safe_load(open(os.path.join(HERE, "alerts_test.yml")))
    tested = {c["alertname"] for tc in tests["tests"] for c in tc.get("alert_rule_test", [])}
    for name in names:
        t.check(f"alert {name} has unit tests", name in tested)
        t.check(f"alert {name}'s tests fail when it never fires", fails_when_silenced(
            alerts, name, tests), "promtool test rules still passed")
    t.finish()


def fails_when_silenced(alerts, name, tests):
    """Runs the unit tests against a copy of the rules where `name` can never fire."""
    tmp = tempfile.mkdtemp(prefix="cyclr-promtool-")
    try:
        broken = yaml.safe_load(yaml.safe_dump(alerts))
        for g in broken["groups"]:
            for rule in g["rules"]:
                if rule.get("alert") == name:
                    rule["expr"] = "vector(1) == 0"
        yaml.safe_dump(broken, open(os.path.join(tmp, "alerts.yml"), "w"))
        shutil.copy(os.path.join(PROM, "rules", "recording.yml"), tmp)
        copy = dict(tests, rule_files=["recording.yml", "alerts.yml"])
        yaml.safe_dump(copy, open(os.path.join(tmp, "alerts_test.yml"), "w"))
        return promtool("test", "rules", "alerts_test.yml", cwd=tmp).returncode != 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
