// drllm search: Dr.LLM's labels. For each example, Monte-Carlo Tree Search over layer plans; across MPI ranks
// (mpirun, srun) or in one process. Ranks take examples from a work queue and write their own HDF5 shards into
// OUT (data/labels/); examples already in OUT's shards are skipped, so rerunning the same command resumes.
// SIGUSR1/SIGTERM: end the current batched step, commit the examples done (those in flight are searched again
// on resume), exit 0. At the end rank 0 writes OUT/manifest.json and OUT/summary.json and prints the summary.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/tasks/task.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "search/label_search.h"

namespace drllm::cli {
namespace {

struct SearchOptions {
  search::LabelSearchOptions job;
  BatchFlags batch;
  SearchOptions() { job.model = default_model_dir(); }
};

void run_search(const SearchOptions& o, const CommonOptions& common) {
  dist::Runtime runtime;
  dist::install_stop_signals();
  const int threads = configure_threads(common.threads);
  search::LabelSearchOptions job = o.job;
  job.batch.max_batch = o.batch.batch_for(job.backbone.device);
  job.batch.max_memory_bytes = o.batch.memory_bytes();
  nlohmann::json summary = search::run_label_search(job, runtime, threads);
  if (!runtime.is_root()) return;
  summary.erase("labels_per_layer");  // 3 x L numbers: in summary.json and `drllm labels inspect`
  std::cout << summary.dump(2) << std::endl;
}

}  // namespace

void add_search(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("search",
                                 "MCTS over layer plans for each example (Dr.LLM's labels), on one process or across "
                                 "MPI ranks; writes HDF5 label shards and resumes when rerun");
  auto o = std::make_shared<SearchOptions>();
  cmd->add_option("--model", o->job.model, kModelHelp)->capture_default_str();
  cmd->add_option("--data", o->job.data, "JSONL data file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--task", o->job.task, "arc (letter answers) or math (\\boxed{} answers)")
      ->capture_default_str()->check(CLI::IsMember(tasks::task_names(/*searchable_only=*/true)));
  cmd->add_option("--format", o->job.format, "data format (default: arc for arc, gsm8k for math; dart for DART-Math)");
  cmd->add_option("--limit", o->job.limit, "first N examples only (0: all)")->capture_default_str();
  cmd->add_option("--out", o->job.out, "label folder (shards, manifest.json, summary.json); rerun to resume")
      ->capture_default_str();
  add_backbone_options(cmd, o->job.backbone);
  cmd->add_option("--pipeline-stages", o->job.pipeline_stages,
                  "split the backbone into S stages of consecutive layers, one per rank (balanced by parameter "
                  "bytes): the job's ranks form N/S pipelines, each searching as one rank would; run under mpirun "
                  "-np N with N a multiple of S. Fixed plans only: labels equal one process's")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--policy", o->job.policy, "tree (the paper) or chain (the released code)")
      ->capture_default_str()->check(CLI::IsMember({"tree", "chain"}));
  cmd->add_option("--simulations", o->job.mcts.simulations, "MCTS simulations per example")->capture_default_str();
  cmd->add_option("--exploration", o->job.mcts.exploration, "UCB exploration constant c")->capture_default_str();
  cmd->add_option("--length-penalty", o->job.mcts.length_penalty, "UCB length penalty lambda")->capture_default_str();
  cmd->add_option("--random-prob", o->job.mcts.random_prob, "probability of a random child")->capture_default_str();
  cmd->add_option("--seed", o->job.mcts.seed, "seed; every example's generator is seeded by (seed, id)")
      ->capture_default_str();
  cmd->add_flag("!--no-early-stop", o->job.mcts.early_stop, "run every simulation");
  cmd->add_option("--max-new-tokens", o->job.max_new_tokens, "generation budget (0: 15 math, 10 ARC instruct, 2 base)");
  cmd->add_option("--instruct", o->job.instruct, "auto (from the model name), yes or no")
      ->capture_default_str()->check(CLI::IsMember({"auto", "yes", "no"}));
  cmd->add_option("--chat-template", o->job.chat_template, "template by name (default: the model's)");
  cmd->add_option("--repeat-kv", o->job.repeat_kv, "shared or separate")
      ->capture_default_str()->check(CLI::IsMember({"shared", "separate"}));
  cmd->add_option("--prefix-cache-mb", o->job.prefix_cache_mb,
                  "memory for layer results shared between plans (0: off; results are the same either way)")
      ->capture_default_str();
  cmd->add_flag("--generate-in-full", o->job.generate_in_full,
                "ARC: generate every plan's answer to the token budget, even once its reward is settled (slower; "
                "results are the same either way)");
  cmd->add_flag("--save-features", o->job.save_features,
                "also store the router inputs along each best plan (float16), to train without the backbone");
  add_batch_options(cmd, o->batch, "examples searched");
  cmd->add_option("--chunk", o->job.chunk, "examples a rank takes from the work queue at a time")->capture_default_str();
  cmd->add_option("--shard-rows", o->job.shard_rows, "commit a shard every N examples")->capture_default_str();
  cmd->add_option("--shard-minutes", o->job.shard_minutes, "... or every M minutes")->capture_default_str();
  cmd->add_flag("--skip-bad-rows", o->job.skip_bad_rows, "skip malformed rows (and report them) instead of stopping");
  cmd->callback([o, &common] { run_search(*o, common); });
}

}  // namespace drllm::cli
