#!/bin/sh
# hostile.sh NETC GEN KIND: netc must reject a hostile file of up to
# 10 MB (see gen_hostile.c) with exit status 1, at least one diagnostic and
# no crash, within 5 seconds (HOSTILE_TIMEOUT).
netc=$1
gen=$2
kind=$3
file=$(mktemp --suffix=.net)
err=$(mktemp)
trap 'rm -f "$file" "$err"' EXIT
"$gen" "$kind" "$file" 10485760 || exit 1
start=$(date +%s%N)
# 5 s; sanitized builds (several times slower) set HOSTILE_TIMEOUT.
timeout "${HOSTILE_TIMEOUT:-5}" "$netc" check "$file" >/dev/null 2>"$err"
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
lines=$(wc -l <"$err")
echo "$kind: $(wc -c <"$file") bytes, exit status $status, $lines lines of diagnostics, ${ms} ms"
head -c 600 "$err" | tr -c '[:print:]\n' '?' | head -8
if [ "$status" -ne 1 ]; then
  echo "FAIL: expected exit status 1 (124 = timed out, >128 = crashed)"
  exit 1
fi
if ! grep -q ': error: ' "$err"; then
  echo "FAIL: no diagnostic"
  exit 1
fi
