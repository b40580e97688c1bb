#!/usr/bin/env python3
"""Router training against PyTorch and under real mpirun: one step's gradients equal PyTorch autograd on the same
features, focal loss and class weights (and the AdamW update equals torch.optim.AdamW); 2 ranks give one rank's
weights after 50 steps; kill -9 of a rank at random moments and SIGUSR1, then a rerun, give bitwise the
uninterrupted run's routers; cached and online inputs give the same routers; a damaged checkpoint is named and
skipped; another label set's checkpoint is refused; the export loads under the official parameter names.

usage: test_train_mpi.py DRLLM DATASETS_DIR WORK_DIR TRAIN_STEP
(TRAIN_STEP: tests/tools/train_step.cpp, which runs the first step through train::Trainer::train_step.)
"""
import glob
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, once  # noqa: E402
from interrupt import kill_one_rank, mpi_environment, start_until, stop_one_rank  # noqa: E402
from label_forgery import forge_checksum  # noqa: E402

drllm, datasets, work, train_step = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
checks = Checklist()
check = checks.check
env = mpi_environment()
L, D = 30, 576


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, **kw)


def mpirun(ranks):
    return ["mpirun", "-np", str(ranks), "--bind-to", "none"]


@once
def labels():
    """Labels with router features from the default model (a few simulations: the labels are what they are)."""
    out = os.path.join(work, "labels")
    r = run([drllm, "search", "--data", os.path.join(datasets, "arc_challenge_train.jsonl"), "--limit", "12",
             "--simulations", "3", "--save-features", "--out", out])
    if not check(r.returncode == 0, "a search with --save-features makes the labels", r.stderr[-1500:]):
        raise RuntimeError("no labels")
    return out


