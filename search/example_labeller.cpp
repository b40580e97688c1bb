#include "search/example_labeller.h"

#include <map>
#include <nlohmann/json.hpp>

#include "data/text/chat_template.h"
#include "data/tasks/dataset.h"
#include "data/tasks/prompts.h"
#include "routing/router_inputs.h"

namespace drllm::search {

std::string search_config_json(const LabellerSetup& s, const std::string& prompt_name, bool instruct,
                               const std::string& chat_template_name) {
  nlohmann::json config = {
      {"task", s.task->name},
      {"policy", s.mcts.policy == SearchPolicy::Tree ? "tree" : "chain"},
      {"simulations", s.mcts.simulations},
      {"exploration", s.mcts.exploration},
      {"length_penalty", s.mcts.length_penalty},
      {"random_prob", s.mcts.random_prob},
      {"early_stop", s.mcts.early_stop},
      {"seed", s.mcts.seed},
      {"max_new_tokens", s.budget.max_new_tokens},
      {"min_new_tokens", s.budget.min_new_tokens},
      {"repeat_kv", s.repeat_kv == model::RepeatKv::Shared ? "shared" : "separate"},
      {"prompt", prompt_name},
      {"instruct", instruct},
      {"chat_template", chat_template_name},
      {"dtype", s.compute_dtype},
  };
  return config.dump();
}

ExampleLabeller::ExampleLabeller(model::Backbone& backbone, const text::Tokenizer& tokenizer,
                                 const tasks::PromptTemplate& prompt, const text::ChatTemplate* chat,
                                 LabellerSetup setup)
    : backbone_(backbone),
      tokenizer_(tokenizer),
      prompt_(prompt),
      chat_(chat),
      setup_(setup),
      evaluator_(backbone, tokenizer, setup.budget, setup.repeat_kv, setup.shortcuts) {}

SearchExample ExampleLabeller::prepare(const tasks::Example& ex) const {
  return prepare_example(ex, prompt_, chat_, tokenizer_, setup_.task->reward);
}

bool ExampleLabeller::full_response(const model::LayerPlan& plan) const {
  return plan == model::LayerPlan::all_execute(backbone_.config().num_layers);
}

labels::LabelRow ExampleLabeller::label(const tasks::Example& ex, uint32_t example_index) {
  SearchExample example = prepare(ex);
  evaluator_.begin_example();
  Responses responses;
  auto reward = [&](const model::LayerPlan& plan) {
    PlanEvaluator::Outcome outcome = evaluator_.evaluate(example, plan, full_response(plan));
    responses[plan.counts()] = outcome.response;
    return outcome.reward;
  };
  SearchResult r = run_mcts(backbone_.config().num_layers, reward, setup_.mcts, ex.id);
  return row(ex, example_index, example, r, responses);
}

labels::LabelRow ExampleLabeller::row(const tasks::Example& ex, uint32_t example_index, const SearchExample& example,
                                      const SearchResult& r, Responses& responses) {
  labels::LabelRow row;
  row.item_id = ex.id;
  row.example_index = example_index;
  row.labels = r.best_plan.counts();
  for (int64_t layer : r.best_plan.to_path()) row.best_path.push_back(static_cast<int16_t>(layer));
  row.baseline_correct = r.default_correct;
  row.best_correct = r.best_correct;
  row.improved = r.improved();
  row.num_evaluations = static_cast<uint32_t>(r.evaluations);
  row.prompt_tokens.assign(example.prompt_ids.begin(), example.prompt_ids.end());
  row.question = prompt_.render(ex);
  row.gold = ex.answer;
  row.best_response = responses[r.best_plan.counts()];
  row.default_response = responses[r.default_plan.counts()];
  nlohmann::json good = nlohmann::json::array();
  for (const model::LayerPlan& p : r.correct_plans) good.push_back(p.to_path());
  row.good_paths = good.dump();
  if (setup_.save_features) {
    at::Tensor inputs = routing::router_inputs_along_plan(backbone_, example.prompt_ids, r.best_plan,
                                                        setup_.repeat_kv);  // [L, W_eff, D]
    row.feature_windows = static_cast<uint8_t>(inputs.size(1));
    row.features = routing::float16_bits(routing::stored_router_inputs(inputs));
  }
  return row;
}

}  // namespace drllm::search
