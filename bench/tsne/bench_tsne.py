#!/usr/bin/python3
"""scikit-learn's TSNE on a code file, for bench_tsne.sh.

Runs sklearn.manifold.TSNE with the settings netc's t-SNE copies
(perplexity 30, early exaggeration 12 for 250 iterations, learning_rate
'auto' = max(N / 12 / 4, 50) in sklearn's units, 1000 iterations,
init 'pca', Barnes-Hut with angle 0.5), times fit_transform, writes the
embedding as a NETCODES file (study/analysis/codes.h) and prints one
line "key=value ...".  With --ours FILE it also scores netc's embedding
with sklearn's own trustworthiness, a cross-check of quality.c.

usage: bench_tsne.py --codes FILE --out FILE [--seed 0] [--ours FILE] [--time-only]
"""
import argparse
import time

import numpy as np
import sklearn
from sklearn.manifold import TSNE, trustworthiness


def load_codes(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"NETCODES", f"{path}: not a NETCODES file"
    version, n, d, _ = np.frombuffer(head[8:], dtype="<u4")
    assert version == 1, f"{path}: version {version}"
    rows = np.fromfile(path, dtype=[("label", "<i4"), ("x", "<f4", (int(d),))], offset=24)
    assert len(rows) == n, f"{path}: {len(rows)} rows, header says {n}"
    return rows["label"], rows["x"]


def save_codes(path, labels, x):
    n, d = x.shape
    rows = np.empty(n, dtype=[("label", "<i4"), ("x", "<f4", (d,))])
    rows["label"], rows["x"] = labels, x
    with open(path, "wb") as f:
        f.write(b"NETCODES" + np.array([1, n, d, 0], dtype="<u4").tobytes())
        rows.tofile(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--codes", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ours")
    ap.add_argument("--time-only", action="store_true", help="time fit_transform, nothing else")
    a = ap.parse_args()
    labels, x = load_codes(a.codes)
    tsne = TSNE(n_components=2, perplexity=30.0, early_exaggeration=12.0,
                learning_rate="auto", n_iter=1000, init="pca", method="barnes_hut",
                angle=0.5, random_state=a.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    y = tsne.fit_transform(x)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if a.time_only:
        print(f"seconds={seconds:.3f} cpu={cpu:.3f}")
        return
    save_codes(a.out, labels, y.astype(np.float32))
    xd = x.astype(np.float64)
    t5 = trustworthiness(xd, y.astype(np.float32).astype(np.float64), n_neighbors=5)
    line = (f"sklearn={sklearn.__version__} n={len(x)} d={x.shape[1]} seconds={seconds:.3f} cpu={cpu:.3f} "
            f"kl_sklearn={tsne.kl_divergence_:.4f} n_iter={tsne.n_iter_ + 1} "
            f"learning_rate={float(tsne.learning_rate_):.2f} trust5_sklearn={t5:.4f}")
    if a.ours:
        _, yo = load_codes(a.ours)
        line += f" ours_trust5_by_sklearn={trustworthiness(xd, yo.astype(np.float64), n_neighbors=5):.4f}"
    print(line)


if __name__ == "__main__":
    main()
