#!/usr/bin/python3
"""make_interop_fixtures.py - the round trip between netc and PyTorch
(docs/pytorch.md), and the fixtures tests/interop/test_interop.py checks
without torch.

    /usr/bin/python3 tests/interop/make_interop_fixtures.py [BUILD_BIN]

BUILD_BIN (default build/bin) holds the built train-autoencoder,
train-classifier and netc-ckpt.  The script

1. trains the study's autoencoder (two epochs) and, on its frozen
   encoder, the classifier (three epochs) on the committed MNIST subset
   with netc's generated trainers, and evaluates each checkpoint with
   --epochs 0 (netc's test loss and accuracy);
2. exports each checkpoint with netc-ckpt export (PyTorch's names);
3. loads each .npz into the twin of bench/pytorch_models.py with
   load_state_dict(strict=True), evaluates the same test set in eval mode,
   and compares with netc: the loss to 1e-5, the accuracy exactly;
4. checks the naming rule on every study and zoo twin: its state_dict
   (random weights) saved with numpy.savez, netc-ckpt import, export, and
   loaded back with strict=True gives the same tensors;
5. writes the hostile .npz files of the import tests (model tiny.net).

Outputs, in tests/interop/fixtures/: autoencoder.ckpt, classifier.ckpt,
their .npz, results.json (both sides' numbers), tiny_*.npz.  Prints
netc's and torch's numbers.  Exit status 1 if any comparison fails.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import pytorch_models  # noqa: E402
import pytorch_zoo  # noqa: E402

OUT = os.path.join(HERE, "fixtures")
MNIST = os.path.join(ROOT, "runtime", "mnist")
TOL = 1e-5

# The trainings: (model, trainer options), brief (the committed subset,
# a few seconds each); the trainers' defaults otherwise (Adam, batch 256,
# seed 1).
RUNS = [
    ("autoencoder", ["--epochs", "2", "--lr", "3e-3"]),
    ("classifier", ["--epochs", "3", "--lr", "1e-2",
                    "--load", os.path.join(OUT, "autoencoder.ckpt"), "--load-prefix", "encoder_"]),
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("%s: exit %d\n%s" % (" ".join(cmd), r.returncode, r.stderr))
    return r.stdout


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def torch_eval(name, npz):
    """The twin with the exported weights, eval mode, on the test set:
    per-example losses in float32 as the model computes them, their mean
    in float64."""
    m = pytorch_models.MODELS[name]()
    with np.load(npz) as d:
        m.load_state_dict({k: torch.from_numpy(v) for k, v in d.items()}, strict=True)
    m.eval()
    x = torch.from_numpy(idx(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255)
    x = x.reshape(-1, 1, 28, 28)
    y = torch.from_numpy(idx(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    with torch.no_grad():
        if name == "classifier":
            logp = m.head(m.encoder(x))
            losses = F.nll_loss(logp, y, reduction="none")
            acc = float((logp.argmax(1) == y).double().mean())
        else:
            out = m.decoder(m.encoder(x))
            losses = ((out - x) ** 2).flatten(1).mean(1)
            acc = None
    return float(losses.double().mean()), acc


def check_names(binp, tmp):
    """Every twin's state_dict through import and export (step 4)."""
    ok = True
    models = {k: (v, os.path.join(ROOT, "models", k + ".net")) for k, v in pytorch_models.MODELS.items()}
    models.update({k: (v, os.path.join(ROOT, "models", "zoo", k + ".net")) for k, v in pytorch_zoo.ZOO.items()})
    for name, (cls, net) in models.items():
        torch.manual_seed(0)
        sd = cls().state_dict()
        a, c, b = (os.path.join(tmp, name + s) for s in (".npz", ".ckpt", ".out.npz"))
        np.savez(a, **{k: v.numpy() for k, v in sd.items()})
        run([os.path.join(binp, "netc-ckpt"), "import", a, "-o", c, "--model", net])
        run([os.path.join(binp, "netc-ckpt"), "export", c, "-o", b, "--model", net])
        back = cls()
        with np.load(b) as d:
            back.load_state_dict({k: torch.from_numpy(v) for k, v in d.items()}, strict=True)
        same = all(torch.equal(v, back.state_dict()[k]) for k, v in sd.items()
                   if not k.endswith("num_batches_tracked"))
        print("names %-12s %3d tensors, strict load %s" % (name, len(sd), "ok" if same else "DIFFERS"))
        ok &= same
    return ok


