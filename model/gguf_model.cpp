#include "model/gguf_model.h"

#include <map>
#include <sstream>

#include "common/error.h"

namespace drllm::model {
namespace {

// llama.cpp tensor names -> Hugging Face names; per-layer names after "blk.N." / "model.layers.N.".
const std::map<std::string, std::string>& global_names() {
  static const std::map<std::string, std::string> m = {{"token_embd.weight", "model.embed_tokens.weight"},
                                                       {"output_norm.weight", "model.norm.weight"},
                                                       {"output.weight", "lm_head.weight"}};
  return m;
}

const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> m = {
      {"attn_norm.weight", "input_layernorm.weight"},      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},        {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.weight", "self_attn.k_proj.weight"},        {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.weight", "self_attn.v_proj.weight"},        {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_output.weight", "self_attn.o_proj.weight"},   {"attn_output.bias", "self_attn.o_proj.bias"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},   {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},         {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"}};
  return m;
}

std::string gguf_name_of(const std::string& hf) {
  for (const auto& [g, h] : global_names())
    if (h == hf) return g;
  const std::string prefix = "model.layers.";
  if (hf.rfind(prefix, 0) == 0) {
    size_t dot = hf.find('.', prefix.size());
    std::string layer = hf.substr(prefix.size(), dot - prefix.size()), rest = hf.substr(dot + 1);
    for (const auto& [g, h] : layer_names())
      if (h == rest) return "blk." + layer + "." + g;
  }
  return "";
}

// Undoes convert_hf_to_gguf's permute(): rows of each head were reordered from [2][Dh/2] to [Dh/2][2].
at::Tensor reverse_permute(const at::Tensor& w, int64_t heads) {
  std::vector<int64_t> shape(w.sizes().begin(), w.sizes().end());
  std::vector<int64_t> split = {heads, w.size(0) / heads / 2, 2};
  split.insert(split.end(), shape.begin() + 1, shape.end());
  return w.reshape(split).transpose(1, 2).reshape(shape).contiguous();
}

}  // namespace

std::string hf_name_of_gguf_tensor(const std::string& gguf_name) {
  if (auto it = global_names().find(gguf_name); it != global_names().end()) return it->second;
  if (gguf_name.rfind("blk.", 0) == 0) {
    size_t dot = gguf_name.find('.', 4);
    if (dot == std::string::npos) return "";
    auto it = layer_names().find(gguf_name.substr(dot + 1));
    if (it != layer_names().end()) return "model.layers." + gguf_name.substr(4, dot - 4) + "." + it->second;
  }
  return "";
}

