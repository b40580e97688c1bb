// Backbone: a frozen decoder (embeddings -> L blocks -> norm -> lm_head) that runs any LayerPlan with a KV
// cache. Llama, Mistral, Qwen2 and Qwen3 blocks, in the order of Hugging Face's modeling_llama.py:
//   x += o_proj(attn(rope(q), rope(k), v));  x += down(silu(gate(h)) * up(h)), each on an RMS-normed x.
// Computes in the dtype model/compute_dtype.h resolves (bf16 on CPUs that multiply it natively, else fp32; the
// checkpoint's dtype on CUDA) unless told otherwise.
// Shapes: B batch, T tokens, D hidden, V vocab.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "model/kv_cache.h"
#include "model/layer_plan.h"
#include "model/load_options.h"
#include "model/model_config.h"
#include "model/plan_source.h"
#include "model/rope.h"
#include "model/stage_messages.h"
#include "model/stage_range.h"
#include "model/weights.h"

namespace drllm::model {

class ModelFiles;

// Sees the hidden state [B, T, D] entering layer `layer`: pass 0 for every layer, a skipped one included
// (that is what its router reads), and pass 1 before the second run of a repeated layer. The plan's entry for a
// layer is read after its pass-0 observer returns, so an observer may decide it (routed generation does).
using LayerObserver = std::function<void(int64_t layer, int pass, const at::Tensor& hidden)>;

// Lets a caller reuse layer results it has already computed (search/prefix_cache.h): before each layer the
// backbone asks lookup(); on a hit it takes the hidden state after the layer and re-appends the keys and values
// that layer wrote, instead of computing; after computing a layer it hands the result to store().
class LayerResultCache {
 public:
  struct Append {
    int64_t slot;
    at::Tensor keys, values;  // [B, Hkv, t, Dh]
  };
  virtual ~LayerResultCache() = default;
  virtual bool lookup(int64_t layer, at::Tensor& hidden_after, std::vector<Append>& appends) = 0;
  virtual void store(int64_t layer, const at::Tensor& hidden_after, const std::vector<Append>& appends) = 0;
};

class Backbone {
 public:
  // `stage`: the layers these weights hold in a pipeline (default: the whole model).
  Backbone(ModelConfig config, BackboneWeights weights, at::Device device, std::optional<StageRange> stage = {});

  // The weights of a model folder or .gguf file (model/model_files.h), in the compute dtype on the device.
  static Backbone load(const ModelFiles& files, const LoadOptions& options = {});
  // The same, opening the files first (for a command that needs nothing else of them).
  static Backbone load(const std::string& model_path, const LoadOptions& options = {});

  // What a forward call computed: the logits and the plan it ran.
  struct Forward {
    at::Tensor logits;
    LayerPlan plan;
  };

  // Runs the prompt tokens [B, T] (int64) into an empty cache, each layer as `source` decides.
  // Logits [B, V] of the last position, or [B, T, V] with all_positions.
  Forward prefill(const at::Tensor& tokens, PlanSource& source, KvCache& cache, const LayerObserver& observer = nullptr,
                  bool all_positions = false, LayerResultCache* layer_cache = nullptr);
  // Runs one new token per sequence [B, 1] after prefill. Logits [B, V].
  Forward decode(const at::Tensor& tokens, PlanSource& source, KvCache& cache, const LayerObserver& observer = nullptr,
                 LayerResultCache* layer_cache = nullptr);

  // The same along a fixed plan, returning the logits.
  at::Tensor prefill(const at::Tensor& tokens, const LayerPlan& plan, KvCache& cache,
                     const LayerObserver& observer = nullptr, bool all_positions = false,
                     LayerResultCache* layer_cache = nullptr);
  at::Tensor decode(const at::Tensor& tokens, const LayerPlan& plan, KvCache& cache,
                    const LayerObserver& observer = nullptr, LayerResultCache* layer_cache = nullptr);

  // One sequence of a batched forward call: its new tokens, where its plan comes from, its own KV cache and
  // (optionally) its own layer-result cache.
  struct SequenceStep {
    at::Tensor tokens;  // [t] int64: the whole prompt into an empty cache (prefill), or one new token (decode)
    PlanSource* source = nullptr;
    KvCache* cache = nullptr;
    LayerResultCache* layer_cache = nullptr;
    bool all_positions = false;  // logits [t, V] of every new position (log-likelihood scoring), not [V]
  };
  // Runs several sequences in one call, each along its own plan, some prefilling and some decoding
  // (model/backbone_batch.cpp): at each layer only the sequences that run it are computed, their tokens packed
  // into one matrix for the projections and the MLP, attention sequence by sequence over its own cache; a layer
  // no sequence runs costs nothing. Each sequence's result equals its own prefill()/decode() (up to the rounding
  // of a matmul over more rows). Logits [V] of each sequence's last position ([t, V] with all_positions), in the
  // steps' order. No observers:
  // a plan source that reads the hidden states sees each sequence's own [1, t, D].
  std::vector<Forward> forward_batch(const std::vector<SequenceStep>& steps);

