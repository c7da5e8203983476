#!/usr/bin/python3
"""make_fixtures.py - PyTorch references for the interpreter (test_torch.c).

Builds the four models of models/*.net in PyTorch (bench/pytorch_models.py:
same layers, layouts and parameter names as netc gives them), the zoo's
(models/zoo/*.net, bench/pytorch_zoo.py), and the small
networks of single ops' tests (tests/interp/MODEL.net), sets every weight from a formula both
sides can compute (so weights need not be stored), takes a batch of real
MNIST images from runtime/mnist, and writes tests/interp/fixtures/MODEL.bin:

  x        [B, 784]      the batch (first B training images, in [0, 1]; a
                         model of another input shape: synthetic, [B, numel])
  labels   [B]           their digits (as floats)
  eps      [B, 9]        VAE only: the normal([latent]) draws (conv_vae: [B, 16])
  noise    [B, 784]      denoiser (and unet) only: the noise added to x
  loss     [1]           batch-mean loss at the formula weights
  d_NAME                 gradient of every trainable tensor
  adam_NAME, sgd_NAME    the tensor after 3 steps of Adam (lr 1e-3) /
                         SGD (lr 0.1, momentum 0.9) on the same batch

Torch draws the VAE's epsilon and the denoiser's noise itself; the C test
injects the same values through the interpreter's draws hook, so the
comparison covers everything but the random number generator.

Large tensors are stored sampled, to keep the fixtures small: a record
of n floats for a tensor of N > n elements holds entries j * N // n,
j = 0..n-1; the gradient's L1 norm over the whole tensor is stored too
(l1_d_NAME).

File format (little-endian): "NETFIX01", u32 count, then per record:
u32 name length, name, u32 stored floats n, u32 full size N, f32[n].

Run with Debian's torch: /usr/bin/python3 tests/interp/make_fixtures.py [MODEL...]
(no argument: every fixture).
The activation and loss ops' models (act_small, ce_small, bce_small,
reg_small) are written only when named.  many_small: 1000 classes, its
labels (LABELS) up to 999.
"""
import gzip
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from pytorch_models import LATENT, MODELS, netc_name  # noqa: E402  (the four networks)
from pytorch_zoo import ZOO  # noqa: E402  (models/zoo/*.net)
OUT = os.path.join(ROOT, "tests", "interp", "fixtures")
B = 4
SAMPLE = 512
# A model whose first weight has 784 columns and a multiple of 512 / 784's
# common factors as rows is sampled at a prime count instead: at 512, every
# sample would fall on pixel 0 or 392, always 0 in MNIST, and the gradient
# comparison would be vacuous.
SAMPLE_FOR = {"mlp": 509}
# cnn_bn's dense1 weight [64, 1568] too: at 512, the stride 196 divides
# 1568, so every sample fell on 8 columns, position (0, 0) of channels
# 0, 4, ..., 28: MNIST's empty corner, the columns ZERO_COLS is about.
SAMPLE_FOR["cnn_bn"] = 509
# Biases right before a batch norm: their gradient is zero in exact
# arithmetic (the normalisation removes them), rounding noise in float on
# both sides, which Adam's steps would amplify into differences that say
# nothing.  They are zeroed before every optimiser step, here and in the C
# test (records zero_grad_NAME), and their gradients checked to be noise.
ZERO_GRADS = {"cnn_bn": ["cnn.conv1.bias", "cnn.conv2.bias", "cnn.conv3.bias", "cnn.dense1.bias"]}
# Running statistics that Adam's amplified noise moves (none since
# ZERO_COLS; kept for a model that needs it): not compared after the
# Adam steps (after the SGD steps they are).
SKIP_ADAM_BUFFERS = {}
# Weights whose gradient is zero in exact arithmetic entry by entry: the
# columns of cnn_bn's dense1 weight whose input feature is equal over the
# batch (MNIST's empty border: the feature's receptive field is the same
# zero pixels in every image, whatever the weights; kept by every
# example's dropout mask, or zero).  Their gradient is that feature times
# the sum over the batch of batch norm's input gradient, which is zero;
# in float it is rounding noise, which Adam steps by up to +-lr and which
# differs between torch and the C test (with other masks than the
# committed ones: 1.9e-4 against a largest update of 3.0e-3), and bn4's
# running mean records the shift.  Both sides zero those columns'
# gradients before every optimiser step (record zero_cols_NAME: the
# column indices, found at the formula weights), so the rest of the
# tensor and bn4's running mean are compared after Adam too.
ZERO_COLS = {"cnn_bn": ("cnn.dense1.weight", lambda m: m.cnn.dense1)}
# Weights that Adam's amplified noise moves the same way: unet's convolutions
# under batch norm with input channels nearly constant over the batch of 4
# (the normalisation removes a constant's contribution, so those gradient
# entries are rounding noise, stepped +-lr by Adam).  Records
# skip_adam_NAME; after the SGD steps they are compared.  conv8 is one
# more of them: its Adam update moves by 2.6e-4 of the update when the
# interpreter's batch norm rounds once in double instead of twice in float.
SKIP_ADAM = {"unet": ["unet.conv2.weight", "unet.conv7.weight", "unet.conv8.weight"]}
# cnn_bn's conv3 the same way: entry (15, 14, 2, 2) has a gradient of
# 4.4e-8 (1.3e-6 of the largest), and Adam's update there differs by
# 1.6e-4 of the largest update (sampled since SAMPLE_FOR["cnn_bn"]).
SKIP_ADAM["cnn_bn"] = ["cnn.conv3.weight"]


