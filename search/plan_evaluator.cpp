#include "search/plan_evaluator.h"

#include "data/text/chat_template.h"
#include "data/tasks/dataset.h"
#include "data/tasks/grading.h"
#include "data/tasks/prompts.h"
#include "data/text/tokenizer.h"
#include "data/text/unicode.h"

namespace drllm::search {

PlanEvaluator::PlanEvaluator(model::Backbone& backbone, const text::Tokenizer& tokenizer, GenerationBudget budget,
                             model::RepeatKv repeat_kv, EvaluatorShortcuts shortcuts)
    : backbone_(backbone),
      tokenizer_(tokenizer),
      cache_(shortcuts.prefix_cache_bytes),
      use_cache_(shortcuts.prefix_cache_bytes > 0),
      stop_once_settled_(shortcuts.stop_once_settled),
      forwards_at_start_(backbone.computed_layer_visits()) {
  generation_.max_new_tokens = budget.max_new_tokens;
  generation_.min_new_tokens = budget.min_new_tokens;
  generation_.stop_tokens = backbone.config().eos_token_ids;
  generation_.repeat_kv = repeat_kv;
}

SearchExample prepare_example(const tasks::Example& example, const tasks::PromptTemplate& prompt,
                              const text::ChatTemplate* chat, const text::Tokenizer& tokenizer,
                              tasks::Reward reward) {
  std::vector<TokenId> ids = tokenizer.encode(tasks::drllm_model_input(prompt, example, chat), !chat);
  SearchExample out;
  out.id = example.id;
  out.prompt_ids = std::move(ids);
  out.gold = example.answer;
  out.reward = reward;
  out.prompt_opens_box = reward == tasks::Reward::BoxedMath && !chat;  // base-model math prompts end in "\boxed{"
  return out;
}

void PlanEvaluator::begin_example() { cache_.clear(); }

PlanEvaluator::Outcome PlanEvaluator::evaluate(const SearchExample& example, const model::LayerPlan& plan,
                                              bool full_response) {
  model::GenerationOptions options = generation_;
  if (use_cache_)
    options.layer_cache_for_call = [&](const std::vector<TokenId>& generated) -> model::LayerResultCache* {
      cache_.begin_call(plan, generated);
      return &cache_;
    };
  bool settled = false;
  if (stop_once_settled_ && !full_response && example.reward == tasks::Reward::ArcLetter)
    options.stop_when = [&](const std::vector<TokenId>& generated) {
      return settled = !tasks::arc_reward_still_possible(text_so_far(generated), example.gold);
    };
  Outcome out = grade(example, model::generate_greedy(backbone_, example.prompt_ids, plan, options));
  out.settled_early = settled;
  return out;
}

// The decoded text of the tokens so far that more tokens can only extend.
std::string PlanEvaluator::text_so_far(const std::vector<TokenId>& generated) const {
  std::string text = tokenizer_.decode(generated, true);
  text.resize(text::complete_text_length(text));
  return text;
}

PlanEvaluator::Outcome PlanEvaluator::evaluate_routed(const SearchExample& example, const routing::RouterBank& routers,
                                                      const routing::RoutingOptions& routing, model::LayerPlan& chosen,
                                                      double& router_seconds) {
  routing::RoutedGeneration r = routing::generate_routed(backbone_, routers, example.prompt_ids, generation_, routing);
  chosen = r.plan;
  router_seconds += r.router_seconds;
  return grade(example, r.generation);
}

PlanEvaluator::Outcome PlanEvaluator::grade(const SearchExample& example, const model::Generation& g) {
  ++evaluations_;
  Outcome out;
  out.new_tokens = static_cast<int64_t>(g.tokens.size());
  out.layer_visits = g.layer_visits;
  out.response = text::python_strip(
      tokenizer_.decode(g.tokens, /*skip_special_tokens=*/true));
  out.reward = example.reward == tasks::Reward::ArcLetter
                   ? tasks::arc_reward(out.response, example.gold)
                   : tasks::math_reward(out.response, example.gold, example.prompt_opens_box);
  return out;
}

}  // namespace drllm::search
