#!/usr/bin/env python3
"""Hostile inputs and crash safety, end to end through netc and a generated
trainer (train-autoencoder) on a small cut of the committed MNIST subset.

usage: hardening.py CHECK --netc NETC --trainer TRAINER --src ROOT [--sanitized]

CHECK is one of
  hostile   hostile -D values, shapes overflowing 32/64 bits, huge and
            unreadable model files, trainer options out of range, an IDX
            header claiming 4 billion images, damaged checkpoints (a tensor
            table pointing past the end, truncated, another file type, a
            normalisation section past the end or with a std of 0), bad
            --normalize/--augment/--val-* values, FILE.npz:ARRAY specs
            and archives that lie, --train-input names the model lacks:
            each ends with a clear error and a non-zero exit status, never a
            crash, a hang or a huge allocation
  crash     kill -9 at random moments of a run with --save (one per trial
            timed from the first checkpoint written, so that some kills
            follow a save on a slow machine too), then --resume: the
            checkpoint always loads, training continues after the last
            completed epoch and ends where an uninterrupted run ends
  diskfull  the disk fills up while a checkpoint is saved: the run stops
            with an error saying so and the previous checkpoint is intact
  nan       a learning rate that diverges: exit 3, a message naming NaN/Inf,
            the epoch and the step, and the last good checkpoint is kept
  leaks     (sanitized builds) LeakSanitizer over netc and a short training

Every child runs with a timeout and a memory bound: RLIMIT_AS in a plain
build; in a sanitized build (where ASan reserves terabytes of address
space) ASan's max_allocation_size_mb, so a huge allocation is a crash.
"""
import argparse
import gzip
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ap = argparse.ArgumentParser()
ap.add_argument("check")
ap.add_argument("--netc", required=True)
ap.add_argument("--trainer", required=True)
ap.add_argument("--src", required=True)
ap.add_argument("--sanitized", action="store_true")
A = ap.parse_args()

MEM_LIMIT = 2 << 30          # bytes a child may map (plain builds)
failures = 0
tmp = tempfile.mkdtemp(prefix="netc-hardening-")
P = lambda *names: os.path.join(tmp, *names)


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


def env_for(extra=None):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    if A.sanitized:
        opts = env.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + \
            "max_allocation_size_mb=2048:allocator_may_return_null=0"
    env.update(extra or {})
    return env


def limits():
    if not A.sanitized:
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))


