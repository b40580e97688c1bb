#include "routing/router_inputs.h"

#include <cstring>

#include "common/error.h"

namespace drllm::routing {

at::Tensor window_means(const at::Tensor& hidden, int64_t max_windows) {
  DRLLM_CHECK(hidden.dim() == 3, "window_means: hidden must be [B, T, D], got ", hidden.dim(), " dims");
  const int64_t B = hidden.size(0), T = hidden.size(1), D = hidden.size(2);
  DRLLM_CHECK(T > 0, "window_means: empty prompt");
  const int64_t windows = std::min(max_windows, T);
  const int64_t size = T / windows;
  return hidden.slice(1, 0, windows * size).to(at::kFloat).reshape({B, windows, size, D}).mean(2);
}

at::Tensor router_inputs_along_plan(model::Backbone& backbone, const std::vector<TokenId>& prompt_ids,
                                    const model::LayerPlan& plan, model::RepeatKv repeat_kv, int64_t max_windows) {
  const int64_t L = backbone.config().num_layers;
  plan.check_length(L);
  std::vector<at::Tensor> inputs(static_cast<size_t>(L));
  model::LayerObserver observe = [&](int64_t layer, int pass, const at::Tensor& hidden) {
    if (pass == 0) inputs[static_cast<size_t>(layer)] = window_means(hidden, max_windows)[0];
  };
  at::Tensor tokens = at::tensor(prompt_ids, at::kLong).unsqueeze(0).to(backbone.device());
  model::KvCache cache = backbone.new_cache(repeat_kv, static_cast<int64_t>(prompt_ids.size()));
  backbone.prefill(tokens, plan, cache, observe);
  for (int64_t l = 0; l < L; ++l)
    DRLLM_CHECK(inputs[static_cast<size_t>(l)].defined(), "router inputs: layer ", l, " was not observed");
  return at::stack(inputs);
}

at::Tensor stored_router_inputs(const at::Tensor& inputs) {
  DRLLM_CHECK(inputs.dim() == 3 && inputs.size(1) <= kRouterWindows, "router inputs must be [L, W <= ",
              kRouterWindows, ", d]");
  at::Tensor stored = at::zeros({inputs.size(0), kRouterWindows, inputs.size(2)}, at::kHalf);
  stored.slice(1, 0, inputs.size(1)).copy_(inputs.to(at::kCPU).to(at::kHalf));
  return stored;
}

std::vector<uint16_t> float16_bits(const at::Tensor& stored) {
  DRLLM_CHECK(stored.scalar_type() == at::kHalf && stored.is_contiguous() && stored.device().is_cpu(),
              "float16_bits: expected a contiguous float16 CPU tensor");
  std::vector<uint16_t> bits(static_cast<size_t>(stored.numel()));
  std::memcpy(bits.data(), stored.data_ptr(), bits.size() * sizeof(uint16_t));
  return bits;
}

at::Tensor from_float16_bits(const std::vector<uint16_t>& bits, int64_t num_layers, int64_t hidden_size) {
  DRLLM_CHECK(bits.size() == static_cast<size_t>(num_layers * kRouterWindows * hidden_size), "stored router inputs: ",
              bits.size(), " values, expected ", num_layers, " x ", kRouterWindows, " x ", hidden_size);
  at::Tensor stored = at::empty({num_layers, kRouterWindows, hidden_size}, at::kHalf);
  std::memcpy(stored.data_ptr(), bits.data(), bits.size() * sizeof(uint16_t));
  return stored;
}

}  // namespace drllm::routing
