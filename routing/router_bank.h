// RouterBank: Dr.LLM's routers, one small MLP per layer (docs/method.md, docs/architecture.md): for layer l,
// Linear(d -> 128) -> GELU(tanh) -> Linear(128 -> 3), applied to each window mean of the hidden state entering
// layer l (model/router_inputs.h); the logits are averaged over the windows. Classes: 0 skip, 1 execute, 2 repeat.
// Parameters are fp32, stacked over layers so that one batched matmul runs every router:
//   w1 [L, 128, d], b1 [L, 128], w2 [L, 3, 128], b2 [L, 3].
// Exported under the official modeling files' names: model.routers.{l}.linear1.weight|bias, ...linear2...
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace drllm::routing {

inline constexpr int64_t kRouterHidden = 128;
inline constexpr int64_t kRouterClasses = 3;

struct RouterBank {
  at::Tensor w1, b1, w2, b2;

  // Xavier-uniform weights, zero biases, from a generator seeded by `seed` (the same on every rank).
  static RouterBank init(int64_t num_layers, int64_t hidden_size, uint64_t seed, at::Device device = at::kCPU);
  int64_t num_layers() const { return w1.size(0); }
  int64_t hidden_size() const { return w1.size(2); }
  std::vector<at::Tensor> parameters() const { return {w1, b1, w2, b2}; }

  // inputs [B, L, W, d] window means (windows past `windows[b]` ignored), windows [B] int64
  // -> logits [B, L, 3] averaged over each example's windows.
  at::Tensor forward(const at::Tensor& inputs, const at::Tensor& windows) const;
  // One router at inference: window means [W, d] of the hidden state entering `layer` -> logits [3], averaged
  // over the windows (the same function as forward(), for one layer and one sequence).
  at::Tensor layer_logits(int64_t layer, const at::Tensor& window_means) const;

  RouterBank to(const at::Device& device) const { return {w1.to(device), b1.to(device), w2.to(device), b2.to(device)}; }
  // A copy on the CPU that owns its memory, so in-place updates of these tensors later do not reach it (to() would
  // share the memory of tensors that are on the CPU already).
  RouterBank cpu_copy() const {
    auto copy = [](const at::Tensor& t) { return t.detach().to(at::kCPU, /*non_blocking=*/false, /*copy=*/true); };
    return {copy(w1), copy(b1), copy(w2), copy(b2)};
  }

  // The official names, one (name, tensor) per router and parameter, on the CPU.
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;
  // From named_tensors()'s names; throws naming a missing or misshapen tensor.
  static RouterBank from_named(const std::map<std::string, at::Tensor>& tensors, int64_t num_layers,
                               int64_t hidden_size);

  // A safetensors file under the official names, with the backbone's fingerprint in its metadata (written
  // atomically); load() reads one onto the CPU, throwing with the file's name when a tensor is missing or misshapen.
  void save(const std::string& path, const std::string& model_fingerprint) const;
  static RouterBank load(const std::string& path, int64_t num_layers, int64_t hidden_size);
};

}  // namespace drllm::routing
