#!/usr/bin/python3
"""Writes the PyTorch reference values the runtime tests compare against.

Run with Debian's torch (python3-torch 1.13):  /usr/bin/python3 make_fixtures.py
from this directory; it rewrites fixtures/*.txt.

Format (text, so a diff shows what changed): records of the form
    NAME COUNT
    v1 v2 ... (COUNT floats, %.9g, 8 per line)
Lines starting with '#' are comments.  Integer settings are stored as
floats too.  optim_CASE.txt holds, for one optimiser configuration:
config (kind lr momentum dampening nesterov weight_decay beta1 beta2 eps;
kind 0 sgd, 1 adam, 2 adamw), amsgrad (1, where set), p0 (initial
parameters), and per step k
g_k (the gradient given) and p_k (torch's parameters after the step).
losses.txt holds inputs, values and gradients of each loss.
"""
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240901)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
os.makedirs(OUT, exist_ok=True)


def write(f, name, t):
    v = [float(x) for x in torch.as_tensor(t, dtype=torch.float64).flatten()]
    f.write(f"{name} {len(v)}\n")
    for i in range(0, len(v), 8):
        f.write(" ".join("%.9g" % x for x in v[i:i + 8]) + "\n")


N = 37        # parameters: odd, not a multiple of any vector width
STEPS = 10
CASES = {
    # name: (kind, lr, momentum, dampening, nesterov, weight_decay)
    "sgd_plain": (0, 0.1, 0.0, 0.0, 0, 0.0),
    "sgd_momentum": (0, 0.05, 0.9, 0.0, 0, 0.0),
    "sgd_dampening": (0, 0.05, 0.9, 0.3, 0, 0.0),
    "sgd_nesterov": (0, 0.05, 0.9, 0.0, 1, 0.0),
    "sgd_wd": (0, 0.05, 0.0, 0.0, 0, 0.01),
    "sgd_momentum_wd_nesterov": (0, 0.05, 0.8, 0.0, 1, 0.05),
    "adam": (1, 1e-3, 0, 0, 0, 0.0),
    "adam_wd": (1, 1e-2, 0, 0, 0, 0.1),
    "adamw": (2, 1e-2, 0, 0, 0, 0.1),
    "adamw_lr1e-3": (2, 1e-3, 0, 0, 0, 0.01),
}
BETAS, EPS = (0.9, 0.999), 1e-8

for name, (kind, lr, mom, damp, nest, wd) in CASES.items():
    p = torch.randn(N, dtype=torch.float32)
    # Gradients of varied scale, including tiny ones (Adam's eps matters).
    grads = [torch.randn(N) * (10.0 ** torch.randint(-4, 2, (N,)).float()) for _ in range(STEPS)]
    param = torch.nn.Parameter(p.clone())
    if kind == 0:
        opt = torch.optim.SGD([param], lr=lr, momentum=mom, dampening=damp,
                              nesterov=bool(nest), weight_decay=wd)
    elif kind == 1:
        opt = torch.optim.Adam([param], lr=lr, betas=BETAS, eps=EPS, weight_decay=wd)
    else:
        opt = torch.optim.AdamW([param], lr=lr, betas=BETAS, eps=EPS, weight_decay=wd)
    with open(os.path.join(OUT, f"optim_{name}.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: torch.optim {name}, {N} parameters, {STEPS} steps\n")
        write(f, "config", [kind, lr, mom, damp, nest, wd, BETAS[0], BETAS[1], EPS])
        write(f, "p0", p)
        for k, g in enumerate(grads, 1):
            param.grad = g.clone()
            opt.step()
            write(f, f"g{k}", g)
            write(f, f"p{k}", param.detach())

with open(os.path.join(OUT, "losses.txt"), "w") as f:
    f.write(f"# torch {torch.__version__}: losses and their gradients\n")
    # MSE over a [5, 784] batch, as the autoencoder's loss.
    y = torch.rand(5, 784, requires_grad=True)
    t = torch.rand(5, 784)
    loss = F.mse_loss(y, t)
    loss.backward()
    write(f, "mse_y", y.detach()); write(f, "mse_t", t)
    write(f, "mse_loss", loss.detach()); write(f, "mse_dy", y.grad)
    # log_softmax over [6, 10] logits, then NLL on labels; gradients through both.
    x = (torch.randn(6, 10) * 3).requires_grad_()
    labels = torch.tensor([3, 0, 9, 9, 1, 7])
    logp = F.log_softmax(x, dim=1)
    logp.retain_grad()
    nll = F.nll_loss(logp, labels)
    nll.backward()
    write(f, "ls_x", x.detach()); write(f, "ls_out", logp.detach())
    write(f, "nll_labels", labels); write(f, "nll_loss", nll.detach())
    write(f, "nll_dlogp", logp.grad); write(f, "ls_dx", x.grad)
    # log_softmax backward with an arbitrary upstream gradient.
    x2 = torch.randn(4, 10, requires_grad=True)
    up = torch.randn(4, 10)
    out2 = F.log_softmax(x2, dim=1)
    out2.backward(up)
    write(f, "ls2_x", x2.detach()); write(f, "ls2_out", out2.detach())
    write(f, "ls2_up", up); write(f, "ls2_dx", x2.grad)
    # Gaussian KL term, summed: 0.5 * sum(exp(lv) + mu^2 - 1 - lv).
    mu = torch.randn(3, 9, requires_grad=True)
    lv = (torch.randn(3, 9) * 0.5).requires_grad_()
    kl = 0.5 * torch.sum(lv.exp() + mu ** 2 - 1 - lv)
    kl.backward()
    write(f, "kl_mu", mu.detach()); write(f, "kl_lv", lv.detach())
    write(f, "kl_loss", kl.detach()); write(f, "kl_dmu", mu.grad); write(f, "kl_dlv", lv.grad)

# Options added after the fixtures above were written: drawn after them, so
# the earlier files stay byte for byte as they were.  An "amsgrad 1" record
# follows the config where it is set.
MORE = {
    # name: (kind, lr, weight_decay, betas, eps, amsgrad)
    "adam_betas_eps": (1, 1e-2, 0.0, (0.8, 0.99), 1e-6, 0),
    "adam_amsgrad": (1, 1e-2, 0.01, BETAS, EPS, 1),
    "adamw_amsgrad": (2, 1e-2, 0.1, (0.85, 0.995), 1e-7, 1),
}
for name, (kind, lr, wd, betas, eps, ams) in MORE.items():
    p = torch.randn(N, dtype=torch.float32)
    grads = [torch.randn(N) * (10.0 ** torch.randint(-4, 2, (N,)).float()) for _ in range(STEPS)]
    param = torch.nn.Parameter(p.clone())
    cls = torch.optim.Adam if kind == 1 else torch.optim.AdamW
    opt = cls([param], lr=lr, betas=betas, eps=eps, weight_decay=wd, amsgrad=bool(ams))
    with open(os.path.join(OUT, f"optim_{name}.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: torch.optim {name}, {N} parameters, {STEPS} steps\n")
        write(f, "config", [kind, lr, 0, 0, 0, wd, betas[0], betas[1], eps])
        if ams:
            write(f, "amsgrad", [1])
        write(f, "p0", p)
        for k, g in enumerate(grads, 1):
            param.grad = g.clone()
            opt.step()
            write(f, f"g{k}", g)
            write(f, f"p{k}", param.detach())

print("wrote", OUT)
