#!/usr/bin/env python3
"""Writes the seed corpora of the data-reader fuzz targets
(corpus/data_{idx,npy,npz,cifar,png}): small valid files of every element
type and layout, plus the hostile files of tests/data/make_datasets.py.
Run once from the repository root; its output is committed.
   /usr/bin/python3 tests/fuzz/make_data_seeds.py
"""
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

C = "tests/fuzz/corpus"
D = tempfile.mkdtemp()
subprocess.run([sys.executable, "tests/data/make_datasets.py", D], check=True)
for t in ("idx", "npy", "npz", "cifar", "png"):
    os.makedirs(f"{C}/data_{t}", exist_ok=True)


def cp(src, dst):
    shutil.copyfile(os.path.join(D, src), f"{C}/{dst}")


# IDX: every type, 2 examples of 3x2, one gzip; labels; hostile headers.
for code, fmt in ((8, ">B"), (9, ">b"), (0xB, ">h"), (0xC, ">i"), (0xD, ">f"), (0xE, ">d")):
    body = b"".join(struct.pack(fmt, v) for v in range(12))
    open(f"{C}/data_idx/images-type-{code:02x}", "wb").write(struct.pack(">BBBBIII", 0, 0, code, 3, 2, 3, 2) + body)
with gzip.GzipFile(f"{C}/data_idx/images-type-0d.gz", "wb", mtime=0) as g:
    g.write(open(f"{C}/data_idx/images-type-0d", "rb").read())
cp("idx/t10k-labels-idx1-ubyte", "data_idx/labels-u8")
cp("idx/train-labels-idx1-ubyte.gz", "data_idx/labels-u8.gz")
cp("idx-types/y-i32.idx", "data_idx/labels-i32")
for f in ("idx-truncated", "idx-4-billion", "idx-4-billion-elements", "idx-bad-type", "idx-float-labels", "idx-rank-5"):
    cp(f"bad/{f}", f"data_idx/{f}")


def npy(descr, shape, body):
    sh = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    h = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {sh}, }}"
    h = h + " " * (64 - (10 + len(h) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + body


# .npy
for d, f in (("|u1", "B"), ("<f4", "<f"), ("<f8", "<d"), ("<i2", "<h")):
    open(f"{C}/data_npy/images-{d[1:]}.npy", "wb").write(npy(d, [2, 3, 2], b"".join(struct.pack(f, v) for v in range(12))))
cp("npy/y_train.npy", "data_npy/labels-i8-v2.npy")
cp("npy/y_test.npy", "data_npy/labels-i4.npy")
for f in ("npy-huge-header.npy", "npy-big-endian.npy", "npy-fortran.npy", "npy-complex.npy", "npy-object.npy",
          "npy-4-billion.npy", "npy-truncated.npy", "npy-no-shape.npy"):
    cp(f"bad/{f}", f"data_npy/{f}")

# .npz
with zipfile.ZipFile(f"{C}/data_npz/small-deflated.npz", "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in (("x_train", npy("|u1", [2, 3], bytes(range(6)))), ("y_train", npy("<i8", [2], struct.pack("<qq", 1, 0))),
                       ("x_test", npy("<f4", [1, 3], struct.pack("<fff", 0.5, 1, 2))), ("y_test", npy("<i8", [1], struct.pack("<q", 1)))):
        zi = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, data)
cp("folder.npz", "data_npz/folder.npz")
for f in ("npz-bomb-header.npz", "npz-no-x.npz", "npz-not-zip.npz"):
    cp(f"bad/{f}", f"data_npz/{f}")

# CIFAR: 2 records of each layout, a short file, a bad label.
rec = lambda labels, i: bytes(labels) + bytes((i * 7 + j) % 256 for j in range(3072))
open(f"{C}/data_cifar/cifar10-2", "wb").write(b"".join(rec([i], i) for i in range(2)))
open(f"{C}/data_cifar/cifar100-2", "wb").write(b"".join(rec([i, 50 + i], i) for i in range(2)))
open(f"{C}/data_cifar/short", "wb").write(b"\1" * 3000)
open(f"{C}/data_cifar/label-200", "wb").write(bytes([200]) + b"\0" * 3072)

# PNG
cp("folder/train/cat/000.png", "data_png/rgb8.png")
cp("folder/train/cat/001.png", "data_png/rgb16.png")
cp("folder/train/cat/002.png", "data_png/rgba.png")
cp("folder-grey/train/0/0.png", "data_png/grey4x4.png")
cp("bad/png-absurd/train/a/0.png", "data_png/absurd.png")
cp("bad/png-truncated/train/a/0.png", "data_png/truncated.png")
shutil.rmtree(D)
