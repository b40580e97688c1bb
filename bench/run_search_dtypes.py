#!/usr/bin/env python3
"""bench/run_search_dtypes: Dr.LLM's label search on one model in fp32 and in bf16, on the same questions.

Runs `drllm search` once per dtype (rerunning resumes: a finished folder is read as it is) and prints, per dtype,
the figures the README gives for the search: default and best-plan accuracy, improved, layers saved by the
labels, evaluations and seconds per example; then how the two agree, read from the shards with h5py: the
default plan's reward per question, and the best plan per question (the same labels at every layer).

usage: bench/run_search_dtypes.py [--model NAME] [--limit 50] [--simulations 50] [--out runs/search-dtypes]
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_rows(folder):
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            index = f["example_index"][:]
            labels = f["labels"][:]
            base = f["baseline_correct"][:]
            best = f["best_correct"][:]
            for i in range(len(index)):
                rows[int(index[i])] = (tuple(int(x) for x in labels[i]), int(base[i]), int(best[i]))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    p.add_argument("--data", default=os.path.join(ROOT, "datasets", "arc_challenge_train.jsonl"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--simulations", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "search-dtypes"))
    p.add_argument("--drllm", default=os.path.join(ROOT, "build", "cli", "drllm"))
    p.add_argument("--dtypes", default="bfloat16,float32")
    a = p.parse_args()
    summaries, rows = {}, {}
    for dtype in a.dtypes.split(","):
        out = os.path.join(a.out, dtype)
        summary_path = os.path.join(out, "summary.json")
        done = os.path.exists(summary_path) and json.load(open(summary_path)).get("complete")
        if not done:
            cmd = [a.drllm, "--threads", str(a.threads), "search", "--model", a.model, "--dtype", dtype, "--data",
                   a.data, "--task", "arc", "--limit", str(a.limit), "--simulations", str(a.simulations), "--out", out]
            print("+", " ".join(cmd), file=sys.stderr, flush=True)
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        summaries[dtype] = json.load(open(summary_path))
        rows[dtype] = read_rows(out)
    print(f"{a.model}, {a.limit} questions of {os.path.basename(a.data)}, {a.simulations} simulations, "
          f"{a.threads} threads\n")
    print("| dtype | default accuracy | best-plan accuracy | improved | layers saved | evaluations / example "
          "| s / example |\n|---|---|---|---|---|---|---|")
    for dtype, s in summaries.items():
        n = s["examples"]
        # The last run's own rate (a resumed folder's earlier examples ran in another process).
        per_example = s["seconds_this_run"] / max(s["examples_this_run"], 1)
        print(f"| {dtype} | {100 * s['default_accuracy']:.0f} % | {100 * s['best_accuracy']:.0f} % | "
              f"{round(s['improved_share'] * n)} of {n} | {s['layers_saved']:.2f} of {s['num_layers']} | "
              f"{s['evaluations_per_example']:.1f} | {per_example:.1f} |")
    if len(rows) == 2:
        (da, ra), (db, rb) = rows.items()
        common = sorted(set(ra) & set(rb))
        same_default = sum(ra[i][1] == rb[i][1] for i in common)
        same_plan = sum(ra[i][0] == rb[i][0] for i in common)
        same_best = sum(ra[i][2] == rb[i][2] for i in common)
        print(f"\n{da} against {db} on {len(common)} questions: default-plan reward equal on {same_default}, "
              f"best plan identical on {same_plan}, best-plan reward equal on {same_best}")


if __name__ == "__main__":
    main()
