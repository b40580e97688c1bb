#include "routing/router_bank.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <map>

#include "common/error.h"
#include "model/safetensors_writer.h"

namespace drllm::routing {

RouterBank RouterBank::init(int64_t L, int64_t d, uint64_t seed, at::Device device) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto xavier = [&](int64_t out, int64_t in) {
    const double bound = std::sqrt(6.0 / static_cast<double>(in + out));
    return at::empty({L, out, in}, at::kFloat).uniform_(-bound, bound, gen);
  };
  RouterBank bank;
  bank.w1 = xavier(kRouterHidden, d).to(device);
  bank.b1 = at::zeros({L, kRouterHidden}, at::TensorOptions().dtype(at::kFloat).device(device));
  bank.w2 = xavier(kRouterClasses, kRouterHidden).to(device);
  bank.b2 = at::zeros({L, kRouterClasses}, at::TensorOptions().dtype(at::kFloat).device(device));
  return bank;
}

at::Tensor RouterBank::forward(const at::Tensor& inputs, const at::Tensor& windows) const {
  DRLLM_CHECK(inputs.dim() == 4 && inputs.size(1) == num_layers() && inputs.size(3) == hidden_size(),
              "router inputs must be [B, ", num_layers(), ", W, ", hidden_size(), "], got ", inputs.sizes());
  // [B, L, W, d] x [L, 128, d] -> [B, L, W, 128]
  at::Tensor h = at::einsum("blwd,lhd->blwh", {inputs, w1}) + b1.unsqueeze(0).unsqueeze(2);
  h = at::gelu(h, "tanh");
  at::Tensor logits = at::einsum("blwh,lch->blwc", {h, w2}) + b2.unsqueeze(0).unsqueeze(2);  // [B, L, W, 3]
  const int64_t W = inputs.size(2);
  at::Tensor mask = (at::arange(W, windows.options()).unsqueeze(0) < windows.unsqueeze(1)).to(at::kFloat);  // [B, W]
  at::Tensor m = mask.unsqueeze(1).unsqueeze(3);  // [B, 1, W, 1]
  return (logits * m).sum(2) / mask.sum(1).view({-1, 1, 1});
}

at::Tensor RouterBank::layer_logits(int64_t layer, const at::Tensor& window_means) const {
  at::Tensor h = at::gelu(at::matmul(window_means, w1[layer].t()) + b1[layer], "tanh");
  return (at::matmul(h, w2[layer].t()) + b2[layer]).mean(0);
}

std::vector<std::pair<std::string, at::Tensor>> RouterBank::named_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (int64_t l = 0; l < num_layers(); ++l) {
    const std::string p = "model.routers." + std::to_string(l) + ".";
    out.emplace_back(p + "linear1.weight", w1[l].detach().to(at::kCPU).contiguous());
    out.emplace_back(p + "linear1.bias", b1[l].detach().to(at::kCPU).contiguous());
    out.emplace_back(p + "linear2.weight", w2[l].detach().to(at::kCPU).contiguous());
    out.emplace_back(p + "linear2.bias", b2[l].detach().to(at::kCPU).contiguous());
  }
  return out;
}

RouterBank RouterBank::from_named(const std::map<std::string, at::Tensor>& by_name, int64_t L, int64_t d) {
  auto get = [&](const std::string& name, std::vector<int64_t> shape) {
    auto it = by_name.find(name);
    DRLLM_CHECK(it != by_name.end(), "routers: missing tensor '", name, "'");
    DRLLM_CHECK(it->second.sizes() == at::IntArrayRef(shape), "routers: tensor '", name, "' has shape ",
                it->second.sizes(), ", expected ", at::IntArrayRef(shape), " (routers of another model?)");
    at::Tensor value = it->second.to(at::kFloat);
    // A NaN or infinite weight would decide plans silently (a NaN bias picks one class for every input).
    DRLLM_CHECK(at::isfinite(value).all().item<bool>(), "routers: tensor '", name,
                "' holds NaN or infinite values; these routers are damaged (or were trained into divergence)");
    return value;
  };
  std::vector<at::Tensor> w1, b1, w2, b2;
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "model.routers." + std::to_string(l) + ".";
    w1.push_back(get(p + "linear1.weight", {kRouterHidden, d}));
    b1.push_back(get(p + "linear1.bias", {kRouterHidden}));
    w2.push_back(get(p + "linear2.weight", {kRouterClasses, kRouterHidden}));
    b2.push_back(get(p + "linear2.bias", {kRouterClasses}));
  }
  DRLLM_CHECK(!by_name.count("model.routers." + std::to_string(L) + ".linear1.weight"),
              "routers: more than ", L, " routers (routers of another model?)");
  return {at::stack(w1), at::stack(b1), at::stack(w2), at::stack(b2)};
}

void RouterBank::save(const std::string& path, const std::string& model_fingerprint) const {
  model::save_safetensors(path, named_tensors(), {{"model_fingerprint", model_fingerprint}});
}

RouterBank RouterBank::load(const std::string& path, int64_t L, int64_t d) {
  try {
    return from_named(model::load_safetensors(path), L, d);
  } catch (const Error& e) {
    throw Error(cat(path, ": ", e.what()));
  }
}

}  // namespace drllm::routing
