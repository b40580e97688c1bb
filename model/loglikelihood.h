// Log-likelihood of a continuation after a context, as lm-evaluation-harness scores multiple choice: the model
// reads context + continuation[:-1] and the log-softmax (fp32) at each position predicting a continuation token
// is summed; is_greedy says whether every continuation token was the argmax.
#pragma once

#include <cstdint>
#include <vector>

#include "model/backbone.h"

namespace drllm::model {

struct ContinuationScore {
  double log_likelihood = 0;
  bool is_greedy = true;
};

ContinuationScore score_continuation(Backbone& backbone, const std::vector<TokenId>& context,
                                     const std::vector<TokenId>& continuation, const LayerPlan& plan);

// Many of them, up to `batch` in one batched forward call (Backbone::forward_batch), each along its own plan.
struct ContinuationRequest {
  std::vector<TokenId> context, continuation;
  const LayerPlan* plan = nullptr;
};
std::vector<ContinuationScore> score_continuations(Backbone& backbone, const std::vector<ContinuationRequest>& requests,
                                                   int64_t batch);

}  // namespace drllm::model