class TanhSmall(torch.nn.Module):
    """tests/interp/tanh_small.net: flatten dense(32) tanh dense(784), then
    0.5 tanh(y) + 0.5 against the image (mse)."""

    def __init__(self):
        super().__init__()
        self.tanhnet = torch.nn.Module()
        self.tanhnet.dense1 = torch.nn.Linear(784, 32)
        self.tanhnet.dense2 = torch.nn.Linear(32, 784)

    def loss(self, x, labels, extra):
        flat = x.reshape(x.shape[0], -1)
        y = self.tanhnet.dense2(torch.tanh(self.tanhnet.dense1(flat)))
        r = 0.5 * torch.tanh(y) + 0.5
        return ((r - flat) ** 2).mean(dim=1).mean()


class ConvOpts(torch.nn.Module):
    """tests/interp/conv_opts.net: rectangular kernels, strides, padding and
    output padding, dilation, groups (depthwise too), layers without bias;
    nll of the log_softmax against the digit."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.body = nn.Module()
        self.body.conv1 = nn.Conv2d(1, 4, (3, 5), stride=(1, 2), padding=(1, 2))
        self.body.conv2 = nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2)
        self.body.conv3 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.body.conv4 = nn.Conv2d(4, 4, (3, 2), stride=2, groups=4, bias=False)
        self.body.deconv1 = nn.ConvTranspose2d(4, 2, (3, 2), stride=2, padding=(1, 0), output_padding=(1, 0),
                                               groups=2, bias=False, dilation=(1, 2))
        self.body.deconv2 = nn.ConvTranspose2d(2, 2, 3, padding=1, bias=False)
        self.body.deconv3 = nn.ConvTranspose2d(2, 2, 3, stride=(1, 2), output_padding=(1, 0), dilation=2)
        self.body.dense1 = nn.Linear(2 * 31 * 33, 10)

    def loss(self, x, labels, extra):
        b = self.body
        h = torch.relu(b.conv1(x))
        h = torch.relu(b.conv2(h))
        h = torch.relu(b.conv3(h))
        h = torch.tanh(b.conv4(h))
        h = torch.relu(b.deconv1(h))
        h = torch.relu(b.deconv2(h))
        h = torch.sigmoid(b.deconv3(h))
        logp = torch.log_softmax(b.dense1(h.reshape(h.shape[0], -1)), dim=1)
        return torch.nn.functional.nll_loss(logp, labels)


class PoolSmall(torch.nn.Module):
    """tests/interp/pool_small.net: max_pool2d (padded, overlapping),
    avg_pool2d (padding counted), global_avg_pool, upsample (nearest and
    bilinear) and concat."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        for name, cin, cout in (("a", 1, 4), ("b", 4, 4), ("c", 4, 3), ("head", 19, 8)):
            setattr(self, name, nn.Module())
            getattr(self, name).conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.cls = nn.Module()
        self.cls.dense1 = nn.Linear(341, 10)

    def loss(self, x, labels, extra):
        F = torch.nn.functional
        h = F.max_pool2d(torch.tanh(self.a.conv1(x)), 2)
        p = F.max_pool2d(F.relu(self.b.conv1(h)), 3, stride=2, padding=1)
        q = F.avg_pool2d(self.c.conv1(h), 3, stride=2, padding=1)
        u = torch.cat([F.interpolate(p, scale_factor=2, mode="nearest"), h,
                       F.interpolate(p, scale_factor=2, mode="bilinear", align_corners=False)], 1)
        w = torch.cat([F.max_pool2d(u, 2), q, F.avg_pool2d(h, 2)], 1)
        g = F.adaptive_avg_pool2d(F.relu(self.head.conv1(w)), 1).flatten(1)
        a7 = F.avg_pool2d(q, 7)
        f = torch.cat([g, a7.flatten(1), F.max_pool2d(q, 3).flatten(1),
                       F.interpolate(a7, scale_factor=5, mode="nearest").flatten(1)], 1)
        z = F.interpolate(F.max_pool2d(q, 3), scale_factor=3, mode="bilinear", align_corners=False)
        f = torch.cat([f, z.flatten(1), F.max_pool2d(q, 3, stride=2).flatten(1),
                       F.avg_pool2d(q, 2, stride=1).flatten(1)], 1)
        return F.nll_loss(F.log_softmax(self.cls.dense1(f), 1), labels)


