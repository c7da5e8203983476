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


class BasicBlock(nn.Module):
    """models/zoo/resnet8.net's blocks: torchvision's BasicBlock with
    netc's names (conv1 bn1 relu conv2 bn2, + the skip, relu); when the
    shape changes, conv3 (1x1, strided, no bias) and bn3 project the skip
    (torchvision's downsample.0 and .1)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.conv3 = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            self.bn3 = nn.BatchNorm2d(cout)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        r = self.bn2(self.conv2(h))
        s = self.bn3(self.conv3(x)) if hasattr(self, "conv3") else x
        return F.relu(r + s)


class ResNet8(ZooModel):
    """models/zoo/resnet8.net: stem conv2d(16, k=3, pad=1, bias=false)
    BatchNorm2d relu, basic blocks of 16, 32 (stride 2), 64 (stride 2)
    channels, global average pooling, dense(10), cross-entropy."""
    INPUT = (3, 32, 32)

    def __init__(self):
        super().__init__()
        self.resnet = nn.Module()
        r = self.resnet
        r.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        r.bn1 = nn.BatchNorm2d(16)
        r.block16 = BasicBlock(16, 16, 1)
        r.block32 = BasicBlock(16, 32, 2)
        r.block64 = BasicBlock(32, 64, 2)
        r.dense1 = nn.Linear(64, 10)

    def forward(self, x):
        r = self.resnet
        h = F.relu(r.bn1(r.conv1(x)))
        h = r.block64(r.block32(r.block16(h)))
        return r.dense1(F.adaptive_avg_pool2d(h, 1).flatten(1))

    def loss(self, x, labels, extra):
        return F.cross_entropy(self(x), labels)


class UNet(ZooModel):
    """models/zoo/unet.net: a U-Net denoiser, 8/16/32 channels at 28/14/7,
    two conv (no bias) + BatchNorm2d + relu per level, nearest upsampling
    and concatenated skips, 1x1 conv + sigmoid; mse against the clean
    image.  extra, when not None, is the noise to add (netc's noise(x)
    draws it otherwise; see noise())."""

    def __init__(self):
        super().__init__()
        self.unet = nn.Module()
        u = self.unet
        for i, (cin, cout) in enumerate([(1, 8), (8, 8), (8, 16), (16, 16), (16, 32), (32, 32),
                                         (48, 16), (16, 16), (24, 8), (8, 8)]):
            setattr(u, f"conv{i + 1}", nn.Conv2d(cin, cout, 3, padding=1, bias=False))
            setattr(u, f"bn{i + 1}", nn.BatchNorm2d(cout))
        u.conv11 = nn.Conv2d(8, 1, 1)

    def forward(self, x):
        u = self.unet

        def cbr(i, h):
            return F.relu(getattr(u, f"bn{i}")(getattr(u, f"conv{i}")(h)))
        d1 = cbr(2, cbr(1, x))
        d2 = cbr(4, cbr(3, F.max_pool2d(d1, 2)))
        b = cbr(6, cbr(5, F.max_pool2d(d2, 2)))
        u2 = cbr(8, cbr(7, torch.cat([F.interpolate(b, scale_factor=2, mode="nearest"), d2], 1)))
        u1 = cbr(10, cbr(9, torch.cat([F.interpolate(u2, scale_factor=2, mode="nearest"), d1], 1)))
        return torch.sigmoid(u.conv11(u1))

    @staticmethod
    def noise(x):
        """netc's noise(x) with its defaults: per image mu ~ N(0, 1),
        sigma = |N(0.5, 0.5)|, then N(mu, sigma^2) per pixel."""
        b = x.shape[0]
        mu = torch.randn(b, 1, 1, 1)
        sigma = (0.5 + 0.5 * torch.randn(b, 1, 1, 1)).abs()
        return mu + sigma * torch.randn_like(x)

    def loss(self, x, labels, extra):
        n = self.noise(x) if extra is None else extra
        return F.mse_loss(self(x + n), x)


class ConvVae(ZooModel):
    """models/zoo/conv_vae.net: encoder conv2d(16, k=3, stride=2, pad=1)
    relu conv2d(32, ...) relu flatten dense(128) relu; heads mu, logvar
    (dense(16)); decoder dense(1568) relu reshape(32, 7, 7)
    ConvTranspose2d(16, k=4, stride=2, pad=1) relu ConvTranspose2d(1, ...)
    sigmoid.  Loss: bce (mean) + KL / 784.  extra, when not None, is the
    standard normal epsilon of the reparameterisation."""
    LATENT = 16

    def __init__(self):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.conv1 = nn.Conv2d(1, 16, 3, stride=2, padding=1)
        self.encoder.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.encoder.dense1 = nn.Linear(1568, 128)
        self.mu_head = nn.Module()
        self.mu_head.dense1 = nn.Linear(128, self.LATENT)
        self.logvar_head = nn.Module()
        self.logvar_head.dense1 = nn.Linear(128, self.LATENT)
        self.decoder = nn.Module()
        self.decoder.dense1 = nn.Linear(self.LATENT, 1568)
        self.decoder.deconv1 = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
        self.decoder.deconv2 = nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1)

    def decode(self, z):
        d = self.decoder
        h = F.relu(d.dense1(z)).reshape(-1, 32, 7, 7)
        return torch.sigmoid(d.deconv2(F.relu(d.deconv1(h))))

    def forward(self, x, eps=None):
        e = self.encoder
        h = F.relu(e.dense1(F.relu(e.conv2(F.relu(e.conv1(x)))).flatten(1)))
        mu, logvar = self.mu_head.dense1(h), self.logvar_head.dense1(h)
        if eps is None:
            eps = torch.randn_like(mu)
        return self.decode(mu + torch.exp(0.5 * logvar) * eps), mu, logvar

    def loss(self, x, labels, extra):
        y, mu, logvar = self(x, extra)
        kl = 0.5 * (torch.exp(logvar) + mu * mu - 1 - logvar).sum(1)
        return F.binary_cross_entropy(y, x) + (kl / 784).mean()


ZOO = {"lenet5": LeNet5, "mlp": Mlp, "cnn_bn": CnnBn}
ZOO.update(resnet8=ResNet8, unet=UNet, conv_vae=ConvVae)
