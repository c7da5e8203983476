#!/usr/bin/python3
"""bench_zoo.py - training throughput of the zoo's models: the generated
trainer (bench-zoo-MODEL, the generated code's train_step) next to PyTorch
eager (bench/pytorch_zoo.py: forward, backward and an Adam step), batch
256 of MNIST-shaped images with labels, the median of --runs timed runs
after warm-up, at 1 thread by wall clock and by CPU time (what a
dedicated core does when the machine is shared), as bench/codegen/bench.py
measures the study's autoencoder.

    cmake --build build --target bench-zoo-lenet5
    /usr/bin/python3 bench/zoo/bench_zoo.py [--build build] [--runs 5] [MODEL...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from pytorch_zoo import ZOO  # noqa: E402


def torch_rate(cls, threads, runs, steps, batch, clock):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = cls()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 1, 28, 28)
    labels = torch.randint(0, 10, (batch,))

    def train(n):
        for _ in range(n):
            opt.zero_grad()
            model.loss(x, labels, None).backward()
            opt.step()

    train(2)
    tick = time.process_time if clock == "cpu" else time.perf_counter
    rates = []
    for _ in range(runs):
        t0 = tick()
        train(steps)
        rates.append(steps * batch / (tick() - t0))
    return statistics.median(rates), min(rates), max(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("models", nargs="*", default=sorted(ZOO))
    a = ap.parse_args()
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    print(f"torch {torch.__version__}; batch 256, training images/s, median of {a.runs} runs")
    print(f"{'model':<12} {'clock':<5} {'generated':>10} {'pytorch':>10} {'ratio':>6}")
    for name in a.models:
        for clock in ("wall", "cpu"):
            out = subprocess.run([os.path.join(a.build, "bin", f"bench-zoo-{name}"), "--threads", "1",
                                  "--runs", str(a.runs), "--steps", str(a.steps), "--clock", clock],
                                 check=True, capture_output=True, text=True, env=env).stdout
            gen = json.loads(out.splitlines()[-1])["images_per_second"]
            pt, _, _ = torch_rate(ZOO[name], 1, a.runs, a.steps, 256, clock)
            print(f"{name:<12} {clock:<5} {gen:>10.0f} {pt:>10.0f} {gen / pt:>6.2f}")


if __name__ == "__main__":
    main()
