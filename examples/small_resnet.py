#!/usr/bin/env python3
"""A small ResNet-style CNN with batch norm and dropout, scripted for cyclr:

  /usr/bin/python3 examples/small_resnet.py model.pt [--classes 10] [--channels 16] [--seed 0]

Export with torch.jit.script (not trace: a traced module bakes in train/eval mode, and dropout
and batch norm must switch), without torch.jit.freeze (a frozen module has no parameters to train).
"""
import argparse

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(y)))


class SmallResNet(nn.Module):
    def __init__(self, classes: int = 10, channels: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU())
        self.block = Block(channels)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(channels * 14 * 14, classes)

    def forward(self, x):
        x = self.pool(self.block(self.stem(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.jit.script(SmallResNet(a.classes, a.channels)).save(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
