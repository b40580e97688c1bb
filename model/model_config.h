// ModelConfig: the shape and options of a decoder-only LLM, read from a Hugging Face config.json.
// Covers the families drllm runs: llama (with rope_scaling type "llama3"), mistral, qwen2 (q/k/v bias) and
// qwen3 (per-head q/k RMSNorm). Accepts both the transformers 4.x keys (rope_theta, rope_scaling,
// torch_dtype) and the 5.x ones (rope_parameters, dtype). Unknown architectures are an error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/token_id.h"

namespace drllm::model {

enum class Architecture { Llama, Mistral, Qwen2, Qwen3 };

// Frequency scaling of rotary embeddings; only the kinds the supported families ship.
struct RopeScaling {
  std::string type = "default";  // "default" or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  Architecture architecture = Architecture::Llama;
  std::string model_type;  // as written in config.json ("llama", "qwen2", ...)
  int64_t vocab_size = 0;             // V
  int64_t hidden_size = 0;            // D
  int64_t intermediate_size = 0;      // F
  int64_t num_layers = 0;             // L
  int64_t num_heads = 0;              // H
  int64_t num_kv_heads = 0;           // Hkv (GQA when < H)
  int64_t head_dim = 0;               // Dh
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 4096;
  std::optional<int64_t> sliding_window;  // mistral; only when the model really uses it
  bool tie_word_embeddings = false;
  bool qkv_bias = false;   // qwen2, or llama's attention_bias
  bool o_bias = false;     // llama's attention_bias
  bool mlp_bias = false;   // llama's mlp_bias
  bool qk_norm = false;    // qwen3
  std::string dtype = "float32";  // checkpoint dtype: float32, bfloat16 or float16
  std::optional<int64_t> bos_token_id;
  std::vector<TokenId> eos_token_ids;

  // Parses config.json text; `source` names the file in error messages.
  static ModelConfig from_json_text(const std::string& text, const std::string& source);
  static ModelConfig from_file(const std::string& path);

  // Throws naming `source` and the field when a value is outside what the model can be: sizes not positive,
  // rms_norm_eps or rope_theta not finite and positive, bad llama3 rope scaling. Both readers call it.
  void check_values(const std::string& source) const;
  // Throws when the checkpoint holds tensors of layers past num_layers (HF `model.layers.N.`, GGUF `blk.N.`):
  // a config that says fewer layers than the weights have would otherwise run a truncated model silently.
  void check_layer_tensors(const std::vector<std::string>& tensor_names, const std::string& source) const;

  // Human-readable multi-line summary (drllm inspect).
  std::string describe() const;
  // A Hugging Face config.json that transformers loads as this model (drllm convert).
  std::string to_hf_json() const;
};

std::string to_string(Architecture architecture);

}  // namespace drllm::model
