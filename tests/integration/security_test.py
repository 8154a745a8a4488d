#!/usr/bin/env python3
"""Encryption and safe defaults of the control plane (issue 14, first part), with real binaries
and certificates made here by openssl.

  a. TLS: a coordinator with --tls-cert/--tls-key; cyclrctl with --tls-ca launches a 2-worker job
     that SUCCEEDS (the local workers dial it over TLS too); a plaintext client gets one error line.
  b. Mutual TLS: with --tls-client-ca, a client without a certificate is refused, one with a
     certificate signed by that CA works, and a 2-worker job SUCCEEDS (its workers present the
     coordinator's certificate).
  c. Plaintext on a non-loopback address is refused at start (exit non-zero, one line naming the
     flags); --insecure starts it with a warning.
  d. Bad TLS files: one line naming the flag and the file.
  e. Authentication (the default), each attack of issue 14 replayed: no token, and another Unix
     user (nobody) who cannot read the admin token, are UNAUTHENTICATED; the admin token file is
     0600; a viewer reads but cannot stop (PERMISSION_DENIED); an operator cannot mint tokens nor
     sign a schedule change as someone else, and its changes carry its name; a revoked token is
     refused at once; forged workers (an unknown credential, a person's token, another job's
     credential) are refused and leave the job untouched; the real credential trains it.
  f. --insecure: no token needed, and a warning.
  g. /metrics with --metrics-auth-file: 401 without or with wrong basic auth, 200 with it.
  h. /metrics over TLS (--metrics-tls-cert/--metrics-tls-key, with --metrics-auth-file): HTTPS
     with the CA and the right basic auth gets the exposition, without auth 401; plain HTTP to
     the same port and a client trusting another CA (or offering only TLS 1.1) get nothing; port
     0 off loopback works and the startup line says https://; the key + certificate file CivetWeb
     loaded is gone once it runs; one TLS flag alone is exit code 2; a missing, non-PEM or
     mismatched key is one line naming the flag; /metrics on 0.0.0.0 without TLS or basic auth is
     refused (nothing written), and with --insecure starts.
Usage: security_test.py BIN_DIR
"""
import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings

import harness

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
JOB = ["--workers", "2", "--model", "mlp", "--dataset", "synthetic", "--train-limit", "512",
       "--test-limit", "128", "--epochs", "1", "--batch-size", "32", "--threads", "1",
       "--policy", "triangular", "--base-lr", "0.01", "--max-lr", "0.05", "--step-size-up", "4"]


def cert(tmp, name):
    key, pem = os.path.join(tmp, f"{name}.key"), os.path.join(tmp, f"{name}.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", pem], check=True, capture_output=True)
    return pem, key


def one_line_error(r, want):
    assert r.returncode != 0, r.stdout
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1 and want in lines[0], r.stderr
    return lines[0]


def run_job(c, name):
    r = c.ctl("launch", "--name", name, *JOB, "--follow", timeout=300)
    assert c.job(name)["state"] == "SUCCEEDED", c.job(name)
    return r


