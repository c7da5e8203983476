#!/bin/sh
# run-all.sh [OPTIONS] — the report's experiments in order: the autoencoder
# (whose checkpoint the next two read), the denoiser, the fine-tuned
# classifier, the VAE, then the latent-space analysis of the AE's and the
# VAE's encoded test sets (if latent-analysis is built).  OPTIONS go to every
# program (e.g. --data "$(tools/fetch-mnist.sh)" --out DIR --threads 2);
# the default output folder is experiments-out.  BIN (default build/bin)
# names the build's program folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${BIN:-$here/../../build/bin}
out=experiments-out
prev=
for a in "$@"; do
  [ "$prev" = "--out" ] && out=$a
  prev=$a
done
for e in autoencoder denoiser finetune vae; do
  echo "== experiment-$e $*"
  "$bin/experiment-$e" "$@"
done
if [ -x "$bin/latent-analysis" ]; then
  echo "== latent-analysis"
  "$bin/latent-analysis" --ae-codes "$out/autoencoder-codes.bin" \
    --vae-codes "$out/vae-codes.bin" --out "$out/latent"
fi
