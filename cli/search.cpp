// drllm search: Monte-Carlo Tree Search over layer plans for each example, in one process (the MPI labelling of
// issue 6 replaces the JSONL output with HDF5 shards). Writes OUT/results.jsonl (one line per example) and
// OUT/summary.json; prints a progress line and the summary.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resources.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/dataset.h"
#include "data/prompts.h"
#include "model/backbone.h"
#include "search/mcts.h"
#include "search/plan_evaluator.h"

namespace drllm::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct SearchOptions {
  std::string model = default_model_dir();
  std::string data, format, task = "arc", out = "runs/search", instruct = "auto", chat_template;
  std::string policy = "tree", repeat_kv = "shared";
  size_t limit = 0;
  int64_t max_new_tokens = 0;  // 0: 15 for math, 10 for ARC with instruct models, 2 with base models
  bool skip_bad_rows = false;
  size_t prefix_cache_mb = 1024;
  search::MctsOptions mcts;
};

void run_search(SearchOptions o, const CommonOptions& common) {
  // 1. Configuration.
  int threads = configure_threads(common.threads);
  o.mcts.policy = search::parse_policy(o.policy);
  o.mcts.validate();
  const bool arc = o.task == "arc";
  const bool instruct = o.instruct == "auto"
                            ? data::is_instruct_model_name(std::filesystem::path(o.model).filename().string())
                            : o.instruct == "yes";

  // 2. Model, tokenizer, prompt.
  model::Backbone backbone = model::Backbone::load(o.model);
  data::Tokenizer tokenizer = data::Tokenizer::from_file(tokenizer_path_for(o.model, ""));
  std::optional<data::ChatTemplate> chat;
  if (instruct) chat = chat_template_for(o.model, o.chat_template);
  data::PromptTemplate prompt = data::PromptTemplate::drllm(arc ? "arc" : "math", instruct);
  search::GenerationBudget budget;
  budget.max_new_tokens = o.max_new_tokens ? o.max_new_tokens : (arc ? (instruct ? 10 : 2) : 15);
  search::PlanEvaluator evaluator(backbone, tokenizer, budget, model::parse_repeat_kv(o.repeat_kv),
                                  o.prefix_cache_mb << 20);
  const int64_t L = backbone.config().num_layers;

  // 3. Data.
  data::ReadOptions read;
  read.format = data::parse_dataset_format(o.format.empty() ? (arc ? "arc" : "gsm8k") : o.format);
  read.limit = o.limit;
  read.skip_bad_rows = o.skip_bad_rows;
  data::DatasetReadResult loaded = data::read_dataset(o.data, read);
  if (loaded.skipped) std::cerr << "skipped " << loaded.skipped << " bad rows of " << o.data << "\n";
  DRLLM_CHECK(!loaded.examples.empty(), o.data, ": no examples");
  std::filesystem::create_directories(o.out);
  std::cerr << "search (" << o.policy << ", " << o.mcts.simulations << " simulations) on " << loaded.examples.size()
            << " examples of " << o.data << " with " << o.model << ", " << L << " layers, " << threads
            << " threads\n";

  // 4. One search per example.
  auto t0 = Clock::now();
  std::string results;
  size_t default_correct = 0, best_correct = 0, improved = 0;
  double best_length_sum = 0, evaluations_sum = 0;
  for (size_t i = 0; i < loaded.examples.size(); ++i) {
    const data::Example& ex = loaded.examples[i];
    search::SearchExample example = search::prepare_example(ex, prompt, chat ? &*chat : nullptr, tokenizer, arc);
    evaluator.begin_example();
    std::map<std::string, std::string> responses;
    auto reward = [&](const model::LayerPlan& plan) {
      search::PlanEvaluator::Outcome outcome = evaluator.evaluate(example, plan);
      responses[plan.to_string()] = outcome.response;
      return outcome.reward;
    };
    search::SearchResult r = search::run_mcts(L, reward, o.mcts, ex.id);
    default_correct += r.default_correct;
    best_correct += r.best_correct;
    improved += r.improved();
    best_length_sum += static_cast<double>(r.best_plan.executed());
    evaluations_sum += r.evaluations;
    nlohmann::json correct_paths = nlohmann::json::array();
    for (const model::LayerPlan& p : r.correct_plans) correct_paths.push_back(p.to_path());
    nlohmann::json line = {{"id", ex.id},
                           {"default_correct", r.default_correct},
                           {"best_correct", r.best_correct},
                           {"improved", r.improved()},
                           {"best_plan", r.best_plan.to_string()},
                           {"best_path", r.best_plan.to_path()},
                           {"best_response", responses[r.best_plan.to_string()]},
                           {"default_response", responses[r.default_plan.to_string()]},
                           {"evaluations", r.evaluations},
                           {"simulations", r.simulations},
                           {"good_paths", correct_paths}};
    results += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::cerr << "  " << i + 1 << "/" << loaded.examples.size() << "  default " << default_correct << "  best "
              << best_correct << "  improved " << improved << "  " << s / (i + 1) << " s/example, ETA "
              << s / (i + 1) * (loaded.examples.size() - i - 1) << " s\n";
  }

  // 5. Results and summary.
  const double n = static_cast<double>(loaded.examples.size());
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  nlohmann::json summary = {{"examples", loaded.examples.size()},
                            {"policy", o.policy},
                            {"simulations", o.mcts.simulations},
                            {"default_accuracy", default_correct / n},
                            {"best_accuracy", best_correct / n},
                            {"improved_share", improved / n},
                            {"average_path_length", best_length_sum / n},
                            {"layers_saved", static_cast<double>(L) - best_length_sum / n},
                            {"evaluations_per_example", evaluations_sum / n},
                            {"layer_forwards", evaluator.layer_forwards()},
                            {"seconds", seconds}};
  write_file_atomically(o.out + "/results.jsonl", [&](std::ostream& out) { out << results; });
  write_file_atomically(o.out + "/summary.json", [&](std::ostream& out) { out << summary.dump(2) << "\n"; });
  std::cout << summary.dump(2) << std::endl;
}

}  // namespace

