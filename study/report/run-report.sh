#!/bin/sh
# run-report.sh [OPTIONS] — the whole study, one stage after the other,
# into one HTML page: the hyperparameter search (netc-search), the four
# trainings (experiment-autoencoder, -denoiser, -finetune, -vae), the
# latent-space analysis (latent-analysis), then the page (report-page)
# OUT/index.html.  `cmake --workflow --preset main` runs it.
#
# Stages that finished are reused: each one, when it succeeds, writes
# OUT/stages/NAME.done atomically (temporary file + rename) holding a
# fingerprint of its configuration and of the stages it depends on; a
# re-run skips a stage whose marker matches, resumes an interrupted
# training from its per-epoch checkpoint, and lets netc-search continue its
# study (SQLite on disk).  A stage that fails writes OUT/stages/NAME.failed;
# the stages depending on it are not run, the page is still written (with
# the error and the end of the stage's log in it) and the exit status is 1.
#
# Options (defaults: the committed subset, a small configuration that runs
# in a few minutes on 2 cores; with --data or $NETC_DATA set, the full
# study's configuration, see --help):
#   --out DIR            output folder                      [report]
#   --data DIR           MNIST folder (IDX, raw or .gz)     [$NETC_DATA, else runtime/mnist]
#   --bin DIR            the build's program folder         [build/bin]
#   --epochs N           epochs of the AE, denoiser and VAE [subset 20; full: AE 20, denoiser 10, VAE 5]
#   --finetune-epochs N  epochs of the classifier           [subset: at most 100, patience 5; full 20]
#   --trials N           trials of the search               [subset 20, full 12]
#   --search-epochs N    epochs of each trial               [subset 5, full 4]
#   --pruner KIND        the search's pruner: sha, hyperband, median, none [sha]
#   --seed N             seed of the search and trainings   [1]
#   --threads N          threads per program                [nproc]
#   --force              ignore finished stages, start over
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=report
data=${NETC_DATA:-}
bin=$root/build/bin
epochs='' ft_epochs='' trials='' search_epochs='' pruner='' seed=1 threads='' force=0
ae_epochs='' dn_epochs='' vae_epochs=''

usage() { sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] || { echo "run-report.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case $1 in
    --out) need "$@"; out=$2; shift ;;
    --data) need "$@"; data=$2; shift ;;
    --bin) need "$@"; bin=$2; shift ;;
    --epochs) need "$@"; epochs=$2; shift ;;
    --finetune-epochs) need "$@"; ft_epochs=$2; shift ;;
    --trials) need "$@"; trials=$2; shift ;;
    --search-epochs) need "$@"; search_epochs=$2; shift ;;
    --pruner) need "$@"; pruner=$2; shift ;;
    --seed) need "$@"; seed=$2; shift ;;
    --threads) need "$@"; threads=$2; shift ;;
    --force) force=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-report.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for v in "$epochs" "$ft_epochs" "$trials" "$search_epochs" "$seed" "$threads"; do
  case $v in *[!0-9]*) echo "run-report.sh: '$v' is not a non-negative integer" >&2; exit 2 ;; esac
done
case ${pruner:-sha} in sha|hyperband|median|none) ;;
  *) echo "run-report.sh: --pruner $pruner: not sha, hyperband, median or none" >&2; exit 2 ;;
esac

# The subset or the full data set decides the default size of the run and
# the trainings' configurations (each training's options after the
# experiment program's own defaults; --epochs overrides the three epochs).
if [ -z "$data" ]; then
  data=$root/runtime/mnist
  kind="committed subset (10,000 train / 2,000 test)"
  : "${ae_epochs:=${epochs:-20}}" "${dn_epochs:=${epochs:-20}}" "${vae_epochs:=${epochs:-20}}"
  : "${ft_epochs:=100}" "${trials:=20}" "${search_epochs:=5}" "${pruner:=sha}"
  ae_args='' dn_args='' vae_args='' ft_args=''
