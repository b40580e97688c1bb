// Greedy generation along a fixed LayerPlan: prefill the prompt, then one decode step per new token,
// stopping after max_new_tokens or at the first stop token (which is kept, as transformers' generate does).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/backbone.h"

namespace drllm::model {

struct GenerationOptions {
  int64_t max_new_tokens = 20;
  int64_t min_new_tokens = 0;        // stop tokens are masked until this many tokens exist (HF min_length)
  std::vector<TokenId> stop_tokens;  // empty: the config's eos ids are not added implicitly
  RepeatKv repeat_kv = RepeatKv::Shared;
  // Checked after each new token; true ends the generation (lm-eval's stop strings, say).
  std::function<bool(const std::vector<TokenId>& generated)> stop_when;
  // Before each forward call (prefill, then every decode step): the layer-result cache to use, given the tokens
  // generated so far (search/prefix_cache.h). Unset: none.
  std::function<LayerResultCache*(const std::vector<TokenId>& generated)> layer_cache_for_call;
};

struct Generation {
  std::vector<TokenId> tokens;  // the new tokens only
  bool stopped = false;         // ended on a stop token
  int64_t layer_visits = 0;     // executed layers summed over every forward pass (the paper's count)
};

// The rules of one greedy step, shared by generate_greedy and generate_batched (model/batch_generation.h):
// throws unless the budget is in [0, 2^20] (the KV cache is sized from it);
void check_budget(const GenerationOptions& options);
// the argmax of one sequence's logits [V], stop tokens masked while fewer than min_new_tokens exist;
TokenId greedy_token(const at::Tensor& logits, const Generation& so_far, const GenerationOptions& options);
// appends `token` and says whether the generation ends there: a stop token (kept), the budget, stop_when.
bool append_and_check_end(Generation& generation, TokenId token, const GenerationOptions& options);

// Greedy generation, each forward call's layers as `source` decides (layer_visits counts what was run).
Generation generate_greedy(Backbone& backbone, const std::vector<TokenId>& prompt, PlanSource& source,
                           const GenerationOptions& options, const LayerObserver& observer = nullptr);
// The same along a fixed plan.
Generation generate_greedy(Backbone& backbone, const std::vector<TokenId>& prompt, const LayerPlan& plan,
                           const GenerationOptions& options, const LayerObserver& observer = nullptr);

}  // namespace drllm::model
