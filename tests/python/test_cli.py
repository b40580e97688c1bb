#!/usr/bin/env python3
"""The drllm executable as a user runs it: --help lists the subcommands, inspect prints the config and a
fingerprint that changes with the config, generate prints the ids that transformers' generate() gives
(tests/python/make_fixtures.py's reference), and bad input ends in a clear error and a non-zero exit."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist  # noqa: E402

drllm, fixtures = sys.argv[1], sys.argv[2]
checks = Checklist()
check = checks.check


def run(*args):
    return subprocess.run([drllm, *args], capture_output=True, text=True, timeout=300)


r = run("--help")
check(r.returncode == 0 and "inspect" in r.stdout and "generate" in r.stdout, "--help lists the subcommands", r.stdout)

model = os.path.join(fixtures, "qwen3_bf16")
r = run("inspect", model)
check(r.returncode == 0 and "qwen3" in r.stdout and "fingerprint" in r.stdout, "inspect prints config", r.stdout + r.stderr)
config = json.load(open(os.path.join(model, "config.json")))
check("BF16" in r.stdout, "inspect names the checkpoint dtype", r.stdout)
fingerprint = [l.split()[-1] for l in r.stdout.splitlines() if l.startswith("fingerprint")][0]

with tempfile.TemporaryDirectory() as tmp:
    copy = os.path.join(tmp, "m")
    shutil.copytree(model, copy)
    config["rms_norm_eps"] = 1e-5
    json.dump(config, open(os.path.join(copy, "config.json"), "w"))
    r2 = run("inspect", copy)
    fingerprint2 = [l.split()[-1] for l in r2.stdout.splitlines() if l.startswith("fingerprint")][0]
    check(fingerprint2 != fingerprint and len(fingerprint) == 64, "fingerprint depends on the config")
    # The same config and shapes with one weight changed (a byte in the middle of the data) is another model.
    weights = os.path.join(tmp, "w")
    shutil.copytree(model, weights)
    data = bytearray(open(os.path.join(weights, "model.safetensors"), "rb").read())
    data[len(data) // 2] ^= 0x01
    open(os.path.join(weights, "model.safetensors"), "wb").write(bytes(data))
    r3 = run("inspect", weights)
    fingerprint3 = [l.split()[-1] for l in r3.stdout.splitlines() if l.startswith("fingerprint")]
    check(fingerprint3 and fingerprint3[0] != fingerprint, "fingerprint depends on every weight, not only the shapes",
          r3.stderr)

ref = json.load(open(os.path.join(model, "reference.json")))
prompt = " ".join(map(str, ref["generate"]["prompt"]))
r = run("generate", "--model", model, "--prompt-ids", prompt, "--max-new-tokens", "20", "--no-eos-stop")
got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
check(got == ref["generate"]["tokens"], "generate prints transformers' greedy ids", r.stdout + r.stderr)

plan = next(p for p in ref["plans"] if p["plan"] == [0, 1, 2, 1] and p["repeat_kv"] == "separate")
r = run("generate", "--model", model, "--prompt-ids", prompt, "--max-new-tokens", "8", "--no-eos-stop",
        "--plan", "0,1,2,1", "--repeat-kv", "separate")
got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
check(got == plan["tokens"], "generate --plan follows the layer loop", r.stdout + r.stderr)

r = run("generate", "--model", model, "--plan", "1,1,3,1")
check(r.returncode == 1 and "entry 2 is '3'" in r.stderr, "a plan value above 2 is a clear error", r.stderr)
r = run("generate", "--model", model, "--plan", "1,1")
check(r.returncode == 1 and "2 entries but the model has 4 layers" in r.stderr, "a short plan is a clear error", r.stderr)
r = run("--threads", "100000", "generate", "--model", model, "--prompt-ids", "1 2", "--max-new-tokens", "1")
check(r.returncode == 1 and "--threads 100000: at most" in r.stderr, "an impossible thread count is a clear error",
      r.stderr[-500:])
r = run("generate", "--model", model, "--prompt-ids", "1 2", "--device", "cuda:99")
check(r.returncode == 1 and "--device cuda:99" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
      "a CUDA device on a machine without one is a one-line error", r.stderr[-800:])
r = run("generate", "--model", model, "--prompt-ids", "1 2", "--max-new-tokens", "2000000000")
check(r.returncode == 1 and "--max-new-tokens 2000000000 is outside" in r.stderr,
      "an absurd token budget is refused before any allocation", r.stderr[-500:])
r = run("inspect", os.path.join(fixtures, "no-such-model"))
check(r.returncode == 1 and "no-such-model" in r.stderr, "a missing model folder is named", r.stderr)

# --model ORG/NAME: a snapshot in the local Hugging Face cache, laid out as huggingface_hub lays it out (blobs named
# by their hash, snapshot files symlinked to them, refs/main holding the commit). The oracle of where the snapshot
# is: huggingface_hub's own snapshot_download(local_files_only=True) on that cache.
from huggingface_hub import snapshot_download  # noqa: E402

with tempfile.TemporaryDirectory() as hf_home:
    hub = os.path.join(hf_home, "hub")
    repo = os.path.join(hub, "models--test-org--tiny-qwen3")
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = os.path.join(repo, "snapshots", commit)
    for folder in ("blobs", "refs", snapshot):
        os.makedirs(os.path.join(repo, folder), exist_ok=True)
    import hashlib
    for name in os.listdir(model):
        data = open(os.path.join(model, name), "rb").read()
        blob = hashlib.sha256(data).hexdigest()
        open(os.path.join(repo, "blobs", blob), "wb").write(data)
        os.symlink(os.path.join("..", "..", "blobs", blob), os.path.join(snapshot, name))
    open(os.path.join(repo, "refs", "main"), "w").write(commit)
    oracle = snapshot_download("test-org/tiny-qwen3", cache_dir=hub, local_files_only=True)

    def run_hf(*args, **env):
        return subprocess.run([drllm, *args], capture_output=True, text=True, timeout=300,
                              env=dict({k: v for k, v in os.environ.items() if not k.startswith("HF_")}, **env))

    r = run_hf("models", "path", "test-org/tiny-qwen3", HF_HOME=hf_home)
    check(r.returncode == 0 and os.path.realpath(r.stdout.strip()) == os.path.realpath(oracle),
          "--model ORG/NAME resolves to the snapshot huggingface_hub finds (refs/main)", (r.stdout, r.stderr, oracle))
    r = run_hf("generate", "--model", "test-org/tiny-qwen3", "--prompt-ids", prompt, "--max-new-tokens", "20",
               "--no-eos-stop", HF_HOME=hf_home)
    got = [int(x) for x in r.stdout.split()] if r.returncode == 0 else None
    check(got == ref["generate"]["tokens"], "generate --model ORG/NAME runs that snapshot", r.stdout + r.stderr)
    r = run_hf("models", "path", f"test-org/tiny-qwen3@{commit}", HF_HUB_CACHE=hub)
    check(r.returncode == 0 and r.stdout.strip() == snapshot, "ORG/NAME@COMMIT and HF_HUB_CACHE are honoured",
          r.stdout + r.stderr)
    r = run_hf("inspect", "test-org/no-such-model", HF_HOME=hf_home)
    check(r.returncode == 1 and os.path.join(hub, "models--test-org--no-such-model") in r.stderr
          and "huggingface-cli download test-org/no-such-model" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "a repo id not in the cache is a one-line error naming where it looked", r.stderr)
    r = run_hf("inspect", "test-org/tiny-qwen3@v9", HF_HOME=hf_home)
    check(r.returncode == 1 and os.path.join(repo, "refs", "v9") in r.stderr, "an unknown revision names the ref",
          r.stderr)

# Endless and blocking inputs: /dev/zero or a FIFO in place of the tokenizer, a data file, a prompts file, the config
# or the weights is refused at once by name (it grew a buffer by GBs, or blocked forever).
with tempfile.TemporaryDirectory() as tmp:
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    for label, endless in (("/dev/zero", "/dev/zero"), ("a FIFO", fifo)):
        folder = os.path.join(tmp, "model-" + label.replace("/", "_").replace(" ", "_"))
        shutil.copytree(model, folder)
        os.remove(os.path.join(folder, "config.json"))
        os.symlink(endless, os.path.join(folder, "config.json"))
        weights = os.path.join(tmp, "weights-" + label.replace("/", "_").replace(" ", "_"))
        shutil.copytree(model, weights)
        os.remove(os.path.join(weights, "model.safetensors"))
        os.symlink(endless, os.path.join(weights, "model.safetensors"))
        cases = [("tokenizer", ["tokenize", "--tokenizer", endless]),
                 ("data file", ["eval", "--model", model, "--data", endless, "--task", "arc", "--out", os.path.join(tmp, "e")]),
                 ("prompts file", ["generate", "--model", model, "--prompts-file", endless]),
                 ("model config", ["inspect", folder]),
                 ("weights", ["inspect", weights])]
        for what, args in cases:
            try:
                r = subprocess.run([drllm, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
                ok = r.returncode == 1 and "not a regular file" in r.stderr and len(r.stderr.strip().splitlines()) == 1
                detail = r.stderr[-500:]
            except subprocess.TimeoutExpired:
                ok, detail = False, "still running after 60 s"
            check(ok, f"{label} as the {what} is a one-line error, at once", detail)

checks.finish()
