#!/usr/bin/env python3
"""bench/run_pipeline_search: the label search and an evaluation with the backbone split into 2 pipeline stages (one
rank each) against one rank with both threads, and against 2 data-parallel ranks, over the same examples in the
same run; the stages once with their default schedule (a forward call's sequences in one group per stage, and
batched generation's cohorts taking turns, so that the driver computes while the last stage does) and once with
each call sent whole and one at a time (DRLLM_MICRO_BATCHES=1).

Figures: examples per second of each, and their ratios to 1 rank x 2 threads. The honest reading on 2 cores:
2 stages of 1 thread each are at best one 2-thread rank, and data-parallel ranks are the faster use of 2 cores;
stages are for a backbone that does not fit one device. What the schedule buys shows in the two stage rows.

usage: bench/run_pipeline_search.py [--build build] [--model NAME] [--limit 8] [--simulations 10] [--eval-limit 24]
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
parser.add_argument("--eval-limit", type=int, default=24, help="ARC-Challenge test questions evaluated")
args = parser.parse_args()
drllm = os.path.join(args.build, "cli", "drllm")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
work = tempfile.mkdtemp(prefix="drllm-pipeline-bench-")


def timed(name, command, examples, ranks, threads=None, micro_batches=None):
    cmd = [drllm, *(["--threads", str(threads)] if threads else []), *command, "--out", os.path.join(work, name),
           *(["--model", args.model] if args.model else [])]
    if ranks > 1:
        cmd = ["mpirun", "-np", str(ranks), "--bind-to", "none"] + cmd
    run_env = dict(env, **({"DRLLM_MICRO_BATCHES": str(micro_batches)} if micro_batches else {}))
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=run_env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return examples / (time.perf_counter() - start)


def compare(what, command, examples):
    stages = ["--pipeline-stages", "2"]
    one = timed(what + "-one", command, examples, 1, threads=2)
    micro = timed(what + "-stages", command + stages, examples, 2)
    whole = timed(what + "-stages-whole", command + stages, examples, 2, micro_batches=1)
    ranks = timed(what + "-ranks", command, examples, 2)
    print(f"  1 rank x 2 threads                   : {one:.3f} examples/s (reference)")
    print(f"  2 stages x 1 rank, default schedule  : {micro:.3f} examples/s   ratio {micro / one:.2f}")
    print(f"  2 stages x 1 rank, calls one at a time: {whole:.3f} examples/s   ratio {whole / one:.2f}")
    print(f"  2 data-parallel ranks                : {ranks:.3f} examples/s   ratio {ranks / one:.2f}")


print(f"model {args.model or 'default'}")
print(f"label search, {args.limit} ARC-Challenge train questions, {args.simulations} simulations")
compare("search", ["search", "--data", os.path.join(root, "datasets", "arc_challenge_train.jsonl"), "--limit",
                   str(args.limit), "--simulations", str(args.simulations)], args.limit)
print(f"eval arc, {args.eval_limit} ARC-Challenge test questions (--batch 8)")
compare("eval", ["eval", "--task", "arc", "--data", os.path.join(root, "datasets", "arc_challenge_test.jsonl"),
                 "--limit", str(args.eval_limit), "--batch", "8"], args.eval_limit)
shutil.rmtree(work)
