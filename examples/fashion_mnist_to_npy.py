#!/usr/bin/env python3
"""Fashion-MNIST (Debian's dataset-fashion-mnist) in the npy layout cyclr reads:
train_x.npy uint8 [N, 1, 28, 28], train_y.npy int64 [N], test_x.npy, test_y.npy.

  /usr/bin/python3 examples/fashion_mnist_to_npy.py OUT_DIR [--train N] [--test N]
"""
import argparse
import gzip
import os

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"


def idx(name, offset):  # gzipped IDX: a header of `offset` bytes, then uint8 values
    with gzip.open(os.path.join(SRC, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--train", type=int, default=60000)
    p.add_argument("--test", type=int, default=10000)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for split, prefix, n in (("train", "train", a.train), ("test", "t10k", a.test)):
        x = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)[:n]
        y = idx(f"{prefix}-labels-idx1-ubyte.gz", 8).astype(np.int64)[:n]
        np.save(os.path.join(a.out, f"{split}_x.npy"), x)
        np.save(os.path.join(a.out, f"{split}_y.npy"), y)
        print(f"{split}: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}")


if __name__ == "__main__":
    main()
