// bench_search [--limit N] [--simulations S] [--model M] [--data FILE]: the MCTS search on N ARC-Challenge train
// questions with the prefix-state cache off, then on, in the same run: wall time, layer visits computed per
// evaluation, evaluations per second, and the ratios. The searches' results must be identical.
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "data/chat_template.h"
#include "data/dataset.h"
#include "data/prompts.h"
#include "data/tokenizer.h"
#include "model/backbone.h"
#include "search/mcts.h"
#include "search/plan_evaluator.h"

using namespace drllm;

struct Run {
  double seconds = 0;
  int64_t evaluations = 0, layer_forwards = 0;
  std::string results;  // best plans, to check that both runs agree
};

static Run run(model::Backbone& backbone, const data::Tokenizer& tokenizer, const std::vector<search::SearchExample>& examples,
               const search::MctsOptions& mcts, size_t cache_bytes) {
  search::PlanEvaluator evaluator(backbone, tokenizer, {10, 2}, model::RepeatKv::Shared, cache_bytes);
  Run r;
  auto t0 = std::chrono::steady_clock::now();
  for (const search::SearchExample& ex : examples) {
    evaluator.begin_example();
    search::SearchResult s = search::run_mcts(
        backbone.config().num_layers, [&](const model::LayerPlan& p) { return evaluator.evaluate(ex, p).reward; }, mcts,
        ex.id);
    r.results += s.best_plan.to_string() + ";";
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.evaluations = evaluator.evaluations();
  r.layer_forwards = evaluator.layer_forwards();
  return r;
}

int main(int argc, char** argv) {
  std::string model_path = std::string(DRLLM_SOURCE_DIR) + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  std::string data_path = std::string(DRLLM_ASSETS_DIR) + "/data/arc_challenge_train.jsonl";
  size_t limit = 20;
  search::MctsOptions mcts;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--limit") limit = std::stoul(value);
    else if (flag == "--simulations") mcts.simulations = std::stoi(value);
    else if (flag == "--model") model_path = value;
    else if (flag == "--data") data_path = value;
    else {
      std::cerr << "usage: bench_search [--limit N] [--simulations S] [--model M] [--data FILE]\n";
      return 2;
    }
  }
  model::Backbone backbone = model::Backbone::load(model_path);
  data::Tokenizer tokenizer = data::Tokenizer::from_file(model_path);
  data::ChatTemplate chat = data::ChatTemplate::by_name("smollm2");
  data::PromptTemplate prompt = data::PromptTemplate::drllm("arc", true);
  data::ReadOptions read;
  read.format = data::DatasetFormat::Arc;
  read.limit = limit;
  std::vector<search::SearchExample> examples;
  for (const data::Example& ex : data::read_dataset(data_path, read).examples)
    examples.push_back(search::prepare_example(ex, prompt, &chat, tokenizer, true));

  Run off = run(backbone, tokenizer, examples, mcts, 0);
  Run on = run(backbone, tokenizer, examples, mcts, size_t{1} << 30);
  auto per = [](const Run& r) { return double(r.layer_forwards) / double(r.evaluations); };
  std::printf("MCTS (%s, %d simulations) on %zu ARC-Challenge train questions, %s, %d threads\n", "tree",
              mcts.simulations, examples.size(), model_path.c_str(), at::get_num_threads());
  std::printf("%-28s%14s%14s%10s\n", "figure", "cache off", "cache on", "ratio");
  std::printf("%-28s%14.1f%14.1f%10.2f\n", "wall time (s)", off.seconds, on.seconds, off.seconds / on.seconds);
  std::printf("%-28s%14.1f%14.1f%10.2f\n", "layer visits / evaluation", per(off), per(on), per(off) / per(on));
  std::printf("%-28s%14.2f%14.2f%10.2f\n", "evaluations / s", off.evaluations / off.seconds,
              on.evaluations / on.seconds, (on.evaluations / on.seconds) / (off.evaluations / off.seconds));
  std::printf("results identical: %s\n", off.results == on.results ? "yes" : "NO");
  return off.results == on.results ? 0 : 1;
}
