#!/usr/bin/env python3
"""--predict's exports in their per-example shape, its PNG grids, and
--predict-input (a file's or a folder's examples, no labels), end to end
on the committed MNIST subset: generated trainers (train-autoencoder,
train-classifier) and the interpreter, including one net alone
(`netc run MODEL --net decoder`).  What is asserted:

- .npy headers: code [n, 9], y [n, 1, 28, 28], logp [n, 10]; CSV stays
  2-d (a line of 784 values per example);
- y.png: a grid of the first --predict-grid examples (default 64: 8 x 8
  tiles of 28 x 28, 2 pixels of grey between), one pixel checked against
  y.npy; none for code (not image-shaped), none with --predict-grid 0;
- --predict-input over the test file (IDX) == --predict over the test
  split, bit for bit (same batches, same seeds); over a folder of PNGs
  (classes that are not digits: labels are ignored) == the same images'
  predictions; no labels.npy;
- the decoder alone over the autoencoder's codes == the autoencoder's y
  (the interpreter both times); over a file of random codes: y [16, 1,
  28, 28] and a 4 x 4 grid;
- hostile inputs: wrong shape, missing file, not data, option misuse:
  exit 1 (or 2 for usage) with the file or option named.

Neither numpy nor torch is needed: .npy headers and PNGs are parsed here.

usage: test_predict_input.py --autoencoder T --classifier T --netc NETC --src ROOT
"""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ap = argparse.ArgumentParser()
ap.add_argument("--autoencoder", required=True)
ap.add_argument("--classifier", required=True)
ap.add_argument("--netc", required=True)
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


def read_npy(path):
    """(dtype, shape, values) of a version 1.0 .npy, header checked."""
    b = open(path, "rb").read()
    assert b[:8] == b"\x93NUMPY\x01\x00", "magic"
    hlen = struct.unpack_from("<H", b, 8)[0]
    assert (10 + hlen) % 64 == 0, "alignment"
    d = eval(b[10:10 + hlen].decode("latin1"), {"__builtins__": {}}, {"False": False, "True": True})
    n = 1
    for s in d["shape"]:
        n *= s
    fmt = {"<f4": "f", "<i8": "q"}[d["descr"]]
    data = b[10 + hlen:]
    assert len(data) == n * struct.calcsize(fmt), "data size"
    return d["descr"], d["shape"], struct.unpack("<%d%s" % (n, fmt), data)


