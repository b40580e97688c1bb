#!/usr/bin/env python3
"""Router training with its inputs streamed from the label shards (`drllm train --max-memory-gb G`) against the
same training with every input in memory: the routers are the same bytes and the metrics the same numbers, on one
rank and on two under mpirun, and across an interrupted then resumed run. On a feature set of over 2 GB (a real
search's features of the test model, copied into many more examples with h5py) the peak resident memory of the
training process, as the kernel counts it for the child (getrusage), stays under a 512 MB bound. A bound too small
for one step's buffers is refused, naming the sizes; a row of Inf in a shard whose checksums were forged to match
is refused when it is read, naming the shard and row.

usage: test_train_streamed.py DRLLM DATASETS_DIR WORK_DIR
"""
import glob
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, once  # noqa: E402
from interrupt import mpi_environment  # noqa: E402
from label_forgery import forge_checksum  # noqa: E402

drllm, datasets, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
checks = Checklist()
check = checks.check
env = mpi_environment()
BOUND_GB = 0.512
# Runs the command as its only child and prints the child's peak resident memory in bytes (Linux: ru_maxrss is kB).
MEASURE = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, file=sys.stderr); sys.exit(r.returncode)")


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1500, env=env)


@once
def labels():
    """A real search's labels with router features (the test model, a few simulations)."""
    out = os.path.join(work, "labels")
    r = run([drllm, "search", "--data", os.path.join(datasets, "arc_challenge_train.jsonl"), "--limit", "10",
             "--simulations", "2", "--shard-rows", "4", "--save-features", "--out", out])
    if not check(r.returncode == 0 and len(glob.glob(os.path.join(out, "shard-*.h5"))) >= 2,
                 "a search with --save-features makes labels in several shards", r.stderr[-1500:]):
        raise RuntimeError("no labels")
    return out


def train(labels_dir, out, extra=(), ranks=1):
    cmd = [drllm, "train", "--labels", labels_dir, "--out", out, "--holdout-every", "3", "--epochs", "4", "--batch",
           "4", "--micro-batch", "1", "--warmup", "3", "--checkpoint-every", "3", *extra]
    return run((["mpirun", "-np", str(ranks), "--bind-to", "none"] if ranks > 1 else []) + cmd)


def result(r):
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        return {}


def same_run(a, b):
    """The routers' bytes and every metrics line of two run folders."""
    routers = [open(os.path.join(d, "routers.safetensors"), "rb").read() for d in (a, b)]
    metrics = [[json.loads(line) for line in open(os.path.join(d, "metrics.jsonl"))] for d in (a, b)]
    return routers[0] == routers[1] and metrics[0] == metrics[1] and len(metrics[0]) == 4


def streamed_equals_in_memory():
    """Streamed inputs train the routers of in-memory inputs, bit for bit, with the same metrics: 1 rank, 2 ranks,
    and a streamed run stopped after 5 steps then resumed."""
    for ranks in (1, 2):
        memory, streamed = (os.path.join(work, f"{kind}-{ranks}") for kind in ("memory", "streamed"))
        rm = train(labels(), memory, ranks=ranks)
        rs = train(labels(), streamed, ["--max-memory-gb", str(BOUND_GB)], ranks=ranks)
        if not check(rm.returncode == 0 and rs.returncode == 0, f"in-memory and streamed runs on {ranks} rank(s)",
                     rm.stderr[-800:] + rs.stderr[-800:]):
            continue
        check(result(rm).get("inputs_held") == "memory" and result(rs).get("inputs_held") == "streamed",
              f"the run reports how it held its inputs ({ranks} rank(s))", (rm.stdout, rs.stdout))
        check(same_run(memory, streamed), f"streamed inputs give the in-memory routers and metrics, {ranks} rank(s)")
    resumed = os.path.join(work, "streamed-resumed")
    first = train(labels(), resumed, ["--max-memory-gb", str(BOUND_GB), "--max-steps", "5"])
    second = train(labels(), resumed, ["--max-memory-gb", str(BOUND_GB)])
    if check(first.returncode == 0 and second.returncode == 0 and "resuming from" in second.stderr,
             "a streamed run stopped after 5 steps resumes", first.stderr[-500:] + second.stderr[-500:]):
        check(same_run(os.path.join(work, "memory-1"), resumed), "the resumed streamed run gives the same routers")


