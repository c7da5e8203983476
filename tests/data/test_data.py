#!/usr/bin/env python3
"""The data readers (runtime/data) end to end through netc-data, on the
data sets tests/data/make_datasets.py synthesises.

usage: test_data.py CHECK --netc-data BIN --src ROOT

CHECK is one of
  formats   every format loads with the expected counts, shapes and
            classes; the same data in different formats (IDX raw and gzip,
            .npy, .npz; a PNG folder and an .npz of its pixels; IDX i8 and
            i16) gives bit-identical floats and labels (equal checksums);
            a JPEG folder (baseline, progressive, PNGs among them, a .jpg
            that is a PNG) == the .npy of its decoded pixels; --resize
  hostile   every file in bad/ (truncated, huge header, wrong dtype,
            big-endian, Fortran order, 4-billion-element shapes, zip bombs,
            an absurd PNG, an empty class folder, a symlink loop; JPEGs
            truncated, 65535x65535, 5000 wide, CMYK, not an image, two
            sizes without --resize, from make_jpegs)
            ends with exit status 1 and an error naming the file and the
            reason (bad/EXPECTED), under a 1 GB address-space limit: never
            a crash, a hang or a huge allocation
  options   the trainers' data options: --augment (1 thread == 2, flip
            changes training, bad specs), --normalize (auto, saved in the
            checkpoint and used by --epochs 0 --load and --resume, a
            different one refused), --val-count/--val-fraction/--val-images,
            data without a test set, an image folder's val/; a folder of
            10,000 PNGs shows a progress count on a terminal only
  train     a generated trainer (--trainer) trains one epoch on the same
            data as IDX files (the MNIST path), .npz, .npy (by --data
            and by --train-images ... --test-labels), and `netc
            run` (--netc) on the .npz: the JSON results (losses, accuracy)
            are equal; a grey PNG folder trains as its .npz twin; CIFAR data is refused
            with the reason until models declare their inputs; cifar_small
            trains equally by its generated trainer and by netc run, also
            with --augment crop=4,flip --normalize auto --val-count 15;
            rgb8_small on the RGB PNG folder (8-bit, 16-bit, RGBA files)
            and on its .npz twin: equal results bit for bit, and generated
            == netc run to float rounding, with and without --augment
            crop=2,flip --normalize auto; rgb8_small on the JPEG folder ==
            on its .npy twin, and on a folder of mixed sizes with --resize
            8x8 == --resize auto, generated == netc run; --predict-input of
            a mixed-size folder with --resize auto
  pairs     models with a second tensor input fed by --train-targets
            (pairs/): pairs_small (noisy -> clean) and pairs_labels (a
            target and a label) train one epoch by their generated
            trainers and by `netc run` with equal results (to float
            rounding), 1 thread == 2 bit for bit, test inputs as IDX ==
            as .npy, --val-images/--val-targets and --val-count carry the
            targets, --augment moves them with the inputs; missing
            targets, counts or shapes that do not match and labels the
            model needs but the data lacks are errors naming the file or
            option
  inputs    every tensor input fed by name (inputs/): inputs3 (a, b, t)
            by --train-input NAME=F, by FILE.npz:ARRAY, by --data's .npz
            (x_train, b_train, t_train, ...) and folder of .npy, and with
            --train-targets for b: equal results bit for bit; generated
            trainer == netc run, 1 thread == 2; --predict-input NAME=F ==
            --predict over the test split; aug_pair fed the same images as
            input and target keeps a loss of exactly 0 under --augment
            crop=2,flip (the target moves with the input), and a vector
            target is refused; --predict-input reads IDX, .npy,
            FILE.npz:ARRAY, a CIFAR batch and a PNG folder, each equal to
            --predict over the same examples; every mistake (a missing
            input, an unknown name, a missing array, a file given twice)
            is one error naming the input, option or array
  classes   many_classes (label(1000)) on many-classes/ (labels up to
            999): the labels as .npy int64 == IDX i32 == IDX i16; one epoch
            by its generated trainer (1 thread == 2) and by `netc run`
            (equal to float rounding), also on a PNG folder of 300 classes;
            MNIST's file names with i16 labels below 300 train a
            label(300) model and are refused by the 10-class classifier;
            a label of 1000 and a label of -1 refused naming the file and
            index; --predict writes the labels
            and predicted classes above 255 whole (int64 .npy and CSV),
            predicted the argmax of the exported logits
"""
import json
import argparse
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("check")
ap.add_argument("--netc-data", required=True)
ap.add_argument("--src", required=True)
ap.add_argument("--sanitized", action="store_true")
ap.add_argument("--trainer")
ap.add_argument("--netc")
ap.add_argument("--cifar-trainer")
ap.add_argument("--resnet-trainer")
ap.add_argument("--rgb-trainer")
ap.add_argument("--pairs-trainer")
ap.add_argument("--pairs-labels-trainer")
ap.add_argument("--inputs3-trainer")
ap.add_argument("--aug-pair-trainer")
ap.add_argument("--classes-trainer")
ap.add_argument("--make-jpegs")
A = ap.parse_args()

tmp = tempfile.mkdtemp(prefix="netc-data-")
subprocess.run([sys.executable, os.path.join(A.src, "tests/data/make_datasets.py"), tmp], check=True)
if A.make_jpegs:
    subprocess.run([A.make_jpegs, tmp], check=True)
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    failures += not cond


def limit():
    if not A.sanitized:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run(*args):
    return subprocess.run([A.netc_data, *args], capture_output=True, text=True, timeout=60,
                          preexec_fn=limit)


def info(*args):
    """{split: (n, shape, classes, checksum)} or None."""
    r = run(*args)
    if r.returncode:
        print(r.stderr)
        return None
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(\w+): (\d+) x \[([\d, ]*)\], (\d+) classes, checksum (\w+)", line)
        if m:
            out[m[1]] = (int(m[2]), m[3], int(m[4]), m[5])
    return out


def train(cmd, *args):
    """(exit status, JSON without timings, stderr) of a trainer (cmd: its
    argument list) run with --json."""
    r = subprocess.run([*cmd, "--json", "--quiet", *args], capture_output=True, text=True, timeout=300)
    j = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
    return r.returncode, {k: v for k, v in j.items() if k not in ("seconds", "train_images_per_second")}, r.stderr


def close(a, b):
    """Largest relative difference of the losses two runs report (inf when
    a run failed; a loss a run does not have, null, is skipped)."""
    keys = [k for k in ("train_loss", "val_loss", "test_loss") if k in b and b[k] is not None]
    if not a or not b or not keys:
        return float("inf")
    return max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-30) for k in keys)


