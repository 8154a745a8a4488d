#!/usr/bin/env python3
"""Static checks of deploy/: every YAML parses; names, ports and labels agree between the
coordinator's defaults (server/coordinator.h), the Kubernetes manifests, the Prometheus configs
and the Grafana provisioning; the dashboard is valid JSON whose queries use only metrics from
docs/metrics.md (and use all of them); the Slurm script and the Dockerfile are well formed.
Usage: manifests_test.py
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess

import yaml

from deploy_util import (DEPLOY, REPO, Tally, catalog_metrics, dashboard_queries,
                         promql_metric_names)

K8S = os.path.join(DEPLOY, "k8s")


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def coordinator_defaults():
    """--listen and --metrics defaults as written in server/coordinator.h."""
    src = open(os.path.join(REPO, "server", "coordinator.h")).read()
    listen = re.search(r'std::string listen = "([^"]+)"', src).group(1)
    metrics = re.search(r'std::string metrics = "([^"]+)"', src).group(1)
    return listen, metrics


def index_k8s(t):
    objs = {}
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        try:
            docs = load_all(path)
            t.check(f"{os.path.basename(path)} parses ({len(docs)} objects)", docs)
        except yaml.YAMLError as e:
            t.check(f"{os.path.basename(path)} parses", False, str(e))
            continue
        for d in docs:
            objs[(d.get("kind"), d.get("metadata", {}).get("name"))] = d
    return objs


def args_map(args):
    out = {}
    for a in args:
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            out[k] = v
    return out


def check_coordinator(t, objs, listen, metrics):
    dep = objs.get(("Deployment", "cyclr-coordinator"))
    svc = objs.get(("Service", "cyclr-coordinator"))
    if not (t.check("coordinator Deployment and Service exist", dep and svc)):
        return None
    pod = dep["spec"]["template"]
    c = pod["spec"]["containers"][0]
    a = args_map(c.get("args", []))
    cports = {p["name"]: p["containerPort"] for p in c["ports"]}
    sports = {p["name"]: p for p in svc["spec"]["ports"]}
    t.equal("--listen port in the Deployment", port_of(a.get("listen", ":0")), port_of(listen))
    t.equal("--metrics port in the Deployment", port_of(a.get("metrics", ":0")), port_of(metrics))
    t.check("--listen and --metrics bind all interfaces in the pod",
            a.get("listen", "").startswith("0.0.0.0:") and a.get("metrics", "").startswith("0.0.0.0:"))
    t.equal("containerPort grpc", cports.get("grpc"), port_of(listen))
    t.equal("containerPort metrics", cports.get("metrics"), port_of(metrics))
    t.equal("Service port grpc", sports.get("grpc", {}).get("port"), port_of(listen))
    t.equal("Service port metrics", sports.get("metrics", {}).get("port"), port_of(metrics))
    t.equal("Service selector = pod labels",
            {k: pod["metadata"]["labels"].get(k) for k in svc["spec"]["selector"]},
            svc["spec"]["selector"])
    t.equal("Deployment selector = pod labels",
            {k: pod["metadata"]["labels"].get(k) for k in dep["spec"]["selector"]["matchLabels"]},
            dep["spec"]["selector"]["matchLabels"])
    t.equal("one coordinator replica (single-writer state)", dep["spec"]["replicas"], 1)
    t.equal("Recreate strategy", dep["spec"]["strategy"]["type"], "Recreate")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["spec"]["volumes"]}
    state_dir = os.path.dirname(a.get("state", ""))
    state_vol = [n for n, p in mounts.items() if p == state_dir]
    t.check("--state lives on the mounted volume", state_vol, f"{state_dir} not in {mounts}")
    if state_vol:
        claim = vols[state_vol[0]].get("persistentVolumeClaim", {}).get("claimName")
        t.check(f"state volume is the PVC {claim}", ("PersistentVolumeClaim", claim) in objs)
    return svc


def secret_file(pod_spec, container, path):
    """(Secret name, key) of the file `path` in `container`, when a Secret volume holds it."""
    mounts = sorted(container.get("volumeMounts", []), key=lambda m: -len(m["mountPath"]))
    vols = {v["name"]: v for v in pod_spec.get("volumes", [])}
    for m in mounts:
        if not path.startswith(m["mountPath"].rstrip("/") + "/"):
            continue
        secret = vols.get(m["name"], {}).get("secret")
        if not secret:
            return None
        rel = path[len(m["mountPath"].rstrip("/")) + 1:]
        items = {i["path"]: i["key"] for i in secret.get("items", [])}
        if items and rel not in items:
            return None
        return secret["secretName"], items.get(rel, rel)
    return None


def check_metrics_security(t, objs):
    """The coordinator serves /metrics off loopback only with TLS or basic auth (as the binary
    demands), and the cluster's Prometheus scrapes it the way it is served: scheme https with
    the CA of the same Secret, basic auth with the password of the same Secret."""
    dep, mon = objs.get(("Deployment", "cyclr-coordinator")), objs.get(("Deployment", "prometheus"))
    if not t.check("coordinator and prometheus Deployments exist", dep and mon):
        return
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    a = args_map(c.get("args", []))
    tls, auth = a.get("metrics-tls-cert"), a.get("metrics-auth-file")
    t.check("/metrics on 0.0.0.0 has TLS or basic auth (or the coordinator refuses to start)",
            not a.get("metrics", "").startswith("0.0.0.0:") or tls or auth or "--insecure" in c["args"])
    t.equal("--metrics-tls-cert and --metrics-tls-key go together",
            bool(tls), bool(a.get("metrics-tls-key")))
    mpod = mon["spec"]["template"]["spec"]
    prom_c = mpod["containers"][0]
    sc = yaml.safe_load(open(os.path.join(K8S, "prometheus.yml")))["scrape_configs"][0]
    t.equal("cluster scrape scheme = how /metrics is served", sc.get("scheme", "http"),
            "https" if tls else "http")
    if tls:
        cert = secret_file(pod, c, tls)
        key = secret_file(pod, c, a.get("metrics-tls-key", ""))
        t.check(f"--metrics-tls-cert/-key come from one Secret ({cert}, {key})",
                cert and key and cert[0] == key[0])
        ca = secret_file(mpod, prom_c, sc.get("tls_config", {}).get("ca_file", ""))
        t.check(f"Prometheus's ca_file is ca.crt of the coordinator's certificate Secret ({ca})",
                cert and ca == (cert[0], "ca.crt"))
    t.equal("cluster scrape has basic_auth iff --metrics-auth-file", "basic_auth" in sc, bool(auth))
    if auth:
        user_pass = secret_file(pod, c, auth)
        pw = secret_file(mpod, prom_c, sc.get("basic_auth", {}).get("password_file", ""))
        t.check(f"--metrics-auth-file and Prometheus's password_file come from one Secret "
                f"({user_pass}, {pw})", user_pass and pw and user_pass[0] == pw[0]
                and user_pass[1] != pw[1])
        t.check("basic_auth has a username", sc["basic_auth"].get("username"))
    probe = c.get("livenessProbe", {}).get("httpGet", {})
    t.check("no HTTP probe of /metrics behind basic auth (it would get 401)",
            not (auth and probe.get("path") == "/metrics"))


def check_workers(t, objs, svc_name, listen):
    job = objs.get(("Job", "cyclr-workers"))
    cm = objs.get(("ConfigMap", "cyclr-job"))
    if not t.check("worker Indexed Job and job-file ConfigMap exist", job and cm):
        return
    spec = job["spec"]
    jobfile = yaml.safe_load(cm["data"]["job.yaml"])
    c = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in c.get("env", [])}
    t.equal("completionMode", spec.get("completionMode"), "Indexed")
    t.equal("parallelism = completions", spec.get("parallelism"), spec.get("completions"))
    t.equal("WORLD_SIZE = completions", int(env.get("WORLD_SIZE", {}).get("value", -1)),
            spec.get("completions"))
    t.equal("job file workers = completions", jobfile.get("workers"), spec.get("completions"))
    t.equal("job file launcher", jobfile.get("launcher"), "external")
    rank_src = env.get("RANK", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    t.equal("RANK from the completion index", rank_src,
            "metadata.annotations['batch.kubernetes.io/job-completion-index']")
    t.equal("one GPU per rank", str(c["resources"]["limits"].get("nvidia.com/gpu")), "1")
    t.equal("worker restartPolicy", spec["template"]["spec"]["restartPolicy"], "Never")
    coord = env.get("CYCLR_COORDINATOR", {}).get("value", "")
    t.equal("workers' coordinator address", coord, f"{svc_name}:{port_of(listen)}")
    t.equal("workers' job = the job file's name", env.get("CYCLR_JOB", {}).get("value"),
            jobfile.get("name"))
    t.check("worker command is cyclr-worker with --coordinator and --job",
            c["command"][0] == "cyclr-worker" and "$(CYCLR_COORDINATOR)" in c["command"]
            and "$(CYCLR_JOB)" in c["command"], str(c["command"]))
    launch = objs.get(("Job", "cyclr-launch"))
    if t.check("cyclr-launch Job exists", launch):
        cmd = launch["spec"]["template"]["spec"]["containers"][0]["command"]
        t.check("cyclr-launch runs cyclrctl launch -f against the Service",
                cmd[:3] == ["cyclrctl", "--coordinator", f"{svc_name}:{port_of(listen)}"]
                and "launch" in cmd and "-f" in cmd, str(cmd))


def check_kustomize(t, objs, metrics):
    kz = yaml.safe_load(open(os.path.join(K8S, "kustomization.yaml")))
    for r in kz["resources"]:
        t.check(f"kustomization resource {r} exists", os.path.exists(os.path.join(K8S, r)))
    generated = {}
    for g in kz["configMapGenerator"]:
        keys = []
        for f in g["files"]:
            key, _, src = f.rpartition("=") if "=" in f else (os.path.basename(f), "", f)
            t.check(f"configMapGenerator {g['name']} file {src} exists",
                    os.path.exists(os.path.join(K8S, src)))
            keys.append(key)
        generated[g["name"]] = keys
    used = set()
    for obj in objs.values():
        for v in obj.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", []):
            if "configMap" in v:
                used.add(v["configMap"]["name"])
    defined = set(generated) | {n for k, n in objs if k == "ConfigMap"}
    t.check("every ConfigMap volume is defined", used <= defined, str(used - defined))
    prom = yaml.safe_load(open(os.path.join(K8S, "prometheus.yml")))
    rule_keys = sorted(os.path.basename(p) for p in prom["rule_files"])
    t.equal("rule files in the cluster config = generated rule keys", rule_keys,
            sorted(generated.get("cyclr-prometheus-rules", [])))
    sc = prom["scrape_configs"][0]
    t.equal("cluster scrape target", sc["static_configs"][0]["targets"],
            [f"cyclr-coordinator:{port_of(metrics)}"])
    t.check("cluster scrape keeps the job label (honor_labels)", sc.get("honor_labels") is True)
    provider = yaml.safe_load(open(os.path.join(DEPLOY, "grafana/provisioning/dashboards/cyclr.yml")))
    mon = objs.get(("Deployment", "grafana"))
    mounts = {m["name"]: m["mountPath"] for m in
              mon["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    t.equal("Grafana dashboards mount = provider path", mounts.get("dashboards"),
            provider["providers"][0]["options"]["path"])
    ds = yaml.safe_load(open(os.path.join(K8S, "grafana-datasource.yml")))["datasources"][0]
    t.equal("cluster Grafana data source URL", ds["url"], "http://prometheus:9090")
    if shutil.which("kubectl"):
        r = subprocess.run(["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone",
                            K8S], capture_output=True, text=True, timeout=60)
        ok = r.returncode == 0
        t.check("kubectl kustomize renders deploy/k8s", ok, r.stderr)
        if ok:
            kinds = [d["kind"] for d in yaml.safe_load_all(r.stdout) if d]
            t.equal("rendered ConfigMaps", kinds.count("ConfigMap"), 1 + len(generated))
    else:
        print("SKIP kubectl kustomize (kubectl not installed)")


def check_prometheus(t, metrics):
    prom = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus/prometheus.yml")))
    sc = prom["scrape_configs"][0]
    t.equal("scrape job name", sc["job_name"], "cyclr-coordinator")
    t.check("honor_labels: true", sc.get("honor_labels") is True)
    t.equal("scrape target = the coordinator's default --metrics",
            sc["static_configs"][0]["targets"], [metrics])
    t.equal("metrics_path", sc.get("metrics_path", "/metrics"), "/metrics")


def check_dashboard(t, catalog):
    path = os.path.join(DEPLOY, "grafana/dashboards/cyclr.json")
    try:
        dash = json.load(open(path))
    except ValueError as e:
        t.check("cyclr.json is valid JSON", False, str(e))
        return
    t.check("cyclr.json is valid JSON", True)
    allowed = set(catalog)
    for name, kind in catalog.items():
        if kind == "histogram":
            allowed |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    allowed.add("up")
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    jq = variables.get("job", {}).get("query")
    jq = jq.get("query") if isinstance(jq, dict) else jq
    t.equal("$job variable query", jq, "label_values(cyclr_global_step, job)")
    ds = yaml.safe_load(open(os.path.join(DEPLOY, "grafana/provisioning/datasources/cyclr.yml")))
    t.equal("$datasource default = provisioned uid",
            variables.get("datasource", {}).get("current", {}).get("value"),
            ds["datasources"][0]["uid"])
    used, ids = set(), []
    queries = dashboard_queries(dash)
    t.check("dashboard has queries", len(queries) >= 10, str(len(queries)))
    for where, expr in queries:
        names = promql_metric_names(expr)
        used |= names
        t.check(f"{where} uses only catalog metrics {sorted(names)}", names and names <= allowed,
                str(names - allowed))
        job_labelled = {n for n in names if n.rsplit("_bucket", 1)[0] in catalog} - {
            "cyclr_jobs", "cyclr_rpc_requests_total", "cyclr_rpc_duration_seconds_bucket"}
        if job_labelled:
            t.check(f"{where} is filtered by $job", 'job=~"$job"' in expr, expr)
    for p in dash["panels"]:
        ids.append(p["id"])
        if p["type"] != "row":
            t.check(f"panel '{p['title']}' has a query and a description",
                    p.get("targets") and p.get("description"))
    t.equal("panel ids are unique", len(ids), len(set(ids)))
    base = {n.rsplit("_bucket", 1)[0] for n in used}
    t.check("every catalog metric is on the dashboard", set(catalog) <= base,
            str(sorted(set(catalog) - base)))
    ann = [a for a in dash["annotations"]["list"] if a.get("expr")]
    t.check("revision annotations query the schedule metrics",
            any("cyclr_schedule_revisions_total" in a["expr"] for a in ann) and
            any("cyclr_schedule_version" in a["expr"] for a in ann))


def check_rules(t, catalog):
    allowed = set(catalog) | {"up"}
    for name, kind in catalog.items():
        if kind == "histogram":
            allowed |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    rec = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus/rules/recording.yml")))
    alerts = yaml.safe_load(open(os.path.join(DEPLOY, "prometheus/rules/alerts.yml")))
    allowed |= {r["record"] for g in rec["groups"] for r in g["rules"]}
    for doc in (rec, alerts):
        for g in doc["groups"]:
            for r in g["rules"]:
                names = promql_metric_names(r["expr"])
                t.check(f"rule {r.get('record') or r.get('alert')} uses known metrics",
                        names <= allowed, str(names - allowed))


def check_scripts(t):
    sb = os.path.join(DEPLOY, "slurm/cyclr.sbatch")
    r = subprocess.run(["bash", "-n", sb], capture_output=True, text=True)
    t.check("cyclr.sbatch parses (bash -n)", r.returncode == 0, r.stderr)
    t.check("cyclr.sbatch is executable", os.access(sb, os.X_OK))
    text = open(sb).read()
    t.check("cyclr.sbatch runs the worker with srun",
            re.search(r'^srun .*(cyclr-worker|"\$worker"|"\$\{launch\[@\]\}")', text, re.M)
            and re.search(r'^launch=\("\$worker"\)', text, re.M))
    df = open(os.path.join(DEPLOY, "docker/Dockerfile")).read()
    stages = re.findall(r"^FROM (\S+) AS (\S+)", df, re.M)
    t.check("Dockerfile bases on Debian 12", all(b.startswith(("debian:12", "build", "runtime"))
                                                 for b, _ in stages) and stages, str(stages))
    names = [n for _, n in stages]
    t.check("Dockerfile has coordinator and worker targets",
            "coordinator" in names and "worker" in names, str(names))
    entry = {}
    for block in re.split(r"^(?=FROM )", df, flags=re.M)[1:]:
        stage = re.match(r"FROM \S+ AS (\S+)", block).group(1)
        e = re.search(r"^ENTRYPOINT (\[.*\])", block, re.M)
        if e:
            entry[stage] = e.group(1)
    t.equal("coordinator entrypoint", json.loads(entry.get("coordinator", "[]")),
            ["cyclr-coordinator"])
    t.equal("worker entrypoint", json.loads(entry.get("worker", "[]")), ["cyclr-worker"])
    coord_stage = [b for b in re.split(r"^(?=FROM )", df, flags=re.M) if " AS coordinator" in b]
    cmd = re.search(r"^CMD (\[.*\])", coord_stage[0], re.M) if coord_stage else None
    flags = args_map(json.loads(cmd.group(1)) if cmd else [])
    t.check("coordinator CMD: /metrics on 0.0.0.0 with TLS (cert and key) and basic auth",
            flags.get("metrics", "").startswith("0.0.0.0:") and flags.get("metrics-tls-cert")
            and flags.get("metrics-tls-key") and flags.get("metrics-auth-file"), str(flags))
    listen, metrics = coordinator_defaults()
    expose = re.search(r"^EXPOSE (.*)$", df, re.M)
    t.equal("coordinator image exposes the default ports",
            sorted(int(p) for p in expose.group(1).split()) if expose else [],
            sorted([port_of(listen), port_of(metrics)]))


def check_rendered_workers(t):
    """The coordinator's Kubernetes manifests (server/kubernetes_manifest.cc) as committed in
    tests/server/testdata/k8s_expected.yaml (the C++ test keeps the renderer equal to it): their
    structure, and kubectl's client-side decoding into the Kubernetes types (no cluster here:
    `kubectl set env/selector --local` decode each object into its Go type, refusing a mistyped
    field or a bad quantity, and drop unknown fields, which the round trip below finds)."""
    import tempfile  # only here: the rest of this file needs no temporary files

    path = os.path.join(REPO, "tests", "server", "testdata", "k8s_expected.yaml")
    text = open(path).read()
    parts = re.split(r"^---$\n", text, flags=re.M)
    docs = [yaml.safe_load(p) for p in parts]
    t.equal("rendered kinds", [d["kind"] for d in docs], ["Secret", "Service", "Job"])
    if [d["kind"] for d in docs] != ["Secret", "Service", "Job"]:
        return
    secret, svc, job = docs
    name, ns = job["metadata"]["name"], job["metadata"]["namespace"]
    for d in docs:
        labels = d["metadata"].get("labels", {})
        t.check(f"{d['kind']} is named {name} in {ns} and labelled",
                d["metadata"]["name"] == name and d["metadata"]["namespace"] == ns
                and labels.get("app.kubernetes.io/name") == "cyclr-worker"
                and labels.get("cyclr.io/job") == "fmnist", str(d["metadata"]))
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = {e["name"]: e for e in c["env"]}
    args = c["args"]
    world = int(args[args.index("--world-size") + 1])
    t.equal("completionMode", spec["completionMode"], "Indexed")
    t.check("completions = parallelism = --world-size = WORLD_SIZE",
            spec["completions"] == spec["parallelism"] == world == int(env["WORLD_SIZE"]["value"]))
    t.equal("backoffLimit (the coordinator restarts the group)", spec["backoffLimit"], 0)
    t.equal("restartPolicy", pod["restartPolicy"], "Never")
    t.equal("worker command", c["command"], ["cyclr-worker"])
    t.check("worker args name the coordinator and the job",
            args[args.index("--coordinator") + 1] and args[args.index("--job") + 1] == "fmnist")
    t.equal("--rank is $(RANK)", args[args.index("--rank") + 1], "$(RANK)")
    t.equal("RANK from the completion index",
            env["RANK"]["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.annotations['batch.kubernetes.io/job-completion-index']")
    ref = env["CYCLR_WORKER_TOKEN"]["valueFrom"]["secretKeyRef"]
    t.check("CYCLR_WORKER_TOKEN comes from a key of the rendered Secret",
            ref["name"] == secret["metadata"]["name"]
            and ref["key"] in {**secret.get("stringData", {}), **secret.get("data", {})}, str(ref))
    t.check("no credential on the command line", not any("token" in a for a in args), str(args))
    tmpl_labels = job["spec"]["template"]["metadata"]["labels"]
    t.check("Service selects the pods",
            all(tmpl_labels.get(k) == v for k, v in svc["spec"]["selector"].items()))
    t.check("headless Service is the pods' subdomain",
            svc["spec"]["clusterIP"] == "None" and pod["subdomain"] == svc["metadata"]["name"])
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    t.check("every mount has a volume", set(mounts.values()) <= set(vols), str(mounts))
    ca = args[args.index("--tls-ca") + 1] if "--tls-ca" in args else ""
    t.check("--tls-ca lies in the mounted CA Secret",
            ca and vols.get(mounts.get(os.path.dirname(ca)), {}).get("secret"), ca)
    t.equal("GPU limit", str(c["resources"]["limits"].get("nvidia.com/gpu")), "1")
    if not shutil.which("kubectl"):
        print("SKIP kubectl decoding of the rendered manifests (kubectl not installed)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "kubeconfig")
        open(cfg, "w").close()  # no cluster: --local must not need one

        def local(kind, part, *args):
            f = os.path.join(tmp, kind + ".yaml")
            open(f, "w").write(part)
            return subprocess.run(["kubectl", *args, "--local", "-f", f, "-o", "json"],
                                  capture_output=True, text=True, timeout=60,
                                  env={**os.environ, "KUBECONFIG": cfg})

        def lost(given, decoded, where=""):
            """Paths of `given` that the typed round trip dropped or changed."""
            if isinstance(given, dict):
                if not isinstance(decoded, dict):
                    return [where]
                return [p for k, v in given.items() for p in lost(v, decoded.get(k), f"{where}.{k}")]
            if isinstance(given, list):
                if not isinstance(decoded, list) or len(decoded) != len(given):
                    return [where]
                return [p for i, v in enumerate(given) for p in lost(v, decoded[i], f"{where}[{i}]")]
            return [] if given == decoded or str(given) == str(decoded) else [where]

        r = local("job", parts[2], "set", "serviceaccount", pod.get("serviceAccountName", "default"))
        if t.check("kubectl decodes the Job (set serviceaccount --local)", r.returncode == 0,
                   r.stderr):
            t.equal("Job fields kept by kubectl's typed decoding", lost(job, json.loads(r.stdout)), [])
        sel = ",".join(f"{k}={v}" for k, v in svc["spec"]["selector"].items())
        r = local("service", parts[1], "set", "selector", sel)
        if t.check("kubectl decodes the Service (set selector --local)", r.returncode == 0, r.stderr):
            t.equal("Service fields kept by kubectl's typed decoding",
                    lost(svc, json.loads(r.stdout)), [])
        r = local("secret", parts[0], "set", "env", "CYCLR_KUBECTL_CHECK-")
        t.check("kubectl decodes the Secret into *v1.Secret (set env --local refuses it only as "
                "not a pod)", "*v1.Secret" in r.stderr and "unable to decode" not in r.stderr,
                r.stderr)


def main():
    t = Tally("manifests_test")
    catalog = catalog_metrics(os.path.join(REPO, "docs", "metrics.md"))
    t.check("docs/metrics.md lists metrics", len(catalog) >= 10, str(catalog))
    listen, metrics = coordinator_defaults()
    for path in sorted(glob.glob(os.path.join(DEPLOY, "**", "*.y*ml"), recursive=True)):
        try:
            load_all(path)
            ok, err = True, ""
        except yaml.YAMLError as e:
            ok, err = False, str(e)
        t.check(f"{os.path.relpath(path, REPO)} is valid YAML", ok, err)
    objs = index_k8s(t)
    svc = check_coordinator(t, objs, listen, metrics)
    check_workers(t, objs, svc["metadata"]["name"] if svc else "", listen)
    check_metrics_security(t, objs)
    check_kustomize(t, objs, metrics)
    check_prometheus(t, metrics)
    check_dashboard(t, catalog)
    check_rules(t, catalog)
    check_scripts(t)
    check_rendered_workers(t)
    t.finish()


if __name__ == "__main__":
    main()
