# kill9.sh — kill -9 a running study at random moments, resume it, and
# check that finished trials never change, none is counted twice, and the
# study ends with exactly its budget of finished trials.
SEARCH=$1 FAKE=$2
STORE=${HPO_STORE:-}   # a postgresql:// URL, or empty for a SQLite file
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/hpo-kill9.XXXXXX)
trap 'rm -rf "$T"' EXIT
STUDY=${STORE:-$T/s.db} SNAME=kill9-$$ TAG=kill9-$$
N=30 EPOCHS=4
run() {
  setsid "$SEARCH" --study "$STUDY" --study-name "$SNAME" --trials $N --epochs $EPOCHS --workers 2 --seed 5 \
    --trainer "$(trainer 50)" --out "$T/out" --quiet --no-plots > /dev/null 2>&1 &
  echo $!
}
SEED=${HPO_KILL_SEED:-$$}; RANDOM=$SEED; echo "kill moments from seed $SEED (HPO_KILL_SEED)"
touch "$T/prev"
kills=0
for round in 1 2 3 4 5; do
  pid=$(run)
  # 0.2 .. 0.8 s: mid-epoch, mid-ask, mid-commit, wherever it falls
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.2 + 0.6 * r / 32767 }')"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 -- "-$pid"   # the whole session: the parent and both workers
    kills=$((kills + 1))
  fi
  wait "$pid" 2>/dev/null || true
  dump "$STUDY" > "$T/d$round"
  finished "$T/d$round" > "$T/now"
  # Every trial finished before must still be there, unchanged.
  missing=$(comm -23 "$T/prev" "$T/now" | wc -l)
  [ "$missing" -eq 0 ] || { comm -23 "$T/prev" "$T/now"; fail "round $round: finished trials changed"; }
  echo "round $round: $(wc -l < "$T/now") finished, $(awk '$2 == "RUNNING"' "$T/d$round" | wc -l) running at the kill"
  cp "$T/now" "$T/prev"
done
# No trainer outlives its killed worker (PR_SET_PDEATHSIG).
sleep 0.3
for c in /proc/[0-9]*/cmdline; do
  if { tr '\0' ' ' < "$c"; } 2>/dev/null | grep -q -- "--tag $TAG"; then
    fail "orphaned trainer: $(tr '\0' ' ' < "$c")"
  fi
done
# Resume to the end.
"$SEARCH" --study "$STUDY" --study-name "$SNAME" --trials $N --epochs $EPOCHS --workers 2 --seed 5 \
  --trainer "$(trainer 50)" --out "$T/out" --quiet --no-plots > "$T/final.txt" 2>&1 \
  || { cat "$T/final.txt"; fail "resume failed"; }
dump "$STUDY" > "$T/dfinal"
check_study "$T/dfinal" $N $EPOCHS
finished "$T/dfinal" > "$T/now"
[ "$(comm -23 "$T/prev" "$T/now" | wc -l)" -eq 0 ] || fail "resume changed finished trials"
nfail=$(awk '$2 == "FAIL"' "$T/dfinal" | wc -l)
[ "$nfail" -le $((2 * kills)) ] || fail "$nfail FAIL trials for $kills kills of 2 workers"
echo "kill9: $kills kills, $N finished trials, $nfail interrupted trials marked FAIL: all checks passed"
