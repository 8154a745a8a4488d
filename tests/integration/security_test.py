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
Usage: security_test.py BIN_DIR
"""
import os
import subprocess
import sys
import tempfile
import time

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
        r = subprocess.run(base[:2] + ["127.0.0.1:0", "--tls-cert", spem], capture_output=True,
                           text=True, timeout=60)
        one_line_error(r, "--tls-cert and --tls-key go together")
        print("d. bad TLS files: one line naming the flag")
    print("security_test: PASS")


if __name__ == "__main__":
    main()
