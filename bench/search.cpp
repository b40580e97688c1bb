// bench_search [--limit N] [--simulations S] [--model M] [--data FILE] [--batches 1,4,8,16] [--shortcuts yes|no]:
// the MCTS search on N ARC-Challenge train questions, in the same run:
//   1. (--shortcuts yes) by the evaluator without shortcuts (every plan generated in full from scratch, as the
//      released code does: the reference), with the prefix-state cache, with the stop once the reward is settled,
//      and with both: wall time, layer visits computed per evaluation, evaluations per second, ratios;
//   2. with both shortcuts, searching B examples at once for each B of --batches (search/batched_search.h):
//      evaluations per second and the ratio to B = 1, with the mean batch the forward calls ran.
// Every search's results must be identical.
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "bench/arc_workload.h"
#include "model/backbone.h"
#include "search/batched_search.h"
#include "search/mcts.h"
#include "search/plan_evaluator.h"

using namespace drllm;

struct Run {
  double seconds = 0;
  int64_t evaluations = 0, layer_forwards = 0;
  std::string results;  // best plans, default rewards, evaluations: to check that the runs agree
};

static Run run(model::Backbone& backbone, const text::Tokenizer& tokenizer, const std::vector<search::SearchExample>& examples,
               const search::MctsOptions& mcts, search::EvaluatorShortcuts shortcuts) {
  search::PlanEvaluator evaluator(backbone, tokenizer, {10, 2}, model::RepeatKv::Shared, shortcuts);
  Run r;
  auto t0 = std::chrono::steady_clock::now();
  for (const search::SearchExample& ex : examples) {
    evaluator.begin_example();
    search::SearchResult s = search::run_mcts(
        backbone.config().num_layers, [&](const model::LayerPlan& p) { return evaluator.evaluate(ex, p).reward; }, mcts,
        ex.id);
    r.results += s.best_plan.to_string() + " " + std::to_string(s.default_correct) + " " +
                 std::to_string(s.evaluations) + " " + std::to_string(s.correct_plans.size()) + ";";
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.evaluations = evaluator.evaluations();
  r.layer_forwards = evaluator.layer_forwards();
  return r;
}

// The same searches, `batch` examples at once.
static Run run_batched(model::Backbone& backbone, const text::Tokenizer& tokenizer,
                       const std::vector<search::SearchExample>& examples, const search::MctsOptions& mcts,
                       search::EvaluatorShortcuts shortcuts, int64_t batch, double& mean_batch) {
  search::PlanEvaluator evaluator(backbone, tokenizer, {10, 2}, model::RepeatKv::Shared, shortcuts);
  model::BatchOptions options;
  options.max_batch = batch;
  search::BatchedSearch searches(evaluator, backbone.config().num_layers, mcts, options, false);
  std::vector<std::string> results(examples.size());
  size_t taken = 0;
  auto t0 = std::chrono::steady_clock::now();
  model::BatchRunStats stats = searches.run(
      [&]() -> std::optional<std::pair<search::SearchExample, uint64_t>> {
        if (taken == examples.size()) return std::nullopt;
        const size_t i = taken++;
        return std::make_pair(examples[i], uint64_t{i});
      },
      [&](uint64_t i, const search::SearchExample&, const search::SearchResult& s, auto&) {
        results[i] = s.best_plan.to_string() + " " + std::to_string(s.default_correct) + " " +
                     std::to_string(s.evaluations) + " " + std::to_string(s.correct_plans.size()) + ";";
      });
  Run r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const std::string& x : results) r.results += x;
  r.evaluations = evaluator.evaluations();
  r.layer_forwards = evaluator.layer_forwards();
  mean_batch = double(stats.sequence_steps) / double(std::max<int64_t>(stats.forward_calls, 1));
  return r;
}