ModelConfig config_from_gguf(const formats::GgufFile& g) {
  const std::string arch = g.get_string("general.architecture");
  ModelConfig c;
  c.model_type = arch;
  if (arch == "llama") c.architecture = Architecture::Llama;
  else if (arch == "mistral") c.architecture = Architecture::Mistral;
  else if (arch == "qwen2") c.architecture = Architecture::Qwen2;
  else if (arch == "qwen3") c.architecture = Architecture::Qwen3;
  else throw Error(cat(g.path(), ": GGUF architecture '", arch, "' is not supported; supported: llama, mistral, qwen2, qwen3"));

  c.num_layers = static_cast<int64_t>(g.get_uint(arch + ".block_count"));
  c.hidden_size = static_cast<int64_t>(g.get_uint(arch + ".embedding_length"));
  c.intermediate_size = static_cast<int64_t>(g.get_uint(arch + ".feed_forward_length"));
  c.num_heads = static_cast<int64_t>(g.get_uint(arch + ".attention.head_count"));
  DRLLM_CHECK(c.num_heads > 0, g.path(), ": ", arch, ".attention.head_count is 0; a model has at least one head");
  c.num_kv_heads = static_cast<int64_t>(g.find_uint(arch + ".attention.head_count_kv").value_or(c.num_heads));
  c.head_dim = static_cast<int64_t>(g.find_uint(arch + ".attention.key_length").value_or(c.hidden_size / c.num_heads));
  c.rms_norm_eps = g.get_float(arch + ".attention.layer_norm_rms_epsilon");
  c.rope_theta = g.find_float(arch + ".rope.freq_base").value_or(10000.0);
  c.max_position_embeddings = static_cast<int64_t>(g.find_uint(arch + ".context_length").value_or(4096));
  DRLLM_CHECK(c.num_layers > 0 && c.hidden_size > 0 && c.num_heads > 0 && c.num_kv_heads > 0 &&
                  c.num_heads % c.num_kv_heads == 0 && c.head_dim % 2 == 0,
              g.path(), ": inconsistent model shape in the metadata");
  DRLLM_CHECK(!g.find_tensor("rope_freqs.weight"), g.path(),
              ": this model stores rope frequency factors (rope_freqs.weight, Llama-3.1 style), which drllm does "
              "not read from GGUF yet; convert the original Hugging Face checkpoint instead");
  const formats::GgufTensorInfo* embed = g.find_tensor("token_embd.weight");
  DRLLM_CHECK(embed && embed->shape.size() == 2, g.path(), ": missing tensor 'token_embd.weight'");
  c.vocab_size = embed->shape[1];
  c.tie_word_embeddings = g.find_tensor("output.weight") == nullptr;
  c.qkv_bias = g.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.o_bias = g.find_tensor("blk.0.attn_output.bias") != nullptr;
  c.qk_norm = g.find_tensor("blk.0.attn_q_norm.weight") != nullptr;
  if (c.architecture == Architecture::Qwen2) c.qkv_bias = true;
  c.dtype = "float32";
  if (auto bos = g.find_uint("tokenizer.ggml.bos_token_id")) c.bos_token_id = static_cast<int64_t>(*bos);
  if (auto eos = g.find_uint("tokenizer.ggml.eos_token_id")) {
    DRLLM_CHECK(*eos <= INT32_MAX, g.path(), ": tokenizer.ggml.eos_token_id ", *eos, " is not a token id");
    c.eos_token_ids = {static_cast<TokenId>(*eos)};
  }
  c.check_values(g.path());
  std::vector<std::string> names;
  for (const formats::GgufTensorInfo& t : g.tensors()) names.push_back(t.name);
  c.check_layer_tensors(names, g.path());
  return c;
}

at::Tensor GgufWeightSource::dequantized(const formats::GgufFile& gguf, const formats::GgufTensorInfo& info) {
  std::vector<int64_t> torch_shape(info.shape.rbegin(), info.shape.rend());
  at::Tensor out = at::empty(torch_shape, at::kFloat);
  formats::dequantize(info.type, gguf.tensor_data(info), out.data_ptr<float>(), info.numel());
  return out;
}

at::Tensor GgufWeightSource::get(const std::string& hf_name, const std::vector<int64_t>& expected_shape) const {
  std::string name = gguf_name_of(hf_name);
  DRLLM_CHECK(!name.empty(), gguf_.path(), ": no GGUF name for tensor '", hf_name, "'");
  const formats::GgufTensorInfo* info = gguf_.find_tensor(name);
  DRLLM_CHECK(info, gguf_.path(), ": missing tensor '", name, "' (", hf_name, ")");
  std::vector<int64_t> torch_shape(info->shape.rbegin(), info->shape.rend());
  if (torch_shape != expected_shape) {
    std::ostringstream a, b;
    a << at::IntArrayRef(torch_shape);
    b << at::IntArrayRef(expected_shape);
    throw Error(cat(gguf_.path(), ": tensor '", name, "' has shape ", a.str(), " but the config implies ", b.str()));
  }
  at::Tensor w = dequantized(gguf_, *info);
  bool permuted = config_.architecture == Architecture::Llama || config_.architecture == Architecture::Mistral;
  if (permuted && hf_name.find("self_attn.q_proj.") != std::string::npos) w = reverse_permute(w, config_.num_heads);
  if (permuted && hf_name.find("self_attn.k_proj.") != std::string::npos) w = reverse_permute(w, config_.num_kv_heads);
  return check_finite(w.to(device_, dtype_, false, /*copy=*/false), cat(gguf_.path(), ": tensor '", name, "'"));
}

}  // namespace drllm::model
