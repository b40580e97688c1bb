#!/usr/bin/env python3
"""bench/run_dist_search: the label search on 1 and 2 MPI ranks over the same examples, in the same run.

Figures: examples per second with 1 rank (all cores) and with 2 ranks (cores split between them), their ratio
(the scaling on this machine), and the time a resume spends before its first new example: the same command
rerun on a folder that holds all but one of the examples (model load, shard verification, queue start).

usage: bench/run_dist_search.py [--build build] [--limit 8] [--simulations 10]
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser()
parser.add_argument("--build", default=os.path.join(root, "build"))
parser.add_argument("--limit", type=int, default=8)
parser.add_argument("--simulations", type=int, default=10)
args = parser.parse_args()
drllm = os.path.join(args.build, "cli", "drllm")
data = os.path.join(root, "datasets", "arc_challenge_train.jsonl")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
work = tempfile.mkdtemp(prefix="drllm-dist-bench-")


def search(out, ranks, limit):
    cmd = [drllm, "search", "--data", data, "--limit", str(limit), "--simulations", str(args.simulations),
           "--out", out]
    if ranks > 1:
        cmd = ["mpirun", "-np", str(ranks), "--bind-to", "none"] + cmd
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    first_example = None
    for line in p.stderr:
        if first_example is None and " to go" in line:  # printed once shards are verified, before any new example
            first_example = time.perf_counter() - start
    if p.wait() != 0:
        raise SystemExit(f"{cmd} failed")
    return time.perf_counter() - start, first_example


one, _ = search(os.path.join(work, "one"), 1, args.limit)
two, _ = search(os.path.join(work, "two"), 2, args.limit)
# Resume: a folder with all but the last example (the 2-rank run's shards minus nothing: rerun with one more).
resumed = os.path.join(work, "resume")
shutil.copytree(os.path.join(work, "two"), resumed)
_, before_first = search(resumed, 2, args.limit + 1)
rate1, rate2 = args.limit / one, args.limit / two
print(f"label search, {args.limit} ARC-Challenge train questions, {args.simulations} simulations, default model")
print(f"  1 rank : {rate1:.3f} examples/s ({one:.1f} s)")
print(f"  2 ranks: {rate2:.3f} examples/s ({two:.1f} s)   ratio 2/1 = {rate2 / rate1:.2f} "
      f"(scaling efficiency {rate2 / rate1 / 2:.0%})")
print(f"  resume : {before_first:.2f} s from start until the first new example starts "
      f"(model load, {args.limit} examples' shards verified)")
shutil.rmtree(work)
