#!/usr/bin/env python3
"""The user's own model and data, end to end, with the real binaries and Debian's python3-torch.

  a. A ResNet-style CNN with batch norm and dropout (examples/small_resnet.py), scripted in
     Python, trained by 2 workers on Fashion-MNIST written as .npy files
     (examples/fashion_mnist_to_npy.py) through a coordinator: the job SUCCEEDS, `jobs get`
     names the model.pt, Python loads it, evaluates the test set and gets exactly the accuracy
     cyclr reported; both ranks' parameters and batch-norm buffers are equal.
  b. Resume: a standalone 2-rank run of the same model killed (SIGKILL, both ranks) after a
     checkpoint, restarted, ends with the parameters of an uninterrupted run.
  c. Regression: a scripted linear model with --loss mse on float targets converges below the
     stated test MSE.
  d. Bad input: each gets one clear error (at launch, or the job FAILS at step 0 naming the
     rule), and a refused launch starts nothing.
  e. Files written by numpy at format versions 1.0, 2.0 and 3.0 with every input dtype train.
Usage: own_model_test.py BIN_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

import harness
from harness import wait_until

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
PY = "/usr/bin/python3"
MEAN, STD = 0.2860, 0.3530
SCHEDULE = ["--policy", "triangular", "--base-lr", "0.01", "--max-lr", "0.05",
            "--step-size-up", "20"]


def run(*cmd):
    subprocess.run(list(cmd), check=True, capture_output=True, text=True)


def floats(path, dtype=np.float32):
    return np.fromfile(path, dtype=dtype)


class Coordinator(harness.Coordinator):
    def __init__(self, tmp):
        os.makedirs(tmp, exist_ok=True)
        # The test's data and models live in its top folder, shared by its coordinators.
        super().__init__(BIN, tmp, "--allow-path-prefix", TEST_ROOT[0])
        self.work = os.path.join(tmp, "work")

    def wait_end(self, name, timeout):
        return wait_until(lambda: (lambda j: j if j["state"] in ("SUCCEEDED", "FAILED", "STOPPED")
                                   else None)(self.job(name)), timeout, f"job {name} to end")


def python_accuracy(model_path, data):
    """Accuracy of the saved module on test_x/test_y, computed the way a user would."""
    m = torch.jit.load(model_path)
    m.eval()
    x = torch.from_numpy(np.load(os.path.join(data, "test_x.npy"))).float().div(255)
    x = (x - MEAN) / STD
    y = torch.from_numpy(np.load(os.path.join(data, "test_y.npy")))
    with torch.no_grad():
        return m(x).argmax(1).eq(y).sum().item() / len(y)


def case_classification(tmp, data, model):
    c = Coordinator(tmp)
    try:
        out = os.path.join(tmp, "out")
        r = c.ctl("launch", "--name", "own", "--workers", "2", "--model-file", model,
                  "--dataset", "npy", "--data-dir", data, "--normalize", f"{MEAN},{STD}",
                  "--epochs", "2", "--batch-size", "64", "--threads", "1", "--output-dir", out,
                  *SCHEDULE, "--follow", timeout=300)
        print("  " + r.stdout.strip().splitlines()[-1])
        job = c.job("own")
        assert job["state"] == "SUCCEEDED", job
        assert len(job["spec"]["model_sha256"]) == 64, job["spec"]
        shown = c.ctl("jobs", "get", "own").stdout
        assert os.path.join(out, "model.pt") in shown, shown
        mine = python_accuracy(os.path.join(out, "model.pt"), data)
        reported = float(job["test_accuracy"])
        print(f"  accuracy: cyclr {reported:.6f}, Python on model.pt {mine:.6f}")
        assert abs(mine - reported) <= 1e-6, (mine, reported)
        assert reported > 0.5, reported  # it learned something in 2 short epochs
        logs = os.path.join(c.work, "jobs", "own")
        p0, p1 = (floats(os.path.join(logs, f"params-rank-{r}.bin")) for r in (0, 1))
        assert len(p0) > 10000 and np.array_equal(p0, p1), "ranks' parameters differ"
        b0, b1 = (open(os.path.join(logs, f"buffers-rank-{r}.bin"), "rb").read() for r in (0, 1))
        assert len(b0) > 0 and b0 == b1, "ranks' batch-norm buffers differ"
        # The buffers Python sees in model.pt are the ranks' (running stats, not the init ones).
        m = torch.jit.load(os.path.join(out, "model.pt"))
        running = m.state_dict()["block.bn1.running_var"]
        assert not torch.allclose(running, torch.ones_like(running)), "running stats not saved"
        print(f"  both ranks: {len(p0)} equal parameters, {len(b0)} bytes of equal buffers")
    finally:
        c.close()


def standalone(tmp, tag, model, data, ckpt):
    spec = os.path.join(tmp, f"spec-{tag}.json")
    with open(spec, "w") as f:
        json.dump({"modelFile": model, "dataset": "npy", "dataDir": data,
                   "normalize": f"{MEAN},{STD}", "epochs": 2, "batchSize": 64, "seed": "3",
                   "checkpointDir": ckpt, "checkpointEvery": "10",
                   "schedule": {"policy": "triangular", "baseLr": 0.01, "maxLr": 0.05,
                                "stepSizeUp": "20"}}, f)
    rdv, logs = os.path.join(tmp, f"rdv-{tag}"), os.path.join(tmp, f"logs-{tag}")
    shutil.rmtree(rdv, ignore_errors=True)
    os.makedirs(rdv)
    os.makedirs(logs, exist_ok=True)
    return [subprocess.Popen([f"{BIN}/cyclr-worker", "--standalone", spec, "--rank", str(r),
                              "--world-size", "2", "--rendezvous-dir", rdv, "--threads", "1",
                              "--log-dir", logs], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for r in (0, 1)], logs


def case_resume(tmp, data, model):
    def finish(procs):
        for p in procs:
            text = p.communicate(timeout=300)[0]
            assert p.returncode == 0, text[-2000:]
        return text

    clean, clean_logs = standalone(tmp, "clean", model, data, os.path.join(tmp, "ck-clean"))
    finish(clean)
    ck = os.path.join(tmp, "ck-killed")
    procs, logs = standalone(tmp, "killed", model, data, ck)
    wait_until(lambda: any(n.startswith("ckpt-0000000000") and int(n[5:17]) >= 20
                           for n in (os.listdir(ck) if os.path.isdir(ck) else [])),
               120, "a checkpoint at step >= 20")
    for p in procs:
        p.send_signal(signal.SIGKILL)
        p.wait()
    killed_at = sorted(n for n in os.listdir(ck) if n.startswith("ckpt-"))[-1]
    assert os.path.exists(os.path.join(ck, "model.pt")), "no model.pt beside the checkpoints"
    text = finish(standalone(tmp, "killed", model, data, ck)[0])
    assert "resumed from" in text, text[-2000:]
    for r in (0, 1):
        a = floats(os.path.join(logs, f"params-rank-{r}.bin"))
        b = floats(os.path.join(clean_logs, f"params-rank-{r}.bin"))
        worst = float(np.max(np.abs(a - b)))
        assert worst <= 1e-6, f"rank {r}: resumed parameters differ by {worst}"
    print(f"  killed after {killed_at}, resumed: parameters equal to the uninterrupted run")


def case_regression(tmp):
    data = os.path.join(tmp, "reg")
    os.makedirs(data)
    rng = np.random.default_rng(5)
    w = rng.normal(size=(8, 2)).astype(np.float32)
    for split, n in (("train", 4096), ("test", 512)):
        x = rng.normal(size=(n, 8)).astype(np.float32)
        y = (x @ w + 0.05 * rng.normal(size=(n, 2))).astype(np.float32)
        np.save(os.path.join(data, f"{split}_x.npy"), x)
        np.save(os.path.join(data, f"{split}_y.npy"), y)
    model = os.path.join(tmp, "linear.pt")
    torch.manual_seed(0)
    torch.jit.script(torch.nn.Linear(8, 2)).save(model)
    c = Coordinator(os.path.join(tmp, "c-reg"))
    try:
        c.ctl("launch", "--name", "reg", "--workers", "2", "--model-file", model, "--dataset",
              "npy", "--data-dir", data, "--loss", "mse", "--epochs", "3", "--batch-size", "32",
              "--threads", "1", "--policy", "triangular", "--base-lr", "0.01", "--max-lr",
              "0.05", "--step-size-up", "30", "--follow", timeout=300)
        job = c.job("reg")
        mse = float(job.get("test_loss", 0))
        print(f"  regression: test MSE {mse:.5f} (noise variance 0.0025; target < 0.01)")
        assert job["state"] == "SUCCEEDED" and mse < 0.01, (job["state"], mse)
    finally:
        c.close()


def case_formats(tmp):
    """numpy's own writer at format versions 1.0, 2.0 and 3.0, and every input dtype, each trained
    for one epoch by the built-in mlp (npy data works with the built-in models too)."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, size=(512, 1, 28, 28)).astype(np.uint8)
    labels = (base.reshape(512, -1).mean(1) > 127.5).astype(np.int64)  # learnable
    cases = [((1, 0), np.uint8, np.int64), ((2, 0), np.float16, np.int32),
             ((3, 0), np.float32, np.uint8), ((2, 0), np.int32, np.int64),
             ((3, 0), np.int64, np.int32)]
    c = Coordinator(os.path.join(tmp, "c-formats"))
    try:
        for i, (version, xdt, ydt) in enumerate(cases):
            d = os.path.join(tmp, f"fmt{i}")
            os.makedirs(d)
            for name, arr in (("train_x", base.astype(xdt)), ("train_y", labels.astype(ydt)),
                              ("test_x", base[:128].astype(xdt)),
                              ("test_y", labels[:128].astype(ydt))):
                with open(os.path.join(d, f"{name}.npy"), "wb") as f:
                    np.lib.format.write_array(f, arr, version=version)
            c.ctl("launch", "--name", f"fmt{i}", "--workers", "2", "--model", "mlp",
                  "--dataset", "npy", "--data-dir", d, "--epochs", "1", "--batch-size", "32",
                  "--threads", "1", *SCHEDULE, "--follow", timeout=120)
            job = c.job(f"fmt{i}")
            assert job["state"] == "SUCCEEDED", job
            print(f"  format {version[0]}.0, x {np.dtype(xdt).name}, y {np.dtype(ydt).name}: "
                  f"test accuracy {float(job['test_accuracy']):.3f}")
    finally:
        c.close()