def run(argv, timeout=120, env=None):
    """Runs argv bounded in time and memory: (status, stdout, stderr);
    status is -SIGNAL for a crash, None for a timeout."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout,
                           env=env or env_for(), preexec_fn=limits)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return None, "", (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else ""


def clean_failure(rc, err, statuses, want, what):
    """A clean failure: exit status in statuses, a message matching want,
    no sanitizer report."""
    first = err.strip().splitlines()[0] if err.strip() else "(no message)"
    ok = rc in statuses and re.search(want, err) is not None and "Sanitizer" not in err \
        and "runtime error" not in err
    check(ok, f"{what}: exit {rc}, {first[:110]}")
    if not ok:
        print("    stderr:", err[-1500:])


def write_idx(path, magic, dims, payload):
    with gzip.open(path, "wb") if path.endswith(".gz") else open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def small_data(name, ntrain, ntest):
    """DIR with the first ntrain/ntest images of the committed subset."""
    d = P(name)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(A.src, "runtime", "mnist")
    for split, n in (("train", ntrain), ("t10k", ntest)):
        _, img = read_idx(os.path.join(src, f"{split}-images-idx3-ubyte.gz"))
        _, lab = read_idx(os.path.join(src, f"{split}-labels-idx1-ubyte.gz"))
        write_idx(os.path.join(d, f"{split}-images-idx3-ubyte"), 0x803, (n, 28, 28), img[:n * 784])
        write_idx(os.path.join(d, f"{split}-labels-idx1-ubyte"), 0x801, (n,), lab[:n])
    return d


def train(args, timeout=600, env=None):
    return run([A.trainer, "--threads", "2"] + args, timeout=timeout, env=env)


def last_json(out):
    import json
    lines = [l for l in out.strip().splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


# ---------------------------------------------------------------- hostile

def hostile():
    model = os.path.join(A.src, "models", "autoencoder.net")
    # -D values a constant cannot take: exit 1 (the model rejects it) or 2.
    for v in ["1e30", "99999999999", "2147483648", "4294967297", "-5", "0.5", "inf", "-inf", "nan",
              "1e-300", "9" * 400, "", "4 "]:
        rc, _, err = run([A.netc, "check", "-D", f"latent={v}", model], timeout=30)
        clean_failure(rc, err, (1, 2), r"error: ", f"netc -D latent={v[:20]}")
    # Shapes whose element counts overflow 32 and 64 bits.
    cases = {
        "2^64 elements": "net a(x: [65536, 65536, 65536, 65536]) -> [4] { flatten dense(4) }",
        "2^32 elements": "net a(x: [65536, 65536]) -> [4] { flatten dense(4) }",
        "2^31 outputs": "net a(x: [4]) -> [2147483648] { dense(2147483648) }",
        "2^32 weights": "net a(x: [65536]) -> [65536] { dense(65536) }",
        "int32 dim": "net a(x: [4294967296]) -> [4] { dense(4) }",
        "conv 2^33 weights": "net a(x: [65536, 3, 3]) -> [4] { conv2d(65536, k=3) flatten dense(4) }",
        "reshape 2^64": "net a(x: [4]) -> [4] { dense(16) reshape(65536, 65536, 65536, 65536) flatten dense(4) }",
        "deconv growth": "net a(x: [1, 28, 28]) -> [4] { deconv2d(1, k=3, stride=1000000) "
                         "deconv2d(1, k=3, stride=1000000) flatten dense(4) }",
        "noise 2^64": "net a(x: [4]) -> [4] { dense(4) }",
    }
    for what, net in cases.items():
        src = net + "\nmodel m {\n    input x: image\n    loss mean(a(dense_input(x)))\n}\n"
        if what == "noise 2^64":
            src = "model m {\n    input x: image\n    loss mean(normal([65536, 65536, 65536, 65536]))\n}\n"
        path = P("overflow.net")
        with open(path, "w") as f:
            f.write(src)
        for cmd in ("check", "summary", "dump-ir"):
            rc, _, err = run([A.netc, cmd, path], timeout=30)
            clean_failure(rc, err, (1,), r"error: ", f"netc {cmd}: {what}")
    # Enormous and unreadable model files.
    with open(P("huge.net"), "wb") as f:
        f.truncate(100 << 20)                       # 100 MB of NULs (sparse)
    rc, _, err = run([A.netc, "check", P("huge.net")], timeout=60)
    clean_failure(rc, err, (1,), r"too large", "netc: a 100 MB model file")
    rc, _, err = run([A.netc, "check", "/dev/zero"], timeout=60)
    clean_failure(rc, err, (1,), r"too large|error", "netc: /dev/zero as the model")
    rc, _, err = run([A.netc, "check", tmp], timeout=30)
    clean_failure(rc, err, (1,), r"error: .*" + re.escape(tmp), "netc: a directory as the model")
    depth = 200000
    with open(P("nested.net"), "w") as f:
        f.write("model m {\n    input x: image\n    loss " + "mean(" * depth + "x" + ")" * depth + "\n}\n")
    rc, _, err = run([A.netc, "check", P("nested.net")], timeout=30)
    clean_failure(rc, err, (1,), r"error: ", f"netc: {depth} nested calls")
    with open(P("negs.net"), "w") as f:
        f.write("model m {\n    input x: image\n    loss mean(x) * " + "-" * 1000000 + "1\n}\n")
    rc, _, err = run([A.netc, "check", P("negs.net")], timeout=30)
    clean_failure(rc, err, (0, 1), r"ok|error: ", "netc: a million unary minus signs")
    nimp = 300
    for i in range(nimp):
        with open(P(f"imp{i}.net"), "w") as f:
            f.write(f'import "imp{i + 1}.net"\n' if i + 1 < nimp else "const c = 1\n")
    rc, _, err = run([A.netc, "check", P("imp0.net")], timeout=30)
    clean_failure(rc, err, (1,), r"error: ", f"netc: a chain of {nimp} imports")

    # Trainer options out of range: exit 2 naming the option.
    for args in (["--epochs", "99999999999"], ["--epochs", "-2147483649"], ["--batch", "2147483648"],
                 ["--batch", "1e12"], ["--threads", "100000"], ["--lr", "inf"],
                 ["--lr", "1e999"], ["--seed", "18446744073709551616"], ["--weight-decay", "nan"],
                 ["--patience", "-1"], ["--momentum", "-0.5", "--optimizer", "sgd"]):
        extra = [] if args[0] == "--epochs" else ["--epochs", "1"]
        rc, _, err = train(args + extra + ["--data", P("no-data"), "--quiet"], timeout=30)
        clean_failure(rc, err, (2,), re.escape(args[0]), "trainer " + " ".join(args))

    # Data: an IDX header claiming 4 billion images, and other damage.
    data = small_data("data", 300, 100)
    for name, magic, dims, payload, want in (
            ("huge", 0x803, (4000000000, 28, 28), bytes(784 * 3), r"limit|too many|4000000000"),
            ("max", 0x803, (0xffffffff, 28, 28), bytes(784), r"limit|too many|4294967295"),
            ("short", 0x803, (300, 28, 28), bytes(784 * 299), r"short|truncated|end"),
            ("rows", 0x803, (300, 4000000000, 28), bytes(784), r"28|rows|dimension"),
            ("magic", 0x801, (300,), bytes(300), r"magic|not an image")):
        d = P("data-" + name)
        shutil.copytree(data, d)
        write_idx(os.path.join(d, "train-images-idx3-ubyte"), magic, dims, payload)
        rc, _, err = train(["--data", d, "--epochs", "1", "--quiet"], timeout=60)
        clean_failure(rc, err, (1,), want, f"trainer --data with train images: {name}")
    # Files by option and arrays by name (FILE.npz:ARRAY, --train-input
    # NAME=F): bad specs, archives that lie, names the model lacks.
    import zipfile
    npy_head = lambda shape: (lambda h: b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h)(
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (%s), }" % ", ".join(map(str, shape))).ljust(117).encode() + b"\n")
    with zipfile.ZipFile(P("lie.npz"), "w") as z:
        z.writestr("x.npy", npy_head((4000000000, 28, 28)) + bytes(784))        # 4 billion images promised
        z.writestr("y.npy", npy_head((300, 28, 28)) + bytes(10))                # truncated member
    for args, status, want in (
            (["--train-images", P("lie.npz") + ":x"], (1,), r"lie.npz:x.npy: .*(declares|elements|needs)"),
            (["--train-images", P("lie.npz") + ":y"], (1,), r"lie.npz:y.npy: the zip declares"),
            (["--train-images", P("lie.npz") + ":nosuch"], (1,), r"no array 'nosuch' \(it holds x, y"),
            (["--train-images", P("lie.npz")], (1,), r"name one"),
            (["--train-images", P("lie.npz") + ":"], (1,), r"not a file, nor FILE:ARRAY"),
            (["--train-images", P("lie.npz") + ":" + "x" * 100000], (1,), r"not a file, nor FILE:ARRAY"),
            (["--train-images", "/dev/zero:x"], (1,), r"/dev/zero"),
            (["--train-images", P("lie.npz") + ":x", "--train-labels", "/dev/null"], (1,), r"/dev/null"),
            (["--train-input", "x=" + P("lie.npz") + ":x"], (2,), r"--train-input.*one tensor input"),
            (["--train-input", "=" * 5000], (2,), r"--train-input"),
            (["--train-input", "a"] * 17, (2,), r"--train-input: at most 16"),
            (["--predict", P("pr"), "--load", P("nothing.ckpt"), "--predict-input", P("lie.npz") + ":x"], (1,),
             r"nothing.ckpt|lie.npz")):
        extra = ["--epochs", "1"] if "--predict" not in args else []
        rc, _, err = train(args + extra + ["--quiet"], timeout=60)
        clean_failure(rc, err, status, want, "trainer " + " ".join(a[:40] for a in args[:2]))

    d = P("data-labels")
    shutil.copytree(data, d)
    write_idx(os.path.join(d, "t10k-labels-idx1-ubyte"), 0x801, (4000000000,), bytes(100))
    rc, _, err = train(["--data", d, "--epochs", "1", "--quiet"], timeout=60)
    clean_failure(rc, err, (1,), r"limit|too many|4000000000", "trainer --data: 4 billion labels")

    # Checkpoints: a real one, then damaged copies (CRC fixed where the
    # damage is behind it, so the bounds checks themselves are exercised).
    rc, _, err = train(["--data", data, "--epochs", "1", "--save", P("good.ckpt"), "--quiet"])
    check(rc == 0, f"a checkpoint to damage ({err.strip()[-100:]})")
    good = open(P("good.ckpt"), "rb").read()

    def damaged(name, buf, fix_crc=True):
        buf = bytearray(buf)
        if fix_crc and len(buf) >= 4:
            buf[-4:] = struct.pack("<I", zlib.crc32(bytes(buf[:-4])) & 0xffffffff)
        with open(P(name), "wb") as f:
            f.write(buf)
        return P(name)

    name_len = struct.unpack_from("<I", good, 120)[0]
    off_at = 120 + 4 + name_len + 4 + 16          # the first tensor's data offset
    past = bytearray(good)
    struct.pack_into("<Q", past, off_at, len(good) + 4096)
    huge_numel = bytearray(good)
    struct.pack_into("<Q", huge_numel, off_at + 8, 1 << 62)
    wrap = bytearray(good)
    struct.pack_into("<Q", wrap, off_at, (1 << 64) - 8)
    count = bytearray(good)
    struct.pack_into("<I", count, 12, 0xffffffff)
    namelen = bytearray(good)
    struct.pack_into("<I", namelen, 120, 0xfffffff0)
    size = bytearray(good)
    struct.pack_into("<Q", size, 16, 1 << 63)
    for what, path, want in (
            ("tensor table points past the end", damaged("past.ckpt", past), r"past the end"),
            ("element count 2^62", damaged("numel.ckpt", huge_numel), r"damaged|past the end|shape"),
            ("offset wraps around 2^64", damaged("wrap.ckpt", wrap), r"damaged|past the end"),
            ("tensor count 2^32-1", damaged("count.ckpt", count), r"damaged|tensor|table"),
            ("name length 4 GB", damaged("namelen.ckpt", namelen), r"damaged|name"),
            ("file size field 2^63", damaged("size.ckpt", size), r"damaged|size|truncated|length"),
            ("truncated", damaged("trunc.ckpt", good[:len(good) // 2], False), r"truncated|damaged|size"),
            ("a flipped byte", damaged("flip.ckpt", good[:200] + bytes([good[200] ^ 1]) + good[201:], False),
             r"CRC|damaged|checksum"),
            ("an IDX file", os.path.join(data, "train-labels-idx1-ubyte"), r"not a netc checkpoint"),
            ("a directory", tmp, r"regular file|directory|cannot")):
        for opt in ("--resume", "--load"):
            rc, _, err = train(["--data", data, "--epochs", "2", opt, path, "--quiet"], timeout=60)
            clean_failure(rc, err, (1,), want, f"trainer {opt}: {what}")

    # The data options' values (exit 2 naming the option), and a
    # checkpoint's normalisation section damaged behind a valid CRC.
    for args in (["--normalize", "1e39:1"], ["--normalize", "0.5:0"], ["--normalize", "1," * 100 + "1:1"],
                 ["--normalize", ":"], ["--augment", "crop=99999999999"], ["--augment", "crop=-1"],
                 ["--augment", "flip," * 3], ["--val-count", "-1"], ["--val-fraction", "1"],
                 ["--val-fraction", "nan"]):
        rc, _, err = train(args + ["--epochs", "1", "--data", P("no-data"), "--quiet"], timeout=30)
        clean_failure(rc, err, (2,), re.escape(args[0]), "trainer " + " ".join(args)[:60])
    rc, _, err = train(["--data", data, "--epochs", "1", "--normalize", "auto", "--save", P("norm.ckpt"), "--quiet"])
    check(rc == 0, f"a normalised checkpoint to damage ({err.strip()[-100:]})")
    norm = open(P("norm.ckpt"), "rb").read()
    past, chans, std0 = bytearray(norm), bytearray(norm), bytearray(norm)
    struct.pack_into("<Q", past, 160, len(norm) + 4096)     # version 3: the section's offset
    struct.pack_into("<I", chans, 156, 0xffffffff)          # its channel count
    struct.pack_into("<f", std0, len(norm) - 8, 0.0)        # the last std
    for what, buf in (("past the end", past), ("4 billion channels", chans), ("a std of 0", std0)):
        path = damaged("norm-" + what.replace(" ", "-") + ".ckpt", buf)
        for opt in ("--resume", "--load"):
            rc, _, err = train(["--data", data, "--epochs", "2", opt, path, "--quiet"], timeout=60)
            clean_failure(rc, err, (1,), r"damaged: the normalisation", f"trainer {opt}: normalisation {what}")


# ---------------------------------------------------------------- crash

def read_ckpt_epoch(path):
    buf = open(path, "rb").read()
    if buf[:8] != b"NETCKPT\0" or zlib.crc32(buf[:-4]) & 0xffffffff != struct.unpack("<I", buf[-4:])[0]:
        return None
    return struct.unpack_from("<i", buf, 68)[0] if struct.unpack_from("<I", buf, 64)[0] else None


def run_and_kill(argv, ck, delay, after_checkpoint):
    """Runs argv and kills it (SIGKILL) delay seconds after its start, or,
    with after_checkpoint, delay seconds after it was seen writing a new
    checkpoint to ck (the file's epoch polled), so the kill lands after a
    save however slow the machine.  Returns (killed, stdout, stderr)."""
    start_epoch = (read_ckpt_epoch(ck) or 0) if os.path.exists(ck) else 0
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env_for(), preexec_fn=limits)
    t0 = time.time()
    deadline = None if after_checkpoint else t0 + delay
    while True:
        try:
            out, err = p.communicate(timeout=0.02)    # retrying loses no output
            return False, out, err                    # finished before the kill
        except subprocess.TimeoutExpired:
            pass
        now = time.time()
        if deadline is None and os.path.exists(ck) and (read_ckpt_epoch(ck) or 0) > start_epoch:
            deadline = now + delay
        if (deadline is not None and now >= deadline) or now - t0 > 600:
            p.send_signal(signal.SIGKILL)
            out, err = p.communicate()
            return True, out, err


def crash():
    # Long enough (about a second in a release build) that random kills
    # land in every phase: startup, mid-epoch, while saving.
    data = small_data("data", 5000, 200)
    epochs = 5
    base = ["--data", data, "--batch", "64", "--seed", "7", "--json"]   # not --quiet: "resuming ... after epoch N"
    t0 = time.time()
    rc, out, err = train(base + ["--epochs", str(epochs), "--save", P("ref.ckpt")])
    full = time.time() - t0
    ref = last_json(out)
    check(rc == 0 and "test_loss" in ref, f"uninterrupted run: {epochs} epochs in {full:.1f} s")
    if rc != 0:
        print(err[-1500:])
        return
    rng = random.Random(int(os.environ.get("HARDENING_SEED", "0")) or None)
    trials = int(os.environ.get("HARDENING_KILLS", "5"))
    resumes = 0
    for trial in range(trials):
        ck, log = P(f"k{trial}.ckpt"), P(f"k{trial}.csv")
        args = base + ["--epochs", str(epochs), "--save", ck, "--log", log]
        # Three kills per trial, the later ones hitting the resumed runs.
        # The first comes at a random moment of the epoch after the run's
        # first checkpoint: on a loaded machine a timed kill may always
        # land before any checkpoint, and then nothing is resumed.  The
        # others come at random moments of the run (startup included), as
        # timed from the uninterrupted run.
        kills, resumed_from = 0, []
        while True:
            argv = [A.trainer, "--threads", "2"] + args + (["--resume", ck] if os.path.exists(ck) else [])
            after_checkpoint = kills == 0
            delay = rng.uniform(0, full / epochs) if after_checkpoint else rng.uniform(0.05, full * 0.8)
            killed, out, err = run_and_kill(argv, ck, delay, after_checkpoint)
            if not killed:
                break
            kills += 1
            when = f"{delay:.2f} s after {'a checkpoint' if after_checkpoint else 'the start'}"
            if os.path.exists(ck):
                e = read_ckpt_epoch(ck)
                check(e is not None and 1 <= e <= epochs,
                      f"trial {trial}: killed {when}; checkpoint intact (epoch {e})")
                rows = sum(1 for _ in open(log)) - 1 if os.path.exists(log) else 0
                # The log row precedes the checkpoint: a kill between them
                # leaves the log one epoch ahead (--resume trims it), never
                # behind (that would leave a hole in the log after resume).
                check(e is not None and rows in (e, e + 1) if e else False,
                      f"trial {trial}: the log has {rows} rows for checkpoint epoch {e}")
                resumed_from.append(e)
            else:
                print(f"     trial {trial}: killed {when}, before the first checkpoint")
            if kills >= 3:
                argv = [A.trainer, "--threads", "2"] + args + (["--resume", ck] if os.path.exists(ck) else [])
                rc, out, err = run(argv, timeout=600)
                break
        res = last_json(out)
        m = re.search(r"after epoch (\d+)", err)
        resumes += len(resumed_from)
        if resumed_from:
            check(m is not None and int(m.group(1)) == resumed_from[-1],
                  f"trial {trial}: resumed after epoch {resumed_from[-1]} ({m.group(0) if m else 'no message'})")
        check(res.get("epochs") == epochs and res.get("test_loss") == ref["test_loss"],
              f"trial {trial}: {kills} kill(s), final test loss {res.get('test_loss')} "
              f"== uninterrupted {ref['test_loss']}")
        rows = [l.split(",")[0] for l in open(log)][1:] if os.path.exists(log) else []
        check(rows == [str(i) for i in range(1, epochs + 1)], f"trial {trial}: log epochs {rows}")
    check(resumes >= 2, f"{resumes} kills after a checkpoint (at least 2 needed for the test to mean something)")


# ---------------------------------------------------------------- diskfull

def diskfull():
    data = small_data("data", 300, 100)
    mnt = P("mnt")
    os.makedirs(mnt)
    mounted = False
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                                 capture_output=True).returncode == 0
    try:
        if mounted:
            # A real ENOSPC: a 4 MB tmpfs with the first checkpoint, then
            # filled to the last byte.
            ck = os.path.join(mnt, "a.ckpt")
            rc, _, err = train(["--data", data, "--epochs", "1", "--save", ck, "--quiet"])
            check(rc == 0, "first checkpoint on a 4 MB tmpfs")
            before = open(ck, "rb").read()
            fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
            for chunk in (65536, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError:
                    pass
            os.close(fd)
            rc, _, err = train(["--data", data, "--epochs", "2", "--resume", ck, "--save", ck, "--quiet"])
            clean_failure(rc, err, (1,), r"No space left.*\n.*previous one.*unchanged|previous one.*unchanged",
                          "disk full (tmpfs): the save fails and says the previous checkpoint is kept")
            check(open(ck, "rb").read() == before, "disk full (tmpfs): previous checkpoint byte for byte")
            check(not os.path.exists(ck + ".tmp"), "disk full (tmpfs): no .tmp file left behind")
        else:
            print("     (not root or no tmpfs: only the file-size-limit variant)")
        # The same through RLIMIT_FSIZE (EFBIG), which needs no privileges:
        # writes past the limit fail (SIGXFSZ ignored).
        ck = P("b.ckpt")
        rc, _, err = train(["--data", data, "--epochs", "1", "--save", ck, "--quiet"])
        before = open(ck, "rb").read()

        def small_files():
            limits()
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) // 2, len(before) // 2))
        p = subprocess.run([A.trainer, "--threads", "2", "--data", data, "--epochs", "2", "--resume", ck,
                            "--save", ck, "--quiet"], capture_output=True, text=True, timeout=600,
                           env=env_for(), preexec_fn=small_files)
        clean_failure(p.returncode, p.stderr, (1,), r"previous one.*unchanged",
                      "file size limit: the save fails and says the previous checkpoint is kept")
        check(open(ck, "rb").read() == before, "file size limit: previous checkpoint byte for byte")
        check(not os.path.exists(ck + ".tmp"), "file size limit: no .tmp file left behind")
    finally:
        if mounted:
            subprocess.run(["umount", mnt])


# ---------------------------------------------------------------- nan

def nan():
    data = small_data("data", 600, 100)
    ck = P("n.ckpt")
    rc, _, err = train(["--data", data, "--epochs", "1", "--save", ck, "--quiet"])
    check(rc == 0, "one good epoch saved")
    before = open(ck, "rb").read()
    # Adam's steps are about lr each, whatever the gradient: with lr 1e6
    # the activations overflow to Inf within a few steps.  (The
    # autoencoder's loss is bounded; plain SGD just saturates it.)
    for opt, lr in (("adam", "1e6"), ("adamw", "1e6")):
        args = ["--data", data, "--epochs", "3", "--optimizer", opt, "--lr", lr, "--json"]
        rc, out, err = train(args + (["--resume", ck, "--save", ck] if opt == "adam" else
                                     ["--load", ck, "--save", P("w.ckpt")]))
        msg = [l for l in err.splitlines() if "error" in l]
        print("    ", msg[-1] if msg else err.strip()[-200:])
        clean_failure(rc, err, (3,), r"(NaN|infinite).* epoch \d+, step \d+ of \d+|(NaN|infinite) after epoch \d+ .*step \d+ of \d+",
                      f"{opt} --lr {lr}: stops naming NaN/Inf, the epoch and the step")
        check(last_json(out).get("error") == "non-finite loss", f"{opt} --lr {lr}: the JSON line says so")
    check(open(ck, "rb").read() == before, "the last good checkpoint is kept byte for byte")
    check(not os.path.exists(ck + ".tmp"), "no .tmp file left behind")


# ---------------------------------------------------------------- leaks

def leaks():
    if not A.sanitized:
        print("not a sanitized build: LeakSanitizer runs in the debug preset")
        sys.exit(77)
    # netc never frees its AST and graphs (netc.h, by design): those leaks,
    # allocated through the front end's allocators, are suppressed; any
    # other leak (the interpreter, the runtime, libc wrappers) is reported.
    supp = P("lsan.supp")
    with open(supp, "w") as f:
        f.write("leak:xcalloc\nleak:xpush\nleak:file_read\nleak:ir_\nleak:lex_\nleak:strdup\n")
    netc_env = env = env_for({"ASAN_OPTIONS": "detect_leaks=1:max_allocation_size_mb=2048",
                              "LSAN_OPTIONS": f"suppressions={supp}:print_suppressions=0"})
    models = [os.path.join(A.src, "models", m) for m in sorted(os.listdir(os.path.join(A.src, "models")))
              if m.endswith(".net")]
    for cmd in ("check", "summary", "dump-ir", "dump-grad"):
        for m in models if cmd.startswith("dump") else [None]:
            rc, _, err = run([A.netc, cmd] + ([m] if m else models), env=env, timeout=300)
            check(rc == 0 and "LeakSanitizer" not in err,
                  f"netc {cmd} {os.path.basename(m) if m else 'models/*.net'}: no leak {err.strip()[-300:]}")
    bad = os.path.join(A.src, "tests", "frontend", "bad", "shape_mismatch.net")
    rc, _, err = run([A.netc, "check", bad], env=env, timeout=60)
    check(rc == 1 and "LeakSanitizer" not in err, "netc check of a bad model: no leak")
    data = small_data("data", 300, 100)
    env = env_for({"ASAN_OPTIONS": "detect_leaks=1:max_allocation_size_mb=2048"})
    rc, out, err = train(["--data", data, "--epochs", "2", "--save", P("l.ckpt"), "--log", P("l.csv"),
                          "--json", "--quiet"], env=env)
    check(rc == 0 and "LeakSanitizer" not in err, f"train-autoencoder, 2 epochs: no leak {err.strip()[-300:]}")
    rc, out, err = train(["--data", data, "--epochs", "3", "--resume", P("l.ckpt"), "--patience", "1",
                          "--json", "--quiet"], env=env)
    check(rc == 0 and "LeakSanitizer" not in err, f"train-autoencoder --resume --patience: no leak {err.strip()[-300:]}")
    rc, out, err = train(["--data", data, "--epochs", "1", "--resume", P("missing.ckpt"), "--quiet"], env=env)
    check(rc == 1 and "LeakSanitizer" not in err, "train-autoencoder failing on a missing checkpoint: no leak")
    interp = [A.netc, "run", os.path.join(A.src, "models", "autoencoder.net"), "--data", data,
              "--epochs", "1", "--quiet"]
    rc, out, err = run(interp, env=netc_env, timeout=600)
    check(rc == 0 and "LeakSanitizer" not in err, f"netc run (interpreter), 1 epoch: no leak {err.strip()[-300:]}")


CHECKS = {"hostile": hostile, "crash": crash, "diskfull": diskfull, "nan": nan, "leaks": leaks}
try:
    CHECKS[A.check]()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"hardening {A.check}:", "all checks passed" if not failures else f"{failures} check(s) failed")
sys.exit(1 if failures else 0)
