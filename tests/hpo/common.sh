# common.sh — helpers of the netc-search tests.  Sourced with SEARCH (the
# netc-search binary) and FAKE (the fake trainer) set.
set -euo pipefail
# Under the debug preset (AddressSanitizer): fontconfig, which cairo uses to
# draw text, keeps its caches until exit.
export LSAN_OPTIONS="suppressions=$(dirname "${BASH_SOURCE[0]}")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

fail() { echo "FAIL: $*"; exit 1; }

# The trainer template: the fake trainer, latent through the template.
trainer() { echo "$FAKE --latent {latent} --sleep-ms ${1:-5} --tag ${TAG:-none}"; }

# Every trial of a study, one exact line each:
#   number state value p1 p2 p3 p4 steps=K step:value...
dump() { "$SEARCH" --study "$1" --study-name "${SNAME:-autoencoder}" --dump; }

# The finished (COMPLETE or PRUNED) trials of a dump, sorted.
finished() { awk '$2 == "COMPLETE" || $2 == "PRUNED"' "$1" | sort; }

# Checks a final study: N finished trials, no RUNNING one, trial numbers
# unique, every finished trial has all its parameters, a COMPLETE one all
# its epochs, a PRUNED one at least one.
check_study() {
  local d=$1 n=$2 epochs=$3
  local nfin nrun ndup
  nfin=$(finished "$d" | wc -l)
  nrun=$(awk '$2 == "RUNNING"' "$d" | wc -l)
  ndup=$(awk '{print $1}' "$d" | sort | uniq -d | wc -l)
  [ "$nfin" -eq "$n" ] || fail "$nfin finished trials, expected $n"
  [ "$nrun" -eq 0 ] || fail "$nrun trials left RUNNING"
  [ "$ndup" -eq 0 ] || fail "$ndup duplicated trial numbers"
  awk -v e="$epochs" '($2 == "COMPLETE" || $2 == "PRUNED") {
      for (i = 4; i <= 7; i++) if ($i == "nan" || $i == "-nan") { print "unset param: " $0; bad = 1 }
      split($8, s, "="); k = s[2]
      if ($2 == "COMPLETE" && k != e) { print "complete trial with " k " epochs: " $0; bad = 1 }
      # (pruned at the last epoch is possible, as in Optuna: the pruner
      # judges every reported epoch, the last one too)
      if ($2 == "PRUNED" && (k < 1 || k > e)) { print "pruned trial with " k " epochs: " $0; bad = 1 }
    } END { exit bad }' "$d" || fail "inconsistent trials"
}
