#!/usr/bin/env python3
"""End-to-end run of one experiment program on the committed MNIST subset.

    run_experiment.py KIND BINDIR OUTDIR PNG_CHECK

Runs build/bin/experiment-KIND for a few epochs with --json, checks its
metrics against thresholds an untrained or broken model cannot reach, and
decodes its figures with png_check (libpng): expected dimensions, and the
decoded parts not blank.  The figure geometry mirrors png_grid.h: tiles of
28 x 3 = 84 pixels, a margin of 4 around each, so a grid of c columns is
4 + 88 c pixels wide.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import zlib

TILE, STEP = 84, 88


def grid(n):
    return 4 + STEP * n


def row_region(row, cols, first_col=0):
    """The tiles of one grid row (from first_col on) as x y w h."""
    return [4 + STEP * first_col, 4 + STEP * row, STEP * (cols - first_col) - 4, TILE]


def run(cmd):
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    print(p.stdout, end="")
    if p.returncode != 0:
        sys.exit(f"FAILED: exit status {p.returncode}")
    last = p.stdout.strip().splitlines()[-1]
    return json.loads(last)


def check(cond, what):
    print(("ok      " if cond else "FAILED  ") + what)
    return cond


def png(png_check, path, w, h, regions=()):
    args = [png_check, path, str(w), str(h)]
    for r in regions:
        args += [str(v) for v in r]
    p = subprocess.run(args, stdout=subprocess.PIPE, text=True)
    print(p.stdout, end="")
    return check(p.returncode == 0, f"figure {path}")


def png_grey(path):
    """An 8-bit grey, non-interlaced PNG (what png_grid.c writes) as a list
    of rows of ints: the standard's five row filters undone."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8:10] == b"\x08\x00" and body[12] == 0, f"{path}: not 8-bit grey"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, rows, prev = zlib.decompress(idat), [], [0] * w
    for y in range(h):
        f, line = raw[y * (w + 1)], raw[y * (w + 1) + 1:(y + 1) * (w + 1)]
        row = []
        for x in range(w):
            a, b = row[x - 1] if x else 0, prev[x]
            c = prev[x - 1] if x else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            row.append((line[x] + pred) & 255)
        rows.append(row)
        prev = row
    return rows


def decode_samples_checks(bindir, out, png_check, samples):
    """decode-samples on the run's checkpoints: with its defaults it draws
    the samples figure's codes, so its grids are samples.png's halves pixel
    for pixel; a partial last row; bad uses."""
    ok = True
    fig = png_grey(samples)
    for i, ckpt in enumerate(("autoencoder.ckpt", "vae.ckpt")):
        path = os.path.join(out, f"decode-samples-{i}.png")
        p = subprocess.run([f"{bindir}/decode-samples", os.path.join(out, ckpt), "--threads", "2",
                            "-o", path], stdout=subprocess.PIPE, text=True)
        print(p.stdout, end="")
        ok &= check(p.returncode == 0, f"decode-samples {ckpt}")
        if p.returncode == 0:
            mine = png_grey(path)
            x0 = 0 if i == 0 else len(fig[0]) - len(mine[0])
            half = [r[x0:x0 + len(mine[0])] for r in fig]
            ok &= check(mine == half, f"decode-samples {ckpt} == samples.png's "
                        f"{'left' if i == 0 else 'right'} half, pixel for pixel")
    path = os.path.join(out, "decode-samples-20.png")
    p = subprocess.run([f"{bindir}/decode-samples", os.path.join(out, "vae.ckpt"), "-n", "20",
                        "--seed", "5", "-o", path], stdout=subprocess.PIPE, text=True)
    ok &= check(p.returncode == 0, "decode-samples -n 20")
    ok &= png(png_check, path, grid(8), grid(3), [row_region(0, 8), row_region(2, 4)])
    for args, status in (([], 2), (["-n", "0", "x.ckpt"], 2),
                         ([os.path.join(out, "no-such.ckpt")], 1),
                         ([os.path.join(out, "vae-codes.bin")], 1)):
        p = subprocess.run([f"{bindir}/decode-samples"] + args, capture_output=True, text=True)
        ok &= check(p.returncode == status and p.stderr != "",
                    f"decode-samples {' '.join(args)}: exit {p.returncode} (want {status}), "
                    f"{p.stderr.strip().splitlines()[0] if p.stderr else 'no message'}")
    return ok