else
  [ -d "$data" ] || { echo "run-report.sh: --data $data: no such directory" >&2; exit 2; }
  data=$(cd "$data" && pwd)
  count() { gzip -dcf "$1" 2>/dev/null | od -An -tu1 -j4 -N4 | awk '{print $1*16777216+$2*65536+$3*256+$4}'; }
  f=$(ls "$data"/train-images*idx3-ubyte* 2>/dev/null | head -n 1)
  g=$(ls "$data"/t10k-images*idx3-ubyte* 2>/dev/null | head -n 1)
  kind="MNIST in $data: ${f:+$(count "$f") training}${g:+ / $(count "$g") test images}"
  # The full study in about 4 minutes on 2 cores (docs/full-mnist.md has
  # the measurements behind these choices): one-cycle schedules (OneCycleLR:
  # warm-up to the peak rate, cosine annealing to 1/250,000 of it) reach the
  # report's numbers in a fifth of its epochs; the classifier trains a fixed
  # 20 epochs, its last epoch kept; the search is 12 trials of 4 epochs with
  # successive halving, which found better validation losses per second
  # than the median pruner and Hyperband here.
  : "${ae_epochs:=${epochs:-20}}" "${dn_epochs:=${epochs:-10}}" "${vae_epochs:=${epochs:-5}}"
  : "${ft_epochs:=20}" "${trials:=12}" "${search_epochs:=4}" "${pruner:=sha}"
  ae_args='--batch 64 --lr 4e-3 --schedule onecycle' dn_args='--batch 64 --lr 4e-3 --schedule onecycle' vae_args='--batch 64 --lr 4e-3 --schedule onecycle' ft_args='--batch 128 --lr 1e-2 --schedule onecycle --patience 0'
fi
: "${threads:=$(nproc)}"
for p in netc-search netc-variant experiment-autoencoder experiment-denoiser experiment-finetune \
         experiment-vae latent-analysis report-page netc; do
  [ -x "$bin/$p" ] || { echo "run-report.sh: $bin/$p is missing: build first (cmake --workflow --preset main)" >&2; exit 2; }
done
mkdir -p "$out/stages" "$out/logs" "$out/results" || exit 1
out=$(cd "$out" && pwd)
# OpenMP's spinning barriers crawl on a shared machine (study/analysis/README.md).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
t_start=$(date +%s)

# ---- the run's configuration, for the page ------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
version=$("$bin/netc" --version 2>/dev/null | head -n 1)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
tmp=$out/run.txt.tmp
{
  echo "data=$kind"
  echo "data_dir=$data"
  echo "epochs=AE $ae_epochs, denoiser $dn_epochs, VAE $vae_epochs"
  echo "finetune_epochs=$ft_epochs (early stopping, patience 5)"
  echo "trials=$trials"
  echo "search_epochs=$search_epochs"
  echo "pruner=$pruner"
  echo "trainings=AE [${ae_args:-defaults}], denoiser [${dn_args:-defaults}], classifier [${ft_args:-defaults}], VAE [${vae_args:-defaults}]"
  echo "seed=$seed"
  echo "threads=$threads"
  echo "netc=${version:-netc} (commit $commit)"
  echo "machine=$(uname -sm), $(nproc) processors, ${cpu:-unknown CPU}"
  echo "host=$(uname -n)"
  echo "started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
} > "$tmp" && mv -f "$tmp" "$out/run.txt" || exit 1

