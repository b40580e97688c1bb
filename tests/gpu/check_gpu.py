#!/usr/bin/env python3
"""GPU checks (scripts/gpu-check runs this on a machine lent with a GPU; nothing here can run without one).

1. Backbone logits on CUDA, fp32 and bf16, against transformers on the same GPU, for the tiny fixture models.
2. Greedy tokens on CUDA (fp32) against transformers' generate() for the fixture models.
3. Router training with the NCCL communicator on CUDA against the CPU (MPI communicator), same labels.
4. A checkpoint resume on GPU tensors: 8 steps, then on to 16, against 16 in one go (bitwise).

usage: check_gpu.py DRLLM PROBE FIXTURES_DIR LABELS_DIR OUT_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

drllm, probe, fixtures, labels, out = sys.argv[1:6]
scratch = tempfile.mkdtemp(prefix="drllm-gpu-")
results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
failures = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f"  [{detail}]" if detail else ""), flush=True)
    if not ok:
        failures.append(what)


# drllm's processes find the Debian libraries scripts/gpu-check carried; this Python keeps the machine's own.
drllm_env = dict(os.environ, LD_LIBRARY_PATH=os.environ.get("DRLLM_LIBRARY_PATH", ""))


def run(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=drllm_env)
    return r, time.perf_counter() - t


# 1. Logits against transformers on the GPU.
try:
    from transformers import AutoModelForCausalLM
    for name in sorted(os.listdir(fixtures)):
        folder = os.path.join(fixtures, name)
        if not os.path.isfile(os.path.join(folder, "reference.json")):
            continue
        ref = json.load(open(os.path.join(folder, "reference.json")))
        ids = ref["prompt"][0]
        for dtype, torch_dtype, bound in (("float32", torch.float32, 1e-3), ("bfloat16", torch.bfloat16, None)):
            try:
                hf = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype).cuda().eval()
                with torch.no_grad():
                    want = hf(torch.tensor([ids]).cuda()).logits[0].float().cpu().numpy()
                del hf
            except Exception as e:  # an older transformers on the GPU machine
                check(False, f"{name} {dtype}: transformers loads the fixture", repr(e)[:200])
                continue
            path = os.path.join(scratch, f"{name}-{dtype}.f32")
            r, _ = run([probe, "logits", folder, " ".join(map(str, ids)), path, "cuda", dtype])
            if r.returncode != 0:
                check(False, f"{name} {dtype}: drllm logits on CUDA", r.stderr[-300:])
                continue
            got = np.fromfile(path, dtype=np.float32).reshape(want.shape)
            diff = float(np.abs(got - want).max())
            scale = float(np.abs(want).max())
            agree = float((got.argmax(-1) == want.argmax(-1)).mean())
            results[f"logits_{name}_{dtype}"] = {"max_abs_diff": diff, "max_abs_logit": scale, "argmax_agree": agree}
            if bound is not None:
                check(diff <= bound, f"{name} fp32 logits on CUDA equal transformers' on CUDA", f"max abs diff {diff:.2e}")
            else:
                check(diff <= 0.05 * scale + 0.05 and agree >= 0.8,
                      f"{name} bf16 logits on CUDA near transformers' bf16 on CUDA",
                      f"max abs diff {diff:.3f} of logits up to {scale:.2f}, argmax agree {agree:.0%}")
except ImportError as e:
    check(False, "transformers is importable", repr(e))

# 2. Greedy generation on CUDA (fp32) against transformers' generate() (the fixtures' reference tokens).
for name in sorted(os.listdir(fixtures)):
    folder = os.path.join(fixtures, name)
    if not name.endswith("fp32") or not os.path.isfile(os.path.join(folder, "reference.json")):
        continue
    ref = json.load(open(os.path.join(folder, "reference.json")))["generate"]
    prompt, tokens = ref["prompt"], ref["tokens"]
    r, seconds = run([drllm, "generate", "--model", folder, "--prompt-ids", " ".join(map(str, prompt)),
                      "--max-new-tokens", str(len(tokens)), "--no-eos-stop", "--device", "cuda", "--dtype", "float32"])
    got = [int(t) for t in r.stdout.split()] if r.returncode == 0 else []
    check(got == tokens, f"{name}: {len(tokens)} greedy tokens on CUDA equal transformers' generate()",
          r.stderr[-300:] if r.returncode else f"{seconds:.1f} s")

# 3. Training: NCCL on CUDA against MPI on the CPU.
common = ["--labels", labels, "--holdout-every", "0", "--batch", "4", "--micro-batch", "1", "--warmup", "5",
          "--epochs", "5", "--checkpoint-every", "4"]
from safetensors.torch import load_file  # noqa: E402


def routers(run_dir):
    latest = open(os.path.join(run_dir, "checkpoints", "latest")).read().strip()
    return load_file(os.path.join(run_dir, "checkpoints", latest, "routers.safetensors"))


runs = {}
for device in ("cpu", "cuda"):
    run_dir = os.path.join(out, f"train-{device}")
    r, seconds = run([drllm, "train", *common, "--out", run_dir, "--device", device])
    ok = r.returncode == 0
    check(ok, f"drllm train on {device}",
          f"rc {r.returncode}; stdout {r.stdout[-300:]!r}; stderr {r.stderr[-300:]!r}" if not ok else f"{seconds:.1f} s")
    if ok:
        summary = json.loads(r.stdout[r.stdout.index("{"):])
        results[f"train_{device}"] = summary
        runs[device] = routers(run_dir)
if len(runs) == 2:
    diff = max(float((runs["cpu"][k] - runs["cuda"][k]).abs().max()) for k in runs["cpu"])
    results["train_cpu_vs_cuda_max_abs_diff"] = diff
    check(diff < 1e-4 and results["train_cuda"]["communicator"] == "nccl",
          "routers trained on CUDA with NCCL equal the CPU's", f"max abs diff {diff:.1e}")

# 4. Resume on GPU tensors.
a, b = os.path.join(out, "resume-a"), os.path.join(out, "resume-b")
r1, _ = run([drllm, "train", *common, "--out", a, "--device", "cuda", "--max-steps", "8"])
r2, _ = run([drllm, "train", *common, "--out", a, "--device", "cuda", "--max-steps", "16"])
r3, _ = run([drllm, "train", *common, "--out", b, "--device", "cuda", "--max-steps", "16"])
if all(r.returncode == 0 for r in (r1, r2, r3)):
    ra, rb = routers(a), routers(b)
    check("resuming" in r2.stderr and all(torch.equal(ra[k], rb[k]) for k in ra),
          "8 steps + resume to 16 on CUDA equal 16 in one go (bitwise)")
else:
    check(False, "the resume runs on CUDA", (r1.stderr + r2.stderr + r3.stderr)[-500:])

# 5. Routed generation on CUDA: routers whose decisions are known by construction (zero linear2 weights, biases
# that pick skip / execute / repeat) give the same tokens as the backbone on that plan; forced to execute (p = 0.5)
# they give the unrouted tokens.
from safetensors.torch import save_file  # noqa: E402

folder = os.path.join(fixtures, "llama_rope3_fp32")
config = json.load(open(os.path.join(folder, "config.json")))
layers, width = config["num_hidden_layers"], config["hidden_size"]
plan = [1] * layers
plan[1], plan[layers - 1] = 0, 2
tensors = {}
for l in range(layers):
    p = f"model.routers.{l}."
    tensors[p + "linear1.weight"] = torch.randn(128, width) * 0.05
    tensors[p + "linear1.bias"] = torch.zeros(128)
    tensors[p + "linear2.weight"] = torch.zeros(3, 128)
    tensors[p + "linear2.bias"] = torch.nn.functional.one_hot(torch.tensor(plan[l]), 3).float() * 4
routers_file = os.path.join(scratch, "routers.safetensors")
save_file(tensors, routers_file)
prompt = " ".join(map(str, json.load(open(os.path.join(folder, "reference.json")))["generate"]["prompt"]))


def tokens(extra):
    r, _ = run([drllm, "generate", "--model", folder, "--prompt-ids", prompt, "--max-new-tokens", "12", "--no-eos-stop",
                "--device", "cuda", "--dtype", "float32", *extra])
    return r.stdout.split() if r.returncode == 0 else ["error: " + r.stderr[-200:]]


routed_tokens, direct_tokens = tokens(["--routers", routers_file]), tokens(["--plan", ",".join(map(str, plan))])
check(routed_tokens == direct_tokens and len(routed_tokens) == 12, "routed generation on CUDA equals the backbone on "
      "the routed plan", f"{routed_tokens[:4]} vs {direct_tokens[:4]}")
check(tokens(["--routers", routers_file, "--router-p", "0.5"]) == tokens([]),
      "routers forced to execute on CUDA give the unrouted tokens")

# 5. Batches of sequences with different plans and lengths on CUDA: every sequence's greedy tokens equal its own
# batch-1 run, in fp32 and bf16, along a fixed plan and with random routers (a plan per prompt).
many = []
for i in range(6):
    many += ["--prompt-ids", " ".join(str(3 + (i * 31 + t * 17) % 250) for t in range(2 + (i * 5) % 9))]
for name in sorted(os.listdir(fixtures)):
    folder = os.path.join(fixtures, name)
    if not os.path.isfile(os.path.join(folder, "reference.json")):
        continue
    for dtype in ("float32", "bfloat16"):
        for extra in ([], ["--routers", routers_file] if name == "llama_rope3_fp32" else None):
            if extra is None:
                continue
            outs = []
            for batch in ("1", "6"):
                r, _ = run([drllm, "generate", "--model", folder, *many, "--max-new-tokens", "10", "--no-eos-stop",
                            "--device", "cuda", "--dtype", dtype, "--batch", batch, *extra])
                outs.append(r.stdout if r.returncode == 0 else "error: " + r.stderr[-200:])
            check(outs[0] == outs[1] and not outs[0].startswith("error"),
                  f"{name} {dtype}{' routed' if extra else ''}: a batch of 6 on CUDA gives each prompt its batch-1 "
                  "tokens", outs[1][:200])

results["failures"] = failures
json.dump(results, open(os.path.join(out, "gpu-results.json"), "w"), indent=2)
print(json.dumps({k: v for k, v in results.items() if k != "answers"}, indent=2))
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
