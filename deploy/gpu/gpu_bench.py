#!/usr/bin/env python3
"""GPU throughput (deploy/gpu/run.sh step 6): cyclr-worker vs PyTorch DDP on one GPU.

Both sides: world size 1 over NCCL on cuda:0, synthetic 1x28x28 data generated on the CPU (N x 1
x 28 x 28 normal noise plus 0.1 x label, as tests/bench/peer/ddp_peer.py), each batch gathered on
the CPU and copied to the GPU, SGD momentum 0.9 with a triangular2 CLR applied every step. Models
mlp and cnn (worker/train/model_factory.cc), batch 128, 1024 and 8192 per rank. The number
compared is each side's steady samples/s (steps after the first 10, the `steady` line both
print). GPU memory peak: the largest per-process use nvidia-smi reported while the run went
(context included, sampled every 0.1 s), and for DDP also torch.cuda.max_memory_allocated().

Usage: gpu_bench.py --bin BUILD/bin --out OUT   (writes OUT/bench.json, OUT/performance-table.md,
OUT/bench/*.log; exit 1 if any run failed). `gpu_bench.py --peer ...` is the DDP side.
The cyclr binaries get LD_LIBRARY_PATH from $LD_PATH_FOR_CYCLR.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time

MODELS = ("mlp", "cnn")
# Steps per run: enough for a steady window after the 10 warm-up steps, within the time budget.
BATCHES = {128: 300, 1024: 100, 8192: 30}
STEADY = re.compile(r"steady: (\d+) steps after (\d+) warm-up, ([\d.]+) s, (\d+) samples/s")


def peer_main(argv):
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel as DDP

    p = argparse.ArgumentParser()
    p.add_argument("--peer", action="store_true")
    p.add_argument("--model", required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--init-file", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--warmup", type=int, default=10)
    a = p.parse_args(argv)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    dist.init_process_group("nccl" if dev.type == "cuda" else "gloo",
                            init_method=f"file://{a.init_file}", rank=0, world_size=1,
                            timeout=datetime.timedelta(seconds=120))
    if a.model == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    n = a.batch_size * a.steps
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = torch.randn(n, 1, 28, 28, generator=g) + labels.float().view(n, 1, 1, 1) * 0.1
    torch.manual_seed(1)
    model = DDP(model.to(dev), device_ids=[dev.index or 0] if dev.type == "cuda" else None,
                bucket_cap_mb=25)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.05, step_size_up=50,
                                              mode="triangular2", cycle_momentum=False)
    order = torch.randperm(n, generator=g)
    steady_start = None
    for i in range(a.steps):
        if i == a.warmup:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            steady_start = time.perf_counter()
        idx = order[i * a.batch_size:(i + 1) * a.batch_size]
        x = images.index_select(0, idx).to(dev)
        y = labels.index_select(0, idx).to(dev)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss_value = loss.item()  # as cyclr's trainer: the loss reaches the host every step
        loss.backward()
        opt.step()
        sched.step()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter() - steady_start
    k = a.steps - a.warmup
    print(f"ddp rank 0 steady: {k} steps after {a.warmup} warm-up, {t:.3f} s, "
          f"{k * a.batch_size / t:.0f} samples/s loss {loss_value:.4f}", flush=True)
    if dev.type == "cuda":
        print(f"ddp max_memory_allocated {torch.cuda.max_memory_allocated(dev)} "
              f"max_memory_reserved {torch.cuda.max_memory_reserved(dev)}", flush=True)
    dist.destroy_process_group()
    return 0


class GpuMemorySampler:
    """Largest used_memory (MiB) nvidia-smi reports for `pid` while running."""

    def __init__(self, pid):
        self.pid, self.peak_mib, self._stop = pid, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                out = subprocess.run(
                    ["nvidia-smi", "--query-compute-apps=pid,used_memory",
                     "--format=csv,noheader,nounits"], capture_output=True, text=True,
                    timeout=5).stdout
                for line in out.splitlines():
                    parts = [s.strip() for s in line.split(",")]
                    if len(parts) == 2 and parts[0] == str(self.pid) and parts[1].isdigit():
                        self.peak_mib = max(self.peak_mib, int(parts[1]))
            except (OSError, subprocess.SubprocessError):
                pass
            self._stop.wait(0.1)

    def stop(self):
        self._stop.set()
        self._t.join()
        return self.peak_mib


def run_measured(cmd, log_path, env, timeout_s=150):
    t0 = time.time()
    with open(log_path, "w") as log:
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        except OSError as e:
            return {"rc": "not started", "wall_s": 0, "gpu_peak_mib_nvidia_smi": 0,
                    "steady_samples_per_s": None, "error": str(e)}
        sampler = GpuMemorySampler(proc.pid)
        try:
            rc = proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "timeout"
        peak = sampler.stop()
    text = open(log_path).read()
    m = STEADY.search(text)
    r = {"rc": rc, "wall_s": round(time.time() - t0, 1), "gpu_peak_mib_nvidia_smi": peak,
         "steady_samples_per_s": int(m.group(4)) if m else None}
    mm = re.search(r"max_memory_allocated (\d+) max_memory_reserved (\d+)", text)
    if mm:
        r["torch_max_allocated_mib"] = round(int(mm.group(1)) / 2**20, 1)
        r["torch_max_reserved_mib"] = round(int(mm.group(2)) / 2**20, 1)
    if rc != 0 or r["steady_samples_per_s"] is None:
        r["error"] = text.strip().splitlines()[-1][:300] if text.strip() else f"exit {rc}"
    return r


def bench_main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    logs = os.path.join(a.out, "bench")
    os.makedirs(logs, exist_ok=True)
    cyclr_env = dict(os.environ)
    if os.environ.get("LD_PATH_FOR_CYCLR"):
        cyclr_env["LD_LIBRARY_PATH"] = os.environ["LD_PATH_FOR_CYCLR"]
    cyclr_env["LOCAL_RANK"] = "0"
    rows, failed = [], 0
    for model in MODELS:
        for batch, steps in BATCHES.items():
            tag = f"{model}-b{batch}"
            spec = os.path.join(logs, f"{tag}.spec.json")
            json.dump({"model": model, "dataset": "synthetic", "trainLimit": str(batch * steps),
                       "testLimit": "1000", "epochs": 1, "batchSize": batch, "momentum": 0.9,
                       "seed": "1", "backend": "nccl",
                       "schedule": {"policy": "triangular2", "baseLr": 0.001, "maxLr": 0.05,
                                    "stepSizeUp": "50"}}, open(spec, "w"))
            rdv = os.path.join(logs, f"{tag}.rdv")
            os.makedirs(rdv, exist_ok=True)
            c = run_measured([f"{a.bin}/cyclr-worker", "--standalone", spec, "--rank", "0",
                              "--world-size", "1", "--rendezvous-dir", rdv, "--threads", "4"],
                             os.path.join(logs, f"{tag}.cyclr.log"), cyclr_env)
            init = os.path.join(logs, f"{tag}.ddp-init")
            if os.path.exists(init):
                os.remove(init)
            d = run_measured([sys.executable, os.path.abspath(__file__), "--peer", "--model", model,
                              "--batch-size", str(batch), "--steps", str(steps),
                              "--init-file", init], os.path.join(logs, f"{tag}.ddp.log"),
                             dict(os.environ))
            ratio = (c["steady_samples_per_s"] / d["steady_samples_per_s"]
                     if c["steady_samples_per_s"] and d["steady_samples_per_s"] else None)
            failed += ("error" in c) + ("error" in d)
            rows.append({"model": model, "batch": batch, "steps": steps, "cyclr": c, "ddp": d,
                         "ratio": ratio})
            print(f"{tag}: cyclr {c.get('steady_samples_per_s')} ddp "
                  f"{d.get('steady_samples_per_s')} samples/s; peaks {c['gpu_peak_mib_nvidia_smi']}"
                  f" / {d['gpu_peak_mib_nvidia_smi']} MiB {c.get('error', '')}", flush=True)
    gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    json.dump({"gpu": gpu, "rows": rows}, open(os.path.join(a.out, "bench.json"), "w"), indent=2)
    fmt = lambda v: "—" if v is None else f"{v:,}"
    lines = [f"GPU: {gpu}; world size 1, NCCL; steady samples/s (after 10 warm-up steps); "
             "GPU peak = nvidia-smi per-process maximum (context included).", "",
             "| Model | Batch/rank | cyclr samples/s | DDP samples/s | cyclr/DDP | cyclr GPU peak MiB "
             "| DDP GPU peak MiB (torch max allocated) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        c, d = r["cyclr"], r["ddp"]
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(
            f"| {r['model']} | {r['batch']} | {fmt(c['steady_samples_per_s'])} | "
            f"{fmt(d['steady_samples_per_s'])} | {ratio} | "
            f"{fmt(c['gpu_peak_mib_nvidia_smi'] or None)} | {fmt(d['gpu_peak_mib_nvidia_smi'] or None)}"
            f" ({d.get('torch_max_allocated_mib', '—')}) |")
    lines += ["", "Made by `deploy/gpu/run.sh OUT` (deploy/gpu/gpu_bench.py)."]
    open(os.path.join(a.out, "performance-table.md"), "w").write("\n".join(lines) + "\n")
    print(f"bench: {len(rows)} configurations, {failed} failed runs; table in performance-table.md")
    return 1 if failed else 0


if __name__ == "__main__":
    if "--peer" in sys.argv[1:]:
        sys.exit(peer_main(sys.argv[1:]))
    sys.exit(bench_main(sys.argv[1:]))
