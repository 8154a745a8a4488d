#!/usr/bin/env python3
"""The LR range test end to end: real coordinator, real worker processes, Fashion-MNIST.

  a. `cyclrctl lr-find --follow --plot` with 2 workers: the probe ends SUCCEEDED when its loss
     diverges, both ranks stopped at the same step with identical LRs, the stored curve is the
     exp ramp's LR and the mean of the two ranks' losses at every step, the suggestions lie inside
     the probe's range, the SVG parses and names every marker.
  b. The curve survives a coordinator restart (the same JSON before and after).
  c. `launch --lr-from probe` launches a triangular2 job with exactly the suggested bounds and
     step_size_up = 4 epochs of that job's steps.
  d. `--seed-repeats 2`: two probes (seeds 1, 2), `lr-find get` reports the medians of 2.
  e. Bad input: one clear error, nothing launched.
  f. --from-checkpoint: a probe of a trained model starts from its weights (its first loss is far
     below a fresh model's) and leaves the checkpoint folder byte for byte as it was.
Usage: lr_find_test.py BIN_DIR
"""
import hashlib
import json
import math
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

import harness

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
START, END, STEPS, BATCH = 1e-4, 10.0, 150, 64
PROBE = ["--workers", "2", "--model", "mlp", "--dataset", "fashion-mnist", "--batch-size",
         str(BATCH), "--train-limit", "12000", "--test-limit", "1000", "--threads", "1",
         "--start-lr", str(START), "--end-lr", str(END), "--steps", str(STEPS)]


def csv_rows(work, job, rank):
    path = os.path.join(work, "jobs", job, f"lr-rank-{rank}.csv")
    return [line.strip().split(",") for line in open(path)][1:]


