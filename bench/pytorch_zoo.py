#!/usr/bin/python3
"""pytorch_zoo.py - the zoo's models (models/zoo/*.net) in PyTorch, one
class per model, layer for layer, with netc's parameter names as module
paths (lenet.conv1 -> lenet_conv1_w / _b) and PyTorch's layouts, which
netc shares.

As in pytorch_models.py, each class has forward(x) (the model's output)
and loss(x, labels, extra) -> the batch-mean loss as netc defines it.  For
models with dropout, extra, when not None, is the list of dropout masks
(one per dropout, in the model's order, each [B, ...] of 0 and 1/(1-p)) to
use instead of drawing them: the parity fixtures inject the same masks
into netc.  masks(batch) draws a fresh list as torch's dropout would.  ZOO
maps the model name to its class.

Used by tests/interp/make_fixtures.py (parity fixtures) and the zoo's
benchmarks (bench/zoo/bench_zoo.py).  Run with /usr/bin/python3 (Debian's
torch 1.13).
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




def dropout(x, p, masks, j, training):
    """F.dropout, or in training x times the given mask j."""
    if masks is not None and training:
        return x * masks[j]
    return F.dropout(x, p, training=training)


class ZooModel(nn.Module):
    DROPOUTS = []            # (p, per-example shape) of each dropout, in order

    @classmethod
    def masks(cls, batch):
        """Fresh masks for every dropout, as F.dropout would draw them."""
        return [F.dropout(torch.ones(batch, *shape), p, training=True) for p, shape in cls.DROPOUTS]


class Mlp(ZooModel):
    """models/zoo/mlp.net: flatten dense(256) relu dropout(0.2) dense(10)
    log_softmax, nll."""
    DROPOUTS = [(0.2, (256,))]

    def __init__(self):
        super().__init__()
        self.mlp = nn.Module()
        self.mlp.dense1 = nn.Linear(784, 256)
        self.mlp.dense2 = nn.Linear(256, 10)

    def forward(self, x, masks=None):
        h = F.relu(self.mlp.dense1(x.flatten(1)))
        h = dropout(h, 0.2, masks, 0, self.training)
        return F.log_softmax(self.mlp.dense2(h), dim=1)

    def loss(self, x, labels, extra):
        return F.nll_loss(self(x, extra), labels)


class CnnBn(ZooModel):
    """models/zoo/cnn_bn.net: three blocks conv2d, BatchNorm2d, relu (16
    channels at 28x28, 32 at 14x14, 32 at 7x7), flatten dropout(0.25)
    dense(64) BatchNorm1d relu dropout(0.25), dense(10) log_softmax, nll."""
    DROPOUTS = [(0.25, (1568,)), (0.25, (64,))]

    def __init__(self):
        super().__init__()
        self.cnn = nn.Module()
        c = self.cnn
        c.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        c.bn1 = nn.BatchNorm2d(16)
        c.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        c.bn2 = nn.BatchNorm2d(32)
        c.conv3 = nn.Conv2d(32, 32, 3, stride=2, padding=1)
        c.bn3 = nn.BatchNorm2d(32)
        c.dense1 = nn.Linear(1568, 64)
        c.bn4 = nn.BatchNorm1d(64)
        c.dense2 = nn.Linear(64, 10)

    def forward(self, x, masks=None):
        c = self.cnn
        h = F.relu(c.bn1(c.conv1(x)))
        h = F.relu(c.bn2(c.conv2(h)))
        h = F.relu(c.bn3(c.conv3(h)))
        h = dropout(h.flatten(1), 0.25, masks, 0, self.training)
        h = dropout(F.relu(c.bn4(c.dense1(h))), 0.25, masks, 1, self.training)
        return F.log_softmax(c.dense2(h), dim=1)

    def loss(self, x, labels, extra):
        return F.nll_loss(self(x, extra), labels)


ZOO = {"lenet5": LeNet5, "mlp": Mlp, "cnn_bn": CnnBn}
