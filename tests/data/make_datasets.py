#!/usr/bin/env python3
"""Synthesises tiny data sets in every format runtime/data reads, and
hostile files, deterministically (same bytes on every run and machine),
with the Python standard library only (no NumPy, no Pillow).

usage: make_datasets.py OUT [--big]

OUT/
  idx/        MNIST file names: train images raw, train labels gzip, t10k
              both raw; 28x28 u8, labels 0..9 (200 + 50 examples)
  idx-types/  the same images as i16, f32 and f64 IDX files (values, not
              /255) and labels as i32, under any names
  npz/data.npz  the idx/ data as x_train, y_train (int64), x_test, y_test
              (deflated, like np.savez_compressed)
  npy/        the idx/ data as x_train.npy (v1 header), y_train.npy (v2
              header, int64), x_test.npy, y_test.npy (int32)
  cifar10/    data_batch_1.bin, data_batch_2.bin (30 records each), test_batch.bin
  cifar100/   train.bin, test.bin (coarse, fine label bytes)
  digits-png/ grey 28x28 PNGs, train/0..9/ (120), test/0..9/ (40);
  digits-png.npz  the same in the folder's order (by class)
  folder/     train/{cat,dog,frog}/NNN.png RGB 8x8 (one grey+alpha,
              one palette, one 16-bit image among them), test/{cat,dog,frog}
  folder.npz  the same pixels and labels as folder/ (class-sorted order)
  pairs/      paired 1x8x8 images for a model with a second tensor input
              (--train-targets): noisy_{train,test,val} (f32 .npy; the
              test's as f32 IDX too) and clean_{train,test,val} (u8 .npy),
              labels_train.npy / labels_test.npy (int64, 3 classes), and
              mismatches: clean_short.npy (99 examples), clean_2ch.npy
              ([100, 2, 8, 8])
  inputs/     three tensor inputs a, b, t ([n, 1, 8, 8]: f32, u8, u8) for
              tests/data/inputs3.net: {a,b,t}_{train,test,val}.npy,
              data.npz (x_train = a, b_train, t_train, x_test, b_test,
              t_test), npy/ (the same as x_train.npy, b_train.npy, ...),
              vec_train.npy (a as [n, 64]), t_short.npy (one too few)
  many-classes/  300 + 100 examples of 16 float32 values with labels of
              1000 classes (up to 999): x_train.npy, y_train.npy (int64),
              x_train.idx, y_train-i32.idx and y_train-i16.idx (the same
              as IDX: f32 values, i32 and i16 labels),
              x_test.npy, y_test.npy (int32); y_1000.npy (label 1000 at
              index 17) and y_neg.npy (-1 at index 5)
  folder-300/ train/c000..c299/0.png: 300 classes of one grey 4x4 PNG
  idx-wide/   MNIST's file names (train labels gzip), 28x28 u8 images, i16
              labels below 300 (60 + 20 examples)
  bad/        hostile files, one per reason (see BAD below)
--big adds big/mnist (60,000 x 28x28 IDX) and big/cifar10 (50,000 records)
for the load-time measurements.
"""
import gzip
import io
import os
import struct
import sys
import zipfile
import zlib

OUT = sys.argv[1]
BIG = "--big" in sys.argv[2:]


class Lcg:
    """Deterministic bytes: a 64-bit LCG (Knuth's MMIX constants)."""
    def __init__(self, seed):
        self.s = seed

    def byte(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        return self.s >> 56

    def bytes(self, n):
        return bytes(self.byte() for _ in range(n))


def path(*p):
    f = os.path.join(OUT, *p)
    os.makedirs(os.path.dirname(f), exist_ok=True)
    return f


def write(p, data, gz=False):
    # mtime=0: gzip output identical on every run.
    if gz:
        with open(p, "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
                g.write(data)
    else:
        with open(p, "wb") as f:
            f.write(data)


def idx(code, dims, body):
    return struct.pack(">BBBB", 0, 0, code, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + body


def npy(descr, shape, body, version=1):
    sh = "(" + "".join(f"{d}, " if len(shape) == 1 else f"{d}, " for d in shape).rstrip(", ") + ("," if len(shape) == 1 else "") + ")"
    h = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {sh}, }}"
    pre = 10 if version == 1 else 12
    pad = 64 - (pre + len(h) + 1) % 64
    h = h + " " * pad + "\n"
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(h)) + h.encode()


