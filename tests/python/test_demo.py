#!/usr/bin/env python3
"""drllm demo end to end at a tiny size: every stage runs, report.json has the six sets, the p sweep and the fixed cuts, the
report's counts agree with each evaluation's own report, and a second run reuses what is done (no new search,
training step or evaluation). report.html holds the same table (read with Python's html.parser) and every
figure inlined, and headless Chromium renders it with the figures' colours on screen.

usage: test_demo.py DRLLM DATASETS_DIR WORK_DIR
"""
import glob
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
       "--openbookqa", "2", "--truthfulqa", "1", "--sweep", "1", "--sweep-p=-0.75,-0.5,0.5", "--train-examples", "all", "--holdout-every", "2"]
SETS = ["arc", "gsm8k", "openbookqa", "piqa", "truthfulqa-mc1", "truthfulqa-mc2"]
r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
check(r.returncode == 0, "the demo runs", r.stderr[-1500:])
report = json.load(open(os.path.join(work, "report.json")))
check(sorted(report["sets"]) == SETS, "six evaluation sets", report.keys())
check([p["p"] for p in report["sweep"]] == [-0.75, -0.5, 0.5], "the p sweep")
for name, expected in (("arc", 3), ("gsm8k", 1), ("piqa", 2), ("openbookqa", 2), ("truthfulqa-mc1", 1),
                       ("truthfulqa-mc2", 1)):
    own = json.load(open(os.path.join(work, f"eval-{name}", "report.json")))
    check(own["examples"] == expected and report["sets"][name]["routed"] == own["routed"],
          f"{name}: the summary is the evaluation's own report")
trained = sorted(glob.glob(os.path.join(work, "train-*")))
check(len(trained) == 1 and os.path.isfile(os.path.join(work, "routers-" + os.path.basename(trained[0])[6:] + ".safetensors"))
      and report["sets"]["arc"]["routers"].endswith("routers-" + os.path.basename(trained[0])[6:] + ".safetensors"),
      "one training run, its routers in a file of its own, which the evaluations name", trained)
train_dir = trained[0] if trained else os.path.join(work, "train-none")
for f in ("report.md", "tradeoff.svg", "routers.safetensors", "eval-arc/routing.svg", f"{train_dir}/metrics.jsonl"):
    check(os.path.isfile(os.path.join(work, f)), f"{f} is written")


def own_report(folder):
    path = os.path.join(work, folder, "report.json")
    return json.load(open(path)) if os.path.isfile(path) else {}


# The trade-off: the routed points on the same questions as the unrouted reference, and the fixed cuts, checked
# against plans worked out here from the label folders' own per-layer counts.
unrouted = own_report("sweep-unrouted")
tradeoff = report.get("tradeoff", {})
check(unrouted.get("examples") == 1 and tradeoff.get("unrouted") == unrouted and "1,1" in unrouted.get("plan", "")
      and "0" not in unrouted["plan"].split(","), "the trade-off's unrouted reference is its own evaluation")
for point in report["sweep"]:
    own = own_report(f"sweep-p{point['p']:+.2f}")
    check("unrouted" not in own and own.get("routed") == point["routed"],
          f"p = {point['p']}: the routed pass alone, as its report says")
skips = None
for folder in ("labels-arc", "labels-gsm8k"):
    layers = json.load(open(os.path.join(work, folder, "summary.json")))["labels_per_layer"]
    skips = [s + l["skip"] for s, l in zip(skips or [0] * len(layers), layers)]
num_layers = len(skips)
cuts = {(c["kind"], c["cut"]): c for c in tradeoff.get("fixed_cuts", [])}
check(sorted(cuts) == [("most skipped", 2), ("most skipped", 4), ("random", 2), ("random", 4)],
      "fixed cuts of 2 and 4 layers, both kinds", sorted(cuts))
for (kind, cut), c in sorted(cuts.items()):
    plan = [int(v) for v in c["plan"].split(",")]
    if kind == "most skipped":
        # The most skipped layers first; among equal counts the later layer.
        removed = sorted(range(num_layers), key=lambda l: (-skips[l], -l))[:cut]
        want = [0 if l in removed else 1 for l in range(num_layers)]
    else:
        want = plan if len(plan) == num_layers and plan.count(0) == cut and plan.count(1) == num_layers - cut else None
    own = own_report(f"cut-{'random' if kind == 'random' else 'most-skipped'}-{cut}")
    check(plan == want and own.get("plan") == c["plan"] and own.get("examples") == 1 and c["summary"] == own,
          f"{kind} cut of {cut}: the plan ({c['plan']}) and its own evaluation", want)
check(cuts.get(("random", 2), {}).get("plan") != cuts.get(("random", 4), {}).get("plan"), "each cut draws its own layers")
for entry in report.get("labels", []):
    folder = {"ARC-Challenge train": "labels-arc", "GSM8K train": "labels-gsm8k"}.get(entry["name"])
    check(folder and entry["summary"] == json.load(open(os.path.join(work, folder, "summary.json"))),
          f"the label table's {entry['name']} is its folder's summary.json")
metrics = [json.loads(line) for line in open(os.path.join(train_dir, "metrics.jsonl"))]
check(metrics and report.get("routers") == metrics[-1] and "plan_match" in metrics[-1],
      "the router table is the last epoch of the training run's metrics.jsonl")
md = open(os.path.join(work, "report.md")).read()
check(all(h in md for h in ("## The labels (the paper's Table 2)", "## The routers on held-out labels",
                            "## Learning curve", "## Trade-off on ARC-Challenge test")), "report.md's sections")


class Page(HTMLParser):
    """The first table's cells row by row (unrouted against routed), and how many inline SVGs there are."""
    def __init__(self):
        super().__init__()
        self.rows, self.svgs, self.tables, self.cell = [], 0, 0, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        elif tag == "tr" and self.tables == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self.tables == 1:
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
check(sorted(table) == SETS and all(
      table[name][3] == f"{100 * report['sets'][name]['unrouted']['accuracy']:.1f} %"
      and table[name][4] == f"{100 * report['sets'][name]['routed']['accuracy']:.1f} %"
      and table[name][6] == f"{report['sets'][name]['routed']['layers_per_example']:.1f}" for name in table),
      "report.html's table is report.json's numbers", page.rows)
check(page.svgs == 7, "report.html inlines the six routing patterns and the trade-off", page.svgs)
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
    check(dom.stdout.count("<svg") == 7, "the browser's DOM holds the seven figures", dom.stderr[-500:])

again = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
check(again.returncode == 0 and "0 to go" in again.stderr and "steps_this_run\": 0" in again.stdout
      and "unrouted vs routed" not in again.stderr, "a second run reuses the labels, the routers and the evaluations",
      again.stderr[-800:])
# Labels that grow (one more ARC question searched) train anew beside the first run, never resuming a checkpoint
# of other labels, and the evaluations follow the new routers.
grown = subprocess.run([*cmd, "--arc-train", "3"], capture_output=True, text=True, timeout=900)
report_grown = json.load(open(os.path.join(work, "report.json"))) if grown.returncode == 0 else {}
check(grown.returncode == 0 and len(glob.glob(os.path.join(work, "train-*"))) == 2
      and report_grown["sets"]["arc"]["routers"] != report["sets"]["arc"]["routers"]
      and report_grown["labels"][0]["summary"]["examples"] == 3,
      "a larger --arc-train trains anew in a folder of its own and evaluates the new routers", grown.stderr[-800:])
checks.finish()