F = torch.nn.functional


class ActSmall(torch.nn.Module):
    """tests/interp/act_small.net: leaky_relu, elu, gelu as dense layers'
    activations and in expressions, softmax over [784]."""

    def __init__(self):
        super().__init__()
        self.actnet = torch.nn.Module()
        for i, (n_in, n_out) in enumerate([(784, 32), (32, 32), (32, 32), (32, 32), (32, 784)]):
            setattr(self.actnet, f"dense{i + 1}", torch.nn.Linear(n_in, n_out))

    def loss(self, x, labels, extra):
        flat = x.reshape(x.shape[0], -1)
        a = self.actnet
        h = F.leaky_relu(a.dense1(flat))
        h = F.elu(a.dense2(h), alpha=0.5)
        h = F.gelu(a.dense3(h))
        h = F.leaky_relu(a.dense4(h), 0.2)
        h = F.elu(a.dense5(h))
        r = 0.5 * F.gelu(h) + 0.25 * F.leaky_relu(h, negative_slope=0.1) + F.elu(h, 2.0)
        p = F.softmax(h, dim=1)
        return F.mse_loss(r, flat) + 100 * (p * flat).sum(dim=1).mean()


class CeSmall(torch.nn.Module):
    """tests/interp/ce_small.net: cross_entropy on logits."""

    def __init__(self):
        super().__init__()
        self.cenet = torch.nn.Module()
        self.cenet.dense1 = torch.nn.Linear(784, 32)
        self.cenet.dense2 = torch.nn.Linear(32, 10)

    def loss(self, x, labels, extra):
        flat = x.reshape(x.shape[0], -1)
        return F.cross_entropy(self.cenet.dense2(F.gelu(self.cenet.dense1(flat))), labels)


