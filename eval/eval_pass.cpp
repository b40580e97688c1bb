#include "eval/eval_pass.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "common/console.h"
#include "common/error.h"
#include "common/strings.h"

namespace drllm::eval {
namespace {

using Clock = std::chrono::steady_clock;

// What accuracy counts for one record: its score where the task's score is not 0/1 (TruthfulQA mc2), else correct.
double record_score(const nlohmann::json& r) {
  return r.contains("score") ? r["score"].get<double>() : static_cast<double>(r["correct"].get<bool>());
}

std::string dump_line(const nlohmann::json& record) {
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

EvalPass run_eval_pass(Evaluator& evaluator, const std::vector<tasks::Example>& examples,
                       const dist::Runtime& runtime, bool routed, const std::string& label) {
  const size_t n = examples.size(), rank = static_cast<size_t>(runtime.rank());
  const size_t ranks = static_cast<size_t>(runtime.size());
  EvalPass pass;
  evaluator.reset_counts();
  auto t0 = Clock::now();
  double score = 0;
  size_t done = 0;
  std::string mine;
  std::vector<size_t> indices;  // this rank's examples
  for (size_t i = rank; i < n; i += ranks) indices.push_back(i);
  // A few batches at a time: the batch stays full within a group, and progress is reported after each.
  const size_t group = static_cast<size_t>(std::max<int64_t>(1, 4 * evaluator.setup().batch.max_batch));
  // Rank 0 shows the job's progress from its own share (the examples are dealt out evenly, rank by rank).
  std::string name = label;
  while (!name.empty() && name.back() == ' ') name.pop_back();
  Progress progress(name.empty() ? "eval" : "eval " + name, static_cast<int64_t>(n), "examples", runtime.is_root(),
                    std::cerr);
  for (size_t begin = 0; begin < indices.size(); begin += group) {
    const size_t end = std::min(indices.size(), begin + group);
    std::vector<const tasks::Example*> batch;
    for (size_t j = begin; j < end; ++j) batch.push_back(&examples[indices[j]]);
    std::vector<nlohmann::json> records = evaluator.run_batch(batch, routed);
    for (size_t j = begin; j < end; ++j) {
      nlohmann::json& record = records[j - begin];
      record["index"] = indices[j];
      score += record_score(record);
      mine += dump_line(record);
    }
    done = end;
    progress.update(static_cast<int64_t>(std::min(n, done * ranks)), cat("accuracy ", score / done));
  }
  const double seconds = runtime.max(std::chrono::duration<double>(Clock::now() - t0).count());
  const double visits = static_cast<double>(runtime.sum(evaluator.layer_visits()));
  const double passes = static_cast<double>(runtime.sum(evaluator.forward_passes()));
  const double tokens = static_cast<double>(runtime.sum(evaluator.generated_tokens()));
  const double routing_seconds = runtime.sum(evaluator.router_seconds());
  std::vector<std::string> parts = runtime.gather_to_root(mine);
  if (!runtime.is_root()) return pass;


  std::vector<nlohmann::json> records;
  for (const std::string& part : parts)
    for (const std::string& line : split_string(part, "\n"))
      if (!line.empty()) records.push_back(nlohmann::json::parse(line));
  std::sort(records.begin(), records.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["index"].get<size_t>() < b["index"].get<size_t>();
  });
  double right = 0, flexible = 0, acc_norm = 0;
  for (const nlohmann::json& r : records) {
    right += record_score(r);
    flexible += r.value("flexible", false);
    acc_norm += r.value("acc_norm", false);
    if (routed) pass.plans.push_back(model::LayerPlan::parse(r["plan"].get<std::string>()));
    pass.records += dump_line(r);
  }
  const double count = static_cast<double>(n);
  pass.summary = {{"accuracy", right / count},
                  {"layers_per_example", visits / count},
                  {"layers_per_pass", passes > 0 ? visits / passes : 0.0},
                  {"seconds", seconds},
                  {"tokens_per_second", seconds > 0 ? tokens / seconds : 0.0}};
  const tasks::Task& task = *evaluator.setup().task;
  if (task.scoring == tasks::Scoring::FewShotGenerate) pass.summary["flexible_extract"] = flexible / count;
  if (task.scoring == tasks::Scoring::MultipleChoice && task.metric == tasks::ChoiceMetric::AccAndNorm)
    pass.summary["acc_norm"] = acc_norm / count;
  if (routed) pass.summary["router_seconds"] = routing_seconds;  // the routers' own time
  progress.finish(static_cast<int64_t>(n), cat("accuracy ", right / count));
  return pass;
}

}  // namespace drllm::eval
