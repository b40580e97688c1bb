// drllm search: Dr.LLM's labels. For each example, Monte-Carlo Tree Search over layer plans; across MPI ranks
// (mpirun, srun) or in one process. Ranks take examples from a work queue and write their own HDF5 shards into
// OUT (data/label_store.h); examples already in OUT's shards are skipped, so rerunning the same command resumes.
// SIGUSR1/SIGTERM: finish the current example, commit, exit 0. At the end rank 0 writes OUT/manifest.json and
// OUT/summary.json and prints the summary.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/model_resources.h"
#include "cli/search_summary.h"
#include "common/error.h"
#include "common/atomic_file.h"
#include "common/sha256.h"
#include "data/text/chat_template.h"
#include "data/tasks/dataset.h"
#include "data/labels/label_store.h"
#include "data/labels/shard_writer.h"
#include "data/tasks/task.h"
#include "data/tasks/prompts.h"
#include "data/text/tokenizer.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "dist/work_queue.h"
#include "model/backbone.h"
#include "model/fingerprint.h"
#include "search/example_labeller.h"

namespace drllm::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct SearchOptions {
  std::string model = default_model_dir();
  std::string data, format, task = "arc", out = "runs/labels", instruct = "auto", chat_template;
  std::string policy = "tree", repeat_kv = "shared";
  size_t limit = 0;
  int64_t max_new_tokens = 0;  // 0: 15 for math, 10 for ARC with instruct models, 2 with base models
  bool skip_bad_rows = false, save_features = false;
  size_t prefix_cache_mb = 1024;
  bool generate_in_full = false;
  int chunk = 2, shard_rows = 32;
  double shard_minutes = 10;
  search::MctsOptions mcts;
};

void run_search(SearchOptions o, const CommonOptions& common) {
  dist::Runtime runtime;
  dist::install_stop_signals();
  const std::string me = runtime.prefix();

  // 1. Configuration.
  int threads = configure_threads(common.threads);
  o.mcts.policy = search::parse_policy(o.policy);
  o.mcts.validate();
  DRLLM_CHECK(o.chunk > 0 && o.shard_rows > 0 && o.shard_minutes > 0,
              "--chunk, --shard-rows and --shard-minutes must be positive");
  const tasks::Task& task = tasks::find_task(o.task, /*searchable_only=*/true);
  const bool instruct = tasks::resolve_instruct(o.instruct, o.model);

  // 2. Model, tokenizer, prompt.
  model::Backbone backbone = model::Backbone::load(o.model);
  text::Tokenizer tokenizer = text::Tokenizer::from_file(tokenizer_path_for(o.model, ""));
  std::optional<text::ChatTemplate> chat;
  if (instruct) chat = chat_template_for(o.model, o.chat_template);
  tasks::PromptTemplate prompt = tasks::PromptTemplate::drllm(task.drllm_prompt, instruct);
  search::LabellerSetup setup;
  setup.mcts = o.mcts;
  setup.budget.max_new_tokens = task.max_new_tokens(instruct, o.max_new_tokens);
  setup.repeat_kv = model::parse_repeat_kv(o.repeat_kv);
  setup.task = &task;
  setup.save_features = o.save_features;
  setup.shortcuts.prefix_cache_bytes = o.prefix_cache_mb << 20;
  setup.shortcuts.stop_once_settled = !o.generate_in_full;
  search::ExampleLabeller labeller(backbone, tokenizer, prompt, chat ? &*chat : nullptr, setup);
  const int64_t L = backbone.config().num_layers;

  // 3. Data, and what the shards record about this run.
  tasks::ReadOptions read;
  read.format = o.format.empty() ? task.format : tasks::parse_dataset_format(o.format);
  read.limit = o.limit;
  read.skip_bad_rows = o.skip_bad_rows;
  tasks::DatasetReadResult loaded = tasks::read_dataset(o.data, read);
  if (loaded.skipped && runtime.is_root()) std::cerr << "skipped " << loaded.skipped << " bad rows of " << o.data << "\n";
  DRLLM_CHECK(!loaded.examples.empty(), o.data, ": no examples");
  labels::ShardHeader header;
  header.model_fingerprint = model::summarize_checkpoint(o.model).fingerprint;
  header.dataset = cat(fs::path(o.data).filename().string(), " sha256:", sha256_file_hex(o.data).substr(0, 16));
  header.search_config = search::search_config_json(setup, prompt.name(), instruct, chat ? chat->name() : "");
  header.num_layers = L;
  header.feature_dim = o.save_features ? backbone.config().hidden_size : 0;

  // 4. Resume: rank 0 looks at what is already done, then every rank starts.
  std::vector<uint32_t> pending;
  if (runtime.is_root()) {
    fs::create_directories(o.out);
    std::set<uint32_t> done = labels::labelled_examples(o.out, header);
    for (uint32_t i = 0; i < loaded.examples.size(); ++i)
      if (!done.count(i)) pending.push_back(i);
    std::cerr << "search (" << o.policy << ", " << o.mcts.simulations << " simulations) of " << loaded.examples.size()
              << " examples of " << o.data << " with " << o.model << " (" << L << " layers) on " << runtime.size()
              << (runtime.size() == 1 ? " rank" : " ranks") << " (" << dist::launcher_name(runtime.launcher())
              << "), " << threads << " threads each; " << loaded.examples.size() - pending.size()
              << " already in " << o.out << ", " << pending.size() << " to go\n";
  }
  runtime.barrier();

  // 5. Work through the queue.
  auto t0 = Clock::now();
  dist::WorkQueue queue(runtime, pending, o.chunk);
  labels::ShardWriter buffer(o.out, runtime.rank(), header, static_cast<size_t>(o.shard_rows), o.shard_minutes * 60);
  int64_t labelled = 0;
  for (std::vector<uint32_t> chunk = queue.next(); !chunk.empty() && !dist::stop_requested(); chunk = queue.next()) {
    for (uint32_t index : chunk) {
      labels::LabelRow row = labeller.label(loaded.examples[index], index);
      ++labelled;
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::cerr << me << "example " << index << " (" << row.item_id << "): default " << int(row.baseline_correct)
                << ", best " << int(row.best_correct) << ", " << row.best_path.size() << " layers, "
                << row.num_evaluations << " evaluations; " << labelled << " here in " << s << " s\n";
      buffer.add(std::move(row));
      if (dist::stop_requested()) break;
    }
  }
  if (dist::stop_requested()) {
    queue.stop();
    std::cerr << me << "signal " << dist::stop_signal() << ": committing and stopping; rerun to resume\n";
  }
  buffer.commit();
  queue.finish();
  const int64_t forwards = runtime.sum(labeller.layer_forwards());
  const int64_t labelled_here = runtime.sum(labelled);
  runtime.barrier();

  // 6. Manifest and summary over everything the folder now holds.
  if (!runtime.is_root()) return;
  labels::rebuild_manifest(o.out);
  nlohmann::json summary = summarize_labels(labels::read_label_set(o.out));
  summary["policy"] = o.policy;
  summary["simulations"] = o.mcts.simulations;
  summary["ranks"] = runtime.size();
  summary["examples_this_run"] = labelled_here;
  summary["layer_forwards_this_run"] = forwards;
  summary["seconds_this_run"] = std::chrono::duration<double>(Clock::now() - t0).count();
  summary["complete"] = summary["examples"].get<size_t>() == loaded.examples.size();
  write_file_atomically(o.out + "/summary.json", [&](std::ostream& out) { out << summary.dump(2) << "\n"; });
  nlohmann::json shown = summary;
  shown.erase("labels_per_layer");  // 3 x L numbers: in summary.json and `drllm labels inspect`
  std::cout << shown.dump(2) << std::endl;
}

}  // namespace