class BceSmall(torch.nn.Module):
    """tests/interp/bce_small.net: bce and bce_with_logits, the image as
    target; sigmoid(20 z) saturates, so bce's clamp at -100 is used."""

    def __init__(self):
        super().__init__()
        self.bcenet = torch.nn.Module()
        self.bcenet.dense1 = torch.nn.Linear(784, 32)
        self.bcenet.dense2 = torch.nn.Linear(32, 784)

    def loss(self, x, labels, extra):
        t = x.reshape(x.shape[0], -1)
        z = self.bcenet.dense2(F.relu(self.bcenet.dense1(t)))
        return (F.binary_cross_entropy(torch.sigmoid(z), t) + 0.5 * F.binary_cross_entropy_with_logits(z, t) +
                0.01 * F.binary_cross_entropy(torch.sigmoid(20 * z), t))


class RegSmall(torch.nn.Module):
    """tests/interp/reg_small.net: l1, smooth_l1, huber."""

    def __init__(self):
        super().__init__()
        self.regnet = torch.nn.Module()
        self.regnet.dense1 = torch.nn.Linear(784, 32)
        self.regnet.dense2 = torch.nn.Linear(32, 784)

    def loss(self, x, labels, extra):
        t = x.reshape(x.shape[0], -1)
        y = self.regnet.dense2(torch.tanh(self.regnet.dense1(t)))
        return (F.l1_loss(y, t) + F.smooth_l1_loss(t, y) + F.smooth_l1_loss(y, t, beta=0.25) +
                F.huber_loss(t, y) + F.huber_loss(y, t, delta=0.3))


# The activation and loss ops' test models (tests/interp/NAME.net).
ACTLOSS_MODELS = dict(act_small=ActSmall, ce_small=CeSmall, bce_small=BceSmall, reg_small=RegSmall)


class ManySmall(torch.nn.Module):
    """tests/interp/many_small.net: cross_entropy and nll over 1000 classes,
    on labels beyond a byte (LABELS)."""

    def __init__(self):
        super().__init__()
        self.wide = torch.nn.Module()
        self.wide.dense1 = torch.nn.Linear(784, 16)
        self.wide.dense2 = torch.nn.Linear(16, 1000)

    def loss(self, x, labels, extra):
        logits = self.wide.dense2(torch.tanh(self.wide.dense1(x.reshape(x.shape[0], -1))))
        return F.cross_entropy(logits, labels) + 0.5 * F.nll_loss(F.log_softmax(logits, dim=1), labels)


# Models whose labels are not the MNIST digits: labels of their own for
# the B examples (stored in the fixture as every model's are).
LABELS = {"many_small": torch.tensor([999, 256, 513, 7])}


class GraphSmall(torch.nn.Module):
    """tests/interp/graph_small.net: nets as graphs (named values, a
    residual block applied twice as two instances, a two-input net, one
    labelled instance applied twice)."""

    def __init__(self):
        super().__init__()
        conv = torch.nn.Conv2d
        g = self.graphnet = torch.nn.Module()
        g.conv1 = conv(1, 4, 4, stride=4)
        for name in ("block1", "block2"):
            b = torch.nn.Module()
            b.conv1 = conv(4, 4, 3, padding=1)
            b.conv2 = conv(4, 4, 3, padding=1)
            setattr(g, name, b)
        g.merge = torch.nn.Module()
        g.merge.gate = torch.nn.Linear(16, 16)
        g.p = torch.nn.Module()
        g.p.dense1 = torch.nn.Linear(196, 16)

    @staticmethod
    def block(b, x):
        h = torch.relu(b.conv1(x))
        return torch.relu(x + b.conv2(h))

    def loss(self, x, labels, extra):
        g = self.graphnet
        y = self.block(g.block1, torch.relu(g.conv1(x)))
        z = self.block(g.block2, y)
        a = torch.tanh(g.p.dense1(z.flatten(1)))
        b = torch.tanh(g.p.dense1(y.flatten(1)))
        gate = torch.sigmoid(g.merge.gate(a * b))
        r = a + gate - 0.5 * b
        return ((r - 0.25) * (r - 0.25)).mean(dim=1).mean()


