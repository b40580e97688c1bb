// PlanSource: where a forward call's layer plan comes from. The backbone asks it, layer by layer, how many times
// the layer runs (0 skip, 1 execute, 2 repeat) just before running it, handing it the hidden state entering the
// layer; so a fixed plan and routers that decide from the hidden state (routing/routed_generation.h) drive the same
// loop. Each forward call returns the plan it actually ran.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "model/layer_plan.h"

namespace drllm::model {

class PlanSource {
 public:
  virtual ~PlanSource() = default;
  // A forward call begins: the prefill, or a decode step.
  virtual void begin_forward(bool prefill) {}
  // How many times `layer` runs in this call (0, 1 or 2), given the hidden state [B, T, D] entering it.
  virtual int decide(int64_t layer, const at::Tensor& hidden) = 0;
  // Whether decide() reads the hidden states: a layer-result cache, which replays states instead of computing
  // them, is then bypassed.
  virtual bool reads_hidden() const { return false; }

  // On the driver of a backbone split into pipeline stages (docs/pipeline-stages.md) the states entering a later
  // stage's layers are on that stage, not here. After the driver's own layers it asks this: a source whose
  // routers decide in this call returns their knob p (routing/routed_generation.h), and the routers on each later
  // stage decide that stage's layers; nullopt, and decide() is asked for those layers with an undefined state.
  virtual std::optional<double> stage_routing_knob() const { return std::nullopt; }
  // What the later stages' routers decided in this call: `counts` is the whole plan, its layers from
  // `first_layer` on theirs; `router_seconds` the time their routers took.
  virtual void decided_on_stages(const std::vector<uint8_t>& counts, int64_t first_layer, double router_seconds) {}
};

// The same plan for every forward call.
class FixedPlan final : public PlanSource {
 public:
  explicit FixedPlan(const LayerPlan& plan) : plan_(plan) {}
  int decide(int64_t layer, const at::Tensor&) override { return plan_[layer]; }

 private:
  const LayerPlan& plan_;
};

}  // namespace drllm::model
