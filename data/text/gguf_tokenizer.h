// Tokenizers from GGUF metadata (tokenizer.ggml.*): the vocabulary, merges and token types, and the
// pre-tokenizer that llama.cpp's `tokenizer.ggml.pre` names, written out as the equivalent Hugging Face
// tokenizer.json, so a .gguf file is enough to run a model and `drllm convert` can ship a tokenizer.json.
// Byte-level BPE ("gpt2" model) only; sentencepiece GGUF vocabularies ("llama" model) are an error.
#pragma once

#include <string>

namespace drllm::formats {
class GgufFile;
}

namespace drllm::text {

// tokenizer.json text equivalent to the file's tokenizer; throws naming an unsupported model or pre-tokenizer.
std::string tokenizer_json_from_gguf(const formats::GgufFile& gguf);

}  // namespace drllm::text