def hostile():
    """tiny.net's state_dict, right and wrong (step 5)."""
    rng = np.random.default_rng(1)
    good = {
        "tiny.dense1.weight": rng.standard_normal((3, 4)), "tiny.dense1.bias": rng.standard_normal(3),
        "tiny.bn1.weight": rng.standard_normal(3), "tiny.bn1.bias": rng.standard_normal(3),
        "tiny.bn1.running_mean": rng.standard_normal(3), "tiny.bn1.running_var": rng.random(3) + 0.5,
        "tiny.out_layer.weight": rng.standard_normal((2, 3)), "tiny.out_layer.bias": rng.standard_normal(2),
    }
    good = {k: v.astype(np.float32) for k, v in good.items()}
    good["tiny.bn1.num_batches_tracked"] = np.array(7, np.int64)
    cases = {
        "ok": dict(good),
        "missing": {k: v for k, v in good.items() if k != "tiny.bn1.running_var"},
        "extra": dict(good, **{"tiny.dense2.weight": np.zeros((2, 3), np.float32)}),
        "shape": dict(good, **{"tiny.dense1.weight": np.zeros((4, 3), np.float32)}),
        "dtype": dict(good, **{"tiny.out_layer.bias": good["tiny.out_layer.bias"].astype(np.float64)}),
        "tracked": dict(good, **{"tiny.bn1.num_batches_tracked": np.array([7.0], np.float32)}),
        "netc_names": {"tiny_dense1_w": good["tiny.dense1.weight"]},
    }
    for name, arrays in cases.items():
        np.savez(os.path.join(OUT, "tiny_%s.npz" % name), **arrays)
    # Cut in the middle of a member: the zip's directory is gone.
    with open(os.path.join(OUT, "tiny_ok.npz"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "tiny_truncated.npz"), "wb") as f:
        f.write(data[:len(data) // 2])


def main():
    binp = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin"))
    os.makedirs(OUT, exist_ok=True)
    results, ok = {}, True
    for name, opts in RUNS:
        ckpt, npz = (os.path.join(OUT, name + s) for s in (".ckpt", ".npz"))
        trainer = os.path.join(binp, "train-" + name)
        run([trainer, "--save", ckpt, "--quiet"] + opts)
        netc = json.loads(run([trainer, "--epochs", "0", "--load", ckpt, "--json", "--quiet"]).splitlines()[-1])
        run([os.path.join(binp, "netc-ckpt"), "export", ckpt, "-o", npz,
             "--model", os.path.join(ROOT, "models", name + ".net")])
        loss, acc = torch_eval(name, npz)
        r = {"netc": {"test_loss": netc["test_loss"]}, "torch": {"test_loss": loss}}
        line = "%-12s test loss netc %.9f torch %.9f (diff %.2e)" % (name, netc["test_loss"], loss,
                                                                     abs(netc["test_loss"] - loss))
        ok &= abs(netc["test_loss"] - loss) <= TOL
        if acc is not None:
            r["netc"]["test_accuracy"] = netc["test_accuracy"]
            r["torch"]["test_accuracy"] = acc
            line += ", accuracy netc %.4f torch %.4f" % (netc["test_accuracy"], acc)
            ok &= abs(netc["test_accuracy"] - acc) < 1e-6   # k/2000 both: the same k
        print(line)
        results[name] = r
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    with tempfile.TemporaryDirectory() as tmp:
        ok &= check_names(binp, tmp)
    hostile()
    print("round trip %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
