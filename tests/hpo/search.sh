# search.sh — netc-search end to end with the fake trainer: the trials,
# the pruning, the table, the figures, extending a study, the guard against
# a trainer that always fails.
SEARCH=$1 FAKE=$2
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/hpo-search.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$SEARCH" --study "$T/s.db" --trials 24 --epochs 4 --seed 3 --trainer "$(trainer 2)" \
  --out "$T/out" > "$T/log.txt" 2>&1 || { cat "$T/log.txt"; fail "search failed"; }
grep -q "^24 trials: " "$T/log.txt" || fail "no summary line"
grep -q "^best: trial " "$T/log.txt" || fail "no best line"
# The figures are decoded (libpng, via png_check from tests/experiments):
# 900 x 540 (study plots' size) and not blank.
[ -n "${PNG_CHECK:-}" ] || fail "PNG_CHECK (the png_check tool) is not set"
for f in history intermediate parallel; do
  "$PNG_CHECK" "$T/out/$f.png" 900 540 || fail "$f.png does not decode to a 900x540 figure"
done
dump "$T/s.db" > "$T/d1"
check_study "$T/d1" 24 4
npruned=$(awk '$2 == "PRUNED"' "$T/d1" | wc -l)
nfail=$(awk '$2 == "FAIL"' "$T/d1" | wc -l)
[ "$npruned" -ge 1 ] || fail "nothing pruned"
[ "$nfail" -eq 0 ] || fail "$nfail trials failed"
# The first 5 trials cannot be pruned (median pruner start-up).
awk '$1 < 5 && $2 != "COMPLETE" { exit 1 }' "$T/d1" || fail "a start-up trial was not completed"
best=$(awk '$2 == "COMPLETE" { print $3 }' "$T/d1" | sort -g | head -1)
echo "24 trials: $npruned pruned, best value $best (optimum 0.175 at 4 epochs)"
# No value can be below the objective's minimum (0.05 + 0.5 / 4); TPE at
# seed 3 gets within 0.035 of it (0.1955 measured), a broken sampler or a
# misread value would not.
awk -v b="$best" 'BEGIN { exit !(b >= 0.175 && b <= 0.21) }' ||
  fail "best value $best outside [0.175, 0.21]"

# Same seed, fresh study: the same trials (the sampler is seeded per trial).
"$SEARCH" --study "$T/s2.db" --trials 24 --epochs 4 --seed 3 --trainer "$(trainer 2)" \
  --out "$T/out2" --quiet --no-plots > /dev/null 2>&1 || fail "second search failed"
dump "$T/s2.db" > "$T/d2"
cmp -s "$T/d1" "$T/d2" || { diff "$T/d1" "$T/d2" | head; fail "same seed, different study"; }

# Extending the study to 30 trials keeps the first 24 as they were.
"$SEARCH" --study "$T/s.db" --trials 30 --epochs 4 --seed 3 --trainer "$(trainer 2)" \
  --out "$T/out" --quiet --no-plots > /dev/null 2>&1 || fail "extending failed"
dump "$T/s.db" > "$T/d3"
check_study "$T/d3" 30 4
head -24 "$T/d3" | cmp -s - "$T/d1" || fail "extending changed earlier trials"

# Another space on the same study is refused.
if "$SEARCH" --study "$T/s.db" --space "lr=float:1e-4:1e-1:log" --dump > /dev/null 2>&1; then
  fail "a different space was accepted"
fi

# Successive halving (eta 4, min_resource auto = 1: rungs at epochs 1, 4)
# and Hyperband (eta 3, max_resource 8 + 1: brackets with rungs 1, 3 / 3 /
# 9): trials end pruned at rung epochs only; the first trial completes
# (nothing is pruned before a trial completes, as in Optuna).
for pr in "sha 1 4" "hyperband 1 3"; do
  set -- $pr
  "$SEARCH" --study "$T/$1.db" --trials 24 --epochs 8 --seed 3 --trainer "$(trainer 2)" \
    --pruner "$1" --out "$T/out-$1" --quiet --no-plots > "$T/log-$1.txt" 2>&1 ||
    { cat "$T/log-$1.txt"; fail "search with --pruner $1 failed"; }
  dump "$T/$1.db" > "$T/d-$1"
  check_study "$T/d-$1" 24 8
  awk '$1 == 0 && $2 != "COMPLETE" { exit 1 }' "$T/d-$1" || fail "$1: trial 0 not completed"
  np=$(awk '$2 == "PRUNED"' "$T/d-$1" | wc -l)
  [ "$np" -ge 3 ] || fail "$1: only $np trials pruned"
  bad=$(awk -v a="$2" -v b="$3" '$2 == "PRUNED" { for (i = 1; i <= NF; i++) if ($i ~ /^steps=/) {
          n = substr($i, 7); if (n != a && n != b) print $1 ":" n } }' "$T/d-$1")
  [ -z "$bad" ] || fail "$1: pruned away from the rungs ($2, $3): $bad"
  echo "pruner $1: $np of 24 pruned, all at epoch $2 or $3"
done
if "$SEARCH" --study "$T/x.db" --pruner asha --dump > /dev/null 2>&1; then
  fail "--pruner asha accepted"
fi

# A trainer that always fails: FAIL trials, and the worker gives up.
if "$SEARCH" --study "$T/f.db" --trials 10 --epochs 3 --trainer "$(trainer 1) --fail" \
     --out "$T/outf" --max-failures 3 > "$T/logf.txt" 2>&1; then
  fail "search with a failing trainer succeeded"
fi
dump "$T/f.db" > "$T/df"
[ "$(awk '$2 == "FAIL"' "$T/df" | wc -l)" -eq 3 ] || { cat "$T/df"; fail "expected 3 FAIL trials"; }
grep -q "3 trials in a row failed" "$T/logf.txt" || fail "no failure message"
# A mistyped option: the nearest one suggested, exit 2.
rc=0; "$SEARCH" --trial 3 > /dev/null 2> "$T/typo.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q "did you mean '--trials'" "$T/typo.txt" ||
  { cat "$T/typo.txt"; fail "--trial: no suggestion of --trials (exit $rc)"; }
rc=0; "$SEARCH" --prunner sha > /dev/null 2> "$T/typo2.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q "did you mean '--pruner'" "$T/typo2.txt" ||
  { cat "$T/typo2.txt"; fail "--prunner: no suggestion of --pruner (exit $rc)"; }
rc=0; "$SEARCH" --trials > /dev/null 2> "$T/novalue.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q "needs a value" "$T/novalue.txt" || fail "--trials without a value"
echo "search: all checks passed"
