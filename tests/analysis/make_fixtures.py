#!/usr/bin/python3
"""Writes fixtures/quality.csv: a small input / embedding pair and
scikit-learn's trustworthiness (k=5) of it, the oracle for test_quality.

Rows are "label,x1..x5,y1,y2" (codes.h CSV); the expected values sit in
'#' comment lines.  Values are rounded to float32 before sklearn sees them,
so the C test (which reads float32) ranks the very same numbers.
Run: /usr/bin/python3 tests/analysis/make_fixtures.py
"""
import os

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors

rng = np.random.default_rng(2026)
n, d = 300, 5
labels = rng.integers(0, 3, n)
centres = rng.normal(0, 3, (3, d))
x = centres[labels] + rng.normal(0, 1, (n, d))
y = x[:, :2] + rng.normal(0, 0.8, (n, 2))  # a lossy 2-D "embedding"
x = np.round(x, 4).astype(np.float32).astype(np.float64)
y = np.round(y, 4).astype(np.float32).astype(np.float64)

t5 = trustworthiness(x, y, n_neighbors=5)
# Leave-one-out 10-NN accuracy with quality.h's tie rule: the first label
# (walking out from the point) that reaches the top count.
nb = NearestNeighbors(n_neighbors=11).fit(y).kneighbors(y, return_distance=False)
correct = 0
for i in range(n):
    row = [j for j in nb[i] if j != i][:10]
    counts = [sum(labels[b] == labels[a] for b in row) for a in row]
    best = labels[row[int(np.argmax(counts))]]
    correct += best == labels[i]

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "quality.csv")
with open(path, "w") as f:
    f.write("# written by tests/analysis/make_fixtures.py (scikit-learn)\n")
    f.write(f"# trustworthiness5 {t5:.10f}\n")
    f.write(f"# knn10 {correct / n:.10f}\n")
    for i in range(n):
        f.write(",".join([str(labels[i])] + [f"{v:.4f}" for v in x[i]] + [f"{v:.4f}" for v in y[i]]) + "\n")
print(f"{path}: trustworthiness5 {t5:.6f}, knn10 {correct / n:.4f}")
