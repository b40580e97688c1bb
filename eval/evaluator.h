// Evaluator: one example of a task scored the way the task says (data/tasks/task.h): Dr.LLM's reward on a greedy
// answer (graded exactly as the search grades a plan), lm-eval's few-shot generation, or lm-eval's log-likelihood
// multiple choice. Along a fixed layer plan, or with routers choosing each example's plan at its prefill.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/tasks/dataset.h"
#include "data/tasks/prompts.h"
#include "data/tasks/task.h"
#include "data/text/chat_template.h"
#include "data/text/tokenizer.h"
#include "model/backbone.h"
#include "model/batch_generation.h"
#include "model/generate.h"
#include "model/model_files.h"
#include "routing/routed_generation.h"
#include "search/drllm_setting.h"
#include "search/plan_evaluator.h"

namespace drllm::eval {

struct EvalSetup {
  const model::ModelFiles* files = nullptr;  // the model, opened once; must outlive the evaluator
  const tasks::Task* task = nullptr;
  // instruct or base model, chat template, prompt template (Dr.LLM's setting), and the token budget override
  search::DrllmSettingOptions model_input;
  std::string plan;               // layer plan ("" = every layer once)
  model::LoadOptions backbone;    // device and compute dtype
  routing::RoutingOptions routing;
  model::BatchOptions batch;      // examples generated or scored at once
};

class Evaluator {
 public:
  explicit Evaluator(EvalSetup setup);

  // Scores one example; returns its record ("correct" is what accuracy counts, or "score" where the task's
  // score is not 0/1). With `routed`, the routers choose the example's plan from its prompt.
  nlohmann::json run(const tasks::Example& example, bool routed = false);
  // The same for several examples at once: generations in one continuous batch, the choices of every question
  // scored in batches (setup.batch); records in the examples' order, each what run() gives.
  std::vector<nlohmann::json> run_batch(const std::vector<const tasks::Example*>& examples, bool routed = false);

  // Few-shot tasks: the shots, from the first rows of a train file.
  void load_shots(const std::string& path);
  void load_routers(const std::string& path);
  bool has_routers() const { return routers_.has_value(); }

  void reset_counts() { generated_tokens_ = layer_visits_ = forward_passes_ = 0; router_seconds_ = 0; }
  int64_t forward_passes() const { return forward_passes_; }
  double router_seconds() const { return router_seconds_; }
  int64_t generated_tokens() const { return generated_tokens_; }
  int64_t layer_visits() const { return layer_visits_; }
  const EvalSetup& setup() const { return setup_; }
  bool instruct() const { return instruct_; }
  const model::LayerPlan& plan() const { return plan_; }
  at::ScalarType dtype() const { return backbone_.dtype(); }
  model::Backbone& backbone() { return backbone_; }

 private:
  std::vector<nlohmann::json> drllm_reward(const std::vector<const tasks::Example*>& examples);
  std::vector<nlohmann::json> few_shot_generation(const std::vector<const tasks::Example*>& examples);
  std::vector<nlohmann::json> multiple_choice(const std::vector<const tasks::Example*>& examples);
  // Greedy generations of the prompts, batched, along the plan or routed (used_plans_ receives the plans).
  std::vector<model::Generation> generate(const std::vector<std::vector<TokenId>>& prompts,
                                          const model::GenerationOptions& options);
  std::string decode(const model::Generation& g) const;

  EvalSetup setup_;
  const tasks::Task& task_;
  model::Backbone backbone_;
  text::Tokenizer tokenizer_;
  model::LayerPlan plan_;
  bool instruct_;
  std::optional<search::DrllmSetting> drllm_;               // Dr.LLM's setting
  std::optional<search::PlanEvaluator> reward_evaluator_;   // Dr.LLM's setting
  std::string shots_;
  int64_t generated_tokens_ = 0, layer_visits_ = 0, forward_passes_ = 0;
  double router_seconds_ = 0;
  bool routed_ = false;
  std::optional<routing::RouterBank> routers_;
  std::vector<model::LayerPlan> used_plans_;  // per example of the batch: the plan it ran (routed: the routers')
};

}  // namespace drllm::eval
