// A Task: everything drllm needs to know about one benchmark, as one record (what an lm-evaluation-harness task
// YAML says): its data format, how the model is asked, how long it may answer, where its answer ends, and how the
// answer is scored. Commands look tasks up by name (`--task`); adding a benchmark is one record in task.cpp and
// its test. Three kinds of scoring exist:
//   DrllmReward      Dr.LLM's own setting (search and evaluation alike): its prompt, in the chat template for
//                    instruct models, greedy answer of a few tokens, graded 0/1 by the task's reward.
//   FewShotGenerate  lm-eval's generate_until: a few-shot context, greedy until a stop string, exact match.
//   MultipleChoice   lm-eval's multiple_choice: the log-likelihood of each choice after the context.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/tasks/dataset.h"

namespace drllm::tasks {

enum class Scoring { DrllmReward, FewShotGenerate, MultipleChoice };

// The graders of Dr.LLM's setting.
enum class Reward { ArcLetter, BoxedMath };

// How a multiple-choice question's log-likelihoods become its score.
enum class ChoiceMetric {
  AccAndNorm,  // acc (argmax = gold) and acc_norm (argmax of ll / characters = gold)
  Mc1,         // acc: the single true answer has the highest log-likelihood
  Mc2,         // the probability mass of the true answers
};

// One multiple-choice question as lm-eval scores it: the context, the choices (each continuation is " " + choice),
// and what is right: `gold` (AccAndNorm, Mc1) or `labels` (Mc2: 1 for a true answer).
struct ChoiceRequest {
  std::string context;
  std::vector<std::string> choices;
  int gold = -1;
  std::vector<int> labels;
};

// A generated answer graded by a FewShotGenerate task: `correct` is what accuracy counts; `flexible` the second
// filter's verdict where the task has one (GSM8K's flexible-extract).
struct GenerationGrade {
  std::string response;  // the text after cutting at the stop strings
  bool correct = false;
  bool flexible = false;
};

struct Task {
  std::string name;     // what --task takes
  std::string summary;  // one line for --help and error messages
  DatasetFormat format = DatasetFormat::Generic;  // the data format when --format is not given
  Scoring scoring = Scoring::DrllmReward;

  // DrllmReward: the reward, the key of the Dr.LLM prompt (tasks::PromptTemplate::drllm) and the token budget for
  // instruct and base models (the released code: 10 and 2 for ARC letters, 15 for math).
  Reward reward = Reward::ArcLetter;
  std::string drllm_prompt;
  int64_t max_new_tokens_instruct = 0, max_new_tokens_base = 0;

  // FewShotGenerate: shots taken from the first rows of a train file, each `shot(example)`, then `query(example)`;
  // greedy up to max_new_tokens_base tokens, ended and cut at the stop strings, then graded.
  int num_fewshot = 0;
  std::vector<std::string> stop_strings;
  std::string (*shot)(const Example&) = nullptr;
  std::string (*query)(const Example&) = nullptr;
  GenerationGrade (*grade)(const std::string& response, const Example&) = nullptr;

  // MultipleChoice.
  ChoiceRequest (*request)(const Example&) = nullptr;
  ChoiceMetric metric = ChoiceMetric::AccAndNorm;

  // The generation budget: `override_tokens` when positive, else the task's for this kind of model.
  int64_t max_new_tokens(bool instruct, int64_t override_tokens = 0) const;
  // Whether `drllm search` can label it (a 0/1 reward on a greedy answer).
  bool searchable() const { return scoring == Scoring::DrllmReward; }
};

// The task called `name`; the error lists the known ones (only the searchable ones with `searchable_only`).
const Task& find_task(const std::string& name, bool searchable_only = false);
const std::vector<Task>& all_tasks();
std::vector<std::string> task_names(bool searchable_only = false);

// Dr.LLM's instruct test: `option` is "yes", "no" or "auto" (from the model's file or folder name: "instruct" in it,
// or "qwen3" without "base").
bool resolve_instruct(const std::string& option, const std::string& model_path);

}  // namespace drllm::tasks
