#!/usr/bin/env python3
"""bench/run_default_parity: the default model's logits in bf16, drllm against transformers, on real prompts.

transformers loads the model as the Hugging Face folder `drllm convert --dtype bfloat16` writes from the GGUF and
computes in bf16 on the CPU; drllm (the tests' drllm_probe) computes in bf16 from its converted cache. For each of N ARC-Challenge test
questions, put as a user message in the model's chat template (transformers' tokenizer and template, so both get
the same ids), the logits of every position are compared: argmax agreement, and the largest absolute difference.
A study, not a test: the default model is 1.1 GB and the test suite does not fetch it.

usage: bench/run_default_parity.py [--model NAME] [--prompts 20] [--build build]
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    p.add_argument("--prompts", type=int, default=20)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--data", default=os.path.join(ROOT, "datasets", "arc_challenge_test.jsonl"))
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    drllm = os.path.join(a.build, "cli", "drllm")
    probe = os.path.join(a.build, "tests", "drllm_probe")
    path = subprocess.check_output([drllm, "models", "path", a.model], text=True).strip()
    folder, name = os.path.dirname(path), os.path.basename(path)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # transformers' own GGUF path keeps the weights quantized and computes in fp32: not a bf16 oracle. It reads the
    # Hugging Face folder `drllm convert` writes instead (that dequantization is checked bit for bit against the
    # gguf package by the test suite), and computes in bf16 as any bf16 checkpoint.
    converted = os.path.join(a.build, "bench-models", a.model + "-bf16")
    if not os.path.exists(os.path.join(converted, "model.safetensors")):
        subprocess.run([drllm, "convert", path, converted, "--dtype", "bfloat16"], check=True)
    model = AutoModelForCausalLM.from_pretrained(converted, dtype=torch.bfloat16, attn_implementation="sdpa").eval()
    rows = [json.loads(line) for line in open(a.data)][: a.prompts]
    positions = agree = 0
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, row in enumerate(rows):
            labels, texts = row["choices"]["label"], row["choices"]["text"]
            text = row["question"] + "\n" + "\n".join(f"{l}. {t}" for l, t in zip(labels, texts))
            ids = tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True)
            if isinstance(ids, dict) or hasattr(ids, "input_ids"):
                ids = ids["input_ids"]
            with torch.no_grad():
                theirs = model(torch.tensor([ids])).logits[0].float().numpy()
            out = os.path.join(tmp, "logits.f32")
            subprocess.run([probe, "logits", path, " ".join(map(str, ids)), out, "cpu", "bfloat16"], check=True,
                           stderr=subprocess.DEVNULL)
            ours = np.fromfile(out, dtype=np.float32).reshape(theirs.shape)
            same = int((ours.argmax(-1) == theirs.argmax(-1)).sum())
            diff = float(np.abs(ours - theirs).max())
            positions += len(ids)
            agree += same
            worst = max(worst, diff)
            print(f"prompt {i}: {len(ids)} tokens, argmax agrees at {same}, max |difference| {diff:.4f}", flush=True)
    print(f"\n{a.model}, bf16, {len(rows)} prompts: argmax agrees at {agree} of {positions} positions "
          f"({100 * agree / positions:.2f} %); largest |drllm - transformers| {worst:.4f}")


if __name__ == "__main__":
    main()
