#!/usr/bin/env python3
"""bench/run_tokenize: MB/s of encoding every question, choice and answer of ../shared/assets/data/ with the Qwen3
and Llama-3.1 tokenizers: drllm (bench_tokenize) beside Python `tokenizers` (Rust) in the same run, both on
one thread (RAYON_NUM_THREADS=1, encode_batch), best of 3 passes after a warm-up pass each.

usage: bench/run_tokenize.py [--build build] [--assets ../shared/assets]
"""
import argparse
import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its thread pool
import json
import subprocess
import sys
import tempfile
import time

from tokenizers import Tokenizer



def data_strings(assets):
    import csv
    d, out = os.path.join(assets, "data"), []
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if name.endswith(".csv"):
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    out += [row["Question"], row["Best Answer"], row["Correct Answers"], row["Incorrect Answers"]]
            continue
        for line in open(path):
            row = json.loads(line)
            out += [row[k] for k in ("question", "answer", "goal", "sol1", "sol2", "question_stem") if k in row]
            out += row.get("choices", {}).get("text", [])
    return out


def main():
    parser = argparse.ArgumentParser(description="drllm tokenizer vs tokenizers")
    parser.add_argument("--build", default="build")
    parser.add_argument("--assets", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "assets"))
    args = parser.parse_args()
    texts = data_strings(args.assets)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for t in texts:
            f.write(json.dumps(t) + "\n")
        texts_path = f.name
    print(f"{len(texts)} texts, {mb:.2f} MB, one thread each")
    print(f"{'tokenizer':<12}{'drllm MB/s':>12}{'tokenizers MB/s':>17}{'ratio':>8}")
    for name in ("qwen3", "llama3_1"):
        path = os.path.join(args.assets, "tokenizers", name, "tokenizer.json")
        ours = json.loads(subprocess.check_output([os.path.join(args.build, "bench", "bench_tokenize"), path,
                                                   texts_path]))
        ref = Tokenizer.from_file(path)
        ref.encode_batch(texts, add_special_tokens=False)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            ref.encode_batch(texts, add_special_tokens=False)
            best = min(best, time.perf_counter() - t0)
        a, b = mb / ours["seconds"], mb / best
        print(f"{name:<12}{a:>12.2f}{b:>17.2f}{a / b:>8.2f}")
    os.unlink(texts_path)


if __name__ == "__main__":
    main()
