#!/usr/bin/python3
"""pytorch_models.py - the four models of models/*.net in PyTorch, layer for
layer, with netc's parameter names as module paths (encoder.trunk.conv1 ->
encoder_trunk_conv1_w / _b) and PyTorch's layouts, which netc shares.

Each model has loss(x, labels, extra) -> the batch-mean loss, as netc
defines it: extra is the denoiser's noise [B, 1, 28, 28] (added to x) and
the VAE's epsilon [B, 9] (the normal([latent]) draws); the other models
ignore it.  MODELS maps the model name to its class.

Used by tests/interp/make_fixtures.py (parity fixtures) and the benchmarks
(bench/interp/bench_interp.py).  Run with /usr/bin/python3
(Debian's torch 1.13).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT = 9
LAMBDA = 1e-5


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(16, 32, 3, stride=2)
        self.dense1 = nn.Linear(288, 64)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        return F.relu(self.dense1(x.flatten(1)))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.dense1 = nn.Linear(64, LATENT)

    def forward(self, x):
        return self.dense1(self.trunk(x))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(LATENT, 64)
        self.dense2 = nn.Linear(64, 288)
        self.deconv1 = nn.ConvTranspose2d(32, 16, 3, stride=2)
        self.deconv2 = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
        self.deconv3 = nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1)

    def forward(self, z):
        h = F.relu(self.dense2(F.relu(self.dense1(z))))
        h = h.view(-1, 32, 3, 3)
        h = F.relu(self.deconv1(h))
        h = F.relu(self.deconv2(h))
        return torch.sigmoid(self.deconv3(h))


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def loss(self, x, labels, extra):
        y = self.decoder(self.encoder(x))
        return F.mse_loss(y, x)


class Denoiser(Autoencoder):
    def loss(self, x, labels, extra):
        y = self.decoder(self.encoder(x + extra))
        return F.mse_loss(y, x)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(LATENT, 64)
        self.dense2 = nn.Linear(64, 10)

    def forward(self, z):
        return F.log_softmax(self.dense2(F.relu(self.dense1(z))), dim=1)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = Head()
        for p in self.encoder.parameters():
            p.requires_grad_(False)

    def loss(self, x, labels, extra):
        return F.nll_loss(self.head(self.encoder(x)), labels)


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.mu_head = nn.Module()
        self.mu_head.dense1 = nn.Linear(64, LATENT)
        self.logvar_head = nn.Module()
        self.logvar_head.dense1 = nn.Linear(64, LATENT)
        self.decoder = Decoder()

    def loss(self, x, labels, eps):
        h = self.trunk(x)
        mu = self.mu_head.dense1(h)
        logvar = self.logvar_head.dense1(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        y = self.decoder(z)
        mse = ((y - x) ** 2).flatten(1).mean(1)
        kl = LAMBDA * 0.5 * (torch.exp(logvar) + mu * mu - 1 - logvar).sum(1)
        return (mse + kl).mean()


MODELS = {"autoencoder": Autoencoder, "denoiser": Denoiser, "classifier": Classifier, "vae": Vae}


def netc_name(torch_name):
    """"encoder.trunk.conv1.weight" -> "encoder_trunk_conv1_w"."""
    parts = torch_name.split(".")
    return "_".join(parts[:-1]) + ("_w" if parts[-1] == "weight" else "_b")


def load_npz(model, path):
    """Loads netc-ckpt export's .npz (PyTorch's names and layouts,
    docs/pytorch.md) into model, strictly: every key a tensor of model's
    state_dict and every tensor present."""
    import numpy as np
    with np.load(path) as d:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in d.items()}, strict=True)
    return model


def save_npz(model, path):
    """Saves model's state_dict as an .npz that netc-ckpt import reads
    (float32 tensors; num_batches_tracked stays int64)."""
    import numpy as np
    np.savez(path, **{k: (v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()).numpy()
                      for k, v in model.state_dict().items()})
