#!/usr/bin/env python3
"""Labelling across ranks, checked with h5py and real mpirun: 1, 2 and 3 ranks give the same labels; kill -9 of a
rank at several moments, SIGSTOP of a rank (the watchdog) and SIGUSR1 preemption, then a rerun, give the uninterrupted run's labels with nothing lost,
duplicated or left as .tmp; the manifest agrees with the shards; shards of another model or search configuration,
corrupted and truncated shards, and a full disk are refused or reported by name; export/import round-trips.

usage: test_labels_mpi.py DRLLM DATASETS_DIR WORK_DIR DEFAULT_MODEL_GGUF
"""
import glob
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np
import torch
from transformers import AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, once  # noqa: E402
from interrupt import kill_one_rank, mpi_environment, start_until, stop_one_rank  # noqa: E402
from label_forgery import forge_checksum  # noqa: E402

drllm, datasets, work, gguf = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
checks = Checklist()
check = checks.check
env = mpi_environment()
data = os.path.join(datasets, "arc_challenge_train.jsonl")
N = 6


def command(out, limit=N, simulations=6, batch=2, output=("--log-level", "debug")):
    """A search; at --log-level debug every rank prints a line per example (kill_then_resume counts them)."""
    return [drllm, *output, "search", "--data", data, "--limit", str(limit), "--simulations", str(simulations), "--seed", "5",
            "--shard-rows", "1", "--chunk", "1", "--batch", str(batch), "--out", out]


def mpirun(ranks):
    return ["mpirun", "-np", str(ranks)] + (["--oversubscribe"] if ranks > 2 else [])


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, **kw)


FIELDS = ["item_id", "example_index", "labels", "best_path", "baseline_correct", "best_correct", "improved",
          "num_evaluations", "prompt_tokens", "question", "gold", "best_response", "default_response", "good_paths"]


def rows_of(folder):
    """Every row of every shard, read with h5py, keyed by example index."""
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            for i in range(len(f["item_id"])):
                row = tuple(repr(np.asarray(f[k][i]).tolist()) for k in FIELDS)
                index = int(f["example_index"][i])
                if index in rows:
                    raise AssertionError(f"example {index} twice (again in {path})")
                rows[index] = row
    return rows


def tmp_files(folder):
    return glob.glob(os.path.join(folder, "*.tmp"))


@once
def reference_run():
    """One process is the reference: (folder, rows)."""
    single = os.path.join(work, "single")
    r = run(command(single, batch=8))
    if not check(r.returncode == 0, "a single-process search runs", r.stderr[-2000:]):
        raise RuntimeError("no reference labels")
    return single, rows_of(single)


@once
def parallel_run(ranks):
    """The same search on `ranks` ranks: its folder."""
    out = os.path.join(work, f"np{ranks}")
    r = run(mpirun(ranks) + command(out))
    check(r.returncode == 0, f"mpirun -np {ranks} runs", r.stderr[-2000:])
    return out


def rank_zero_prints_the_progress():
    """at the default log level a 2-rank search prints the job's progress from rank 0 only (no line per example,
    nothing from rank 1), counting up to every example; --quiet prints nothing at all"""
    out = os.path.join(work, "progress")
    r = run(mpirun(2) + command(out, limit=6, output=("--progress", "plain", "--progress-every", "0.001")))
    lines = r.stderr.splitlines()
    progress = [l for l in lines if l.startswith("search  ")]
    counts = [int(l.split()[1].split("/")[0]) for l in progress]
    check(r.returncode == 0 and progress and counts == sorted(counts) and counts[-1] == 6 and "6/6  100 %" in progress[-1]
          and all(c <= 6 for c in counts), "rank 0's progress lines count the job's examples up to all 6", r.stderr)
    check(not any("[rank 1/2]" in l or "example " in l for l in lines) and len(lines) == len(progress) + 1,
          "besides them only rank 0's opening line: nothing per example, nothing from rank 1", r.stderr)
    r = run(mpirun(2) + command(os.path.join(work, "quiet"), limit=2, output=("--quiet",)))
    check(r.returncode == 0 and r.stderr == "", "--quiet prints nothing on stderr", r.stderr)


