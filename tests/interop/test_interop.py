#!/usr/bin/env python3
"""netc-ckpt and the round trip with PyTorch, without torch: the committed
fixtures of make_interop_fixtures.py (a netc-trained autoencoder and
classifier, their .npz as exported, the numbers PyTorch measured on them)
against the tool and the trainers built now.

- export of each committed checkpoint equals the committed .npz, tensor by
  tensor (interop_diff npz);
- import of that .npz gives back the checkpoint's tensors bit for bit
  (checkpoint -> npz -> checkpoint: interop_diff ckpt);
- --epochs 0 --load of each checkpoint reproduces PyTorch's test loss
  within 1e-5 and its accuracy;
- show (text and --json) and verify on them, with and without --model;
  export --best (early stopping's parameters);
- hostile inputs: import of a truncated archive, a missing, extra,
  misshapen, mistyped key, netc's own names; show of a truncated, damaged
  or foreign file; usage errors.  Each gives its exit status and an error
  naming the file and the key, and writes nothing.

usage: test_interop.py BIN_DIR SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN, SRC = sys.argv[1], sys.argv[2]
FIX = os.path.join(SRC, "tests", "interop", "fixtures")
TINY = os.path.join(SRC, "tests", "interop", "tiny.net")
TOOL = os.path.join(BIN, "netc-ckpt")
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def run(args, prog=TOOL):
    p = subprocess.run([prog] + args, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, OMP_NUM_THREADS="2"))
    return p.returncode, p.stdout, p.stderr


def model(name):
    return os.path.join(SRC, "models", name + ".net")


def expect_error(args, status, *texts, absent=None):
    rc, out, err = run(args)
    ok = rc == status and all(t in err for t in texts)
    check(ok, "netc-ckpt %s -> exit %d, %s" % (" ".join(os.path.basename(a) for a in args), status,
                                                 " / ".join(texts)))
    if not ok:
        print("     got exit %d, stderr:\n%s" % (rc, err))
    if absent:
        check(not os.path.exists(absent), "  and %s not written" % os.path.basename(absent))


tmp = tempfile.mkdtemp(prefix="netc-interop-")
results = json.load(open(os.path.join(FIX, "results.json")))

# The round trip, per model.
for name in ("autoencoder", "classifier"):
    ckpt, npz = os.path.join(FIX, name + ".ckpt"), os.path.join(FIX, name + ".npz")
    out_npz, out_ckpt = os.path.join(tmp, name + ".npz"), os.path.join(tmp, name + ".ckpt")
    rc, out, err = run(["export", ckpt, "-o", out_npz, "--model", model(name)])
    check(rc == 0, "%s: export %s" % (name, err.strip()))
    rc, out, err = run(["npz", npz, out_npz], os.path.join(BIN, "interop_diff"))
    print(out, end="")
    check(rc == 0, "%s: export == the committed .npz, tensor by tensor" % name)
    rc, out, err = run(["import", out_npz, "-o", out_ckpt, "--model", model(name)])
    check(rc == 0, "%s: import %s" % (name, err.strip()))
    rc, out, err = run(["ckpt", ckpt, out_ckpt], os.path.join(BIN, "interop_diff"))
    check(rc == 0, "%s: checkpoint -> npz -> checkpoint bit-identical" % name)
    rc, out, err = run(["verify", out_ckpt, "--model", model(name)])
    check(rc == 0 and "loads into model %s" % name in out, "%s: the imported checkpoint verifies" % name)
    for which in (ckpt, out_ckpt):
        rc, out, err = run(["--epochs", "0", "--load", which, "--json", "--quiet"],
                           os.path.join(BIN, "train-" + name))
        got = json.loads(out.strip().splitlines()[-1]) if rc == 0 else {}
        want = results[name]["torch"]
        d = abs(got.get("test_loss", float("inf")) - want["test_loss"])
        check(rc == 0 and d <= 1e-5, "%s: --epochs 0 --load %s: test loss %s, torch %.9f (diff %.2e <= 1e-5)"
              % (name, os.path.basename(os.path.dirname(which)), got.get("test_loss"), want["test_loss"], d))
        if "test_accuracy" in want:
            check(abs(got.get("test_accuracy", -1) - want["test_accuracy"]) < 1e-6,
                  "%s: test accuracy %s, torch %s" % (name, got.get("test_accuracy"), want["test_accuracy"]))

# show and verify.
ae, cl = os.path.join(FIX, "autoencoder.ckpt"), os.path.join(FIX, "classifier.ckpt")
rc, out, err = run(["show", cl])
check(rc == 0 and "structure hash" in out and "does not record the model's name" in out
      and "parameter (frozen)" in out and "optimizer: adam, step" in out and "3 epochs done" in out,
      "show: hash, kinds, optimizer, epochs")
rc, out, err = run(["show", cl, "--model", model("classifier"), "--json"])
j = json.loads(out) if rc == 0 else {}
check(rc == 0 and j["model"]["name"] == "classifier" and j["model"]["hash_matches"] and len(j["tensors"]) == 14
      and j["optimizer"]["kind"] == "adam" and j["training"]["epoch"] == 3
      and sum(t["trainable"] for t in j["tensors"]) == 4,
      "show --json --model: model, 14 tensors (4 trainable), optimizer, epoch")
rc, out, err = run(["verify", ae])
check(rc == 0 and out.startswith(ae + ": ok"), "verify without a model")
expect_error(["verify", cl, "--model", model("autoencoder")], 1, cl + ": the checkpoint has no tensor decoder_dense1_w")
expect_error(["verify", ae, "--model", model("autoencoder"), "-D", "latent=4"], 1,
             ae + ": tensor encoder_dense1_w has shape [9, 64] in the checkpoint, the model expects [4, 64]")
expect_error(["verify", ae, "--model", model("autoencoder"), "-D", "nosuch=4"], 2, "the model has no constant 'nosuch'")

# export --best: early stopping's copy of the parameters (one epoch: the
# best is the last, so both exports agree; the classifier has trainable
# and frozen tensors, so the copy's layout is checked across both).
es = os.path.join(tmp, "es.ckpt")
rc, out, err = run(["--epochs", "1", "--patience", "1", "--save", es, "--quiet", "--load", ae, "--load-prefix",
                    "encoder_"], os.path.join(BIN, "train-classifier"))
check(rc == 0, "a classifier trained with --patience")
rc, out, err = run(["show", es])
check(rc == 0 and "best parameters saved" in out and "normalize: none" in out,
      "show: best parameters saved, no normalisation")

# A run with --normalize keeps its mean and std in the checkpoint (format
# version 3): show prints them, as text and as JSON.
nc = os.path.join(tmp, "norm.ckpt")
rc, out, err = run(["--epochs", "1", "--normalize", "0.25,0.5", "--save", nc, "--quiet"],
                   os.path.join(BIN, "train-autoencoder"))
check(rc == 0, "an autoencoder trained with --normalize")
rc, out, err = run(["show", nc])
check(rc == 0 and "format version 3" in out and "normalize: (x - mean) / std per channel, mean 0.25, std 0.5" in out,
      "show: format version 3, the normalisation")
rc, out, err = run(["show", nc, "--json"])
j = json.loads(out) if rc == 0 else {}
check(rc == 0 and j["normalize"] == {"mean": [0.25], "std": [0.5]}, "show --json: the normalisation")
run(["export", es, "-o", os.path.join(tmp, "last.npz")])
rc, out, err = run(["export", es, "-o", os.path.join(tmp, "best.npz"), "--best"])
check(rc == 0 and "(best epoch)" in out, "export --best")
rc, out, err = run(["npz", os.path.join(tmp, "last.npz"), os.path.join(tmp, "best.npz")], os.path.join(BIN, "interop_diff"))
check(rc == 0, "export --best == export when the best epoch is the last")
expect_error(["export", cl, "-o", os.path.join(tmp, "x.npz"), "--best"], 1,
             "classifier.ckpt: no best parameters saved", absent=os.path.join(tmp, "x.npz"))

# Hostile checkpoints for show.
data = open(cl, "rb").read()
bad = {"truncated": data[:len(data) // 2], "flipped": data[:500] + bytes([data[500] ^ 1]) + data[501:],
       "empty": b""}
for k, v in bad.items():
    open(os.path.join(tmp, k + ".ckpt"), "wb").write(v)
expect_error(["show", os.path.join(tmp, "truncated.ckpt")], 1, "truncated.ckpt: truncated: file has")
expect_error(["show", os.path.join(tmp, "flipped.ckpt")], 1, "flipped.ckpt: CRC mismatch")
expect_error(["show", os.path.join(tmp, "empty.ckpt")], 1, "empty.ckpt: not a netc checkpoint")
expect_error(["show", os.path.join(FIX, "autoencoder.npz")], 1, "autoencoder.npz: not a netc checkpoint")
expect_error(["show", os.path.join(tmp, "none.ckpt")], 1, "none.ckpt: cannot open")

# Hostile archives for import (tiny.net: dense, batch norm, a labelled dense).
out_ckpt = os.path.join(tmp, "tiny.ckpt")
rc, out, err = run(["import", os.path.join(FIX, "tiny_ok.npz"), "-o", out_ckpt, "--model", TINY])
check(rc == 0, "import of tiny's state_dict %s" % err.strip())
rc, out, err = run(["show", out_ckpt, "--model", TINY])
check(rc == 0 and "buffer" in out and "optimizer: no state" in out, "show of it: buffers, no optimizer state")
os.remove(out_ckpt)
cases = [
    ("missing", "tiny_missing.npz: missing tiny.bn1.running_var (netc's tiny_bn1_running_var, shape [3])"),
    ("extra", "tiny_extra.npz: tiny.dense2.weight: the model tiny has no such tensor (netc name tiny_dense2_w)"),
    ("shape", "tiny_shape.npz: tiny.dense1.weight: shape [4, 3], the model's tiny_dense1_w is [3, 4]"),
    ("dtype", "tiny_dtype.npz: tiny.out_layer.bias: dtype float64, netc's tensors are float32"),
    ("tracked", "tiny_tracked.npz: tiny.bn1.num_batches_tracked: float32 with 1 dimension, expected an integer scalar"),
    ("netc_names", "tiny_netc_names.npz: tiny_dense1_w: the model tiny has no such tensor (not a .weight"),
    ("truncated", "tiny_truncated.npz: cannot open as a zip archive"),
]
for k, text in cases:
    expect_error(["import", os.path.join(FIX, "tiny_%s.npz" % k), "-o", out_ckpt, "--model", TINY], 1, text,
                 absent=out_ckpt)
expect_error(["import", os.path.join(FIX, "tiny_ok.npz"), "-o", out_ckpt, "--model", model("autoencoder")], 1,
             "tiny_ok.npz: tiny.dense1.weight: the model autoencoder has no such tensor",
             "missing encoder.trunk.conv1.weight", absent=out_ckpt)
expect_error(["export", ae, "-o", os.path.join(tmp, "no", "dir", "a.npz")], 1, "a.npz.tmp: cannot create")

# Usage.
expect_error([], 2, "a command is needed")
expect_error(["frobnicate", ae], 2, "unknown command 'frobnicate'")
expect_error(["import", os.path.join(FIX, "tiny_ok.npz"), "-o", out_ckpt], 2, "import needs --model")
expect_error(["export", ae], 2, "export needs -o FILE")
expect_error(["show", ae, "--bogus"], 2, "unknown option '--bogus'")
expect_error(["verify", ae, "--json"], 2, "--json is for show")
expect_error(["show", ae, "--best"], 2, "--best is for export")
rc, out, err = run(["--help"])
check(rc == 0 and "SYNOPSIS" in out and "EXIT STATUS" in out and "num_batches_tracked" in out, "--help")

shutil.rmtree(tmp)
print("test_interop: %s" % ("all checks passed" if not failures else "%d check(s) failed" % failures))
sys.exit(1 if failures else 0)
