// Where and in which dtype a backbone computes: the options every command that runs one takes (--device,
// --dtype). Kept free of LibTorch so the job option structs can hold it.
#pragma once

#include <string>

namespace drllm::model {

struct LoadOptions {
  std::string device = "cpu";  // "cpu", "cuda", "cuda:1"
  // "auto" (model/compute_dtype.h), float32, bfloat16 or float16
  std::string dtype = "auto";
  // Pipeline stage `stage_index` of `stage_count` (model/stage_range.h): only that stage's tensors are loaded.
  int stage_index = 0, stage_count = 1;
};

}  // namespace drllm::model
