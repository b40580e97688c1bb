// Writes tensors as a safetensors file (8-byte aligned header, tensors in the given order), atomically, and
// reads a small one whole (router weights, optimizer state) into owned CPU tensors.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "formats/safetensors.h"

namespace drllm::model {

// The torch dtype of a safetensors dtype (F32, F64, F16, BF16, I64, I32, U8); none for the others.
std::optional<at::ScalarType> scalar_type_of(formats::StDType dtype);

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Every tensor of one file (F32, F64, F16, BF16, I64, I32, U8), copied out of the mapping.
std::map<std::string, at::Tensor> load_safetensors(const std::string& path);

}  // namespace drllm::model
