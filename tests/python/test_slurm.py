#!/usr/bin/env python3
"""launch/slurm.sbatch under a real Slurm (a throwaway cluster of one node, started and stopped here): submitted
with sbatch as the README tells users, preempted the way Slurm does it (`scancel --signal=USR1 --batch`, the
signal the script's `--signal=B:USR1@300` sends before the time limit), the job commits, requeues itself
(`scontrol requeue`), resumes, and ends with the labels of an uninterrupted run, and in a second job with its
routers, bit for bit. SLURM_RESTART_COUNT shows in the log.

Slurm holds a requeued job for 120 s before it may start again (its BeginTime); the test moves that to now
(`scontrol update StartTime=now`) instead of waiting.

usage: test_slurm.py DRLLM DATASETS_DIR WORK_DIR
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import SKIPPED, Checklist, once  # noqa: E402
from interrupt import mpi_environment  # noqa: E402
from slurm_cluster import SlurmCluster  # noqa: E402

drllm, datasets, work = (os.path.abspath(a) for a in sys.argv[1:4])
for tool in ("sbatch", "slurmctld", "slurmd", "munged"):
    if shutil.which(tool) is None:
        print(f"SKIPPED: {tool} is not installed (scripts/setup installs slurm-wlm and munge)")
        sys.exit(SKIPPED)
if os.geteuid() != 0:
    print("SKIPPED: the test cluster's slurmd runs jobs as root, so the test needs root")
    sys.exit(SKIPPED)
SlurmCluster(os.path.join(work, "cluster")).stop_leftovers()
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
# ctest's time limit, or a ^C: still stop the cluster (the finally below).
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
checks = Checklist()
check = checks.check
repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
script = os.path.join(repo, "launch", "slurm.sbatch")
data = os.path.join(datasets, "arc_challenge_train.jsonl")
N = 6
# The script runs build/cli/drllm of the submit folder: the test submits from a folder whose build/cli/drllm is
# the binary under test.
submit_dir = os.path.join(work, "submit")
os.makedirs(os.path.join(submit_dir, "build", "cli"))
os.symlink(os.path.abspath(drllm), os.path.join(submit_dir, "build", "cli", "drllm"))


def search_options(out):
    return ["--data", data, "--limit", str(N), "--simulations", "6", "--seed", "5", "--shard-rows", "1",
            "--chunk", "1", "--batch", "2", "--save-features", "--out", out]


def train_options(labels, out):
    return ["--labels", labels, "--out", out, "--holdout-every", "0", "--batch", "2", "--micro-batch", "1",
            "--warmup", "5", "--checkpoint-every", "5", "--epochs", "60"]


FIELDS = ["item_id", "example_index", "labels", "best_path", "baseline_correct", "best_correct", "improved",
          "num_evaluations", "prompt_tokens", "question", "gold", "best_response", "default_response", "good_paths",
          "features"]


def rows_of(folder):
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            for i in range(len(f["item_id"])):
                rows[int(f["example_index"][i])] = tuple(repr(np.asarray(f[k][i]).tolist()) for k in FIELDS)
    return rows


def routers(out):
    latest = open(os.path.join(out, "checkpoints", "latest")).read().strip()
    return load_file(os.path.join(out, "checkpoints", latest, "routers.safetensors"))


@once
def reference_labels():
    """The uninterrupted search, one process: its folder."""
    out = os.path.join(work, "reference-labels")
    r = subprocess.run([drllm, "search", *search_options(out)], capture_output=True, text=True, timeout=900)
    if not check(r.returncode == 0, "the uninterrupted search runs", r.stderr[-1500:]):
        raise RuntimeError("no reference labels")
    return out


@once
def reference_routers():
    """The uninterrupted training on 2 ranks (mpirun), as the Slurm job trains: its routers."""
    out = os.path.join(work, "reference-train")
    r = subprocess.run(["mpirun", "-np", "2", "--bind-to", "none", drllm, "train",
                        *train_options(reference_labels(), out)],
                       capture_output=True, text=True, timeout=900, env=mpi_environment())
    if not check(r.returncode == 0, "the uninterrupted 2-rank training runs", r.stderr[-1500:]):
        raise RuntimeError("no reference routers")
    return routers(out)


def log_has(cluster, job, log, text, limit):
    """Waits until the job's log holds `text`: True, or False once the job has left the queue or after `limit`
    seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if os.path.exists(log) and text in open(log, errors="replace").read():
            return True
        if cluster.job(job).get("JobState") not in ("PENDING", "CONFIGURING", "RUNNING"):
            return False
        time.sleep(0.5)
    return False


