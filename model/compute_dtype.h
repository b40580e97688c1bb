// The dtype a backbone computes in. "auto" is $DRLLM_DTYPE when set, else: on CUDA the checkpoint's dtype (bf16
// for a quantized GGUF); on a CPU with native bf16 matmuls (AVX512-BF16 or AMX) bfloat16, which runs several
// times faster than fp32 there (bench/forward measures it); on other CPUs float32. fp32 stays the reference the
// parity tests compare against (the test suite sets DRLLM_DTYPE=float32).
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace drllm::model {

// `requested`: auto, float32, bfloat16 or float16; `checkpoint_dtype` in the config's spelling ("bfloat16").
at::ScalarType resolve_compute_dtype(const std::string& requested, const at::Device& device,
                                     const std::string& checkpoint_dtype);

// Whether this CPU multiplies bf16 natively (what "auto" asks on CPU).
bool cpu_has_native_bf16();

// float32, bfloat16, float16: the spelling --dtype takes and reports record.
std::string dtype_name(at::ScalarType dtype);

}  // namespace drllm::model
