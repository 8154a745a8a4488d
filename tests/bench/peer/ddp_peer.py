#!/usr/bin/python3
"""PyTorch DDP peer of cyclr-worker's standalone mode (docs/performance.md, benchmark 1).

One process is one rank. It trains the same model (mlp 784-512-10 or the 2-conv cnn of
worker/train/model_factory.cc) on the same synthetic data shape (N x 1 x 28 x 28 normal noise
plus 0.1 x label, 10 classes) with the same batch per rank, per-rank shard reshuffled each epoch,
SGD with momentum and a triangular2 CyclicLR stepped every step, under
DistributedDataParallel(gloo, bucket_cap_mb=25 = DDP's default), torch.set_num_threads(1).

Timed like cyclr-worker's summary: from after DDP's construction (which broadcasts rank 0's
parameters) to the end of the last epoch's evaluation (test shard forward + one all_reduce of
the counts). Also timed: steps [warmup, end) of the training loop alone. Prints
  ddp rank R done: N steps, loss L, test accuracy A, S samples/s
  ddp rank R steady: K steps after W warm-up, T s, S samples/s
Run with /usr/bin/python3 (Debian's python3-torch 1.13).
"""
import argparse
import datetime
import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


def make_model(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    raise SystemExit(f"model '{name}' is unknown; expected mlp or cnn")


def synthetic(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = torch.randn(n, 1, 28, 28, generator=g) + labels.float().view(n, 1, 1, 1) * 0.1
    return images, labels


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mlp")
    p.add_argument("--train-limit", type=int, default=25600)
    p.add_argument("--test-limit", type=int, default=200)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=int, default=10, help="steps excluded from the steady time")
    p.add_argument("--rank", type=int, required=True)
    p.add_argument("--world-size", type=int, default=2)
    p.add_argument("--init-file", required=True, help="FileStore path, fresh for every run")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


def evaluate(model, images, labels, rank, world):
    model.eval()
    with torch.no_grad():
        idx = torch.arange(rank, images.shape[0], world)
        sums = torch.zeros(3)
        for start in range(0, idx.numel(), 1000):
            part = idx[start:start + 1000]
            logits = model(images.index_select(0, part))
            y = labels.index_select(0, part)
            sums[0] += logits.argmax(1).eq(y).sum()
            sums[1] += F.cross_entropy(logits, y, reduction="sum")
            sums[2] += part.numel()
        dist.all_reduce(sums)
    model.train()
    return (sums[0] / sums[2]).item() if sums[2] > 0 else 0.0


def blas_line():
    """'KIND (PATH)' of the libblas.so this process loaded, classified as cyclr's BlasInfo does."""
    path = ""
    for line in open("/proc/self/maps"):
        if "libblas.so" in line:
            path = os.path.realpath(line.split()[-1])
            break
    kind = "unknown"
    for key in ("openblas-openmp", "openblas-pthread", "openblas"):
        if key in path:
            kind = key
            break
    else:
        if "/blas/libblas.so" in path:
            kind = "reference"
    return f"{kind} ({path or 'no libblas loaded'})"


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.zeros(2, 2) @ torch.zeros(2, 2)  # loads the BLAS
    print(f"ddp rank {a.rank} blas {blas_line()}", flush=True)
    dist.init_process_group("gloo", init_method=f"file://{a.init_file}", rank=a.rank,
                            world_size=a.world_size, timeout=datetime.timedelta(seconds=120))
    train_x, train_y = synthetic(a.train_limit, a.seed)
    test_x, test_y = synthetic(a.test_limit, a.seed + 1)
    torch.manual_seed(a.seed)
    model = DDP(make_model(a.model), bucket_cap_mb=25)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=a.momentum)
    sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.001, max_lr=0.05, step_size_up=50,
                                              mode="triangular2", cycle_momentum=False)
    shard = a.train_limit // a.world_size
    steps_per_epoch = shard // a.batch_size
    start = time.perf_counter()
    steady_start, steps, loss_value, acc = None, 0, 0.0, 0.0
    for epoch in range(a.epochs):
        g = torch.Generator().manual_seed(a.seed * 1000003 + epoch)
        order = (torch.randperm(shard, generator=g) + a.rank * shard)
        for i in range(steps_per_epoch):
            if steps == a.warmup:
                steady_start = time.perf_counter()
            idx = order[i * a.batch_size:(i + 1) * a.batch_size]
            x, y = train_x.index_select(0, idx), train_y.index_select(0, idx)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss_value = loss.item()
            loss.backward()
            opt.step()
            sched.step()
            steps += 1
        steady_end = time.perf_counter()
        acc = evaluate(model, test_x, test_y, a.rank, a.world_size)
    total = time.perf_counter() - start
    print(f"ddp rank {a.rank} done: {steps} steps, loss {loss_value:.4f}, test accuracy {acc:.4f}, "
          f"{steps * a.batch_size / total:.0f} samples/s", flush=True)
    if steady_start is not None and a.epochs == 1:
        k = steps - a.warmup
        t = steady_end - steady_start
        print(f"ddp rank {a.rank} steady: {k} steps after {a.warmup} warm-up, {t:.3f} s, "
              f"{k * a.batch_size / t:.0f} samples/s", flush=True)
    # destroy_process_group() (FileStore clean-up) sometimes hangs in torch 1.13 here; both ranks
    # are past their last collective once they pass this barrier, so leave without tearing down.
    dist.barrier()
    os._exit(0)


if __name__ == "__main__":
    main()
