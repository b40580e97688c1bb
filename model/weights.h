// BackboneWeights: the tensors of a decoder in drllm's runtime layout, loaded from a Hugging Face checkpoint.
// The Hugging Face names appear only in weights.cpp's name table. Fusions happen at load (gpt-fast's
// load_hook): q/k/v into one matrix, gate/up into one, so each block runs two fewer matmuls.
// Shapes: V vocab, D hidden, F FFN, H/Hkv heads, Dh head dim.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "model/model_config.h"

namespace drllm::model {

class SafetensorsCheckpoint;

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

// Reads every tensor the config needs, checks each one's dtype and shape against the config (errors name the
// tensor and the file), converts to `dtype` on `device`.
BackboneWeights load_weights(const SafetensorsCheckpoint& checkpoint, const ModelConfig& config,
                             at::ScalarType dtype, at::Device device);

at::ScalarType scalar_type_of(const std::string& config_dtype);

}  // namespace drllm::model
