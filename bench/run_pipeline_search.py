#!/usr/bin/env python3
"""bench/run_pipeline_search: the label search with the backbone split into 2 pipeline stages (one rank each)
against one rank with both threads, and against 2 data-parallel ranks, over the same examples in the same run.

Figures: examples per second of each, and their ratios to 1 rank x 2 threads. The honest reading on 2 cores:
today's schedule runs one forward call at a time through the stages (docs/pipeline-stages.md), so 2 stages compute
at the speed of one 1-thread rank plus the messages, and data-parallel ranks are the faster use of 2 cores. Stages
are for a backbone that does not fit one device; micro-batches that keep both stages busy are the next step.

usage: bench/run_pipeline_search.py [--build build] [--model NAME] [--limit 8] [--simulations 10]
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
parser.add_argument("--model", default=os.environ.get("DRLLM_MODEL", ""), help="registry name or path ('': the default)")
parser.add_argument("--limit", type=int, default=8)
parser.add_argument("--simulations", type=int, default=10)
args = parser.parse_args()
drllm = os.path.join(args.build, "cli", "drllm")
data = os.path.join(root, "datasets", "arc_challenge_train.jsonl")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
work = tempfile.mkdtemp(prefix="drllm-pipeline-bench-")


def search(name, ranks, extra=(), threads=None):
    cmd = [drllm, *(["--threads", str(threads)] if threads else []), "search", "--data", data, "--limit", str(args.limit), "--simulations", str(args.simulations),
           "--out", os.path.join(work, name), *(["--model", args.model] if args.model else []), *extra]
    if ranks > 1:
        cmd = ["mpirun", "-np", str(ranks), "--bind-to", "none"] + cmd
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return args.limit / (time.perf_counter() - start)


one = search("one", 1, threads=2)
stages = search("stages", 2, ["--pipeline-stages", "2"])
ranks = search("ranks", 2)
print(f"label search, {args.limit} ARC-Challenge train questions, {args.simulations} simulations, "
      f"model {args.model or 'default'}")
print(f"  1 rank x 2 threads        : {one:.3f} examples/s (reference)")
print(f"  2 stages x 1 rank (1 pipe): {stages:.3f} examples/s   ratio {stages / one:.2f}")
print(f"  2 data-parallel ranks     : {ranks:.3f} examples/s   ratio {ranks / one:.2f}")
shutil.rmtree(work)
