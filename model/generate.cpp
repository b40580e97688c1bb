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

void check_budget(const GenerationOptions& options) {
  constexpr int64_t kMostNewTokens = int64_t{1} << 20;
  DRLLM_CHECK(options.max_new_tokens >= 0 && options.max_new_tokens <= kMostNewTokens, "generate: --max-new-tokens ",
              options.max_new_tokens, " is outside [0, ", kMostNewTokens, "]");
}

TokenId greedy_token(const at::Tensor& logits, const Generation& so_far, const GenerationOptions& options) {
  if (static_cast<int64_t>(so_far.tokens.size()) >= options.min_new_tokens || options.stop_tokens.empty())
    return static_cast<TokenId>(logits.argmax(-1).item<int64_t>());
  at::Tensor masked = logits.clone();
  for (int64_t stop : options.stop_tokens) masked.index_put_({stop}, -INFINITY);
  return static_cast<TokenId>(masked.argmax(-1).item<int64_t>());
}

bool append_and_check_end(Generation& g, TokenId token, const GenerationOptions& options) {
  g.tokens.push_back(token);
  if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) != options.stop_tokens.end()) {
    g.stopped = true;
    return true;
  }
  if (static_cast<int64_t>(g.tokens.size()) >= options.max_new_tokens) return true;
  return options.stop_when && options.stop_when(g.tokens);
}

Generation generate_greedy(Backbone& backbone, const std::vector<TokenId>& prompt, PlanSource& source,
                           const GenerationOptions& options, const LayerObserver& observer) {
  DRLLM_CHECK(!prompt.empty(), "generate: the prompt is empty");
  check_budget(options);  // the KV cache is sized from the budget: an absurd one fails here, not in an allocation
  KvCache cache = backbone.new_cache(options.repeat_kv, static_cast<int64_t>(prompt.size()) + options.max_new_tokens);
  Generation out;
  if (options.max_new_tokens == 0) return out;

  at::Tensor ids = at::tensor(prompt, at::kLong).unsqueeze(0);  // [1, T]
  auto layer_cache = [&]() -> LayerResultCache* {
    return options.layer_cache_for_call ? options.layer_cache_for_call(out.tokens) : nullptr;
  };
  Backbone::Forward forward = backbone.prefill(ids, source, cache, observer, false, layer_cache());
  while (true) {
    out.layer_visits += forward.plan.executed();
    const TokenId next = greedy_token(forward.logits[0], out, options);
    if (append_and_check_end(out, next, options)) break;
    forward = backbone.decode(at::full({1, 1}, next, at::kLong), source, cache, observer, layer_cache());
  }
  return out;
}

}  // namespace drllm::model