def batches_agree_with_one_at_a_time():
    """--batch 8 (the reference: 8 examples searched at once, their evaluations in one batch) gives the labels of
    --batch 1 byte for byte, and so do --batch 3 with a memory budget too small for three sequences and --batch 8
    on 2 ranks. (The other runs here use --batch 2, so that 6 examples spread over the ranks.)"""
    _, reference = reference_run()
    for launch, batch, extra in (([], 1, []), ([], 3, ["--max-memory-gb", "0.1"]), (mpirun(2), 8, [])):
        out = os.path.join(work, f"batch{batch}")
        r = run(launch + command(out, batch=batch) + extra)
        what = f"{' '.join(launch[:3])} --batch {batch} {' '.join(extra)}".strip()
        check(r.returncode == 0, f"a search with {what} runs", r.stderr[-2000:])
        check(rows_of(out) == reference, f"{what} gives the labels of --batch 8")


def ranks_agree_with_one_process():
    """2 and 3 ranks (the work queue hands out examples as ranks ask) give one process's labels."""
    single, reference = reference_run()
    check(sorted(reference) == list(range(N)), "every example labelled once", sorted(reference))
    summary = json.load(open(os.path.join(single, "summary.json")))
    check(summary["examples"] == N and summary["complete"], "the summary counts every example", summary)
    for ranks in (2, 3):
        out = parallel_run(ranks)
        check(rows_of(out) == reference, f"{ranks} ranks give the single process's labels")
        shards = glob.glob(os.path.join(out, "shard-*.h5"))
        check(len({os.path.basename(s).split("-")[1] for s in shards}) == ranks, f"all {ranks} ranks wrote shards",
              shards)
        check(not tmp_files(out), "no .tmp left after success")


def manifest_matches_the_shards():
    """The manifest agrees with the shards."""
    single, _ = reference_run()
    manifest = json.load(open(os.path.join(parallel_run(2), "manifest.json")))
    on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(parallel_run(2), "shard-*.h5")))
    check(sorted(s["file"] for s in manifest["shards"]) == on_disk, "the manifest lists every shard")
    ok = all(hashlib.sha256(open(os.path.join(parallel_run(2), s["file"]), "rb").read()).hexdigest() == s["sha256"]
             and len(h5py.File(os.path.join(parallel_run(2), s["file"]), "r")["item_id"]) == s["rows"]
             for s in manifest["shards"])
    check(ok and manifest["rows"] == N, "manifest sha256 and row counts match the files")
    with h5py.File(os.path.join(single, on_disk[0].replace("r00001", "r00000")), "r") as f:
        check(f.attrs["format"] == "drllm-labels" and f.attrs["num_layers"] == 30 and f["labels"].shape[1] == 30,
              "root attributes and [N, L] labels as docs/architecture.md says", dict(f.attrs))
        config = json.loads(f.attrs["search_config"])
        check(config["simulations"] == 6 and config["seed"] == 5, "the search configuration is recorded", config)


def examples_done(lines):
    return sum("example " in line for line in lines)


def kill_then_resume():
    """kill -9 of one rank at random moments (examples done, from the ranks' progress lines), then the same
    command again: the same labels."""
    _, reference = reference_run()
    rng = random.Random(11)

    for done in rng.sample(range(1, N - 1), 2):  # two different moments (each costs a search and its rerun)
        out = os.path.join(work, f"killed-{done}")
        p, _ = start_until(mpirun(2) + command(out), env, lambda seen: examples_done(seen) == done)
        killed = kill_one_rank(p, rng)
        r = run(mpirun(2) + command(out))
        check(r.returncode == 0, f"the rerun after kill -9 after {done} examples succeeds", r.stderr[-2000:])
        check(killed and rows_of(out) == reference,
              f"kill -9 after {done} examples (killed: {killed}) + rerun: the same labels")
        check(not tmp_files(out), "no .tmp left after the rerun")
        check("already in" in r.stderr, "the rerun says what it resumes from")


def stopped_rank_ends_the_job_then_resume():
    """SIGSTOP of one rank mid-search (alive, but silent): within --collective-timeout the job ends, naming the
    stopped rank's pid and host, and nothing is left stopped; the rerun gives the uninterrupted labels."""
    _, reference = reference_run()
    rng = random.Random(19)
    for trial in range(2):  # rank 0 (which also serves the work queue) or another, as rng picks
        out = os.path.join(work, f"stopped-{trial}")
        watched = command(out, output=("--log-level", "debug", "--collective-timeout", "5"))
        p, seen = start_until(mpirun(2) + watched, env, lambda seen: examples_done(seen) == 1 + trial)
        pid, ended, err, gone = stop_one_rank(p, rng, seen, limit=120)
        check(pid is not None and ended is not None and ended < 5 + 30 and p.returncode != 0,
              f"SIGSTOP of pid {pid}: the job ends by itself, in {ended and round(ended, 1)} s (timeout 5 s)",
              err[-1500:])
        check(f"(pid {pid} on " in err and "has sent no heartbeat for 5 s" in err,
              "the message names the stopped rank's pid and host", err[-1500:])
        check(gone, "the stopped rank does not outlive the job")
        if trial == 0:  # one rerun shows that nothing was lost (kill_then_resume reruns after each kill)
            r = run(mpirun(2) + command(out))
            check(r.returncode == 0 and rows_of(out) == reference, "the rerun gives the uninterrupted labels",
                  r.stderr[-1500:])


