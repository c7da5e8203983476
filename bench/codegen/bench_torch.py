#!/usr/bin/python3
"""bench_torch.py — the report's convolutional autoencoder in PyTorch
(bench/pytorch_models.py, layer for layer models/autoencoder.net), timed
as bench-codegen times the generated code: batch 256, Adam, MSE; training and inference images/s,
median of --runs runs after warm-up.  Prints one JSON object per line.

    /usr/bin/python3 bench/codegen/bench_torch.py --threads 1
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pytorch_models  # noqa: E402  (bench/pytorch_models.py: the study's models in PyTorch)


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
    model = pytorch_models.Autoencoder()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(a.batch, 1, 28, 28)

    def train(steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = model.loss(x, None, None)
            loss.backward()
            opt.step()

    def infer(steps):
        with torch.no_grad():
            for _ in range(steps):
                model.decoder(model.encoder(x))

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
