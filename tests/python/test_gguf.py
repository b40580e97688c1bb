#!/usr/bin/env python3
"""GGUF against its Python oracles: the `gguf` package (dequantization, bit for bit) and `transformers`
(logits of the GGUF, logits of the folder `drllm convert` writes, greedy answers on 20 ARC questions, and the
tokenizer built from GGUF metadata), plus bad files that must fail with a clear error.

usage: test_gguf.py DRLLM PROBE MODEL.gguf DATASETS_DIR ASSETS_DIR WORK_DIR

gguf_vocabularies_equal_tokenizers needs the shared tokenizers (ASSETS_DIR/tokenizers): tests/CMakeLists.txt runs
it as a test of its own, which reports itself skipped where they are absent.
"""
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, once, skip_without  # noqa: E402

import numpy as np
import torch
from gguf import GGMLQuantizationType as T, GGUFReader, GGUFWriter, quants
from transformers import AutoModelForCausalLM, AutoTokenizer

drllm, probe, model_path, datasets, assets, work = sys.argv[1:7]
os.makedirs(work, exist_ok=True)
checks = Checklist()
check = checks.check


def probe_dequant(path, name, shape):
    out = os.path.join(work, "t.f32")
    subprocess.run([probe, "dequant", path, name, out], check=True)
    return np.fromfile(out, dtype=np.float32).reshape(shape)


def probe_logits(model, ids):
    out = os.path.join(work, "logits.f32")
    subprocess.run([probe, "logits", model, " ".join(map(str, ids)), out], check=True)
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


@once
def hf_model():
    """The default model's tokenizer and model in transformers (gguf_file=...), fp32."""
    folder, name = os.path.split(model_path)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    hf = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    return tok, hf