  // forward_batch in two halves, so that a pipeline's driver can keep several calls in flight, one per cohort of
  // sequences (model/batch_generation.cpp): start_batch runs the driver's layers and sends the states on to the
  // other stages (on a whole model it computes the call), finish_batch waits for the results. Other calls may run
  // meanwhile (a search computes router inputs while cohorts' steps are out): the replies are matched by ticket. A
  // sequence may be in one call in flight at a time.
  struct StartedBatch {
    std::vector<SequenceStep> steps;           // a split model's (a whole model's call is done at start)
    LayerObserver observer;
    std::vector<std::vector<size_t>> groups;   // the micro-batches sent to the stages
    std::vector<uint64_t> tickets;             // their messages' tickets
    std::vector<bool> routed;                  // decided by the stages' routers
    std::vector<std::vector<uint8_t>> counts;  // the plans as run so far
    std::vector<Forward> done;                 // a whole model's results
  };
  StartedBatch start_batch(const std::vector<SequenceStep>& steps);
  std::vector<Forward> finish_batch(StartedBatch& started);

  KvCache new_cache(RepeatKv mode, int64_t expected_tokens = 256) const;

  const ModelConfig& config() const { return config_; }
  at::Device device() const { return device_; }
  at::ScalarType dtype() const { return dtype_; }

  // Pipeline stages (docs/pipeline-stages.md). A backbone loaded as one stage holds only its layers' tensors.
  // The driver (stage 0) hands every forward call's states to the next stages through `link`, which returns
  // the last stage's logits: prefill, decode and forward_batch then work as on the whole model, for plans fixed
  // before the call and for routed plans, each stage's routers deciding its own layers (PlanSource's
  // stage_routing_knob).
  // Every other stage answers the driver's messages with run_stage.
  const StageRange& stage() const { return stage_; }
  // The bytes of the weight tensors this backbone holds (a stage: its share; a tied lm_head counted once).
  int64_t weight_bytes() const;
  // `micro_batches`: the most groups a forward call is split into (model/micro_batches.h), and the cohorts batched
  // generation takes turns with; 1 sends each call whole, one at a time.
  void attach_next_stages(std::shared_ptr<StageLink> link, int micro_batches);
  // How many micro-batches the driver keeps in flight: groups within a call, and cohorts of batched generation
  // (model/batch_generation.h); 1 on a whole model.
  int micro_batches() const { return stage_.whole() ? 1 : micro_batches_; }
  // Stage > 0: runs this stage's layers for a Forward and returns what goes on (a Forward for the next stage,
  // or the Reply for the driver from the last).
  StageMessage run_stage(const StageMessage& forward);
  // A later stage's routers (routing/routed_generation.h, route_on_stage): for a sequence the driver sends routed,
  // how often `layer` (one of this stage's) runs, from the state [1, t, D] entering it and the knob p.
  using StageRouter = std::function<int(int64_t layer, const at::Tensor& hidden, double knob)>;
  void route_with(StageRouter router);
  // The driver: the handles of caches freed since the last message, which the next one carries.
  std::vector<uint64_t> take_released_caches();
  const BackboneWeights& weights() const { return weights_; }
  // Layer visits actually computed since load (a LayerResultCache hit computes none).
  int64_t computed_layer_visits() const { return computed_layer_visits_; }
  // Block computations since load: a layer visit of one sequence, or one pass of a layer over all the sequences
  // of a batch that run it. At decode each reads the layer's weights once, so this, not the visits, sets the time
  // of a batch whose plans differ.
  int64_t computed_blocks() const { return computed_blocks_; }

