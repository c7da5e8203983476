#!/bin/bash
# End to end: stand-in codes from the first 1,000 test images of the
# committed MNIST subset, then latent-analysis; checks every figure is a
# PNG, Table 1 has its four numbers, and t-SNE separates the digits far
# better than PCA.
# usage: latent_e2e.sh LATENT_STANDIN LATENT_ANALYSIS MNIST_DIR WORK_DIR
set -euo pipefail
standin=$1 analysis=$2 mnist=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$standin" --images "$mnist/t10k-images-idx3-ubyte.gz" --labels "$mnist/t10k-labels-idx1-ubyte.gz" \
  --dims 9 --limit 1000 --out "$work/ae.bin"
"$standin" --images "$mnist/t10k-images-idx3-ubyte.gz" --labels "$mnist/t10k-labels-idx1-ubyte.gz" \
  --dims 9 --whiten --limit 1000 --out "$work/vae.bin"
"$analysis" --ae-codes "$work/ae.bin" --vae-codes "$work/vae.bin" --out "$work/out" \
  --threads 2 --note "STAND-IN codes (PCA of pixels), test run" | tee "$work/log"
for f in fig09_ae_pca fig10_ae_tsne fig11_ae_pca_ellipses fig11_ae_tsne_ellipses \
         fig12_vae_pca fig13_vae_tsne fig14_vae_pca_ellipses fig14_vae_tsne_ellipses; do
  [ "$(head -c 8 "$work/out/$f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    || fail "$f.png is not a PNG"
done
rows=$(grep -cE '^(ae|vae),(pca|tsne),[0-9.e+-]+,[0-9.]+$' "$work/out/table1.csv") || true
[ "$rows" = 4 ] || fail "table1.csv has $rows well-formed rows, want 4"
grep -q 'STAND-IN' "$work/out/table1.md" || fail "table1.md lacks the stand-in note"
# quality.csv: model,method,n,table1,trust5,knn10,...
awk -F, '$2=="tsne" { if ($5 < 0.95 || $6 < 0.75) bad=1; t[$1]=$6 }
         $2=="pca"  { p[$1]=$6 }
         END { for (m in t) if (t[m] < p[m] + 0.2) bad=1; exit bad }' "$work/out/quality.csv" \
  || { cat "$work/out/quality.csv"; fail "t-SNE quality below bounds"; }
cat "$work/out/quality.csv"
echo "latent_e2e: all checks passed"