int main(int argc, char** argv) {
  std::string model_path = std::string("smollm2-135m-instruct");
  std::string data_path = std::string(DRLLM_DATASETS_DIR) + "/arc_challenge_train.jsonl";
  size_t limit = 20;
  search::MctsOptions mcts;
  std::vector<int64_t> batches = {1, 4, 8, 16};
  bool shortcuts_table = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--limit") limit = std::stoul(value);
    else if (flag == "--simulations") mcts.simulations = std::stoi(value);
    else if (flag == "--model") model_path = value;
    else if (flag == "--data") data_path = value;
    else if (flag == "--shortcuts") shortcuts_table = value == "yes";
    else if (flag == "--batches") batches = bench::parse_list(value);
    else {
      std::cerr << "usage: bench_search [--limit N] [--simulations S] [--model M] [--data FILE] [--batches 1,4,8,16] "
                   "[--shortcuts yes|no]\n";
      return 2;
    }
  }
  bench::ArcWorkload work(model_path, data_path, limit);
  model::Backbone& backbone = work.backbone;
  const text::Tokenizer& tokenizer = work.tokenizer;
  const std::vector<search::SearchExample>& examples = work.examples;

  const size_t cache_bytes = size_t{1} << 30;
  const std::vector<std::pair<std::string, search::EvaluatorShortcuts>> variants = {
      {"no shortcuts (reference)", {0, false}},
      {"prefix cache", {cache_bytes, false}},
      {"stop once settled", {0, true}},
      {"prefix cache + settled stop", {cache_bytes, true}},
  };
  std::printf("MCTS (%s, %d simulations) on %zu ARC-Challenge train questions, %s, %d threads\n", "tree",
              mcts.simulations, examples.size(), model_path.c_str(), at::get_num_threads());
  std::vector<Run> runs;
  if (shortcuts_table) {
    std::printf("%-30s%10s%14s%10s%12s%14s\n", "evaluator", "wall (s)", "visits/eval", "evals/s", "wall ratio",
                "visits ratio");
    for (const auto& [name, shortcuts] : variants) {
      runs.push_back(run(backbone, tokenizer, examples, mcts, shortcuts));
      const Run& r = runs.back();
      auto per = [](const Run& x) { return double(x.layer_forwards) / double(x.evaluations); };
      std::printf("%-30s%10.1f%14.1f%10.2f%12.2f%14.2f\n", name.c_str(), r.seconds, per(r), r.evaluations / r.seconds,
                  runs[0].seconds / r.seconds, per(runs[0]) / per(r));
      std::fflush(stdout);
    }
  }
  if (!batches.empty()) {
    std::printf("\n%-30s%10s%14s%10s%12s%14s\n", "examples at once (both shortcuts)", "wall (s)", "mean batch",
                "evals/s", "vs batch 1", "visits/eval");
    double first_rate = 0;
    for (int64_t b : batches) {
      double mean_batch = 0;
      runs.push_back(run_batched(backbone, tokenizer, examples, mcts, {cache_bytes, true}, b, mean_batch));
      const Run& r = runs.back();
      const double rate = r.evaluations / r.seconds;
      if (first_rate == 0) first_rate = rate;
      std::printf("%-30s%10.1f%14.2f%10.2f%12.2f%14.1f\n", ("batch " + std::to_string(b)).c_str(), r.seconds,
                  mean_batch, rate, rate / first_rate, double(r.layer_forwards) / double(r.evaluations));
      std::fflush(stdout);
    }
  }
  // Per example: best plan, default reward, evaluations, correct plans, against the first run's.
  auto split = [](const std::string& all) {
    std::vector<std::string> parts;
    for (size_t at = 0, end; (end = all.find(';', at)) != std::string::npos; at = end + 1)
      parts.push_back(all.substr(at, end - at));
    return parts;
  };
  bool identical = true;
  const std::vector<std::string> first = split(runs[0].results);
  for (size_t k = 1; k < runs.size(); ++k) {
    const std::vector<std::string> these = split(runs[k].results);
    size_t same = 0;
    for (size_t i = 0; i < first.size() && i < these.size(); ++i) same += first[i] == these[i];
    identical = identical && same == first.size();
    if (same != first.size())
      std::printf("run %zu: %zu of %zu examples have the first run's result\n", k + 1, same, first.size());
  }
  std::printf("results identical: %s\n", identical ? "yes" : "NO");
  return identical ? 0 : 1;
}
