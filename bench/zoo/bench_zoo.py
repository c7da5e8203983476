#!/usr/bin/python3
"""bench_zoo.py - training throughput of the zoo's models: the generated
trainer (bench-zoo-MODEL, the generated code's train_step) next to PyTorch
eager (bench/pytorch_zoo.py: forward, backward and an Adam step), batch
256 of MNIST-shaped images with labels (a model with another input shape,
resnet8's [3, 32, 32]: a synthetic batch of that shape, on both sides),
the median of --runs timed runs after warm-up, by wall clock at 1 and 2
threads (each side's best thread count is what a user would pick), and by
CPU time at 1 thread (what a dedicated core does when the machine is
shared), as bench/codegen/bench.py measures the study's autoencoder.
Prints the CPU model first.  Each row of the generated code also gives its
GFLOP/s (the FLOPs of every convolution, transposed convolution and dense
op of the training step, forward and gradients, counted from `netc
dump-grad`: 2 per multiply-add) and the fraction of the FMA peak that
bench-peak measures at the same clock and thread count.

With --what infer, the evaluation-mode forward pass instead (the
generated NetModel.forward: loss and exports; PyTorch's loss in eval()
under no_grad); with --before DIR, a second set of bench-zoo-MODEL
binaries (built from another commit's generated code) runs next to the
first, in the same run, for before/after tables; --cpu-only skips the
wall-clock rows.

    cmake --build build --target bench-zoo-lenet5
    /usr/bin/python3 bench/zoo/bench_zoo.py [--build build] [--runs 5] [--what train|infer]
                                            [--before DIR] [--cpu-only] [MODEL...]
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

# Both sides' OpenMP threads sleep when idle: on a shared machine, threads
# that spin waiting for each other's cores make 2-thread runs collapse.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
import torch  # noqa: E402  (after OMP_WAIT_POLICY, which libgomp reads when it starts)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from pytorch_zoo import ZOO  # noqa: E402

# Steps per timed run: fewer for the heavier models, so a run takes about
# a second or two on one core either way.
STEPS = {"resnet8": 4, "unet": 8, "conv_vae": 10}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def torch_rate(cls, threads, runs, steps, batch, clock, what="train"):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = cls()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, *getattr(cls, "INPUT", (1, 28, 28)))
    labels = torch.randint(0, 10, (batch,))

    def train(n):
        for _ in range(n):
            opt.zero_grad()
            model.loss(x, labels, None).backward()
            opt.step()

    if what == "infer":            # after the warm-up's training steps, as bench_zoo.c
        train(2)
        model.eval()

        def train(n):  # noqa: F811  (the timed work: the evaluation forward)
            with torch.no_grad():
                for _ in range(n):
                    model.loss(x, labels, None)

    train(2)
    tick = time.process_time if clock == "cpu" else time.perf_counter
    rates = []
    for _ in range(runs):
        t0 = tick()
        train(steps)
        rates.append(steps * batch / (tick() - t0))
    return statistics.median(rates), min(rates), max(rates)


def gen_rate(bindir, name, threads, runs, steps, clock, env, what="train"):
    out = subprocess.run([os.path.join(bindir, f"bench-zoo-{name}"), "--threads", str(threads),
                          "--runs", str(runs), "--steps", str(steps), "--clock", clock, "--what", what],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.splitlines()[-1])["images_per_second"]


def graph_costs(build, name):
    """(trainable parameters, FLOPs per training image) of models/zoo/NAME.net."""
    netc = os.path.join(build, "bin", "netc")
    path = os.path.join("models", "zoo", f"{name}.net")
    check = subprocess.run([netc, "check", path], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    params = int(re.search(r"([\d,]+) parameters", check).group(1).replace(",", ""))
    dump = subprocess.run([netc, "dump-grad", path], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    shapes, nodes = {}, []
    for line in dump.splitlines():
        m = re.match(r"%(\d+) = (\w+)\(([^)]*)\)[^:]*: (?:param )?\[([\d, ]*)\]", line)
        if not m:
            continue
        shape = [int(d) for d in m.group(4).split(",") if d.strip()]
        shapes[int(m.group(1))] = shape
        nodes.append((m.group(2), [int(a.strip()[1:]) for a in m.group(3).split(",") if a.strip()], shape))
    n = math.prod
    flops = 0
    for op, ins, out in nodes:
        # Each product's multiply-adds: the per-position work times the positions.
        if op in ("conv2d", "conv2d_dx"):        # out [O, Ho, Wo] / dy [O, ...], w [O, C/g, k, k]
            w = shapes[ins[1]]
            flops += 2 * n(out if op == "conv2d" else shapes[ins[0]]) * n(w) // w[0]
        elif op == "conv2d_dw":                  # (dy, x) -> [O, C/g, k, k]
            flops += 2 * n(shapes[ins[0]]) * n(out) // out[0]
        elif op in ("deconv2d", "deconv2d_dx"):  # x [Ci, H, W] / dx, w [Ci, Co/g, k, k]
            w = shapes[ins[1]]
            flops += 2 * n(shapes[ins[0]] if op == "deconv2d" else out) * n(w) // w[0]
        elif op == "deconv2d_dw":                # (dy, x) -> [Ci, Co/g, k, k]
            flops += 2 * n(shapes[ins[1]]) * n(out) // out[0]
        elif op in ("dense", "dense_dx"):
            flops += 2 * n(shapes[ins[1]])
        elif op == "dense_dw":
            flops += 2 * n(out)
    return params, flops


def infer_flops(build, name):
    """FLOPs per image of the forward products alone (conv2d, deconv2d, dense)."""
    netc = os.path.join(build, "bin", "netc")
    path = os.path.join("models", "zoo", f"{name}.net")
    dump = subprocess.run([netc, "dump-ir", path], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    shapes, flops = {}, 0
    for line in dump.splitlines():
        m = re.match(r"%(\d+) = (\w+)\(([^)]*)\)[^:]*: (?:param )?\[([\d, ]*)\]", line)
        if not m:
            continue
        shape = [int(d) for d in m.group(4).split(",") if d.strip()]
        shapes[int(m.group(1))] = shape
        op, ins = m.group(2), [int(x.strip()[1:]) for x in m.group(3).split(",") if x.strip()]
        if op == "conv2d":
            w = shapes[ins[1]]
            flops += 2 * math.prod(shape) * math.prod(w) // w[0]
        elif op == "deconv2d":
            w = shapes[ins[1]]
            flops += 2 * math.prod(shapes[ins[0]]) * math.prod(w) // w[0]
        elif op == "dense":
            flops += 2 * math.prod(shapes[ins[1]])
    return flops


def peaks(build):
    """The FMA peak in GFLOP/s by (clock, threads): the best ISA's."""
    exe = os.path.join(build, "bin", "bench-peak")
    got = {}
    for clock, extra in (("wall", ["--threads", "2"]), ("cpu", [])):
        out = subprocess.run([exe, "--json", "--runs", "3", "--clock", clock] + extra, check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            r = json.loads(line)
            if r.get("impl") == "peak":
                key = (clock, r["threads"])
                got[key] = max(got.get(key, 0.0), r["gflops"])
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="steps per run (fewer for the models in STEPS)")
    ap.add_argument("--what", choices=("train", "infer"), default="train")
    ap.add_argument("--before", help="a folder of bench-zoo-MODEL binaries to run side by side")
    ap.add_argument("--cpu-only", action="store_true", help="only the CPU-time rows (1 thread)")
    ap.add_argument("models", nargs="*", default=sorted(ZOO))
    a = ap.parse_args()
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    print(f"{cpu_model()}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    peak = peaks(a.build)
    print("FMA peak, GFLOP/s: " + ", ".join(f"{c} {t} thread{'s' if t > 1 else ''} {g:.1f}"
                                             for (c, t), g in sorted(peak.items())))
    kind = "training" if a.what == "train" else "inference (evaluation forward)"
    print(f"torch {torch.__version__}; batch 256, {kind} images/s, median of {a.runs} runs")
    print(f"{'model':<10} {'clock':<5} {'threads':>7} {'generated':>10} {'pytorch':>10} {'ratio':>6}"
          f" {'GFLOP/s':>8} {'of peak':>8}" + (f" {'before':>10} {'gain':>6}" if a.before else ""))
    for name in a.models:
        params, flops = graph_costs(a.build, name)
        if a.what == "infer":
            flops = infer_flops(a.build, name)
        print(f"{name}: {params} parameters, {flops / 1e6:.2f} MFLOP per {'training' if a.what == 'train' else 'inference'} image")
        steps = min(a.steps, STEPS.get(name, a.steps))
        best = {"generated": (0, 0), "pytorch": (0, 0)}
        if a.what == "infer":
            steps *= 4
        rows = (("cpu", 1),) if a.cpu_only else (("wall", 1), ("wall", 2), ("cpu", 1))
        for clock, threads in rows:
            bindir = os.path.join(a.build, "bin")
            gen = gen_rate(bindir, name, threads, a.runs, steps, clock, env, a.what)
            old = gen_rate(a.before, name, threads, a.runs, steps, clock, env, a.what) if a.before else None
            pt, _, _ = torch_rate(ZOO[name], threads, a.runs, steps, 256, clock, a.what)
            gf = gen * flops / 1e9
            frac = gf / peak[(clock, threads)] if (clock, threads) in peak else float("nan")
            print(f"{name:<10} {clock:<5} {threads:>7} {gen:>10.0f} {pt:>10.0f} {gen / pt:>6.2f}"
                  f" {gf:>8.1f} {100 * frac:>7.1f}%" + (f" {old:>10.0f} {gen / old:>6.2f}" if old else ""))
            if clock == "wall":
                best["generated"] = max(best["generated"], (gen, threads))
                best["pytorch"] = max(best["pytorch"], (pt, threads))
        if not a.cpu_only:
            (g, gt), (p, pt_) = best["generated"], best["pytorch"]
            print(f"{name:<10} best  {gt:>3} {pt_:>3} {g:>10.0f} {p:>10.0f} {g / p:>6.2f}")


if __name__ == "__main__":
    main()
