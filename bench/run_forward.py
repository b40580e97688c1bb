#!/usr/bin/env python3
"""bench/run_forward: drllm's backbone against transformers on the same machine, in the same run.

Model: SmolLM2-135M's shape (30 layers, hidden 576, 9 heads, 3 KV heads, FFN 1536, vocab 49152, tied), random
weights, fp32 on the CPU. Figures: prefill tokens/s at 64, 256 and 1024 tokens (last-position logits, as
generation needs) and decode tokens/s (128 steps after a 64-token prompt, KV cache). Each drllm figure is
printed beside transformers' (ratio > 1: drllm faster) and as a fraction of the FLOP rate of one 4096^3 fp32
matmul measured in the same run.

usage: bench/run_forward.py [--build build] [--threads N]
"""
import argparse
import json
import os
import subprocess
import time

import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

SHAPE = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
             num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rope_theta=100000.0,
             tie_word_embeddings=True, rms_norm_eps=1e-5)


def make_model(folder):
    if not os.path.exists(os.path.join(folder, "config.json")):
        torch.manual_seed(0)
        LlamaForCausalLM(LlamaConfig(**SHAPE)).save_pretrained(folder)
    return LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="sdpa").eval()


def best_time(reps, fn):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@torch.inference_mode()
def bench_transformers(model):
    out = {"prefill": {}}
    for t in (64, 256, 1024):
        ids = torch.randint(3, SHAPE["vocab_size"], (1, t))
        s = best_time(2 if t >= 1024 else 4, lambda: model(ids, logits_to_keep=1, use_cache=True))
        out["prefill"][str(t)] = t / s
    prompt, steps = 64, 128
    ids = torch.randint(3, SHAPE["vocab_size"], (1, prompt))

    def run(decode):
        cache = DynamicCache(config=model.config)
        logits = model(ids, cache=cache, use_cache=True, logits_to_keep=1).logits
        for _ in range(steps if decode else 0):
            logits = model(logits[:, -1].argmax(-1, keepdim=True), cache=cache, use_cache=True).logits

    out["decode"] = steps / (best_time(2, lambda: run(True)) - best_time(2, lambda: run(False)))
    return out


def prefill_flops(t):
    """Multiply-adds x 2 of one prefill of t tokens: the projections and FFN of every layer, causal attention
    (QK^T and PV over on average t/2 keys), and lm_head at the last position."""
    d, f, h, hkv, L, v = (SHAPE[k] for k in ("hidden_size", "intermediate_size", "num_attention_heads",
                                              "num_key_value_heads", "num_hidden_layers", "vocab_size"))
    dh = d // h
    per_token = 2 * (d * (h + 2 * hkv) * dh + h * dh * d + 3 * d * f)
    attention = 2 * 2 * h * dh * t * (t + 1) / 2
    return L * (per_token * t + attention) + 2 * d * v


def main():
    parser = argparse.ArgumentParser(description="drllm forward vs transformers")
    parser.add_argument("--build", default="build")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = os.path.join(args.build, "bench-models", "smollm2-135m-shape")
    model = make_model(folder)
    ours = json.loads(subprocess.check_output([os.path.join(args.build, "bench", "bench_forward"), folder,
                                               str(args.threads)]))
    theirs = bench_transformers(model)
    peak = ours["matmul_flops"]
    print(f"SmolLM2-135M shape, fp32, {args.threads} threads; matmul 4096^3: {peak / 1e9:.1f} GFLOP/s")
    print(f"{'figure':<22}{'drllm tok/s':>12}{'transformers':>14}{'ratio':>8}{'of matmul peak':>16}")
    for t in ("64", "256", "1024"):
        a, b = ours["prefill"][t], theirs["prefill"][t]
        frac = a * prefill_flops(int(t)) / int(t) / peak
        print(f"{'prefill ' + t:<22}{a:>12.1f}{b:>14.1f}{a / b:>8.2f}{frac:>15.0%}")
    a, b = ours["decode"], theirs["decode"]
    print(f"{'decode (64+128)':<22}{a:>12.1f}{b:>14.1f}{a / b:>8.2f}{'':>16}")


if __name__ == "__main__":
    main()