class InputsSmall(torch.nn.Module):
    """tests/interp/inputs_small.net: a [784] input and label(10) under a
    two-layer MLP (nll)."""

    def __init__(self):
        super().__init__()
        self.mlp = torch.nn.Module()
        self.mlp.dense1 = torch.nn.Linear(784, 32)
        self.mlp.dense2 = torch.nn.Linear(32, 10)

    def loss(self, x, labels, extra):
        h = torch.relu(self.mlp.dense1(x.reshape(x.shape[0], -1)))
        logp = torch.log_softmax(self.mlp.dense2(h), dim=1)
        return torch.nn.functional.nll_loss(logp, labels)


class DropoutSmall(torch.nn.Module):
    """tests/interp/dropout_small.net: flatten dense(32) relu dropout(0.3)
    dense(10), dropout(p=0.25), log_softmax, nll.  The masks are torch's
    (F.dropout of ones: bernoulli(1-p) / (1-p)), drawn once and given as
    `extra`, so the optimiser steps see the same masks as the C test, which
    injects them (records mask0, mask1: the dropout_mask nodes in order)."""

    def __init__(self):
        super().__init__()
        self.dnet = torch.nn.Module()
        self.dnet.dense1 = torch.nn.Linear(784, 32)
        self.dnet.dense2 = torch.nn.Linear(32, 10)

    @staticmethod
    def masks():
        return [F.dropout(torch.ones(B, 32), 0.3, training=True),
                F.dropout(torch.ones(B, 10), 0.25, training=True)]

    def loss(self, x, labels, masks):
        h = torch.relu(self.dnet.dense1(x.reshape(x.shape[0], -1))) * masks[0]
        h = self.dnet.dense2(h) * masks[1]
        return F.nll_loss(F.log_softmax(h, dim=1), labels)


class BnSmall(torch.nn.Module):
    """tests/interp/bn_small.net: conv2d(4, k=3, stride=2, pad=1) relu
    BatchNorm2d, flatten dense(16) tanh BatchNorm1d(momentum=0.2,
    eps=1e-3) relu, dense(10) log_softmax, nll.  Training mode: batch
    statistics, running statistics updated at every forward."""

    def __init__(self):
        super().__init__()
        self.bnnet = torch.nn.Module()
        self.bnnet.conv1 = torch.nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.bnnet.bn1 = torch.nn.BatchNorm2d(4)
        self.bnnet.dense1 = torch.nn.Linear(784, 16)
        self.bnnet.bn2 = torch.nn.BatchNorm1d(16, eps=1e-3, momentum=0.2)
        self.bnnet.dense2 = torch.nn.Linear(16, 10)

    def loss(self, x, labels, extra):
        n = self.bnnet
        h = n.bn1(torch.relu(n.conv1(x)))
        h = torch.relu(n.bn2(torch.tanh(n.dense1(h.flatten(1)))))
        return F.nll_loss(F.log_softmax(n.dense2(h), dim=1), labels)


