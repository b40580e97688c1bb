#!/usr/bin/env python3
"""drllm tokenize against the Python `tokenizers` library (the Rust implementation), for the three tokenizers
in ../shared/assets/tokenizers/: token ids of every question, choice and answer of every file in
../shared/assets/data/, and of hand-made hard strings (emoji, CJK, combining marks, digit runs, whitespace runs,
special tokens inside text, invalid UTF-8); with and without special tokens; decode of those ids equal to
tokenizers' decode, and decode(encode(x)) == x where the tokenizer can represent x.

usage: test_tokenizer_parity.py DRLLM ASSETS_DIR
"""
import csv
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, skip_without  # noqa: E402

from tokenizers import Tokenizer

drllm, assets = sys.argv[1], sys.argv[2]
skip_without(os.path.join(assets, "tokenizers"), "tokenizer parity on the shared tokenizers and full data sets")
checks = Checklist()
check = checks.check

HARD = [
    "", " ", "  ", "\n", "\n\n\n", " \n \n", "\t\tindented\n", "trailing spaces   ", "   leading",
    "Hello 👋🏽 world 🇫🇷 👨‍👩‍👧", "日本語のテキスト、漢字とカタカナ。", "中文测试：你好，世界！", "한국어 문장입니다",
    "e\u0301 vs \u00e9, A\u030a vs \u00c5, \u1e9b\u0323", "Zalgo: Z\u0351\u036b\u0343a\u0344l\u0310g\u0342o",
    "1234567890123456789012345678901234567890", "3.14159265358979 and 1,000,000 and -0.5e-10",
    "a" * 300, "ab " * 100, "x" + " " * 50 + "y", "mixed\r\nline\rendings\n",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "text<|endoftext|>more", "<s>in</s> text",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "<think>\n\n</think>\n\n",
    "<|im_start", "im_start|>", "It's they'll we've I'M YOU'RE", "don't 'quote' \"double\"", "$\\frac{1}{2}$ \\boxed{42}",
    "naïve café résumé", "ﬁ ligature, ① circled, Ｆｕｌｌｗｉｄｔｈ", "\u200b zero\u200bwidth \u00a0nbsp \u3000ideographic",
    "Ω≈ç√∫˜µ≤≥÷", "emoji at end 🎉", "🎉", "\U0001F600\U0001F601", "tab\tseparated\tvalues",
    "Answer: B", "#### 72", "The final answer MUST BE put in \\boxed{}.",
]
# Invalid UTF-8: tokenizers takes str, so the reference is the same bytes decoded with errors='replace'.
INVALID = [b"bad \xff byte", b"cut \xe6\x97 off", b"\xc3\x28 pair", b"surrogate \xed\xa0\x80 x", b"\xf0\x9f\x98",
           b"ok \xe2\x82\xac then \x80\x80"]


def data_strings():
    d = os.path.join(assets, "data")
    out = []
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if name.endswith(".csv"):
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    out += [row["Question"], row["Best Answer"]] + row["Correct Answers"].split("; ") + \
                           row["Incorrect Answers"].split("; ")
            continue
        for line in open(path):
            row = json.loads(line)
            for key in ("question", "answer", "goal", "sol1", "sol2", "question_stem"):
                if key in row:
                    out.append(row[key])
            if "choices" in row:
                out += row["choices"]["text"]
    return out


def run(args, text):
    r = subprocess.run([drllm, "tokenize", *args], input=text, capture_output=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode())
    return r.stdout.decode("utf-8", "replace").split("\n")[:-1]


def first_mismatch(texts, ours, theirs):
    for text, a, b in zip(texts, ours, theirs):
        if a != b:
            return f"text {text!r}\n drllm:      {a}\n tokenizers: {b}"
    return f"line counts {len(ours)} vs {len(theirs)}"


strings = data_strings()
print(f"{len(strings)} strings from the data files, {len(HARD)} hard strings, {len(INVALID)} invalid UTF-8")
for name in ("qwen3", "llama3_1", "llama2"):
    path = os.path.join(assets, "tokenizers", name, "tokenizer.json")
    ref = Tokenizer.from_file(path)
    for label, texts in (("data", strings), ("hard", HARD)):
        payload = "".join(json.dumps(t) + "\n" for t in texts).encode()
        for special in (False, True):
            ours = run(["--tokenizer", path, "--jsonl"] + (["--add-special"] if special else []), payload)
            theirs = [" ".join(map(str, e.ids)) for e in ref.encode_batch(texts, add_special_tokens=special)]
            check(ours == theirs, f"{name}: ids of {label} strings, add_special={special}",
                  first_mismatch(texts, ours, theirs))
        # decode: ours against tokenizers' on the same ids, and the round trip
        ids = [e.ids for e in ref.encode_batch(texts, add_special_tokens=False)]
        payload = "".join(" ".join(map(str, i)) + "\n" for i in ids).encode()
        ours = [json.loads(l) for l in run(["--tokenizer", path, "--decode", "--jsonl"], payload)]
        theirs = ref.decode_batch(ids, skip_special_tokens=False)
        check(ours == theirs, f"{name}: decode of {label} ids", first_mismatch(texts, ours, theirs))
        lossless = [t for t, d in zip(texts, theirs) if d == t]
        ours_lossless = [t for t, d in zip(texts, ours) if d == t]
        check(len(ours_lossless) == len(lossless) and len(lossless) >= 0.5 * len(texts),
              f"{name}: decode(encode(x)) == x for {len(lossless)}/{len(texts)} {label} strings (as tokenizers)")
    # invalid UTF-8, raw bytes on stdin
    payload = b"".join(b + b"\n" for b in INVALID)
    ours = run(["--tokenizer", path], payload)
    texts = [b.decode("utf-8", "replace") for b in INVALID]
    theirs = [" ".join(map(str, e.ids)) for e in ref.encode_batch(texts, add_special_tokens=False)]
    check(ours == theirs, f"{name}: invalid UTF-8 becomes U+FFFD as in Python", first_mismatch(texts, ours, theirs))

checks.finish()