@once
def types_file():
    """A GGUF with one tensor of every listed type and what the gguf package dequantizes them to."""
    rng = np.random.default_rng(0)
    types_path = os.path.join(work, "types.gguf")
    writer = GGUFWriter(types_path, "llama")
    expected = {}
    for qtype in (T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q4_K, T.Q5_K, T.Q6_K):
        rows, cols = 4, 512
        values = rng.standard_normal((rows, cols)).astype(np.float32)
        if qtype in (T.F32, T.F16):
            data = values.astype(np.float32 if qtype == T.F32 else np.float16)
            writer.add_tensor(qtype.name, data)
            raw = data
        else:
            try:
                raw = quants.quantize(values, qtype)
            except NotImplementedError:  # K-quants: random bytes, with the f16 scales set to sane values
                block, size = quants.GGML_QUANT_SIZES[qtype]
                raw = rng.integers(0, 256, (rows, cols // block * size), dtype=np.uint8)
                blocks = raw.reshape(-1, size)
                halves = rng.uniform(0.001, 0.05, (blocks.shape[0], 2)).astype(np.float16).view(np.uint8)
                if qtype == T.Q6_K:
                    blocks[:, size - 2:] = halves[:, :2]
                else:
                    blocks[:, :4] = halves
            writer.add_tensor(qtype.name, raw, raw_dtype=qtype)
        expected[qtype.name] = quants.dequantize(raw.view(np.uint8) if qtype not in (T.F32, T.F16) else raw, qtype) \
            if qtype not in (T.F32, T.F16) else raw.astype(np.float32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return types_path, expected


def dequantization_equals_gguf():
    """Every listed type, on tensors written here (quantized by the gguf package where it can, else random blocks with
    sane scales), dequantized by drllm and by the gguf package."""
    types_path, expected = types_file()
    for name, ref in expected.items():
        ours = probe_dequant(types_path, name, ref.shape)
        check(np.array_equal(ours, ref), f"dequantize {name} equals the gguf package bit for bit",
              f"max abs diff {np.abs(ours - ref).max()}")


def real_tensors_dequantize():
    """The real file's tensors."""
    reader = GGUFReader(model_path)
    for t in reader.tensors:
        if t.name in ("token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_norm.weight", "blk.29.ffn_down.weight",
                      "output_norm.weight"):
            ref = quants.dequantize(t.data, t.tensor_type).reshape(list(reversed(t.shape.tolist())))
            ours = probe_dequant(model_path, t.name, ref.shape)
            check(np.array_equal(ours, ref), f"real tensor {t.name} ({t.tensor_type.name}) dequantizes bit for bit")


def logits_equal_transformers():
    """Logits: the GGUF and its converted folder, against transformers on both."""
    tok, hf = hf_model()
    prompt = tok.apply_chat_template([{"role": "user", "content": "Which planet is known as the red planet?"}],
                                     tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, add_special_tokens=False).input_ids
    with torch.no_grad():
        ref = hf(torch.tensor([ids])).logits[0].numpy()
    diff = np.abs(probe_logits(model_path, ids) - ref).max()
    check(diff <= 1e-4, f"GGUF logits equal transformers(gguf_file=...) (max abs diff {diff:.2e})")

    converted = os.path.join(work, "converted")
    shutil.rmtree(converted, ignore_errors=True)
    subprocess.run([drllm, "convert", model_path, converted], check=True)
    hf_conv = AutoModelForCausalLM.from_pretrained(converted, dtype=torch.float32).eval()
    with torch.no_grad():
        ref_conv = hf_conv(torch.tensor([ids])).logits[0].numpy()
    diff = np.abs(ref_conv - ref).max()
    check(diff <= 1e-4, f"transformers on the converted folder equals the GGUF (max abs diff {diff:.2e})")
    diff = np.abs(probe_logits(converted, ids) - ref_conv).max()
    check(diff <= 1e-4, f"drllm on the converted folder equals transformers (max abs diff {diff:.2e})")


def greedy_answers_equal_generate():
    """Greedy answers to 20 ARC questions in Dr.LLM's instruct prompt (10 new tokens, at least 2)."""
    tok, hf = hf_model()
    rows = [json.loads(l) for l in open(os.path.join(datasets, "arc_challenge_test.jsonl"))][:20]
    questions = []
    for r in rows:
        choices = "\n".join(f"{chr(65 + i)}. {t}" for i, t in enumerate(r["choices"]["text"]))
        questions.append('"Question: ' + r["question"] + "\n" + choices + "\nAnswer with a single letter (A, B, C, or D) and "
                         'no explanation. You answer should start with "Answer: " and be followed by the letter of the '
                         "answer you choose. Do not include any other text in your response.")
    prompts_file = os.path.join(work, "arc.jsonl")
    with open(prompts_file, "w") as f:
        for q in questions:
            f.write(json.dumps(q) + "\n")
    r = subprocess.run([drllm, "generate", "--model", model_path, "--chat", "--prompts-file", prompts_file, "--jsonl",
                        "--max-new-tokens", "10", "--min-new-tokens", "2"], capture_output=True, text=True, timeout=900)
    ours = [json.loads(l)["ids"] for l in r.stdout.splitlines()] if r.returncode == 0 else [r.stderr]
    theirs = []
    for q in questions:
        text = tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
        x = tok(text, return_tensors="pt", add_special_tokens=False)
        n = x.input_ids.shape[1]
        with torch.no_grad():
            out = hf.generate(**x, max_new_tokens=10, min_length=n + 2, do_sample=False, pad_token_id=tok.eos_token_id)
        theirs.append(out[0, n:].tolist())
    check(ours == theirs, "greedy answers to 20 ARC questions equal transformers' generate()",
          next((f"question {i}: ours {a} theirs {b}" for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), ours))


@once
def tokenizer_texts():
    """Every question, choice and answer of three shipped data sets, and a few hard strings."""
    texts = []
    for fname in ("arc_challenge_test.jsonl", "gsm8k_test.jsonl", "openbookqa_test.jsonl"):
        for line in open(os.path.join(datasets, fname)):
            row = json.loads(line)
            texts += [row.get("question", row.get("question_stem", ""))] + row.get("choices", {}).get("text", [])
            if "answer" in row:
                texts.append(row["answer"])
    return texts + ["<|im_start|>user\nHi 12345 👋<|im_end|>", "  many   spaces\n\n", "naïve café"]


def prompts_go_through_the_chat_template_by_default():
    """`generate --prompt` wraps the text in the model's chat template by default (as llama-cli and ollama do):
    the answer's ids equal transformers' greedy continuation of apply_chat_template's ids, and equal what --raw
    gives for the text that template renders; --raw alone sends the bare text (here: end of turn at once)."""
    tok, hf = hf_model()
    question = "What is the capital of France? Answer in one word."
    rendered = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True)
    ids = tok(rendered, add_special_tokens=False, return_tensors="pt").input_ids
    with torch.no_grad():
        out = hf.generate(ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.eos_token_id)
    theirs = out[0, ids.shape[1]:].tolist()

    def answer(*flags, prompt=question):
        r = subprocess.run([drllm, "generate", "--model", model_path, "--prompt", prompt, "--jsonl", "--max-new-tokens",
                            "12", *flags], capture_output=True, text=True, timeout=600)
        return json.loads(r.stdout.splitlines()[0]) if r.returncode == 0 and r.stdout else {"error": r.stderr}

    default, chat, raw = answer(), answer("--chat"), answer("--raw")
    check(default.get("ids") == theirs and "Paris" in default.get("answer", ""),
          "generate --prompt answers through the chat template, as transformers does (Paris)", (default, theirs))
    check(chat.get("ids") == default.get("ids"), "--chat gives what the default gives", chat)
    check(answer("--raw", prompt=rendered).get("ids") == theirs, "--raw on the rendered template equals the default")
    check(raw.get("ids") != theirs and len(raw.get("ids", [])) < 3, "--raw sends the bare text (the old behaviour)", raw)
    r = subprocess.run([drllm, "generate", "--model", model_path, "--prompt", "x", "--raw", "--chat"],
                       capture_output=True, text=True, timeout=600)
    check(r.returncode != 0 and "--chat and --raw" in r.stderr, "--chat with --raw is refused", r.stderr)


def tokenizer_from_metadata():
    """The tokenizer built from GGUF metadata. transformers' GGUF converter gives SmolLM2 a plain ByteLevel pre-
    tokenizer; SmolLM2's own tokenizer.json (and llama.cpp's "smollm" pre-tokenizer) first split digits one by
    one. The oracle is transformers' tokenizer with that pre-tokenizer restored."""
    # A tokenizer of its own: its pre-tokenizer is replaced below.
    tok = AutoTokenizer.from_pretrained(os.path.dirname(model_path), gguf_file=os.path.basename(model_path))
    texts = tokenizer_texts()
    from tokenizers import pre_tokenizers
    tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    r = subprocess.run([drllm, "tokenize", "--tokenizer", model_path, "--jsonl"],
                       input="".join(json.dumps(t) + "\n" for t in texts), capture_output=True, text=True, timeout=600)
    ours = r.stdout.splitlines()
    theirs = [" ".join(map(str, tok(t, add_special_tokens=False).input_ids)) for t in texts]
    check(ours == theirs, f"tokenizer from GGUF metadata equals transformers' on {len(texts)} strings",
          next((f"{t!r}\n ours {a}\n theirs {b}" for t, a, b in zip(texts, ours, theirs) if a != b), r.stderr))


def gguf_vocabularies_equal_tokenizers():
    """GGUF vocabularies written here from the shared Qwen3 and Llama-3.1 tokenizer.json files tokenize as
    `tokenizers` does on those files (the qwen2 and llama-bpe pre-tokenizers)."""
    skip_without(os.path.join(assets, "tokenizers"), "GGUF vocabularies against the shared tokenizer.json files")
    texts = tokenizer_texts()
    from tokenizers import Tokenizer as HfTokenizer
    for family, pre in (("qwen3", "qwen2"), ("llama3_1", "llama-bpe")):
        spec = json.load(open(os.path.join(assets, "tokenizers", family, "tokenizer.json")))
        vocab = dict(spec["model"]["vocab"])
        kinds = {}
        for a in spec["added_tokens"]:
            vocab[a["content"]] = a["id"]
            kinds[a["id"]] = 3 if a["special"] else 4
        size = max(vocab.values()) + 1
        tokens = [""] * size
        for text, i in vocab.items():
            tokens[i] = text
        merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
        path = os.path.join(work, family + ".gguf")
        w = GGUFWriter(path, "llama")
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre(pre)
        w.add_token_list(tokens)
        w.add_token_types([kinds.get(i, 1) for i in range(size)])
        w.add_token_merges(merges)
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        ref_tok = HfTokenizer.from_file(os.path.join(assets, "tokenizers", family, "tokenizer.json"))
        r = subprocess.run([drllm, "tokenize", "--tokenizer", path, "--jsonl"],
                           input="".join(json.dumps(t) + "\n" for t in texts), capture_output=True, text=True, timeout=600)
        ours = r.stdout.splitlines()
        theirs = [" ".join(map(str, e.ids)) for e in ref_tok.encode_batch(texts, add_special_tokens=False)]
        check(ours == theirs, f"GGUF vocabulary with pre-tokenizer '{pre}' equals tokenizers on {family}'s tokenizer.json",
              next((f"{t!r}\n ours {a}\n theirs {b}" for t, a, b in zip(texts, ours, theirs) if a != b), r.stderr))


def expect_error(path, fragments, what):
    r = subprocess.run([drllm, "inspect", path], capture_output=True, text=True, timeout=120)
    ok = r.returncode == 1 and all(f in r.stderr for f in fragments)
    check(ok, what, r.stderr + r.stdout[:200])


def bad_files_refused():
    """Bad files: each a clear error naming the problem."""
    types_path, _ = types_file()
    rng = np.random.default_rng(1)
    data = open(types_path, "rb").read()
    bad = os.path.join(work, "bad.gguf")
    open(bad, "wb").write(data[: len(data) // 2])
    expect_error(bad, ["runs past the end of the file", "truncated"], "a truncated GGUF names the tensor past the end")
    open(bad, "wb").write(data[:200])
    expect_error(bad, ["truncated GGUF file"], "a GGUF cut inside its metadata is a clear error")
    open(bad, "wb").write(data[:8] + struct.pack("<Q", 1 << 60) + data[16:])
    expect_error(bad, ["tensor count", "impossible"], "a tensor count beyond the file is a clear error")

    w = GGUFWriter(bad, "llama")
    w.add_tensor("weird", rng.integers(0, 256, (2, 84), dtype=np.uint8), raw_dtype=T.Q2_K)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    expect_error(bad, ["'weird'", "quantization type 10"], "an unknown quantization type is a clear error")

    w = GGUFWriter(bad, "llama")
    w.add_string("llama.block_count", "thirty")
    w.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    expect_error(bad, ["llama.block_count", "should be an unsigned integer but is string"],
                 "metadata of the wrong type is a clear error")
    w = GGUFWriter(bad, "llama")
    for key, value in (("llama.block_count", 1), ("llama.embedding_length", 8), ("llama.feed_forward_length", 16),
                       ("llama.attention.head_count", 0)):
        w.add_uint32(key, value)
    w.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    expect_error(bad, ["llama.attention.head_count is 0"], "a head count of 0 is a clear error, not a division by zero")

    # Tensor infos edited in place with gguf-py's own reader: the data no longer lies where ggml's layout puts it.
    def two_tensors(edit):
        w = GGUFWriter(bad, "llama")
        w.add_tensor("first.weight", np.ones((4, 32), dtype=np.float32))
        w.add_tensor("second.weight", np.ones((4, 32), dtype=np.float32))
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        edit(GGUFReader(bad, "r+").tensors)

    def overlap(tensors):
        tensors[1].field.parts[-1][0] = tensors[0].field.parts[-1][0]
    two_tensors(overlap)
    expect_error(bad, ["'second.weight' starts at offset 0", "overlapping tensors"],
                 "a tensor whose data overlaps another's is refused")

    def retype(tensors):
        tensors[0].field.parts[-2][0] = int(T.F16)
    two_tensors(retype)
    expect_error(bad, ["'second.weight'", "a type or shape that does not match the data"],
                 "a tensor whose type was changed (its size with it) is refused")


def fingerprint_covers_the_weights():
    """A copy of the model with one byte of one weight changed has another fingerprint (a model of the same shape with
    other weights resumed another model's labels); an unchanged copy has the same."""
    def fingerprint(path):
        r = subprocess.run([drllm, "inspect", path], capture_output=True, text=True, timeout=300)
        return [l.split()[-1] for l in r.stdout.splitlines() if l.startswith("fingerprint")]
    same_copy, changed = os.path.join(work, "copy.gguf"), os.path.join(work, "changed.gguf")
    shutil.copyfile(model_path, same_copy)
    data = bytearray(open(model_path, "rb").read())
    data[len(data) * 2 // 3] ^= 0x01  # inside the tensor data, far from the header
    open(changed, "wb").write(bytes(data))
    original = fingerprint(model_path)
    check(original and fingerprint(same_copy) == original, "an unchanged copy has the same fingerprint")
    check(original and fingerprint(changed) and fingerprint(changed) != original,
          "one weight byte changed: another fingerprint")
    os.remove(same_copy)
    os.remove(changed)


checks.run([dequantization_equals_gguf, real_tensors_dequantize, logits_equal_transformers,
            greedy_answers_equal_generate, prompts_go_through_the_chat_template_by_default,
            tokenizer_from_metadata, gguf_vocabularies_equal_tokenizers,
            bad_files_refused, fingerprint_covers_the_weights])
checks.finish()