def npy_load(path):
    """(dtype descr, shape, values) of a little-endian C-order .npy."""
    with open(path, "rb") as f:
        data = f.read()
    hl = struct.unpack("<H", data[8:10])[0] if data[6] == 1 else struct.unpack("<I", data[8:12])[0]
    start = 10 if data[6] == 1 else 12
    h = data[start:start + hl].decode()
    descr = re.search(r"'descr': '([^']+)'", h)[1]
    shape = tuple(int(v) for v in re.search(r"'shape': \(([^)]*)\)", h)[1].split(",") if v.strip())
    fmt = {"<i8": "q", "<i4": "i", "<f4": "f"}[descr]
    n = 1
    for d in shape:
        n *= d
    return descr, shape, struct.unpack(f"<{n}{fmt}", data[start + hl:start + hl + n * struct.calcsize(fmt)])


def P(*p):
    return os.path.join(tmp, *p)


if A.check == "formats":
    idx = info(P("idx"))
    check(idx and idx["train"][:3] == (200, "28, 28", 10) and idx["test"][:3] == (50, "28, 28", 10),
          "IDX folder (MNIST names, raw and gzip): 200 + 50 x 28x28, 10 classes")
    for name in ("npz/data.npz", "npy"):
        other = info(P(name))
        check(other == idx, f"{name}: the same data as the IDX files, bit for bit")
    f32 = info("--train-images", P("idx-types/x-f32.idx.gz"), "--train-labels", P("idx-types/y-i32.idx"))
    check(f32 and idx and f32["train"] == idx["train"], "IDX f32 (gzip) with i32 labels == u8 / 255")
    i16 = info("--train-images", P("idx-types/x-i16.idx"), "--train-labels", P("idx-types/y-i32.idx"))
    i8 = info("--train-images", P("idx-types/x-i8.idx"), "--train-labels", P("idx-types/y-i32.idx"))
    check(i16 and i8 and i16 == i8 and i16["train"][1] == "784", "IDX i16 == i8 (unscaled), rank 2")
    f64 = info("--train-images", P("idx-types/x-f64.idx"))
    check(f64 and f64["train"][:3] == (200, "1, 28, 28", 0), "IDX f64 of rank 4, no labels")
    c10 = info(P("cifar10"))
    check(c10 and c10["train"][:3] == (60, "3, 32, 32", 10) and c10["test"][0] == 20,
          "CIFAR-10: two batches concatenated + test_batch")
    one = info(P("cifar10/data_batch_1.bin"))
    check(one and one["train"][0] == 30, "CIFAR-10: a single batch file")
    fine = info(P("cifar100"))
    coarse = info(P("cifar100"), "--coarse")
    check(fine and fine["train"][:3] == (40, "3, 32, 32", 100), "CIFAR-100 fine labels: 100 classes")
    check(coarse and coarse["train"][2] == 20 and coarse["train"][3] != fine["train"][3],
          "CIFAR-100 --coarse: 20 classes, other labels")
    folder = info(P("folder"))
    check(folder and folder["train"][:3] == (12, "3, 8, 8", 3) and folder["test"][0] == 6,
          "PNG folder: 3 classes, RGB 8x8 (16-bit and RGBA among them)")
    check(folder and folder == info(P("folder.npz")), "PNG folder == .npz of its pixels, bit for bit")
    grey = info(P("folder-grey"))
    check(grey and grey["train"][:3] == (4, "1, 4, 4", 2) and "test" not in grey, "grey PNG folder: 1 channel, no test set")
    if A.make_jpegs:
        jpeg = info(P("jpeg"))
        check(jpeg and jpeg["train"][:3] == (12, "3, 8, 8", 3) and jpeg["test"][0] == 6,
              "JPEG folder: 3 classes, RGB 8x8 (.jpg .JPEG .jpeg, progressive, PNGs among them)")
        check(jpeg and jpeg == info(P("jpeg-npy")), "JPEG folder == .npy of its decoded pixels, bit for bit")
        grey = info(P("jpeg-grey"))
        check(grey and grey["train"][:3] == (4, "1, 4, 4", 2), "grey JPEG folder: 1 channel")
        sized = info(P("jpeg-sizes"), "--resize", "8x8")
        check(sized and sized["train"][:3] == (12, "3, 8, 8", 3) and sized["test"][:3] == (6, "3, 8, 8", 3),
              "mixed sizes with --resize 8x8: train and test [3, 8, 8]")
        r = run(P("jpeg-sizes"))
        check(r.returncode == 1 and "give --resize HxW" in r.stderr, f"mixed sizes without --resize: {r.stderr.strip()}")
        same = info(P("jpeg"), "--resize", "8x8")
        check(same and same == jpeg, "--resize to the images' own size changes nothing")
        r = run(P("idx"), "--resize", "8x8")
        check(r.returncode == 1 and "--resize applies to image folders" in r.stderr, f"--resize on IDX: {r.stderr.strip()}")
elif A.check == "hostile":
    for line in open(P("bad", "EXPECTED")):
        name, why = line.rstrip("\n").split("\t")
        if "labels" in name:
            r = run("--train-images", P("idx/train-images-idx3-ubyte"), "--train-labels", P("bad", name))
        else:
            r = run(P("bad", name))
        first = r.stderr.splitlines()[0] if r.stderr else ""
        # Without the address-space limit (the sanitizer build cannot run
        # under one), a 4 GB data set fits the budget and fails later, on
        # its truncated body: still exit 1, still the file named.
        if A.sanitized and why == "need":
            why = ""
        check(r.returncode == 1 and why in first and P("bad", name) in first,
              f"{name}: exit {r.returncode}, {first!r}")
