#include "model/generate.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace drllm::model {

Generation generate_greedy(Backbone& backbone, const std::vector<TokenId>& prompt, const LayerPlan& plan,
                           const GenerationOptions& options, const LayerObserver& observer) {
  plan.check_length(backbone.config().num_layers);
  FixedPlan source(plan);
  return generate_greedy(backbone, prompt, source, options, observer);
}

Generation generate_greedy(Backbone& backbone, const std::vector<TokenId>& prompt, PlanSource& source,
                           const GenerationOptions& options, const LayerObserver& observer) {
  DRLLM_CHECK(!prompt.empty(), "generate: the prompt is empty");
  // The KV cache is sized from the budget, so an absurd one must fail here, not in an allocation.
  constexpr int64_t kMostNewTokens = int64_t{1} << 20;
  DRLLM_CHECK(options.max_new_tokens >= 0 && options.max_new_tokens <= kMostNewTokens, "generate: --max-new-tokens ",
              options.max_new_tokens, " is outside [0, ", kMostNewTokens, "]");
  KvCache cache = backbone.new_cache(options.repeat_kv, static_cast<int64_t>(prompt.size()) + options.max_new_tokens);
  Generation out;
  if (options.max_new_tokens == 0) return out;

  at::Tensor ids = at::tensor(prompt, at::kLong).unsqueeze(0);  // [1, T]
  auto layer_cache = [&]() -> LayerResultCache* {
    return options.layer_cache_for_call ? options.layer_cache_for_call(out.tokens) : nullptr;
  };
  Backbone::Forward forward = backbone.prefill(ids, source, cache, observer, false, layer_cache());
  out.layer_visits += forward.plan.executed();
  at::Tensor logits = forward.logits;
  while (true) {
    if (static_cast<int64_t>(out.tokens.size()) < options.min_new_tokens)
      for (int64_t stop : options.stop_tokens) logits.index_put_({0, stop}, -INFINITY);
    const TokenId next = static_cast<TokenId>(logits.argmax(-1).item<int64_t>());
    out.tokens.push_back(next);
    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), next) != options.stop_tokens.end()) {
      out.stopped = true;
      break;
    }
    if (static_cast<int64_t>(out.tokens.size()) >= options.max_new_tokens) break;
    if (options.stop_when && options.stop_when(out.tokens)) break;
    forward = backbone.decode(at::full({1, 1}, next, at::kLong), source, cache, observer, layer_cache());
    out.layer_visits += forward.plan.executed();
    logits = forward.logits;
  }
  return out;
}

}  // namespace drllm::model
