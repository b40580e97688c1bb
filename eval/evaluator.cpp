#include "eval/evaluator.h"

#include "common/error.h"
#include "data/tasks/grading.h"
#include "data/tasks/lm_eval.h"
#include "model/fingerprint.h"
#include "model/loglikelihood.h"

namespace drllm::eval {

Evaluator::Evaluator(EvalSetup setup)
    : setup_(std::move(setup)),
      task_(*setup_.task),
      backbone_(model::Backbone::load(*setup_.files, setup_.backbone)),
      tokenizer_(setup_.files->tokenizer()),
      plan_(setup_.plan.empty() ? model::LayerPlan::all_execute(backbone_.config().num_layers)
                                : model::LayerPlan::parse(setup_.plan)),
      instruct_(tasks::resolve_instruct(setup_.model_input.instruct, setup_.files->path())) {
  plan_.check_length(backbone_.config().num_layers);
  if (task_.scoring == tasks::Scoring::DrllmReward) {
    // Dr.LLM's own setting: its prompts and rewards, evaluated exactly as the search evaluates a plan.
    drllm_.emplace(*setup_.files, task_, setup_.model_input);
    reward_evaluator_.emplace(backbone_, tokenizer_, drllm_->budget());
  }
}

nlohmann::json Evaluator::run(const tasks::Example& ex, bool routed) {
  DRLLM_CHECK(!routed || routers_, "routed evaluation needs routers (load_routers)");
  routed_ = routed;
  nlohmann::json record;
  switch (task_.scoring) {
    case tasks::Scoring::DrllmReward: record = drllm_reward(ex); break;
    case tasks::Scoring::FewShotGenerate: record = few_shot_generation(ex); break;
    case tasks::Scoring::MultipleChoice: record = multiple_choice(ex); break;
  }
  if (routed) record["plan"] = used_plan_.to_string();
  return record;
}

void Evaluator::load_routers(const std::string& path) {
  routers_ = routing::load_routers_for(path, backbone_, setup_.files->fingerprint());
}

// lm-eval samples the shots with Python's random.Random(1234); bit parity would need Python's MT19937 sampling,
// so drllm takes the first rows of the train file.
void Evaluator::load_shots(const std::string& path) {
  tasks::ReadOptions r;
  r.format = task_.format;
  r.limit = static_cast<size_t>(task_.num_fewshot);
  for (const tasks::Example& shot : tasks::read_dataset(path, r).examples) shots_ += task_.shot(shot);
}

model::Generation Evaluator::generate(const std::string& text, int64_t max_new,
                                      const std::vector<std::string>& stop_strings) {
  const std::vector<TokenId> prompt = tokenizer_.encode(text, /*add_special_tokens=*/false);
  model::GenerationOptions g;
  g.max_new_tokens = max_new;
  g.min_new_tokens = 0;
  g.stop_tokens = backbone_.config().eos_token_ids;
  if (!stop_strings.empty())
    g.stop_when = [&](const std::vector<TokenId>& generated) {
      std::string text = tokenizer_.decode(generated, true);
      for (const std::string& s : stop_strings)
        if (text.find(s) != std::string::npos) return true;
      return false;
    };
  model::Generation out;
  if (routed_) {
    routing::RoutedGeneration r = routing::generate_routed(backbone_, *routers_, prompt, g, setup_.routing);
    out = std::move(r.generation);
    used_plan_ = r.plan;
    router_seconds_ += r.router_seconds;
  } else {
    out = model::generate_greedy(backbone_, prompt, plan_, g);
  }
  generated_tokens_ += static_cast<int64_t>(out.tokens.size());
  forward_passes_ += static_cast<int64_t>(out.tokens.size());
  layer_visits_ += out.layer_visits;
  return out;
}

std::string Evaluator::decode(const model::Generation& g) const {
  return tokenizer_.decode(g.tokens, /*skip_special=*/true);
}

// Dr.LLM's own rewards: greedy, at least 2 new tokens, decoded without specials, stripped.
nlohmann::json Evaluator::drllm_reward(const tasks::Example& ex) {
  search::SearchExample example = drllm_->prepare(ex, tokenizer_);
  search::PlanEvaluator::Outcome r =
      routed_ ? reward_evaluator_->evaluate_routed(example, *routers_, setup_.routing, used_plan_, router_seconds_)
              : reward_evaluator_->evaluate(example, plan_);
  generated_tokens_ += r.new_tokens;
  forward_passes_ += r.new_tokens;
  layer_visits_ += r.layer_visits;
  return {{"id", ex.id}, {"response", r.response}, {"gold", ex.answer}, {"correct", r.reward > 0.5}};
}

// The harness' stop strings end the generation and cut the text.
nlohmann::json Evaluator::few_shot_generation(const tasks::Example& ex) {
  const std::string text = shots_ + task_.query(ex);
  const int64_t max_new = task_.max_new_tokens(instruct_, setup_.model_input.max_new_tokens);
  std::string response = tasks::cut_at_stop_strings(decode(generate(text, max_new, task_.stop_strings)),
                                                    task_.stop_strings);
  tasks::GenerationGrade g = task_.grade(response, ex);
  return {{"id", ex.id}, {"response", g.response}, {"gold", ex.answer}, {"correct", g.correct},
          {"flexible", g.flexible}};
}

nlohmann::json Evaluator::multiple_choice(const tasks::Example& ex) {
  const tasks::ChoiceRequest request = task_.request(ex);
  std::vector<double> lls;
  const model::LayerPlan* plan = &plan_;
  if (routed_) {  // one plan per question, from a routing prefill of its context (scoring does not generate)
    tasks::LoglikelihoodRequest r = tasks::encode_pair(tokenizer_, request.context, " " + request.choices.front(), false);
    used_plan_ = routing::route_prompt(backbone_, *routers_, r.context,
                                       setup_.routing, model::RepeatKv::Shared, &router_seconds_);
    plan = &used_plan_;
  }
  for (const std::string& choice : request.choices) {
    tasks::LoglikelihoodRequest r = tasks::encode_pair(tokenizer_, request.context, " " + choice, false);
    ++forward_passes_;
    lls.push_back(model::score_continuation(backbone_, r.context,
                                            r.continuation, *plan)
                      .log_likelihood);
    layer_visits_ += plan->executed();
  }
  nlohmann::json record = {{"id", ex.id}, {"log_likelihoods", lls}};
  tasks::MultipleChoiceScore s = tasks::score_multiple_choice(lls, request.choices, request.gold);
  switch (task_.metric) {
    case tasks::ChoiceMetric::AccAndNorm:
      record.update({{"gold", request.gold}, {"correct", s.acc}, {"acc_norm", s.acc_norm}});
      break;
    case tasks::ChoiceMetric::Mc1:  // raw log-likelihoods, the true answer is choice 0
      record.update({{"gold", request.gold}, {"correct", s.acc}});
      break;
    case tasks::ChoiceMetric::Mc2: {
      double mc2 = tasks::truthfulqa_mc2(lls, request.labels);
      record.update({{"labels", request.labels}, {"score", mc2}, {"correct", mc2 > 0.5}});
      break;
    }
  }
  return record;
}

}  // namespace drllm::eval