def main():
    kind, bindir, out, png_check = sys.argv[1:5]
    os.makedirs(out, exist_ok=True)
    common = ["--out", out, "--threads", "2", "--quiet", "--json", "--seed", "1"]
    ok = True
    if kind == "autoencoder":
        r = run([f"{bindir}/experiment-autoencoder", "--epochs", "6", "--batch", "64"] + common)
        ok &= check(r["test_mse"] < 0.04, f"test MSE {r['test_mse']:.5f} < 0.04 "
                    "(the mean image scores ~0.067)")
        ok &= check(r["epochs"] == 6, "6 epochs run")
        ok &= check(os.path.getsize(r["codes"]) == 24 + 2000 * (4 + 4 * 9),
                    "codes file: header + 2000 rows of label + 9 floats")
        ok &= png(png_check, r["figure"], grid(10), grid(6),
                  [row_region(1, 10), row_region(3, 10), row_region(5, 10)])
        # Mistyped options, the experiment's own and the trainer's: exit 2
        # and the nearest name.  --help shows the experiment's defaults.
        for typo, want in (("--ot", "--out"), ("--epoch", "--epochs")):
            p = subprocess.run([f"{bindir}/experiment-autoencoder", typo, "1"], capture_output=True,
                               text=True)
            ok &= check(p.returncode == 2 and f"did you mean '{want}'" in p.stderr,
                        f"{typo}: exit 2, suggests {want} ({p.stderr.strip()[:80]})")
        p = subprocess.run([f"{bindir}/experiment-autoencoder", "--help"], capture_output=True, text=True)
        listed = re.search(r"--epochs N +epochs to train \[20\]", p.stdout) is not None
        ok &= check(p.returncode == 0 and listed,
                    "--help lists the trainer's --epochs with the experiment's default 20")
    elif kind == "denoiser":
        r = run([f"{bindir}/experiment-denoiser", "--epochs", "8", "--batch", "64"] + common)
        ok &= check(r["test_loss"] < 0.055, f"test loss {r['test_loss']:.5f} < 0.055 "
                    "(the mean image scores ~0.067)")
        ok &= check(r["noisy_input_mse"] > 0.2,
                    f"the noise is the report's (noisy input MSE {r['noisy_input_mse']:.3f} > 0.2)")
        ok &= png(png_check, r["figure"], grid(10), grid(6),
                  [row_region(1, 10), row_region(2, 10), row_region(5, 10)])
        # Reproducible: resuming the finished run (no epoch left) evaluates
        # the same parameters with the same fixed-seed noise again.
        with open(r["figure"], "rb") as f:
            first = f.read()
        r2 = run([f"{bindir}/experiment-denoiser", "--epochs", "8", "--batch", "64",
                  "--resume", r["checkpoint"]] + common)
        with open(r2["figure"], "rb") as f:
            ok &= check(f.read() == first, "the figure is byte-identical when evaluated again")
        ok &= check(r2["test_loss"] == r["test_loss"],
                    f"the test loss is the same when evaluated again ({r2['test_loss']:.9g})")
    elif kind == "finetune":
        r = run([f"{bindir}/experiment-finetune", "--epochs", "30", "--patience", "3"] + common)
        ok &= check(r["test_accuracy"] > 0.8, f"test accuracy {r['test_accuracy']:.4f} > 0.8")
        ok &= check(r["encoder_unchanged"] == 1, "the program's own check: encoder unchanged")
        ok &= check(1 <= r["best_epoch"] <= r["stopped_epoch"] <= 30,
                    f"stopped after epoch {r['stopped_epoch']}, best {r['best_epoch']}")
        ok &= png(png_check, r["figure"], grid(11), grid(11))
        p = subprocess.run([f"{bindir}/test_frozen", r["encoder"], r["checkpoint"]],
                           stdout=subprocess.PIPE, text=True)
        print(p.stdout, end="")
        ok &= check(p.returncode == 0, "encoder bit-identical after training (test_frozen)")
    elif kind == "vae":
        r = run([f"{bindir}/experiment-vae", "--epochs", "6", "--batch", "64"] + common)
        ok &= check(r["test_mse"] < 0.05, f"test MSE {r['test_mse']:.5f} < 0.05")
        ok &= check(r["test_loss"] < 0.06 and r["test_kl"] > 0,
                    f"test loss {r['test_loss']:.5f} < 0.06, KL {r['test_kl']:.2f} > 0")
        ok &= check(r["autoencoder_samples"] == 1, "samples of both models")
        ok &= check(r["traversal_index"] >= 0, "a test 6 was traversed")
        ok &= png(png_check, r["traversal"], grid(6), grid(2),
                  [row_region(0, 6, 1), row_region(1, 6)])
        # Figure 4's second panel: one row per latent component (9), the 6
        # then 11 steps over the component's test-set spread.
        ok &= check(r["z0_test_sd"] > 0, f"z0's spread on the test set {r['z0_test_sd']:.3f} > 0")
        ok &= png(png_check, r["traversal_spread"], grid(12), grid(9),
                  [row_region(0, 12, 1), row_region(8, 12, 1)])
        ok &= png(png_check, r["samples"], 2 * grid(8) + 24, grid(8),
                  [[0, 0, grid(8), grid(8)], [grid(8) + 24, 0, grid(8), grid(8)]])
        ok &= decode_samples_checks(bindir, out, png_check, r["samples"])
    elif kind == "vae-lambda":
        # Another λ than the compiled one: trained by a netc-variant trainer,
        # built afresh here.
        shutil.rmtree(os.path.join(out, "vae-lambda-1e-2"), ignore_errors=True)
        r = run([f"{bindir}/experiment-vae", "-D", "lambda=1e-2", "--epochs", "1"] + common)
        ok &= check(abs(r["lambda"] - 1e-2) < 1e-12, "lambda 1e-2 used")
        ok &= check(abs(r["test_loss"] - (r["test_mse"] + 1e-2 * r["test_kl"])) < 1e-6,
                    "test loss = MSE + lambda KL")
        ok &= check(r["epochs"] == 1, "the variant trained 1 epoch")
        ok &= check(os.path.exists(os.path.join(out, "vae-lambda-1e-2", "train")),
                    "the variant trainer was built")
    else:
        sys.exit(f"unknown experiment {kind}")
    print("ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