 private:
  // start_batch with an observer (one sequence only): the path of prefill()/decode() on a pipeline's driver.
  StartedBatch start_packed(const std::vector<SequenceStep>& steps, const LayerObserver& observer);
  // The states of packed sequences as they go through layers.
  struct Packed {
    std::vector<at::Tensor> x, cos, sin;  // [t_i, D], [t_i, Dh] each
    std::vector<int64_t> lengths;
  };
  // Runs layers [begin, end) on every sequence of `p`: decide(i, layer) says how often sequence i runs a layer,
  // observe(i, layer, pass, state) sees the state entering it (may be null), layer_caches[i] may be null.
  using DecideRuns = std::function<int(size_t sequence, int64_t layer)>;
  using ObserveState = std::function<void(size_t sequence, int64_t layer, int pass, const at::Tensor& state)>;
  void run_packed_layers(Packed& p, int64_t begin, int64_t end, const std::vector<KvCache*>& caches,
                         const std::vector<LayerResultCache*>& layer_caches, const DecideRuns& decide,
                         const ObserveState& observe, std::vector<std::vector<uint8_t>>& counts);
  // The driver of a split model: its own layers on `p`, then on to the later stages in micro-batches
  // (model/micro_batches.h), each group sent as soon as the driver's layers are done with it; advances the caches.
  void send_to_stages(StartedBatch& b, Packed& p, const std::vector<int64_t>& starts,
                      const std::vector<KvCache*>& caches, const std::vector<LayerResultCache*>& layer_caches);
  // Their replies, in order: each sequence's logits ([t_i, V] or [V]); the stages' decisions go into b.counts.
  std::vector<at::Tensor> receive_from_stages(StartedBatch& b);
  // The last stage's logits of packed sequences: [t_i, V] where all_positions[i], else [V].
  std::vector<at::Tensor> packed_logits(const Packed& p, const std::vector<bool>& all_positions) const;
  // tokens [B, T] -> hidden [B, T, D] after the planned layers (before the final norm); `ran` receives the plan.
  at::Tensor run_layers(const at::Tensor& tokens, PlanSource& source, KvCache& cache, const LayerObserver& observer,
                        LayerResultCache* layer_cache, LayerPlan& ran);
  // x after `runs` passes of `layer` (the observer sees the state entering a second pass).
  at::Tensor visit(const at::Tensor& x, int64_t layer, int runs, const at::Tensor& cos, const at::Tensor& sin,
                   KvCache& cache, const LayerObserver& observer);
  // The same through a layer-result cache: a stored result (the state after the visit and the keys/values it
  // appended) is replayed into `cache`, else the visit is computed and stored.
  at::Tensor visit_cached(const at::Tensor& x, int64_t layer, int runs, const at::Tensor& cos, const at::Tensor& sin,
                          KvCache& cache, LayerResultCache& layer_cache);
  // x [B, T, D] -> x after one visit of layer `layer`, its keys/values appended to `slot`
  at::Tensor block(const at::Tensor& x, int64_t layer, int64_t slot, const at::Tensor& cos, const at::Tensor& sin,
                   KvCache& cache);
  // The same with the cache and attention left to `attend`: (q [B, H, T, Dh], the new k and v [B, Hkv, T, Dh])
  // -> attention output [B, H, T, Dh]. A packed batch attends sequence by sequence (model/backbone_batch.cpp).
  using Attend = std::function<at::Tensor(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v)>;
  at::Tensor block(const at::Tensor& x, int64_t layer, const at::Tensor& cos, const at::Tensor& sin,
                   const Attend& attend);
  // q [B, H, T, Dh] over a slot's keys and values [B, Hkv, S, Dh], causal from the slot's first entry.
  at::Tensor attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values) const;
  // The keys and values `runs` passes of `layer` appended to `cache` after its slots held `before` entries, each
  // slot once (a shared repeat writes both passes to one slot), copied: what a LayerResultCache stores.
  static std::vector<LayerResultCache::Append> appended_since(const KvCache& cache, int64_t layer, int runs,
                                                              const std::vector<int64_t>& before);
  at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) const;
  // at::linear whose rows do not depend on how many rows there are (see backbone.cpp).
  at::Tensor project(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) const;
  at::Tensor logits(const at::Tensor& hidden, bool all_positions) const;

  int64_t computed_layer_visits_ = 0;
  int64_t computed_blocks_ = 0;

  ModelConfig config_;
  BackboneWeights weights_;
  at::Device device_;
  at::ScalarType dtype_;
  Rope rope_;
  StageRange stage_;
  std::shared_ptr<StageLink> next_stages_;  // the driver's, when the model is split
  int micro_batches_ = 1;                    // the driver's: the most groups per forward call
  uint64_t next_ticket_ = 0;                 // the driver's: its Forwards' numbers
  std::unordered_map<uint64_t, StageMessage> early_replies_;  // the driver's: replies to calls not finished yet
  // The driver: the reply to the Forward of `ticket`, keeping any other that comes first for its own call.
  StageMessage reply_for(uint64_t ticket);
  struct Released {                          // caches freed on the driver, to tell the other stages
    std::mutex mutex;
    std::vector<uint64_t> handles;
  };
  std::shared_ptr<Released> released_ = std::make_shared<Released>();
  mutable uint64_t next_handle_ = 0;
  std::unordered_map<uint64_t, KvCache> stage_caches_;  // a later stage's: the driver's caches, by handle
  StageRouter stage_router_;                              // a later stage's routers, when a routed job installs them
};

}  // namespace drllm::model
