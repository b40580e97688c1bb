// The router's input (Dr.LLM §3, docs/method.md): windowed mean pooling of the hidden state entering a
// layer over the prompt's tokens. W_eff = min(W, T) windows of ws = floor(T / W_eff) tokens each over the first
// W_eff * ws tokens (the last T mod W_eff tokens are dropped, as in the official code); one mean per window.
// The router is applied to each window mean and its logits are averaged over the windows.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "model/backbone.h"
#include "model/layer_plan.h"

namespace drllm::routing {

inline constexpr int64_t kRouterWindows = 8;

// hidden [B, T, D] -> window means [B, W_eff, D] in fp32.
at::Tensor window_means(const at::Tensor& hidden, int64_t max_windows = kRouterWindows);

// Every router's input for one prompt run along `plan` (teacher forcing): [L, W_eff, D] fp32, row l the window
// means of the hidden state entering layer l on its first visit (a skipped layer's router reads it too).
at::Tensor router_inputs_along_plan(model::Backbone& backbone, const std::vector<TokenId>& prompt_ids,
                                    const model::LayerPlan& plan, model::RepeatKv repeat_kv = model::RepeatKv::Shared,
                                    int64_t max_windows = kRouterWindows);

// The stored form of a plan's router inputs, as label shards keep them and training reads them: [L, kRouterWindows,
// d] float16 on the CPU, the windows past the filled ones zero (so every example has one shape). The raw float16
// bits are what a label row holds.
at::Tensor stored_router_inputs(const at::Tensor& inputs);  // [L, W_eff, d], any dtype and device
std::vector<uint16_t> float16_bits(const at::Tensor& stored);
at::Tensor from_float16_bits(const std::vector<uint16_t>& bits, int64_t num_layers, int64_t hidden_size);

}  // namespace drllm::routing
