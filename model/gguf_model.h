// A GGUF file as a drllm model: ModelConfig from llama.cpp's metadata keys ({arch}.block_count, ...), and the
// tensors under their Hugging Face names (one name table, gguf_model.cpp), dequantized to the compute dtype,
// with llama.cpp's q/k row permutation undone for the llama family (its converter applies it; qwen is not
// permuted). Architectures: llama, mistral, qwen2, qwen3.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "formats/gguf.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace drllm::model {

ModelConfig config_from_gguf(const formats::GgufFile& gguf);

// The Hugging Face name of a GGUF tensor ("blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight"),
// or "" for tensors with no Hugging Face counterpart.
std::string hf_name_of_gguf_tensor(const std::string& gguf_name);

class GgufWeightSource : public WeightSource {
 public:
  GgufWeightSource(const formats::GgufFile& gguf, const ModelConfig& config, at::ScalarType dtype, at::Device device)
      : gguf_(gguf), config_(config), dtype_(dtype), device_(device) {}
  at::Tensor get(const std::string& hf_name, const std::vector<int64_t>& expected_shape) const override;

  // The tensor exactly as stored, dequantized to fp32 on the CPU, in torch order (no permutation undone).
  static at::Tensor dequantized(const formats::GgufFile& gguf, const formats::GgufTensorInfo& info);

 private:
  const formats::GgufFile& gguf_;
  const ModelConfig& config_;
  at::ScalarType dtype_;
  at::Device device_;
};

}  // namespace drllm::model