def idx_load(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def fnv1a32(s):
    h = 0x811C9DC5
    for c in s.encode():
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h


def formula(name, shape):
    """Weight k of tensor `name`: (2u - 1) * bound, u from a hash of (name, k);
    bound = sqrt(6/fan_in), fan_in = numel/dim0, for weights (Kaiming-uniform
    for ReLU: activations keep their scale through the layers, so every
    gradient is well above float noise), 0.1 for biases.  test_torch.c
    computes the same in double and rounds to float."""
    n = int(np.prod(shape))
    bound = 0.1 if len(shape) == 1 else math.sqrt(6.0 / (n // shape[0]))
    base = fnv1a32(name)
    out = np.empty(n, np.float32)
    for k in range(n):
        u = fmix32(base ^ ((k * 0x9E3779B1) & 0xFFFFFFFF)) / 4294967296.0
        out[k] = np.float32((2.0 * u - 1.0) * bound)
    return torch.from_numpy(out.reshape(shape))


def set_formula_weights(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(formula(netc_name(name), tuple(p.shape)))


def sampled(t, sample=SAMPLE):
    flat = t.detach().reshape(-1).numpy().astype(np.float32)
    n_full = flat.size
    if n_full <= sample:
        return flat, n_full
    idx = (np.arange(sample, dtype=np.int64) * n_full) // sample
    return flat[idx], n_full


def write(path, records):
    with open(path, "wb") as f:
        f.write(b"NETFIX01")
        f.write(struct.pack("<I", len(records)))
        for name, data, n_full in records:
            data = np.ascontiguousarray(data, np.float32).reshape(-1)
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<II", data.size, n_full))
            f.write(data.astype("<f4").tobytes())


def trained(cls, opt_fn, x, labels, extra, zero=(), zero_cols=None):
    model = cls()
    set_formula_weights(model)
    opt = opt_fn([p for p in model.parameters() if p.requires_grad])
    params = dict(model.named_parameters())
    for _ in range(3):
        opt.zero_grad()
        model.loss(x, labels, extra).backward()
        for name in zero:
            params[name].grad.zero_()
        if zero_cols:
            params[zero_cols[0]].grad[:, zero_cols[1]] = 0
        opt.step()
    return model


def equal_columns(cls, layer, x, labels, extra):
    """The input features of `layer` (a Linear) that are equal over the
    batch, at the formula weights."""
    model = cls()
    set_formula_weights(model)
    seen = []
    layer(model).register_forward_hook(lambda mod, inp, out: seen.append(inp[0].detach()))
    with torch.no_grad():
        model.loss(x, labels, extra)
    h = seen[0]
    return torch.nonzero((h == h[0]).all(dim=0)).reshape(-1)


def main():
    torch.manual_seed(1)
    images = idx_load(os.path.join(ROOT, "runtime", "mnist", "train-images-idx3-ubyte.gz"))
    digits = idx_load(os.path.join(ROOT, "runtime", "mnist", "train-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images[:B].astype(np.float32) / 255.0).reshape(B, 1, 28, 28)
    labels = torch.from_numpy(digits[:B].astype(np.int64))
    eps = torch.randn(B, LATENT)
    # The denoiser's noise as noise_apply draws it: per image mu ~ N(0, 1),
    # sigma = |N(0.5, 0.5)|, then N(mu, sigma^2) per pixel.
    mu = torch.randn(B, 1, 1, 1)
    sigma = (0.5 + 0.5 * torch.randn(B, 1, 1, 1)).abs()
    noise = mu + sigma * torch.randn(B, 1, 28, 28)

    os.makedirs(OUT, exist_ok=True)
    models = dict(MODELS, tanh_small=TanhSmall)
    models["conv_opts"] = ConvOpts
    models.update(ACTLOSS_MODELS)
    models.update(many_small=ManySmall)
    models.update(graph_small=GraphSmall, inputs_small=InputsSmall)
    models.update(pool_small=PoolSmall, dropout_small=DropoutSmall, bn_small=BnSmall, **ZOO)
    wanted = sys.argv[1:] or list(models)
    extras = {"denoiser": noise, "vae": eps, "dropout_small": DropoutSmall.masks()}
    for name in wanted:       # the zoo's dropout masks, each as if its model were the only one named
        if name in ZOO and getattr(ZOO[name], "DROPOUTS", None):
            with torch.random.fork_rng():
                extras[name] = ZOO[name].masks(B)
    # The zoo's other draws and inputs, from their own generators (the
    # global stream above stays as the study's fixtures drew it): unet's
    # noise is the denoiser's; conv_vae's epsilon is [B, 16]; a model whose
    # input is not an MNIST image (resnet8: [3, 32, 32]) gets a synthetic
    # batch, uniform in [0, 1), stored as x like any other.
    extras["unet"] = noise
    extras["conv_vae"] = torch.randn(B, ZOO["conv_vae"].LATENT, generator=torch.Generator().manual_seed(2))
    inputs = {n: torch.rand(B, *ZOO[n].INPUT, generator=torch.Generator().manual_seed(3))
              for n in wanted if hasattr(ZOO.get(n), "INPUT")}
    mnist_x = x
    mnist_labels = labels
    for name in wanted:
        labels = LABELS.get(name, mnist_labels)
        extra = extras.get(name)
        cls = models[name]
        x = inputs.get(name, mnist_x)
        model = cls()
        set_formula_weights(model)
        loss = model.loss(x, labels, extra)
        loss.backward()
        records = [("x", x.reshape(B, -1).numpy(), x.numel()),
                   ("labels", labels.numpy().astype(np.float32), B),
                   ("loss", np.array([loss.item()], np.float32), 1)]
        if name in ("vae", "conv_vae"):
            records.append(("eps", extra.numpy(), extra.numel()))
        if name in ("denoiser", "unet"):
            records.append(("noise", noise.reshape(B, -1).numpy(), noise.numel()))
        if isinstance(extra, list):   # dropout masks, in the order of the model's dropout_mask nodes
            for j, mask in enumerate(extra):
                records.append((f"mask{j}", mask.numpy(), mask.numel()))
        zero = ZERO_GRADS.get(name, [])
        zero_cols = None
        if name in ZERO_COLS:
            zero_cols = (ZERO_COLS[name][0], equal_columns(cls, ZERO_COLS[name][1], x, labels, extra))
            cols = zero_cols[1].numpy().astype(np.float32)
            records.append(("zero_cols_" + netc_name(zero_cols[0]), cols, cols.size))
        adam = trained(cls, lambda ps: torch.optim.Adam(ps, lr=1e-3), x, labels, extra, zero, zero_cols)
        sgd = trained(cls, lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), x, labels, extra, zero, zero_cols)
        for pname in zero:
            records.append(("zero_grad_" + netc_name(pname), np.array([0], np.float32), 1))
        for pname in SKIP_ADAM.get(name, []):
            records.append(("skip_adam_" + netc_name(pname), np.array([0], np.float32), 1))
        adam_p = dict(adam.named_parameters())
        sgd_p = dict(sgd.named_parameters())
        for pname, p in model.named_parameters():
            if not p.requires_grad:
                continue
            nn_name = netc_name(pname)
            ns = SAMPLE_FOR.get(name, SAMPLE)
            g, n_full = sampled(p.grad, ns)
            records.append(("d_" + nn_name, g, n_full))
            records.append(("l1_d_" + nn_name, np.array([p.grad.abs().double().sum().item()], np.float32), 1))
            records.append(("adam_" + nn_name, *sampled(adam_p[pname], ns)))
            records.append(("sgd_" + nn_name, *sampled(sgd_p[pname], ns)))
        # Buffers (batch norm's running statistics) after the steps, and the
        # evaluation-mode loss after the Adam steps (running statistics in use).
        for bname, buf in adam.named_buffers():
            if bname.endswith("num_batches_tracked"):
                continue
            nn_name = bname.replace(".", "_")
            if bname not in SKIP_ADAM_BUFFERS.get(name, []):
                records.append(("adam_" + nn_name, *sampled(buf)))
            records.append(("sgd_" + nn_name, *sampled(dict(sgd.named_buffers())[bname])))
        if any(True for _ in adam.buffers()):
            adam.eval()
            with torch.no_grad():
                records.append(("adam_eval_loss", np.array([adam.loss(x, labels, extra).item()], np.float32), 1))
        write(os.path.join(OUT, name + ".bin"), records)
        print(f"{name}: loss {loss.item():.6f}, {len(records)} records")


if __name__ == "__main__":
    sys.exit(main())