def copy_shard(source, path, copies, offset, scale):
    """Writes a shard of `copies` copies of every row of `source`, as new examples (ids and indices from `offset`),
    the features scaled by `scale` (so that no two copies are alike), then forges its checksums."""
    with h5py.File(source, "r") as src, h5py.File(path, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        n = len(src["item_id"])
        for name, data in src.items():
            values = data[()]
            if name == "features":
                tiled = np.concatenate([values * np.float16(scale * (1 + k / copies)) for k in range(copies)])
            elif name == "item_id":
                tiled = np.array([f"{v.decode()}-copy{offset + k * n + i}".encode() for k in range(copies)
                                  for i, v in enumerate(values)], dtype=object)
            elif name == "example_index":
                tiled = np.arange(offset, offset + copies * n, dtype=values.dtype)
            else:
                tiled = np.concatenate([values] * copies)
            dst.create_dataset(name, data=tiled, dtype=data.dtype)
    forge_checksum(path)
    return copies * n


@once
def large_labels():
    """Over 2 GB of router features: the real shards' rows copied into more shards (every checksum forged)."""
    out = os.path.join(work, "labels-large")
    os.makedirs(out)
    real = sorted(glob.glob(os.path.join(labels(), "shard-*.h5")))
    json.dump({"shards": []}, open(os.path.join(out, "manifest.json"), "w"))
    rows, total, k = 0, 0, 0
    while total < 2.1e9:
        source = real[k % len(real)]
        path = os.path.join(out, f"shard-r00000-{k:06d}.h5")
        manifest = json.load(open(os.path.join(out, "manifest.json")))
        manifest["shards"].append({"file": os.path.basename(path)})
        json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"))
        rows += copy_shard(source, path, 100, rows, 0.5 + 0.01 * k)
        with h5py.File(path, "r") as f:
            total += f["features"].size * 2
        k += 1
    return out, rows, total


def large_set_under_the_bound():
    """Training on over 2 GB of features with --max-memory-gb 0.512: the child's peak resident memory (getrusage,
    measured outside drllm) stays under 512 MB."""
    folder, rows, total = large_labels()
    out = os.path.join(work, "large")
    # 150 steps read 2,400 examples' rows; opening the shards has checked all of them (every row read once).
    cmd = [sys.executable, "-c", MEASURE, drllm, "train", "--labels", folder, "--out", out, "--holdout-every", "0",
           "--epochs", "1", "--max-steps", "150", "--batch", "16", "--micro-batch", "4", "--max-memory-gb",
           str(BOUND_GB)]
    r = run(cmd)
    if not check(r.returncode == 0, f"training on {rows} examples, {total / 1e9:.2f} GB of features, under a "
                 f"{BOUND_GB} GB bound", r.stderr[-1500:]):
        return
    peak = int(r.stderr.strip().splitlines()[-1])
    out_json = result(r)
    check(out_json.get("train_examples") == rows and out_json.get("steps_this_run") == 150 and
          out_json.get("inputs_held") == "streamed", "150 steps over all the examples, streamed", r.stdout)
    check(peak < BOUND_GB * 1e9 and total > 4 * BOUND_GB * 1e9,
          f"peak resident memory {peak / 1e6:.0f} MB (drllm says {out_json.get('peak_rss_mb', 0):.0f} MB) stays "
          f"under the {BOUND_GB * 1000:.0f} MB bound, for {total / 1e9:.2f} GB of features")
    print(f"figure: {rows} examples, {total / 1e9:.2f} GB of features, peak RSS {peak / 1e6:.0f} MB, "
          f"{out_json.get('seconds', 0):.1f} s of training", flush=True)


def refused_bounds_and_rows():
    """A bound too small for a step's buffers is refused naming the sizes; a forged Inf row is refused when read."""
    r = train(labels(), os.path.join(work, "tiny-bound"), ["--max-memory-gb", "0.001"])
    check(r.returncode == 1 and "is too small for streamed router inputs" in r.stderr and "MB per example" in r.stderr,
          "a bound too small for one step's buffers is refused, with the sizes", r.stderr[-600:])
    bad = os.path.join(work, "labels-inf")
    shutil.rmtree(bad, ignore_errors=True)
    shutil.copytree(labels(), bad)
    shard = sorted(glob.glob(os.path.join(bad, "shard-*.h5")))[-1]
    with h5py.File(shard, "r+") as f:
        row = f["features"][1]
        row[0, 0, 0] = np.inf
        f["features"][1] = row
    forge_checksum(shard)
    r = train(bad, os.path.join(work, "inf-row"), ["--max-memory-gb", str(BOUND_GB)])
    check(r.returncode == 1 and "Inf or NaN" in r.stderr and os.path.basename(shard) in r.stderr and "row 1" in r.stderr,
          "a row of Inf that passes every checksum is refused when streamed, naming the shard and row",
          r.stderr[-600:])


checks.run([streamed_equals_in_memory, large_set_under_the_bound, refused_bounds_and_rows])
checks.finish()
