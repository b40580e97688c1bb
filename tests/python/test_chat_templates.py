#!/usr/bin/env python3
"""drllm chat-template against transformers' apply_chat_template (Jinja) for the supported families: Llama-3 and
Qwen3 from ../shared/assets/tokenizers/*/tokenizer_config.json, Qwen2.5 and SmolLM2 from their official templates
(tests/python/chat_templates/), with and without a system message, multi-turn, thinking on and off.
drllm recognises each template from the tokenizer_config.json text.

usage: test_chat_templates.py DRLLM ASSETS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

from transformers import AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, skip_without  # noqa: E402

drllm, assets = sys.argv[1], sys.argv[2]
skip_without(os.path.join(assets, "tokenizers"), "chat templates against the shared tokenizer_config.json files")
here = os.path.dirname(os.path.abspath(__file__))
checks = Checklist()

CONVERSATIONS = [
    [{"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a prime."}],
    [{"role": "user", "content": "  padded question \n\n"}],
    [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello! How can I help?"}, {"role": "user", "content": "Question: 日本? 👋\nA. x"}],
    [{"role": "user", "content": "Solve"}, {"role": "assistant", "content": "<think>\nstep 1\n</think>\n\nIt is 4."},
     {"role": "user", "content": "And 3+3?"}],
    [{"role": "user", "content": "Solve"}, {"role": "assistant", "content": "<think>\nreasoning\n</think>\n\n6"}],
]

FAMILIES = [  # (label, tokenizer folder, template file or None for the folder's own)
    ("llama3", "llama3_1", None),
    ("qwen3", "qwen3", None),
    ("qwen2.5", "qwen3", "qwen2_5.jinja"),
    ("smollm2", "qwen3", "smollm2.jinja"),
    ("llama3.2", "llama3_1", "llama3_2.jinja"),
]

for label, folder, template_file in FAMILIES:
    tok = AutoTokenizer.from_pretrained(os.path.join(assets, "tokenizers", folder))
    config_path = os.path.join(assets, "tokenizers", folder, "tokenizer_config.json")
    template = None
    if template_file:
        template = open(os.path.join(here, "chat_templates", template_file)).read()
        config = {"chat_template": template}
        tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(config, tmp)
        tmp.close()
        config_path = tmp.name
    cases = []
    for conv in CONVERSATIONS:
        for gen in (False, True):
            for thinking in (False, True):
                cases.append({"messages": conv, "add_generation_prompt": gen, "enable_thinking": thinking})
    payload = "".join(json.dumps(c) + "\n" for c in cases)
    r = subprocess.run([drllm, "chat-template", "--tokenizer-config", config_path], input=payload,
                       capture_output=True, text=True, timeout=120)
    if label == "llama3.2":  # also with the date given, as Llama-3.1's template fixes it
        r2 = subprocess.run([drllm, "chat-template", "--tokenizer-config", config_path, "--date", "26 Jul 2024"],
                            input=payload, capture_output=True, text=True, timeout=120)
        fixed = [json.loads(l) for l in r2.stdout.splitlines()]
        refs = [tok.apply_chat_template(c["messages"], tokenize=False, chat_template=template, date_string="26 Jul 2024",
                                        add_generation_prompt=c["add_generation_prompt"]) for c in cases]
        checks.check(fixed == refs, "llama3.2 with date_string='26 Jul 2024' equals apply_chat_template",
                     (fixed[:1], refs[:1]))
    ours = [json.loads(l) for l in r.stdout.splitlines()] if r.returncode == 0 else []
    bad = None
    for i, case in enumerate(cases):
        ref = tok.apply_chat_template(case["messages"], tokenize=False, chat_template=template,
                                      add_generation_prompt=case["add_generation_prompt"],
                                      enable_thinking=case["enable_thinking"])
        if i >= len(ours) or ours[i] != ref:
            bad = f"case {case}\n drllm:        {ours[i] if i < len(ours) else r.stderr!r}\n transformers: {ref!r}"
            break
    checks.check(bad is None, f"{label}: {len(cases)} renderings equal apply_chat_template", bad)

# An unknown template is a clear error that says what to do.
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
    json.dump({"chat_template": "{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}"}, tmp)
r = subprocess.run([drllm, "chat-template", "--tokenizer-config", tmp.name], input='{"messages": []}\n',
                   capture_output=True, text=True)
checks.check(r.returncode == 1 and "--chat-template" in r.stderr and tmp.name in r.stderr,
             "an unknown template is a clear error", r.stderr)
checks.finish()
