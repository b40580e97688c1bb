#include "model/model_config.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"

namespace drllm::model {
namespace {

using nlohmann::json;

// Reads a required integer field, naming file and field when it is missing or of the wrong type.
int64_t required_int(const json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  DRLLM_CHECK(it != j.end() && !it->is_null(), source, ": missing required field '", key, "'");
  DRLLM_CHECK(it->is_number_integer(), source, ": field '", key, "' must be an integer, found ", it->dump());
  int64_t value = it->get<int64_t>();
  DRLLM_CHECK(value > 0, source, ": field '", key, "' must be positive, found ", value);
  return value;
}

template <typename T>
T optional_value(const json& j, const char* key, T fallback, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Error(cat(source, ": field '", key, "' has the wrong type: ", it->dump()));
  }
}

Architecture parse_architecture(const std::string& model_type, const std::string& source) {
  if (model_type == "llama") return Architecture::Llama;
  if (model_type == "mistral") return Architecture::Mistral;
  if (model_type == "qwen2") return Architecture::Qwen2;
  if (model_type == "qwen3") return Architecture::Qwen3;
  throw Error(cat(source, ": unknown architecture model_type='", model_type,
                  "'; supported: llama, mistral, qwen2, qwen3"));
}

// transformers 5 puts theta and scaling into "rope_parameters"; 4.x uses "rope_theta" and "rope_scaling".
void parse_rope(const json& j, ModelConfig& c, const std::string& source) {
  json scaling = json::object();
  if (auto p = j.find("rope_parameters"); p != j.end() && p->is_object()) {
    scaling = *p;
    c.rope_theta = optional_value<double>(*p, "rope_theta", c.rope_theta, source);
  }
  c.rope_theta = optional_value<double>(j, "rope_theta", c.rope_theta, source);
  if (auto s = j.find("rope_scaling"); s != j.end() && !s->is_null()) {
    DRLLM_CHECK(s->is_object(), source, ": field 'rope_scaling' must be an object or null, found ", s->dump());
    scaling = *s;
  }

  std::string type = optional_value<std::string>(scaling, "rope_type", "", source);
  if (type.empty()) type = optional_value<std::string>(scaling, "type", "default", source);
  if (type == "default") return;
  DRLLM_CHECK(type == "llama3", source, ": rope scaling type '", type,
              "' is not supported; supported: default, llama3");
  RopeScaling& r = c.rope_scaling;
  r.type = type;
  r.factor = optional_value<double>(scaling, "factor", r.factor, source);
  r.low_freq_factor = optional_value<double>(scaling, "low_freq_factor", r.low_freq_factor, source);
  r.high_freq_factor = optional_value<double>(scaling, "high_freq_factor", r.high_freq_factor, source);
  r.original_max_position_embeddings = optional_value<int64_t>(
      scaling, "original_max_position_embeddings", r.original_max_position_embeddings, source);
  DRLLM_CHECK(r.factor > 0 && r.high_freq_factor > r.low_freq_factor, source,
              ": llama3 rope scaling needs factor > 0 and high_freq_factor > low_freq_factor");
}

TokenId token_id(const json& v, const char* key, const std::string& source) {
  DRLLM_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= INT32_MAX, source, ": field '",
              key, "' holds ", v.dump(), ", not a token id");
  return static_cast<TokenId>(v.get<int64_t>());
}

std::vector<TokenId> parse_token_list(const json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_number_integer()) return {token_id(*it, key, source)};
  DRLLM_CHECK(it->is_array(), source, ": field '", key, "' must be an integer or a list, found ", it->dump());
  std::vector<TokenId> ids;
  for (const auto& v : *it) ids.push_back(token_id(v, key, source));
  return ids;
}

}  // namespace

