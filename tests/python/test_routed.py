#!/usr/bin/env python3
"""Routed generation and evaluation on the default model, with routers written here in the official format:
routers forced to "execute" (p = 0.5) give the unrouted answers and scores exactly; routers whose decisions are
known by construction (zero weights, biases that pick skip / execute / repeat per layer) give that plan, and
their answers equal the backbone run on that plan directly; the knob's ends give all-skip and all-repeat;
routers of another model or layer count are refused; eval --routers writes report.json, report.md and
routing.svg with the routed plans' pattern.

usage: test_routed.py DRLLM DATASETS_DIR WORK_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, once  # noqa: E402
from interrupt import mpi_environment  # noqa: E402

drllm, datasets, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
checks = Checklist()
check = checks.check
L, D = 30, 576


def write_routers(path, decisions, metadata=None, layers=L, seed=0):
    """Routers in the official names; with decisions, zero linear2 weights and a bias that picks them."""
    g = torch.Generator().manual_seed(seed)
    tensors = {}
    for l in range(layers):
        p = f"model.routers.{l}."
        tensors[p + "linear1.weight"] = torch.randn(128, D, generator=g) * 0.05
        tensors[p + "linear1.bias"] = torch.zeros(128)
        tensors[p + "linear2.weight"] = torch.zeros(3, 128)
        bias = torch.zeros(3)
        bias[decisions[l]] = 4.0
        tensors[p + "linear2.bias"] = bias
    save_file(tensors, path, metadata=metadata)


def generate(extra):
    r = subprocess.run([drllm, "generate", "--chat", "--prompts-file", prompts(), "--max-new-tokens", "12",
                        "--min-new-tokens", "2", "--jsonl", *extra], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return [json.loads(l) for l in r.stdout.splitlines()]


@once
def prompts():
    """Four ARC test questions as chat prompts."""
    rows = [json.loads(l) for l in open(os.path.join(datasets, "arc_challenge_test.jsonl"))][:4]
    path = os.path.join(work, "prompts.jsonl")
    with open(path, "w") as f:
        for r in rows:
            choices = "\n".join(f"{chr(65 + i)}. {t}" for i, t in enumerate(r["choices"]["text"]))
            f.write(json.dumps({"prompt": r["question"] + "\n" + choices + "\nAnswer with the letter."}) + "\n")
    return path


PLAN = [1] * L
PLAN[4], PLAN[5], PLAN[12], PLAN[20] = 0, 0, 2, 0


@once
def known():
    """Routers whose decisions are known by construction: PLAN."""
    path = os.path.join(work, "known.safetensors")
    write_routers(path, PLAN)
    return path


def forced_execute_gives_unrouted():
    """Forced to execute: the unrouted answers, token for token."""
    unrouted = generate([])
    forced = generate(["--routers", known(), "--router-p", "0.5"])
    check([a["ids"] for a in forced] == [a["ids"] for a in unrouted], "routers forced to execute (p = 0.5) give the "
          "unrouted tokens exactly")
    check(all(a["plan"] == ",".join(["1"] * L) for a in forced), "... and the all-execute plan")


def known_decisions_equal_the_plan():
    """Decisions known by construction, frozen for decoding: the backbone on that plan gives the same tokens."""
    routed = generate(["--routers", known()])
    text_plan = ",".join(map(str, PLAN))
    check(all(a["plan"] == text_plan for a in routed), "the routers' decisions are the ones their biases pick",
          routed[0]["plan"])
    direct = generate(["--plan", text_plan])
    check([a["ids"] for a in routed] == [a["ids"] for a in direct], "routed generation equals the backbone run on "
          "the routed plan")
    check(all(a["layer_visits"] == sum(PLAN) * len(a["ids"]) for a in routed),
          "layers are counted over every forward pass", [a["layer_visits"] for a in routed])
    rerouted = generate(["--routers", known(), "--reroute-each-step"])
    check([a["ids"] for a in rerouted] == [a["ids"] for a in direct],
          "re-routing at each step with input-independent routers keeps the same plan and tokens")
    ends = {p: generate(["--routers", known(), "--router-p", str(p)])[0]["plan"] for p in (-1, 1)}
    check(ends[-1] == ",".join(["0"] * L) and ends[1] == ",".join(["2"] * L), "p = -1 skips every layer, p = 1 "
          "repeats every layer", ends)


def foreign_routers_refused():
    """Routers of another model, of fewer layers, holding a NaN, or a folder given for the file, are refused."""
    other = os.path.join(work, "other.safetensors")
    write_routers(other, PLAN, metadata={"model_fingerprint": "0" * 64})
    r = subprocess.run([drllm, "generate", "--prompt", "hi", "--routers", other], capture_output=True, text=True)
    check(r.returncode != 0 and "another model" in r.stderr, "routers with another model's fingerprint are refused",
          r.stderr[-300:])
    short = os.path.join(work, "short.safetensors")
    write_routers(short, PLAN, layers=29)
    r = subprocess.run([drllm, "generate", "--prompt", "hi", "--routers", short], capture_output=True, text=True)
    check(r.returncode != 0 and "model.routers.29" in r.stderr, "routers for fewer layers are refused, naming the "
          "missing router", r.stderr[-300:])
    nan = os.path.join(work, "nan.safetensors")
    write_routers(nan, PLAN)
    from safetensors.torch import load_file
    tensors = load_file(nan)
    tensors["model.routers.3.linear2.bias"][1] = float("nan")
    save_file(tensors, nan, metadata=None)
    r = subprocess.run([drllm, "generate", "--prompt", "hi", "--routers", nan], capture_output=True, text=True)
    check(r.returncode == 1 and "model.routers.3.linear2.bias" in r.stderr and "NaN" in r.stderr,
          "routers holding a NaN are refused, naming the tensor (a NaN bias picked a plan)", r.stderr[-300:])
    r = subprocess.run([drllm, "generate", "--prompt", "hi", "--routers", work], capture_output=True, text=True)
    check(r.returncode == 1 and "is a folder" in r.stderr and "RUN/routers.safetensors" in r.stderr,
          "a folder given as --routers (a training run's, say) is refused, naming the file meant", r.stderr[-300:])


def eval_reports():
    """eval --routers: unrouted and routed on the same examples, the reports."""
    out = os.path.join(work, "eval")
    r = subprocess.run([drllm, "eval", "--data", os.path.join(datasets, "arc_challenge_test.jsonl"), "--task",
                        "arc", "--limit", "6", "--routers", known(), "--out", out], capture_output=True, text=True,
                       timeout=600)
    check(r.returncode == 0, "eval --routers runs", r.stderr[-500:])
    report = json.load(open(os.path.join(out, "report.json")))
    keys = {"accuracy", "layers_per_example", "layers_per_pass", "seconds", "tokens_per_second"}
    check(keys <= set(report["unrouted"]) and keys <= set(report["routed"]), "report.json has both objects", report)
    check(abs(report["routed"]["layers_per_pass"] - sum(PLAN)) < 1e-9 and report["unrouted"]["layers_per_pass"] == L,
          "layers per pass: the routed plan's and all 30", (report["routed"]["layers_per_pass"], sum(PLAN)))
    svg = ET.parse(os.path.join(out, "routing.svg")).getroot()
    skip_bars = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if e.get("fill") == "#d9534f" and
                 e.find("{http://www.w3.org/2000/svg}title") is not None]
    check(sorted(int(e.find("{http://www.w3.org/2000/svg}title").text.split()[1]) for e in skip_bars) == [4, 5, 20],
          "routing.svg shows skips at layers 4, 5 and 20")
    check("| routed |" in open(os.path.join(out, "report.md")).read(), "report.md has the table")
    r = subprocess.run([drllm, "eval", "--data", os.path.join(datasets, "arc_challenge_test.jsonl"), "--task",
                        "arc", "--limit", "6", "--routers", known(), "--router-p", "0.5", "--out", out + "-forced"],
                       capture_output=True, text=True, timeout=600)
    forced_report = json.load(open(os.path.join(out + "-forced", "report.json")))
    a = [json.loads(l)["response"] for l in open(os.path.join(out + "-forced", "examples.jsonl"))]
    b = [json.loads(l)["response"] for l in open(os.path.join(out + "-forced", "examples-routed.jsonl"))]
    check(a == b and forced_report["routed"]["accuracy"] == forced_report["unrouted"]["accuracy"],
          "eval with routers forced to execute: the unrouted answers and score")


def eval_across_ranks():
    """eval across ranks (mpirun -np 2, one thread each) gives the single process's records (one thread), byte for
    byte, in example order."""
    env = mpi_environment()
    out = os.path.join(work, "eval")
    common = ["eval", "--data", os.path.join(datasets, "arc_challenge_test.jsonl"), "--task", "arc", "--limit", "5",
              "--routers", known()]
    r1 = subprocess.run([drllm, "--threads", "1", *common, "--out", out + "-one"], capture_output=True, text=True,
                        timeout=600, env=env)
    r2 = subprocess.run(["mpirun", "-np", "2", drllm, *common, "--out", out + "-two"], capture_output=True, text=True,
                        timeout=600, env=env)
    check(r1.returncode == 0 and r2.returncode == 0, "eval runs alone and on 2 ranks", (r1.stderr + r2.stderr)[-600:])
    same = all(open(os.path.join(out + "-one", f), "rb").read() == open(os.path.join(out + "-two", f), "rb").read()
               for f in ("examples.jsonl", "examples-routed.jsonl"))
    check(same, "eval on 2 ranks gives the single process's records")
    check(json.load(open(os.path.join(out + "-two", "report.json")))["ranks"] == 2, "the report says 2 ranks")


def batches_equal_one_at_a_time():
    """--batch 4 gives --batch 1's results: generate (answers, ids, plans) and eval, unrouted and routed, for a
    reward task (arc), a few-shot generation task (gsm8k) and a log-likelihood task (piqa: every choice of several
    questions in one batch; log-likelihoods within 1e-3)."""
    one, four = generate(["--routers", known(), "--batch", "1"]), generate(["--routers", known(), "--batch", "4"])
    check(one == four, "generate --batch 4 gives --batch 1's answers, ids and plans", (one, four))
    data = datasets
    for task, extra in (("arc", ["--data", os.path.join(data, "arc_challenge_test.jsonl")]),
                        ("gsm8k", ["--data", os.path.join(data, "gsm8k_test.jsonl"), "--fewshot-data",
                                   os.path.join(data, "gsm8k_train.jsonl"), "--max-new-tokens", "24"]),
                        ("piqa", ["--data", os.path.join(data, "piqa_validation.jsonl")])):
        records = {}
        for batch in ("1", "4"):
            out = os.path.join(work, f"eval-{task}-batch{batch}")
            # GSM8K's 5-shot prompts make it the slowest of the three: 4 questions, which fill one batch of 4.
            limit = "4" if task == "gsm8k" else "6"
            r = subprocess.run([drllm, "eval", "--task", task, "--limit", limit, *extra, "--routers", known(),
                                "--batch", batch, "--out", out], capture_output=True, text=True, timeout=900)
            check(r.returncode == 0, f"eval {task} --batch {batch} runs", r.stderr[-500:])
            records[batch] = [[json.loads(l) for l in open(os.path.join(out, f))]
                              for f in ("examples.jsonl", "examples-routed.jsonl")]
        if task == "piqa":
            lls = [(a["log_likelihoods"], b["log_likelihoods"]) for x, y in zip(records["1"], records["4"])
                   for a, b in zip(x, y)]
            worst = max(abs(p - q) for a, b in lls for p, q in zip(a, b))
            strip = lambda rs: [[{k: v for k, v in r.items() if k != "log_likelihoods"} for r in x] for x in rs]
            check(worst < 1e-3 and strip(records["1"]) == strip(records["4"]),
                  f"eval piqa --batch 4: --batch 1's scores (log-likelihoods within {worst:.1e})")
        else:
            check(records["1"] == records["4"], f"eval {task} --batch 4 gives --batch 1's records, unrouted and routed")


checks.run([batches_equal_one_at_a_time, forced_execute_gives_unrouted, known_decisions_equal_the_plan, foreign_routers_refused, eval_reports,
            eval_across_ranks])
checks.finish()
