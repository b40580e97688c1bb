// drllm train: Dr.LLM's routers from a label folder, data-parallel over the job's ranks (mpirun/srun, or one
// process). Rerunning the same command with the same --out resumes from the newest checkpoint that verifies.
// drllm export-routers RUN OUT.safetensors: the run's routers under the official modeling files' names.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "data/labels/label_store.h"
#include "dist/communicator.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "model/backbone.h"
#include "model/fingerprint.h"
#include "train/trainer.h"

namespace drllm::cli {
namespace {

namespace fs = std::filesystem;

struct TrainCliOptions {
  std::string labels = "runs/labels", out = "runs/train", inputs = "auto", model = default_model_dir();
  int64_t holdout_every = 10;
  train::TrainOptions train;
};

void run_train(TrainCliOptions o, const CommonOptions& common) {
  dist::Runtime runtime;
  dist::install_stop_signals();
  configure_threads(common.threads);
  const bool root = runtime.is_root();

  // 1. Labels (one folder or several, comma-separated: say ARC and GSM8K searches) and the routers' inputs along
  // the labelled plans.
  const std::vector<std::string> dirs = split_string(o.labels, ",");
  std::vector<labels::LabelSet> sets;
  for (const std::string& dir : dirs) {
    sets.push_back(labels::read_label_set(dir, /*features=*/true));
    DRLLM_CHECK(!sets.back().rows.empty(), dir, ": no labelled examples");
    DRLLM_CHECK(sets.back().header.model_fingerprint == sets.front().header.model_fingerprint, dir,
                " was labelled with another model than ", dirs.front());
  }
  const labels::LabelSet& labels = sets.front();
  bool all_cached = true;
  for (const labels::LabelSet& set : sets) all_cached = all_cached && set.header.feature_dim > 0;
  std::string inputs = o.inputs == "auto" ? (all_cached ? "cached" : "online") : o.inputs;
  std::optional<model::Backbone> backbone;
  if (inputs == "online") {
    const std::string fingerprint = model::summarize_checkpoint(o.model).fingerprint;
    DRLLM_CHECK(fingerprint == labels.header.model_fingerprint, o.labels, " was labelled with another model (",
                labels.header.model_fingerprint.substr(0, 16), "…) than --model ", o.model, " (",
                fingerprint.substr(0, 16), "…)");
    backbone.emplace(model::Backbone::load(o.model));
  }
  std::vector<train::RouterData> parts;
  std::string hashes;
  for (const labels::LabelSet& set : sets) {
    if (inputs == "cached") {
      parts.push_back(train::cached_router_data(set));
    } else {
      if (root) std::cerr << "computing router inputs along " << set.rows.size() << " labelled plans with " << o.model << "\n";
      parts.push_back(train::online_router_data(set, *backbone));
    }
    hashes += train::label_set_hash(set);
  }
  train::RouterData all = train::concatenate(parts);
  std::vector<int64_t> train_rows, held_rows;
  train::split_holdout(all.size(), o.holdout_every, train_rows, held_rows);
  train::RouterData train_set = all.subset(train_rows), held_out = all.subset(held_rows);

  // 2. Train.
  std::unique_ptr<dist::Communicator> comm = dist::make_communicator(runtime, at::Device(o.train.device));
  train::TrainIdentity identity{labels.header.model_fingerprint, sets.size() == 1 ? hashes : sha256_hex(hashes), inputs};
  train::TrainResult r = train::train_routers(runtime, *comm, train_set, held_out, o.train, identity, o.out);

  // 3. The routers beside the checkpoints, ready for generate/eval.
  if (root && r.finished) {
    routing::RouterBank bank = train::load_run_routers(o.out);
    bank.save(o.out + "/routers.safetensors", labels.header.model_fingerprint);
  }
  if (root)
    std::cout << nlohmann::json{{"steps_this_run", r.steps},       {"finished", r.finished},
                                {"stopped", r.stopped},            {"seconds", r.seconds},
                                {"samples_per_second", r.seconds > 0 ? r.samples_this_run / r.seconds : 0.0},
                                {"inputs", inputs},                {"ranks", runtime.size()},
                                {"communicator", comm->name()},    {"train_examples", train_set.size()},
                                {"held_out_examples", held_out.size()}}
                     .dump(2)
              << std::endl;
}

}  // namespace

void add_train(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("train", "train the routers from a label folder (data-parallel over MPI ranks; "
                                          "rerun with the same --out to resume)");
  auto o = std::make_shared<TrainCliOptions>();
  train::TrainOptions& t = o->train;
  cmd->add_option("--labels", o->labels, "label folder written by `drllm search` (several: comma-separated)")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "run folder (checkpoints, metrics.jsonl, routers.safetensors)")->capture_default_str();
  cmd->add_option("--inputs", o->inputs, "router inputs: cached (saved by --save-features), online (run the "
                                         "backbone), auto (cached when saved)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "cached", "online"}));
  cmd->add_option("--model", o->model, "the backbone, for --inputs online")->capture_default_str();
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
  cmd->add_option("--max-steps", t.max_steps, "stop after N steps in all (0: the whole schedule)")->capture_default_str();
  cmd->add_option("--holdout-every", o->holdout_every, "hold out every N-th example for the metrics (0: none)")
      ->capture_default_str();
  cmd->add_option("--device", t.device, "cpu, or cuda / cuda:N (NCCL between ranks)")->capture_default_str();
  cmd->add_option("--dump-first-gradients", t.dump_first_gradients,
                  "write the first step's summed gradients to this safetensors file (parity tests)");
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
    std::cerr << "wrote " << bank.num_layers() << " routers (d = " << bank.hidden_size() << ") to " << *out << "\n";
  });
}

}  // namespace drllm::cli
