#!/usr/bin/env python3
"""Makes the stand-in default model that `scripts/run` uses until a real pretrained model is embedded (the
GGUF issue): a small Llama-architecture checkpoint with seeded random weights, written with transformers so it
is a genuine Hugging Face folder. Its outputs are meaningless text; it exists so the pipeline runs anywhere."""
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out = sys.argv[1] if len(sys.argv) > 1 else "models/default"
torch.manual_seed(0)
config = LlamaConfig(vocab_size=2048, hidden_size=128, intermediate_size=384, num_hidden_layers=4,
                     num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                     rope_theta=100000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
model = LlamaForCausalLM(config)
tmp = out + ".tmp"
model.save_pretrained(tmp)
with open(os.path.join(tmp, "README.txt"), "w") as f:
    f.write("Stand-in model: Llama architecture, seeded random weights (scripts/make_default_model.py).\n")
os.replace(tmp, out)
print(f"wrote {out}")
