#include "search/drllm_setting.h"

#include "common/error.h"
#include "model/model_files.h"

namespace drllm::search {
namespace {

tasks::PromptTemplate prompt_for(const tasks::Task& task, bool instruct, const std::string& file) {
  if (file.empty()) return tasks::PromptTemplate::drllm(task.drllm_prompt, instruct);
  return tasks::PromptTemplate::from_file(file, instruct ? tasks::ChoiceStyle::Dotted : tasks::ChoiceStyle::Parenthesised);
}

}  // namespace

DrllmSetting::DrllmSetting(const model::ModelFiles& files, const tasks::Task& task, const DrllmSettingOptions& o)
    : task_(&task),
      instruct_(tasks::resolve_instruct(o.instruct, files.path())),
      prompt_(prompt_for(task, instruct_, o.prompt_template)) {
  DRLLM_CHECK(task.scoring == tasks::Scoring::DrllmReward, "task '", task.name,
              "' is not scored in Dr.LLM's setting (a 0/1 reward on a greedy answer)");
  if (instruct_) chat_ = files.chat_template(o.chat_template);
  budget_.max_new_tokens = task.max_new_tokens(instruct_, o.max_new_tokens);
}

SearchExample DrllmSetting::prepare(const tasks::Example& example, const text::Tokenizer& tokenizer) const {
  return prepare_example(example, prompt_, chat(), tokenizer, task_->reward);
}

}  // namespace drllm::search