def check_probe(c, work, svg):
    r = c.ctl("lr-find", "--name", "probe", *PROBE, "--follow", "--plot", svg, timeout=300)
    assert "steep" in r.stdout and "valley" in r.stdout and "cyclrctl launch" in r.stdout, r.stdout
    job = c.job("probe")
    assert job["state"] == "SUCCEEDED", job
    assert job["reason"].startswith("range test ended at step "), job["reason"]
    stop = int(job["reason"].split()[5].rstrip(":"))
    assert 20 < stop < STEPS - 1, job["reason"]
    # Both ranks applied the same LR at every step and stopped at the same one.
    rows = [csv_rows(work, "probe", r) for r in (0, 1)]
    assert len(rows[0]) == len(rows[1]) == stop, (len(rows[0]), len(rows[1]), stop)
    assert [x[1] for x in rows[0]] == [x[1] for x in rows[1]]
    got = json.loads(c.ctl("lr-find", "get", "probe", "--output", "json").stdout)
    pts = got["points"]
    assert [p["step"] for p in pts] == list(range(stop + 1)), [p["step"] for p in pts][-3:]
    for i, p in enumerate(pts):
        want = START * (END / START) ** (i / (STEPS - 1))
        assert abs(p["lr"] - want) <= 1e-12 * want, (i, p["lr"], want)
        if i < stop:  # the stop step is not applied, so not in the ranks' logs
            mean = (float(rows[0][i][4]) + float(rows[1][i][4])) / 2
            assert abs(p["loss"] - mean) <= 1e-5 * max(1.0, abs(mean)), (i, p["loss"], mean)
    rules = got["rules"]
    for name in ("steep", "valley", "minimum"):
        assert START / 10 < rules[name] < END, (name, rules)
    assert got["max_lr"] < pts[stop]["lr"] and abs(got["base_lr"] * 4 - got["max_lr"]) < 1e-12
    assert got["step_size_up"] == 4 * (12000 // 2 // BATCH), got["step_size_up"]
    assert got["stop_step"] >= 0 and got["usable_points"] <= stop + 1
    # The SVG is XML with both series and a marker per rule, the bounds and the divergence.
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    classes = {p.get("class") for p in root.iter(ns + "polyline")}
    assert classes == {"raw", "smoothed"}, classes
    markers = {g.get("data-rule") for g in root.iter(ns + "g") if g.get("class") == "marker"}
    assert markers == {"steep", "valley", "minimum", "max_lr", "base_lr", "diverged"}, markers
    print(f"a. probe stopped at step {stop}: {job['reason']}; suggestions {rules}, "
          f"bounds {got['base_lr']:.3g}..{got['max_lr']:.3g}")
    return got


def folder_digest(d):
    return {f: hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest()
            for f in sorted(os.listdir(d))}


def check_from_checkpoint(c, tmp, fresh):
    ckpt = os.path.join(tmp, "trained")
    c.ctl("launch", "--name", "trained", "--workers", "2", "--model", "mlp", "--dataset",
          "fashion-mnist", "--train-limit", "12000", "--test-limit", "1000", "--threads", "1",
          "--epochs", "1", "--batch-size", str(BATCH), "--policy", "constant", "--base-lr",
          "0.01", "--checkpoint-dir", ckpt, "--follow", timeout=300)
    before = folder_digest(ckpt)
    newest = sorted(f for f in before if f.startswith("ckpt-"))[-1]
    c.ctl("lr-find", "--name", "warm", *PROBE, "--from-checkpoint", os.path.join(ckpt, newest),
          "--follow", timeout=300)
    warm = json.loads(c.ctl("lr-find", "get", "warm", "--output", "json").stdout)
    first_fresh, first_warm = fresh["points"][0]["loss"], warm["points"][0]["loss"]
    assert first_warm < 0.5 * first_fresh, (first_warm, first_fresh)
    assert folder_digest(ckpt) == before, "the probe changed the checkpoint folder"
    print(f"f. --from-checkpoint: first loss {first_warm:.3f} (fresh model {first_fresh:.3f}); "
          f"{len(before)} checkpoint files unchanged")


def main():
    with tempfile.TemporaryDirectory(prefix="cyclr-lrfind-") as tmp:
        c = harness.Coordinator(BIN, tmp)
        work = os.path.join(tmp, "work")
        try:
            got = check_probe(c, work, os.path.join(tmp, "probe.svg"))

            c.close()
            c.start()
            again = json.loads(c.ctl("lr-find", "get", "probe", "--output", "json").stdout)
            assert again == got, "the curve changed across a coordinator restart"
            print(f"b. {len(again['points'])} points unchanged after a coordinator restart")

            r = c.ctl("launch", "--name", "run", "--lr-from", "probe", "--workers", "2",
                      "--model", "mlp", "--dataset", "fashion-mnist", "--batch-size", "32",
                      "--train-limit", "12000",
                      "--epochs", "1")
            sched = c.job("run")["spec"]["schedule"]
            c.ctl("stop", "run")
            assert sched["policy"] == "triangular2", sched
            assert math.isclose(sched["max_lr"], float(f"{got['max_lr']:.6g}")), (sched, got)
            assert math.isclose(sched["base_lr"], float(f"{got['base_lr']:.6g}")), (sched, got)
            assert int(sched["step_size_up"]) == 4 * (12000 // 2 // 32), sched
            assert "bounds from probe probe" in r.stderr, r.stderr
            print(f"c. launch --lr-from: {sched['base_lr']}..{sched['max_lr']}, "
                  f"step_size_up {sched['step_size_up']}")

            c.ctl("lr-find", "--name", "rep", *PROBE, "--seed-repeats", "2", "--follow",
                  timeout=300)
            rep = json.loads(c.ctl("lr-find", "get", "rep", "--output", "json").stdout)
            assert rep["repeats"] == 2 and "medians of 2 probes" in rep["note"], rep["note"]
            assert c.job("rep-r2")["spec"]["seed"] in (2, "2"), c.job("rep-r2")["spec"]
            print(f"d. medians of 2 probes: {rep['rules']} ({rep['note']})")

            job = ["--workers", "2", "--model", "mlp", "--dataset", "fashion-mnist", "--epochs",
                   "1", "--batch-size", "32"]
            bad = [
                (["lr-find", "--name", "x1", *PROBE, "--checkpoint-dir", tmp],
                 "checkpoint_dir cannot be given to lr-find"),
                (["launch", "--name", "x2", *job, "--policy", "range-test", "--base-lr", "1e-5",
                  "--max-lr", "1", "--total-steps", "100", "--checkpoint-dir", tmp],
                 "checkpoint_dir must be empty for a range-test job"),
                (["launch", "--name", "x3", *job, "--policy", "range-test", "--base-lr", "1e-5",
                  "--max-lr", "1", "--total-steps", "60000"], "at most 50000"),
                (["lr-find", "get", "run"], "is not a range test"),
                (["lr-find", "get", "nosuch"], "not found"),
                (["launch", "--name", "x4", *job, "--lr-from", "probe", "--policy", "range-test",
                  "--total-steps", "10"], "--lr-from cannot set the bounds"),
            ]
            for args, want in bad:
                r = c.ctl(*args, check=False)
                assert r.returncode != 0 and want in r.stderr, (args, r.returncode, r.stderr)
                assert len(r.stderr.strip().split("\n")) == 1, r.stderr
            names = {j["name"] for j in json.loads(c.ctl("jobs", "list", "--output",
                                                         "json").stdout).get("jobs", [])}
            assert not names & {"x1", "x2", "x3", "x4"}, names
            print(f"e. {len(bad)} bad requests refused with one line each, nothing launched")
            check_from_checkpoint(c, tmp, got)
        except Exception:
            print(c.log_text()[-3000:])
            raise
        finally:
            c.close()
    print("lr_find_test: PASS")


if __name__ == "__main__":
    main()