def write_npy(path, shape, values):
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join("%d, " % s for s in shape)
    head += " " * ((64 - (10 + len(head) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode("latin1"))
        f.write(struct.pack("<%df" % len(values), *values))


def read_png(path):
    """(width, height, channels, rows of bytes) of an 8-bit grey or RGB PNG."""
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    pos, idat, ihdr = 8, b"", None
    while pos < len(b):
        n, kind = struct.unpack_from(">I4s", b, pos)
        body = b[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (0, 2) and interlace == 0
    c = 1 if ctype == 0 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * c, [], bytearray(w * c)
    for r in range(h):
        ft, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - c] if i >= c else 0
            up, ul = prev[i], prev[i - c] if i >= c else 0
            if ft == 1: line[i] = (line[i] + a) & 255
            elif ft == 2: line[i] = (line[i] + up) & 255
            elif ft == 3: line[i] = (line[i] + (a + up) // 2) & 255
            elif ft == 4:
                p = a + up - ul
                pa, pb, pc = abs(p - a), abs(p - up), abs(p - ul)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, c, rows


def write_png(path, w, h, pixels):
    """An 8-bit grey PNG of pixels (h rows of w bytes)."""
    raw = b"".join(b"\x00" + bytes(pixels[r * w:(r + 1) * w]) for r in range(h))
    chunk = lambda k, d: struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


tmp = tempfile.mkdtemp(prefix="netrt-test-predict-input-")
P = lambda name: os.path.join(tmp, name)
AE, CL = [A.autoencoder], [A.classifier]
NETC_AE = [A.netc, "run", "models/autoencoder.net"]
TEST_IMAGES = "runtime/mnist/t10k-images-idx3-ubyte.gz"
ae, cl = P("ae.ckpt"), P("cl.ckpt")
grid = lambda n, tile=28: (2 + n * (tile + 2))    # pixels across n tiles

rc, out, err = run(AE + ["--epochs", "1", "--save", ae, "--quiet", "--threads", "2"])
check(rc == 0, "train-autoencoder trains one epoch: " + err.strip()[-200:])
rc, out, err = run(CL + ["--epochs", "1", "--save", cl, "--quiet", "--threads", "2"])
check(rc == 0, "train-classifier trains one epoch: " + err.strip()[-200:])

# 1. Exports in their per-example shape; 2. the PNG grid.
pa = P("ae-test")
rc, out, err = run(AE + ["--epochs", "0", "--load", ae, "--predict", pa, "--quiet"])
check(rc == 0, "autoencoder --predict exits 0: " + err.strip()[-200:])
check(sorted(os.listdir(pa)) == ["code.npy", "labels.npy", "y.npy", "y.png"], "code, y, labels, y.png: %s" % os.listdir(pa))
_, cshape, code = read_npy(os.path.join(pa, "code.npy"))
_, yshape, y = read_npy(os.path.join(pa, "y.npy"))
n = cshape[0]
check(cshape == (n, 9) and n >= 1000, "code.npy is [n, 9]: %s" % (cshape,))
check(yshape == (n, 1, 28, 28), "y.npy is [n, 1, 28, 28]: %s" % (yshape,))
w, h, c, rows = read_png(os.path.join(pa, "y.png"))
check((w, h, c) == (grid(8), grid(8), 1), "y.png: 8 x 8 tiles, grey (%dx%d, %d channels)" % (w, h, c))
px = lambda k, i, j: max(0, min(1, y[k * 784 + i * 28 + j]))
want = [int(px(k, i, j) * 255 + 0.5) for k, i, j in [(0, 14, 14), (9, 10, 20), (63, 27, 27)]]
have = [rows[2 + 14][2 + 14], rows[2 + 30 + 10][2 + 30 + 20], rows[2 + 7 * 30 + 27][2 + 7 * 30 + 27]]
check(want == have, "tile pixels are y's values x 255 (%s == %s)" % (want, have))
check(rows[0][0] == 128 and rows[1][5] == 128, "grey margins")
pg = P("ae-grid5")
rc, out, err = run(AE + ["--epochs", "0", "--load", ae, "--predict", pg, "--predict-grid", "5", "--quiet"])
w, h, c, _ = read_png(os.path.join(pg, "y.png"))
check(rc == 0 and (w, h) == (grid(3), grid(2)), "--predict-grid 5: 3 x 2 tiles (%dx%d)" % (w, h))
p0 = P("ae-grid0")
rc, out, err = run(AE + ["--epochs", "0", "--load", ae, "--predict", p0, "--predict-grid", "0", "--quiet"])
check(rc == 0 and "y.png" not in os.listdir(p0), "--predict-grid 0: no PNG")
pc = P("ae-csv")
rc, out, err = run(AE + ["--epochs", "0", "--load", ae, "--predict", pc, "--predict-format", "csv", "--quiet"])
lines = open(os.path.join(pc, "y.csv")).read().splitlines()
check(rc == 0 and len(lines) == n and all(len(l.split(",")) == 784 for l in lines[:5]),
      "CSV stays 2-d: %d lines of 784 values" % len(lines))

# 3. --predict-input: the test file's examples, as --predict's test split.
pt = P("cl-test")
rc, out, err = run(CL + ["--epochs", "0", "--load", cl, "--predict", pt, "--quiet"])
check(rc == 0, "classifier --predict exits 0")
_, _, logp = read_npy(os.path.join(pt, "logp.npy"))
_, _, pred = read_npy(os.path.join(pt, "predicted.npy"))
pi = P("cl-input")
rc, out, err = run(CL + ["--load", cl, "--predict-input", TEST_IMAGES, "--predict", pi, "--quiet", "--json"])
check(rc == 0, "--predict-input IDX exits 0: " + err.strip()[-200:])
check(sorted(os.listdir(pi)) == ["logp.npy", "predicted.npy"], "logp and predicted, no labels: %s" % os.listdir(pi))
check(read_npy(os.path.join(pi, "logp.npy"))[2] == logp, "--predict-input == --predict over the test split, bit for bit")
check(json.loads(out.strip().splitlines()[-1])["examples"] == n, "JSON: the examples predicted")

# A folder of PNGs (the first 12 test images; its class folders are not
# digits: labels are ignored).
idx = zlib.decompress(open(os.path.join(A.src, TEST_IMAGES), "rb").read(), 31)
folder = P("pngs")
for k in range(12):
    cls = os.path.join(folder, "cat" if k < 6 else "dog")
    os.makedirs(cls, exist_ok=True)
    write_png(os.path.join(cls, "%03d.png" % k), 28, 28, idx[16 + 784 * k:16 + 784 * (k + 1)])
pf = P("cl-folder")
rc, out, err = run(CL + ["--epochs", "0", "--load", cl, "--predict-input", folder, "--predict", pf, "--quiet"])
check(rc == 0, "--predict-input a PNG folder exits 0: " + err.strip()[-200:])
if rc == 0:
    _, shape_f, pred_f = read_npy(os.path.join(pf, "predicted.npy"))
    check(shape_f == (12,) and list(pred_f) == list(pred[:12]), "the folder's predictions are the images' (%s)" % (pred_f,))

# The decoder alone (interpreter) over the autoencoder's codes == the
# autoencoder's y (interpreter).
pai = P("ae-interp")
rc, out, err = run(NETC_AE + ["--epochs", "0", "--load", ae, "--predict", pai, "--quiet"])
check(rc == 0, "netc run autoencoder --predict exits 0: " + err.strip()[-200:])
_, _, code_i = read_npy(os.path.join(pai, "code.npy"))
_, _, y_i = read_npy(os.path.join(pai, "y.npy"))
write_npy(P("codes.npy"), (n, 9), code_i)
pd = P("dec")
rc, out, err = run(NETC_AE + ["--net", "decoder", "--load", ae, "--predict-input", P("codes.npy"), "--predict", pd, "--quiet"])
check(rc == 0, "netc run --net decoder exits 0: " + err.strip()[-300:])
if rc == 0:
    check(sorted(os.listdir(pd)) == ["y.npy", "y.png"], "the decoder writes y.npy and y.png: %s" % os.listdir(pd))
    _, shape_d, y_d = read_npy(os.path.join(pd, "y.npy"))
    diff = max(abs(a - b) for a, b in zip(y_d, y_i))
    check(shape_d == (n, 1, 28, 28) and diff < 1e-6, "decoder(code) == the autoencoder's y (max diff %g)" % diff)
    check(max(abs(a - b) for a, b in zip(y_i, y)) < 1e-4, "interpreted y == generated y")
# Random codes into digit images.
rnd = random.Random(1)
write_npy(P("random.npy"), (16, 9), [rnd.gauss(0, 1) for _ in range(16 * 9)])
pr = P("dec-random")
rc, out, err = run(NETC_AE + ["--net", "decoder", "--load", ae, "--predict-input", P("random.npy"), "--predict", pr, "--quiet"])
check(rc == 0 and read_npy(os.path.join(pr, "y.npy"))[1] == (16, 1, 28, 28), "random codes decode to [16, 1, 28, 28]")
if rc == 0:
    w, h, c, _ = read_png(os.path.join(pr, "y.png"))
    check((w, h, c) == (grid(4), grid(4), 1), "and a 4 x 4 grid")
# The encoder alone over the test images == the autoencoder's code.
pe = P("enc")
rc, out, err = run(NETC_AE + ["--net", "encoder", "--load", ae, "--predict-input", TEST_IMAGES, "--predict", pe, "--quiet"])
check(rc == 0 and read_npy(os.path.join(pe, "code.npy"))[2] == code_i, "encoder alone == the autoencoder's code")

# 4. Hostile inputs and misuse.
open(P("junk.npy"), "w").write("not an array\n")
for cmd, st, word in [
        (CL + ["--load", cl, "--predict-input", P("codes.npy"), "--predict", P("x1")], 1, P("codes.npy")),
        (CL + ["--load", cl, "--predict-input", P("missing.npy"), "--predict", P("x2")], 1, P("missing.npy")),
        (CL + ["--load", cl, "--predict-input", P("junk.npy"), "--predict", P("x3")], 1, P("junk.npy")),
        (NETC_AE + ["--net", "decoder", "--load", ae, "--predict-input", TEST_IMAGES, "--predict", P("x4")], 1,
         TEST_IMAGES),
        (NETC_AE + ["--net", "nosuch", "--load", ae, "--predict-input", P("codes.npy"), "--predict", P("x5")], 1,
         "nosuch"),
        (NETC_AE + ["--net", "decoder", "--load", cl, "--predict-input", P("codes.npy"), "--predict", P("x6")], 1,
         cl),
        (NETC_AE + ["--net", "decoder", "--epochs", "1"], 2, "--predict-input"),
        (CL + ["--predict-input", TEST_IMAGES, "--predict", P("x7")], 2, "--load"),
        (CL + ["--load", cl, "--predict-input", TEST_IMAGES], 2, "--predict"),
        (CL + ["--load", cl, "--epochs", "2", "--predict-input", TEST_IMAGES, "--predict", P("x8")], 2, "--epochs"),
        (CL + ["--load", cl, "--predict-input", TEST_IMAGES, "--predict", P("x9"), "--normalize", "auto"], 2,
         "--normalize"),
        (CL + ["--net", "decoder"], 2, "--net")]:
    rc, out, err = run(cmd + ["--quiet"])
    check(rc == st and word in err, "%s: exit %d naming %s (%d, %s)" % (" ".join(cmd[1:]), st, word, rc, err.strip()[-300:]))

print("%d failure(s)" % failures)
if not failures:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
