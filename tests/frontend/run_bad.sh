#!/bin/sh
# run_bad.sh NETC DIR NAME [--update]
#
# Runs netc from DIR on the bad model bad/NAME.net (`netc check
# bad/NAME.net`, or the arguments in bad/NAME.args when that file exists)
# and compares everything it prints (stderr and stdout) plus its exit
# status, as a last line "[exit N]", with bad/NAME.expected, exactly.
# --update rewrites the .expected file instead (review the diff!).
netc=$1
dir=$2
name=$3
cd "$dir" || exit 2
if [ -f "bad/$name.args" ]; then
  args=$(cat "bad/$name.args")
else
  args="check bad/$name.net"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2086  # args is a word list
timeout 10 "$netc" $args >"$out" 2>&1
echo "[exit $?]" >>"$out"
if [ "$4" = "--update" ]; then
  cp "$out" "bad/$name.expected"
  exit 0
fi
if ! diff -u "bad/$name.expected" "$out"; then
  echo "FAIL: netc $args: output differs from bad/$name.expected (above: - expected, + actual)"
  exit 1
fi
echo "ok: netc $args"
