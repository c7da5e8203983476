#!/usr/bin/python3
"""pytorch_zoo.py - the zoo's models (models/zoo/*.net) in PyTorch, layer for
layer, with netc's parameter names as module paths (mlp.dense1 ->
mlp_dense1_w / _b) and PyTorch's layouts, which netc shares.

As in pytorch_models.py, each model has loss(x, labels, extra) -> the
batch-mean loss.  extra, when not None, is the list of dropout masks (one
per dropout, in the model's order, each [B, ...] of 0 and 1/(1-p)) to use
instead of drawing them: the parity fixtures inject the same masks into
netc.  masks(batch) draws a fresh list as torch's dropout would.  ZOO maps
the model name to its class.

Used by tests/interp/make_fixtures.py.  Run with /usr/bin/python3
(Debian's torch 1.13).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def dropout(x, p, masks, j, training):
    """F.dropout, or x times the given mask j."""
    if masks is not None:
        return x * masks[j]
    return F.dropout(x, p, training=training)


class Mlp(nn.Module):
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

    @classmethod
    def masks(cls, batch):
        return [F.dropout(torch.ones(batch, *shape), p, training=True) for p, shape in cls.DROPOUTS]


ZOO = {"mlp": Mlp}
