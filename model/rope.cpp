#include "model/rope.h"

#include <cmath>

namespace drllm::model {
namespace {

// transformers' _compute_default_rope_parameters: 1 / base^(arange(0, dim, 2) / dim), in fp32.
at::Tensor default_inv_freq(double base, int64_t dim) {
  at::Tensor exponents = at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim);
  return 1.0 / at::pow(base, exponents);
}

// transformers' _compute_llama3_parameters: long wavelengths divided by `factor`, short ones kept, a smooth
// blend in between.
at::Tensor llama3_inv_freq(at::Tensor inv_freq, const RopeScaling& s) {
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_len / s.low_freq_factor;
  const double high_freq_wavelen = old_len / s.high_freq_factor;
  at::Tensor wavelen = 2 * M_PI / inv_freq;
  at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
  at::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
  at::Tensor is_medium = at::logical_not(wavelen < high_freq_wavelen) & at::logical_not(wavelen > low_freq_wavelen);
  return at::where(is_medium, smoothed, scaled);
}

}  // namespace

Rope::Rope(const ModelConfig& config, at::Device device) {
  at::Tensor inv_freq = default_inv_freq(config.rope_theta, config.head_dim);
  if (config.rope_scaling.type == "llama3") inv_freq = llama3_inv_freq(inv_freq, config.rope_scaling);
  inv_freq_ = inv_freq.to(device);
}

std::pair<at::Tensor, at::Tensor> Rope::cos_sin(const at::Tensor& positions, at::ScalarType dtype) const {
  at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq_;  // [T, Dh/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);                          // [T, Dh]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor Rope::apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace drllm::model
