#!/usr/bin/python3
"""bench.py — the benchmark table of issue [codegen]: the generated
autoencoder trainer against the interpreter (`netc run`) and PyTorch, side
by side in one run on the same machine.

    cmake --build build --target netc train-autoencoder bench-codegen
    /usr/bin/python3 examples/bench_codegen/bench.py [--build build] [--runs 5]

Throughput: bench-codegen (generated code and interpreter, same weights and
batch, batch 256, Adam) and bench_torch.py (PyTorch at 1 and 2 threads),
each the median of --runs timed runs after warm-up, wall clock.  GFLOP/s:
the FLOPs of convolutions, transposed convolutions and dense layers
(forward, input and weight gradients) per image times images/s, next to
OpenBLAS sgemm 2048^3 on the same threads.  Peak RSS: /usr/bin/time -v of a
one-epoch training run (full MNIST if --data has it) for the generated
trainer and the interpreter, and of the PyTorch benchmark process.  Compile
times: `netc models/autoencoder.net -o DIR` and `cc -O3 -march=native
-fopenmp -c` of the generated C, median of 5.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def peak_rss_mb(cmd):
    """Peak resident set size of cmd in MB (/usr/bin/time -v), and its wall time."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return int(m.group(1)) / 1024.0, wall, p.stdout


def median_time(cmd, n=5, cwd=ROOT):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=cwd, capture_output=True)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data", default="/tmp/mnist/package/data",
                    help="MNIST directory for the peak-memory runs (full MNIST)")
    a = ap.parse_args()
    bindir = os.path.join(a.build, "bin")
    bench = os.path.join(bindir, "bench-codegen")
    netc = os.path.join(bindir, "netc")
    trainer = os.path.join(bindir, "train-autoencoder")
    torch_py = os.path.join(ROOT, "examples", "bench_codegen", "bench_torch.py")
    data = a.data if os.path.exists(os.path.join(a.data, "train-images-idx3-ubyte")) or \
        os.path.exists(os.path.join(a.data, "train-images-idx3-ubyte.gz")) else None

    rows = {}
    sgemm = {}
    flops = None
    for t in (1, 2):
        for r in run_json([bench, "--threads", str(t), "--runs", str(a.runs)]):
            if "flops_per_image" in r:
                flops = r["flops_per_image"]
            elif r["impl"] == "openblas":
                sgemm[t] = r["gflops"]
            else:
                rows[(r["impl"], r["what"], t)] = r
        for r in run_json(["/usr/bin/python3", torch_py, "--threads", str(t), "--runs", str(a.runs)]):
            rows[(r["impl"], r["what"], t)] = r

    # Peak memory.
    data_args = ["--data", data] if data else []
    data_name = "full MNIST" if data else "the committed subset"
    rss_gen, _, _ = peak_rss_mb([trainer, "--epochs", "1", "--threads", "2", "--quiet"] + data_args)
    rss_int, _, _ = peak_rss_mb([netc, "run", os.path.join(ROOT, "models/autoencoder.net"),
                                 "--epochs", "1", "--threads", "2", "--quiet"])
    rss_torch, _, _ = peak_rss_mb(["/usr/bin/python3", torch_py, "--threads", "1", "--runs", "1",
                                   "--train-steps", "20", "--infer-steps", "1"])

    # Compile times.
    with tempfile.TemporaryDirectory() as tmp:
        t_netc = median_time([netc, "models/autoencoder.net", "-o", tmp])
        inc = ["-I" + os.path.join(ROOT, d) for d in ("generated", "runtime", "runtime/xsmm")]
        t_cc = median_time(["cc", "-O3", "-march=native", "-fopenmp", "-std=gnu11"] + inc +
                           ["-c", os.path.join(ROOT, "generated/autoencoder.c"),
                            "-o", os.path.join(tmp, "a.o")], n=5)

    def best(impl, what):
        cands = [(rows[(impl, what, t)]["images_per_second"], t) for t in (1, 2) if (impl, what, t) in rows]
        return max(cands)

    print(f"Autoencoder, batch 256, Adam; median of {a.runs} runs after warm-up; wall clock.")
    print(f"FLOPs per image: training {flops['train'] / 1e6:.3f} M, inference {flops['forward'] / 1e6:.3f} M.")
    print()
    print("| | threads | train images/s | inference images/s | train GFLOP/s |")
    print("|---|---|---|---|---|")
    for impl, name in (("generated", "generated (train-autoencoder)"), ("interpreter", "interpreter (netc run)"),
                       ("pytorch", "PyTorch 1.13 eager")):
        for t in (1, 2):
            tr, inf = rows.get((impl, "train", t)), rows.get((impl, "inference", t))
            if not tr:
                continue
            gf = tr["images_per_second"] * flops["train"] * 1e-9
            print(f"| {name} | {t} | {tr['images_per_second']:,.0f} | {inf['images_per_second']:,.0f} | {gf:.1f} |")
    for t in (1, 2):
        print(f"| OpenBLAS sgemm 2048³ | {t} | | | {sgemm[t]:.1f} |")
    print()
    g_tr, g_t = best("generated", "train")
    i_tr, _ = best("interpreter", "train")
    p_tr, p_t = best("pytorch", "train")
    g_in, _ = best("generated", "inference")
    p_in, _ = best("pytorch", "inference")
    gf = rows[("generated", "train", 2)]["images_per_second"] * flops["train"] * 1e-9
    print("| ratio | measured | target |")
    print("|---|---|---|")
    print(f"| training: generated / interpreter (best of 1, 2 threads) | {g_tr / i_tr:.1f}x | >= 5x |")
    print(f"| training: generated / PyTorch at its best ({p_t} thread{'s' if p_t > 1 else ''}) | {g_tr / p_tr:.1f}x | >= 6x |")
    print(f"| inference: generated / PyTorch (best of each) | {g_in / p_in:.1f}x | >= 10x |")
    print(f"| training GFLOP/s at 2 threads / sgemm at 2 threads | {100 * gf / sgemm[2]:.0f}% | >= 40% |")
    print(f"| peak RSS, one epoch on {data_name}: generated | {rss_gen:.0f} MB | <= 100 MB |")
    print(f"| peak RSS, one epoch on the subset: interpreter | {rss_int:.0f} MB | |")
    print(f"| peak RSS, PyTorch benchmark process | {rss_torch:.0f} MB | |")
    print(f"| netc models/autoencoder.net -o DIR | {1000 * t_netc:.0f} ms | <= 50 ms |")
    print(f"| cc -O3 -march=native -fopenmp -c generated/autoencoder.c | {t_cc:.2f} s | |")
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
