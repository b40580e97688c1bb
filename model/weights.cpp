#include "model/weights.h"

#include <sstream>

#include "common/error.h"
#include "formats/safetensors.h"
#include "model/safetensors_writer.h"

namespace drllm::model {
namespace {

std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream out;
  out << shape;
  return out.str();
}

// The one Hugging Face name table: where each runtime weight of layer `i` comes from.
LayerWeights load_layer(const WeightSource& r, const ModelConfig& c, int64_t i) {
  const std::string p = "model.layers." + std::to_string(i) + ".";
  const int64_t D = c.hidden_size, F = c.intermediate_size, Dh = c.head_dim;
  const int64_t q_rows = c.num_heads * Dh, kv_rows = c.num_kv_heads * Dh;
  LayerWeights w;
  w.input_norm = r.get(p + "input_layernorm.weight", {D});
  w.post_norm = r.get(p + "post_attention_layernorm.weight", {D});
  w.qkv_w = at::cat({r.get(p + "self_attn.q_proj.weight", {q_rows, D}),
                     r.get(p + "self_attn.k_proj.weight", {kv_rows, D}),
                     r.get(p + "self_attn.v_proj.weight", {kv_rows, D})});
  if (c.qkv_bias)
    w.qkv_b = at::cat({r.get(p + "self_attn.q_proj.bias", {q_rows}), r.get(p + "self_attn.k_proj.bias", {kv_rows}),
                       r.get(p + "self_attn.v_proj.bias", {kv_rows})});
  w.q_norm = r.get_optional(p + "self_attn.q_norm.weight", {Dh}, c.qk_norm);
  w.k_norm = r.get_optional(p + "self_attn.k_norm.weight", {Dh}, c.qk_norm);
  w.o_w = r.get(p + "self_attn.o_proj.weight", {D, q_rows});
  w.o_b = r.get_optional(p + "self_attn.o_proj.bias", {D}, c.o_bias);
  w.gate_up_w = at::cat({r.get(p + "mlp.gate_proj.weight", {F, D}), r.get(p + "mlp.up_proj.weight", {F, D})});
  if (c.mlp_bias)
    w.gate_up_b = at::cat({r.get(p + "mlp.gate_proj.bias", {F}), r.get(p + "mlp.up_proj.bias", {F})});
  w.down_w = r.get(p + "mlp.down_proj.weight", {D, F});
  w.down_b = r.get_optional(p + "mlp.down_proj.bias", {D}, c.mlp_bias);
  return w;
}

}  // namespace

at::Tensor SafetensorsWeightSource::get(const std::string& name, const std::vector<int64_t>& expected_shape) const {
  auto entry = checkpoint_.get(name);
  const formats::TensorInfo& info = *entry.info;
  std::string where = cat(entry.file->path(), ": tensor '", name, "'");
  DRLLM_CHECK(info.dtype == formats::StDType::F32 || info.dtype == formats::StDType::F16 || info.dtype == formats::StDType::BF16, where,
              " has dtype ", to_string(info.dtype), "; weights must be F32, F16 or BF16");
  DRLLM_CHECK(info.shape == expected_shape, where, " has shape ", shape_text(info.shape),
              " but the config implies ", shape_text(expected_shape));
  // from_blob views the mmapped bytes (never written); .to(copy=true) makes an owned tensor on the device.
  at::Tensor view = at::from_blob(const_cast<uint8_t*>(entry.file->bytes(info)), info.shape,
                                  at::TensorOptions().dtype(*scalar_type_of(info.dtype)));
  return check_finite(view.to(device_, dtype_, /*non_blocking=*/false, /*copy=*/true), where);
}

at::Tensor check_finite(at::Tensor weight, const std::string& where) {
  // One pass over the weights at load (lost in the noise of loading the 1.5B default here, about 1.0 s either
  // way): a NaN or Inf weight otherwise runs silently and turns every answer into the argmax of NaN logits.
  DRLLM_CHECK(at::isfinite(weight).all().item<bool>(), where, " holds NaN or Inf values (in ", weight.scalar_type(),
              "): the file is damaged, or its values overflow this --dtype");
  return weight;
}

at::ScalarType scalar_type_of(const std::string& config_dtype) {
  if (config_dtype == "float32") return at::kFloat;
  if (config_dtype == "bfloat16") return at::kBFloat16;
  if (config_dtype == "float16") return at::kHalf;
  throw Error(cat("unsupported dtype '", config_dtype, "'; supported: float32, bfloat16, float16"));
}

BackboneWeights load_weights(const WeightSource& reader, const ModelConfig& config) {
  return load_weights(reader, config, whole_model(config));
}

BackboneWeights load_weights(const WeightSource& reader, const ModelConfig& config, const StageRange& stage) {
  BackboneWeights w;
  const std::string embed = "model.embed_tokens.weight";
  if (stage.first()) w.embed = reader.get(embed, {config.vocab_size, config.hidden_size});
  w.layers.resize(static_cast<size_t>(config.num_layers));  // a stage's other layers stay empty
  for (int64_t i = stage.begin; i < stage.end; ++i) w.layers[static_cast<size_t>(i)] = load_layer(reader, config, i);
  if (stage.last()) {
    w.final_norm = reader.get("model.norm.weight", {config.hidden_size});
    // A tied checkpoint may still carry lm_head.weight; the config decides.
    if (!config.tie_word_embeddings)
      w.lm_head = reader.get("lm_head.weight", {config.vocab_size, config.hidden_size});
    else
      w.lm_head = stage.first() ? w.embed : reader.get(embed, {config.vocab_size, config.hidden_size});
  }
  return w;
}

void keep_stage_only(BackboneWeights& w, const StageRange& stage) {
  if (stage.whole()) return;
  for (int64_t i = 0; i < static_cast<int64_t>(w.layers.size()); ++i)
    if (!stage.holds(i)) w.layers[static_cast<size_t>(i)] = LayerWeights{};
  if (!stage.last()) w.final_norm = w.lm_head = at::Tensor();
  if (!stage.first()) w.embed = at::Tensor();
}

}  // namespace drllm::model
