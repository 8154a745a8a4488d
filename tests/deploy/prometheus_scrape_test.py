#!/usr/bin/env python3
"""A real Prometheus scrapes a real coordinator while a real 2-worker job trains.

Starts cyclr-coordinator (free loopback ports, temp state) and Prometheus (deploy's config and
rules, scraping every second), launches a short MLP job on Fashion-MNIST as `--launcher external
--follow`, appends a schedule revision from step 64 while the job waits for its workers (so the
dashboard's revision annotations have something to show), starts the two workers, and after
the job SUCCEEDED asserts through Prometheus's HTTP API that:
  * every PromQL query of every dashboard panel and annotation returns data for the job;
  * every scraped cyclr_learning_rate sample equals, exactly, PyTorch's CyclicLR value at the
    scraped cyclr_global_step under the timeline (revision 1 below step 64, revision 2 from it),
    and every per-rank LR sample is a value of that timeline;
  * the recording rules produce data and no alert fired;
and that the coordinator accepts the Kubernetes job file (deploy/k8s/job-file.yaml).
Then a second coordinator serves /metrics over TLS with basic auth, as in the cluster, and a
second Prometheus scrapes it with the cluster's scrape config (deploy/k8s/prometheus.yml: scheme
https, tls_config ca_file, basic_auth) pointed at local files: the target is up and cyclr_
series arrive; with a wrong password the target is down.
Usage: prometheus_scrape_test.py BIN_DIR
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import torch
import yaml

from deploy_util import (DEPLOY, Coordinator, Tally, dashboard_queries, free_port, need_binaries,
                         need_tools, stop, wait_until)

JOB = "scrape"
SPEC1 = {"policy": "triangular2", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 16}
SPEC2 = {"policy": "triangular2", "base_lr": 0.001, "max_lr": 0.005, "step_size_up": 16}
REVISION_STEP = 64
# 57,344 samples / 2 workers / batch 32 = 896 steps per epoch, 2 epochs: ~10 s with OpenBLAS and
# shared memory (128 steps, the earlier size, ended between two 1 s scrapes).
TRAIN_LIMIT = 57344
TOTAL_STEPS = 1792
RATE_INTERVAL = "5s"
# The exposition (prometheus-cpp's text format) prints 16 significant digits, so a scraped value
# can be 1 ulp off the double the coordinator computed (0.00184375 for 0.0018437500000000001);
# 1e-15 relative is far below the LR's change between neighbouring steps (~1e-2 relative).
REL_TOL = 1e-15  # what Grafana's $__rate_interval is with a 1 s scrape interval (>= 4 x)


def spec_flags(spec):
    return ["--policy", spec["policy"], "--base-lr", str(spec["base_lr"]), "--max-lr",
            str(spec["max_lr"]), "--step-size-up", str(spec["step_size_up"])]


def torch_cyclic(spec, steps):
    """PyTorch's CyclicLR LR for steps 0..steps-1."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=spec["base_lr"])
    sched = torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=spec["base_lr"], max_lr=spec["max_lr"], step_size_up=spec["step_size_up"],
        mode=spec["policy"], cycle_momentum=False)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


