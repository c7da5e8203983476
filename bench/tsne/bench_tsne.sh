#!/bin/bash
# t-SNE benchmark: netc's t-SNE vs scikit-learn's TSNE, side by side in one
# run, on the same 10,000 x 9 input, 2 threads each.
#
# Input: until the autoencoder exports its codes, a STAND-IN: the full
# MNIST test set (10,000 images) reduced to 9-D by PCA (latent-standin).
# Pass a code file as $3 to use real codes instead.
#
# usage: bench/tsne/bench_tsne.sh [BUILD_DIR=build] [WORK_DIR=/tmp/netc-bench-tsne] [CODES]
# Prints a Markdown table (wall time at 2 threads, CPU time at 1 thread,
# exact KL under the same P, trustworthiness k=5, 10-NN accuracy).  Our
# wall time is the median of 3 runs; CPU time at 1 thread is the measure
# that other jobs on a shared machine disturb least.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-build}/bin
work=${2:-/tmp/netc-bench-tsne}
codes=${3:-}
# The full MNIST as tools/fetch-mnist.sh caches it.
mnist=${MNIST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/netc/mnist}
export OMP_NUM_THREADS=2
mkdir -p "$work"
input_note="real codes: $codes"
if [ -z "$codes" ]; then
  codes=$work/standin9.bin
  "$bin/latent-standin" --images "$mnist/t10k-images-idx3-ubyte" \
    --labels "$mnist/t10k-labels-idx1-ubyte" --dims 9 --out "$codes" >&2
  input_note="STAND-IN input: MNIST test set (10,000 images) reduced to 9-D by PCA, not autoencoder codes"
fi
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

ours=()
for r in 1 2 3; do
  line=$("$bin/tsne-bench" --codes "$codes" --threads 2 --seed 0 --out "$work/ours.bin")
  echo "netc run $r: $line" >&2
  ours+=("$line")
done
sk=$(/usr/bin/python3 "$here/bench_tsne.py" --codes "$codes" --out "$work/sklearn.bin" --ours "$work/ours.bin")
echo "sklearn: $sk" >&2
skeval=$("$bin/tsne-bench" --codes "$codes" --threads 2 --eval "$work/sklearn.bin")
echo "sklearn embedding scored by netc: $skeval" >&2
# CPU time at 1 thread: the work itself, whatever else runs on the machine.
ours1=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$bin/tsne-bench" --codes "$codes" --threads 1 --out "$work/ours1.bin")
echo "netc, 1 thread: $ours1" >&2
cmp -s "$work/ours.bin" "$work/ours1.bin" && echo "netc: 1 and 2 threads give the same bits" >&2
sk1=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/bench_tsne.py" --codes "$codes" --out /dev/null --time-only)
echo "sklearn, 1 thread: $sk1" >&2
echo "== after: load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

get() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }
times=$(for l in "${ours[@]}"; do get seconds "$l"; done | sort -g)
median=$(sed -n 2p <<<"$times")
last=${ours[2]}
sks=$(get seconds "$sk")
echo
echo "$input_note"
echo
echo "| $(get n "$last") x $(get d "$last") | wall time, 2 threads (s) | CPU time, 1 thread (s) | KL (exact, same P) | trustworthiness k=5 | 10-NN accuracy |"
echo "|---|---|---|---|---|---|"
printf "| netc t-SNE | %s (median of %s) | %s | %s | %s | %s |\n" "$median" "$(tr '\n' ' ' <<<"$times" | sed 's/ $//')" \
  "$(get cpu "$ours1")" "$(get kl "$last")" "$(get trust5 "$last")" "$(get knn10 "$last")"
printf "| scikit-learn %s TSNE | %s | %s | %s (its own estimate %s) | %s | %s |\n" "$(get sklearn "$sk")" \
  "$sks" "$(get cpu "$sk1")" "$(get kl "$skeval")" "$(get kl_sklearn "$sk")" "$(get trust5 "$skeval")" "$(get knn10 "$skeval")"
echo
awk -v a="$sks" -v b="$median" -v c="$(get cpu "$sk1")" -v d="$(get cpu "$ours1")" \
  'BEGIN { printf "speed-up: %.1fx wall time (2 threads), %.1fx CPU time (1 thread)\n", a / b, c / d }'
echo "trustworthiness cross-check by sklearn: ours $(get ours_trust5_by_sklearn "$sk"), sklearn's $(get trust5_sklearn "$sk")"
