#!/usr/bin/python3
"""pytorch_zoo.py - the zoo's models (models/zoo/*.net) in PyTorch, one
class per model, with netc's parameter names as module paths
(lenet.conv1 -> lenet_conv1_w / _b) and PyTorch's layouts, which netc
shares.

As in pytorch_models.py, each class has forward(x) (the model's output)
and loss(x, labels, extra) -> the batch-mean loss as netc defines it;
ZOO maps the model name to its class.  Used by
tests/interp/make_fixtures.py (parity fixtures) and the zoo's benchmarks
(bench/zoo_bench.py).  Run with /usr/bin/python3 (Debian's torch).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    """models/zoo/lenet5.net: conv2d(6, k=5, pad=2) relu max_pool2d(2)
    conv2d(16, k=5) relu max_pool2d(2) flatten dense(120) relu dense(84)
    relu dense(10) log_softmax; loss nll."""

    def __init__(self):
        super().__init__()
        self.lenet = nn.Module()
        self.lenet.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.lenet.conv2 = nn.Conv2d(6, 16, 5)
        self.lenet.dense1 = nn.Linear(400, 120)
        self.lenet.dense2 = nn.Linear(120, 84)
        self.lenet.dense3 = nn.Linear(84, 10)

    def forward(self, x):
        m = self.lenet
        x = F.max_pool2d(F.relu(m.conv1(x)), 2)
        x = F.max_pool2d(F.relu(m.conv2(x)), 2)
        x = F.relu(m.dense1(x.flatten(1)))
        x = F.relu(m.dense2(x))
        return F.log_softmax(m.dense3(x), 1)

    def loss(self, x, labels, extra):
        return F.nll_loss(self(x), labels)


ZOO = {"lenet5": LeNet5}
