#!/usr/bin/env python3
"""Evaluating a checkpoint (--epochs 0) and --predict, end to end, on the
committed MNIST subset: a generated trainer (train-classifier) trains one
epoch and saves a checkpoint; --epochs 0 --load reproduces the run's test
and validation numbers bit for bit and leaves the checkpoint alone;
--predict writes .npy files (header parsed here, numpy not needed; and by
netc-data, the runtime's own reader) whose exports match the interpreter's
(`netc run` on the same checkpoint) within float rounding; CSV; and the
usage errors and unwritable folders.

usage: test_predict.py --trainer T --netc NETC --netc-data D --src ROOT
"""
import argparse
import json
import resource
import shutil
import signal
import os
import struct
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--trainer", required=True)
ap.add_argument("--netc", required=True)
ap.add_argument("--netc-data", required=True)
ap.add_argument("--src", required=True)
A = ap.parse_args()
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=A.src)
    return p.returncode, p.stdout, p.stderr


def last_json(out):
    return json.loads([l for l in out.strip().splitlines() if l.strip()][-1])


def read_npy(path):
    """(dtype string, shape tuple, values) of a version 1.0 .npy: the
    header checked byte by byte as numpy writes it (64-byte aligned data)."""
    b = open(path, "rb").read()
    assert b[:8] == b"\x93NUMPY\x01\x00", "magic"
    hlen = struct.unpack_from("<H", b, 8)[0]
    assert (10 + hlen) % 64 == 0, "alignment"
    head = b[10:10 + hlen].decode("latin1")
    assert head.endswith("\n")
    d = eval(head, {"__builtins__": {}}, {"False": False, "True": True})
    assert d["fortran_order"] is False
    shape = d["shape"]
    n = 1
    for s in shape:
        n *= s
    fmt = {"<f4": "f", "<i8": "q"}[d["descr"]]
    data = b[10 + hlen:]
    assert len(data) == n * struct.calcsize(fmt), "data size"
    return d["descr"], shape, struct.unpack("<%d%s" % (n, fmt), data)


tmp = tempfile.mkdtemp(prefix="netrt-test-predict-")
P = lambda name: os.path.join(tmp, name)
T = [A.trainer]
NETC = [A.netc, "run", "models/classifier.net"]
ck = P("c.ckpt")

# Train one epoch, saving; its final evaluation is the reference.
rc, out, err = run(T + ["--epochs", "1", "--save", ck, "--json", "--quiet", "--threads", "2"])
check(rc == 0, "train-classifier trains one epoch: " + err.strip()[-200:])
j1 = last_json(out)
ck_bytes = open(ck, "rb").read()

# --epochs 0 --load: the same numbers, bit for bit (the same code path).
rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--json", "--quiet", "--threads", "2"])
check(rc == 0, "--epochs 0 --load exits 0: " + err.strip()[-200:])
j0 = last_json(out)
check(j0["test_loss"] == j1["test_loss"], "same test loss %r == %r" % (j0["test_loss"], j1["test_loss"]))
check(j0["test_accuracy"] == j1["test_accuracy"], "same test accuracy")
check(j0["val_loss"] == j1["val_loss"], "same validation loss")
check(j0["epochs"] == 0 and j0["train_loss"] is None, "no training: epochs 0, train_loss null")
check(open(ck, "rb").read() == ck_bytes, "the checkpoint is not rewritten")
# With the thread count changed too (results do not depend on threads).
rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--json", "--quiet", "--threads", "1"])
check(rc == 0 and last_json(out)["test_loss"] == j1["test_loss"], "--threads 1: same test loss")
# --resume evaluates too (epochs 0 <= the checkpoint's 1).
rc, out, err = run(T + ["--epochs", "0", "--resume", ck, "--json", "--quiet"])
check(rc == 0 and last_json(out)["test_loss"] == j1["test_loss"], "--epochs 0 --resume: same test loss")

# Usage errors: exit 2, a message naming the options.
for args, word in [(["--epochs", "0"], "--load"), (["--epochs", "0", "--load", ck, "--save", P("x")], "--save"),
                   (["--epochs", "0", "--load", ck, "--log", P("x.csv")], "--log"),
                   (["--predict-split", "val"], "--predict"), (["--predict-format", "csv"], "--predict"),
                   (["--predict", P("p"), "--predict-split", "tset"], "--predict-split"),
                   (["--predict", P("p"), "--predict-format", "json"], "--predict-format")]:
    rc, out, err = run(T + args)
    check(rc == 2 and word in err, "%s: exit 2 naming %s (%d, %s)" % (" ".join(args), word, rc, err.strip()))

# --predict with the generated trainer.
pg = P("pred-gen")
rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--predict", pg, "--quiet", "--json"])
check(rc == 0, "--predict exits 0: " + err.strip()[-200:])
check(sorted(os.listdir(pg)) == ["labels.npy", "logp.npy", "predicted.npy"], "logp, labels, predicted: %s" % os.listdir(pg))
dt, shape, logp = read_npy(os.path.join(pg, "logp.npy"))
n = shape[0]          # the subset's test set (2,000 examples)
check(dt == "<f4" and shape == (n, 10) and n >= 1000, "logp.npy is float32 [n, 10]: %s %s" % (dt, shape))
dt, shape, labels = read_npy(os.path.join(pg, "labels.npy"))
check(dt == "<i8" and shape == (n,), "labels.npy is int64 [n]")
dt, shape, pred = read_npy(os.path.join(pg, "predicted.npy"))
check(dt == "<i8" and shape == (n,), "predicted.npy is int64 [n]")
argmax = [max(range(10), key=lambda k: (logp[i * 10 + k], -k)) for i in range(n)]
check(list(pred) == argmax, "predicted is logp's argmax")
acc = sum(p == l for p, l in zip(pred, labels)) / n
check(acc == j1["test_accuracy"], "predicted vs labels gives the test accuracy (%g, %g)" % (acc, j1["test_accuracy"]))
check(all(abs(sum(2.718281828459045 ** v for v in logp[i * 10:i * 10 + 10]) - 1) < 1e-4 for i in range(n)),
      "logp rows are log-probabilities")
