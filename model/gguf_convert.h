// GGUF -> Hugging Face folder: config.json and model.safetensors (dequantized, q/k un-permuted, Hugging Face
// names) that transformers loads. The tokenizer files are written by the caller (data/gguf_tokenizer.h).
#pragma once

#include <string>

namespace drllm::formats {
class GgufFile;
}

namespace drllm::model {

// Writes config.json and model.safetensors into `folder` (which must exist); dtype float32, bfloat16 or float16.
void write_hf_checkpoint_from_gguf(const formats::GgufFile& gguf, const std::string& folder, const std::string& dtype);

}  // namespace drllm::model
