// drllm train: Dr.LLM's routers from a label folder, data-parallel over the job's ranks (mpirun/srun, or one
// process). Rerunning the same command with the same --out resumes from the newest checkpoint that verifies.
// drllm export-routers RUN OUT.safetensors: the run's routers under the official modeling files' names.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/console.h"
#include "common/strings.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "train/train_job.h"
#include "train/trainer.h"

namespace drllm::cli {
namespace {

struct TrainCliOptions {
  std::string labels = "runs/labels";  // comma-separated folders
  train::TrainJobOptions job;
  TrainCliOptions() { job.model = default_model_dir(); }
};

void run_train(TrainCliOptions o, const CommonOptions& common) {
  dist::Runtime runtime;
  dist::install_stop_signals();
  configure_threads(common.threads);
  o.job.labels = split_string(o.labels, ",");
  nlohmann::json result = train::run_training(o.job, runtime);
  if (runtime.is_root()) std::cout << result.dump(2) << std::endl;
}

}  // namespace

void add_train(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("train", "train the routers from a label folder (data-parallel over MPI ranks; "
                                          "rerun with the same --out to resume)");
  auto o = std::make_shared<TrainCliOptions>();
  train::TrainOptions& t = o->job.train;
  cmd->add_option("--labels", o->labels, "label folder written by `drllm search` (several: comma-separated)")
      ->capture_default_str();
  cmd->add_option("--out", o->job.out, "run folder (checkpoints, metrics.jsonl, routers.safetensors)")->capture_default_str();
  cmd->add_option("--inputs", o->job.inputs, "router inputs: cached (saved by --save-features), online (run the "
                                         "backbone), auto (cached when saved)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "cached", "online"}));
  cmd->add_option("--model", o->job.model, "the backbone, for --inputs online")->capture_default_str();
  cmd->add_option("--pipeline-stages", o->job.pipeline_stages,
                  "with --inputs online: split the backbone into S stages of consecutive layers, one per rank, under "
                  "mpirun -np N with N a multiple of S (docs/pipeline-stages.md); N/S pipelines train as N/S ranks")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--epochs", t.epochs, "epochs")->capture_default_str();
  cmd->add_option("--batch", t.batch, "effective batch (summed over ranks and micro-batches)")->capture_default_str();
  cmd->add_option("--micro-batch", t.micro_batch, "examples per forward/backward on one rank")->capture_default_str();
  cmd->add_option("--lr", t.adamw.lr, "AdamW learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", t.adamw.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--warmup", t.warmup, "linear warm-up steps before the cosine decay")->capture_default_str();
  cmd->add_option("--gamma", t.gamma, "focal loss gamma (0: weighted cross-entropy)")->capture_default_str();
  cmd->add_option("--class-beta", t.beta, "beta of the effective-number class weights")->capture_default_str();
  cmd->add_option("--seed", t.seed, "seed of the initial weights and the epochs' orders")->capture_default_str();
  cmd->add_option("--checkpoint-every", t.checkpoint_every, "checkpoint every N steps")->capture_default_str();
  cmd->add_option("--keep-checkpoints", t.keep_checkpoints, "checkpoints kept")->capture_default_str();
  cmd->add_flag("--checkpoint-sync", t.checkpoint_sync,
                "write each checkpoint before the next step (by default it is written in the background while "
                "training goes on; the last one, and one on a stop signal, are always waited for)");
  cmd->add_option("--max-memory-gb", o->job.max_memory_gb,
                  "bound on the router inputs' memory per rank, in GB (0: none, all held in memory); with a bound "
                  "the saved inputs stream from the label shards, each rank reading only its rows of each step "
                  "(the next step's on a thread), and train the same routers bit for bit")
      ->capture_default_str();
  cmd->add_option("--max-steps", t.max_steps, "stop after N steps in all (0: the whole schedule)")->capture_default_str();
  cmd->add_option("--holdout-every", o->job.holdout_every, "hold out every N-th example for the metrics (0: none)")
      ->capture_default_str();
  cmd->add_option("--examples", o->job.examples,
                  "all, or correct: train only on the examples whose best plan answers right (the paper keeps "
                  "those; the others are labelled \"execute everywhere\" because the search found nothing)")
      ->capture_default_str()->check(CLI::IsMember({"all", "correct"}));
  cmd->add_option("--device", t.device, "cpu, or cuda / cuda:N (NCCL between ranks); online inputs run the backbone "
                                       "there too")->capture_default_str();
  add_dtype_option(cmd, o->job.backbone_dtype);  // online inputs: the backbone's compute dtype
  cmd->callback([o, &common] { run_train(*o, common); });

  auto* exp = app.add_subcommand("export-routers", "write a run's routers as safetensors with the official names "
                                                   "(model.routers.{l}.linear1/linear2.weight/bias)");
  auto run = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  exp->add_option("run", *run, "training run folder")->required()->check(CLI::ExistingDirectory);
  exp->add_option("out", *out, "safetensors file to write")->required();
  exp->callback([run, out] {
    std::string fingerprint;
    routing::RouterBank bank = train::load_run_routers(*run, &fingerprint);
    bank.save(*out, fingerprint);
    log_info() << "wrote " << bank.num_layers() << " routers (d = " << bank.hidden_size() << ") to " << *out << "\n";
  });
}

}  // namespace drllm::cli
