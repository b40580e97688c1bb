#!/usr/bin/env python3
"""Makes the fuzz targets' seed corpora (fuzz/corpus/TARGET/seed-*), small real files written by the reference
libraries (safetensors, gguf, tokenizers) or by drllm itself, so that the fuzzer starts from inputs the readers
accept. The seeds are committed; rerun this only to change them.

usage: fuzz/make_seeds.py DRLLM [SHARED_ASSETS]
  DRLLM          the drllm binary (it writes the label shard, the official JSON and the checkpoint seeds)
  SHARED_ASSETS  the shared assets folder: its tokenizer.json files, shrunk, become tokenizer seeds (optional)
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(here)
drllm = os.path.abspath(sys.argv[1])
assets = sys.argv[2] if len(sys.argv) > 2 else os.path.join(repo, "..", "shared", "assets")
corpus = os.path.join(here, "corpus")


def put(target, name, data):
    folder = os.path.join(corpus, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"seed-{name}"), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors_seeds():
    import torch
    from safetensors.torch import save

    put("safetensors", "router", save({"router.0.weight": torch.randn(4, 3), "router.0.bias": torch.zeros(4)},
                                      metadata={"format": "pt"}))
    put("safetensors", "mixed", save({"a": torch.arange(6, dtype=torch.int64).reshape(2, 3),
                                      "b": torch.ones(2, dtype=torch.bfloat16), "c": torch.zeros(0)}))
    index = {"metadata": {"total_size": 8}, "weight_map": {"a.weight": "model-00001-of-00001.safetensors"}}
    put("safetensors_index", "one-shard", json.dumps(index))


def gguf_seeds():
    import gguf

    path = os.path.join(tempfile.mkdtemp(), "tiny.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(8)
    w.add_feed_forward_length(16)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    tokens = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [" ", "Ġ", "ab", "<s>", "</s>"]
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([1] * (len(tokens) - 2) + [3, 3])
    w.add_token_merges(["a b"])
    w.add_bos_token_id(len(tokens) - 2)
    w.add_eos_token_id(len(tokens) - 1)
    w.add_tensor("token_embd.weight", np.ones((len(tokens), 8), dtype=np.float32))
    w.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    put("gguf", "tiny-llama", open(path, "rb").read())


def shrink_tokenizer(path, keep=400):
    """A real tokenizer.json with its vocabulary cut to the first `keep` ids (merges and added tokens to match):
    every section of the real file, small enough to fuzz."""
    t = json.load(open(path))
    model = t["model"]
    if model.get("type") != "BPE":
        return None
    vocab = {k: v for k, v in model["vocab"].items() if v < keep}
    merges = []
    for m in model.get("merges", []):
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    model["vocab"], model["merges"] = vocab, merges
    added = t.get("added_tokens", [])[:4]
    new_id = {}
    for i, a in enumerate(added):
        new_id[a["id"]] = keep + i
        a["id"] = keep + i
    t["added_tokens"] = added

    def renumber(node):  # the post-processor's special tokens follow the added tokens they name
        if isinstance(node, dict):
            if isinstance(node.get("ids"), list):
                node["ids"] = [new_id.get(i, 0) for i in node["ids"]]
            for v in node.values():
                renumber(v)
        elif isinstance(node, list):
            for v in node:
                renumber(v)
    renumber(t.get("post_processor"))
    return json.dumps(t, ensure_ascii=False)


def tokenizer_seeds():
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(["Hello, world! 123", "The quick brown fox jumps over the lazy dog."] * 20, trainer)
    put("tokenizer_json", "trained-bytelevel", tok.to_str())
    for path in sorted(glob.glob(os.path.join(assets, "tokenizers", "*", "tokenizer.json"))):
        shrunk = shrink_tokenizer(path)
        if shrunk:
            put("tokenizer_json", os.path.basename(os.path.dirname(path)), shrunk)


def chat_template_seeds():
    bos = {"smollm2": "<|im_start|>", "qwen2_5": None, "llama3_2": "<|begin_of_text|>"}
    for path in sorted(glob.glob(os.path.join(repo, "tests", "python", "chat_templates", "*.jinja"))):
        name = os.path.splitext(os.path.basename(path))[0]
        put("chat_template", name, json.dumps({"chat_template": open(path).read(), "bos_token": bos.get(name)}))


def jsonl_seeds():
    formats = {"arc": 0, "gsm8k": 1, "piqa": 3, "openbookqa": 4}
    for path in sorted(glob.glob(os.path.join(repo, "datasets", "*.jsonl"))):
        name = os.path.basename(path)
        code = next((c for f, c in formats.items() if name.startswith(f.replace("arc", "arc_"))
                     or name.startswith(f)), 7)
        lines = open(path, encoding="utf-8").read().splitlines(keepends=True)[:3]
        put("jsonl", os.path.splitext(name)[0], bytes([code]) + "".join(lines).encode())
    csv = os.path.join(repo, "datasets", "truthfulqa.csv")
    if os.path.exists(csv):
        put("jsonl", "truthfulqa-csv", bytes([6 + 16]) + "".join(open(csv).readlines()[:3]).encode())


def drllm_seeds():
    """A label shard, its official JSON and a training checkpoint's manifest, all written by drllm."""
    work = tempfile.mkdtemp()
    env = dict(os.environ, DRLLM_MODEL=os.environ.get("DRLLM_MODEL", "smollm2-135m-instruct"))
    labels = os.path.join(work, "labels")
    subprocess.run([drllm, "search", "--data", os.path.join(repo, "datasets", "arc_challenge_train.jsonl"),
                    "--limit", "2", "--simulations", "3", "--shard-rows", "1", "--out", labels], check=True, env=env)
    shard = sorted(glob.glob(os.path.join(labels, "shard-*.h5")))[0]
    put("label_shard", "search", open(shard + ".sha256", "rb").read() + open(shard, "rb").read())
    exported = os.path.join(work, "official.json")
    subprocess.run([drllm, "labels", "export", labels, exported], check=True, env=env)
    put("official_json", "export", open(exported, "rb").read())
    features = os.path.join(work, "features")
    subprocess.run([drllm, "search", "--data", os.path.join(repo, "datasets", "arc_challenge_train.jsonl"),
                    "--limit", "2", "--simulations", "3", "--save-features", "--out", features], check=True, env=env)
    run = os.path.join(work, "train")
    subprocess.run([drllm, "train", "--labels", features, "--out", run, "--epochs", "1", "--holdout-every", "0"],
                   check=True, env=env)
    manifest = sorted(glob.glob(os.path.join(run, "checkpoints", "step-*", "manifest.json")))[-1]
    put("checkpoint_manifest", "train", open(manifest, "rb").read())
    shutil.rmtree(work)


for make in (safetensors_seeds, gguf_seeds, tokenizer_seeds, chat_template_seeds, jsonl_seeds, drllm_seeds):
    make()
print("seeds in", corpus, ":", {t: len(os.listdir(os.path.join(corpus, t))) for t in sorted(os.listdir(corpus))})
