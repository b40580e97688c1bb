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

nlohmann::json Evaluator::run(const tasks::Example& example, bool routed) { return run_batch({&example}, routed)[0]; }

std::vector<nlohmann::json> Evaluator::run_batch(const std::vector<const tasks::Example*>& examples, bool routed) {
  DRLLM_CHECK(!routed || routers_, "routed evaluation needs routers (load_routers)");
  routed_ = routed;
  used_plans_.assign(examples.size(), plan_);
  std::vector<nlohmann::json> records;
  switch (task_.scoring) {
    case tasks::Scoring::DrllmReward: records = drllm_reward(examples); break;
    case tasks::Scoring::FewShotGenerate: records = few_shot_generation(examples); break;
    case tasks::Scoring::MultipleChoice: records = multiple_choice(examples); break;
  }
  if (routed)
    for (size_t i = 0; i < records.size(); ++i) records[i]["plan"] = used_plans_[i].to_string();
  return records;
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

std::vector<model::Generation> Evaluator::generate(const std::vector<std::vector<TokenId>>& prompts,
                                                   const model::GenerationOptions& options) {
  std::vector<model::Generation> out;
  if (routed_) {
    std::vector<routing::RoutedGeneration> routed =
        routing::generate_routed_batched(backbone_, *routers_, prompts, options, setup_.routing, setup_.batch);
    for (size_t i = 0; i < routed.size(); ++i) {
      used_plans_[i] = routed[i].plan;
      router_seconds_ += routed[i].router_seconds;
      out.push_back(std::move(routed[i].generation));
    }
  } else {
    model::FixedPlan source(plan_);
    std::vector<model::GenerationRequest> requests;
    for (const auto& prompt : prompts) requests.push_back({prompt, &source, options, 0});
    out = model::generate_batched(backbone_, std::move(requests), setup_.batch);
  }
  for (const model::Generation& g : out) {
    generated_tokens_ += static_cast<int64_t>(g.tokens.size());
    forward_passes_ += static_cast<int64_t>(g.tokens.size());
    layer_visits_ += g.layer_visits;
  }
  return out;
}

std::string Evaluator::decode(const model::Generation& g) const {
  return tokenizer_.decode(g.tokens, /*skip_special=*/true);
}

// Dr.LLM's own rewards: greedy, at least 2 new tokens, decoded without specials, stripped; graded exactly as the
// search grades a plan (the evaluator has no shortcuts, so its requests carry no per-example state).
std::vector<nlohmann::json> Evaluator::drllm_reward(const std::vector<const tasks::Example*>& examples) {
  std::vector<search::SearchExample> prepared;
  std::vector<search::PlanEvaluator::InFlight> in_flight(examples.size());
  std::vector<std::vector<TokenId>> prompts;
  model::GenerationOptions options;
  for (size_t i = 0; i < examples.size(); ++i) {
    prepared.push_back(drllm_->prepare(*examples[i], tokenizer_));
    in_flight[i].plan = plan_;
    options = reward_evaluator_->request(prepared[i], /*full_response=*/true, in_flight[i], nullptr).options;
    prompts.push_back(prepared[i].prompt_ids);
  }
  std::vector<model::Generation> generations = generate(prompts, options);
  std::vector<nlohmann::json> records;
  for (size_t i = 0; i < examples.size(); ++i) {
    search::PlanEvaluator::Outcome r = reward_evaluator_->grade(prepared[i], generations[i], in_flight[i]);
    records.push_back({{"id", examples[i]->id}, {"response", r.response}, {"gold", examples[i]->answer},
                       {"correct", r.reward > 0.5}});
  }
  return records;
}

// The harness' stop strings end the generation and cut the text.
std::vector<nlohmann::json> Evaluator::few_shot_generation(const std::vector<const tasks::Example*>& examples) {
  model::GenerationOptions g;
  g.max_new_tokens = task_.max_new_tokens(instruct_, setup_.model_input.max_new_tokens);
  g.min_new_tokens = 0;
  g.stop_tokens = backbone_.config().eos_token_ids;
  const std::vector<std::string>& stop_strings = task_.stop_strings;
  if (!stop_strings.empty())
    g.stop_when = [this, &stop_strings](const std::vector<TokenId>& generated) {
      std::string text = tokenizer_.decode(generated, true);
      for (const std::string& s : stop_strings)
        if (text.find(s) != std::string::npos) return true;
      return false;
    };
  std::vector<std::vector<TokenId>> prompts;
  for (const tasks::Example* ex : examples)
    prompts.push_back(tokenizer_.encode(shots_ + task_.query(*ex), /*add_special_tokens=*/false));
  std::vector<model::Generation> generations = generate(prompts, g);
  std::vector<nlohmann::json> records;
  for (size_t i = 0; i < examples.size(); ++i) {
    std::string response = tasks::cut_at_stop_strings(decode(generations[i]), stop_strings);
    tasks::GenerationGrade grade = task_.grade(response, *examples[i]);
    records.push_back({{"id", examples[i]->id}, {"response", grade.response}, {"gold", examples[i]->answer},
                       {"correct", grade.correct}, {"flexible", grade.flexible}});
  }
  return records;
}

// Every choice of every question scored in batches; routed, one plan per question, from a routing prefill of its
// context (scoring does not generate).
std::vector<nlohmann::json> Evaluator::multiple_choice(const std::vector<const tasks::Example*>& examples) {
  std::vector<tasks::ChoiceRequest> questions;
  std::vector<model::ContinuationRequest> requests;
  for (size_t i = 0; i < examples.size(); ++i) {
    questions.push_back(task_.request(*examples[i]));
    const tasks::ChoiceRequest& q = questions.back();
    if (routed_) {
      tasks::LoglikelihoodRequest r = tasks::encode_pair(tokenizer_, q.context, " " + q.choices.front(), false);
      used_plans_[i] = routing::route_prompt(backbone_, *routers_, r.context, setup_.routing, model::RepeatKv::Shared,
                                             &router_seconds_);
    }
    for (const std::string& choice : q.choices) {
      tasks::LoglikelihoodRequest r = tasks::encode_pair(tokenizer_, q.context, " " + choice, false);
      requests.push_back({r.context, r.continuation, &used_plans_[i]});
      ++forward_passes_;
      layer_visits_ += used_plans_[i].executed();
    }
  }
  std::vector<model::ContinuationScore> scores =
      model::score_continuations(backbone_, requests, setup_.batch.max_batch);
  std::vector<nlohmann::json> records;
  size_t next_score = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    const tasks::ChoiceRequest& request = questions[i];
    std::vector<double> lls;
    for (size_t c = 0; c < request.choices.size(); ++c) lls.push_back(scores[next_score++].log_likelihood);
    nlohmann::json record = {{"id", examples[i]->id}, {"log_likelihoods", lls}};
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
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace drllm::eval
