#!/usr/bin/env python3
"""End-to-end tests of the training driver (runtime/driver.c) through a
trainer with a hand-written model (logreg.c) on the committed MNIST subset:
command-line validation, training that learns, the --json line, the CSV
log, checkpoints, --resume equal to an uninterrupted run, early stopping,
--load / --load-prefix, and NaN detection.

usage: test_driver.py PATH/TO/train-logreg-test
"""
import csv
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

TRAINER = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1


def run(args, model="logreg", env_extra=None):
    env = dict(os.environ, NETRT_TEST_MODEL=model, OMP_NUM_THREADS="2")
    env.update(env_extra or {})
    p = subprocess.run([TRAINER] + args, capture_output=True, text=True, env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr


def last_json(out):
    lines = [l for l in out.strip().splitlines() if l.strip()]
    return json.loads(lines[-1])


def kill_after_checkpoint(args, ck, model):
    """Runs the trainer with args (which --save to ck) and kills it (SIGKILL)
    as soon as ck holds a finished epoch; returns that epoch (None if the
    run ended first)."""
    env = dict(os.environ, NETRT_TEST_MODEL=model, OMP_NUM_THREADS="2")
    proc = subprocess.Popen([TRAINER] + args, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    epoch = None
    while proc.poll() is None:
        if os.path.exists(ck):
            buf = open(ck, "rb").read(72)
            if len(buf) == 72 and struct.unpack_from("<I", buf, 64)[0]:
                epoch = struct.unpack_from("<i", buf, 68)[0]
                proc.send_signal(signal.SIGKILL)
                break
        time.sleep(0.002)
    proc.wait()
    return epoch if proc.returncode == -signal.SIGKILL else None


tmp = tempfile.mkdtemp(prefix="netrt-test-driver-")
P = lambda name: os.path.join(tmp, name)

# --help: exit 0, every option with its default.
rc, out, err = run(["--help"])
check(rc == 0, "--help exits 0")
for opt in ["--data", "--epochs", "--batch", "--optimizer", "--lr", "--momentum", "--nesterov",
            "--weight-decay", "--seed", "--threads", "--save", "--load", "--load-prefix",
            "--resume", "--log", "--patience", "--json", "--quiet", "--help", "--dampening",
            "--beta1", "--beta2", "--eps", "--amsgrad", "--schedule", "--step-size", "--milestones",
            "--gamma", "--t-max", "--eta-min", "--pct-start", "--div-factor", "--final-div-factor",
            "--warmup", "--warmup-factor", "--clip-norm", "--clip-value", "--alpha", "--centered",
            "--no-bias-decay", "--factor", "--plateau-patience", "--threshold", "--cooldown",
            "--min-lr"]:
    check(opt in out, f"--help lists {opt}")
check("[10]" in out and "[256]" in out and "[0.001]" in out, "--help shows defaults")
# AdamW's decay default is torch's 1e-2, not the 0 of adam and sgd.
check("adamw: 0.01]" in out, "--help shows AdamW's weight decay default")

# Bad values: exit 2 and a message naming the option.
for args, word in [(["--epochs", "0"], "--epochs"), (["--epochs", "3x"], "--epochs"),
                   (["--lr", "abc"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "-1"], "--lr"),
                   (["--optimizer", "adagrad"], "--optimizer"), (["--batch", "-4"], "--batch"),
                   (["--momentum", "2"], "--momentum"), (["--seed", "-1"], "--seed"),
                   (["--threads", "0"], "--threads"), (["--frobnicate"], "--frobnicate"),
                   (["--epochs"], "--epochs"), (["--nesterov", "--optimizer", "sgd"], "--nesterov"),
                   (["--momentum", "0.9"], "--momentum"), (["--load-prefix", "x"], "--load-prefix"),
                   (["--load", "a", "--resume", "b"], "--resume"),
                   (["--beta1", "1"], "--beta1"), (["--beta2", "1.5"], "--beta2"),
                   (["--optimizer", "sgd", "--amsgrad"], "--amsgrad"),
                   (["--optimizer", "sgd", "--eps", "1e-6"], "--eps"),
                   (["--dampening", "0.1"], "--dampening"),
                   (["--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--dampening", "0.1"],
                    "--dampening"),
                   (["--schedule", "linear"], "--schedule"), (["--schedule", "step"], "--step-size"),
                   (["--step-size", "2"], "--step-size"), (["--schedule", "multistep"], "--milestones"),
                   (["--schedule", "multistep", "--milestones", "5,2"], "--milestones"),
                   (["--schedule", "cosine", "--gamma", "0.5"], "--gamma"),
                   (["--schedule", "onecycle", "--warmup", "2"], "--warmup"),
                   (["--warmup-factor", "0.5"], "--warmup-factor"),
                   (["--clip-norm", "1", "--clip-value", "1"], "--clip-value"),
                   (["--alpha", "0.9"], "--alpha"), (["--centered"], "--centered"),
                   (["--cooldown", "2"], "--cooldown"),
                   (["--schedule", "plateau", "--warmup", "1"], "--warmup"),
                   (["--optimizer", "rmsprop", "--amsgrad"], "--amsgrad"),
                   (["--optimizer", "rmsprop", "--nesterov"], "--nesterov"),
                   (["--optimizer", "rmsprop", "--alpha", "1.5"], "--alpha")]:
    rc, out, err = run(args)
    check(rc == 2 and word in err, f"{' '.join(args)}: exit 2 naming {word} (rc {rc}: {err.strip()[:80]})")

# A mistyped option: the nearest one is suggested; a far one is not.
rc, out, err = run(["--epoch", "3"])
check(rc == 2 and "did you mean '--epochs'" in err, f"--epoch suggests --epochs ({err.strip()[:90]})")
rc, out, err = run(["--weight_decay", "0.1"])
check(rc == 2 and "did you mean '--weight-decay'" in err, f"--weight_decay suggests --weight-decay")
rc, out, err = run(["--frobnicate"])
check(rc == 2 and "did you mean" not in err, "no suggestion for an option far from all")

# Missing data directory: exit 1, the file named.
rc, out, err = run(["--data", P("nodata"), "--quiet"])
check(rc == 1 and "nodata/train-images-idx3-ubyte" in err, f"missing data named ({err.strip()[:100]})")

# Training learns; --json last line; CSV log; --batch clamped.
rc, out, err = run(["--epochs", "3", "--batch", "100000", "--json", "--quiet", "--log", P("a.csv"),
                    "--save", P("a.ckpt")])
check(rc == 0, f"3 epochs train (rc {rc})")
check("using 512" in err, "--batch clamped to max_batch with a note")
j = last_json(out)
print("   ", j)
check(set(j) >= {"model", "epochs", "train_loss", "val_loss", "test_loss", "test_accuracy",
                 "seconds", "train_images_per_second"}, "JSON has every field")
check(j["model"] == "logreg" and j["epochs"] == 3, "JSON model and epochs")
check(j["test_accuracy"] > 0.75, f"test accuracy {j['test_accuracy']} > 0.75 after 3 epochs")
rows = list(csv.DictReader(open(P("a.csv"))))
check(len(rows) == 3 and [r["epoch"] for r in rows] == ["1", "2", "3"], "CSV: one row per epoch")
check(list(rows[0].keys()) == ["epoch", "train_loss", "val_loss", "val_accuracy", "seconds",
                               "images_per_second", "lr"], "CSV header")
check(all(float(r["lr"]) == 1e-3 for r in rows), "CSV: lr 1e-3 in every epoch without a schedule")
check("lr" not in j, "no lr in the JSON without a schedule (the summary stays as it was)")
tl = [float(r["train_loss"]) for r in rows]
vl = [float(r["val_loss"]) for r in rows]
print("    train loss", tl, "val loss", vl)
check(tl[0] > tl[1] > tl[2] and vl[0] > vl[2], "losses go down")
check(abs(vl[-1] - j["val_loss"]) < 1e-6 * vl[-1], "JSON val_loss is the last epoch's")
check(os.path.exists(P("a.ckpt")) and not os.path.exists(P("a.ckpt.tmp")), "checkpoint written, no .tmp")

# Reproducible: the same command gives the same numbers; threads do not matter.
rc, out1, _ = run(["--epochs", "2", "--json", "--quiet", "--threads", "2"], "linae")
rc2, out2, _ = run(["--epochs", "2", "--json", "--quiet", "--threads", "1"], "linae")
j1, j2 = last_json(out1), last_json(out2)
check(rc == 0 and rc2 == 0 and j2["test_loss"] == j1["test_loss"] and j2["train_loss"] == j1["train_loss"],
      "same seed, same result (1 vs 2 threads)")
rc, out3, _ = run(["--epochs", "2", "--json", "--quiet", "--seed", "2"], "linae")
check(last_json(out3)["train_loss"] != j1["train_loss"], "another seed, another result")

# Resume: 2 epochs + resume to 4 equals 4 epochs straight (bitwise: same seeds per step).
# The denoising model draws noise, so this also checks the per-step seeds.
for model in ["logreg", "linae"]:
    rc, o4, _ = run(["--epochs", "4", "--json", "--quiet", "--optimizer", "sgd", "--momentum", "0.9",
                     "--lr", "0.01"], model)
    rc1, _, _ = run(["--epochs", "2", "--quiet", "--optimizer", "sgd", "--momentum", "0.9", "--lr",
                     "0.01", "--save", P(f"r-{model}.ckpt"), "--log", P(f"r-{model}.csv")], model)
    rc2, o2, e2 = run(["--epochs", "4", "--json", "--optimizer", "sgd", "--momentum", "0.9",
                       "--lr", "0.01", "--resume", P(f"r-{model}.ckpt"), "--log", P(f"r-{model}.csv")],
                      model)
    a, b = last_json(o4), last_json(o2)
    print("   ", model, "straight", a["test_loss"], "resumed", b["test_loss"])
    check(rc == 0 and rc1 == 0 and rc2 == 0 and "resuming" in e2, f"{model}: resume runs")
    check(a["test_loss"] == b["test_loss"] and a["train_loss"] == b["train_loss"] and b["epochs"] == 4,
          f"{model}: resumed run equals the uninterrupted one")
    rows = list(csv.DictReader(open(P(f"r-{model}.csv"))))
    check([r["epoch"] for r in rows] == ["1", "2", "3", "4"], f"{model}: resumed log appends")
    if model == "linae":
        check("test_accuracy" not in b, "no accuracy without labels")

# Resume with AMSGrad (a third state array) and non-default betas and eps.
adam = ["--optimizer", "adamw", "--amsgrad", "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6",
        "--lr", "3e-3"]
rc, o4, _ = run(["--epochs", "3", "--json", "--quiet"] + adam, "linae")
rc1, _, _ = run(["--epochs", "1", "--quiet", "--save", P("ams.ckpt")] + adam, "linae")
rc2, o2, _ = run(["--epochs", "3", "--json", "--quiet", "--resume", P("ams.ckpt")] + adam, "linae")
check(rc == rc1 == rc2 == 0 and last_json(o4)["test_loss"] == last_json(o2)["test_loss"],
      "AMSGrad: resumed run equals the uninterrupted one")
rc, _, err = run(["--epochs", "3", "--quiet", "--optimizer", "adamw", "--resume", P("ams.ckpt")], "linae")
check(rc == 1 and "3 arrays" in err, f"resume without --amsgrad refused ({err.strip()[:90]})")

# Schedules: the rate of each epoch in the log and the JSON; resumed in the
# middle of a schedule (per epoch, and OneCycle's per step), with clipping,
# a run equals the uninterrupted one bit for bit.
rc, out, _ = run(["--epochs", "3", "--json", "--quiet", "--optimizer", "sgd", "--lr", "0.01",
                  "--schedule", "step", "--step-size", "1", "--gamma", "0.5", "--log", P("s.csv")], "linae")
lrs = [float(r["lr"]) for r in csv.DictReader(open(P("s.csv")))]
check(rc == 0 and lrs == [0.01, 0.005, 0.0025] and last_json(out).get("lr") == 0.0025,
      f"step schedule: CSV rates {lrs}, JSON lr {last_json(out).get('lr')}")
for tag, sched in [("cosine + warm-up, clip-norm", ["--schedule", "cosine", "--warmup", "2",
                                                    "--clip-norm", "0.5"]),
                   ("multistep, clip-value", ["--schedule", "multistep", "--milestones", "1,3",
                                              "--clip-value", "0.01"]),
                   ("onecycle (sgd)", ["--schedule", "onecycle", "--optimizer", "sgd", "--lr", "0.05"]),
                   ("onecycle (adam)", ["--schedule", "onecycle", "--lr", "0.01"]),
                   ("rmsprop centered with momentum", ["--optimizer", "rmsprop", "--centered",
                                                       "--momentum", "0.5", "--alpha", "0.9"]),
                   # A 50% gain is needed to count: from the second epoch on, the
                   # rate halves after each.
                   ("plateau", ["--schedule", "plateau", "--threshold", "0.5", "--plateau-patience",
                                "0", "--factor", "0.5"])]:
    ck = P("sched-" + tag.replace(" ", "-").replace("(", "").replace(")", "").replace(",", "") + ".ckpt")
    args = ["--epochs", "4", "--quiet"] + sched
    rc, o4, _ = run(args + ["--json"], "linae")
    # Killed right after its first checkpoint (epoch 1 or 2 of 4, in the
    # middle of the schedule), then resumed with the same options.
    e = kill_after_checkpoint(args + ["--save", ck], ck, "linae")
    rc2, o2, _ = run(args + ["--json", "--resume", ck], "linae")
    a, b = last_json(o4), last_json(o2)
    check(rc == rc2 == 0 and e is not None and e < 4 and a["test_loss"] == b["test_loss"] and
          a.get("lr") == b.get("lr"), f"{tag}: resumed after epoch {e} of 4 equals the uninterrupted "
          f"run ({a['test_loss']} vs {b['test_loss']}, last lr {a.get('lr')})")

# The plateau schedule's state makes a version-2 checkpoint; without it the
# checkpoint stays version 1, as before.  (The first epoch always improves
# on "no loss yet"; the second is not 50% better, so the third runs at half.)
def ckpt_version(path):
    return struct.unpack_from("<I", open(path, "rb").read(12), 8)[0]


rc, out, _ = run(["--epochs", "3", "--json", "--quiet", "--schedule", "plateau", "--threshold", "0.5",
                  "--plateau-patience", "0", "--factor", "0.5", "--save", P("pl.ckpt"), "--log",
                  P("pl.csv")], "linae")
lrs = [float(r["lr"]) for r in csv.DictReader(open(P("pl.csv")))]
check(rc == 0 and lrs == [1e-3, 1e-3, 5e-4] and ckpt_version(P("pl.ckpt")) == 2 and
      ckpt_version(P("a.ckpt")) == 1, f"plateau: rates {lrs}, checkpoint versions "
      f"{ckpt_version(P('pl.ckpt'))} (plateau) and {ckpt_version(P('a.ckpt'))} (none)")

# --no-bias-decay exempts the 1-d tensors: it changes an AdamW run (decay
# 1e-2) and leaves a run without decay bit for bit as it was.
res = {}
for args in (["--optimizer", "adamw"], ["--optimizer", "adamw", "--no-bias-decay"], [],
             ["--no-bias-decay"]):
    rc, out, _ = run(["--epochs", "2", "--json", "--quiet"] + args)
    res[" ".join(args)] = last_json(out)["test_loss"] if rc == 0 else None
check(None not in res.values() and res["--optimizer adamw"] != res["--optimizer adamw --no-bias-decay"]
      and res[""] == res["--no-bias-decay"], f"--no-bias-decay: {res}")

# Resuming from an older checkpoint drops the log rows after its epoch.
rc, _, _ = run(["--epochs", "3", "--quiet", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.01",
                "--resume", P("r-logreg.ckpt"), "--log", P("r-logreg.csv")])
rows = list(csv.DictReader(open(P("r-logreg.csv"))))
check(rc == 0 and [r["epoch"] for r in rows] == ["1", "2", "3"], "log trimmed to the resumed epoch")

# kill -9 in the middle of a run: the checkpoint is whole (atomic save), and
# resuming from it reproduces the uninterrupted run exactly.
args6 = ["--epochs", "6", "--quiet", "--json"]
rc, straight, _ = run(args6, "linae")
env = dict(os.environ, NETRT_TEST_MODEL="linae", OMP_NUM_THREADS="2")
proc = subprocess.Popen([TRAINER] + args6 + ["--save", P("k.ckpt")], env=env,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.time()
while not os.path.exists(P("k.ckpt")) and proc.poll() is None and time.time() - t0 < 300:
    time.sleep(0.01)
time.sleep(0.3)
killed = proc.poll() is None
if killed:
    proc.send_signal(signal.SIGKILL)
proc.wait()
rc, resumed, err = run(["--epochs", "6", "--json", "--resume", P("k.ckpt")], "linae")
print("   ", "killed" if killed else "finished before the kill", "; then:", err.strip().splitlines()[0][:90])
check(rc == 0 and last_json(resumed)["test_loss"] == last_json(straight)["test_loss"],
      "resume after kill -9 equals the uninterrupted run")

# Resume with another optimizer: a clear error.
rc, _, err = run(["--epochs", "4", "--resume", P("r-logreg.ckpt"), "--quiet"])
check(rc == 1 and "optimizer state is for sgd" in err, f"resume with adam refused ({err.strip()[:90]})")

# Early stopping: with lr 0 the validation loss never improves after epoch 1,
# so patience 2 stops after epoch 3 of 10.
rc, out, err = run(["--epochs", "10", "--lr", "0", "--patience", "2", "--json", "--save", P("p.ckpt")])
check(rc == 0 and last_json(out)["epochs"] == 3 and "early stop" in err, "patience stops the run")
rc, out2, err = run(["--epochs", "10", "--lr", "0", "--patience", "2", "--json", "--resume", P("p.ckpt")])
check(rc == 0 and last_json(out2)["epochs"] == 3 and last_json(out2)["test_loss"] == last_json(out)["test_loss"],
      "a run that stopped early stays stopped when resumed")

# --load: full (same model) and by prefix; another model's checkpoint is refused.
rc, out, _ = run(["--epochs", "1", "--lr", "0", "--load", P("a.ckpt"), "--json", "--quiet"])
check(rc == 0 and abs(last_json(out)["test_loss"] - j["test_loss"]) <= 1e-6 * j["test_loss"],
      "--load restores the parameters (lr 0: same test loss)")
rc, out, _ = run(["--epochs", "1", "--lr", "0", "--load", P("a.ckpt"), "--load-prefix", "head_",
                  "--json", "--quiet"])
check(rc == 0 and abs(last_json(out)["test_loss"] - j["test_loss"]) <= 1e-6 * j["test_loss"],
      "--load-prefix head_ loads every tensor of logreg")
rc, _, err = run(["--epochs", "1", "--load", P("a.ckpt"), "--quiet"], "linae")
check(rc == 1 and "no tensor encoder_w" in err, f"another model's checkpoint refused ({err.strip()[:90]})")

# NaN/Inf: a huge learning rate diverges; exit 3, epoch and step named,
# the last good checkpoint kept byte for byte.
rc, _, _ = run(["--epochs", "1", "--optimizer", "sgd", "--lr", "0.01", "--save", P("n.ckpt"),
                "--quiet"], "linae")
before = open(P("n.ckpt"), "rb").read()
rc, out, err = run(["--epochs", "3", "--optimizer", "sgd", "--lr", "1e5", "--resume", P("n.ckpt"),
                    "--save", P("n.ckpt"), "--json"], "linae")
print("   ", err.strip().splitlines()[-1])
check(rc == 3 and "epoch 2, step" in err and ("NaN" in err or "infinite" in err),
      "divergence stops with exit 3 naming epoch and step")
check(last_json(out).get("error") == "non-finite loss", "JSON reports the divergence")
check(open(P("n.ckpt"), "rb").read() == before, "last good checkpoint intact")

subprocess.run(["rm", "-rf", tmp])
print("test_driver:", "all checks passed" if not failures else f"{failures} check(s) failed")
sys.exit(1 if failures else 0)