# The runtime's own .npy reader accepts the files.
rc, out, err = run([A.netc_data, "--train-images", os.path.join(pg, "logp.npy"), "--train-labels",
                    os.path.join(pg, "labels.npy")])
check(rc == 0 and "%d x [10]" % n in out, "netc-data reads logp.npy and labels.npy: %s" % (out + err).strip()[-300:])

# The interpreter on the same checkpoint: the same exports within rounding.
pi = P("pred-interp")
rc, out, err = run(NETC + ["--epochs", "0", "--load", ck, "--predict", pi, "--quiet", "--json"])
check(rc == 0, "netc run --predict exits 0: " + err.strip()[-200:])
if rc == 0:
    _, shape_i, logp_i = read_npy(os.path.join(pi, "logp.npy"))
    err_max = max(abs(a - b) for a, b in zip(logp, logp_i))
    check(shape_i == (n, 10) and err_max < 1e-4, "generated == interpreted logp (max diff %g)" % err_max)
    check(read_npy(os.path.join(pi, "labels.npy"))[2] == labels, "same labels")
    _, _, pred_i = read_npy(os.path.join(pi, "predicted.npy"))
    check(sum(a != b for a, b in zip(pred, pred_i)) <= 2, "same predictions (up to near ties)")
    check(abs(last_json(out)["test_loss"] - j1["test_loss"]) < 1e-5, "netc run evaluates the same test loss")

# CSV over the validation split.
pc = P("pred-csv")
rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--predict", pc, "--predict-format", "csv",
                        "--predict-split", "val", "--quiet"])
check(rc == 0, "--predict-format csv exits 0: " + err.strip()[-200:])
# (the subset's validation set: the last 1,000 of its 10,000 training examples)
rows = [l.split(",") for l in open(os.path.join(pc, "logp.csv")).read().splitlines()]
check(len(rows) == 1000 and all(len(r) == 10 for r in rows), "logp.csv: 1000 lines of 10 values")
lab = open(os.path.join(pc, "labels.csv")).read().split()
check(len(lab) == 1000 and all(x.isdigit() for x in lab), "labels.csv: 1000 labels")
# The CSV values are the .npy's floats, printed to read back exactly.
pv = P("pred-val")
rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--predict", pv, "--predict-split", "val", "--quiet"])
_, shape_v, logp_v = read_npy(os.path.join(pv, "logp.npy"))
as_f32 = lambda v: struct.unpack("<f", struct.pack("<f", float(v)))[0]
check(rc == 0 and shape_v == (1000, 10) and [as_f32(v) for r in rows for v in r] == list(logp_v),
      "logp.csv == logp.npy over the validation split")
check(not any(f.endswith(".tmp") for f in os.listdir(pc)), "no temporaries left")

# Training and predicting in one run: the trained parameters' exports.
pt = P("pred-train")
rc, out, err = run(T + ["--epochs", "1", "--predict", pt, "--predict-split", "train", "--quiet", "--json"])
check(rc == 0 and read_npy(os.path.join(pt, "logp.npy"))[1] == (9000, 10), "train 1 epoch + --predict-split train")

# Unwritable places: exit 1, the path named.
open(P("afile"), "w").close()
for bad in ["/proc/netc-no-such/dir", P("afile"), P("afile") + "/sub"]:
    rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--predict", bad, "--quiet"])
    check(rc == 1 and bad in err, "--predict %s: exit 1 naming it (%d, %s)" % (bad, rc, err.strip()))
if os.geteuid() != 0:      # root writes anywhere
    ro = P("readonly")
    os.mkdir(ro, 0o555)
    rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--predict", ro, "--quiet"])
    check(rc == 1 and ro in err and not os.listdir(ro), "read-only folder: exit 1 naming the file")
# A full disk, as a file-size limit makes it (writes fail with EFBIG):
# exit 1 naming the export's file, no temporaries and no partial files left.
def small_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
pf = P("pred-full")
p = subprocess.run(T + ["--epochs", "0", "--load", ck, "--predict", pf, "--quiet"], capture_output=True,
                   text=True, env=dict(os.environ, OMP_NUM_THREADS="2"), timeout=600, preexec_fn=small_files)
check(p.returncode == 1 and os.path.join(pf, "logp.npy") in p.stderr and os.listdir(pf) == [],
      "disk full: exit 1 naming the file, nothing left (%d, %s)" % (p.returncode, p.stderr.strip()))
if os.path.exists("/dev/full"):
    # Disk full: a file that cannot be written in place of a folder is
    # refused; /dev/full itself is no folder either.
    rc, out, err = run(T + ["--epochs", "0", "--load", ck, "--predict", "/dev/full", "--quiet"])
    check(rc == 1 and "/dev/full" in err, "--predict /dev/full: exit 1 naming it")

print("%d failure(s)" % failures)
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
