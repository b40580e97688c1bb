#!/usr/bin/env python3
"""drllm demo end to end at a tiny size: every stage runs, report.json has the four sets and the p sweep, the
report's counts agree with each evaluation's own report, and a second run reuses what is done (no new search,
training step or evaluation).

usage: test_demo.py DRLLM DATASETS_DIR WORK_DIR
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist  # noqa: E402

drllm, datasets, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
checks = Checklist()
check = checks.check
cmd = [drllm, "demo", "--out", work, "--data-dir", datasets, "--arc-train", "2",
       "--gsm8k-train", "1", "--simulations", "2", "--arc-test", "3", "--gsm8k-test", "1", "--piqa", "2",
       "--openbookqa", "2", "--sweep", "2"]
r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
check(r.returncode == 0, "the demo runs", r.stderr[-1500:])
report = json.load(open(os.path.join(work, "report.json")))
check(sorted(report["sets"]) == ["arc", "gsm8k", "openbookqa", "piqa"], "four evaluation sets", report.keys())
check([p["p"] for p in report["sweep"]] == [-0.75, -0.5, -0.25, 0.25, 0.75], "the p sweep")
for name, expected in (("arc", 3), ("gsm8k", 1), ("piqa", 2), ("openbookqa", 2)):
    own = json.load(open(os.path.join(work, f"eval-{name}", "report.json")))
    check(own["examples"] == expected and report["sets"][name]["routed"] == own["routed"],
          f"{name}: the summary is the evaluation's own report")
for f in ("report.md", "sweep.svg", "routers.safetensors", "eval-arc/routing.svg", "train/metrics.jsonl"):
    check(os.path.isfile(os.path.join(work, f)), f"{f} is written")
again = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
check(again.returncode == 0 and "0 to go" in again.stderr and "steps_this_run\": 0" in again.stdout
      and "unrouted vs routed" not in again.stderr, "a second run reuses the labels, the routers and the evaluations",
      again.stderr[-800:])
checks.finish()
