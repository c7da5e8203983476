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
kind 0 sgd, 1 adam, 2 adamw, 3 rmsprop), amsgrad (1, where set), rmsprop
(alpha centered, for RMSprop), decay (1 or 0 per parameter: 0 in a
group without weight decay, where set), p0 (initial
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


def write17(f, name, values):
    """A record of doubles, each exact (%.17g), one per line."""
    f.write(f"{name} {len(values)}\n" + "".join("%.17g\n" % float(x) for x in values))


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


# Learning-rate schedules (torch.optim.lr_scheduler), each rate torch sets:
# per epoch (lr_k: the rate of epoch k, before its scheduler.step()), or per
# optimiser step for OneCycleLR (with the cycled momentum).  schedule_CASE.txt
# holds config (kind step_size gamma t_max eta_min pct_start div_factor
# final_div_factor warmup warmup_factor base_lr optimiser count; kind as
# SchedKind: 1 step, 2 multistep, 3 exponential, 4 cosine, 5 onecycle;
# optimiser 0 sgd, 1 adam; count = epochs or total steps), milestones, lr and,
# for onecycle, momentum.
LS = torch.optim.lr_scheduler
SCHEDULES = {
    # name: (kind, extra config, count, factory(opt))
    "step": (1, dict(step_size=3, gamma=0.5), 10, lambda o: LS.StepLR(o, 3, gamma=0.5)),
    "multistep": (2, dict(gamma=0.3, milestones=[2, 5, 5, 8]), 10,
                  lambda o: LS.MultiStepLR(o, [2, 5, 5, 8], gamma=0.3)),
    "exponential": (3, dict(gamma=0.9), 10, lambda o: LS.ExponentialLR(o, 0.9)),
    "cosine": (4, dict(t_max=4, eta_min=1e-3), 12, lambda o: LS.CosineAnnealingLR(o, 4, eta_min=1e-3)),
    "cosine_epochs": (4, dict(t_max=10), 10, lambda o: LS.CosineAnnealingLR(o, 10)),
    "warmup_cosine": (4, dict(t_max=10, warmup=3, warmup_factor=0.25), 12,
                      lambda o: LS.ChainedScheduler([LS.LinearLR(o, 0.25, total_iters=3),
                                                     LS.CosineAnnealingLR(o, 10)])),
    "warmup_step": (1, dict(step_size=3, gamma=0.5, warmup=2, warmup_factor=1 / 3), 10,
                    lambda o: LS.ChainedScheduler([LS.LinearLR(o, total_iters=2),
                                                   LS.StepLR(o, 3, gamma=0.5)])),
    "warmup_only": (0, dict(warmup=4, warmup_factor=0.1), 8,
                    lambda o: LS.LinearLR(o, 0.1, total_iters=4)),
    "onecycle_adam": (5, dict(), 50, lambda o: LS.OneCycleLR(o, max_lr=0.01, total_steps=50)),
    "onecycle_sgd": (5, dict(pct_start=0.25, div_factor=10, final_div_factor=100), 40,
                     lambda o: LS.OneCycleLR(o, max_lr=0.1, total_steps=40, pct_start=0.25,
                                             div_factor=10, final_div_factor=100)),
}
for name, (kind, cfg, count, make) in SCHEDULES.items():
    sgd = name.endswith("_sgd")
    base = 0.1 if sgd else 0.01
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base, momentum=0.9) if sgd else torch.optim.Adam([p], lr=base)
    sched = make(opt)
    lrs, moms = [], []
    for k in range(count):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g["momentum"] if sgd else g["betas"][0])
        p.grad = torch.ones(1)
        opt.step()
        sched.step()
    c = dict(step_size=0, gamma=0.1, t_max=0, eta_min=0.0, pct_start=0.3, div_factor=25.0,
             final_div_factor=1e4, warmup=0, warmup_factor=1 / 3, milestones=[])
    c.update(cfg)
    with open(os.path.join(OUT, f"schedule_{name}.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: lr_scheduler {name}, {count} "
                f"{'steps' if kind == 5 else 'epochs'}\n")
        # %.17g: settings and rates are doubles, compared exactly.
        write17(f, "config", [kind, c["step_size"], c["gamma"], c["t_max"], c["eta_min"], c["pct_start"],
                              c["div_factor"], c["final_div_factor"], c["warmup"], c["warmup_factor"],
                              base, 0 if sgd else 1, count])
        write17(f, "milestones", c["milestones"])
        write17(f, "lr", lrs)
        if kind == 5:
            write17(f, "momentum", moms)

# ReduceLROnPlateau (kind 6) on a given loss sequence: config as above, a
# plateau record (factor patience threshold cooldown min_lr), the losses
# (metric, one per epoch, given after the epoch) and the rate of each epoch.
PLATEAUS = {
    "plateau": (dict(factor=0.5, patience=2, threshold=1e-4, cooldown=0, min_lr=0.0),
                [1.0, 0.9, 0.9, 0.89995, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7]),
    "plateau_cooldown_min": (dict(factor=0.1, patience=1, threshold=0.01, cooldown=2, min_lr=2e-4),
                             [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
}
for name, (cfg, losses) in PLATEAUS.items():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.01)
    sched = LS.ReduceLROnPlateau(opt, mode="min", threshold_mode="rel", **cfg)
    lrs = []
    for loss in losses:
        lrs.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(1)
        opt.step()
        sched.step(loss)
    with open(os.path.join(OUT, f"schedule_{name}.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: lr_scheduler ReduceLROnPlateau {name}, "
                f"{len(losses)} epochs\n")
        write17(f, "config", [6, 0, 0.1, 0, 0, 0.3, 25, 1e4, 0, 1 / 3, 0.01, 1, len(losses)])
        write17(f, "milestones", [])
        write17(f, "plateau", [cfg["factor"], cfg["patience"], cfg["threshold"], cfg["cooldown"],
                               cfg["min_lr"]])
        write17(f, "metric", losses)
        write17(f, "lr", lrs)

# Gradient clipping (torch.nn.utils) over three tensors' gradients.
with open(os.path.join(OUT, "clip.txt"), "w") as f:
    f.write(f"# torch {torch.__version__}: clip_grad_norm_ and clip_grad_value_\n")
    gs = [torch.randn(5) * 0.3, torch.randn(7), torch.randn(11) * 0.1]
    write(f, "g", torch.cat(gs))
    for tag, max_norm in (("norm_1.5", 1.5), ("norm_1000", 1000.0)):
        ps = [torch.nn.Parameter(torch.zeros_like(g)) for g in gs]
        for p, g in zip(ps, gs):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        write(f, f"{tag}_total", [total.item()])
        write(f, f"{tag}_g", torch.cat([p.grad for p in ps]))
    ps = [torch.nn.Parameter(torch.zeros_like(g)) for g in gs]
    for p, g in zip(ps, gs):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(ps, 0.25)
    write(f, "value_0.25_g", torch.cat([p.grad for p in ps]))

# RMSprop (kind 3): config as above (beta1, beta2 unused) and an "rmsprop"
# record (alpha, centered) in %.17g.
RMSPROP = {
    # name: (lr, momentum, weight_decay, eps, alpha, centered)
    "rmsprop": (1e-2, 0.0, 0.0, 1e-8, 0.99, 0),
    "rmsprop_momentum": (1e-2, 0.9, 0.0, 1e-8, 0.99, 0),
    "rmsprop_centered": (1e-2, 0.0, 0.0, 1e-6, 0.9, 1),
    "rmsprop_centered_momentum_wd": (5e-3, 0.5, 0.05, 1e-8, 0.95, 1),
}
for name, (lr, mom, wd, eps, alpha, centered) in RMSPROP.items():
    p = torch.randn(N, dtype=torch.float32)
    grads = [torch.randn(N) * (10.0 ** torch.randint(-4, 2, (N,)).float()) for _ in range(STEPS)]
    param = torch.nn.Parameter(p.clone())
    opt = torch.optim.RMSprop([param], lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=mom,
                              centered=bool(centered))
    with open(os.path.join(OUT, f"optim_{name}.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: torch.optim {name}, {N} parameters, {STEPS} steps\n")
        write(f, "config", [3, lr, mom, 0, 0, wd, BETAS[0], BETAS[1], eps])
        write17(f, "rmsprop", [alpha, centered])
        write(f, "p0", p)
        for k, g in enumerate(grads, 1):
            param.grad = g.clone()
            opt.step()
            write(f, f"g{k}", g)
            write(f, f"p{k}", param.detach())

# Weight decay with an exempt group (biases, normalisation parameters):
# the first 30 of the N floats are a weight, the last 7 a bias in a
# parameter group with weight_decay 0.  A "decay" record (1 decays, 0 not)
# follows the config.
EXEMPT = {
    # name: (kind, lr, momentum, weight_decay)
    "sgd_momentum_wd_exempt": (0, 0.05, 0.9, 0.05),
    "adam_wd_exempt": (1, 1e-2, 0.0, 0.1),
    "adamw_exempt": (2, 1e-2, 0.0, 0.1),
    "rmsprop_wd_exempt": (3, 1e-2, 0.0, 0.1),
}
NW = 30
for name, (kind, lr, mom, wd) in EXEMPT.items():
    p = torch.randn(N, dtype=torch.float32)
    grads = [torch.randn(N) * (10.0 ** torch.randint(-4, 2, (N,)).float()) for _ in range(STEPS)]
    w, b = torch.nn.Parameter(p[:NW].clone()), torch.nn.Parameter(p[NW:].clone())
    groups = [{"params": [w]}, {"params": [b], "weight_decay": 0.0}]
    if kind == 0:
        opt = torch.optim.SGD(groups, lr=lr, momentum=mom, weight_decay=wd)
    elif kind == 1:
        opt = torch.optim.Adam(groups, lr=lr, weight_decay=wd)
    elif kind == 2:
        opt = torch.optim.AdamW(groups, lr=lr, weight_decay=wd)
    else:
        opt = torch.optim.RMSprop(groups, lr=lr, weight_decay=wd)
    with open(os.path.join(OUT, f"optim_{name}.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: torch.optim {name}, {N} parameters "
                f"({N - NW} exempt from weight decay), {STEPS} steps\n")
        write(f, "config", [kind, lr, mom, 0, 0, wd, BETAS[0], BETAS[1], EPS])
        if kind == 3:
            write17(f, "rmsprop", [0.99, 0])
        write(f, "decay", [1] * NW + [0] * (N - NW))
        write(f, "p0", p)
        for k, g in enumerate(grads, 1):
            w.grad, b.grad = g[:NW].clone(), g[NW:].clone()
            opt.step()
            write(f, f"g{k}", g)
            write(f, f"p{k}", torch.cat([w.detach(), b.detach()]))

print("wrote", OUT)