void add_search(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("search",
                                 "MCTS over layer plans for each example (Dr.LLM's labels), on one process or across "
                                 "MPI ranks; writes HDF5 label shards and resumes when rerun");
  auto o = std::make_shared<SearchOptions>();
  cmd->add_option("--model", o->model, "Hugging Face model folder or .gguf file")->capture_default_str();
  cmd->add_option("--data", o->data, "JSONL data file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--task", o->task, "arc (letter answers) or math (\\boxed{} answers)")
      ->capture_default_str()->check(CLI::IsMember(tasks::task_names(/*searchable_only=*/true)));
  cmd->add_option("--format", o->format, "data format (default: arc for arc, gsm8k for math; dart for DART-Math)");
  cmd->add_option("--limit", o->limit, "first N examples only (0: all)")->capture_default_str();
  cmd->add_option("--out", o->out, "label folder (shards, manifest.json, summary.json); rerun to resume")
      ->capture_default_str();
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
  cmd->add_flag("--generate-in-full", o->generate_in_full,
                "ARC: generate every plan's answer to the token budget, even once its reward is settled (slower; "
                "results are the same either way)");
  cmd->add_flag("--save-features", o->save_features,
                "also store the router inputs along each best plan (float16), to train without the backbone");
  cmd->add_option("--chunk", o->chunk, "examples a rank takes from the work queue at a time")->capture_default_str();
  cmd->add_option("--shard-rows", o->shard_rows, "commit a shard every N examples")->capture_default_str();
  cmd->add_option("--shard-minutes", o->shard_minutes, "... or every M minutes")->capture_default_str();
  cmd->add_flag("--skip-bad-rows", o->skip_bad_rows, "skip malformed rows (and report them) instead of stopping");
  cmd->callback([o, &common] { run_search(*o, common); });
}

}  // namespace drllm::cli