def npz(p, members, method=zipfile.ZIP_DEFLATED):
    # Fixed timestamps: the archive is identical on every run.
    with zipfile.ZipFile(p, "w", method) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = method
            z.writestr(zi, data)


def png(width, height, color_type, bitdepth, rows):
    """rows: a list of raw scanline bytes (filter byte 0 prepended here)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bitdepth, color_type, 0, 0, 0))
            + (chunk(b"PLTE", bytes(range(0, 256 * 3, 1))[:768]) if color_type == 3 else b"")
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# ------------------------------------------------------------ MNIST-like
def mnist_like(n, seed):
    r = Lcg(seed)
    return r.bytes(n * 784), bytes(r.byte() % 10 for _ in range(n))


def gen_mnist():
    xtr, ytr = mnist_like(200, 1)
    xte, yte = mnist_like(50, 2)
    write(path("idx", "train-images-idx3-ubyte"), idx(0x08, [200, 28, 28], xtr))
    write(path("idx", "train-labels-idx1-ubyte.gz"), idx(0x08, [200], ytr), gz=True)
    write(path("idx", "t10k-images-idx3-ubyte"), idx(0x08, [50, 28, 28], xte))
    write(path("idx", "t10k-labels-idx1-ubyte"), idx(0x08, [50], yte))
    # Other element types, rank 2 ([n, 784]) for one of them.
    write(path("idx-types", "x-i16.idx"), idx(0x0B, [200, 784], b"".join(struct.pack(">h", v - 128) for v in xtr)))
    write(path("idx-types", "x-f32.idx.gz"), idx(0x0D, [200, 28, 28], b"".join(struct.pack(">f", v / 255.0) for v in xtr)), gz=True)
    write(path("idx-types", "x-f64.idx"), idx(0x0E, [200, 1, 28, 28], b"".join(struct.pack(">d", v) for v in xtr)))
    write(path("idx-types", "x-i8.idx"), idx(0x09, [200, 784], bytes((v - 128) & 0xff for v in xtr)))
    write(path("idx-types", "y-i32.idx"), idx(0x0C, [200], b"".join(struct.pack(">i", v) for v in ytr)))
    i64 = lambda ys: b"".join(struct.pack("<q", v) for v in ys)
    i32 = lambda ys: b"".join(struct.pack("<i", v) for v in ys)
    npz(path("npz", "data.npz"), [
        ("x_train", npy("|u1", [200, 28, 28], b"") + xtr), ("y_train", npy("<i8", [200], b"") + i64(ytr)),
        ("x_test", npy("|u1", [50, 28, 28], b"") + xte), ("y_test", npy("<i8", [50], b"") + i64(yte))])
    write(path("npy", "x_train.npy"), npy("|u1", [200, 28, 28], b"") + xtr)
    write(path("npy", "y_train.npy"), npy("<i8", [200], b"", version=2) + i64(ytr))
    write(path("npy", "x_test.npy"), npy("<f4", [50, 28, 28], b"") + b"".join(struct.pack("<f", v / 255.0) for v in xte))
    write(path("npy", "y_test.npy"), npy("<i4", [50], b"") + i32(yte))
    # Digits as grey 28x28 PNGs, one folder per class (every class in both
    # splits, so both number them alike), and their twin .npz in the
    # folder's order (by class, then by file name).
    members = []
    for split, n, seed in (("train", 120, 3), ("test", 40, 4)):
        xs = Lcg(seed).bytes(n * 784)
        ys = [(i * 7) % 10 for i in range(n)]
        order = sorted(range(len(ys)), key=lambda i: (ys[i], i))
        for i in order:
            img = xs[i * 784:(i + 1) * 784]
            write(path("digits-png", split, str(ys[i]), f"{i:04d}.png"), png(28, 28, 0, 8, [img[y * 28:(y + 1) * 28] for y in range(28)]))
        members += [(f"x_{split}", npy("|u1", [len(ys), 1, 28, 28], b"") + b"".join(xs[i * 784:(i + 1) * 784] for i in order)),
                    (f"y_{split}", npy("<i8", [len(ys)], b"") + i64([ys[i] for i in order]))]
    npz(path("digits-png.npz"), members)


# ------------------------------------------------------------ CIFAR
def cifar(n, seed, labels):
    r = Lcg(seed)
    return b"".join(bytes(labels(r)) + r.bytes(3072) for _ in range(n))


def gen_cifar():
    for i in (1, 2):
        write(path("cifar10", f"data_batch_{i}.bin"), cifar(30, 10 + i, lambda r: [r.byte() % 10]))
    write(path("cifar10", "test_batch.bin"), cifar(20, 13, lambda r: [r.byte() % 10]))
    two = lambda r: [r.byte() % 20, r.byte() % 100]
    write(path("cifar100", "train.bin"), cifar(40, 20, two))
    write(path("cifar100", "test.bin"), cifar(10, 21, two))


# ------------------------------------------------------------ PNG folder
def gen_folder():
    r = Lcg(30)
    xs, ys = [], []
    for split, count in (("train", 4), ("test", 2)):
        sx, sy = [], []
        for ci, cls in enumerate(["cat", "dog", "frog"]):
            for j in range(count):
                rgb = r.bytes(8 * 8 * 3)          # [h, w, c]
                name = path("folder", split, cls, f"{j:03d}.png")
                kind = (ci * count + j) % 4 if split == "train" else 0
                if kind == 1:                      # 16-bit: high byte is the 8-bit value
                    rows = [b"".join(bytes([v, 0x55]) for v in rgb[y * 24:(y + 1) * 24]) for y in range(8)]
                    data = png(8, 8, 2, 16, rows)
                elif kind == 2:                    # RGBA: alpha dropped
                    rows = [b"".join(rgb[(y * 8 + x) * 3:(y * 8 + x) * 3 + 3] + b"\x80" for x in range(8)) for y in range(8)]
                    data = png(8, 8, 6, 8, rows)
                else:
                    data = png(8, 8, 2, 8, [rgb[y * 24:(y + 1) * 24] for y in range(8)])
                write(name, data)
                sx.append(bytes(rgb[(y * 8 + x) * 3 + c] for c in range(3) for y in range(8) for x in range(8)))
                sy.append(ci)
        xs.append(sx), ys.append(sy)
    i64 = lambda v: b"".join(struct.pack("<q", a) for a in v)
    npz(path("folder.npz"), [
        ("x_train", npy("|u1", [12, 3, 8, 8], b"") + b"".join(xs[0])), ("y_train", npy("<i8", [12], b"") + i64(ys[0])),
        ("x_test", npy("|u1", [6, 3, 8, 8], b"") + b"".join(xs[1])), ("y_test", npy("<i8", [6], b"") + i64(ys[1]))],
        method=zipfile.ZIP_STORED)
    # A grey folder: 1 channel.
    for ci, cls in enumerate(["0", "1"]):
        for j in range(2):
            write(path("folder-grey", "train", cls, f"{j}.png"), png(4, 4, 0, 8, [r.bytes(4) for _ in range(4)]))


# ------------------------------------------------------------ hostile
BAD = {}


def bad(name, data, why):
    write(path("bad", name), data)
    BAD[name] = why


def gen_bad():
    xtr, ytr = mnist_like(4, 40)
    bad("idx-truncated", idx(0x08, [4, 28, 28], xtr[:1000]), "truncated")
    bad("idx-4-billion", idx(0x08, [4000000000, 28, 28], xtr), "more than")
    bad("idx-4-billion-elements", idx(0x08, [65536, 65536], xtr), "need")
    bad("idx-bad-type", idx(0x0A, [4, 28, 28], xtr), "bad magic")
    bad("idx-float-labels", idx(0x0D, [4], b"\0" * 16), "integers")
    bad("idx-rank-5", idx(0x08, [1, 1, 1, 2, 2], b"\0" * 4), "dimensions")
    bad("npy-huge-header.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xfffffff0) + b"{" * 100, "header of")
    bad("npy-big-endian.npy", npy(">f4", [2, 2], b"") + b"\0" * 16, "big-endian")
    bad("npy-fortran.npy", npy("<f4", [2, 2], b"").replace(b"False", b"True "), "Fortran")
    bad("npy-complex.npy", npy("<c8", [2], b"") + b"\0" * 16, "not supported")
    bad("npy-object.npy", npy("|O", [2], b"") + b"\0" * 16, "not supported")
    bad("npy-4-billion.npy", npy("|u1", [4000000000, 28, 28], b"") + b"\0" * 16, "more than")
    bad("npy-truncated.npy", npy("|u1", [4, 28, 28], b"") + xtr[:100], "promises")
    bad("npy-no-shape.npy", npy("|u1", [4], b"").replace(b"'shape'", b"'shoop'") + b"\0" * 4, "bad header")
    # Zip bombs: 200 MB of zeros (200 kB deflated) under a header for 4
    # bytes; and a small member whose header claims 4e9 x 784 bytes.
    hdr = npy("|u1", [4], b"")
    zeros = b"\0" * (1 << 20)
    with zipfile.ZipFile(path("bad", "npz-bomb.npz"), "w", zipfile.ZIP_DEFLATED) as zf:
        zi = zipfile.ZipInfo("x_train.npy", date_time=(1980, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(zi, "w", force_zip64=True) as w:
            w.write(hdr)
            for _ in range(200):
                w.write(zeros)
    BAD["npz-bomb.npz"] = "refused before inflating"
    npz(path("bad", "npz-bomb-header.npz"), [("x_train", npy("|u1", [4000000000, 784], b"") + b"\0" * 64)])
    BAD["npz-bomb-header.npz"] = "more than"
    npz(path("bad", "npz-no-x.npz"), [("images", npy("|u1", [4, 784], b"") + b"\0" * (4 * 784))])
    BAD["npz-no-x.npz"] = "no array x_train"
    bad("npz-not-zip.npz", b"PK\3\4" + b"\0" * 40, "zip")
    bad("cifar10-short/data_batch_1.bin", cifar(2, 50, lambda r: [1])[:-5], "whole number")
    bad("cifar10-label/data_batch_1.bin", cifar(2, 51, lambda r: [10]), "out of range")
    bad("cifar100-label/train.bin", cifar(2, 52, lambda r: [3, 100]), "out of range")
    # PNG folders.
    good = png(2, 2, 0, 8, [b"\1\2", b"\3\4"])
    write(path("bad", "png-absurd", "train", "a", "0.png"), png(1000000, 1000000, 2, 8, [b"\0" * 3]))
    BAD["png-absurd"] = "not a readable PNG"
    write(path("bad", "png-empty-class", "train", "a", "0.png"), good)
    os.makedirs(path("bad", "png-empty-class", "train", "b", "x"), exist_ok=True)
    BAD["png-empty-class"] = "has no images (.png, .jpg, .jpeg)"
    write(path("bad", "png-loop", "train", "a", "0.png"), good)
    loop = path("bad", "png-loop", "train", "loop")
    if not os.path.islink(loop):
        os.symlink("loop", loop)
    BAD["png-loop"] = "cannot follow"
    write(path("bad", "png-size", "train", "a", "0.png"), good)
    write(path("bad", "png-size", "train", "b", "0.png"), png(3, 2, 0, 8, [b"\1\2\3", b"\3\4\5"]))
    BAD["png-size"] = "the first image is 2x2"
    write(path("bad", "png-truncated", "train", "a", "0.png"), good[:40])
    BAD["png-truncated"] = "not a readable PNG"
    for split, classes in (("train", "ab"), ("test", "a")):
        for c in classes:
            write(path("bad", "png-test-classes", split, c, "0.png"), good)
    BAD["png-test-classes"] = "no class folder 'b', which"
    # As many class folders, other names (the case differs): labels would
    # silently differ.
    for split, classes in (("train", "ab"), ("test", "Ab")):
        for c in classes:
            write(path("bad", "png-class-names", split, c, "0.png"), good)
    BAD["png-class-names"] = "class folder 'A' is not in"
    write(path("bad", "png-no-classes", "train", "0.png"), good)
    BAD["png-no-classes"] = "no class folders"
    write(path("bad", "unknown.dat"), b"hello world", False)
    BAD["unknown.dat"] = "unknown format"
    with open(path("bad", "EXPECTED"), "w") as f:
        for k in sorted(BAD):
            f.write(f"{k}\t{BAD[k]}\n")


def gen_big():
    # Speed matters here, not variety: repeat a 1 MB block.
    r = Lcg(60)
    block = r.bytes(1 << 20)
    def body(n):
        return (block * (n // len(block) + 1))[:n]
    write(path("big", "mnist", "train-images-idx3-ubyte"), idx(0x08, [60000, 28, 28], body(60000 * 784)))
    write(path("big", "mnist", "train-labels-idx1-ubyte"), idx(0x08, [60000], bytes(v % 10 for v in body(60000))))
    rec = bytearray(body(50000 * 3073))
    for i in range(50000):
        rec[i * 3073] %= 10
    for i in range(5):
        write(path("big", "cifar10", f"data_batch_{i + 1}.bin"), bytes(rec[i * 10000 * 3073:(i + 1) * 10000 * 3073]))


# ------------------------------------------------------------ pairs
def gen_pairs():
    # clean: u8 images; noisy: clean / 255 plus a deterministic offset in
    # [-0.25, 0.25) per pixel, as float32 (exact in both writers).
    i64 = lambda ys: b"".join(struct.pack("<q", v) for v in ys)
    for split, n, seed in (("train", 100, 11), ("test", 30, 12), ("val", 20, 13)):
        r = Lcg(seed)
        clean = r.bytes(n * 64)
        noisy = [c / 255.0 + (r.byte() - 128) / 512.0 for c in clean]
        f32 = b"".join(struct.pack("<f", v) for v in noisy)
        write(path("pairs", f"clean_{split}.npy"), npy("|u1", [n, 1, 8, 8], b"") + clean)
        write(path("pairs", f"noisy_{split}.npy"), npy("<f4", [n, 1, 8, 8], b"") + f32)
        if split == "test":
            write(path("pairs", "noisy_test.idx"), idx(0x0D, [n, 1, 8, 8], b"".join(struct.pack(">f", v) for v in struct.unpack(f"<{n * 64}f", f32))))
        if split != "val":
            write(path("pairs", f"labels_{split}.npy"), npy("<i8", [n], b"") + i64([(i * 5) % 3 for i in range(n)]))
    clean = Lcg(11).bytes(100 * 64)
    write(path("pairs", "clean_short.npy"), npy("|u1", [99, 1, 8, 8], b"") + clean[:99 * 64])
    write(path("pairs", "clean_2ch.npy"), npy("|u1", [100, 2, 8, 8], b"") + clean + clean)


# ------------------------------------------------------------ inputs
def gen_inputs():
    # Three tensor inputs (tests/data/inputs3.net): a (f32), b (u8) and the
    # target t (u8), each [n, 1, 8, 8], as .npy files, as one .npz with
    # the naming convention (x_train for a, b_train, t_train, x_test, ...)
    # and as a folder of .npy (x_train.npy, b_train.npy, ...); vec_train.npy
    # is a's values as [n, 64] (not an image: --augment refuses it).
    f32 = lambda vs: b"".join(struct.pack("<f", v) for v in vs)
    members = []
    for split, n, seed in (("train", 60, 21), ("test", 20, 22), ("val", 10, 23)):
        r = Lcg(seed)
        a = [(r.byte() - 100) / 64.0 for _ in range(n * 64)]
        b, t = r.bytes(n * 64), r.bytes(n * 64)
        arrays = {"a": npy("<f4", [n, 1, 8, 8], b"") + f32(a), "b": npy("|u1", [n, 1, 8, 8], b"") + b,
                  "t": npy("|u1", [n, 1, 8, 8], b"") + t}
        for name, data in arrays.items():
            write(path("inputs", f"{name}_{split}.npy"), data)
        if split != "val":
            members += [(f"x_{split}", arrays["a"]), (f"b_{split}", arrays["b"]), (f"t_{split}", arrays["t"])]
            for name, data in (("x", arrays["a"]), ("b", arrays["b"]), ("t", arrays["t"])):
                write(path("inputs", "npy", f"{name}_{split}.npy"), data)
        if split == "train":
            write(path("inputs", "vec_train.npy"), npy("<f4", [n, 64], b"") + f32(a))
            write(path("inputs", "t_short.npy"), npy("|u1", [n - 1, 1, 8, 8], b"") + t[:(n - 1) * 64])
    npz(path("inputs", "data.npz"), members)


# ------------------------------------------------------------ many classes
def gen_classes():
    # Values (byte - 128) / 64: exact in float32.  Labels spread over
    # 0..999 (most above a byte's 255), the largest one present.
    i64 = lambda ys: b"".join(struct.pack("<q", v) for v in ys)
    for split, n, seed, mul in (("train", 300, 70, 337), ("test", 100, 71, 611)):
        x = b"".join(struct.pack("<f", (v - 128) / 64.0) for v in Lcg(seed).bytes(n * 16))
        ys = [(i * mul + 5) % 1000 for i in range(n)]
        ys[-1] = 999
        write(path("many-classes", f"x_{split}.npy"), npy("<f4", [n, 16], b"") + x)
        if split == "train":
            write(path("many-classes", "y_train.npy"), npy("<i8", [n], b"") + i64(ys))
            write(path("many-classes", "x_train.idx"), idx(0x0D, [n, 16], b"".join(struct.pack(">f", v) for v in struct.unpack(f"<{n * 16}f", x))))
            write(path("many-classes", "y_train-i32.idx"), idx(0x0C, [n], b"".join(struct.pack(">i", v) for v in ys)))
            write(path("many-classes", "y_train-i16.idx"), idx(0x0B, [n], b"".join(struct.pack(">h", v) for v in ys)))
            write(path("many-classes", "y_1000.npy"), npy("<i8", [n], b"") + i64([1000 if i == 17 else v for i, v in enumerate(ys)]))
            write(path("many-classes", "y_neg.npy"), npy("<i8", [n], b"") + i64([-1 if i == 5 else v for i, v in enumerate(ys)]))
        else:
            write(path("many-classes", "y_test.npy"), npy("<i4", [n], b"") + b"".join(struct.pack("<i", v) for v in ys))
    # MNIST's file names with i16 labels below 300 (60 + 20 examples).
    for split, n, seed in (("train", 60, 73), ("t10k", 20, 74)):
        ys = [(i * 113 + 7) % 300 for i in range(n)]
        write(path("idx-wide", f"{split}-images-idx3-ubyte"), idx(0x08, [n, 28, 28], Lcg(seed).bytes(n * 784)))
        gz = split == "train"
        write(path("idx-wide", f"{split}-labels-idx1-ubyte" + (".gz" if gz else "")),
              idx(0x0B, [n], b"".join(struct.pack(">h", v) for v in ys)), gz=gz)
    # An image folder of 300 classes, one grey 4x4 image each (16 values:
    # many_classes reads them flattened), labels 0..299 by folder name.
    r = Lcg(72)
    for c in range(300):
        write(path("folder-300", "train", f"c{c:03d}", "0.png"), png(4, 4, 0, 8, [r.bytes(4) for _ in range(4)]))


gen_mnist()
gen_cifar()
gen_pairs()
gen_inputs()
gen_classes()
gen_folder()
gen_bad()
if BIG:
    gen_big()
