// Routed generation (Dr.LLM §3.3, docs/method.md): before each layer its router reads the hidden state entering
// it (window means over the prompt) and decides 0 skip, 1 execute or 2 repeat; the decisions made at prefill
// are frozen for the decode steps (the paper), or re-made at every step from the new token alone
// (reroute_each_step: what the released evaluation code does). The control knob p in [-1, 1] blends the router's
// probabilities with one-hot distributions before the argmax: [-1, -0.5] skip -> router, (-0.5, 0.5]
// router -> execute, (0.5, 1] execute -> repeat; p = -0.5 is the pure router, p = 0.5 always executes.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "model/batch_generation.h"
#include "model/generate.h"
#include "routing/router_bank.h"

namespace drllm::routing {

struct RoutingOptions {
  double p = -0.5;
  bool reroute_each_step = false;
};

// The decision for one layer from its router logits [3] (averaged over windows) and the knob p.
int route_decision(const at::Tensor& logits, double p);

struct RoutedGeneration {
  model::Generation generation;
  model::LayerPlan plan;             // the decisions made at prefill (with reroute_each_step: at the last step)
  int64_t forward_passes = 0;
  double router_seconds = 0;  // time spent pooling and running the routers
};

// Throws when the routers do not fit the backbone (layer count or hidden size).
RoutedGeneration generate_routed(model::Backbone& backbone, const RouterBank& routers, const std::vector<TokenId>& prompt,
                                 const model::GenerationOptions& options, const RoutingOptions& routing = {});

// The same for many prompts at once (model/batch_generation.h): each sequence routed at its own prefill by its own
// copy of the decisions, then the batch runs the mixed plans. Results in the prompts' order.
std::vector<RoutedGeneration> generate_routed_batched(model::Backbone& backbone, const RouterBank& routers,
                                                      const std::vector<std::vector<TokenId>>& prompts,
                                                      const model::GenerationOptions& options,
                                                      const RoutingOptions& routing, const model::BatchOptions& batch);

// Only the routing: the plan the routers choose for this prompt (one prefill, no generation), for callers that
// do not generate (log-likelihood scoring). Adds the routers' own time to *router_seconds when given.
model::LayerPlan route_prompt(model::Backbone& backbone, const RouterBank& routers, const std::vector<TokenId>& prompt,
                       const RoutingOptions& routing = {}, model::RepeatKv repeat_kv = model::RepeatKv::Shared,
                       double* router_seconds = nullptr);

// A later pipeline stage's routers (docs/pipeline-stages.md): keeps the routers of the stage's own layers and
// installs them on `backbone`, so that they decide those layers for the routed sequences the driver sends (the
// driver's plan source asks for it, Backbone::route_with). Throws when the routers do not fit the backbone.
void route_on_stage(model::Backbone& backbone, const RouterBank& routers);

// Loads exported routers (drllm export-routers / the official names) and checks them against the backbone: the
// fingerprint in the file's metadata (when present) and the shapes. Throws naming what differs.
RouterBank load_routers_for(const std::string& path, const model::Backbone& backbone, const std::string& model_fingerprint);

}  // namespace drllm::routing
