#!/usr/bin/env bash
# Process replay: runs the four generated trainers and the interpreter on the
# committed MNIST subset at fixed seeds and thread counts, and writes their
# JSON summaries without the timing fields.  A refactor that must not change
# numbers runs this at the old and the new commit and diffs the two files:
#
#   tools/process-replay.sh build-old > /tmp/old.jsonl
#   tools/process-replay.sh build     > /tmp/new.jsonl
#   diff /tmp/old.jsonl /tmp/new.jsonl && echo identical
#
# BUILD is a build folder (its bin/ holds the trainers and netc).  Losses are
# printed by the driver with 9 significant digits, so equal lines mean equal
# floats.
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = --help ]; then
  echo "usage: $0 BUILD_DIR [MODELS_DIR]" >&2
  exit 2
fi
bin=$1/bin
models=${2:-$(dirname "$0")/../models}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

strip_timing() {
  tail -n 1 | sed -E 's/,"(seconds|train_images_per_second)":[0-9.eE+-]+//g'
}

run() {   # label, command...
  local label=$1
  shift
  printf '%s\t' "$label"
  "$@" --json --quiet | strip_timing
}

common=(--epochs 2 --seed 7)
for threads in 1 2; do
  for m in autoencoder denoiser vae; do
    run "train-$m threads=$threads" "$bin/train-$m" "${common[@]}" --threads "$threads"
  done
  run "train-autoencoder sgd threads=$threads" "$bin/train-autoencoder" "${common[@]}" \
    --threads "$threads" --optimizer sgd --lr 0.05 --momentum 0.9 --batch 100
  # The classifier on an encoder trained above (frozen), with early stopping.
  "$bin/train-autoencoder" "${common[@]}" --threads "$threads" --save "$work/ae.ckpt" --quiet
  run "train-classifier threads=$threads" "$bin/train-classifier" --epochs 3 --seed 7 \
    --threads "$threads" --load "$work/ae.ckpt" --load-prefix encoder_ --lr 5e-3
done
for m in autoencoder classifier vae; do
  run "netc run $m" "$bin/netc" run "$models/$m.net" --epochs 1 --seed 7 --threads 2
done
