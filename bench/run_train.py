#!/usr/bin/env python3
"""bench/run_train: router training throughput, in one run on the same labels.

Figures (training samples per second of wall time, each whole `drllm train` command):
  cached inputs (the search's saved features) against online inputs (the backbone runs every prompt along its
  labelled plan first), 1 rank; and cached inputs on 1 against 2 MPI ranks (the scaling efficiency here).
  Checkpoints (steps per second of the training loop, from the command's own "seconds"): a checkpoint every
  --checkpoint-every steps written in the background, and the same written before the next step
  (--checkpoint-sync), against only the last one. Streamed inputs (--max-memory-gb: read from the shards per step,
  the next step's on a thread) against in memory, in steps per second of the same loop.
Labels: a quick search with --save-features on ARC-Challenge train with --model (default: drllm's default model,
or $DRLLM_MODEL).

usage: bench/run_train.py [--build build] [--model NAME] [--examples 32] [--epochs 10]
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser()
parser.add_argument("--build", default=os.path.join(root, "build"))
parser.add_argument("--examples", type=int, default=32)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--checkpoint-every", type=int, default=10)
parser.add_argument("--model", default=os.environ.get("DRLLM_MODEL", ""), help="registry name or path ('': the default)")
args = parser.parse_args()
drllm = os.path.join(args.build, "cli", "drllm")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
work = tempfile.mkdtemp(prefix="drllm-train-bench-")
labels = os.path.join(work, "labels")
subprocess.run([drllm, "search", "--data", os.path.join(root, "datasets", "arc_challenge_train.jsonl"),
                "--limit", str(args.examples), "--simulations", "2", "--save-features", "--out", labels,
                *(["--model", args.model] if args.model else [])],
               check=True, capture_output=True, env=env)


def train(name, inputs, ranks, extra=(), summary=None):
    cmd = [drllm, "train", "--labels", labels, "--out", os.path.join(work, name), "--inputs", inputs,
           "--epochs", str(args.epochs), "--holdout-every", "0", "--warmup", "10", *extra,
           *(["--model", args.model] if args.model and inputs == "online" else [])]
    if ranks > 1:
        cmd = ["mpirun", "-np", str(ranks), "--bind-to", "none"] + cmd
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    if summary is not None:
        summary.update(json.loads(r.stdout))
    return args.examples * args.epochs / wall, wall


def steps_per_second(name, extra):
    """The training loop's steps per second (without the load), batch 4 so that there are many steps."""
    out = {}
    train(name, "cached", 1, ["--batch", "4", *extra], out)
    return out["steps_this_run"] / out["seconds"]


cached1, w1 = train("cached1", "cached", 1)
online1, w2 = train("online1", "online", 1)
cached2, w3 = train("cached2", "cached", 2)
print(f"router training, {args.examples} labelled examples x {args.epochs} epochs, labels of {args.model or 'the default model'}")
print(f"  cached inputs, 1 rank : {cached1:8.1f} samples/s ({w1:.1f} s)")
print(f"  online inputs, 1 rank : {online1:8.1f} samples/s ({w2:.1f} s)   cached/online = {cached1 / online1:.1f}x")
print(f"  cached inputs, 2 ranks: {cached2:8.1f} samples/s ({w3:.1f} s)   2 ranks/1 = {cached2 / cached1:.2f} "
      f"(scaling efficiency {cached2 / cached1 / 2:.0%})")
every = ["--checkpoint-every", str(args.checkpoint_every)]
none = steps_per_second("ckpt-none", ["--checkpoint-every", "1000000000"])
background = steps_per_second("ckpt-background", every)
sync = steps_per_second("ckpt-sync", every + ["--checkpoint-sync"])
print(f"  checkpoints every {args.checkpoint_every} steps (batch 4, 1 rank): only the last {none:7.1f} steps/s, "
      f"in the background {background:7.1f} ({background / none:.3f} of it), "
      f"written before the next step {sync:7.1f} ({sync / none:.3f})")
streamed = steps_per_second("streamed", ["--checkpoint-every", "1000000000", "--max-memory-gb", "0.5"])
print(f"  inputs streamed from the shards (batch 4, 1 rank): {streamed:7.1f} steps/s, "
      f"{streamed / none:.3f} of in memory")
shutil.rmtree(work)