# ---- stages ---------------------------------------------------------------------
# stage NAME "DESCRIPTION" DEPS -- COMMAND...: runs COMMAND (output shown and
# logged to OUT/logs/NAME.log) unless OUT/stages/NAME.done holds the same
# fingerprint (the command line + the dependencies' fingerprints).
failed=0
fp_of() { sed -n 's/^fingerprint=//p' "$out/stages/$1.done" 2>/dev/null; }
stage() {
  name=$1 desc=$2 deps=$3
  shift 4   # name, description, deps, --
  n_stage=$((n_stage + 1))
  marker=$out/stages/$name.done
  for d in $deps; do
    if [ ! -f "$out/stages/$d.done" ]; then
      echo "== [$n_stage/$n_stages] $name: not run, stage $d did not finish"
      tmp=$out/stages/$name.failed.tmp
      printf 'exit=-\nmessage=the stage %s it depends on did not finish\n' "$d" > "$tmp" &&
        mv -f "$tmp" "$out/stages/$name.failed"
      rm -f "$marker"
      return 1
    fi
  done
  # Paths inside OUT count relative to it: a moved folder is still resumed.
  fp=$( { echo "$*" | sed "s#$out/#OUT/#g"; for d in $deps; do fp_of "$d"; done; } |
        cksum | cut -d' ' -f1)
  if [ "$force" = 0 ] && [ "$(fp_of "$name")" = "$fp" ]; then
    echo "== [$n_stage/$n_stages] $name: done before, reused ($(sed -n 's/^seconds=//p' "$marker") s)"
    return 0
  fi
  # An unfinished stage of another configuration leaves nothing to resume.
  if [ "$force" = 1 ] || [ "$(cat "$out/stages/$name.started" 2>/dev/null)" != "$fp" ]; then
    resume=0
    $clean
  else
    resume=1
  fi
  rm -f "$marker" "$out/stages/$name.failed"
  echo "$fp" > "$out/stages/$name.started"
  echo "== [$n_stage/$n_stages] $name: $desc"
  log=$out/logs/$name.log
  t0=$(date +%s)
  times > "$out/stages/.times0"
  if [ "$resume" = 1 ] && [ -n "$resume_ckpt" ] && [ -f "$resume_ckpt" ]; then
    echo "   (resuming from $resume_ckpt)"
    set -- "$@" --resume "$resume_ckpt"
  fi
  echo "\$ $*" > "$log"
  rcfile=$out/stages/$name.rc
  { "$@" 2>&1; echo $? > "$rcfile"; } | tee -a "$log" | sed -u 's/^/   /'
  rc=$(cat "$rcfile" 2>/dev/null || echo 1)
  rm -f "$rcfile"
  t1=$(date +%s)
  times > "$out/stages/.times1"
  stage_cpu=$(awk -v a="$(cpu_of "$out/stages/.times0")" -v b="$(cpu_of "$out/stages/.times1")" \
              'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" != 0 ]; then
    echo "== [$n_stage/$n_stages] $name FAILED (exit $rc after $((t1 - t0)) s); log: $log" >&2
    tmp=$out/stages/$name.failed.tmp
    {
      echo "exit=$rc"
      echo "seconds=$((t1 - t0))"
      echo "message=exit status $rc; the end of its log:"
    } > "$tmp" && mv -f "$tmp" "$out/stages/$name.failed"
    return 1
  fi
  # The last JSON line of a program is its result.
  grep '^{' "$log" | tail -n 1 > "$out/results/$name.json.tmp" &&
    mv -f "$out/results/$name.json.tmp" "$out/results/$name.json"
  tmp=$marker.tmp
  printf 'fingerprint=%s\nseconds=%s\ncpu_seconds=%s\nload=%s\nfinished=%s\n' "$fp" "$((t1 - t0))" \
    "$stage_cpu" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
    > "$tmp" && mv -f "$tmp" "$marker"
  echo "== [$n_stage/$n_stages] $name: done in $((t1 - t0)) s ($stage_cpu s of CPU; load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
}
run() { stage "$@" || failed=1; }

# CPU seconds (user + system) of this shell's finished children, from what
# the `times` builtin wrote to FILE (its second line: the children's
# "XmY.YYs XmZ.ZZs").  `times` itself must run in this shell, not in a
# $(...) subshell, which has no children of its own yet.  The wall time of
# a stage measures the machine's load as much as the stage; its CPU time
# much less.
cpu_of() { tail -n 1 "$1" | tr 'ms' '  ' | awk '{ printf "%.1f", $1 * 60 + $2 + $3 * 60 + $4 }'; }

n_stage=0 n_stages=6
exp=$out/experiments
mkdir -p "$exp" "$out/search"
# What a stage of another configuration leaves that must not be resumed.
clean_search() { rm -rf "$out/search/study.db"* "$out/search/trial-"* "$out/search/"*.png; }
clean_training() { rm -f "$exp/$1.ckpt" "$exp/$1.csv"; }
clean_latent() { rm -rf "$out/latent"; }

# 1. The search (section 2, Figures 5-7).  netc-search resumes its own study.
clean=clean_search resume_ckpt=
run search "hyperparameter search, $trials trials of $search_epochs epochs, $pruner pruner" "" -- \
  "$bin/netc-search" --study "$out/search/study.db" --trials "$trials" --epochs "$search_epochs" \
  --pruner "$pruner" --workers 1 --seed "$seed" --threads "$threads" --data "$data" --out "$out/search"
[ -f "$out/stages/search.done" ] &&
  "$bin/netc-search" --study "$out/search/study.db" --show > "$out/search/table.txt" 2>&1

# 2-5. The trainings (sections 2-5); the fine-tuning and the VAE read the
# autoencoder's checkpoint.  An interrupted training resumes from its checkpoint.
clean="clean_training autoencoder" resume_ckpt=$exp/autoencoder.ckpt
# (The *_args are split into words on purpose.)
run autoencoder "the autoencoder, $ae_epochs epochs" "" -- \
  "$bin/experiment-autoencoder" --data "$data" --seed "$seed" --threads "$threads" --out "$exp" \
  --json --epochs "$ae_epochs" $ae_args --log "$exp/autoencoder.csv"
clean="clean_training denoiser" resume_ckpt=$exp/denoiser.ckpt
run denoiser "the denoiser, $dn_epochs epochs" "" -- \
  "$bin/experiment-denoiser" --data "$data" --seed "$seed" --threads "$threads" --out "$exp" \
  --json --epochs "$dn_epochs" $dn_args --log "$exp/denoiser.csv"
clean="clean_training classifier" resume_ckpt=   # it takes no --resume: short, runs again
run finetune "the classifier on the frozen encoder, at most $ft_epochs epochs" "autoencoder" -- \
  "$bin/experiment-finetune" --data "$data" --seed "$seed" --threads "$threads" --out "$exp" \
  --json --epochs "$ft_epochs" $ft_args --log "$exp/classifier.csv"
clean="clean_training vae" resume_ckpt=$exp/vae.ckpt
run vae "the variational autoencoder, $vae_epochs epochs" "autoencoder" -- \
  "$bin/experiment-vae" --data "$data" --seed "$seed" --threads "$threads" --out "$exp" \
  --json --epochs "$vae_epochs" $vae_args --log "$exp/vae.csv"

# 6. The encoded space (section 6, Figures 9-14, Table 1).
clean=clean_latent resume_ckpt=
run latent "latent-space analysis: PCA and t-SNE of the AE's and the VAE's test codes" \
  "autoencoder vae" -- \
  "$bin/latent-analysis" --ae-codes "$exp/autoencoder-codes.bin" --vae-codes "$exp/vae-codes.bin" \
  --out "$out/latent" --threads "$threads" --seed "$seed"

# The page, always (a failed stage shows up in it).
t_end=$(date +%s)
echo "total=$((t_end - t_start))" > "$out/run-time.txt"
echo "== page: $out/index.html"
if ! "$bin/report-page" "$out"; then
  echo "run-report.sh: report-page failed; the previous page (if any) is unchanged" >&2
  exit 1
fi
if [ "$failed" != 0 ]; then
  echo "run-report.sh: some stages failed (see the page and $out/logs/); re-run to retry them" >&2
  exit 1
fi
echo "== all stages done in $((t_end - t_start)) s: $out/index.html"
