// Dr.LLM's own setting for one model and task, as the search and the evaluation both use it: the task's prompt
// (or a user's template), the model's chat template for instruct models, the token budget, and an example turned
// into the token ids the model reads and the gold answer its reward grades.
#pragma once

#include <optional>
#include <string>

#include "data/tasks/prompts.h"
#include "data/tasks/task.h"
#include "data/text/chat_template.h"
#include "search/plan_evaluator.h"

namespace drllm::model {
class ModelFiles;
}

namespace drllm::search {

struct DrllmSettingOptions {
  std::string instruct = "auto";   // auto (from the model's name), yes or no
  std::string chat_template;       // by name; "" = the model's own
  std::string prompt_template;     // a template file instead of the task's Dr.LLM prompt; "" = the task's
  int64_t max_new_tokens = 0;      // 0: the task's budget for this kind of model
};

class DrllmSetting {
 public:
  // `task` must be a DrllmReward task (arc, math).
  DrllmSetting(const model::ModelFiles& files, const tasks::Task& task, const DrllmSettingOptions& options = {});

  SearchExample prepare(const tasks::Example& example, const text::Tokenizer& tokenizer) const;

  const tasks::Task& task() const { return *task_; }
  bool instruct() const { return instruct_; }
  const tasks::PromptTemplate& prompt() const { return prompt_; }
  const text::ChatTemplate* chat() const { return chat_ ? &*chat_ : nullptr; }
  GenerationBudget budget() const { return budget_; }

 private:
  const tasks::Task* task_;
  bool instruct_;
  std::optional<text::ChatTemplate> chat_;
  tasks::PromptTemplate prompt_;
  GenerationBudget budget_;
};

}  // namespace drllm::search
