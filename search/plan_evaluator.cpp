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
      cache_bytes_(shortcuts.prefix_cache_bytes),
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
  InFlight in_flight{plan, nullptr, false};
  model::GenerationRequest r = request(example, full_response, in_flight, &cache_);
  return grade(example, model::generate_greedy(backbone_, r.prompt, *r.source, r.options), in_flight);
}

model::GenerationRequest PlanEvaluator::request(const SearchExample& example, bool full_response, InFlight& in_flight,
                                                PrefixStateCache* cache) {
  in_flight.source = std::make_unique<model::FixedPlan>(in_flight.plan);
  in_flight.settled = false;
  model::GenerationRequest r;
  r.prompt = example.prompt_ids;
  r.source = in_flight.source.get();
  r.options = generation_;
  if (use_cache_ && cache)
    r.options.layer_cache_for_call = [cache, &in_flight](const std::vector<TokenId>& generated)
        -> model::LayerResultCache* {
      cache->begin_call(in_flight.plan, generated);
      return cache;
    };
  if (stop_once_settled_ && !full_response && example.reward == tasks::Reward::ArcLetter)
    r.options.stop_when = [this, &example, &in_flight](const std::vector<TokenId>& generated) {
      return in_flight.settled = !tasks::arc_reward_still_possible(text_so_far(generated), example.gold);
    };
  return r;
}

PlanEvaluator::Outcome PlanEvaluator::grade(const SearchExample& example, const model::Generation& generation,
                                            const InFlight& in_flight) {
  Outcome out = grade(example, generation);
  out.settled_early = in_flight.settled;
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
