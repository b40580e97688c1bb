#!/usr/bin/env python3
"""drllm demo end to end at a tiny size: every stage runs, report.json has the four sets and the p sweep, the
report's counts agree with each evaluation's own report, and a second run reuses what is done (no new search,
training step or evaluation). report.html holds the same table (read with Python's html.parser) and every
figure inlined, and headless Chromium renders it with the figures' colours on screen.

usage: test_demo.py DRLLM DATASETS_DIR WORK_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

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


class Page(HTMLParser):
    """The table's cells row by row, and how many inline SVGs there are."""
    def __init__(self):
        super().__init__()
        self.rows, self.svgs, self.cell = [], 0, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "svg":
            self.svgs += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


html_path = os.path.join(work, "report.html")
page = Page()
page.feed(open(html_path).read() if os.path.isfile(html_path) else "")
table = {row[0]: row for row in page.rows[1:]}
check(sorted(table) == ["arc", "gsm8k", "openbookqa", "piqa"] and all(
      table[name][3] == f"{100 * report['sets'][name]['unrouted']['accuracy']:.1f} %"
      and table[name][4] == f"{100 * report['sets'][name]['routed']['accuracy']:.1f} %"
      and table[name][6] == f"{report['sets'][name]['routed']['layers_per_example']:.1f}" for name in table),
      "report.html's table is report.json's numbers", page.rows)
check(page.svgs == 5, "report.html inlines the four routing patterns and the p sweep", page.svgs)
chromium = shutil.which("chromium")
if check(chromium is not None, "Debian's chromium is installed (scripts/setup installs it)"):
    with tempfile.TemporaryDirectory() as profile:
        shot = os.path.join(work, "report.png")
        browse = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}"]
        r = subprocess.run(browse + ["--window-size=1200,2800", f"--screenshot={shot}", "file://" + html_path],
                           capture_output=True, text=True, timeout=300)
        dom = subprocess.run(browse + ["--dump-dom", "file://" + html_path], capture_output=True, text=True, timeout=300)
    from PIL import Image
    image = Image.open(shot).convert("RGB") if os.path.isfile(shot) else None
    colours = set(image.getdata()) if image else set()
    check(image is not None and image.size == (1200, 2800), "headless Chromium renders report.html", r.stderr[-800:])
    # The sweep's unrouted marker (#d9534f) and its routed points (#337ab7) are drawn on the page.
    check((0xd9, 0x53, 0x4f) in colours and (0x33, 0x7a, 0xb7) in colours, "the figures are on the rendered page")
    check(dom.stdout.count("<svg") == 5, "the browser's DOM holds the five figures", dom.stderr[-500:])

again = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
check(again.returncode == 0 and "0 to go" in again.stderr and "steps_this_run\": 0" in again.stdout
      and "unrouted vs routed" not in again.stderr, "a second run reuses the labels, the routers and the evaluations",
      again.stderr[-800:])
checks.finish()