ModelConfig ModelConfig::from_json_text(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(cat(source, ": not valid JSON: ", e.what()));
  }
  DRLLM_CHECK(j.is_object(), source, ": expected a JSON object");

  ModelConfig c;
  c.model_type = optional_value<std::string>(j, "model_type", "", source);
  DRLLM_CHECK(!c.model_type.empty(), source, ": missing field 'model_type'");
  c.architecture = parse_architecture(c.model_type, source);

  c.vocab_size = required_int(j, "vocab_size", source);
  c.hidden_size = required_int(j, "hidden_size", source);
  c.intermediate_size = required_int(j, "intermediate_size", source);
  c.num_layers = required_int(j, "num_hidden_layers", source);
  c.num_heads = required_int(j, "num_attention_heads", source);
  c.num_kv_heads = optional_value<int64_t>(j, "num_key_value_heads", c.num_heads, source);
  DRLLM_CHECK(c.num_kv_heads > 0 && c.num_heads % c.num_kv_heads == 0, source,
              ": num_attention_heads (", c.num_heads, ") must be a multiple of num_key_value_heads (",
              c.num_kv_heads, ")");
  c.head_dim = optional_value<int64_t>(j, "head_dim", 0, source);
  if (c.head_dim == 0) {
    DRLLM_CHECK(c.hidden_size % c.num_heads == 0, source, ": hidden_size (", c.hidden_size,
                ") is not a multiple of num_attention_heads (", c.num_heads, ") and head_dim is not given");
    c.head_dim = c.hidden_size / c.num_heads;
  }
  DRLLM_CHECK(c.head_dim % 2 == 0, source, ": head_dim must be even for rotary embeddings, found ", c.head_dim);

  c.rms_norm_eps = optional_value<double>(j, "rms_norm_eps", c.rms_norm_eps, source);
  // Every block here is SiLU-gated; another activation would run as SiLU and give other tokens than transformers.
  const std::string act = optional_value<std::string>(j, "hidden_act", "silu", source);
  DRLLM_CHECK(act == "silu" || act == "swish", source, ": hidden_act '", act,
              "' is not supported; the supported architectures use silu");
  parse_rope(j, c, source);
  c.max_position_embeddings =
      optional_value<int64_t>(j, "max_position_embeddings", c.max_position_embeddings, source);
  c.tie_word_embeddings = optional_value<bool>(j, "tie_word_embeddings", false, source);

  switch (c.architecture) {
    case Architecture::Llama:
    case Architecture::Mistral:
      c.qkv_bias = c.o_bias = optional_value<bool>(j, "attention_bias", false, source);
      c.mlp_bias = optional_value<bool>(j, "mlp_bias", false, source);
      break;
    case Architecture::Qwen2:
      c.qkv_bias = true;
      break;
    case Architecture::Qwen3:
      c.qkv_bias = c.o_bias = optional_value<bool>(j, "attention_bias", false, source);
      c.qk_norm = true;
      break;
  }
  // Qwen configs carry a sliding_window that is off unless use_sliding_window is set.
  bool sliding_used = c.architecture == Architecture::Mistral ||
                      optional_value<bool>(j, "use_sliding_window", false, source);
  if (sliding_used) {
    int64_t window = optional_value<int64_t>(j, "sliding_window", 0, source);
    if (window > 0) c.sliding_window = window;
  }

  std::string dtype = optional_value<std::string>(j, "dtype", "", source);
  if (dtype.empty()) dtype = optional_value<std::string>(j, "torch_dtype", "float32", source);
  DRLLM_CHECK(dtype == "float32" || dtype == "bfloat16" || dtype == "float16", source, ": dtype '", dtype,
              "' is not supported; supported: float32, bfloat16, float16");
  c.dtype = dtype;

  if (auto bos = parse_token_list(j, "bos_token_id", source); !bos.empty()) c.bos_token_id = bos[0];
  c.eos_token_ids = parse_token_list(j, "eos_token_id", source);
  c.check_values(source);
  return c;
}