def case_bad_input(tmp, data, model):
    bad = os.path.join(tmp, "bad")
    c = Coordinator(os.path.join(tmp, "c-bad"))

    def npy_dir(name, **arrays):
        d = os.path.join(bad, name)
        os.makedirs(d)
        for k, v in arrays.items():
            np.save(os.path.join(d, f"{k}.npy"), v)
        return d

    x = np.zeros((64, 1, 28, 28), np.uint8)
    y = np.zeros(64, np.int64)
    fortran = npy_dir("fortran", train_y=y)
    np.save(os.path.join(fortran, "train_x.npy"), np.asfortranarray(np.zeros((64, 784), np.float32)))
    truncated = npy_dir("truncated", train_x=x, train_y=y)
    with open(os.path.join(truncated, "train_x.npy"), "r+b") as f:
        f.truncate(1000)
    not_script = os.path.join(bad, "state_dict.pt")
    torch.save({"w": torch.zeros(3)}, not_script)
    frozen = os.path.join(bad, "frozen.pt")
    torch.jit.freeze(torch.jit.script(torch.nn.Linear(784, 10)).eval()).save(frozen)
    launch_errors = [
        (["--data-dir", os.path.join(bad, "missing")], "train_x.npy: no such file"),
        (["--data-dir", npy_dir("n", train_x=x, train_y=y[:10])],
         "train_y.npy: shape 10 must start with N = 64"),
        (["--data-dir", npy_dir("float_labels", train_x=x, train_y=y.astype(np.float32))],
         "class labels must be int64, int32 or uint8"),
        (["--data-dir", npy_dir("f64", train_x=x.astype(np.float64), train_y=y)],
         "dtype '<f8' is not supported"),
        (["--data-dir", fortran], "Fortran order is not supported"),
        (["--data-dir", truncated], "truncated"),
        (["--data-dir", npy_dir("one_test", train_x=x, train_y=y, test_x=x)],
         "only one of test_x.npy and test_y.npy"),
        (["--data-dir", data, "--model-file", os.path.join(bad, "nope.pt")],
         "model_file: " + os.path.join(bad, "nope.pt")),
        (["--data-dir", data, "--model-sha256", "0" * 64], "does not match model_file"),
        (["--data-dir", data, "--normalize", "0.3"], "normalize (\"0.3\") must be MEAN,STD"),
        (["--data-dir", data, "--loss", "mse"], "regression targets must be float32 or float16"),
    ]
    try:
        for i, (flags, expect) in enumerate(launch_errors):
            args = ["launch", "--name", f"bad{i}", "--workers", "2", "--model-file", model,
                    "--dataset", "npy", "--epochs", "1", "--batch-size", "16", *SCHEDULE]
            if "--model-file" in flags:
                args = [a for a in args if a not in ("--model-file", model)]
            r = c.ctl(*args, *flags, check=False)
            assert r.returncode != 0 and expect in r.stderr, (flags, r.returncode, r.stderr)
        assert c.ctl("jobs", "list", "--output", "json").stdout.count('"name"') == 0
        assert not os.path.exists(os.path.join(c.work, "jobs")) or \
            not os.listdir(os.path.join(c.work, "jobs")), "a refused launch started something"
        print(f"  {len(launch_errors)} bad launches refused, nothing started")
        # Errors only the workers can see: the job FAILS before its first step, naming the rule.
        three = os.path.join(bad, "three_channels.pt")
        torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(),
                                             torch.nn.Linear(4 * 26 * 26, 10))).save(three)
        few = os.path.join(bad, "five_classes.pt")
        torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 5))).save(few)
        worker_errors = [
            (["--model-file", not_script], "not a TorchScript module"),
            (["--model-file", frozen], "no trainable parameters"),
            (["--model-file", three], "the model does not take the data: the data gives inputs "
                                      "[2, 1, 28, 28] Float"),
            (["--model-file", few], "label 9 at index"),
        ]
        for i, (flags, expect) in enumerate(worker_errors):
            name = f"late{i}"
            c.ctl("launch", "--name", name, "--workers", "2", "--dataset", "npy", "--data-dir",
                  data, "--epochs", "1", "--batch-size", "16", "--threads", "1", *SCHEDULE,
                  *flags)
            job = c.wait_end(name, 120)
            assert job["state"] == "FAILED" and expect in job.get("reason", ""), (flags, job)
            assert int(job.get("global_step", 0)) == 0, job
            print(f"    {os.path.basename(flags[-1])}: {job['reason'][:150]}")
        print(f"  {len(worker_errors)} model/data mismatches failed their job at step 0")
    finally:
        c.close()


TEST_ROOT = [None]  # main()'s temporary folder


def main():
    with tempfile.TemporaryDirectory(prefix="cyclr-own-") as tmp:
        TEST_ROOT[0] = tmp
        data, model = os.path.join(tmp, "fmnist"), os.path.join(tmp, "resnet.pt")
        run(PY, os.path.join(EXAMPLES, "fashion_mnist_to_npy.py"), data, "--train", "4096",
            "--test", "1000")
        run(PY, os.path.join(EXAMPLES, "small_resnet.py"), model, "--channels", "8")
        for name, case in (("a. classification", lambda: case_classification(
                os.path.join(tmp, "a"), data, model)),
                           ("b. resume", lambda: case_resume(os.path.join(tmp, "b"), data, model)),
                           ("c. regression", lambda: case_regression(os.path.join(tmp, "c"))),
                           ("e. formats", lambda: case_formats(os.path.join(tmp, "e"))),
                           ("d. bad input", lambda: case_bad_input(os.path.join(tmp, "d"), data,
                                                                   model))):
            start = time.time()
            print(name, flush=True)
            os.makedirs(os.path.join(tmp, name[0]), exist_ok=True)
            case()
            print(f"  ok ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
