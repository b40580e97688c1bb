#!/usr/bin/env python3
"""Pipeline stages under real mpirun, checked with h5py: a search with the backbone split into 2 stages on 2 ranks,
and 4 ranks as 2 pipelines x 2 stages, give one process's labels and router features byte for byte; each stage
holds about its share of the weights (its own report, against the split worked out from the shapes); kill -9 of
a stage mid-search, then a rerun: the uninterrupted labels, nothing lost or twice; a job whose ranks are not a
multiple of the stages is refused with a clear message; drllm generate on 2 stages prints one process's answers, and drllm eval on
2 stages and on 2 x 2 writes one process's records, along a plan and routed (each stage's routers deciding its
layers), and online router inputs for training computed on 2 stages give one process's routers bit for bit.

usage: test_pipeline_stages.py DRLLM DATASETS_DIR WORK_DIR
"""
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, once  # noqa: E402
from interrupt import kill_one_rank, mpi_environment, start_until  # noqa: E402

drllm, datasets, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
checks = Checklist()
check = checks.check
env = mpi_environment()
data = os.path.join(datasets, "arc_challenge_train.jsonl")
N = 4


def command(out, stages=None, output=("--log-level", "debug")):
    return [drllm, *output, "search", "--data", data, "--limit", str(N), "--simulations", "6", "--seed", "5",
            "--shard-rows", "1", "--chunk", "1", "--batch", "2", "--save-features", "--out", out] + \
           (["--pipeline-stages", str(stages)] if stages else [])


def mpirun(ranks):
    return ["mpirun", "-np", str(ranks)] + (["--oversubscribe"] if ranks > 2 else [])


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1200, env=env)


FIELDS = ["item_id", "example_index", "labels", "best_path", "baseline_correct", "best_correct", "improved",
          "num_evaluations", "prompt_tokens", "question", "gold", "best_response", "default_response", "good_paths",
          "feature_windows"]


def rows_of(folder):
    """Every row of every shard, features as bytes, keyed by example index (an example twice fails)."""
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            for i in range(len(f["item_id"])):
                row = tuple(repr(np.asarray(f[k][i]).tolist()) for k in FIELDS) + (f["features"][i].tobytes(),)
                index = int(f["example_index"][i])
                if index in rows:
                    raise AssertionError(f"example {index} twice (again in {path})")
                rows[index] = row
    return rows


@once
def reference():
    out = os.path.join(work, "single")
    r = run(command(out))
    if not check(r.returncode == 0, "a single-process search runs", r.stderr[-2000:]):
        raise RuntimeError("no reference labels")
    return rows_of(out)


def stage_reports(stderr):
    """(first layer, last layer, weights MiB, peak MiB) of each serving stage's closing line."""
    return [tuple(int(x) for x in m) for m in re.findall(
        r"layers (\d+)-(\d+), weights (\d+) MiB: served \d+ forward calls, peak resident memory (\d+) MiB", stderr)]


def two_stages_equal_one_process():
    """2 stages on 2 ranks: the labels, responses and saved router features of one process, byte for byte"""
    want = reference()
    out = os.path.join(work, "stages2")
    r = run(mpirun(2) + command(out, stages=2))
    check(r.returncode == 0, "mpirun -np 2 search --pipeline-stages 2 runs", r.stderr[-3000:])
    got = rows_of(out)
    check(sorted(got) == list(range(N)), "every example labelled once", sorted(got))
    check(got == want, "2 stages give one process's labels and features byte for byte")
    shards = {os.path.basename(s).split("-")[1] for s in glob.glob(os.path.join(out, "shard-*.h5"))}
    check(shards == {"r00000"}, "only the driver writes shards", shards)
    reports = stage_reports(r.stderr)
    driving = re.findall(r"layers (\d+)-(\d+), weights (\d+) MiB: driving", r.stderr)
    check(len(reports) == 1 and len(driving) == 1, "the driver and the serving stage each report their layers",
          r.stderr[-2000:])
    if reports and driving:
        first, last, served_mib, peak = reports[0]
        d_first, d_last, driver_mib = (int(x) for x in driving[0])
        # SmolLM2-135M: 30 layers and tied 49152 x 576 embeddings; the split by bytes gives each stage one copy.
        check(d_first == 0 and int(d_last) + 1 == first and last == 29, "the stages cover layers 0-29 in order",
              (driving, reports))
        check(abs(served_mib - driver_mib) <= 0.15 * driver_mib,
              f"the stages' weights are about equal shares ({driver_mib} and {served_mib} MiB)")
        print(f"  stage weights: {driver_mib} MiB (layers 0-{d_last}) and {served_mib} MiB (layers {first}-29); "
              f"serving stage's peak RSS {peak} MiB")


