#include "routing/routed_generation.h"

#include <filesystem>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

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

// The routers as the plan source: before each layer, its router reads the window means of the hidden state entering
// it and decides. Only the prefill routes, unless re-routing each step; other calls replay the last decisions.
class RouterPlanSource final : public model::PlanSource {
 public:
  RouterPlanSource(const RouterBank& routers, const RoutingOptions& routing, int64_t num_layers)
      : routers_(routers), routing_(routing), decided_(static_cast<size_t>(num_layers), 1) {}

  void begin_forward(bool prefill) override {
    ++calls_;
    active_ = prefill || routing_.reroute_each_step;
  }
  int decide(int64_t layer, const at::Tensor& hidden) override {
    if (active_) {
      auto t0 = Clock::now();
      at::Tensor logits = routers_.layer_logits(layer, window_means(hidden)[0]);
      decided_[static_cast<size_t>(layer)] = static_cast<uint8_t>(route_decision(logits, routing_.p));
      seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
    }
    return decided_[static_cast<size_t>(layer)];
  }
  bool reads_hidden() const override { return true; }
  // On a pipeline's driver: the later stages' routers decide their layers when this call routes.
  std::optional<double> stage_routing_knob() const override {
    return active_ ? std::optional<double>(routing_.p) : std::nullopt;
  }
  void decided_on_stages(const std::vector<uint8_t>& counts, int64_t first_layer, double router_seconds) override {
    std::copy(counts.begin() + first_layer, counts.end(), decided_.begin() + first_layer);
    seconds_ += router_seconds;
  }

  model::LayerPlan decided() const { return model::LayerPlan(decided_); }
  int64_t calls() const { return calls_; }
  double seconds() const { return seconds_; }

 private:
  const RouterBank& routers_;
  const RoutingOptions& routing_;
  std::vector<uint8_t> decided_;
  bool active_ = false;
  int64_t calls_ = 0;
  double seconds_ = 0;
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

RoutedGeneration generate_routed(model::Backbone& backbone, const RouterBank& routers, const std::vector<TokenId>& prompt,
                                 const model::GenerationOptions& options, const RoutingOptions& routing) {
  check_fits(routers, backbone);
  RouterPlanSource source(routers, routing, backbone.config().num_layers);
  RoutedGeneration out;
  out.generation = model::generate_greedy(backbone, prompt, source, options);
  out.plan = source.decided();
  out.forward_passes = source.calls();
  out.router_seconds = source.seconds();
  return out;
}

std::vector<RoutedGeneration> generate_routed_batched(model::Backbone& backbone, const RouterBank& routers,
                                                      const std::vector<std::vector<TokenId>>& prompts,
                                                      const model::GenerationOptions& options,
                                                      const RoutingOptions& routing, const model::BatchOptions& batch) {
  check_fits(routers, backbone);
  std::vector<std::unique_ptr<RouterPlanSource>> sources;
  std::vector<model::GenerationRequest> requests;
  for (const auto& prompt : prompts) {
    sources.push_back(std::make_unique<RouterPlanSource>(routers, routing, backbone.config().num_layers));
    requests.push_back({prompt, sources.back().get(), options, 0});
  }
  std::vector<model::Generation> generations = model::generate_batched(backbone, std::move(requests), batch);
  std::vector<RoutedGeneration> out(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    out[i].generation = std::move(generations[i]);
    out[i].plan = sources[i]->decided();
    out[i].forward_passes = sources[i]->calls();
    out[i].router_seconds = sources[i]->seconds();
  }
  return out;
}

model::LayerPlan route_prompt(model::Backbone& backbone, const RouterBank& routers, const std::vector<TokenId>& prompt,
                              const RoutingOptions& routing, model::RepeatKv repeat_kv, double* router_seconds) {
  check_fits(routers, backbone);
  RouterPlanSource source(routers, routing, backbone.config().num_layers);
  model::KvCache cache = backbone.new_cache(repeat_kv, static_cast<int64_t>(prompt.size()));
  model::Backbone::Forward forward = backbone.prefill(at::tensor(prompt, at::kLong).unsqueeze(0), source, cache);
  if (router_seconds) *router_seconds += source.seconds();
  return forward.plan;
}

void route_on_stage(model::Backbone& backbone, const RouterBank& routers) {
  check_fits(routers, backbone);
  const model::StageRange stage = backbone.stage();
  // Only this stage's routers, copied out of the bank (which the caller may drop).
  auto rows = [&](const at::Tensor& t) { return t.narrow(0, stage.begin, stage.end - stage.begin).clone(); };
  RouterBank own{rows(routers.w1), rows(routers.b1), rows(routers.w2), rows(routers.b2)};
  backbone.route_with([own, first = stage.begin](int64_t layer, const at::Tensor& hidden, double knob) {
    return route_decision(own.layer_logits(layer - first, window_means(hidden)[0]), knob);
  });
}

RouterBank load_routers_for(const std::string& path, const model::Backbone& backbone, const std::string& model_fingerprint) {
  // A training run's folder is the likely mistake: name the file inside it that was meant.
  DRLLM_CHECK(!std::filesystem::is_directory(path), path, " is a folder; --routers takes one safetensors file (a "
              "training run writes RUN/routers.safetensors; drllm export-routers RUN FILE writes one)");
  formats::SafetensorsFile file(path);
  auto it = file.metadata().find("model_fingerprint");
  if (it != file.metadata().end() && !model_fingerprint.empty())
    DRLLM_CHECK(it->second == model_fingerprint, path, ": routers of another model (fingerprint ",
                it->second.substr(0, 16), "…, this model's is ", model_fingerprint.substr(0, 16), "…)");
  return RouterBank::load(path, backbone.config().num_layers, backbone.config().hidden_size).to(backbone.device());
}

}  // namespace drllm::routing
