// BackboneWeights: the tensors of a decoder in drllm's runtime layout, loaded from a Hugging Face checkpoint.
// The Hugging Face names appear only in weights.cpp's name table. Fusions happen at load (gpt-fast's
// load_hook): q/k/v into one matrix, gate/up into one, so each block runs two fewer matmuls.
// Shapes: V vocab, D hidden, F FFN, H/Hkv heads, Dh head dim.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/stage_range.h"

namespace drllm::formats {
class SafetensorsCheckpoint;
class GgufFile;
}

namespace drllm::model {

// Where weights come from, by Hugging Face name: each source checks the stored dtype and shape against what the
// config implies and returns an owned tensor in the compute dtype on the device.
class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual at::Tensor get(const std::string& hf_name, const std::vector<int64_t>& expected_shape) const = 0;
  at::Tensor get_optional(const std::string& hf_name, const std::vector<int64_t>& expected_shape, bool wanted) const {
    return wanted ? get(hf_name, expected_shape) : at::Tensor();
  }
};

struct LayerWeights {
  at::Tensor input_norm;  // [D]
  at::Tensor qkv_w;       // [(H + 2 Hkv) Dh, D]
  at::Tensor qkv_b;       // [(H + 2 Hkv) Dh] or undefined
  at::Tensor q_norm;      // [Dh] qwen3, else undefined
  at::Tensor k_norm;      // [Dh] qwen3, else undefined
  at::Tensor o_w;         // [D, H Dh]
  at::Tensor o_b;         // [D] or undefined
  at::Tensor post_norm;   // [D]
  at::Tensor gate_up_w;   // [2F, D]: gate rows first, then up
  at::Tensor gate_up_b;   // [2F] or undefined
  at::Tensor down_w;      // [D, F]
  at::Tensor down_b;      // [D] or undefined
};

struct BackboneWeights {
  at::Tensor embed;       // [V, D]
  std::vector<LayerWeights> layers;
  at::Tensor final_norm;  // [D]
  at::Tensor lm_head;     // [V, D]; the same storage as embed when tied
};

// Reads every tensor the config needs from a source and fuses q/k/v and gate/up (errors name tensor and file).
BackboneWeights load_weights(const WeightSource& source, const ModelConfig& config);
// Only the tensors a pipeline stage holds (model/stage_range.h); the other layers' entries stay empty.
BackboneWeights load_weights(const WeightSource& source, const ModelConfig& config, const StageRange& stage);
// Drops the tensors outside `stage` (for weights loaded whole, as a mapped converted cache is).
void keep_stage_only(BackboneWeights& weights, const StageRange& stage);

// A safetensors checkpoint as a WeightSource.
class SafetensorsWeightSource : public WeightSource {
 public:
  SafetensorsWeightSource(const formats::SafetensorsCheckpoint& checkpoint, at::ScalarType dtype, at::Device device)
      : checkpoint_(checkpoint), dtype_(dtype), device_(device) {}
  at::Tensor get(const std::string& hf_name, const std::vector<int64_t>& expected_shape) const override;

 private:
  const formats::SafetensorsCheckpoint& checkpoint_;
  at::ScalarType dtype_;
  at::Device device_;
};

at::ScalarType scalar_type_of(const std::string& config_dtype);

// `weight`, once every value is finite; else an error naming `where` (the file and tensor).
at::Tensor check_finite(at::Tensor weight, const std::string& where);

}  // namespace drllm::model
