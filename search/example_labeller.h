// ExampleLabeller: one example from data file to label row: the MCTS search (search/mcts.h) with the plan
// evaluator (search/plan_evaluator.h), the best plan as per-layer labels, and optionally the router inputs along
// the best plan (model/router_inputs.h) as float16, so routers can train without the backbone.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/labels/label_store.h"
#include "search/mcts.h"
#include "search/plan_evaluator.h"

namespace drllm::text {
class ChatTemplate;
}
namespace drllm::tasks {
class PromptTemplate;
}

namespace drllm::search {

struct LabellerSetup {
  MctsOptions mcts;
  GenerationBudget budget;
  model::RepeatKv repeat_kv = model::RepeatKv::Shared;
  // The backbone's compute dtype, recorded: a search in bf16 and one in fp32 are different configurations.
  std::string compute_dtype = "float32";
  const tasks::Task* task = nullptr;  // a searchable task: its reward grades every plan
  bool save_features = false;
  EvaluatorShortcuts shortcuts;    // change speed, never results
};

// Everything of the setup that changes a search's result, as JSON text (the shards' `search_config`).
std::string search_config_json(const LabellerSetup& setup, const std::string& prompt_name, bool instruct,
                               const std::string& chat_template_name);

class ExampleLabeller {
 public:
  ExampleLabeller(model::Backbone& backbone, const text::Tokenizer& tokenizer, const tasks::PromptTemplate& prompt,
                  const text::ChatTemplate* chat, LabellerSetup setup);

  labels::LabelRow label(const tasks::Example& example, uint32_t example_index);

  // The parts of label(), for a search that drives many examples at once (search/batched_search.h).
  // The responses generated so far, by plan: the default's and the best's go into the row.
  using Responses = std::map<std::vector<uint8_t>, std::string>;
  SearchExample prepare(const tasks::Example& example) const;
  // The reward of one evaluation, its response kept. The default plan's response is stored, so it is generated in
  // full; the best plan's is whole anyway (a rewarded generation never settles early), unless the best is the
  // default.
  bool full_response(const model::LayerPlan& plan) const;
  labels::LabelRow row(const tasks::Example& example, uint32_t example_index, const SearchExample& prepared,
                       const SearchResult& result, Responses& responses);
  PlanEvaluator& evaluator() { return evaluator_; }
  const LabellerSetup& setup() const { return setup_; }

  // Layer visits computed so far (fewer than planned when the prefix cache shares work).
  int64_t layer_forwards() const { return evaluator_.layer_forwards(); }

 private:
  model::Backbone& backbone_;
  const text::Tokenizer& tokenizer_;
  const tasks::PromptTemplate& prompt_;
  const text::ChatTemplate* chat_;
  LabellerSetup setup_;
  PlanEvaluator evaluator_;
};

}  // namespace drllm::search
