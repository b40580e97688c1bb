#include "model/compute_dtype.h"

#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "common/error.h"
#include "model/weights.h"

namespace drllm::model {

// CPUID leaf 7: sub-leaf 1 EAX bit 5 is AVX512-BF16, sub-leaf 0 EDX bit 22 is AMX-BF16. oneDNN, which runs
// LibTorch's bf16 matmuls on CPU, uses either when present.
bool cpu_has_native_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  bool avx512_bf16 = __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 5));
  bool amx_bf16 = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx & (1u << 22));
  return avx512_bf16 || amx_bf16;
#else
  return false;
#endif
}

at::ScalarType resolve_compute_dtype(const std::string& requested, const at::Device& device,
                                     const std::string& checkpoint_dtype) {
  std::string wanted = requested;
  if (wanted == "auto") {
    const char* env = std::getenv("DRLLM_DTYPE");
    if (env && *env) {
      wanted = env;
      DRLLM_CHECK(wanted != "auto", "DRLLM_DTYPE=auto: set it to float32, bfloat16 or float16, or unset it");
    }
  }
  if (wanted != "auto") {
    try {
      return scalar_type_of(wanted);
    } catch (const Error&) {
      throw Error(cat(requested == "auto" ? "DRLLM_DTYPE" : "--dtype", " '", wanted,
                      "' is not a compute dtype; expected auto, float32, bfloat16 or float16"));
    }
  }
  if (device.is_cuda()) return scalar_type_of(checkpoint_dtype);
  return cpu_has_native_bf16() ? at::kBFloat16 : at::kFloat;
}

std::string dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: throw Error(cat("no compute dtype named for ", c10::toString(dtype)));
  }
}

}  // namespace drllm::model