elif A.check == "train":
    results = {}
    for name in ("idx", "npz/data.npz", "npy"):
        r = subprocess.run([A.trainer, "--data", P(name), "--epochs", "1", "--json", "--quiet", "--threads", "2"],
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"{name}: one epoch (exit {r.returncode}) {r.stderr.strip()[:200]}")
        if r.returncode == 0:
            j = json.loads(r.stdout.strip().splitlines()[-1])
            results[name] = {k: v for k, v in j.items() if k not in ("seconds", "train_images_per_second")}
    check(len(results) == 3 and results["idx"] == results["npz/data.npz"] == results["npy"],
          f"equal results in three formats: {results.get('idx')}")
    png = {}
    for name in ("digits-png", "digits-png.npz"):
        r = subprocess.run([A.trainer, "--data", P(name), "--epochs", "1", "--json", "--quiet", "--threads", "2"],
                           capture_output=True, text=True, timeout=300)
        j = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
        png[name] = {k: v for k, v in j.items() if k not in ("seconds", "train_images_per_second")}
    check(png["digits-png"] and png["digits-png"] == png["digits-png.npz"],
          f"PNG folder (grey 28x28) == its .npz twin: {png['digits-png']}")
    npy = [P("npy", f) for f in ("x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy")]
    r = subprocess.run([A.trainer, "--train-images", npy[0], "--train-labels", npy[1], "--test-images", npy[2],
                        "--test-labels", npy[3], "--epochs", "1", "--json", "--quiet", "--threads", "2"],
                       capture_output=True, text=True, timeout=300)
    j = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
    j = {k: v for k, v in j.items() if k not in ("seconds", "train_images_per_second")}
    check(r.returncode == 0 and j == results.get("idx"), f"--train-images ... --test-labels (.npy) == --data: {j}")
    r = subprocess.run([A.trainer, "--train-images", npy[0], "--epochs", "1", "--quiet"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 1 and "have no labels, and model classifier's loss reads one (--train-labels F)" in r.stderr,
          f"--train-images alone, for a model that reads labels: an error naming the option ({r.stderr.strip()[:100]})")
    if A.netc:
        r = subprocess.run([A.netc, "run", os.path.join(A.src, "models/classifier.net"), "--data", P("npz/data.npz"),
                            "--epochs", "1", "--json", "--quiet", "--threads", "2"], capture_output=True, text=True, timeout=300)
        j = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {}
        j = {k: v for k, v in j.items() if k not in ("seconds", "train_images_per_second")}
        check(r.returncode == 0 and j == results.get("idx"), f"netc run on the .npz == the trainer: {j}")
    r = subprocess.run([A.trainer, "--data", P("cifar10"), "--epochs", "1", "--quiet"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 1 and "examples are [3, 32, 32], model classifier expects [1, 28, 28]" in r.stderr,
          f"CIFAR refused by the MNIST classifier, with both shapes: {r.stderr.strip()[:160]}")
    # A model of 3x32x32 inputs trains on the CIFAR-10 set: its generated
    # trainer and netc run, whose losses agree to float rounding.
    for trainer, rel in ((A.cifar_trainer, "tests/data/cifar_small.net"), (A.resnet_trainer, "models/zoo/resnet8.net")):
        if not (trainer and A.netc):
            continue
        net = os.path.join(A.src, rel)
        got = []
        for cmd in ([trainer], [A.netc, "run", net]):
            r = subprocess.run(cmd + ["--data", P("cifar10"), "--epochs", "1", "--json", "--quiet", "--threads", "2"],
                               capture_output=True, text=True, timeout=300)
            got.append(json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {})
            check(r.returncode == 0 and "test_accuracy" in got[-1], f"{rel} on CIFAR-10 ({cmd[0]}): {got[-1]}")
        if got[0] and got[1]:
            worst = max(abs(got[0][k] - got[1][k]) / abs(got[1][k]) for k in ("train_loss", "val_loss", "test_loss"))
            check(worst < 1e-5, f"{rel}: generated trainer == netc run (losses within {worst:.1e})")
        if trainer != A.cifar_trainer:
            continue
        # The data options act in the driver, which both share: the same
        # normalised, augmented batches.
        extra = ["--augment", "crop=4,flip", "--normalize", "auto", "--val-count", "15"]
        got = []
        for cmd in ([trainer], [A.netc, "run", net]):
            r = subprocess.run(cmd + ["--data", P("cifar10"), "--epochs", "1", "--json", "--quiet", "--threads", "2"]
                               + extra, capture_output=True, text=True, timeout=300)
            got.append(json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {})
        if got[0] and got[1]:
            worst = max(abs(got[0][k] - got[1][k]) / abs(got[1][k]) for k in ("train_loss", "val_loss", "test_loss"))
            check(worst < 1e-5, f"{rel} {' '.join(extra)}: generated trainer == netc run (losses within {worst:.1e})")
        else:
            check(False, f"{rel} {' '.join(extra)}: {got}")
    # The RGB PNG folder and its .npz twin: the same training, bit for bit,
    # whichever the format and whichever the trainer.
    if A.rgb_trainer and A.netc:
        net = os.path.join(A.src, "tests/data/rgb8_small.net")

        def rgb(cmd, *args):
            """(JSON without timings, stderr) of one epoch at batch 4, 2 threads."""
            return train(cmd, "--epochs", "1", "--batch", "4", "--threads", "2", *args)[1:]

        for extra in ([], ["--augment", "crop=2,flip", "--normalize", "auto"]):
            got = {}
            for data in ("folder", "folder.npz"):
                for cmd in ([A.rgb_trainer], [A.netc, "run", net]):
                    got[(data, cmd[0])] = rgb(cmd, "--data", P(data), *extra)[0]
            gen, interp = got[("folder", A.rgb_trainer)], got[("folder", A.netc)]
            check(gen and gen == got[("folder.npz", A.rgb_trainer)] and interp == got[("folder.npz", A.netc)],
                  f"rgb8_small {' '.join(extra)}: PNG folder == its .npz, bit for bit: {gen}")
            worst = close(gen, interp)
            check(worst < 1e-5, f"rgb8_small {' '.join(extra)}: generated == netc run (losses within {worst:.1e})")
    # JPEG folders: as their .npy twin, and mixed sizes resized; the
    # generated trainer and netc run agree.
    if A.rgb_trainer and A.netc and A.make_jpegs:
        for gen_args, twin_args, what in ((["--data", P("jpeg")], ["--data", P("jpeg-npy")], "JPEG folder == its .npy"),
                                           (["--data", P("jpeg-sizes"), "--resize", "8x8"],
                                            ["--data", P("jpeg-sizes"), "--resize", "auto"],
                                            "mixed sizes --resize 8x8 == --resize auto")):
            gen, err = rgb([A.rgb_trainer], *gen_args)
            twin, _ = rgb([A.rgb_trainer], *twin_args)
            interp, _ = rgb([A.netc, "run", net], *gen_args)
            check(gen and gen == twin, f"rgb8_small: {what}, bit for bit: {gen} {err.strip()[:200]}")
            check(close(gen, interp) < 1e-5, f"rgb8_small on {' '.join(gen_args[1:])}: generated == netc run: {interp}")
        ck, out = os.path.join(tmp, "jpeg.ckpt"), os.path.join(tmp, "jpeg-predict")
        rgb([A.rgb_trainer], "--data", P("jpeg-sizes"), "--resize", "auto", "--save", ck)
        pred = ["--epochs", "0", "--load", ck, "--predict", out, "--predict-input", P("jpeg-sizes", "test")]
        r = subprocess.run([A.rgb_trainer, "--quiet", *pred, "--resize", "auto"], capture_output=True, text=True,
                           timeout=300)
        check(r.returncode == 0 and os.path.exists(os.path.join(out, "logits.npy")),
              f"--predict-input of mixed sizes with --resize auto: exit {r.returncode} {r.stderr.strip()[:200]}")
        r = subprocess.run([A.rgb_trainer, "--quiet", *pred], capture_output=True, text=True, timeout=300)
        check(r.returncode == 1 and "give --resize HxW" in r.stderr,
              f"--predict-input of mixed sizes without --resize: {r.stderr.strip()[:200]}")
        # One image file (PNG or JPEG, by its first bytes) is one example:
        # its logits are its row of the folder's, bit for bit.
        def npy_rows(path):
            """The .npy's float32 values as bytes: compared bit for bit."""
            values = npy_load(path)[2]
            return struct.pack(f"<{len(values)}f", *values)

        files = [os.path.join(c, f) for c in sorted(os.listdir(P("jpeg-sizes", "test")))
                 for f in sorted(os.listdir(P("jpeg-sizes", "test", c)))]
        folder = npy_rows(os.path.join(out, "logits.npy"))
        row = len(folder) // len(files)
        for k in (0, len(files) - 1):
            one = os.path.join(tmp, "jpeg-predict-one")
            r = subprocess.run([A.rgb_trainer, "--quiet", *pred[:-1], P("jpeg-sizes", "test", files[k]), "--resize",
                                "auto", "--predict", one], capture_output=True, text=True, timeout=300)
            got = npy_rows(os.path.join(one, "logits.npy")) if r.returncode == 0 else b""
            check(got == folder[k * row:(k + 1) * row],
                  f"--predict-input of one image ({files[k]}) == its row of the folder's: {r.stderr.strip()[:200]}")
        pred[-1] = P("jpeg-npy", "x_test.npy")
        r = subprocess.run([A.rgb_trainer, "--quiet", *pred, "--resize", "8x8"], capture_output=True, text=True,
                           timeout=300)
        check(r.returncode == 1 and "--resize applies to images" in r.stderr,
              f"--predict-input of an .npy with --resize: {r.stderr.strip()[:200]}")
        r = subprocess.run([A.rgb_trainer, "--resize", "8x"], capture_output=True, text=True, timeout=300)
        check(r.returncode == 2 and "is not HxW" in r.stderr, f"--resize 8x: usage error: {r.stderr.strip()[:200]}")
        r = subprocess.run([A.trainer, "--data", P("jpeg"), "--resize", "auto", "--epochs", "1"], capture_output=True,
                           text=True, timeout=300)
        check(r.returncode == 1 and "examples are [3, 28, 28], model classifier expects [1, 28, 28]" in r.stderr,
              f"--resize auto keeps the channels: {r.stderr.strip()[:200]}")
elif A.check == "options":
    # Augmentation: the same for any thread count; flipping changes training.
    cifar = ["--data", P("cifar10"), "--epochs", "1", "--batch", "16"]
    rc1, one, _ = train([A.cifar_trainer], *cifar, "--augment", "crop=4,flip", "--threads", "1")
    rc2, two, _ = train([A.cifar_trainer], *cifar, "--augment", "crop=4,flip", "--threads", "2")
    check(rc1 == rc2 == 0 and one == two, f"--augment crop=4,flip: 1 thread == 2 threads: {one}")
    _, plain, _ = train([A.cifar_trainer], *cifar, "--threads", "2")
    _, flip, _ = train([A.cifar_trainer], *cifar, "--augment", "flip", "--threads", "2")
    check(plain and flip and plain["train_loss"] != flip["train_loss"] and plain["val_loss"] != flip["val_loss"],
          f"--augment flip trains otherwise than no augmentation: {plain['train_loss']} vs {flip.get('train_loss')}")
    rc, _, err = train([A.trainer], "--data", P("idx"), "--epochs", "1", "--augment", "crop=28")
    check(rc == 1 and "padding must be below" in err, f"--augment crop=28 on 28x28: {err.strip()[:120]}")
    rc, _, err = train([A.trainer], "--data", P("idx"), "--epochs", "1", "--augment", "crop=x")
    check(rc == 2 and "is not a list of crop=PAD" in err, f"--augment crop=x: usage error: {err.strip()[:120]}")

    # Normalisation: saved in the checkpoint, used by --epochs 0 --load and
    # --resume; a different --normalize is refused.
    ck, ck1 = os.path.join(tmp, "norm.ckpt"), os.path.join(tmp, "norm1.ckpt")
    idx = ["--data", P("idx"), "--threads", "2"]
    rc, auto, err = train([A.trainer], *idx, "--epochs", "2", "--normalize", "auto", "--save", ck)
    _, none, _ = train([A.trainer], *idx, "--epochs", "2")
    check(rc == 0 and auto["val_loss"] != none["val_loss"], f"--normalize auto trains: {auto}")
    rc, ev, err = train([A.trainer], *idx, "--epochs", "0", "--load", ck)
    check(rc == 0 and ev["val_loss"] == auto["val_loss"] and ev["test_loss"] == auto["test_loss"],
          f"--epochs 0 --load uses the checkpoint's normalisation: {ev} {err.strip()[:200]}")
    r = subprocess.run([A.trainer, *idx, "--epochs", "0", "--load", ck, "--normalize", "auto"], capture_output=True,
                       text=True, timeout=300)
    m = re.search(r"--normalize auto: (\S+)", r.stderr)
    check(r.returncode == 0 and m, f"--normalize auto equal to the checkpoint's: accepted ({m and m[1]})")
    if m:
        rc, same, _ = train([A.trainer], *idx, "--epochs", "2", "--normalize", m[1])
        check(rc == 0 and same == auto, f"--normalize with auto's printed values == auto: {same}")
    rc, _, err = train([A.trainer], *idx, "--epochs", "0", "--load", ck, "--normalize", "0.5,0.5")
    check(rc == 1 and "the checkpoint was trained with --normalize" in err, f"a different --normalize: {err.strip()[:200]}")
    train([A.trainer], *idx, "--epochs", "1", "--normalize", "auto", "--save", ck1)
    rc, resumed, err = train([A.trainer], *idx, "--epochs", "2", "--resume", ck1)
    check(rc == 0 and resumed == auto, f"--resume keeps the normalisation: 1 + 1 epochs == 2: {resumed} {err[:200]}")
    rc, _, err = train([A.trainer], *idx, "--epochs", "1", "--normalize", "1,2,3:1,1,1")
    check(rc == 1 and "gives 3 channels, the examples have 1" in err, f"3 channels on grey data: {err.strip()[:120]}")

    # A folder of 10,000 images: a progress count on a terminal's stderr,
    # none into a pipe.
    one = open(P("folder-grey", "train", "0", "0.png"), "rb").read()
    for c in ("0", "1"):
        os.makedirs(P("many", "train", c))
        for i in range(5000):
            with open(P("many", "train", c, f"{i:04d}.png"), "wb") as f:
                f.write(one)
    r = run(P("many"))
    check(r.returncode == 0 and "images" not in r.stderr, f"10,000 PNGs into a pipe: no progress ({r.stderr[:80]!r})")
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([A.netc_data, P("many")], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    p.wait()
    os.close(master)
    check(p.returncode == 0 and b"10000/10000 images" in seen, f"10,000 PNGs on a terminal: a progress count ({seen[-60:]!r})")

    # Splits: a count, a share, files of their own; no test set.
    npy = [P("npy", f) for f in ("x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy")]
    rc, cnt, _ = train([A.trainer], *idx, "--epochs", "1", "--val-count", "20")
    rc2, frac, _ = train([A.trainer], *idx, "--epochs", "1", "--val-fraction", "0.1")
    check(rc == rc2 == 0 and cnt == frac,
          f"--val-count 20 == --val-fraction 0.1 on 200 examples: {cnt}")
    _, dflt, _ = train([A.trainer], *idx, "--epochs", "1")
    check(dflt == frac, "--val-fraction 0.1 is the default split")
    rc, own, err = train([A.trainer], *idx, "--epochs", "1", "--val-images", npy[2], "--val-labels", npy[3])
    check(rc == 0 and own["val_loss"] == own["test_loss"], f"--val-images/--val-labels (the test files): val == test: {own} {err[:200]}")
    rc, nt, err = train([A.trainer], "--train-images", npy[0], "--train-labels", npy[1], "--epochs", "1")
    check(rc == 0 and nt.get("test_set") == "none" and nt.get("test_loss") is None and "test_accuracy" not in nt,
          f"no test set: trains, the JSON says so: {nt} {err[:200]}")
    r = subprocess.run([A.trainer, "--train-images", npy[0], "--train-labels", npy[1], "--epochs", "1"],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0 and "no test set" in r.stdout, f"no test set: the summary line says so: {r.stdout.strip()}")
    # An image folder's val/ validates; all of train/ trains.
    shutil.copytree(P("digits-png"), P("digits-val"))
    shutil.copytree(P("digits-val", "test"), P("digits-val", "val"))
    shown = info(P("digits-val"))
    check(shown and shown["val"][:3] == (40, "1, 28, 28", 10) and shown["val"][3] == shown["test"][3],
          f"netc-data: a folder's val/ ({shown and shown.get('val')})")
    rc, fv, err = train([A.trainer], "--data", P("digits-val"), "--epochs", "1", "--threads", "2")
    check(rc == 0 and fv["val_loss"] == fv["test_loss"], f"--data with val/: val/ validates: {fv} {err[:200]}")
    rc, _, err = train([A.trainer], "--data", P("digits-val"), "--epochs", "1", "--val-count", "5")
    check(rc == 1 and "validation set of its own" in err, f"val/ and --val-count: {err.strip()[:160]}")
    rc, _, err = train([A.trainer], *idx, "--epochs", "1", "--val-count", "200")
    check(rc == 1 and "leaves nothing to train on" in err, f"--val-count of every example: {err.strip()[:120]}")
    rc, _, err = train([A.trainer], *idx, "--epochs", "1", "--val-count", "5", "--val-fraction", "0.2")
    check(rc == 2 and "exclude each other" in err, f"--val-count with --val-fraction: {err.strip()[:120]}")
elif A.check == "pairs":
    gen = [A.pairs_trainer]
    run_ = [A.netc, "run", os.path.join(A.src, "tests/data/pairs_small.net")]
    pairs = ["--train-images", P("pairs", "noisy_train.npy"), "--train-targets", P("pairs", "clean_train.npy"),
             "--test-images", P("pairs", "noisy_test.npy"), "--test-targets", P("pairs", "clean_test.npy"),
             "--epochs", "1", "--batch", "16"]
    rc1, one, err = train(gen, *pairs, "--threads", "1")
    rc2, two, _ = train(gen, *pairs, "--threads", "2")
    check(rc1 == 0 and "test_loss" in one and one == two, f"pairs_small: 1 thread == 2 threads: {one} {err[:200]}")
    rc, idx_test, _ = train(gen, *[P("pairs", "noisy_test.idx") if a == P("pairs", "noisy_test.npy") else a
                                   for a in pairs], "--threads", "2")
    check(rc == 0 and idx_test == two, f"pairs_small: test inputs as IDX == as .npy: {idx_test}")
    rc, interp, err = train(run_, *pairs, "--threads", "2")
    worst = close(two, interp)
    check(rc == 0 and worst < 1e-5, f"pairs_small: generated trainer == netc run (losses within {worst:.1e}) {err[:200]}")
    rc, r2, _ = train(run_, *pairs, "--threads", "1")
    check(rc == 0 and r2 == interp, f"pairs_small netc run: 1 thread == 2 threads: {r2}")
    val = ["--val-images", P("pairs", "noisy_val.npy"), "--val-targets", P("pairs", "clean_val.npy")]
    rc, g, err = train(gen, *pairs, *val, "--threads", "2")
    rc2, i, _ = train(run_, *pairs, *val, "--threads", "2")
    check(rc == rc2 == 0 and close(g, i) < 1e-5 and g["val_loss"] != two["val_loss"],
          f"pairs_small --val-images --val-targets: generated == netc run: {g} {err[:200]}")
    rc, g, err = train(gen, *pairs, "--val-count", "30", "--threads", "2")
    rc2, i, _ = train(run_, *pairs, "--val-count", "30", "--threads", "2")
    check(rc == rc2 == 0 and close(g, i) < 1e-5, f"pairs_small --val-count 30: generated == netc run: {g} {err[:200]}")
    # --augment moves the targets with the inputs: training changes, and
    # stays the same for any thread count (data_inputs: the target moves).
    aug = ["--augment", "crop=2,flip"]
    rc, g1, err = train(gen, *pairs, *aug, "--threads", "1")
    rc2, g2, _ = train(gen, *pairs, *aug, "--threads", "2")
    rc3, i2, _ = train(run_, *pairs, *aug, "--threads", "2")
    check(rc == rc2 == rc3 == 0 and g1 == g2 and g1["train_loss"] != two["train_loss"] and close(g2, i2) < 1e-5,
          f"pairs_small --augment crop=2,flip: 1 thread == 2, changes training, generated == netc run: {g1} {err[:200]}")
    # A target and a label together.
    lab = ["--train-images", P("pairs", "noisy_train.npy"), "--train-labels", P("pairs", "labels_train.npy"),
           "--train-targets", P("pairs", "clean_train.npy"), "--test-images", P("pairs", "noisy_test.npy"),
           "--test-labels", P("pairs", "labels_test.npy"), "--test-targets", P("pairs", "clean_test.npy"),
           "--epochs", "1", "--batch", "16", "--threads", "2"]
    rc, g, err = train([A.pairs_labels_trainer], *lab)
    rc2, i, _ = train([A.netc, "run", os.path.join(A.src, "tests/data/pairs_labels.net")], *lab)
    check(rc == rc2 == 0 and "test_accuracy" in g and close(g, i) < 1e-5 and abs(g["test_accuracy"] - i["test_accuracy"]) < 1e-9,
          f"pairs_labels (targets and labels): generated == netc run: {g} {i} {err[:200]}")
    # Mistakes: each one error naming the file or the option.
    drop = lambda args, *names: [a for k, a in enumerate(args) if a not in names and (k == 0 or args[k - 1] not in names)]
    bad = [
        (gen, drop(pairs, "--train-targets", "--test-targets"), 1,
         "model pairs_small has a second tensor input, y: give its data with --train-targets F"),
        (gen, drop(pairs, "--test-targets"), 1, "noisy_test.npy: the test set needs its targets too (--test-targets F)"),
        (gen, [P("pairs", "clean_short.npy") if a == P("pairs", "clean_train.npy") else a for a in pairs], 1,
         "clean_short.npy: 99 targets, but the training set has 100 examples"),
        (gen, drop([P("pairs", "clean_2ch.npy") if a == P("pairs", "clean_train.npy") else a for a in pairs],
                   "--test-images", "--test-targets"), 1,
         "clean_2ch.npy: examples are [2, 8, 8], model pairs_small's input y expects [1, 8, 8]"),
        (gen, [P("pairs", "clean_val.npy") if a == P("pairs", "clean_test.npy") else a for a in pairs], 1,
         "clean_val.npy: 20 targets, but the test set has 30 examples"),
        (gen, pairs + ["--val-targets", P("pairs", "clean_val.npy")], 2, "--val-targets needs --val-images"),
        (gen, pairs + ["--val-images", P("pairs", "noisy_val.npy")], 1,
         "noisy_val.npy: the validation set needs its targets too (--val-targets F)"),
        (gen, drop(pairs, "--test-images", "--test-targets"), 0, ""),
        (gen, drop(pairs, "--test-images") , 1, "clean_test.npy: --test-targets given, but the data has no test set"),
        # Hostile target files: the readers' own errors, under the same limits.
        (gen, [P("bad", "npy-truncated.npy") if a == P("pairs", "clean_train.npy") else a for a in pairs], 1,
         "npy-truncated.npy: "),
        (gen, [P("bad", "npy-4-billion.npy") if a == P("pairs", "clean_train.npy") else a for a in pairs], 1,
         "npy-4-billion.npy: "),
        (gen, [P("bad", "npz-not-zip.npz") if a == P("pairs", "clean_train.npy") else a for a in pairs], 1,
         "npz-not-zip.npz: an .npz holds several arrays: name one"),
        (gen, [P("bad", "npz-not-zip.npz") + ":y" if a == P("pairs", "clean_train.npy") else a for a in pairs], 1,
         "npz-not-zip.npz: cannot open as a zip archive"),
        ([A.trainer], ["--data", P("idx"), "--train-targets", P("pairs", "clean_train.npy"), "--epochs", "1"], 1,
         "model classifier has no second tensor input"),
        ([A.pairs_labels_trainer], drop(lab, "--train-labels", "--test-labels"), 1,
         "noisy_train.npy: the examples have no labels, and model pairs_labels's loss reads one (--train-labels F)"),
    ]
    for cmd, args, want_rc, want in bad:
        r = subprocess.run([*cmd, "--quiet", *args], capture_output=True, text=True, timeout=120, preexec_fn=limit)
        check(r.returncode == want_rc and want in r.stderr, f"{os.path.basename(cmd[0])} {want or 'no test set'}: "
              f"{r.returncode} {r.stderr.strip()[:200]}")
elif A.check == "inputs":
    I = lambda name: P("inputs", name)
    gen = [A.inputs3_trainer]
    run3 = [A.netc, "run", os.path.join(A.src, "tests/data/inputs3.net")]
    common = ["--epochs", "1", "--batch", "16"]
    files = ["--train-images", I("a_train.npy"), "--train-input", "b=" + I("b_train.npy"),
             "--train-input", "t=" + I("t_train.npy"), "--test-images", I("a_test.npy"),
             "--test-input", "b=" + I("b_test.npy"), "--test-input", "t=" + I("t_test.npy"), *common]
    rc1, one, err = train(gen, *files, "--threads", "1")
    rc2, two, _ = train(gen, *files, "--threads", "2")
    check(rc1 == rc2 == 0 and "test_loss" in one and one == two, f"inputs3: 1 thread == 2 threads: {one} {err[:300]}")
    rc, interp, err = train(run3, *files, "--threads", "2")
    rc2, interp1, _ = train(run3, *files, "--threads", "1")
    check(rc == rc2 == 0 and close(two, interp) < 1e-5 and interp == interp1,
          f"inputs3: generated trainer == netc run, 1 thread == 2: {interp} {err[:300]}")
    npz = I("data.npz")
    same = [
        ("--data .npz (x_train, b_train, t_train, x_test, ...)", ["--data", npz, *common]),
        ("--data a folder of .npy (x_train.npy, b_train.npy, ...)", ["--data", I("npy"), *common]),
        ("FILE.npz:ARRAY for every file", ["--train-images", npz + ":x_train", "--train-input", "b=" + npz + ":b_train",
                                           "--train-input", "t=" + npz + ":t_train", "--test-images", npz + ":x_test",
                                           "--test-input", "b=" + npz + ":b_test", "--test-input", "t=" + npz + ":t_test",
                                           *common]),
        ("--train-targets for the second input", [("--train-targets" if a == "--train-input" and files[k + 1][0] == "b"
                                                   else "--test-targets" if a == "--test-input" and files[k + 1][0] == "b"
                                                   else a[2:] if a.startswith("b=") else a) for k, a in enumerate(files)]),
        ("--data .npz, one input by option", ["--data", npz, "--train-input", "t=" + I("t_train.npy"), *common]),
    ]
    for what, args in same:
        rc, r, err = train(gen, *args, "--threads", "2")
        check(rc == 0 and r == two, f"inputs3 {what} == the .npy files: {r} {err[:300]}")
    rc, r, err = train(gen, *files, "--val-images", I("a_val.npy"), "--val-input", "b=" + I("b_val.npy"),
                       "--val-input", "t=" + I("t_val.npy"), "--threads", "2")
    rc2, i, _ = train(run3, *files, "--val-images", I("a_val.npy"), "--val-input", "b=" + I("b_val.npy"),
                      "--val-input", "t=" + I("t_val.npy"), "--threads", "2")
    check(rc == rc2 == 0 and r["val_loss"] != two["val_loss"] and close(r, i) < 1e-5,
          f"inputs3 --val-images --val-input: generated == netc run: {r} {err[:300]}")
    # --predict-input NAME=F == --predict over the test split.
    ck, pt, pi = P("inputs3.ckpt"), P("inputs3-test"), P("inputs3-input")
    rc, _, err = train(gen, *files, "--save", ck)
    rc2, _, err2 = train(gen, *files[:6], *common, "--epochs", "0", "--load", ck, "--predict", pt, "--test-images",
                         I("a_test.npy"), "--test-input", "b=" + I("b_test.npy"), "--test-input", "t=" + I("t_test.npy"))
    r = subprocess.run([*gen, "--quiet", "--load", ck, "--predict", pi, "--predict-input", I("a_test.npy"),
                        "--predict-input", "b=" + I("b_test.npy"), "--predict-input", "t=" + I("t_test.npy")],
                       capture_output=True, text=True, timeout=120)
    check(rc == rc2 == r.returncode == 0 and open(os.path.join(pt, "y.npy"), "rb").read() ==
          open(os.path.join(pi, "y.npy"), "rb").read(),
          f"inputs3 --predict-input a_test --predict-input b=.. t=.. == --predict over the test split: {err2[:200]} {r.stderr[:300]}")
    # --augment moves the target with the input: loss exactly 0.
    gen2, run2 = [A.aug_pair_trainer], [A.netc, "run", os.path.join(A.src, "tests/data/aug_pair.net")]
    pair = ["--train-images", P("pairs", "noisy_train.npy"), "--train-targets", P("pairs", "noisy_train.npy"),
            "--test-images", P("pairs", "noisy_test.npy"), "--test-targets", P("pairs", "noisy_test.npy"),
            "--epochs", "2", "--batch", "16", "--augment", "crop=2,flip"]
    for cmd in (gen2, run2):
        res = [train(cmd, *pair, "--threads", t) for t in ("1", "2")]
        check(all(rc == 0 and r["train_loss"] == 0 for rc, r, _ in res) and res[0][1] == res[1][1],
              f"{os.path.basename(cmd[-1])} input == target under --augment crop=2,flip: train loss exactly 0, 1 thread == 2: "
              f"{res[0][1]} {res[0][2][:200]}")
    # --predict-input in every format the trainers read: the classifier on
    # the idx/ data (and its .npy, .npz twins), cifar_small on a CIFAR batch.
    ck, pt = P("cl.ckpt"), P("cl-test")
    rc, _, err = train([A.trainer], "--data", P("idx"), "--epochs", "1", "--save", ck)
    rc2, _, _ = train([A.trainer], "--data", P("idx"), "--epochs", "0", "--load", ck, "--predict", pt)
    want = open(os.path.join(pt, "logp.npy"), "rb").read() if rc == rc2 == 0 else None
    for what, f in (("IDX", os.path.join(P("idx"), "t10k-images-idx3-ubyte")), (".npy", P("npy", "x_test.npy")),
                    (".npz:x_test", P("npz", "data.npz") + ":x_test")):
        out = P("cl-" + what.strip("."))
        r = subprocess.run([A.trainer, "--quiet", "--load", ck, "--predict", out, "--predict-input", f],
                           capture_output=True, text=True, timeout=120)
        check(r.returncode == 0 and want and open(os.path.join(out, "logp.npy"), "rb").read() == want,
              f"--predict-input {what} == --predict over the same test set: {r.stderr[:300]}")
    ck, pt = P("cifar.ckpt"), P("cifar-test")
    rc, _, err = train([A.cifar_trainer], "--data", P("cifar10"), "--epochs", "1", "--save", ck)
    rc2, _, _ = train([A.cifar_trainer], "--data", P("cifar10"), "--epochs", "0", "--load", ck, "--predict", pt)
    r = subprocess.run([A.cifar_trainer, "--quiet", "--load", ck, "--predict", P("cifar-in"), "--predict-input",
                        P("cifar10", "test_batch.bin")], capture_output=True, text=True, timeout=120)
    outs = [f for f in os.listdir(pt)] if rc2 == 0 else []
    exp = [f for f in outs if f.endswith(".npy") and f not in ("labels.npy", "predicted.npy")]
    check(rc == rc2 == r.returncode == 0 and exp and all(open(os.path.join(pt, f), "rb").read() ==
                                                         open(os.path.join(P("cifar-in"), f), "rb").read() for f in exp),
          f"--predict-input a CIFAR batch == --predict over its test set: {err[:200]} {r.stderr[:300]}")
    # Mistakes: one error naming the input, option or array.
    drop = lambda args, *names: [a for k, a in enumerate(args) if a not in names and (k == 0 or args[k - 1] not in names)]
    nofile = lambda args, val: [a for k, a in enumerate(args) if a != val and not (k + 1 < len(args) and args[k + 1] == val)]
    bad = [
        (gen, nofile(nofile(files, "t=" + I("t_train.npy")), "t=" + I("t_test.npy")), 1,
         "error: model inputs3 has a tensor input t (input 3): give its data with --train-input t=F"),
        (gen, nofile(files, "t=" + I("t_train.npy")), 1,
         "a_train.npy: the training set needs input t's data too (--train-input t=F)"),
        (gen, nofile(files, "t=" + I("t_test.npy")), 1, "a_test.npy: the test set needs input t's data too (--test-input t=F)"),
        (gen, files + ["--train-input", "z=" + I("t_train.npy")], 2,
         "error: --train-input: 'z=" + I("t_train.npy") + "' is not NAME=FILE with NAME a tensor input of model inputs3 (a, b, t)"),
        (gen, files + ["--train-targets", I("b_train.npy")], 2, "error: --train-input: input b's data is given twice"),
        (gen, [npz + ":zz_train" if a == "t=" + I("t_train.npy") else a for a in files], 2, "is not NAME=FILE"),
        (gen, ["t=" + npz + ":zz_train" if a == "t=" + I("t_train.npy") else a for a in files], 1,
         "data.npz: no array 'zz_train' (it holds x_train, b_train, t_train, x_test, b_test, t_test"),
        (gen, ["t=" + npz if a == "t=" + I("t_train.npy") else a for a in files], 1,
         "data.npz: an .npz holds several arrays: name one, e.g. "),
        (gen, ["t=" + npz + ":" if a == "t=" + I("t_train.npy") else a for a in files], 1,
         "data.npz:: not a file, nor FILE:ARRAY"),
        (gen, ["t=" + I("t_short.npy") if a == "t=" + I("t_train.npy") else a for a in files], 1,
         "t_short.npy: 59 examples, but the training set has 60 examples"),
        (gen, files + ["--val-input", "t=" + I("t_val.npy")], 2, "--val-input needs --val-images"),
        (gen, files + ["--val-images", I("a_val.npy"), "--val-input", "b=" + I("b_val.npy")], 1,
         "a_val.npy: the validation set needs input t's data too (--val-input t=F)"),
        (gen, drop(files, "--test-images"), 1, "b_test.npy: --test-input given, but the data has no test set"),
        (gen2, pair[:2] + ["--train-targets", I("vec_train.npy")] + pair[4:], 1, ""),
        (gen2, ["--train-images", I("a_train.npy"), "--train-targets", I("vec_train.npy"), "--augment", "flip"], 1,
         "vec_train.npy: --augment crops and flips every input with the examples ([1, 8, 8]), so input y must be an "
         "image of their height and width, [8, 8] or [C, 8, 8]; its examples are [64]"),
        (gen, ["--load", ck, "--predict", P("x"), "--predict-input", I("a_test.npy"), "--predict-input",
               "b=" + I("b_test.npy")], 1, "error: model inputs3 has a tensor input t besides the examples: give its "
         "data with --predict-input t=F"),
        ([A.trainer], ["--train-images", P("npz", "data.npz") + ":x_train", "--train-labels", P("npy", "y_train.npy")], 1,
         "y_train.npy: the labels of an .npz array are given as an array too (FILE:ARRAY)"),
        ([A.trainer], ["--train-input", "x=" + I("a_train.npy")], 2, "model classifier has one tensor input, fed by --data or --train-images"),
        ([A.trainer], ["--train-images", I("a_train.npy") + ":x"], 1, "a_train.npy: FILE:ARRAY names an array of an .npz archive, and this is not one"),
        # Hostile archives by name: the readers' own errors.
        (gen, ["t=" + P("bad", "npz-bomb.npz") + ":x_train" if a == "t=" + I("t_train.npy") else a for a in files], 1,
         "npz-bomb.npz:x_train.npy: "),
        (gen, ["t=" + P("bad", "npz-not-zip.npz") + ":t" if a == "t=" + I("t_train.npy") else a for a in files], 1,
         "npz-not-zip.npz: cannot open as a zip archive"),
        (gen, ["t=" + npz + ":" + "a" * 5000 if a == "t=" + I("t_train.npy") else a for a in files], 1,
         "not a file, nor FILE:ARRAY"),
    ]
    for cmd, args, want_rc, want in bad:
        r = subprocess.run([*cmd, "--quiet", *args], capture_output=True, text=True, timeout=120, preexec_fn=limit)
        check(r.returncode == want_rc and want in r.stderr, f"{os.path.basename(cmd[-1])} {want[:120] or args[-3:]}: "
              f"{r.returncode} {r.stderr.strip()[:300]}")
elif A.check == "classes":
    M = lambda *p: P("many-classes", *p)
    # The same labels up to 999 as .npy int64, IDX i32 and IDX i16.
    ref = info("--train-images", M("x_train.npy"), "--train-labels", M("y_train.npy"))
    check(ref and ref["train"][:3] == (300, "16", 1000), f"many-classes: 300 x [16], 1000 classes: {ref}")
    for y in ("y_train-i32.idx", "y_train-i16.idx"):
        other = info("--train-images", M("x_train.idx"), "--train-labels", M(y))
        check(other and ref and other["train"] == ref["train"], f"labels up to 999 as {y} == as .npy int64")
    data = ["--train-images", M("x_train.npy"), "--train-labels", M("y_train.npy"), "--test-images", M("x_test.npy"),
            "--test-labels", M("y_test.npy"), "--epochs", "1", "--batch", "32"]
    gen, run_ = [A.classes_trainer], [A.netc, "run", os.path.join(A.src, "tests/data/many_classes.net")]
    rc1, one, err = train(gen, *data, "--threads", "1")
    rc2, two, _ = train(gen, *data, "--threads", "2")
    check(rc1 == rc2 == 0 and "test_accuracy" in one and one == two,
          f"many_classes (label(1000)): trains, 1 thread == 2 threads: {one} {err[:200]}")
    rc, interp, err = train(run_, *data, "--threads", "2")
    keys = [k for k in ("train_loss", "val_loss", "test_loss") if k in two]
    worst = max(abs(two[k] - interp[k]) / abs(interp[k]) for k in keys) if rc == 0 and keys else float("inf")
    check(rc == 0 and worst < 1e-5 and abs(two["test_accuracy"] - interp["test_accuracy"]) < 1e-9,
          f"many_classes: generated trainer == netc run (losses within {worst:.1e}): {interp} {err[:200]}")
    # An image folder of 300 classes (labels 0..299), no test set.
    f300 = info(P("folder-300"))
    check(f300 and f300["train"][:3] == (300, "1, 4, 4", 300), f"folder of 300 classes: 300 classes: {f300}")
    rc, g, err = train(gen, "--data", P("folder-300"), "--epochs", "1", "--batch", "32", "--threads", "2")
    rc2, i, _ = train(run_, "--data", P("folder-300"), "--epochs", "1", "--batch", "32", "--threads", "2")
    check(rc == rc2 == 0 and g.get("test_set") == "none" and abs(g["val_loss"] - i["val_loss"]) < 1e-5 * i["val_loss"],
          f"many_classes on the 300-class folder: generated == netc run: {g} {i} {err[:200]}")
    # MNIST's file names with i16 labels below 300: a label(300) model
    # trains on them; the classifier's 10 classes are too few.
    model = os.path.join(tmp, "wide300.net")
    with open(model, "w") as f:
        f.write("net f(x: [1, 28, 28]) -> [300] { flatten dense(300) }\n"
                "model wide300 {\n    input x: image\n    input d: label(300)\n    loss cross_entropy(f(x), d)\n}\n")
    rc, g, err = train([A.netc, "run", model], "--data", P("idx-wide"), "--epochs", "1", "--batch", "16")
    check(rc == 0 and g.get("test_loss"), f"MNIST file names, i16 labels below 300: label(300) trains: {g} {err[:200]}")
    r = subprocess.run([A.trainer, "--quiet", "--data", P("idx-wide"), "--epochs", "1"], capture_output=True,
                       text=True, timeout=120)
    want = "train-labels-idx1-ubyte.gz: label 120 at index 1, but model classifier has 10 classes (labels 0..9)"
    check(r.returncode == 1 and want in r.stderr, f"the classifier on them: {want}: {r.stderr.strip()[:200]}")
    # Labels the model cannot take: each refused, naming the file and index.
    for y, want in (("y_1000.npy", "y_1000.npy: label 1000 at index 17, but model many_classes has 1000 classes "
                     "(labels 0..999)"),
                    ("y_neg.npy", "y_neg.npy: label -1 of example 5 is out of range 0..16777215")):
        for cmd in (gen, run_):
            r = subprocess.run([*cmd, "--quiet", *[M(y) if a == M("y_train.npy") else a for a in data]],
                               capture_output=True, text=True, timeout=120, preexec_fn=limit)
            check(r.returncode == 1 and want in r.stderr, f"{os.path.basename(cmd[-1])}: {want}: {r.stderr.strip()[:200]}")
    # --predict: labels and predicted classes above 255 come out whole
    # (int64 .npy; CSV), predicted the argmax of the exported logits.
    want = npy_load(M("y_test.npy"))[2]
    for fmt in ("npy", "csv"):
        out = os.path.join(tmp, "predict-" + fmt)
        r = subprocess.run([*gen, "--quiet", *data, "--predict", out, "--predict-format", fmt], capture_output=True,
                           text=True, timeout=120)
        if r.returncode:
            check(False, f"--predict-format {fmt}: {r.stderr.strip()[:200]}")
            continue
        if fmt == "npy":
            ld, lshape, labels = npy_load(os.path.join(out, "labels.npy"))
            pd, pshape, pred = npy_load(os.path.join(out, "predicted.npy"))
            _, xshape, logits = npy_load(os.path.join(out, "logits.npy"))
            rows = [logits[i * 1000:(i + 1) * 1000] for i in range(xshape[0])]
            check(ld == pd == "<i8" and lshape == pshape == (100,), f"--predict: labels and predicted are int64 [100]: {ld} {pd}")
        else:
            read = lambda n: [line.strip().split(",") for line in open(os.path.join(out, n + ".csv"))]
            labels = [int(v[0]) for v in read("labels")]
            pred = [int(v[0]) for v in read("predicted")]
            rows = [[float(v) for v in line] for line in read("logits")]
        check(list(labels) == list(want) and max(labels) == 999, f"--predict-format {fmt}: labels.{fmt} == the test labels (up to 999)")
        argmax = [max(range(len(r)), key=lambda k: (r[k], -k)) for r in rows]
        check(list(pred) == argmax and max(pred) > 255,
              f"--predict-format {fmt}: predicted == argmax of the logits, classes above 255 among them (max {max(pred)})")
else:
    sys.exit(f"unknown check {A.check}")
shutil.rmtree(tmp)
sys.exit(1 if failures else 0)