void ModelConfig::check_values(const std::string& source) const {
  auto positive = [&](int64_t v, const char* field) {
    DRLLM_CHECK(v > 0 && v < (int64_t{1} << 40), source, ": ", field, " is ", v, "; it must be a positive size");
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(intermediate_size, "intermediate_size");
  positive(num_layers, "num_hidden_layers");
  positive(num_heads, "num_attention_heads");
  positive(num_kv_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  positive(max_position_embeddings, "max_position_embeddings");
  DRLLM_CHECK(std::isfinite(rms_norm_eps) && rms_norm_eps > 0 && rms_norm_eps < 1, source, ": rms_norm_eps is ",
              rms_norm_eps, "; it must be a small positive number");
  DRLLM_CHECK(std::isfinite(rope_theta) && rope_theta > 0, source, ": rope_theta is ", rope_theta,
              "; it must be a positive number");
  if (rope_scaling.type == "llama3")
    DRLLM_CHECK(std::isfinite(rope_scaling.factor) && rope_scaling.factor > 0 && std::isfinite(rope_scaling.low_freq_factor) &&
                    rope_scaling.low_freq_factor > 0 && std::isfinite(rope_scaling.high_freq_factor) &&
                    rope_scaling.original_max_position_embeddings > 0,
                source, ": llama3 rope scaling needs finite positive factor, low_freq_factor, high_freq_factor and "
                        "original_max_position_embeddings");
}

void ModelConfig::check_layer_tensors(const std::vector<std::string>& tensor_names, const std::string& source) const {
  for (const std::string& name : tensor_names) {
    for (const char* prefix : {"model.layers.", "blk."}) {
      const size_t n = std::strlen(prefix);
      if (name.compare(0, n, prefix) != 0) continue;
      const size_t end = name.find('.', n);
      if (end == std::string::npos || end == n) continue;
      const std::string digits = name.substr(n, end - n);
      if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
      DRLLM_CHECK(std::stoll(digits) < num_layers, source, ": tensor '", name, "' belongs to layer ", digits,
                  ", but the config says ", num_layers, " layers (num_hidden_layers / block_count); the config and "
                  "the weights disagree");
    }
  }
}

ModelConfig ModelConfig::from_file(const std::string& path) {
  check_input_file(path, "model config", 16 * kMiB);
  std::ifstream in(path, std::ios::binary);
  DRLLM_CHECK(in, path, ": cannot open model config");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return from_json_text(buffer.str(), path);
}

std::string to_string(Architecture architecture) {
  switch (architecture) {
    case Architecture::Llama: return "llama";
    case Architecture::Mistral: return "mistral";
    case Architecture::Qwen2: return "qwen2";
    case Architecture::Qwen3: return "qwen3";
  }
  return "?";
}

std::string ModelConfig::to_hf_json() const {
  static const std::map<Architecture, std::string> classes = {{Architecture::Llama, "LlamaForCausalLM"},
                                                              {Architecture::Mistral, "MistralForCausalLM"},
                                                              {Architecture::Qwen2, "Qwen2ForCausalLM"},
                                                              {Architecture::Qwen3, "Qwen3ForCausalLM"}};
  nlohmann::ordered_json j;
  j["architectures"] = {classes.at(architecture)};
  j["model_type"] = to_string(architecture);
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_layers;
  j["num_attention_heads"] = num_heads;
  j["num_key_value_heads"] = num_kv_heads;
  j["head_dim"] = head_dim;
  j["hidden_act"] = "silu";
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  if (rope_scaling.type == "llama3")
    j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", rope_scaling.factor},
                         {"low_freq_factor", rope_scaling.low_freq_factor},
                         {"high_freq_factor", rope_scaling.high_freq_factor},
                         {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings}};
  j["max_position_embeddings"] = max_position_embeddings;
  j["tie_word_embeddings"] = tie_word_embeddings;
  if (architecture == Architecture::Llama || architecture == Architecture::Mistral) {
    j["attention_bias"] = qkv_bias;
    j["mlp_bias"] = mlp_bias;
  }
  if (architecture == Architecture::Qwen3) j["attention_bias"] = qkv_bias;
  if (sliding_window) j["sliding_window"] = *sliding_window;
  if (bos_token_id) j["bos_token_id"] = *bos_token_id;
  if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  else if (!eos_token_ids.empty()) j["eos_token_id"] = eos_token_ids;
  j["torch_dtype"] = dtype;
  return j.dump(2);
}

std::string ModelConfig::describe() const {
  std::ostringstream out;
  out << "architecture        " << to_string(architecture) << "\n"
      << "layers              " << num_layers << "\n"
      << "hidden_size         " << hidden_size << "\n"
      << "intermediate_size   " << intermediate_size << "\n"
      << "heads / kv heads    " << num_heads << " / " << num_kv_heads << " (head_dim " << head_dim << ")\n"
      << "vocab_size          " << vocab_size << "\n"
      << "rope                theta " << rope_theta << ", scaling " << rope_scaling.type;
  if (rope_scaling.type == "llama3")
    out << " (factor " << rope_scaling.factor << ", low " << rope_scaling.low_freq_factor << ", high "
        << rope_scaling.high_freq_factor << ", original " << rope_scaling.original_max_position_embeddings << ")";
  out << "\n"
      << "rms_norm_eps        " << rms_norm_eps << "\n"
      << "biases              qkv " << qkv_bias << ", o " << o_bias << ", mlp " << mlp_bias << "\n"
      << "qk_norm             " << qk_norm << "\n"
      << "tied embeddings     " << tie_word_embeddings << "\n"
      << "checkpoint dtype    " << dtype << "\n";
  return out.str();
}

}  // namespace drllm::model
