#include "model/loglikelihood.h"

#include "common/error.h"

namespace drllm::model {

ContinuationScore score_continuation(Backbone& backbone, const std::vector<TokenId>& context,
                                     const std::vector<TokenId>& continuation, const LayerPlan& plan) {
  DRLLM_CHECK(!context.empty() && !continuation.empty(), "score_continuation: empty context or continuation");
  std::vector<TokenId> input = context;
  input.insert(input.end(), continuation.begin(), continuation.end() - 1);
  KvCache cache = backbone.new_cache(RepeatKv::Shared, static_cast<int64_t>(input.size()));
  at::Tensor logits = backbone.prefill(at::tensor(input, at::kLong).unsqueeze(0), plan, cache, nullptr, true)[0];
  const int64_t first = static_cast<int64_t>(context.size()) - 1;  // the position predicting continuation[0]
  const int64_t n = static_cast<int64_t>(continuation.size());
  at::Tensor rows = logits.narrow(0, first, n).log_softmax(-1);  // [n, V] fp32
  at::Tensor targets = at::tensor(continuation, at::kLong);
  ContinuationScore s;
  s.log_likelihood = rows.gather(1, targets.unsqueeze(1)).sum().item<double>();
  s.is_greedy = at::equal(rows.argmax(-1), targets);
  return s;
}

}  // namespace drllm::model
