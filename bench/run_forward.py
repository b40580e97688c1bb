#!/usr/bin/env python3
"""bench/run_forward: drllm's backbone against transformers on the same machine, in the same run, in fp32 and bf16.

Model: a real model's shape with random weights (saved once as bf16 safetensors under BUILD/bench-models):
qwen2.5-1.5b (the default model: 28 layers, hidden 1536, 12 heads, 2 KV heads, FFN 8960, vocab 151936, tied),
qwen2.5-0.5b (24 layers, hidden 896, 14/2 heads, FFN 4864) or smollm2-135m (30 layers, hidden 576). Figures:
prefill tokens/s at 64, 256 and 1024 tokens (last-position logits, as generation needs) and decode tokens/s (32
steps after a 64-token prompt, KV cache), for drllm fp32, drllm bf16, transformers fp32 and transformers bf16;
drllm's bf16 against its own fp32 and against transformers bf16 (ratio > 1: drllm faster), and the FLOP rate
each drllm prefill achieves as a fraction of one 2048^3 matmul in the same dtype, measured in the same process.

usage: bench/run_forward.py [--shape qwen2.5-1.5b] [--build build] [--threads N]
"""
import argparse
import gc
import json
import os
import subprocess
import time

import torch
from transformers import AutoModelForCausalLM, DynamicCache, LlamaConfig, Qwen2Config

SHAPES = {
    "qwen2.5-1.5b": (Qwen2Config, dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960,
                                       num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2,
                                       max_position_embeddings=32768, rope_theta=1000000.0,
                                       tie_word_embeddings=True, rms_norm_eps=1e-6)),
    "qwen2.5-0.5b": (Qwen2Config, dict(vocab_size=151936, hidden_size=896, intermediate_size=4864,
                                       num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                                       max_position_embeddings=32768, rope_theta=1000000.0,
                                       tie_word_embeddings=True, rms_norm_eps=1e-6)),
    "smollm2-135m": (LlamaConfig, dict(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                                       num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                                       max_position_embeddings=8192, rope_theta=100000.0,
                                       tie_word_embeddings=True, rms_norm_eps=1e-5)),
}
LENGTHS = (64, 256, 1024)


def make_model(folder, shape):
    if not os.path.exists(os.path.join(folder, "config.json")):
        config_class, kwargs = SHAPES[shape]
        torch.manual_seed(0)
        config = config_class(**kwargs)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        model.save_pretrained(folder)
        del model
        gc.collect()


def best_time(reps, fn):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@torch.inference_mode()
def bench_transformers(folder, dtype, vocab):
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation="sdpa").eval()
    out = {"prefill": {}}
    for t in LENGTHS:
        ids = torch.randint(3, vocab, (1, t))
        s = best_time(1 if t >= 1024 else 2, lambda: model(ids, logits_to_keep=1, use_cache=True))
        out["prefill"][str(t)] = t / s
    prompt, steps = 64, 32
    ids = torch.randint(3, vocab, (1, prompt))

    def run(decode):
        cache = DynamicCache(config=model.config)
        logits = model(ids, cache=cache, use_cache=True, logits_to_keep=1).logits
        for _ in range(steps if decode else 0):
            logits = model(logits[:, -1].argmax(-1, keepdim=True), cache=cache, use_cache=True).logits

    out["decode"] = steps / (best_time(2, lambda: run(True)) - best_time(2, lambda: run(False)))
    del model
    gc.collect()
    return out


def prefill_flops(shape, t):
    """Multiply-adds x 2 of one prefill of t tokens: the projections and FFN of every layer, causal attention
    (QK^T and PV over on average t/2 keys), and lm_head at the last position."""
    c = SHAPES[shape][1]
    d, f, h, hkv, L, v = (c[k] for k in ("hidden_size", "intermediate_size", "num_attention_heads",
                                         "num_key_value_heads", "num_hidden_layers", "vocab_size"))
    dh = d // h
    per_token = 2 * (d * (h + 2 * hkv) * dh + h * dh * d + 3 * d * f)
    attention = 2 * 2 * h * dh * t * (t + 1) / 2
    return L * (per_token * t + attention) + 2 * d * v


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", default="qwen2.5-1.5b", choices=sorted(SHAPES))
    parser.add_argument("--build", default="build")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = os.path.join(args.build, "bench-models", args.shape + "-shape")
    make_model(folder, args.shape)
    vocab = SHAPES[args.shape][1]["vocab_size"]
    env = dict(os.environ, DRLLM_CONVERTED_CACHE="off")
    ours = {dt: json.loads(subprocess.check_output(
        [os.path.join(args.build, "bench", "bench_forward"), folder, str(args.threads), dt], env=env))
        for dt in ("float32", "bfloat16")}
    theirs = {name: bench_transformers(folder, dt, vocab) for name, dt in (("float32", torch.float32),
                                                                          ("bfloat16", torch.bfloat16))}
    peak32, peak16 = ours["float32"]["matmul_flops"], ours["bfloat16"]["matmul_flops"]
    print(f"{args.shape} shape, random weights, {args.threads} threads; matmul 2048^3: fp32 {peak32 / 1e9:.1f} "
          f"GFLOP/s, bf16 {peak16 / 1e9:.1f} GFLOP/s ({peak16 / peak32:.2f}x)")
    print(f"{'tokens/s':<16}{'drllm fp32':>11}{'drllm bf16':>11}{'hf fp32':>9}{'hf bf16':>9}"
          f"{'bf16/fp32':>10}{'bf16/hf bf16':>13}{'fp32 of peak':>13}{'bf16 of peak':>13}")
    rows = [(f"prefill {t}", str(t)) for t in LENGTHS] + [("decode (64+32)", None)]
    for label, t in rows:
        get = (lambda r: r["prefill"][t]) if t else (lambda r: r["decode"])
        a32, a16, b32, b16 = get(ours["float32"]), get(ours["bfloat16"]), get(theirs["float32"]), get(theirs["bfloat16"])
        line = f"{label:<16}{a32:>11.1f}{a16:>11.1f}{b32:>9.1f}{b16:>9.1f}{a16 / a32:>10.2f}{a16 / b16:>13.2f}"
        if t:
            flops = prefill_flops(args.shape, int(t)) / int(t)
            line += f"{a32 * flops / peak32:>13.0%}{a16 * flops / peak16:>13.0%}"
        print(line)


if __name__ == "__main__":
    main()
