#!/usr/bin/env python3
"""drllm search end to end on the default model: the shards (read with h5py) have one row per example with the
fields the labelling needs, the summary adds up from the rows, and the same seed gives identical rows.

usage: test_search_cli.py DRLLM DATASETS_DIR WORK_DIR
"""
import glob
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

drllm, datasets, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)  # the search resumes from what a folder holds: start empty
checks = Checklist()
check = checks.check


def search(out, seed, policy="tree", cache_mb=1024, extra=()):
    r = subprocess.run([drllm, "search", "--data", os.path.join(datasets, "arc_challenge_train.jsonl"),
                        "--limit", "2", "--simulations", "4", "--seed", str(seed), "--policy", policy,
                        "--prefix-cache-mb", str(cache_mb), "--out", out, *extra],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            for i in range(len(f["item_id"])):
                rows.append({k: np.asarray(f[k][i]).tolist() for k in f})
    rows.sort(key=lambda r: r["example_index"])
    return rows, json.load(open(os.path.join(out, "summary.json")))


a, summary = search(os.path.join(work, "a"), 3)
b, _ = search(os.path.join(work, "b"), 3)
check(a == b, "the same seed gives identical rows")
c, uncached = search(os.path.join(work, "nocache"), 3, cache_mb=0)
check(a == c, "the prefix cache on and off give identical rows")
d, in_full = search(os.path.join(work, "in_full"), 3, cache_mb=0, extra=["--generate-in-full"])
check(a == d, "no shortcuts at all (every plan generated in full, no cache) gives identical rows, responses included")
forwards = [s["layer_forwards_this_run"] for s in (summary, uncached, in_full)]
check(forwards[0] < forwards[1], "the prefix cache computes fewer layer visits", forwards)
check(forwards[1] < forwards[2], "stopping once the reward is settled computes fewer layer visits", forwards)
lines = a
check(len(lines) == 2, "one row per example", lines)
needed = {"item_id", "baseline_correct", "best_correct", "improved", "labels", "best_path", "num_evaluations",
          "good_paths", "prompt_tokens"}
check(all(needed <= set(l) for l in lines), "each row has the fields the labels need", lines[0].keys())
check(all(1 <= l["num_evaluations"] <= 5 for l in lines), "at most one evaluation per simulation plus the default")
check(all(sum(l["labels"]) == len(l["best_path"]) for l in lines), "labels count the best path's layer visits")
check(summary["examples"] == 2 and abs(summary["default_accuracy"] - sum(l["baseline_correct"] for l in lines) / 2) < 1e-9,
      "the summary adds up from the rows", summary)
best_len = sum(len(l["best_path"]) for l in lines) / 2
check(abs(summary["average_path_length"] - best_len) < 1e-9, "average path length is that of the best paths")
_, chain = search(os.path.join(work, "c"), 3, "chain")
check(chain["policy"] == "chain", "the chain policy runs")
# One job per output folder: a second job on a folder in use is refused at once, naming the first; once the first is
# killed with SIGKILL (no chance to clean up), a new job starts there.
import socket  # noqa: E402
import time  # noqa: E402

busy = os.path.join(work, "busy")
data = os.path.join(datasets, "arc_challenge_train.jsonl")
first = subprocess.Popen([drllm, "search", "--data", data, "--limit", "60", "--simulations", "50", "--out", busy],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
lock = os.path.join(busy, ".drllm.lock")
deadline = time.time() + 120
while time.time() < deadline and not (os.path.exists(lock) and os.path.getsize(lock) > 0):
    time.sleep(0.2)
t0 = time.time()
r = subprocess.run([drllm, "search", "--data", data, "--limit", "2", "--out", busy], capture_output=True, text=True,
                   timeout=120)
waited = time.time() - t0
check(r.returncode == 1 and "is in use by another job" in r.stderr and f"drllm search on {socket.gethostname()}, pid "
      f"{first.pid}" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
      f"a second search on a busy folder is refused in {waited:.1f} s, naming the first job's host and pid", r.stderr)
r = subprocess.run([drllm, "train", "--labels", os.path.join(work, "a"), "--out", busy], capture_output=True, text=True,
                   timeout=120)
check(r.returncode == 1 and "is in use by another job" in r.stderr, "so is a training run on it", r.stderr)
check(first.poll() is None, "the first job runs on, untouched")
first.kill()
first.wait()
r = subprocess.run([drllm, "search", "--data", data, "--limit", "1", "--simulations", "2", "--out", busy],
                   capture_output=True, text=True, timeout=600)
check(r.returncode == 0, "after the first job is killed with SIGKILL a new job takes the folder", r.stderr[-800:])
checks.finish()