def ctl_as(c, token_file, *args, **kw):
    """cyclrctl with exactly this token file (None: no token at all), from a folder without one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CYCLR_TOKEN")}
    if token_file:
        env["CYCLR_TOKEN_FILE"] = token_file
    return subprocess.run([f"{BIN}/cyclrctl", "--coordinator", c.addr, *args], cwd="/",
                          capture_output=True, text=True, timeout=120, env=env, **kw)


def token_for(c, tmp, name, role):
    r = c.ctl("tokens", "create", name, "--role", role)
    path = os.path.join(tmp, f"{name}.token")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(r.stdout)
    return path


def worker(c, job, rank, env_extra, tmp):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CYCLR_")}
    env.update(env_extra)
    return subprocess.run([f"{BIN}/cyclr-worker", "--coordinator", c.addr, "--job", job,
                           "--rank", str(rank), "--world-size", "2", "--threads", "1",
                           "--log-dir", os.path.join(tmp, "wlogs")],
                          capture_output=True, text=True, timeout=120, env=env)


def check_auth(tmp):
    d = os.path.join(tmp, "auth")
    os.makedirs(d)
    os.chmod(tmp, 0o755)  # other users may look around, as on a shared host
    os.chmod(d, 0o755)
    c = harness.Coordinator(BIN, d)
    try:
        mode = os.stat(c.token_file).st_mode & 0o777
        assert mode == 0o600, oct(mode)
        c.ctl("launch", "--name", "victim", *JOB, "--launcher", "external",
              "--worker-token-file", os.path.join(d, "victim.token"))
        one_line_error(ctl_as(c, None, "stop", "victim"), "no credentials")
        r = subprocess.run(["runuser", "-u", "nobody", "--", f"{BIN}/cyclrctl", "--coordinator",
                            c.addr, "stop", "victim"], cwd=d, capture_output=True, text=True,
                           timeout=60, env={"PATH": os.environ["PATH"]})
        why = one_line_error(r, "no credentials")
        viewer = token_for(c, d, "ana", "viewer")
        operator = token_for(c, d, "bob", "operator")
        assert "victim" in ctl_as(c, viewer, "jobs", "list").stdout
        one_line_error(ctl_as(c, viewer, "stop", "victim"), "ana (viewer) may not do this")
        one_line_error(ctl_as(c, operator, "tokens", "create", "eve", "--role", "admin"),
                       "needs role admin")
        one_line_error(ctl_as(c, operator, "schedule", "set", "victim", "--author", "root",
                              "--policy", "triangular", "--base-lr", "0.01", "--max-lr", "0.02",
                              "--step-size-up", "4"), 'author ("root") must be the caller, bob')
        ok = ctl_as(c, operator, "schedule", "set", "victim", "--policy", "triangular",
                    "--base-lr", "0.01", "--max-lr", "0.04", "--step-size-up", "4")
        assert ok.returncode == 0, ok.stderr
        revs = json.loads(c.ctl("schedule", "get", "victim", "-o", "json").stdout)["revisions"]
        assert revs[-1]["author"] == "bob", revs[-1]
        assert ctl_as(c, operator, "whoami").stdout.strip() == "bob (operator)"
        c.ctl("tokens", "revoke", "bob")
        one_line_error(ctl_as(c, operator, "jobs", "list"), "unknown or revoked token")
        audit = [l for l in c.log_text().splitlines() if "cyclr: audit" in l]
        assert any('admin created token "bob" (role operator)' in l for l in audit), audit
        assert any('admin revoked token "bob"' in l for l in audit), audit
        print(f"e. no token / nobody: {why}; viewer, operator, author and revoke refused as "
              "they must be")

        other = os.path.join(d, "other.token")
        c.ctl("launch", "--name", "other", *JOB, "--launcher", "external",
              "--worker-token-file", other)
        forged = [({"CYCLR_WORKER_TOKEN": "x" * 40}, "unknown or revoked token"),
                  ({"CYCLR_WORKER_TOKEN_FILE": c.token_file}, "is not a worker of job"),
                  ({"CYCLR_WORKER_TOKEN_FILE": other}, "is not a worker of job")]
        for env, want in forged:
            r = worker(c, "victim", 0, env, d)
            assert r.returncode != 0 and want in r.stderr, (env, r.stderr[-500:])
        job = c.job("victim")
        assert job["state"] == "PENDING" and not job.get("ranks") and not job.get("restarts"), job
        token = {"CYCLR_WORKER_TOKEN_FILE": os.path.join(d, "victim.token")}
        procs = [subprocess.Popen([f"{BIN}/cyclr-worker", "--coordinator", c.addr, "--job",
                                   "victim", "--rank", str(r), "--world-size", "2", "--threads",
                                   "1", "--log-dir", os.path.join(d, "wlogs")],
                                  env={**{k: v for k, v in os.environ.items()
                                          if not k.startswith("CYCLR_")}, **token},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for r in range(2)]
        assert [p.wait(300) for p in procs] == [0, 0]
        assert c.job("victim")["state"] == "SUCCEEDED"
        run_job(c, "local")  # local workers get their credential from the coordinator
        print("e. 3 forged workers refused, job untouched; its own credential trained it; a "
              "local job SUCCEEDED")
    finally:
        c.close()


def check_insecure(tmp):
    d = os.path.join(tmp, "insecure")
    os.makedirs(d)
    c = harness.Coordinator(BIN, d, "--insecure")
    try:
        assert not os.path.exists(c.token_file)
        r = ctl_as(c, None, "launch", "--name", "open", *JOB, "--follow")
        assert r.returncode == 0, r.stderr
        assert "WARNING: --insecure: no authentication" in c.log_text()
        print("f. --insecure: a job without any token, and a warning")
    finally:
        c.close()


def check_metrics_auth(tmp):
    d = os.path.join(tmp, "metrics")
    os.makedirs(d)
    auth = os.path.join(d, "metrics.auth")
    with open(os.open(auth, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("prometheus:s3cret-scrape\n")
    c = harness.Coordinator(BIN, d, "--metrics-auth-file", auth)
    try:
        url = f"http://127.0.0.1:{c.metrics_port}/metrics"
        codes = []
        for user, password in [(None, None), ("prometheus", "wrong"), ("prometheus", "s3cret-scrape")]:
            req = urllib.request.Request(url)
            if user:
                cred = base64.b64encode(f"{user}:{password}".encode()).decode()
                req.add_header("Authorization", f"Basic {cred}")
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    codes.append((r.status, "cyclr_jobs" in r.read().decode()))
            except urllib.error.HTTPError as e:
                codes.append((e.code, False))
        assert codes == [(401, False), (401, False), (200, True)], codes
        print(f"g. /metrics basic auth: none {codes[0][0]}, wrong {codes[1][0]}, right "
              f"{codes[2][0]}")
    finally:
        c.close()


def get(url, ca=None, auth=None, context=None):
    """(HTTP status, body) of a GET; an HTTP error status is returned, other failures raise."""
    if ca and not context:
        context = ssl.create_default_context(cafile=ca)
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5, context=context) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def refused(fn):
    """The exception fn() raised below HTTP (a failed handshake, a closed connection), or None."""
    try:
        fn()
    except (OSError, http.client.HTTPException) as e:  # URLError is an OSError
        return getattr(e, "reason", e)
    return None


def check_metrics_tls_scrapes(tmp, spem, skey, cpem):
    d = os.path.join(tmp, "metrics-tls")
    os.makedirs(d)
    auth = os.path.join(d, "metrics.auth")
    with open(os.open(auth, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("prometheus:s3cret-scrape\n")
    c = harness.Coordinator(BIN, d, "--metrics-tls-cert", spem, "--metrics-tls-key", skey,
                            "--metrics-auth-file", auth)
    try:
        url = f"https://127.0.0.1:{c.metrics_port}/metrics"
        assert f"metrics on {url}" in c.log_text(), c.log_text()
        code, body = get(url, ca=spem, auth="prometheus:s3cret-scrape")
        assert code == 200 and "cyclr_jobs" in body, (code, body[:200])
        assert get(url, ca=spem)[0] == 401
        assert get(url, ca=spem, auth="prometheus:wrong")[0] == 401
        plain = refused(lambda: get(f"http://127.0.0.1:{c.metrics_port}/metrics"))
        assert plain is not None, "plain HTTP was answered"
        wrong_ca = refused(lambda: get(url, ca=cpem, auth="prometheus:s3cret-scrape"))
        assert isinstance(wrong_ca, ssl.SSLCertVerificationError), wrong_ca
        old = ssl.create_default_context(cafile=spem)  # TLS 1.1 at most, allowed on our side
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # deprecated indeed: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        tls11 = refused(lambda: get(url, context=old, auth="prometheus:s3cret-scrape"))
        assert tls11 is not None, "a TLS 1.1 client was served"
        tls12 = ssl.create_default_context(cafile=spem)
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        assert get(url, context=tls12, auth="prometheus:s3cret-scrape")[0] == 200
        print(f"h. /metrics over TLS: CA + auth 200, no auth 401; plain HTTP: {plain!r}; "
              f"wrong CA: {wrong_ca.verify_message}; TLS 1.1: refused, 1.2: 200")
    finally:
        c.close()


def check_metrics_tls_port0(tmp, spem, skey):
    """0.0.0.0:0 with TLS (no basic auth): started, https:// on the bound port, no key file left."""
    d = os.path.join(tmp, "metrics-tls0")
    scratch = os.path.join(d, "tmpdir")
    os.makedirs(scratch)
    p = subprocess.Popen([f"{BIN}/cyclr-coordinator", "--listen", "127.0.0.1:0", "--metrics",
                          "0.0.0.0:0", "--metrics-tls-cert", spem, "--metrics-tls-key", skey,
                          "--state", os.path.join(d, "state.db"), "--work-dir",
                          os.path.join(d, "w")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=dict(os.environ, TMPDIR=scratch))
    try:
        line = p.stdout.readline()
        url = line.split(" metrics on ")[1].split()[0] if " metrics on " in line else ""
        assert url.startswith("https://0.0.0.0:") and not url.startswith("https://0.0.0.0:0/"), line
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        code, body = get(f"https://127.0.0.1:{port}/metrics", ca=spem)
        assert code == 200 and "cyclr_" in body, code
        assert os.listdir(scratch) == [], os.listdir(scratch)
    finally:
        p.terminate()
        p.communicate(timeout=30)
    print(f"h. --metrics 0.0.0.0:0 with TLS: {url} scraped; the key + certificate file is gone")


def check_metrics_tls_refusals(tmp, spem, skey, ckey):
    def start(name, *flags):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        r = subprocess.run([f"{BIN}/cyclr-coordinator", "--listen", "127.0.0.1:0", "--state",
                            os.path.join(d, "state.db"), "--work-dir", os.path.join(d, "w"),
                            *flags], capture_output=True, text=True, timeout=60)
        return r, d

    r, d = start("lone-cert", "--metrics-tls-cert", spem)
    assert r.returncode == 2, (r.returncode, r.stderr)
    one_line_error(r, "--metrics-tls-key")
    assert os.listdir(d) == [], os.listdir(d)
    for name, flags, want in [
        ("no-key", ["--metrics-tls-cert", spem, "--metrics-tls-key", "/nonexistent.pem"],
         "--metrics-tls-key /nonexistent.pem: No such file"),
        ("not-pem", ["--metrics-tls-cert", "/etc/hostname", "--metrics-tls-key", skey],
         "--metrics-tls-cert /etc/hostname"),
        ("key-as-cert", ["--metrics-tls-cert", skey, "--metrics-tls-key", skey],
         "is not a PEM certificate"),
        ("open", ["--metrics", "0.0.0.0:0"], "refusing to serve /metrics on 0.0.0.0:0")]:
        r, d = start(name, *flags)
        why = one_line_error(r, want)
        assert os.listdir(d) == [], (name, os.listdir(d))  # refused before anything was written
    assert "--metrics-tls-cert" in why and "--metrics-auth-file" in why and "--insecure" in why
    r, _ = start("mismatch", "--metrics-tls-cert", spem, "--metrics-tls-key", ckey)
    mismatch = one_line_error(r, "--metrics-tls-key " + ckey)
    assert "cannot serve HTTPS" in mismatch, mismatch
    print(f"h. one TLS flag: exit 2; bad files: one line naming the flag; mismatch: "
          f"{mismatch[-100:]}; 0.0.0.0 open: {why[:70]}...")
    d = os.path.join(tmp, "open-insecure")
    os.makedirs(d)
    p = subprocess.Popen([f"{BIN}/cyclr-coordinator", "--listen", "127.0.0.1:0", "--metrics",
                          "0.0.0.0:0", "--insecure", "--state", os.path.join(d, "state.db"),
                          "--work-dir", os.path.join(d, "w")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert "metrics on http://0.0.0.0:" in line, line
    finally:
        p.terminate()
        p.communicate(timeout=30)
    print("h. 0.0.0.0 /metrics with --insecure: started")


def main():
    with tempfile.TemporaryDirectory(prefix="cyclr-security-") as tmp:
        spem, skey = cert(tmp, "coordinator")
        cpem, ckey = cert(tmp, "client")

        d = os.path.join(tmp, "tls")
        os.makedirs(d)
        c = harness.Coordinator(BIN, d, "--tls-cert", spem, "--tls-key", skey,
                                ctl_flags=["--tls-ca", spem])
        try:
            run_job(c, "tls")
            plain = subprocess.run([f"{BIN}/cyclrctl", "--coordinator", c.addr, "jobs", "list"],
                                   capture_output=True, text=True, timeout=60)
            why = one_line_error(plain, "unreachable")
            print(f"a. TLS job SUCCEEDED; plaintext client: {why}")
        finally:
            c.close()

        d = os.path.join(tmp, "mtls")
        os.makedirs(d)
        client_ca = os.path.join(tmp, "client-ca.pem")
        with open(client_ca, "w") as f:  # the clients' CAs: cyclrctl's and the workers' (its own)
            f.write(open(cpem).read() + open(spem).read())
        c = harness.Coordinator(BIN, d, "--tls-cert", spem, "--tls-key", skey, "--tls-client-ca",
                                client_ca, ctl_flags=["--tls-ca", spem, "--tls-cert", cpem,
                                                      "--tls-key", ckey])
        try:
            run_job(c, "mtls")
            anon = subprocess.run([f"{BIN}/cyclrctl", "--coordinator", c.addr, "--tls-ca", spem,
                                   "jobs", "list"], capture_output=True, text=True, timeout=60)
            why = one_line_error(anon, "unreachable")
            print(f"b. mutual TLS job SUCCEEDED; a client without a certificate: {why}")
        finally:
            c.close()

        port = harness.free_port()
        base = [f"{BIN}/cyclr-coordinator", "--listen", f"0.0.0.0:{port}", "--metrics", "",
                "--state", os.path.join(tmp, "open.db"), "--work-dir", os.path.join(tmp, "w")]
        r = subprocess.run(base, capture_output=True, text=True, timeout=60)
        refused = one_line_error(r, "refusing to listen on 0.0.0.0")
        assert not os.path.exists(os.path.join(tmp, "open.db")), "a refused start wrote state"
        assert "--tls-cert" in refused and "--insecure" in refused, refused
        p = subprocess.Popen(base + ["--insecure"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            harness.wait_until(lambda: subprocess.run(
                [f"{BIN}/cyclrctl", "--coordinator", f"127.0.0.1:{port}", "jobs", "list"],
                capture_output=True).returncode == 0, 30, "the --insecure coordinator")
        finally:
            p.terminate()
            _, err = p.communicate(timeout=30)
        assert "WARNING: --insecure" in err, err
        print(f"c. 0.0.0.0 without TLS: {refused[:90]}...; with --insecure: a warning")

        for args, want in [
            (["--tls-ca", "/nonexistent.pem"], "--tls-ca /nonexistent.pem: No such file"),
            (["--tls-ca", spem, "--tls-cert", cpem], "--tls-cert and --tls-key go together"),
            (["--tls-ca", "/etc/hostname"], "is not PEM"),
        ]:
            r = subprocess.run([f"{BIN}/cyclrctl", "--coordinator", "127.0.0.1:1", *args, "jobs",
                                "list"], capture_output=True, text=True, timeout=60)
            one_line_error(r, want)
        lone = os.path.join(tmp, "lone")
        os.makedirs(lone)
        r = subprocess.run(base[:2] + ["127.0.0.1:0", "--tls-cert", spem, "--state",
                                       os.path.join(lone, "state.db")],
                           capture_output=True, text=True, timeout=60)
        one_line_error(r, "--tls-cert and --tls-key go together")
        assert os.listdir(lone) == [], os.listdir(lone)  # a refused start leaves nothing
        print("d. bad TLS files: one line naming the flag")
        check_auth(tmp)
        check_insecure(tmp)
        check_metrics_auth(tmp)
        check_metrics_tls_scrapes(tmp, spem, skey, cpem)
        check_metrics_tls_port0(tmp, spem, skey)
        check_metrics_tls_refusals(tmp, spem, skey, ckey)
    print("security_test: PASS")


if __name__ == "__main__":
    main()