def preempt_then_resume():
    """SIGUSR1 (Slurm's preemption signal; mpirun forwards it): every rank commits and exits 0; the rerun finishes."""
    _, reference = reference_run()
    out = os.path.join(work, "preempted")
    # After the first example every rank is up (with its signal handler) and the job is mid-way.
    p, seen = start_until(mpirun(2) + command(out), env, lambda seen: examples_done(seen) == 1)
    p.send_signal(signal.SIGUSR1)
    _, err = p.communicate(timeout=300)
    err = "".join(seen) + err
    check(p.returncode == 0, "SIGUSR1: the job exits 0", err[-2000:])
    partial = rows_of(out)
    check(0 < len(partial) < N, f"SIGUSR1 after the first example: {len(partial)} of {N} rows committed", err[-2000:])
    check(all(reference[i] == partial[i] for i in partial), "what was committed before the stop is right")
    r = run(mpirun(2) + command(out))
    check(r.returncode == 0 and rows_of(out) == reference, "the rerun after preemption completes the labels",
          r.stderr[-1500:])


def other_runs_refused():
    """Shards of another model or another search configuration are refused on resume, naming which."""
    single, _ = reference_run()
    other = os.path.join(work, "other-model")
    shutil.copytree(single, other)
    victim = sorted(glob.glob(os.path.join(other, "shard-*.h5")))[0]
    r = run([drllm, "labels", "inspect", other])
    check(r.returncode == 0, "labels inspect reads a good folder", r.stderr)
    with h5py.File(victim, "r+") as f:
        f.attrs["model_fingerprint"] = "0" * 64
    forge_checksum(victim)
    r = run(command(other))
    check(r.returncode != 0 and "another model" in r.stderr and os.path.basename(victim) in r.stderr,
          "a shard of another model is refused, naming the shard", r.stderr[-800:])
    r = run(command(single, simulations=7))
    check(r.returncode != 0 and "another search configuration" in r.stderr,
          "a shard of another search configuration is refused", r.stderr[-800:])


def out_of_range_labels_refused():
    """A label outside 0-2 (its checksum recomputed, so only the value is wrong) is refused by name before anything
    counts by it."""
    single, _ = reference_run()
    forged = os.path.join(work, "label-3")
    shutil.rmtree(forged, ignore_errors=True)
    shutil.copytree(single, forged)
    victim = sorted(glob.glob(os.path.join(forged, "shard-*.h5")))[0]
    with h5py.File(victim, "r+") as f:
        labels = f["labels"][()]
        labels[0, 7] = 3
        f["labels"][...] = labels
    forge_checksum(victim)
    for cmd, what in (([drllm, "labels", "inspect", forged], "labels inspect"),
                      ([drllm, "train", "--labels", forged, "--out", os.path.join(work, "label-3-run")], "train")):
        r = run(cmd)
        check(r.returncode == 1 and os.path.basename(victim) in r.stderr and "labels are 0, 1 or 2" in r.stderr,
              f"{what} refuses a label of 3, naming the shard", r.stderr[-600:])


def non_finite_features_refused():
    """A router feature made NaN, then Inf (every checksum recomputed, so only the value is wrong) is refused,
    naming the shard, the row and the layer, before training turns it into NaN routers."""
    source = features_folder()
    for value, name in ((np.nan, "nan"), (np.inf, "inf")):
        forged = os.path.join(work, f"features-{name}")
        shutil.rmtree(forged, ignore_errors=True)
        shutil.copytree(source, forged)
        victim = sorted(glob.glob(os.path.join(forged, "shard-*.h5")))[0]
        with h5py.File(victim, "r+") as f:
            features = f["features"][()]
            features[0, 4, 0, 10] = value
            f["features"][...] = features
        forge_checksum(victim)
        r = run([drllm, "train", "--labels", forged, "--out", os.path.join(work, f"features-{name}-run")])
        check(r.returncode == 1 and os.path.basename(victim) in r.stderr and "row 0" in r.stderr and "layer 4" in r.stderr
              and "router features hold Inf or NaN" in r.stderr,
              f"train refuses a feature of {name}, naming shard, row and layer", r.stderr[-600:])