def two_pipelines_of_two_stages():
    """4 ranks as 2 pipelines x 2 stages share the work queue as 2 labellers: the same labels"""
    want = reference()
    out = os.path.join(work, "stages2x2")
    r = run(mpirun(4) + command(out, stages=2))
    check(r.returncode == 0, "mpirun -np 4 search --pipeline-stages 2 runs", r.stderr[-3000:])
    check(rows_of(out) == want, "2 pipelines x 2 stages give one process's labels and features")
    shards = {os.path.basename(s).split("-")[1] for s in glob.glob(os.path.join(out, "shard-*.h5"))}
    check(shards <= {"r00000", "r00001"} and len(stage_reports(r.stderr)) == 2,
          "the two drivers write the shards (as ranks 0 and 1 of the drivers), two stages serve", shards)


def killed_stage_then_resume():
    """kill -9 of a rank of a 2-stage search after 2 examples are done, then the same command: the labels of the
    uninterrupted run, nothing lost or twice"""
    want = reference()
    out = os.path.join(work, "killed")
    p, _ = start_until(mpirun(2) + command(out, stages=2), env, lambda seen: sum("example " in l for l in seen) == 2)
    killed = kill_one_rank(p, random.Random(3))
    r = run(mpirun(2) + command(out, stages=2))
    check(killed and r.returncode == 0, "the rerun after kill -9 of a stage succeeds", r.stderr[-2000:])
    check(rows_of(out) == want, "kill -9 of a stage + rerun: the uninterrupted labels")
    check("already in" in r.stderr, "the rerun says what it resumes from")


ROUTER_SCALE = (0.002, 0.5, 1.0)  # linear1 and linear2 weights, the execute bias: mostly execute


@once
def routers_file(seed=3):
    """Routers of random weights in the official names, whose decisions depend on the prompt: mostly execute,
    some skips and repeats, on both stages' layers."""
    import torch
    from safetensors.torch import save_file
    path = os.path.join(work, "routers.safetensors")
    g = torch.Generator().manual_seed(seed)
    tensors = {}
    for l in range(30):
        p = f"model.routers.{l}."
        tensors[p + "linear1.weight"] = torch.randn(128, 576, generator=g) * ROUTER_SCALE[0]
        tensors[p + "linear1.bias"] = torch.zeros(128)
        tensors[p + "linear2.weight"] = torch.randn(3, 128, generator=g) * ROUTER_SCALE[1]
        tensors[p + "linear2.bias"] = torch.tensor([0.0, ROUTER_SCALE[2], 0.0])
    save_file(tensors, path)
    return path


def generation_equals_one_process():
    """drllm generate along a plan with skips and repeats on both stages, and routed: the answers, ids and layer
    visits of one process, and 2 pipelines are refused (generate runs one)"""
    plan = ",".join("0" if l in (3, 20) else "2" if l in (5, 27) else "1" for l in range(30))
    gen = [drllm, "generate", "--jsonl", "--max-new-tokens", "12", "--plan", plan, "--prompt", "What is the capital of France?",
           "--prompt", "Name three primary colours.", "--prompt", "2 + 2 ="]
    one = run(gen)
    two = run(mpirun(2) + gen + ["--pipeline-stages", "2"])
    check(one.returncode == 0 and two.returncode == 0, "generate runs alone and on 2 stages", two.stderr[-2000:])
    lines = [l for l in two.stdout.splitlines() if l.startswith("{")]
    check(len(lines) == 3 and lines == [l for l in one.stdout.splitlines() if l.startswith("{")],
          "2 stages print one process's answers, ids, plans and layer visits", (one.stdout, two.stdout))
    routed = gen[:5] + ["--routers", routers_file()] + gen[7:]  # the routers instead of the plan
    one = run(routed)
    two = run(mpirun(2) + routed + ["--pipeline-stages", "2"])
    json_lines = lambda r: [l for l in r.stdout.splitlines() if l.startswith("{")]  # noqa: E731
    check(one.returncode == 0 and two.returncode == 0 and len(json_lines(one)) == 3 and
          json_lines(one) == json_lines(two) and '"plan"' in one.stdout,
          "generate --routers on 2 stages, each stage's routers deciding its layers: one process's answers and plans",
          (one.stderr[-1000:], two.stderr[-1000:], one.stdout, two.stdout))
    r = run(mpirun(4) + gen + ["--pipeline-stages", "2"])
    check(r.returncode != 0 and "runs one pipeline" in r.stderr, "generate refuses 2 pipelines", r.stderr[-1500:])