def preempt_requeue_resume(cluster, name, command, options, mid_way):
    """Submits `sbatch launch/slurm.sbatch COMMAND OPTIONS`, sends USR1 to the batch script once the log shows
    `mid_way`, and follows the requeued job to its end: the log's text."""
    log = os.path.join(work, f"{name}.log")
    job = cluster.submit(["--output", log, script, command, *options], cwd=submit_dir)
    reached = log_has(cluster, job, log, mid_way, 600)
    check(reached, f"{name}: job {job} reaches '{mid_way}'", open(log).read()[-1500:] if os.path.exists(log) else "")
    r = cluster.run(["scancel", "--signal=USR1", "--batch", job])
    check(r.returncode == 0, f"{name}: scancel --signal=USR1 --batch", r.stderr)
    requeued = cluster.wait_for(job, lambda f: f.get("Restarts") == "1" and f.get("JobState") == "PENDING", 300)
    check(requeued is not None, f"{name}: the job commits and requeues itself (Restarts=1, PENDING)",
          open(log).read()[-2000:])
    cluster.run(["scontrol", "update", f"JobId={job}", "StartTime=now"])
    done = cluster.wait_for(job, lambda f: f.get("JobState") in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"), 900)
    text = open(log).read()
    check(done is not None and done["JobState"] == "COMPLETED" and done.get("ExitCode") == "0:0",
          f"{name}: the requeued job resumes and completes ({done and done['JobState']})", text[-2000:])
    check("SLURM_RESTART_COUNT=0" in text and "SLURM_RESTART_COUNT=1" in text and "requeueing job" in text,
          f"{name}: the log shows both runs (SLURM_RESTART_COUNT 0 and 1) and the requeue", text[-2000:])
    return text


def labels_after_preemption():
    """A search preempted after its first examples, requeued, resumed: the uninterrupted labels and features."""
    reference = rows_of(reference_labels())
    out = os.path.join(work, "slurm-labels")
    text = preempt_requeue_resume(cluster, "search", "search", ["--log-level", "debug", *search_options(out)],
                                  "example ")
    got = rows_of(out)
    check("on 2 ranks (srun)" in text, "the ranks run as one job of 2 under srun", text[:1500])
    resumed = [int(line.split(" already in ")[0].split()[-1]) for line in text.splitlines() if " already in " in line]
    check(len(resumed) == 2 and resumed[0] == 0 and 0 < resumed[1] < N,
          f"the second run resumes from the first's committed examples ({resumed})", text[-2000:])
    check(got == reference and len(got) == N, f"the labels equal the uninterrupted run's ({len(got)} of {N} rows)")


def routers_after_preemption():
    """Training preempted mid-way, requeued, resumed: bitwise the uninterrupted routers."""
    reference = reference_routers()
    out = os.path.join(work, "slurm-train")
    preempt_requeue_resume(cluster, "train", "train", train_options(reference_labels(), out), "epoch 20/")
    got = routers(out)
    check(got.keys() == reference.keys() and all(torch.equal(got[k], reference[k]) for k in got),
          "the routers equal the uninterrupted run's, bit for bit")


cluster = SlurmCluster(os.path.join(work, "cluster"))
try:
    cluster.start()
    check(True, "a one-node Slurm cluster starts (munged, slurmctld, slurmd)")
    checks.run([labels_after_preemption, routers_after_preemption])
finally:
    cluster.stop()
left = subprocess.run(["pgrep", "-f", cluster.folder], capture_output=True, text=True).stdout.split()
check(not left, "nothing of the test cluster is left running", left)
checks.finish()
