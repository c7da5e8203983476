#!/usr/bin/python3
"""bench_interp.py - the interpreter's baseline table: training images/s of
`netc run models/autoencoder.net` against the same model in PyTorch
(bench/pytorch_models.py), at 1 and 2 threads, side by side in one run.

    cmake --build build --target netc
    /usr/bin/python3 bench/interp/bench_interp.py [--build build] [--runs 5]

Both sides do the same work: --epochs (2) epochs over the 9,000 training
images of the committed MNIST subset (runtime/mnist, the driver's train
split), batch 256, Adam (lr 1e-3), MSE, shuffled batches read from uint8
pixels.  netc's
figure is the driver's train_images_per_second (time inside the epoch
loops: batching, train_step, optimiser step; validation excluded); PyTorch's
is timed the same way around its loop.  Each configuration runs --runs
times, interleaved (netc 1, torch 1, netc 2, torch 2, ...) so that a change
in the machine's load hits both; the table gives the median and the range.

OpenMP wait policy: both netc and Debian's torch use libgomp, whose idle
threads spin by default.  On a machine shared with other jobs a spinning
thread competes with the thread it waits for, and 2 threads ran 10-20x
slower than 1 for both (netc ~900 vs ~16,000 images/s; torch ~240 vs
~3,900).  The benchmark therefore sets OMP_WAIT_POLICY=passive for both
(--wait-policy default leaves the environment alone).
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = 9000          # the driver's train split of the 10,000-image subset
BATCH = 256
EPOCHS = 2


def load_images(n):
    with gzip.open(os.path.join(ROOT, "runtime", "mnist", "train-images-idx3-ubyte.gz"), "rb") as f:
        data = f.read()
    return data[16:16 + n * 784]


def torch_worker(threads, epochs):
    """Trains the PyTorch autoencoder as the driver does; prints images/s."""
    import torch
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    from pytorch_models import Autoencoder
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    pixels = torch.frombuffer(bytearray(load_images(TRAIN)), dtype=torch.uint8).reshape(TRAIN, 1, 28, 28)
    model = Autoencoder()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    secs = 0.0
    for _ in range(epochs):
        order = torch.randperm(TRAIN)
        t0 = time.perf_counter()
        for start in range(0, TRAIN, BATCH):
            x = pixels[order[start:start + BATCH]].float() / 255.0
            opt.zero_grad()
            loss = model.loss(x, None, None)
            loss.backward()
            opt.step()
        secs += time.perf_counter() - t0
    print(json.dumps({"images_per_second": epochs * TRAIN / secs, "torch": torch.__version__}))


ENV = dict(os.environ)


def run_netc(netc, threads, epochs):
    out = subprocess.run([netc, "run", os.path.join(ROOT, "models", "autoencoder.net"), "--epochs", str(epochs),
                          "--batch", str(BATCH), "--threads", str(threads), "--json", "--quiet"],
                         check=True, capture_output=True, text=True, env=ENV).stdout
    return json.loads(out.strip().splitlines()[-1])["train_images_per_second"]


def run_torch(threads, epochs):
    out = subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--torch-worker", str(threads),
                          "--epochs", str(epochs)],
                         check=True, capture_output=True, text=True, env=ENV).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--wait-policy", default="passive", choices=["passive", "active", "default"],
                    help="OMP_WAIT_POLICY for both sides (default: passive; 'default' = leave as is)")
    ap.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_worker:
        return torch_worker(a.torch_worker, a.epochs)
    if a.wait_policy != "default":
        ENV["OMP_WAIT_POLICY"] = a.wait_policy
    netc = os.path.join(a.build, "bin", "netc")
    rates = {}
    version = "?"
    for _ in range(a.runs):
        for t in (1, 2):
            rates.setdefault(("netc run", t), []).append(run_netc(netc, t, a.epochs))
            r = run_torch(t, a.epochs)
            version = r["torch"]
            rates.setdefault((f"PyTorch {version}", t), []).append(r["images_per_second"])
    load = os.getloadavg()
    print(f"| implementation | threads | train images/s (median of {a.runs}) | range |")
    print("|---|---:|---:|---:|")
    for (impl, t), v in rates.items():
        print(f"| {impl} | {t} | {statistics.median(v):,.0f} | {min(v):,.0f} – {max(v):,.0f} |")
    print(f"\nOMP_WAIT_POLICY={ENV.get('OMP_WAIT_POLICY', '(unset)')}; load average after the run: "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} CPUs)")
    for (impl, t), v in rates.items():
        print(json.dumps({"impl": impl, "threads": t, "runs": [round(x, 1) for x in v]}))


if __name__ == "__main__":
    sys.exit(main())