def evaluation_equals_one_process():
    """drllm eval along a plan on 2 stages, and on 2 pipelines x 2 stages: one process's per-example records and
    accuracy"""
    plan = ",".join("0" if l in (2, 25) else "1" for l in range(30))
    test = os.path.join(datasets, "arc_challenge_test.jsonl")

    def evaluate(name, launch=(), extra=()):
        out = os.path.join(work, name)
        r = run([*launch, drllm, "eval", "--task", "arc", "--data", test, "--limit", "6", "--plan", plan, "--out", out,
                 *extra])
        check(r.returncode == 0, f"eval {name} runs", r.stderr[-2000:])
        records = open(os.path.join(out, "examples.jsonl")).read() if r.returncode == 0 else None
        return records, r

    one, _ = evaluate("eval-one")
    for name, ranks in (("eval-stages2", 2), ("eval-stages2x2", 4)):
        got, _ = evaluate(name, mpirun(ranks), ["--pipeline-stages", "2"])
        check(got is not None and got == one and len(one.splitlines()) == 6,
              f"eval on {ranks} ranks as {ranks // 2} pipeline(s) of 2 stages writes one process's records")






def routed_evaluation_equals_one_process():
    """drllm eval --routers on 2 stages, and on 2 pipelines x 2 stages, each stage's routers deciding its layers:
    one process's routed records, with plans that differ between questions and skip or repeat on both stages"""
    routers = routers_file()
    test = os.path.join(datasets, "arc_challenge_test.jsonl")

    def evaluate(name, launch=(), extra=()):
        out = os.path.join(work, name)
        r = run([*launch, drllm, "eval", "--task", "arc", "--data", test, "--limit", "6", "--routers", routers,
                 "--routed-only", "--out", out, *extra])
        check(r.returncode == 0, f"eval --routers {name} runs", r.stderr[-2000:])
        return open(os.path.join(out, "examples-routed.jsonl")).read() if r.returncode == 0 else None

    one = evaluate("routed-one")
    plans = [json.loads(l)["plan"].split(",") for l in one.splitlines()] if one else []
    check(len(set(map(tuple, plans))) >= 2 and any(set(p[:15]) != {"1"} for p in plans) and
          any(set(p[15:]) != {"1"} for p in plans),
          "the routers' plans differ between questions and skip or repeat on both stages' layers", plans)
    for name, ranks in (("routed-stages2", 2), ("routed-stages2x2", 4)):
        got = evaluate(name, mpirun(ranks), ["--pipeline-stages", "2"])
        check(got is not None and got == one,
              f"eval --routers on {ranks} ranks as {ranks // 2} pipeline(s) of 2 stages writes one process's "
              "routed records (answers and plans)")


def online_training_equals_one_process():
    """drllm train --inputs online with the backbone on 2 stages (one pipeline: one trainer) trains one process's
    routers, and on 2 pipelines x 2 stages (two data-parallel trainers) those of 2 ranks without stages, bit for
    bit; cached inputs with --pipeline-stages are refused"""
    from safetensors.torch import load_file
    import torch
    reference()  # its folder holds the labels
    labels = os.path.join(work, "single")

    def train(name, launch=(), extra=()):
        out = os.path.join(work, name)
        r = run([*launch, drllm, "train", "--labels", labels, "--inputs", "online", "--out", out, "--epochs", "3",
                 "--batch", "4", "--micro-batch", "1", "--holdout-every", "0", *extra])
        check(r.returncode == 0, f"train --inputs online {name} runs", r.stderr[-2000:])
        return load_file(os.path.join(out, "routers.safetensors")) if r.returncode == 0 else None

    def same(a, b):
        return a is not None and b is not None and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    # Two trainers sum their gradients in another order than one does, so 2 x 2 is held to 2 ranks without stages.
    for name, ranks, reference_name, reference_launch in (("train-stages2", 2, "train-one", ()),
                                                          ("train-stages2x2", 4, "train-ranks2", mpirun(2))):
        want = train(reference_name, reference_launch)
        got = train(name, mpirun(ranks), ["--pipeline-stages", "2"])
        check(same(got, want), f"online inputs on {ranks} ranks as {ranks // 2} pipeline(s) of 2 stages train the "
              f"routers of {reference_name}, bit for bit")
    r = run(mpirun(2) + [drllm, "train", "--labels", labels, "--inputs", "cached", "--out",
                         os.path.join(work, "train-cached"), "--pipeline-stages", "2"])
    check(r.returncode != 0 and "need no backbone" in r.stderr, "cached inputs with --pipeline-stages are refused",
          r.stderr[-1500:])


def bad_layouts_refused():
    """3 ranks for 2 stages, and stages without mpirun, are refused with the reason"""
    r = run(mpirun(3) + command(os.path.join(work, "np3"), stages=2))
    check(r.returncode != 0 and "multiple of 2" in r.stderr, "3 ranks for 2 stages are refused", r.stderr[-1500:])
    r = run(command(os.path.join(work, "alone"), stages=2))
    check(r.returncode != 0 and "multiple of 2" in r.stderr and "without mpirun" in r.stderr,
          "--pipeline-stages 2 in one process is refused", r.stderr[-1500:])


checks.run([two_stages_equal_one_process, two_pipelines_of_two_stages, killed_stage_then_resume,
            generation_equals_one_process, evaluation_equals_one_process, routed_evaluation_equals_one_process,
            online_training_equals_one_process, bad_layouts_refused])
checks.finish()
