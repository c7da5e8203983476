#!/bin/sh
# summary_counts.sh NETC MODELS_DIR: every model checks cleanly, and
# `netc summary` shows the parameter counts of the report's networks
# (PyTorch's counts for the same layers).
netc=$1
dir=$2
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect MODEL [-D flags] -- "Total params: N" ... "net NAME total"
expect() {
  model=$1
  shift
  flags=""
  while [ "$1" != "--" ]; do flags="$flags $1"; shift; done
  shift
  # shellcheck disable=SC2086
  if ! "$netc" $flags check "$dir/$model.net" >/dev/null; then
    echo "FAIL: netc$flags check $model.net"
    fail=1
  fi
  # shellcheck disable=SC2086
  "$netc" $flags summary "$dir/$model.net" >"$out" 2>&1 || { echo "FAIL: netc summary $model.net"; cat "$out"; fail=1; }
  for want in "$@"; do
    case $want in
      net:*)                 # net:NAME=COUNT, the "total" row of net NAME's table
        name=${want#net:}; count=${name#*=}; name=${name%%=*}
        got=$(awk -v n="$name" '$1 == "net" && $2 == n":" {t=1} t && $1 == "total" {print $2; exit}' "$out")
        what="net $name total"
        ;;
      *)                     # "Total params=N" and friends
        label=${want%=*}; count=${want##*=}
        got=$(sed -n "s/^$label: //p" "$out")
        what=$label
        ;;
    esac
    if [ "$got" = "$count" ]; then
      echo "ok: $model$flags: $what = $got"
    else
      echo "FAIL: $model$flags: $what = '$got', expected $count"
      fail=1
    fi
  done
}

# Every model checks cleanly, including any added later.
for f in "$dir"/*.net; do
  if "$netc" check "$f"; then :; else echo "FAIL: netc check $f"; fail=1; fi
done

expect autoencoder -- "Total params=50,186" "Trainable params=50,186" "Frozen params=0" \
  net:encoder=24,969 net:decoder=25,217
expect denoiser -- "Total params=50,186" "Trainable params=50,186" "Frozen params=0" \
  net:encoder=24,969 net:decoder=25,217
expect classifier -- "Total params=26,259" "Trainable params=1,290" "Frozen params=24,969" \
  net:encoder=24,969 net:head=1,290
expect vae -- "Total params=50,771" "Trainable params=50,771" "Frozen params=0" \
  net:trunk=24,384 net:mu_head=585 net:logvar_head=585 net:decoder=25,217
# The zoo (models/zoo/): PyTorch's counts of bench/pytorch_zoo.py's twins;
# batch norm's running statistics are buffers, listed apart.
expect zoo/mlp -- "Total params=203,530" "Trainable params=203,530" "Frozen params=0" net:mlp=203,530
expect zoo/cnn_bn -- "Total params=115,402" "Trainable params=115,402" "Frozen params=0" \
  "Total buffers=288" net:cnn=115,402
# -D latent=4: the code layers shrink (encoder 24,384 + 65*4; decoder 25,217 - 64*5).
expect autoencoder -D latent=4 -- "Total params=49,541" net:encoder=24,644 net:decoder=24,897
# The zoo (models/zoo/): PyTorch's counts for the same layers.
expect zoo/lenet5 -- "Total params=61,706" "Trainable params=61,706" net:lenet=61,706
expect zoo/resnet8 -- "Total params=78,042" "Trainable params=78,042" "Frozen params=0" \
  "Total buffers=672" net:resnet=78,042
expect zoo/unet -- "Total params=29,777" "Trainable params=29,777" "Frozen params=0" \
  "Total buffers=320" net:unet=29,777
expect zoo/conv_vae -- "Total params=244,881" "Trainable params=244,881" "Frozen params=0" \
  net:encoder=205,632 net:mu_head=2,064 net:logvar_head=2,064 net:decoder=35,121
exit $fail
