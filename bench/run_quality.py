#!/usr/bin/env python3
"""bench/run_quality: the quality of models on this machine, as `drllm eval` scores it, with the time each took.

For each model and task: `drllm eval` on the whole file (or --limit), its report.json, and the share of each
answer letter in the model's replies (a model that always says "C" is not answering). GSM8K runs 5-shot, in
slices of --slice questions, so an interrupted study keeps the slices it finished. Reruns skip finished reports.
Prints a markdown table (README "Model quality").

usage: bench/run_quality.py --model NAME_OR_PATH [--model ...] [--tasks arc,arc-ll,piqa,openbookqa,gsm8k]
                            [--gsm8k 200] [--out runs/quality] [--threads N] [--dtype auto] [--batch B]
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASKS = {  # task -> (drllm task, data file, few-shot file)
    "arc": ("arc", "arc_challenge_test.jsonl", None),
    "arc-ll": ("arc-ll", "arc_challenge_test.jsonl", None),
    "piqa": ("piqa", "piqa_validation.jsonl", None),
    "openbookqa": ("openbookqa", "openbookqa_test.jsonl", None),
    "gsm8k": ("gsm8k", "gsm8k_test.jsonl", "gsm8k_train.jsonl"),
}


def run_eval(a, model, task, data, out, extra):
    report = os.path.join(out, "report.json")
    if os.path.exists(report):
        return json.load(open(report))
    cmd = [a.drllm, "--threads", str(a.threads), "eval", "--model", model, "--task", task, "--data", data,
           "--dtype", a.dtype, "--batch", str(a.batch), "--out", out, *extra]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    r = json.load(open(report))
    r["wall_seconds"] = time.time() - t0
    with open(report + ".tmp", "w") as f:
        json.dump(r, f, indent=2)
    os.replace(report + ".tmp", report)
    return r


def letter_shares(examples_path):
    """Share of each answer letter in the strict grader's replies ('Answer: X'), and of replies with none."""
    counts = collections.Counter()
    for line in open(examples_path):
        e = json.loads(line)
        m = re.search(r"Answer:\s*\(?([A-E])\b", e.get("response", ""))
        counts[m.group(1) if m else "none"] += 1
    n = sum(counts.values())
    return {k: counts[k] / n for k in sorted(counts)}


def gsm8k_slices(a, model, out_dir):
    """GSM8K in slices of --slice questions: files of the slices, evaluated one by one, then pooled."""
    data = os.path.join(a.data_dir, "gsm8k_test.jsonl")
    rows = open(data).read().splitlines()[: a.gsm8k]
    total = {"examples": 0, "correct": 0, "seconds": 0.0, "wall_seconds": 0.0}
    for start in range(0, len(rows), a.slice):
        part = os.path.join(out_dir, f"slice-{start:04d}")
        os.makedirs(part, exist_ok=True)
        part_data = os.path.join(part, "data.jsonl")
        if not os.path.exists(part_data):
            with open(part_data + ".tmp", "w") as f:
                f.write("\n".join(rows[start:start + a.slice]) + "\n")
            os.replace(part_data + ".tmp", part_data)
        r = run_eval(a, model, "gsm8k", part_data, part, ["--fewshot-data", os.path.join(a.data_dir, "gsm8k_train.jsonl")])
        total["examples"] += r["examples"]
        total["correct"] += round(r["accuracy"] * r["examples"])
        total["seconds"] += r["seconds"]
        total["wall_seconds"] += r.get("wall_seconds", r["seconds"])
    total["accuracy"] = total["correct"] / max(total["examples"], 1)
    return total


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True)
    p.add_argument("--tasks", default="arc,openbookqa,piqa,arc-ll,gsm8k")
    p.add_argument("--gsm8k", type=int, default=200)
    p.add_argument("--slice", type=int, default=25)
    p.add_argument("--limit", type=int, default=0, help="first N questions of each non-GSM8K task (0: all)")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "quality"))
    p.add_argument("--drllm", default=os.path.join(ROOT, "build", "cli", "drllm"))
    # The full splits (the shared assets) where present; else the slices in datasets/ (PIQA and GSM8K test cut).
    full = os.path.join(os.environ.get("DRLLM_ASSETS", os.path.join(ROOT, "..", "shared", "assets")), "data")
    p.add_argument("--data-dir", default=full if os.path.isdir(full) else os.path.join(ROOT, "datasets"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dtype", default="auto")
    p.add_argument("--batch", type=int, default=0, help="drllm eval --batch (0: the device's default)")
    a = p.parse_args()
    rows = []
    for task in a.tasks.split(","):
        for model in a.model:
            name = os.path.basename(model).split(".Q")[0]
            out = os.path.join(a.out, name, task)
            drllm_task, data, _ = TASKS[task]
            if task == "gsm8k":
                r = gsm8k_slices(a, model, out)
                shares = ""
            else:
                extra = ["--limit", str(a.limit)] if a.limit else []
                r = run_eval(a, model, drllm_task, os.path.join(a.data_dir, data), out, extra)
                shares = ""
                if task == "arc":
                    s = letter_shares(os.path.join(out, "examples.jsonl"))
                    shares = " ".join(f"{k} {100 * v:.0f}%" for k, v in s.items())
            rows.append(f"| {name} | {task} | {r['examples']} | {100 * r['accuracy']:.1f} % | "
                        f"{r.get('wall_seconds', r['seconds']):.0f} s | {shares} |")
            print(rows[-1], flush=True)
    print("\n| model | task | questions | accuracy | time | answer letters |\n|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
