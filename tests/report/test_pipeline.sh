#!/bin/sh
# test_pipeline.sh SRC BIN WORK — the main job's pipeline on a tiny
# configuration (a 3,000 / 600-image cut of the committed subset, 1-2
# epochs, 3 trials), then:
#   1. the page: every referenced file exists, every figure a valid,
#      non-blank PNG, every number of the results table measured;
#   2. a second run reuses all six stages (nothing trains again);
#   3. an interruption: the VAE stage's marker removed (as a kill after its
#      last checkpoint would leave it) → only the VAE runs again, resuming
#      from its checkpoint, and the page is whole again; then kill -9 of the
#      whole pipeline (process group) during a training → no marker, no
#      page; the same command again resumes that training and finishes;
#   4. a failing stage (the autoencoder given a damaged checkpoint to
#      resume) → exit 1, its error and log tail in the page, the stages
#      needing it marked not run, their figures replaced by notes, the
#      page still complete HTML with no missing file.
set -eu
src=$1 bin=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
py=${PYTHON3:-python3}
check="$py $src/tests/report/check_page.py"

# A smaller cut of the subset: the first 3,000 training and 600 test images.
"$py" - "$src/runtime/mnist" "$work/data" <<'EOF'
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name, n in (("train", 3000), ("t10k", 600)):
    for kind, item in (("images-idx3-ubyte", 784), ("labels-idx1-ubyte", 1)):
        raw = gzip.open(os.path.join(src, "%s-%s.gz" % (name, kind))).read()
        hdr = 16 if item == 784 else 8
        head = bytearray(raw[:hdr])
        head[4:8] = struct.pack(">I", n)
        with gzip.open(os.path.join(dst, "%s-%s.gz" % (name, kind)), "wb") as f:
            f.write(bytes(head) + raw[hdr:hdr + n * item])
EOF

run() {
  sh "$src/study/report/run-report.sh" --bin "$bin" --data "$work/data" --epochs 2 \
    --finetune-epochs 2 --trials 3 --search-epochs 1 --threads 2 "$@"
}

echo "== 1. the tiny pipeline"
t0=$(date +%s)
run --out "$work/out" > "$work/run1.log" 2>&1 || { cat "$work/run1.log"; echo "FAIL: pipeline exit $?"; exit 1; }
echo "   done in $(( $(date +%s) - t0 )) s"
grep '^== ' "$work/run1.log"
$check "$work/out" --expect-figures 16

echo "== 2. a second run reuses every stage"
run --out "$work/out" > "$work/run2.log" 2>&1 || { cat "$work/run2.log"; exit 1; }
reused=$(grep -c ': done before, reused' "$work/run2.log" || true)
echo "   $reused stages reused"
[ "$reused" = 6 ] || { cat "$work/run2.log"; echo "FAIL: expected 6 reused stages"; exit 1; }
$check "$work/out" --expect-figures 16

echo "== 3. the VAE interrupted after its last checkpoint: only it runs again, resumed"
rm "$work/out/stages/vae.done"
run --out "$work/out" > "$work/run3.log" 2>&1 || { cat "$work/run3.log"; exit 1; }
grep -q 'resuming from .*vae.ckpt' "$work/run3.log" || { cat "$work/run3.log"; echo "FAIL: VAE did not resume"; exit 1; }
reused=$(grep -c ': done before, reused' "$work/run3.log" || true)
[ "$reused" = 5 ] || { cat "$work/run3.log"; echo "FAIL: expected 5 reused stages, got $reused"; exit 1; }
$check "$work/out" --expect-figures 16

echo "== 3b. kill -9 of the whole pipeline in the middle of a training, then the same command"
# Another configuration (30 epochs) in its own folder; the search reused from
# run 1 (same search options; fingerprints count paths relative to OUT).
mkdir -p "$work/kill/stages" "$work/kill/logs"
cp -r "$work/out/search" "$work/kill/"
cp "$work/out/stages/search.done" "$work/kill/stages/"
cp "$work/out/logs/search.log" "$work/kill/logs/"
setsid sh "$src/study/report/run-report.sh" --bin "$bin" --data "$work/data" --epochs 30 \
  --finetune-epochs 2 --trials 3 --search-epochs 1 --threads 2 --out "$work/kill" \
  > "$work/run3b-killed.log" 2>&1 &
pg=$!
trap 'kill -KILL -$pg 2>/dev/null || true' EXIT   # never leave it running
i=0
until grep -q '^epoch 3/30' "$work/kill/logs/autoencoder.log" 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 1200 ] || { kill -KILL -$pg; cat "$work/run3b-killed.log"; echo "FAIL: training never reached epoch 3"; exit 1; }
  sleep 0.05
done
kill -KILL -$pg
wait $pg 2>/dev/null || true
[ ! -f "$work/kill/stages/autoencoder.done" ] || { echo "FAIL: the killed stage has a done marker"; exit 1; }
[ ! -f "$work/kill/index.html" ] || { echo "FAIL: a page after the kill"; exit 1; }
echo "   killed during: $(grep '^epoch' "$work/kill/logs/autoencoder.log" | tail -n 1)"
run --out "$work/kill" --epochs 30 > "$work/run3b.log" 2>&1 || { cat "$work/run3b.log"; exit 1; }
grep -q 'resuming from .*autoencoder.ckpt' "$work/run3b.log" ||
  { cat "$work/run3b.log"; echo "FAIL: the autoencoder did not resume"; exit 1; }
grep '^   epoch' "$work/run3b.log" | head -n 1
grep -q 'search: done before, reused' "$work/run3b.log" || { echo "FAIL: search not reused"; exit 1; }
$check "$work/kill" --expect-figures 16

echo "== 4. a failing stage: the page says so, nothing is half-written"
mkdir -p "$work/bad/experiments" "$work/bad/stages"
cp -r "$work/out/search" "$work/out/stages" "$work/out/logs" "$work/out/results" "$work/bad/"
rm -f "$work/bad/stages/autoencoder.done" "$work/bad/stages/finetune.done" "$work/bad/stages/vae.done" \
      "$work/bad/stages/latent.done" "$work/bad/stages/denoiser.done"
# A started autoencoder stage of this configuration with a damaged checkpoint.
cp "$work/out/stages/autoencoder.started" "$work/bad/stages/"
printf 'NETCKPT\0this is not a checkpoint' > "$work/bad/experiments/autoencoder.ckpt"
if run --out "$work/bad" > "$work/run4.log" 2>&1; then
  cat "$work/run4.log"; echo "FAIL: the pipeline succeeded with a damaged checkpoint"; exit 1
fi
grep 'FAILED\|not run' "$work/run4.log"
[ -f "$work/bad/stages/autoencoder.failed" ] || { echo "FAIL: no autoencoder.failed marker"; exit 1; }
grep -q 'autoencoder.ckpt' "$work/bad/index.html" ||
  { echo "FAIL: the page does not show the trainer's error"; exit 1; }
grep -q 'was not run:</b> the stage autoencoder it depends on did not finish' "$work/bad/index.html" ||
  { echo "FAIL: the page does not say which stages were not run"; exit 1; }
# No stale number from the earlier run's results/ (copied above) in the table.
grep -q 'autoencoder: test MSE</td><td>2</td><td class="num na">' "$work/bad/index.html" ||
  { echo "FAIL: the failed stage's (older) result is shown"; exit 1; }
$check "$work/bad" --expect-failed autoencoder finetune vae latent
echo "PASS"
