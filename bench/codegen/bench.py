#!/usr/bin/python3
"""bench.py — the benchmark table of issue [codegen]: the generated
autoencoder trainer against the interpreter (`netc run`) and PyTorch, side
by side in one run on the same machine.

    cmake --build build --target netc train-autoencoder bench-codegen bench-peak
    /usr/bin/python3 bench/codegen/bench.py [--build build] [--runs 5]

Throughput: bench-codegen (generated code and interpreter, same weights and
batch, batch 256, Adam) and bench_torch.py (PyTorch at 1 and 2 threads),
each the median of --runs timed runs after warm-up, by wall clock at 1 and
2 threads and by CPU time at 1 thread (what a dedicated core does, when the
machine is shared).  GFLOP/s:
the FLOPs of convolutions, transposed convolutions and dense layers
(forward, input and weight gradients) per image times images/s, next to
OpenBLAS sgemm 2048^3 on the same threads and as a fraction of the machine's
measured FMA peak (bench-peak: AVX2 and, where the CPU has it, AVX-512, the
better of the two per thread count, by wall clock for the wall-clock rows
and in CPU time for the CPU-time rows; the CPU model and libxsmm's JIT
target are printed with the table).  Peak RSS: /usr/bin/time -v of a
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


ENV = dict(os.environ)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=ENV).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def peak_rss_mb(cmd):
    """Peak resident set size of cmd in MB (/usr/bin/time -v), and its wall time."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return int(m.group(1)) / 1024.0, wall, p.stdout


