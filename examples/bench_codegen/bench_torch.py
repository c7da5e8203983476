#!/usr/bin/python3
"""bench_torch.py — the report's convolutional autoencoder in PyTorch
(models/autoencoder.net, layer for layer), timed as bench-codegen times the
generated code: batch 256, Adam, MSE; training and inference images/s,
median of --runs runs after warm-up.  Prints one JSON object per line.

    /usr/bin/python3 examples/bench_codegen/bench_torch.py --threads 1
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def autoencoder():
    encoder = nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(288, 64), nn.ReLU(),
        nn.Linear(64, 9))
    decoder = nn.Sequential(
        nn.Linear(9, 64), nn.ReLU(),
        nn.Linear(64, 288), nn.ReLU(),
        nn.Unflatten(1, (32, 3, 3)),
        nn.ConvTranspose2d(32, 16, 3, stride=2), nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())
    return nn.Sequential(encoder, decoder)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--infer-steps", type=int, default=20)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: the process's CPU time (a fair measure on a loaded machine at 1 thread)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = autoencoder()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(a.batch, 1, 28, 28)
    loss_fn = nn.MSELoss()

    def train(steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = loss_fn(model(x), x)
            loss.backward()
            opt.step()

    def infer(steps):
        with torch.no_grad():
            for _ in range(steps):
                model(x)

    for what, fn, steps in (("train", train, a.train_steps), ("inference", infer, a.infer_steps)):
        fn(2)  # warm-up
        rates = []
        for _ in range(a.runs):
            clock = time.process_time if a.clock == "cpu" else time.perf_counter
            t0 = clock()
            fn(steps)
            rates.append(steps * a.batch / (clock() - t0))
        print(json.dumps({"impl": "pytorch", "what": what, "threads": a.threads, "clock": a.clock,
                          "images_per_second": round(statistics.median(rates), 1),
                          "min": round(min(rates), 1), "max": round(max(rates), 1),
                          "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
