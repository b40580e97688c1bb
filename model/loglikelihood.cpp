#include "model/loglikelihood.h"

#include <algorithm>

#include "common/error.h"

namespace drllm::model {

namespace {

// What the model reads: the context and the continuation but its last token.
std::vector<TokenId> scored_input(const std::vector<TokenId>& context, const std::vector<TokenId>& continuation) {
  DRLLM_CHECK(!context.empty() && !continuation.empty(), "score_continuation: empty context or continuation");
  std::vector<TokenId> input = context;
  input.insert(input.end(), continuation.begin(), continuation.end() - 1);
  return input;
}

// The score from the logits [T, V] of every input position.
ContinuationScore score_from_logits(const at::Tensor& logits, const std::vector<TokenId>& context,
                                    const std::vector<TokenId>& continuation) {
  const int64_t first = static_cast<int64_t>(context.size()) - 1;  // the position predicting continuation[0]
  const int64_t n = static_cast<int64_t>(continuation.size());
  at::Tensor rows = logits.narrow(0, first, n).log_softmax(-1);  // [n, V] fp32
  at::Tensor targets = at::tensor(continuation, at::kLong);
  ContinuationScore s;
  s.log_likelihood = rows.gather(1, targets.unsqueeze(1)).sum().item<double>();
  s.is_greedy = at::equal(rows.argmax(-1), targets);
  return s;
}

}  // namespace

ContinuationScore score_continuation(Backbone& backbone, const std::vector<TokenId>& context,
                                     const std::vector<TokenId>& continuation, const LayerPlan& plan) {
  std::vector<TokenId> input = scored_input(context, continuation);
  KvCache cache = backbone.new_cache(RepeatKv::Shared, static_cast<int64_t>(input.size()));
  at::Tensor logits = backbone.prefill(at::tensor(input, at::kLong).unsqueeze(0), plan, cache, nullptr, true)[0];
  return score_from_logits(logits, context, continuation);
}

std::vector<ContinuationScore> score_continuations(Backbone& backbone, const std::vector<ContinuationRequest>& requests,
                                                   int64_t batch) {
  DRLLM_CHECK(batch >= 1, "--batch must be at least 1, got ", batch);
  std::vector<ContinuationScore> out;
  for (size_t begin = 0; begin < requests.size(); begin += static_cast<size_t>(batch)) {
    const size_t end = std::min(requests.size(), begin + static_cast<size_t>(batch));
    std::vector<KvCache> caches;
    std::vector<FixedPlan> sources;
    caches.reserve(end - begin);
    sources.reserve(end - begin);
    std::vector<Backbone::SequenceStep> steps;
    for (size_t i = begin; i < end; ++i) {
      const ContinuationRequest& r = requests[i];
      DRLLM_CHECK(r.plan, "score_continuations: request ", i, " has no plan");
      r.plan->check_length(backbone.config().num_layers);
      std::vector<TokenId> input = scored_input(r.context, r.continuation);
      caches.push_back(backbone.new_cache(RepeatKv::Shared, static_cast<int64_t>(input.size())));
      sources.emplace_back(*r.plan);
      steps.push_back({at::tensor(input, at::kLong), &sources.back(), &caches.back(), nullptr, true});
    }
    std::vector<Backbone::Forward> forwards = backbone.forward_batch(steps);
    for (size_t i = begin; i < end; ++i)
      out.push_back(score_from_logits(forwards[i - begin].logits, requests[i].context, requests[i].continuation));
  }
  return out;
}

}  // namespace drllm::model