def median_time(cmd, n=5, cwd=ROOT):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=cwd, capture_output=True, env=ENV)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data", default=os.path.join(
                        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                        "netc", "mnist"),
                    help="MNIST directory for the peak-memory runs (full MNIST, "
                         "as tools/fetch-mnist.sh caches it)")
    ap.add_argument("--wait-policy", default="passive",
                    help="OMP_WAIT_POLICY for every program (libgomp's spinning idle threads "
                         "make 2 threads collapse on a loaded machine; 'default' leaves it unset)")
    a = ap.parse_args()
    if a.wait_policy != "default":
        ENV["OMP_WAIT_POLICY"] = a.wait_policy
    bindir = os.path.join(a.build, "bin")
    bench = os.path.join(bindir, "bench-codegen")
    netc = os.path.join(bindir, "netc")
    trainer = os.path.join(bindir, "train-autoencoder")
    torch_py = os.path.join(ROOT, "bench", "codegen", "bench_torch.py")
    data = a.data if os.path.exists(os.path.join(a.data, "train-images-idx3-ubyte")) or \
        os.path.exists(os.path.join(a.data, "train-images-idx3-ubyte.gz")) else None

    # Wall clock at 1 and 2 threads; CPU time at 1 thread (on a shared,
    # loaded machine wall clock measures the other tenants as much as the
    # code; the CPU time of a 1-thread run is what a dedicated core does).
    rows = {}
    sgemm = {}
    flops = None
    xsmm_target = "?"
    peak, cpu = {}, {}
    for r in run_json([os.path.join(bindir, "bench-peak"), "--json", "--runs", str(a.runs),
                       "--threads", "2"]):
        if "cpu" in r:
            cpu = r
        else:
            peak[r["threads"]] = max(peak.get(r["threads"], 0.0), r["gflops"])
    # The CPU-time rows are divided by the peak in CPU time too: on a
    # loaded machine the wall-clock peak is the share of a core we got, and
    # a CPU-time throughput over it came out above 100%.
    peak_cpu = 0.0
    for r in run_json([os.path.join(bindir, "bench-peak"), "--json", "--runs", str(a.runs),
                       "--threads", "1", "--clock", "cpu"]):
        if "gflops" in r:
            peak_cpu = max(peak_cpu, r["gflops"])
    for clock, threads in (("wall", (1, 2)), ("cpu", (1,))):
        for t in threads:
            for r in run_json([bench, "--threads", str(t), "--runs", str(a.runs), "--clock", clock]):
                if "flops_per_image" in r:
                    flops = r["flops_per_image"]
                elif "xsmm_target" in r:
                    xsmm_target = r["xsmm_target"]
                elif r["impl"] == "openblas":
                    sgemm[(clock, t)] = r["gflops"]
                else:
                    rows[(clock, r["impl"], r["what"], t)] = r
            for r in run_json(["/usr/bin/python3", torch_py, "--threads", str(t), "--runs", str(a.runs),
                               "--clock", clock]):
                rows[(clock, r["impl"], r["what"], t)] = r

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

    def pct(gflops, threads, clock="wall"):
        if clock == "cpu":
            return f"{100 * gflops / peak_cpu:.0f}%" if peak_cpu and threads == 1 else ""
        return f"{100 * gflops / peak[threads]:.0f}%" if threads in peak else ""

    def best(clock, impl, what):
        cands = [(rows[(clock, impl, what, t)]["images_per_second"], t) for t in (1, 2)
                 if (clock, impl, what, t) in rows]
        return max(cands)

    isas = "AVX2" + (" + AVX-512" if cpu.get("avx512") else "") if cpu.get("avx2") else "no AVX2"
    print(f"CPU: {cpu.get('cpu', '?')}, {cpu.get('processors', '?')} processors, {isas}; "
          f"libxsmm target: {xsmm_target}.")
    print("Measured FMA peak (bench-peak): " +
          ", ".join(f"{peak[t]:.1f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in sorted(peak)) +
          f" (wall clock); {peak_cpu:.1f} GFLOP/s on 1 thread in CPU time (the CPU rows' denominator).")
    print(f"Autoencoder, batch 256, Adam; median of {a.runs} runs after warm-up.")
    print(f"FLOPs per image: training {flops['train'] / 1e6:.3f} M, inference {flops['forward'] / 1e6:.3f} M.")
    print()
    print("| | clock | threads | train images/s | inference images/s | train GFLOP/s | "
          "train / peak | inference / peak |")
    print("|---|---|---|---|---|---|---|---|")
    for clock in ("wall", "cpu"):
        for impl, name in (("generated", "generated (train-autoencoder)"), ("interpreter", "interpreter (netc run)"),
                           ("pytorch", "PyTorch 1.13 eager")):
            for t in (1, 2):
                tr, inf = rows.get((clock, impl, "train", t)), rows.get((clock, impl, "inference", t))
                if not tr:
                    continue
                gf = tr["images_per_second"] * flops["train"] * 1e-9
                gi = inf["images_per_second"] * flops["forward"] * 1e-9
                print(f"| {name} | {clock} | {t} | {tr['images_per_second']:,.0f} | "
                      f"{inf['images_per_second']:,.0f} | {gf:.1f} | {pct(gf, t, clock)} | {pct(gi, t, clock)} |")
        for t in (1, 2):
            if (clock, t) in sgemm:
                print(f"| OpenBLAS sgemm 2048³ | {clock} | {t} | | | {sgemm[(clock, t)]:.1f} | "
                      f"{pct(sgemm[(clock, t)], t, clock)} | |")
    print()
    print("| ratio | wall clock, best of 1 and 2 threads | CPU time, 1 thread | target |")
    print("|---|---|---|---|")

    def ratio(impl, what, other):
        w = best("wall", impl, what)[0] / best("wall", other, what)[0]
        c = rows[("cpu", impl, what, 1)]["images_per_second"] / rows[("cpu", other, what, 1)]["images_per_second"]
        return f"{w:.1f}x | {c:.1f}x"

    p_t = best("wall", "pytorch", "train")[1]
    print(f"| training: generated / interpreter | {ratio('generated', 'train', 'interpreter')} | >= 5x |")
    print(f"| training: generated / PyTorch (wall: its best is {p_t} thread{'s' if p_t > 1 else ''}) | "
          f"{ratio('generated', 'train', 'pytorch')} | >= 6x |")
    print(f"| inference: generated / PyTorch | {ratio('generated', 'inference', 'pytorch')} | >= 10x |")
    gw = rows[("wall", "generated", "train", 2)]["images_per_second"] * flops["train"] * 1e-9
    gc = rows[("cpu", "generated", "train", 1)]["images_per_second"] * flops["train"] * 1e-9
    print(f"| training GFLOP/s / sgemm GFLOP/s (wall: 2 threads; CPU: 1 thread) | "
          f"{100 * gw / sgemm[('wall', 2)]:.0f}% | {100 * gc / sgemm[('cpu', 1)]:.0f}% | >= 40% |")
    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| peak RSS, one epoch on {data_name}: generated | {rss_gen:.0f} MB | <= 100 MB |")
    print(f"| peak RSS, one epoch on the subset: interpreter | {rss_int:.0f} MB | |")
    print(f"| peak RSS, PyTorch benchmark process (one batch in memory) | {rss_torch:.0f} MB | |")
    print(f"| netc models/autoencoder.net -o DIR (wall, median of 5) | {1000 * t_netc:.0f} ms | <= 50 ms |")
    print(f"| cc -O3 -march=native -fopenmp -c generated/autoencoder.c | {t_cc:.2f} s | |")
    print()
    print(f"OMP_WAIT_POLICY={ENV.get('OMP_WAIT_POLICY', '(unset)')}; "
          f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
