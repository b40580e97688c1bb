#!/usr/bin/env python3
"""Builds tiny random Hugging Face models and what `transformers` computes on them: the oracle of the
backbone parity tests (tests/model/test_backbone_parity.cpp).

For each model, OUT/<name>/ holds the checkpoint (config.json + safetensors) and reference.json:
  full_logits   logits of every position of a [2, T] prompt, all layers, model(...) in fp32
  full_logits_bf16  the same with the model loaded and computing in bf16
  generate      20 greedy tokens from transformers' generate() with its KV cache
  plans         per layer plan and repeat semantics: all-position prefill logits and 8 greedy tokens from a
                Python loop over the decoder layers, the way the official Dr.LLM code runs a path

Weights are drawn wider than transformers' init (std 0.1, norms around 1, non-zero biases) so every layer,
norm and bias visibly moves the logits. bf16 checkpoints are compared against transformers upcasting the same
bf16 weights to fp32, since drllm computes in fp32 on the CPU.
"""
import argparse
import json
import os
import sys

import torch
from transformers import (AutoModelForCausalLM, DynamicCache, LlamaConfig, MistralConfig, Qwen2Config,
                          Qwen3Config)

COMMON = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
              bos_token_id=1, eos_token_id=2)

MODELS = {
    # llama with llama3 rope scaling, untied, biases everywhere, fp32 file
    "llama_rope3_fp32": (LlamaConfig, dict(COMMON, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64}, rope_theta=10000.0, attention_bias=True, mlp_bias=True,
        tie_word_embeddings=False), torch.float32, None),
    # llama, tied embeddings, bf16 file, plain MHA
    "llama_tied_bf16": (LlamaConfig, dict(COMMON, num_key_value_heads=4, tie_word_embeddings=True),
                        torch.bfloat16, None),
    # qwen2: q/k/v bias, tied
    "qwen2_fp32": (Qwen2Config, dict(COMMON, tie_word_embeddings=True, rope_theta=1000000.0), torch.float32, None),
    # qwen3: q/k norm, head_dim != hidden / heads, untied, bf16 file
    "qwen3_bf16": (Qwen3Config, dict(COMMON, head_dim=32, tie_word_embeddings=False), torch.bfloat16, None),
    # qwen3 sharded over several files
    "qwen3_sharded_fp32": (Qwen3Config, dict(COMMON, head_dim=16, tie_word_embeddings=True), torch.float32, "40KB"),
    # mistral (sliding window larger than any test sequence)
    "mistral_fp32": (MistralConfig, dict(COMMON, sliding_window=4096, tie_word_embeddings=False),
                     torch.float32, None),
}

PLANS = [[1, 1, 1, 1], [0, 1, 2, 1], [2, 1, 0, 1], [1, 2, 2, 0], [2, 2, 2, 2], [0, 0, 1, 0]]


def widen_weights(model, generator):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))


def run_plan(model, prompt, plan, repeat_kv, new_tokens):
    """The official code's way of running a path: embed, then each decoder layer 0, 1 or 2 times, then norm and
    lm_head; a DynamicCache that both passes of a repeat share ('shared') or where the second pass is the
    virtual layer L + l ('separate')."""
    inner = model.model
    L = len(plan)
    cache = DynamicCache()
    saved = [layer.self_attn.layer_idx for layer in inner.layers]

    def forward(ids, start):
        h = inner.embed_tokens(ids)
        pos = torch.arange(start, start + ids.shape[1]).unsqueeze(0)
        pe = inner.rotary_emb(h, pos)
        for l, count in enumerate(plan):
            for r in range(count):
                inner.layers[l].self_attn.layer_idx = l if (r == 0 or repeat_kv == "shared") else L + l
                out = inner.layers[l](h, attention_mask=None, position_ids=pos, cache=cache, use_cache=True,
                                      position_embeddings=pe)
                h = out[0] if isinstance(out, tuple) else out
        return model.lm_head(inner.norm(h))

    try:
        logits = forward(prompt, 0)
        prefill = logits[0]
        tokens, position = [], prompt.shape[1]
        for _ in range(new_tokens):
            nxt = int(logits[0, -1].argmax())
            tokens.append(nxt)
            logits = forward(torch.tensor([[nxt]]), position)
            position += 1
        return prefill, tokens
    finally:
        for layer, idx in zip(inner.layers, saved):
            layer.self_attn.layer_idx = idx


def build(name, out_dir, seed):
    config_cls, kwargs, dtype, shard = MODELS[name]
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    config = config_cls(**kwargs)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
    widen_weights(model, generator)
    folder = os.path.join(out_dir, name)
    model.to(dtype).save_pretrained(folder, **({"max_shard_size": shard} if shard else {}))

    # The oracle reads the saved files back, as drllm does, and computes in fp32.
    ref_model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="sdpa")
    ref_model.eval()
    ref_model.generation_config.eos_token_id = None
    ref_model.generation_config.pad_token_id = 0
    prompt = torch.randint(3, config.vocab_size, (2, 11), generator=generator)
    ref = {"name": name, "model_type": config.model_type, "prompt": prompt.tolist()}
    with torch.no_grad():
        ref["full_logits"] = ref_model(prompt).logits.tolist()
        gen = ref_model.generate(prompt[:1], max_new_tokens=20, do_sample=False, min_new_tokens=20)
        ref["generate"] = {"prompt": prompt[0].tolist(), "tokens": gen[0, prompt.shape[1]:].tolist()}
        ref["plans"] = []
        for plan in PLANS:
            for repeat_kv in ("shared", "separate"):
                logits, tokens = run_plan(ref_model, prompt[:1], plan, repeat_kv, 8)
                ref["plans"].append({"plan": plan, "repeat_kv": repeat_kv, "prefill_logits": logits.tolist(),
                                     "tokens": tokens})
    # And transformers computing in bf16 on the CPU: the oracle of drllm's bf16 path.
    bf16_model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16, attn_implementation="sdpa").eval()
    with torch.no_grad():
        ref["full_logits_bf16"] = bf16_model(prompt).logits.float().tolist()
    with open(os.path.join(folder, "reference.json.tmp"), "w") as f:
        json.dump(ref, f)
    os.replace(os.path.join(folder, "reference.json.tmp"), os.path.join(folder, "reference.json"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for i, name in enumerate(MODELS):
        build(name, args.out_dir, args.seed + i)
        print(f"fixture {name}", file=sys.stderr)
    with open(os.path.join(args.out_dir, "models.txt"), "w") as f:
        f.write("\n".join(MODELS) + "\n")


if __name__ == "__main__":
    main()
