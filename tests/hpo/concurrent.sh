# concurrent.sh — two netc-search processes with two workers each on one
# study at the same time: no lost and no duplicated trial.
SEARCH=$1 FAKE=$2
STORE=${HPO_STORE:-}   # a postgresql:// URL, or empty for a SQLite file
. "$(dirname "$0")/common.sh"
T=$(mktemp -d /tmp/hpo-conc.XXXXXX)
trap 'rm -rf "$T"' EXIT
STUDY=${STORE:-$T/s.db} SNAME=conc-$$
N=40 EPOCHS=3
for k in 1 2; do
  "$SEARCH" --study "$STUDY" --study-name "$SNAME" --trials $N --epochs $EPOCHS --workers 2 --seed $k \
    --trainer "$(trainer 3)" --out "$T/out$k" --quiet --no-plots > "$T/log$k" 2>&1 &
  pids[$k]=$!
done
for k in 1 2; do wait "${pids[$k]}" || { cat "$T/log$k"; fail "search $k failed"; }; done
dump "$STUDY" > "$T/d"
check_study "$T/d" $N $EPOCHS
nfail=$(awk '$2 == "FAIL"' "$T/d" | wc -l)
[ "$nfail" -eq 0 ] || fail "$nfail trials failed"
# Both processes ran trials, and every trial number 0..N-1 exists once.
[ "$(ls -d "$T"/out1/trial-* | wc -l)" -ge 1 ] && [ "$(ls -d "$T"/out2/trial-* | wc -l)" -ge 1 ] \
  || fail "one process ran no trial"
[ "$(awk '{print $1}' "$T/d" | sort -n | tr '\n' ' ')" = "$(seq 0 $((N - 1)) | tr '\n' ' ')" ] \
  || fail "trial numbers are not 0..$((N - 1))"
echo "concurrent: 4 workers in 2 processes, $N trials ($(ls -d "$T"/out1/trial-* | wc -l) + $(ls -d "$T"/out2/trial-* | wc -l)), none lost or duplicated: all checks passed"