@once
def features():
    """The labels' features, window counts and labels as tensors, in example order."""
    rows = []
    for path in sorted(glob.glob(os.path.join(labels(), "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            for i in range(len(f["item_id"])):
                rows.append((int(f["example_index"][i]), f["features"][i].astype(np.float32),
                             int(f["feature_windows"][i]), f["labels"][i].astype(np.int64)))
    rows.sort(key=lambda x: x[0])
    X = torch.tensor(np.stack([x[1] for x in rows]))  # [N, L, 8, D]
    Y = torch.tensor(np.stack([x[3] for x in rows]))  # [N, L]
    return X, [x[2] for x in rows], Y


def train_command(out, extra=(), ranks=1, lead=()):
    cmd = [drllm, *lead, "train", "--labels", labels(), "--out", out, "--holdout-every", "0", "--batch", "4",
           "--micro-batch", "1", "--warmup", "5", "--checkpoint-every", "5", *extra]
    return (mpirun(ranks) if ranks > 1 else []) + cmd


def train(out, extra=(), ranks=1):
    return run(train_command(out, extra, ranks))


def routers(out):
    latest = open(os.path.join(out, "checkpoints", "latest")).read().strip()
    return load_file(os.path.join(out, "checkpoints", latest, "routers.safetensors"))


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


LONG_RUN = ["--epochs", "80"]


@once
def uninterrupted():
    """The 2-rank reference run of 80 epochs that the interrupted runs must reproduce."""
    out = os.path.join(work, "uninterrupted")
    t0 = time.time()
    r = train(out, LONG_RUN, ranks=2)
    if not check(r.returncode == 0, f"the uninterrupted 2-rank run ({time.time() - t0:.1f} s)", r.stderr[-800:]):
        raise RuntimeError("no reference run")
    return out


def first_step_equals_pytorch():
    """One step, driven from C++ through Trainer::train_step, against PyTorch autograd and torch.optim.AdamW."""
    X, Wn, Y = features()
    dump = os.path.join(work, "first-step.safetensors")
    r = run([train_step, labels(), dump])
    if not check(r.returncode == 0, "one training step runs", r.stderr[-1500:]):
        return
    d = load_file(dump)
    counts = torch.bincount(Y.reshape(-1), minlength=3).double()
    beta = 0.999
    alpha = (1 - beta) / (1 - beta ** counts.clamp(min=1))
    alpha = alpha / alpha.sum() * 3
    check(torch.allclose(d["alpha"].double(), alpha, atol=1e-6), "class weights: effective number, summing to 3",
          (d["alpha"], alpha))
    w1, b1, w2, b2 = (d["init." + k].clone().double().requires_grad_(True) for k in ("w1", "b1", "w2", "b2"))
    bound1, bound2 = math.sqrt(6 / (D + 128)), math.sqrt(6 / (128 + 3))
    check(w1.abs().max() <= bound1 and w2.abs().max() <= bound2 and not b1.any() and not b2.any(),
          "initial weights: Xavier-uniform bounds, zero biases")
    batch = d["batch"].tolist()
    total = 0
    for i in batch:
        w = Wn[i]
        x = X[i, :, :w].double()  # [L, w, D]
        h = torch.nn.functional.gelu(torch.einsum("lwd,lhd->lwh", x, w1) + b1[:, None], approximate="tanh")
        logits = (torch.einsum("lwh,lch->lwc", h, w2) + b2[:, None]).mean(1)  # averaged over windows
        logp = torch.log_softmax(logits, -1).gather(-1, Y[i][:, None]).squeeze(-1)
        loss = (-alpha[Y[i]] * (1 - logp.exp()) ** 2 * logp).mean()
        total = total + loss / len(batch)
    total.backward()
    worst = max(float((d["grad." + k].double() - p.grad).abs().max())
                for k, p in zip(("w1", "b1", "w2", "b2"), (w1, b1, w2, b2)))
    check(worst < 1e-5, f"gradients equal PyTorch autograd (max abs diff {worst:.1e})")
    check(abs(float(d["loss"]) - float(total.detach())) < 1e-6, "the step's loss equals PyTorch's",
          (float(d["loss"]), float(total.detach())))
    params = [torch.nn.Parameter(d["init." + k].clone().double()) for k in ("w1", "b1", "w2", "b2")]
    for p, k in zip(params, ("w1", "b1", "w2", "b2")):
        p.grad = d["grad." + k].double()
    opt = torch.optim.AdamW(params, lr=1e-3 * 1 / 5, weight_decay=0.01)  # warm-up step 1 of 5
    opt.step()
    got = d["after.w1"].double()
    check(float((got - params[0]).abs().max()) < 1e-6, "the AdamW update equals torch.optim.AdamW's")


def two_ranks_equal_one():
    """Two ranks give one rank's weights after 50 steps (the same global batches)."""
    r1 = train(os.path.join(work, "np1"), ["--epochs", "20", "--max-steps", "50"])
    r2 = train(os.path.join(work, "np2"), ["--epochs", "20", "--max-steps", "50"], ranks=2)
    if not check(r1.returncode == 0 and r2.returncode == 0, "50 steps on 1 and on 2 ranks",
                 r1.stderr[-800:] + r2.stderr[-800:]):
        return
    a, b = routers(os.path.join(work, "np1")), routers(os.path.join(work, "np2"))
    diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    check(diff < 1e-5, f"2 ranks give 1 rank's routers after 50 steps (max abs diff {diff:.1e})")


def start_until_epoch(out, epoch, lead=()):
    return start_until(train_command(out, LONG_RUN, 2, lead), env, lambda seen: seen[-1].startswith(f"epoch {epoch}/"))


def kill_then_resume():
    """kill -9 of a rank at random moments (epochs rank 0 has reported), then the same command: bitwise the
    uninterrupted run's routers."""
    reference = routers(uninterrupted())
    rng = random.Random(3)
    for epoch in rng.sample(range(16, 73), 3):  # three different moments
        out = os.path.join(work, f"killed-{epoch}")
        p, _ = start_until_epoch(out, epoch)
        killed = kill_one_rank(p, rng)
        r = train(out, LONG_RUN, ranks=2)
        check(killed and r.returncode == 0 and same(routers(out), reference),
              f"kill -9 after epoch {epoch} (killed: {killed}) + rerun: bitwise the uninterrupted routers",
              r.stderr[-800:])
        check(not glob.glob(os.path.join(out, "checkpoints", "*.tmp")), "no .tmp checkpoint left")


def stopped_rank_ends_the_job_then_resume():
    """SIGSTOP of one rank mid-training: its peer, waiting in the step's all-reduce, ends the job within
    --collective-timeout naming the stopped rank; the rerun resumes to bitwise the uninterrupted routers."""
    reference = routers(uninterrupted())
    out = os.path.join(work, "stopped")
    p, seen = start_until_epoch(out, 30, lead=("--collective-timeout", "5"))
    pid, ended, err, gone = stop_one_rank(p, random.Random(7), seen, limit=120)
    check(pid is not None and ended is not None and ended < 5 + 30 and p.returncode != 0,
          f"SIGSTOP of pid {pid} after epoch 30: the job ends by itself in {ended and round(ended, 1)} s (timeout 5 s)",
          err[-1500:])
    check(f"(pid {pid} on " in err and "has sent no heartbeat" in err and gone,
          "the message names the stopped rank, which does not outlive the job", err[-1500:])
    r = train(out, LONG_RUN, ranks=2)
    check(r.returncode == 0 and same(routers(out), reference), "the rerun: bitwise the uninterrupted routers",
          r.stderr[-800:])


def killed_during_a_background_save_then_resume():
    """kill -9 of both ranks while rank 0's background thread writes a checkpoint (saves every step; a step-N.tmp
    folder left on disk after the kill proves one was cut short): the newest committed checkpoint is the newest
    valid one, the rerun resumes from it and ends at bitwise the uninterrupted routers."""
    reference = routers(uninterrupted())
    for attempt in range(5):  # the kill can land between two saves; then try again
        out = os.path.join(work, f"killed-saving-{attempt}")
        cmd = train_command(out, LONG_RUN, 2)
        cmd[cmd.index("--checkpoint-every") + 1] = "1"
        checkpoints = os.path.join(out, "checkpoints")
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        while p.poll() is None:
            committed = glob.glob(os.path.join(checkpoints, "step-*[0-9]"))
            if len(committed) >= 1 and glob.glob(os.path.join(checkpoints, "step-*.tmp")) and \
                    max(int(d.rsplit("-", 1)[1]) for d in committed) >= 100:
                for child in subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split():
                    os.kill(int(child), signal.SIGKILL)
                break
            time.sleep(0.001)
        p.wait(timeout=300)
        cut_short = glob.glob(os.path.join(checkpoints, "step-*.tmp"))
        if cut_short:
            break
    check(bool(cut_short), f"kill -9 during a save: {[os.path.basename(d) for d in cut_short]} left unfinished "
          f"(attempt {attempt + 1})")
    newest = max(int(d.rsplit("-", 1)[1]) for d in glob.glob(os.path.join(checkpoints, "step-*[0-9]")))
    r = train(out, LONG_RUN, ranks=2)
    resumed = [l for l in r.stderr.splitlines() if "resuming from" in l]
    check(len(resumed) == 1 and f"(step {newest})" in resumed[0],
          f"the rerun resumes from the newest committed checkpoint, step {newest}", resumed)
    check(r.returncode == 0 and same(routers(out), reference), "the rerun: bitwise the uninterrupted routers",
          r.stderr[-800:])
    check(not glob.glob(os.path.join(checkpoints, "*.tmp")), "no .tmp checkpoint left after the rerun")


def preempt_then_resume():
    """SIGUSR1 mid-run: every rank checkpoints and exits 0; the rerun ends at the uninterrupted routers."""
    reference = routers(uninterrupted())
    out = os.path.join(work, "preempted")
    p, seen = start_until_epoch(out, 40)
    p.send_signal(signal.SIGUSR1)
    _, err = p.communicate(timeout=300)
    err = "".join(seen) + err
    check(p.returncode == 0 and "stop signal" in err and "epoch 80/" not in err,
          "SIGUSR1 after epoch 40: every rank checkpoints and exits 0 before the end", err[-800:])
    r = train(out, LONG_RUN, ranks=2)
    check(r.returncode == 0 and same(routers(out), reference), "SIGUSR1 + rerun: bitwise the uninterrupted routers")


def damaged_and_refused_checkpoints():
    """A damaged newest checkpoint is named and skipped; a checkpoint of other settings is refused."""
    reference_dir = uninterrupted()
    reference = routers(reference_dir)
    steps = sorted(int(s.split("-")[1]) for s in os.listdir(os.path.join(reference_dir, "checkpoints"))
                   if s.startswith("step-"))
    damaged = os.path.join(work, "damaged")
    shutil.rmtree(damaged, ignore_errors=True)
    shutil.copytree(reference_dir, damaged)
    victim = os.path.join(damaged, "checkpoints", f"step-{steps[-1]}", "routers.safetensors")
    raw = bytearray(open(victim, "rb").read())
    raw[-5] ^= 0xFF
    open(victim, "wb").write(bytes(raw))
    r = train(damaged, LONG_RUN, ranks=1)
    check(r.returncode == 0 and f"step-{steps[-1]}" in r.stderr and "skipped" in r.stderr,
          "a corrupted checkpoint is named and skipped", r.stderr[-800:])
    check(same(routers(damaged), reference), "resuming from the previous checkpoint ends at the same routers")
    r = run([drllm, "train", "--labels", labels(), "--out", reference_dir, "--holdout-every", "0", "--batch", "4",
             "--micro-batch", "1", "--warmup", "5", "--epochs", "81"])
    check(r.returncode != 0 and "other settings" in r.stderr, "a checkpoint of other settings is refused",
          r.stderr[-500:])
    # A manifest that leaves a file out (rewritten without it) no longer vouches for that file: the checkpoint is
    # skipped, named, even though every file it does list matches.
    import hashlib
    def rewrite_manifest(step_dir, drop=None):
        path = os.path.join(step_dir, "manifest.json")
        manifest = json.load(open(path))
        manifest["files"] = {n: hashlib.sha256(open(os.path.join(step_dir, n), "rb").read()).hexdigest()
                             for n in manifest["files"] if n != drop}
        json.dump(manifest, open(path, "w"))
    for case in ("omitted", "forged-step"):
        folder = os.path.join(work, f"manifest-{case}")
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(reference_dir, folder)
        newest = os.path.join(folder, "checkpoints", f"step-{steps[-1]}")
        if case == "omitted":
            moments = os.path.join(newest, "optimizer.safetensors")
            raw = bytearray(open(moments, "rb").read())
            raw[-5] ^= 0xFF
            open(moments, "wb").write(bytes(raw))
            rewrite_manifest(newest, drop="optimizer.safetensors")
            r = train(folder, LONG_RUN, ranks=1)
            check(r.returncode == 0 and "optimizer.safetensors is in the checkpoint but not in manifest.json" in r.stderr
                  and same(routers(folder), reference),
                  "a file the manifest leaves out makes the checkpoint unverified: skipped, named", r.stderr[-800:])
        else:
            state_path = os.path.join(newest, "state.json")
            state = json.load(open(state_path))
            state["step"] = steps[-1] + 1000
            json.dump(state, open(state_path, "w"))
            rewrite_manifest(newest)
            r = train(folder, LONG_RUN, ranks=1)
            check(r.returncode == 1 and f"says step {steps[-1] + 1000}" in r.stderr,
                  "a state.json whose step is not its folder's is refused, naming both", r.stderr[-500:])
    r = run([drllm, "train", "--labels", f"{labels()},{labels()}/", "--out", os.path.join(work, "twice")])
    check(r.returncode == 1 and "are the same folder" in r.stderr, "--labels A,A is refused (every row twice)",
          r.stderr[-300:])
    for bad, message in ((["--checkpoint-every", "0"], "--checkpoint-every (0)"), (["--lr", "nan"], "--lr (nan)"),
                         (["--keep-checkpoints", "0"], "--keep-checkpoints (0)")):
        r = run([drllm, "train", "--labels", labels(), "--out", os.path.join(work, "bad-options"), *bad])
        check(r.returncode == 1 and message in r.stderr and "must be" in r.stderr,
              f"{' '.join(bad)} is refused with a clear error", r.stderr[-500:])


def cached_equals_online():
    """Cached and online inputs give the same routers."""
    rc = train(os.path.join(work, "cached"), ["--epochs", "5", "--inputs", "cached"])
    ro = train(os.path.join(work, "online"), ["--epochs", "5", "--inputs", "online"])
    if not check(rc.returncode == 0 and ro.returncode == 0, "cached and online inputs train",
                 rc.stderr[-500:] + ro.stderr[-500:]):
        return
    a, b = routers(os.path.join(work, "cached")), routers(os.path.join(work, "online"))
    diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    check(diff < 1e-5, f"cached and online inputs give the same routers (max abs diff {diff:.1e})")


class Router(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = torch.nn.Linear(D, 128)
        self.linear2 = torch.nn.Linear(128, 3)


class Inner(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.routers = torch.nn.ModuleList(Router() for _ in range(L))


class Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.model = Inner()


def export_loads_under_official_names():
    """The export under the official names loads into a module shaped like the official modeling code's routers;
    the metrics have one line per epoch after every resume."""
    reference_dir = uninterrupted()
    exported = os.path.join(work, "routers.safetensors")
    r = run([drllm, "export-routers", reference_dir, exported])
    if not check(r.returncode == 0, "export-routers runs", r.stderr):
        return
    module = Outer()
    tensors = load_file(exported)
    missing, unexpected = module.load_state_dict(tensors, strict=False)
    check(not missing and not unexpected, "the export has exactly the official router parameters",
          (missing, unexpected))
    check(same(tensors, routers(reference_dir)), "exported values are the run's routers")
    metrics = [json.loads(l) for l in open(os.path.join(reference_dir, "metrics.jsonl"))]
    check([m["epoch"] for m in metrics] == list(range(80)), "one metrics line per epoch, none twice after resumes",
          [m["epoch"] for m in metrics][:10])


def tensorboard_scalars(run_dir):
    """{tag: [(step, value)]} as TensorBoard's own event reader reads RUN/tensorboard."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(os.path.join(run_dir, "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def tensorboard_reads_the_curves():
    """TensorBoard's event reader lists the training scalars: train/loss at every epoch's step equal to metrics.jsonl
    (as float32), held-out metrics under held_out/; a run preempted and resumed has the uninterrupted run's curve."""
    reference_dir = uninterrupted()
    metrics = [json.loads(l) for l in open(os.path.join(reference_dir, "metrics.jsonl"))]
    scalars = tensorboard_scalars(reference_dir)
    want = [(m["step"], float(np.float32(m["train_loss"]))) for m in metrics]
    check(scalars.get("train/loss") == want, "train/loss equals metrics.jsonl at every epoch",
          (scalars.get("train/loss", [])[:3], want[:3], list(scalars)))
    preempted = os.path.join(work, "preempted")
    if os.path.exists(os.path.join(preempted, "metrics.jsonl")):
        check(tensorboard_scalars(preempted).get("train/loss") == want,
              "after SIGUSR1 and a rerun the curve is the uninterrupted run's, no epoch twice")
    out = os.path.join(work, "held-out")
    r = run([drllm, "train", "--labels", labels(), "--out", out, "--holdout-every", "3", "--batch", "4", "--epochs", "2"])
    scalars = tensorboard_scalars(out) if r.returncode == 0 else {}
    metrics = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))] if r.returncode == 0 else []
    check(r.returncode == 0 and {"train/loss", "held_out/macro_f1", "held_out/loss"} <= set(scalars)
          and [v for _, v in scalars["held_out/macro_f1"]] == [float(np.float32(m["macro_f1"])) for m in metrics],
          "with a held-out split its loss and macro-F1 are curves too", (sorted(scalars), r.stderr[-800:]))


def held_out_metrics_and_kept_examples():
    """The last epoch's held-out metrics equal the same figures worked out here from the run's final routers (the
    router MLP in float64 over the held-out features, every 3rd example): per-layer accuracy, each class's precision,
    recall, F1 and support, macro-F1, the share of whole plans equal to the label, layers saved. And --examples
    correct trains on exactly the examples whose best plan is right (h5py's best_correct), or, where none is,
    refuses with a message that says so."""
    out = os.path.join(work, "held-out-metrics")
    cmd = [drllm, "train", "--labels", labels(), "--out", out, "--holdout-every", "3", "--epochs", "3", "--batch", "4",
           "--micro-batch", "1", "--warmup", "5"]
    r = run(cmd)
    if not check(r.returncode == 0, "a run with every 3rd example held out", r.stderr[-800:]):
        return
    last = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))][-1]
    X, Wn, Y = features()
    held = [i for i in range(len(Wn)) if i % 3 == 2]
    t = routers(out)
    predicted = []
    for i in held:
        row = []
        for l in range(L):
            x = X[i, l, :Wn[i]].double()
            h = torch.nn.functional.gelu(x @ t[f"model.routers.{l}.linear1.weight"].double().T
                                         + t[f"model.routers.{l}.linear1.bias"].double(), approximate="tanh")
            logits = (h @ t[f"model.routers.{l}.linear2.weight"].double().T
                      + t[f"model.routers.{l}.linear2.bias"].double()).mean(0)
            row.append(int(logits.argmax()))
        predicted.append(row)
    P, G = np.array(predicted), Y[held].numpy()
    want = {"accuracy": float((P == G).mean()), "plan_match": float((P == G).all(1).mean()),
            "predicted_layers_saved": L - float(P.sum(1).mean()), "label_layers_saved": L - float(G.sum(1).mean())}
    f1s = []
    for c, name in enumerate(("skip", "execute", "repeat")):
        tp, pc, gc = int(((P == c) & (G == c)).sum()), int((P == c).sum()), int((G == c).sum())
        precision, recall = (tp / pc if pc else 0.0), (tp / gc if gc else 0.0)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        want.update({f"{name}_precision": precision, f"{name}_recall": recall, f"{name}_f1": f1s[-1],
                     f"{name}_support": gc})
    want["macro_f1"] = sum(f1s) / 3
    wrong = {k: (last.get(k), v) for k, v in want.items() if k not in last or abs(last[k] - v) > 1e-9}
    check(not wrong, f"held-out metrics of {len(held)} examples equal the ones worked out from the routers", wrong)

    def train_kept(folder, name):
        r = run([drllm, "train", "--labels", folder, "--out", os.path.join(work, name), "--examples", "correct",
                 "--holdout-every", "0", "--epochs", "1", "--batch", "4", "--micro-batch", "1"])
        return r, (json.loads(r.stdout) if r.returncode == 0 else {})

    def right_plans(folder):
        kept = 0
        for path in glob.glob(os.path.join(folder, "shard-*.h5")):
            with h5py.File(path, "r") as f:
                kept += int(np.count_nonzero(f["best_correct"][:]))
        return kept

    # The test model's strict ARC answers are rarely right, so a copy of the labels marks some rows right (every
    # checksum forged to match) to see the filter keep exactly those.
    marked = os.path.join(work, "labels-marked")
    shutil.rmtree(marked, ignore_errors=True)
    shutil.copytree(labels(), marked)
    for path in sorted(glob.glob(os.path.join(marked, "shard-*.h5"))):
        with h5py.File(path, "r+") as f:
            f["best_correct"][0] = 1
        forge_checksum(path)
    for folder, name in ((labels(), "kept"), (marked, "kept-marked")):
        kept = right_plans(folder)
        r, trained = train_kept(folder, name)
        if kept == 0:
            check(r.returncode == 1 and "--examples correct keeps none" in r.stderr,
                  "--examples correct with no right plan is refused, saying so", r.stderr[-500:])
        else:
            check(trained.get("train_examples") == kept and f"{kept} of {len(Wn)} examples" in r.stderr,
                  f"--examples correct trains on the {kept} examples with a right plan", (r.stderr[-500:], trained))


def divergence_stops_before_nan_routers():
    """A run that diverges (--lr 1e30: the weights overflow within steps) stops with a message naming the step,
    instead of printing 'loss nan' and writing NaN routers; what it checkpointed before is finite."""
    out = os.path.join(work, "diverged")
    r = train(out, ["--epochs", "30", "--lr", "1e30"])
    check(r.returncode == 1 and "the loss or a gradient is" in r.stderr and "training step" in r.stderr and "nan" not in
          r.stderr.split("training step")[0].lower(), "divergence ends the run with a message naming the step",
          r.stderr[-600:])
    latest = os.path.join(out, "checkpoints", "latest")
    if os.path.exists(latest):
        check(all(torch.isfinite(t).all() for t in routers(out).values()), "the checkpointed routers are finite")


checks.run([first_step_equals_pytorch, two_ranks_equal_one, kill_then_resume, stopped_rank_ends_the_job_then_resume,
            killed_during_a_background_save_then_resume, preempt_then_resume,
            damaged_and_refused_checkpoints, cached_equals_online, export_loads_under_official_names,
            tensorboard_reads_the_curves, held_out_metrics_and_kept_examples, divergence_stops_before_nan_routers])
checks.finish()
