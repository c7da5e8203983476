#!/usr/bin/env bash
# run.sh TARGET SECONDS [BUILD_DIR] — fuzzes one target for longer than the
# CTest replay does.  TARGET: netc (the front end), idx (the IDX reader),
# ckpt (the checkpoint loader) or a data reader (data_idx, data_npy,
# data_npz, data_cifar, data_png, data_jpeg).  BUILD_DIR defaults to build/; the libFuzzer
# binaries are built there (BUILD_DIR/fuzz, clang) if they are missing.
#
# The corpus grows in BUILD_DIR/fuzz/corpus-TARGET (kept between runs),
# seeded from tests/fuzz/corpus/TARGET (and the models and bad-model tests
# for netc).  Findings land in BUILD_DIR/fuzz/artifacts/; each one becomes
# a regression input: copy it into tests/fuzz/corpus/TARGET, fix the bug,
# and the fuzz_replay_TARGET test keeps it fixed.
#
# netc's front end never frees its memory (by design), so the fuzzer's RSS
# grows with every input: it runs in rounds of at most 5 minutes and (netc)
# 40,000 inputs, each a fresh process that reloads the corpus.  A single
# allocation above 1 GB is a finding (-malloc_limit_mb).  FUZZ_JOBS=N runs
# N processes.
set -euo pipefail
if [ $# -lt 2 ] || [[ ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 netc|idx|ckpt|data_idx|data_npy|data_npz|data_cifar|data_png|data_jpeg SECONDS [BUILD_DIR]" >&2
  exit 2
fi
target=$1 seconds=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "${3:-$root/build}")
case $target in
  netc) per_round=(-runs=40000)
        seeds=("$root/tests/fuzz/corpus/netc" "$root/models" "$root/tests/frontend/bad"
               "$root/tests/frontend/bad/inc") ;;
  idx|ckpt|data_idx|data_npy|data_npz|data_cifar|data_png|data_jpeg) per_round=()
            seeds=("$root/tests/fuzz/corpus/$target") ;;
  *) echo "$0: unknown target '$target' (netc, idx, ckpt or data_*)" >&2; exit 2 ;;
esac

bin=$build/fuzz/fuzz_$target
if [ ! -x "$bin" ]; then
  echo "== building the libFuzzer targets in $build/fuzz"
  cmake -S "$root/tests/fuzz/clang" -B "$build/fuzz" -DCMAKE_C_COMPILER=clang \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build/fuzz" -j2 --target "fuzz_$target" >/dev/null

corpus=$build/fuzz/corpus-$target
artifacts=$build/fuzz/artifacts
mkdir -p "$corpus" "$artifacts"
log=$build/fuzz/fuzz-$target.log
: >"$log"
before=$(ls "$artifacts" | grep -c "^$target-" || true)
end=$(( $(date +%s) + seconds ))
rounds=0
while [ "$(date +%s)" -lt "$end" ]; do
  left=$(( end - $(date +%s) ))
  round=$(( left < 300 ? left : 300 ))
  rounds=$((rounds + 1))
  # -close_fd_mask=2: the targets' own diagnostics go nowhere; libFuzzer's
  # and the sanitizers' reports still reach the log.
  status=0
  "$bin" -max_total_time="$round" "${per_round[@]}" -timeout=10 -rss_limit_mb=4096 \
         -malloc_limit_mb=1024 -max_len=8192 \
         -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
         ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} \
         "$corpus" "${seeds[@]}" >>"$log" 2>&1 || status=$?
  if [ $status -ne 0 ]; then
    echo "round $rounds: the fuzzer stopped with status $status (a finding; see $log)"
    break
  fi
done
runs=$(grep -o '^stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
found=$(( $(ls "$artifacts" | grep -c "^$target-" || true) - before ))
echo "fuzz_$target: $seconds s in $rounds round(s), $runs inputs run, corpus $(ls "$corpus" | wc -l) files," \
     "$found new finding(s) in $artifacts"
grep -E "^==[0-9]+==ERROR|runtime error|^SUMMARY" "$log" | head -5 || true
[ "$found" -eq 0 ]
