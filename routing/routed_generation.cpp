#include "routing/routed_generation.h"

#include <chrono>

#include "common/error.h"
#include "routing/router_inputs.h"
#include "formats/safetensors.h"

namespace drllm::routing {
namespace {

using Clock = std::chrono::steady_clock;

void check_fits(const RouterBank& routers, const model::Backbone& backbone) {
  DRLLM_CHECK(routers.num_layers() == backbone.config().num_layers && routers.hidden_size() == backbone.config().hidden_size,
              "routers for ", routers.num_layers(), " layers of width ", routers.hidden_size(), " do not fit this model (",
              backbone.config().num_layers, " layers of width ", backbone.config().hidden_size, ")");
}

// An observer that fills `plan` from the routers before the backbone reads each layer's entry (the backbone calls
// the observer for layer l, pass 0, before it looks at plan[l]). `active` says whether this forward call routes.
struct Router {
  const RouterBank& routers;
  const RoutingOptions& routing;
  std::vector<uint8_t>& counts;
  bool active = true;
  double seconds = 0;

  void operator()(int64_t layer, int pass, const at::Tensor& hidden) {
    if (!active || pass != 0) return;
    auto t0 = Clock::now();
    at::Tensor logits = routers.layer_logits(layer, window_means(hidden)[0]);
    counts[static_cast<size_t>(layer)] = static_cast<uint8_t>(route_decision(logits, routing.p));
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
};

}  // namespace

int route_decision(const at::Tensor& logits, double p) {
  DRLLM_CHECK(p >= -1 && p <= 1, "router knob p must be in [-1, 1], got ", p);
  at::Tensor probs = at::softmax(logits.to(at::kCPU).to(at::kDouble), -1);
  auto one_hot = [](int c) {
    at::Tensor t = at::zeros({3}, at::kDouble);
    t[c] = 1.0;
    return t;
  };
  at::Tensor blended;
  if (p <= -0.5) {
    const double t = (p + 1) / 0.5;  // -1: all skip, -0.5: the router
    blended = (1 - t) * one_hot(0) + t * probs;
  } else if (p <= 0.5) {
    const double t = (p + 0.5);      // -0.5: the router, 0.5: all execute
    blended = (1 - t) * probs + t * one_hot(1);
  } else {
    const double t = (p - 0.5) / 0.5;  // 0.5: execute, 1: repeat
    blended = (1 - t) * one_hot(1) + t * one_hot(2);
  }
  return static_cast<int>(blended.argmax().item<int64_t>());
}

RoutedGeneration generate_routed(model::Backbone& backbone, const RouterBank& routers, const std::vector<int64_t>& prompt,
                                 const model::GenerationOptions& options, const RoutingOptions& routing) {
  check_fits(routers, backbone);
  const int64_t L = backbone.config().num_layers;
  model::LayerPlan plan = model::LayerPlan::all_execute(L);
  std::vector<uint8_t>& counts = plan.mutable_counts();
  Router router{routers, routing, counts};
  int64_t calls = 0;
  model::LayerObserver observe = [&](int64_t layer, int pass, const at::Tensor& hidden) {
    if (layer == 0 && pass == 0) {
      ++calls;  // a new forward call: the prefill routes; decode steps only when re-routing
      router.active = calls == 1 || routing.reroute_each_step;
    }
    router(layer, pass, hidden);
  };
  RoutedGeneration out;
  out.generation = model::generate_greedy(backbone, prompt, plan, options, observe);
  out.plan = plan;
  out.forward_passes = calls;
  out.router_seconds = router.seconds;
  return out;
}

model::LayerPlan route_prompt(model::Backbone& backbone, const RouterBank& routers, const std::vector<int64_t>& prompt,
                       const RoutingOptions& routing, model::RepeatKv repeat_kv, double* router_seconds) {
  check_fits(routers, backbone);
  model::LayerPlan plan = model::LayerPlan::all_execute(backbone.config().num_layers);
  Router router{routers, routing, plan.mutable_counts()};
  model::LayerObserver observe = [&](int64_t layer, int pass, const at::Tensor& hidden) { router(layer, pass, hidden); };
  model::KvCache cache = backbone.new_cache(repeat_kv, static_cast<int64_t>(prompt.size()));
  backbone.prefill(at::tensor(prompt, at::kLong).unsqueeze(0), plan, cache, observe);
  if (router_seconds) *router_seconds += router.seconds;
  return plan;
}

RouterBank load_routers_for(const std::string& path, const model::Backbone& backbone, const std::string& model_fingerprint) {
  formats::SafetensorsFile file(path);
  auto it = file.metadata().find("model_fingerprint");
  if (it != file.metadata().end() && !model_fingerprint.empty())
    DRLLM_CHECK(it->second == model_fingerprint, path, ": routers of another model (fingerprint ",
                it->second.substr(0, 16), "…, this model's is ", model_fingerprint.substr(0, 16), "…)");
  return RouterBank::load(path, backbone.config().num_layers, backbone.config().hidden_size).to(backbone.device());
}

}  // namespace drllm::routing