class Prometheus:
    def __init__(self, tmp, target, scrape_config=None):
        """deploy/prometheus's config scraping `target` every second; `scrape_config` replaces
        its scrape config (the target is set in it too)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf_dir = os.path.join(tmp, "prometheus")
        shutil.copytree(os.path.join(DEPLOY, "prometheus"), conf_dir)
        conf = yaml.safe_load(open(os.path.join(conf_dir, "prometheus.yml")))
        conf["global"].update(scrape_interval="1s", evaluation_interval="1s")
        if scrape_config:
            conf["scrape_configs"][0] = scrape_config
        conf["scrape_configs"][0]["static_configs"] = [{"targets": [target]}]
        yaml.safe_dump(conf, open(os.path.join(conf_dir, "prometheus.yml"), "w"))
        self.log = open(os.path.join(tmp, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={conf_dir}/prometheus.yml",
             f"--storage.tsdb.path={tmp}/tsdb", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.proc.poll() is not None or self.ready(), 30, "Prometheus")
        if self.proc.poll() is not None:
            raise RuntimeError("prometheus exited; see prometheus.log")

    def ready(self):
        try:
            return urllib.request.urlopen(self.url + "/-/ready", timeout=2).status == 200
        except OSError:
            return False

    def api(self, path, **params):
        url = f"{self.url}/api/v1/{path}?" + urllib.parse.urlencode(params)
        body = json.loads(urllib.request.urlopen(url, timeout=10).read())
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr, **params):
        return self.api("query", query=expr, **params)["result"]

    def close(self):
        stop(self.proc)
        self.log.close()


def grafana_expand(expr, job, range_s):
    return (expr.replace("$job", job).replace("${job}", job)
            .replace("$__rate_interval", RATE_INTERVAL).replace("$__interval", "1s")
            .replace("$__range", f"{int(range_s)}s"))


def run_job(t, coord, prom, tmp, bin_dir):
    token = os.path.join(tmp, "worker.token")  # the workers' credential, written by the launch
    follow = subprocess.Popen(
        [os.path.join(bin_dir, "cyclrctl"), "--coordinator", coord.addr, "launch", "--name", JOB,
         "--workers", "2", "--model", "mlp", "--dataset", "fashion-mnist", "--train-limit", str(TRAIN_LIMIT),
         "--test-limit", "1000", "--epochs", "2", "--batch-size", "32", "--threads", "1",
         *spec_flags(SPEC1), "--launcher", "external", "--follow", "--worker-token-file", token],
        stdout=open(os.path.join(tmp, "follow.log"), "w"), stderr=subprocess.STDOUT,
        env=coord.env())
    sel = f'cyclr_schedule_revisions_total{{job="{JOB}"}}'
    # Two scrapes of revision 1 before the update, so the revision counter visibly changes.
    wait_until(lambda: prom.query(f"count_over_time({sel}[1m]) >= 2"), 30, "scrapes of the job")
    coord.ctl("schedule", "set", JOB, "--at-step", str(REVISION_STEP), *spec_flags(SPEC2),
              "--reason", "deploy test")
    wait_until(lambda: prom.query(f"{sel} == 1"), 30, "the revision in Prometheus")
    workers = [subprocess.Popen(
        [os.path.join(bin_dir, "cyclr-worker"), "--coordinator", coord.addr, "--job", JOB,
         "--rank", str(r), "--world-size", "2", "--threads", "1",
         "--log-dir", os.path.join(tmp, "logs"), "--worker-token-file", token],
        stdout=open(os.path.join(tmp, f"worker{r}.log"), "w"), stderr=subprocess.STDOUT)
        for r in range(2)]
    try:
        t.equal("cyclrctl launch --follow exit status", follow.wait(180), 0)
        t.equal("worker exit statuses", [w.wait(60) for w in workers], [0, 0])
    finally:
        for p in [follow, *workers]:
            stop(p)
    job = coord.job(JOB)
    t.equal("job state", job["state"], "SUCCEEDED")
    t.equal("job global step", int(job["global_step"]), TOTAL_STEPS)
    time.sleep(3)  # a few scrapes of the final state


def check_dashboard(t, prom, start, end):
    dash = json.load(open(os.path.join(DEPLOY, "grafana/dashboards/cyclr.json")))
    for where, expr in dashboard_queries(dash):
        q = grafana_expand(expr, JOB, end - start)
        res = prom.api("query_range", query=q, start=start, end=end, step=1)["result"]
        values = [float(v) for s in res for _, v in s["values"]]
        finite = [v for v in values if v == v]
        t.check(f"{where} returns data: {q}", finite, f"{len(res)} series, {len(values)} values")


def close(a, b):
    return abs(a - b) <= REL_TOL * abs(b)


def check_learning_rates(t, prom):
    lr1, lr2 = torch_cyclic(SPEC1, TOTAL_STEPS + 1), torch_cyclic(SPEC2, TOTAL_STEPS + 1)
    expected = [lr1[s] if s < REVISION_STEP else lr2[s] for s in range(TOTAL_STEPS + 1)]

    def samples(expr):
        res = prom.query(f"{expr}[10m]")
        return {json.dumps(r["metric"], sort_keys=True): {ts: float(v) for ts, v in r["values"]}
                for r in res}

    lr = next(iter(samples(f'cyclr_learning_rate{{job="{JOB}"}}').values()), {})
    step = next(iter(samples(f'cyclr_global_step{{job="{JOB}"}}').values()), {})
    pairs = [(int(step[ts]), v) for ts, v in sorted(lr.items()) if ts in step]
    t.check("LR and global step scraped together", len(pairs) >= 5, str(len(pairs)))
    bad = [(s, v, expected[s] if 0 <= s <= TOTAL_STEPS else None) for s, v in pairs
           if not (0 <= s <= TOTAL_STEPS and close(v, expected[s]))]
    t.check(f"all {len(pairs)} cyclr_learning_rate samples equal CyclicLR at their global step (16 digits)",
            not bad and pairs, f"(step, scraped, expected): {bad[:5]}")
    training = {s for s, _ in pairs if 0 < s < TOTAL_STEPS}
    t.check(f"samples taken while training (0 < step < {TOTAL_STEPS})", training, str(sorted({s for s, _ in pairs})))
    t.check("samples under revision 2 (step >= 64)", any(s >= REVISION_STEP for s, _ in pairs))
    ranks = samples(f'cyclr_rank_learning_rate{{job="{JOB}"}}')
    t.equal("ranks scraped", len(ranks), 2)
    off = [v for series in ranks.values() for v in series.values()
           if not any(close(v, e) for e in expected)]
    t.check("every cyclr_rank_learning_rate sample is a value of the timeline", ranks and not off,
            str(off[:5]))


def check_rules(t, prom):
    count = prom.query(f'job:cyclr_ranks:count{{job="{JOB}"}}')
    t.equal("job:cyclr_ranks:count", [float(r["value"][1]) for r in count], [2.0])
    skew = prom.query(f'job:cyclr_rank_learning_rate:skew{{job="{JOB}"}}')
    t.equal("LR spread between ranks after the job", [float(r["value"][1]) for r in skew], [0.0])
    firing = [a["labels"]["alertname"] for a in prom.api("alerts")["alerts"]
              if a["state"] == "firing"]
    t.equal("firing alerts", firing, [])
    rules = prom.api("rules")["groups"]
    unhealthy = [r["name"] for g in rules for r in g["rules"] if r.get("health") != "ok"]
    t.equal("rules Prometheus could not evaluate", unhealthy, [])


def check_k8s_job_file(t, coord, tmp):
    cm = next(d for d in yaml.safe_load_all(open(os.path.join(DEPLOY, "k8s/job-file.yaml"))) if d)
    path = os.path.join(tmp, "k8s-job.yaml")
    open(path, "w").write(cm["data"]["job.yaml"])
    r = coord.ctl("launch", "-f", path, check=False)
    t.check("the coordinator accepts deploy/k8s/job-file.yaml", r.returncode == 0, r.stderr)
    if r.returncode == 0:
        job = coord.job(yaml.safe_load(cm["data"]["job.yaml"])["name"])
        t.check("k8s job waits for external workers",
                job["state"] == "PENDING" and job["spec"]["launcher"] == "external", str(job)[:300])


def check_tls_scrape(t, bin_dir, tmp):
    """The cluster's scrape config, with its CA and password files made here, against a
    coordinator serving /metrics as deploy/k8s/coordinator.yaml does (TLS and basic auth)."""
    d = os.path.join(tmp, "tls")
    os.makedirs(d)
    key, cert = os.path.join(d, "tls.key"), os.path.join(d, "tls.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    sc = yaml.safe_load(open(os.path.join(DEPLOY, "k8s", "prometheus.yml")))["scrape_configs"][0]
    password = secrets.token_hex(16)
    files = {"auth": f"{sc['basic_auth']['username']}:{password}\n", "password": password,
             "wrong": "not-" + password}
    for name, text in files.items():
        with open(os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(text)
    coord = Coordinator(bin_dir, d, ["--metrics-tls-cert", cert, "--metrics-tls-key", key,
                                     "--metrics-auth-file", os.path.join(d, "auth")])
    proms = []
    try:
        sc["tls_config"]["ca_file"] = cert
        for password_file in ("password", "wrong"):
            sc["basic_auth"]["password_file"] = os.path.join(d, password_file)
            proms.append(Prometheus(os.path.join(d, password_file + ".prom"), coord.metrics_addr,
                                    json.loads(json.dumps(sc))))
        good, bad = proms

        def up(prom, value):
            return prom.query(f'up{{job="cyclr-coordinator"}} == {value}')

        t.check("over TLS with basic auth (the cluster's scrape config) the target is up",
                wait_until(lambda: up(good, 1), 30, "up == 1", interval=0.5))
        t.check("cyclr_ series arrive over TLS", wait_until(
            lambda: good.query("cyclr_jobs"), 30, "cyclr_jobs", interval=0.5))
        t.check("with a wrong password the target is down",
                wait_until(lambda: up(bad, 0), 30, "up == 0", interval=0.5))
        targets = bad.api("targets")["activeTargets"]
        t.check("Prometheus says why: 401", targets and "401" in targets[0].get("lastError", ""),
                str(targets[:1]))
    finally:
        for p in proms:
            p.close()
        coord.close()


def main():
    bin_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
    need_binaries(bin_dir)
    need_tools("prometheus")
    t = Tally("prometheus_scrape_test")
    tmp = tempfile.mkdtemp(prefix="cyclr-deploy-prom-")
    coord = prom = None
    ok = False
    try:
        coord = Coordinator(bin_dir, tmp)
        prom = Prometheus(tmp, coord.metrics_addr)
        start = time.time() - 2
        run_job(t, coord, prom, tmp, bin_dir)
        end = time.time()
        check_dashboard(t, prom, start, end)
        check_learning_rates(t, prom)
        check_rules(t, prom)
        check_k8s_job_file(t, coord, tmp)
        check_tls_scrape(t, bin_dir, tmp)
        ok = t.failed == 0
    except Exception as e:  # report, then the tally's summary line
        t.check("test ran to the end", False, repr(e))
    finally:
        if not ok:
            for name in ("coordinator.log", "prometheus.log", "follow.log", "worker0.log",
                         "worker1.log"):
                p = os.path.join(tmp, name)
                if os.path.exists(p):
                    print(f"--- {name}\n" + open(p, errors="replace").read()[-2000:])
        if prom:
            prom.close()
        if coord:
            coord.close()
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
