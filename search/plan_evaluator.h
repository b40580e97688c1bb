// PlanEvaluator: the reward of one layer plan on one example, as Dr.LLM's evaluate_path computes it (docs/graders.md
// §1): greedy generation along the plan (at least 2 new tokens, at most the task's budget), decoded without
// special tokens and stripped, then graded: the ARC letter regex, or \boxed{} + grade_answer for math.
// Two shortcuts compute the same rewards with less work (the search turns them on; evaluation wants whole
// responses): a prefix-state cache, so plans share the layer results they have in common
// (search/prefix_cache.h), and, for ARC letters, stopping the generation as soon as no continuation could be
// rewarded (data::arc_reward_still_possible): the model's usual "B. <text>" is settled at its third token.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/tasks/task.h"
#include "model/backbone.h"
#include "model/batch_generation.h"
#include "model/generate.h"
#include "routing/routed_generation.h"
#include "search/prefix_cache.h"

namespace drllm::text {
class Tokenizer;
class ChatTemplate;
}
namespace drllm::tasks {
class PromptTemplate;
struct Example;
}

namespace drllm::search {

// One example, ready to evaluate: the prompt's token ids and how its answer is graded.
struct SearchExample {
  std::string id;
  std::vector<TokenId> prompt_ids;
  std::string gold;           // ARC: the gold letter; math: the gold answer
  tasks::Reward reward = tasks::Reward::ArcLetter;
  bool prompt_opens_box = false;  // base-model math prompts end in "\boxed{"
};

// An example in Dr.LLM's setting: the task's prompt (wrapped in the chat template for instruct models, `chat`
// non-null), tokenized, graded by `reward`.
SearchExample prepare_example(const tasks::Example& example, const tasks::PromptTemplate& prompt,
                              const text::ChatTemplate* chat, const text::Tokenizer& tokenizer,
                              tasks::Reward reward);

struct GenerationBudget {
  int64_t max_new_tokens = 10;
  int64_t min_new_tokens = 2;
};

// Work the evaluator may leave out without changing any reward.
struct EvaluatorShortcuts {
  size_t prefix_cache_bytes = 0;   // memory for layer results shared between plans (0: no sharing)
  bool stop_once_settled = false;  // ARC: end a generation once its reward can only be 0
};

class PlanEvaluator {
 public:
  PlanEvaluator(model::Backbone& backbone, const text::Tokenizer& tokenizer, GenerationBudget budget,
                model::RepeatKv repeat_kv = model::RepeatKv::Shared, EvaluatorShortcuts shortcuts = {});

  // Call before the first plan of each example: cached results belong to one prompt.
  void begin_example();

  struct Outcome {
    double reward = 0;
    std::string response;
    int64_t new_tokens = 0;    // tokens generated
    int64_t layer_visits = 0;  // layer visits summed over the forward passes (the paper's count)
    bool settled_early = false;  // stopped once the reward was settled: `response` is only its beginning
  };
  // full_response: generate up to the budget or a stop token even where the reward is settled sooner.
  Outcome evaluate(const SearchExample& example, const model::LayerPlan& plan, bool full_response = false);

  // The same evaluation as a generation request for a batch (model/batch_generation.h), then its grading.
  // `in_flight` holds what the request's callbacks use, and must stay put until the request is done; `cache` is
  // the example's own prefix cache (the evaluator's one for evaluate()).
  struct InFlight {
    model::LayerPlan plan;
    std::unique_ptr<model::FixedPlan> source;
    bool settled = false;
  };
  model::GenerationRequest request(const SearchExample& example, bool full_response, InFlight& in_flight,
                                   PrefixStateCache* cache);
  Outcome grade(const SearchExample& example, const model::Generation& generation, const InFlight& in_flight);
  bool uses_prefix_cache() const { return use_cache_; }
  size_t prefix_cache_bytes() const { return cache_bytes_; }
  // The same reward with the routers choosing the plan at the generation's prefill (frozen for decoding, unless
  // routing says otherwise): `chosen` receives the plan, `router_seconds` grows by the routers' own time.
  Outcome evaluate_routed(const SearchExample& example, const routing::RouterBank& routers,
                          const routing::RoutingOptions& routing, model::LayerPlan& chosen, double& router_seconds);

  // Layer visits computed so far (with the cache, fewer than the plans' visits).
  int64_t layer_forwards() const { return backbone_.computed_layer_visits() - forwards_at_start_; }
  const PrefixStateCache& prefix_cache() const { return cache_; }
  int64_t evaluations() const { return evaluations_; }
  model::Backbone& backbone() { return backbone_; }

 private:
  Outcome grade(const SearchExample& example, const model::Generation& generation);
  std::string text_so_far(const std::vector<TokenId>& generated) const;

  model::Backbone& backbone_;
  const text::Tokenizer& tokenizer_;
  model::GenerationOptions generation_;
  PrefixStateCache cache_;
  size_t cache_bytes_;
  bool use_cache_;
  bool stop_once_settled_;
  int64_t forwards_at_start_;
  int64_t evaluations_ = 0;
};

}  // namespace drllm::search