def bit_flips_refused_before_hdf5_opens_the_file():
    """A shard with one bit flipped anywhere (in HDF5's own structures too, where libhdf5 itself would crash) is
    refused by its file checksum, named, before it is opened: by labels inspect, labels export, train and a resumed
    search; the shard and its .sha256 file stay."""
    single, _ = reference_run()
    out = os.path.join(work, "bit-flip")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(single, out)
    victim = sorted(glob.glob(os.path.join(out, "shard-*.h5")))[0]
    check(os.path.isfile(victim + ".sha256") and open(victim + ".sha256").read().strip()
          == hashlib.sha256(open(victim, "rb").read()).hexdigest(), "every shard has its file's sha256 beside it")
    raw = bytearray(open(victim, "rb").read())
    for offset in (40, 100, len(raw) // 3, len(raw) - 5):  # the superblock, object headers, heaps, the end
        flipped = bytearray(raw)
        flipped[offset] ^= 0x10
        open(victim, "wb").write(bytes(flipped))
        for cmd in ([drllm, "labels", "inspect", out], [drllm, "labels", "export", out, os.path.join(work, "x.json")],
                    [drllm, "train", "--labels", out, "--out", os.path.join(work, "bit-flip-run")], command(out)):
            r = run(cmd)
            check(r.returncode == 1 and os.path.basename(victim) in r.stderr and "checksum mismatch" in r.stderr
                  and "it was not opened" in r.stderr,
                  f"a bit flipped at byte {offset}: {'search' if 'search' in cmd else ' '.join(cmd[1:3])} refuses the shard "
                  f"by name, with exit 1", r.stderr[-600:])
    open(victim, "wb").write(bytes(raw))
    check(run([drllm, "labels", "inspect", out]).returncode == 0, "restored, the folder verifies again")


def damaged_shards_named():
    """A corrupted and a truncated shard are detected and named; committed shards stay."""
    single, _ = reference_run()
    for damage in ("corrupted", "truncated"):
        out = os.path.join(work, damage)
        shutil.copytree(single, out)
        victim = sorted(glob.glob(os.path.join(out, "shard-*.h5")))[1]
        raw = bytearray(open(victim, "rb").read())
        if damage == "corrupted":
            with h5py.File(victim, "r") as f:
                offset = f["labels"].id.get_offset()  # the labels' bytes: a flipped label must not pass
            raw[offset] ^= 0x03
        else:
            raw = raw[: len(raw) // 2]
        open(victim, "wb").write(bytes(raw))
        r = run(command(out))
        check(r.returncode != 0 and os.path.basename(victim) in r.stderr,
              f"a {damage} shard is named on resume", r.stderr[-800:])
        r = run([drllm, "labels", "inspect", out])
        check(r.returncode != 0 and os.path.basename(victim) in r.stderr, f"labels inspect names the {damage} shard")


def no_file_growth():
    # ulimit -f 0, with SIGXFSZ at its default (death): drllm itself must turn it into EFBIG, like ENOSPC.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def full_disk_loses_nothing():
    """A full disk (file size limit 0: every write fails, as on a full disk) is a clear error and keeps what was
    committed."""
    out = os.path.join(work, "full")
    r = run(command(out, limit=2))
    before = rows_of(out)

    r = subprocess.run(command(out, limit=4), capture_output=True, text=True, timeout=600, env=env,
                       preexec_fn=no_file_growth)
    check(r.returncode != 0 and "not written" in r.stderr, "a failed shard write is a clear error", r.stderr[-800:])
    check(rows_of(out) == before and not tmp_files(out), "committed shards stay, no .tmp is left")


def official_json_round_trip():
    """export -> import -> export keeps the official fields; import tokenizes the questions as the search did."""
    single, _ = reference_run()
    exported, reimported = os.path.join(work, "labels.json"), os.path.join(work, "imported")
    r1 = run([drllm, "labels", "export", single, exported])
    r2 = run([drllm, "labels", "import", exported, "--out", reimported])
    r3 = run([drllm, "labels", "export", reimported, exported + ".2"])
    check(r1.returncode == r2.returncode == r3.returncode == 0, "export, import, export run", r1.stderr + r2.stderr + r3.stderr)
    a, b = json.load(open(exported)), json.load(open(exported + ".2"))
    official = ["best_path", "good_paths", "original_correct", "mcts_correct", "improved_cases", "path_lengths",
                "unique_layers", "questions", "best_response"]
    check(all(a[k] == b[k] for k in official) and len(a["best_path"]) == N, "the official fields round-trip")
    check(a["path_lengths"] == [len(p) for p in a["best_path"]], "path_lengths are the best paths' lengths")
    tokens = lambda folder: [v[FIELDS.index("prompt_tokens")] for _, v in sorted(rows_of(folder).items())]
    check(tokens(reimported) == tokens(single), "imported questions tokenize to the searched prompts")
    json.dump({"best_path": [[0, 1, 99]], "questions": ["q"], "original_correct": [0], "mcts_correct": [1]},
              open(os.path.join(work, "bad.json"), "w"))
    r = run([drllm, "labels", "import", os.path.join(work, "bad.json"), "--out", os.path.join(work, "bad")])
    check(r.returncode != 0 and "example 0" in r.stderr, "an impossible path is refused, naming the example", r.stderr)
    # What the writer would write but its own readers refuse: a good path of layers the model lacks, two examples
    # with one item id.
    for name, extra, message in (("good-path", {"good_paths": [[[0, 1], [0, 99]]]}, "good path [0,99]"),
                                 ("same-id", {"item_ids": ["x", "x"]}, "examples 0 and 1 have the same item id 'x'")):
        rows = 2 if name == "same-id" else 1
        doc = {"best_path": [[0, 1]] * rows, "questions": ["q"] * rows, "original_correct": [0] * rows,
               "mcts_correct": [1] * rows, **extra}
        json.dump(doc, open(os.path.join(work, name + ".json"), "w"))
        r = run([drllm, "labels", "import", os.path.join(work, name + ".json"), "--out", os.path.join(work, name)])
        check(r.returncode == 1 and message in r.stderr and not glob.glob(os.path.join(work, name, "shard-*")),
              f"labels import refuses {name.replace('-', ' ')}, naming it, and writes nothing", r.stderr[-400:])

def window_means(h, windows=8):
    w = min(windows, h.shape[0])
    size = h.shape[0] // w
    return h[: w * size].reshape(w, size, -1).mean(1)


@once
def features_folder():
    """A 2-rank search with --save-features: its folder."""
    out = os.path.join(work, "features")
    r = run(mpirun(2) + command(out, limit=3, simulations=3) + ["--save-features"])
    check(r.returncode == 0, "a search with --save-features runs on 2 ranks", r.stderr[-1500:])
    return out


def features_equal_transformers():
    """--save-features: the router inputs along the best plan equal transformers' hidden states entering each layer
    along that plan (skips applied by hand, layer by layer), window-meaned as the official router pools them."""
    out = features_folder()
    hf = AutoModelForCausalLM.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf),
                                              dtype=torch.float32).eval()

    compared, worst = 0, 0.0
    for path in sorted(glob.glob(os.path.join(out, "shard-*.h5"))):
        with h5py.File(path, "r") as f:
            check(f["features"].dtype == np.float16 and f["features"].shape[1:3] == (30, 8), "features [N, L, 8, d] f2")
            for i in range(len(f["item_id"])):
                labels = f["labels"][i]
                if labels.max() > 1:
                    continue  # a repeat's KV semantics are the backbone parity tests' business
                ids = torch.tensor(f["prompt_tokens"][i], dtype=torch.long)[None]
                with torch.no_grad():
                    h = hf.model.embed_tokens(ids)
                    pe = hf.model.rotary_emb(h, torch.arange(ids.shape[1])[None])
                    want = []
                    for layer in range(30):
                        want.append(window_means(h[0]))
                        if labels[layer]:
                            y = hf.model.layers[layer](h, attention_mask=None, position_embeddings=pe)
                            h = y[0] if isinstance(y, tuple) else y
                want = torch.stack(want).numpy()
                w = int(f["feature_windows"][i])
                got = f["features"][i][:, :w].astype(np.float32)
                worst = max(worst, float(np.abs(got - want).max() / np.abs(want).max()))
                check(not f["features"][i][:, w:].any(), "windows past W_eff are zero")
                compared += 1
    check(compared > 0 and worst < 2e-3, f"features equal transformers' window means ({compared} rows, "
          f"max error {worst:.1e} of the largest value)")


checks.run([rank_zero_prints_the_progress, batches_agree_with_one_at_a_time, ranks_agree_with_one_process, manifest_matches_the_shards, kill_then_resume, stopped_rank_ends_the_job_then_resume,
            preempt_then_resume,
            other_runs_refused, out_of_range_labels_refused, non_finite_features_refused,
            bit_flips_refused_before_hdf5_opens_the_file, damaged_shards_named, full_disk_loses_nothing,
            official_json_round_trip, features_equal_transformers])
checks.finish()