void add_search(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("search", "MCTS over layer plans for each example (Dr.LLM's supervision)");
  auto o = std::make_shared<SearchOptions>();
  cmd->add_option("--model", o->model, "Hugging Face model folder or .gguf file")->capture_default_str();
  cmd->add_option("--data", o->data, "JSONL data file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--task", o->task, "arc (letter answers) or math (\\boxed{} answers)")
      ->capture_default_str()->check(CLI::IsMember({"arc", "math"}));
  cmd->add_option("--format", o->format, "data format (default: arc for arc, gsm8k for math; dart for DART-Math)");
  cmd->add_option("--limit", o->limit, "first N examples only (0: all)")->capture_default_str();
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--policy", o->policy, "tree (the paper) or chain (the released code)")
      ->capture_default_str()->check(CLI::IsMember({"tree", "chain"}));
  cmd->add_option("--simulations", o->mcts.simulations, "MCTS simulations per example")->capture_default_str();
  cmd->add_option("--exploration", o->mcts.exploration, "UCB exploration constant c")->capture_default_str();
  cmd->add_option("--length-penalty", o->mcts.length_penalty, "UCB length penalty lambda")->capture_default_str();
  cmd->add_option("--random-prob", o->mcts.random_prob, "probability of a random child")->capture_default_str();
  cmd->add_option("--seed", o->mcts.seed, "seed; every example's generator is seeded by (seed, id)")
      ->capture_default_str();
  cmd->add_flag("!--no-early-stop", o->mcts.early_stop, "run every simulation");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "generation budget (0: 15 math, 10 ARC instruct, 2 base)");
  cmd->add_option("--instruct", o->instruct, "auto (from the model name), yes or no")
      ->capture_default_str()->check(CLI::IsMember({"auto", "yes", "no"}));
  cmd->add_option("--chat-template", o->chat_template, "template by name (default: the model's)");
  cmd->add_option("--repeat-kv", o->repeat_kv, "shared or separate")
      ->capture_default_str()->check(CLI::IsMember({"shared", "separate"}));
  cmd->add_option("--prefix-cache-mb", o->prefix_cache_mb,
                  "memory for layer results shared between plans (0: off; results are the same either way)")
      ->capture_default_str();
  cmd->add_flag("--skip-bad-rows", o->skip_bad_rows, "skip malformed rows (and report them) instead of stopping");
  cmd->callback([o, &common] { run_search(*o, common); });
}

}  // namespace drllm::cli
