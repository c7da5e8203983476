#!/bin/sh
# help.sh PREFIX/bin SOURCE_DIR BUILD_DIR [yes|no] — every installed program has a man-page-grade --help:
# exit 0, on stdout, with a usage line (or SYNOPSIS), its options, the exit status and an
# example; and nothing installed names the source or build tree.
set -u
bin=$1 src=$2 build=$3 check_paths=${4:-yes}
fail=0
for p in "$bin"/*; do
  name=$(basename "$p")
  out=$("$p" --help 2>/dev/null)
  rc=$?
  # A usage line (or a man page's SYNOPSIS), the exit status, an example;
  # the case is the program's (netc-ckpt's page is laid out as a man page).
  for want in "usage:|SYNOPSIS" "exit status" "example"; do
    if [ $rc -ne 0 ] || ! printf '%s' "$out" | grep -qiE "$want"; then
      echo "FAIL $name --help (exit $rc): no '$want'"
      fail=1
    fi
  done
done
prefix=$(dirname "$bin")
[ "$check_paths" = yes ] || echo "not checked (a build with debug information): installed files naming the source or build tree"
[ "$check_paths" = yes ] && for dir in "$src" "$build"; do
  if grep -rlF "$dir" "$prefix" >/dev/null 2>&1; then
    echo "FAIL installed files name $dir:"; grep -rlF "$dir" "$prefix"
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "every installed program's --help is complete: $(ls "$bin" | tr '\n' ' ')"
exit $fail
