// drllm demo: the whole Dr.LLM pipeline on the embedded default model, small enough for a laptop:
//   1. label search on slices of ARC-Challenge train and GSM8K train (router features saved)   [all ranks]
//   2. router training on both label sets                                                    [all ranks]
//   3. routers exported; unrouted vs routed on slices of ARC-Challenge test and GSM8K test (in domain) and
//      PIQA and OpenBookQA (out of domain, log-likelihood), and a sweep of the knob p on ARC  [all ranks]
//   4. OUT/report.md and OUT/report.json, with the routing patterns and the p sweep as SVG    [rank 0]
// Everything lands in OUT (runs/demo); rerunning resumes the search and the training and reuses finished
// evaluations. Run it alone or as `mpirun -np 2 drllm demo`.
#include <optional>
#include <filesystem>
#include <sstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/console.h"
#include "common/folder_lock.h"
#include "eval/demo_report.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/json_file.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "eval/evaluation.h"
#include "search/label_search.h"
#include "train/train_job.h"
#include "train/trainer.h"

namespace drllm::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DemoOptions {
  std::string out = "runs/demo";
  std::string data_dir = std::string(DRLLM_SOURCE_DIR) + "/datasets";
  std::string model = default_model_dir();
  // Sized for about 30 minutes on 2 CPU cores with the 1.5B default (31 min measured, other work beside it for
  // the first 20): GSM8K's answers run to hundreds of tokens, so 8 searched questions alone took about 50 min.
  size_t arc_train = 32, gsm8k_train = 2, arc_test = 50, gsm8k_test = 5, piqa = 50, openbookqa = 50, sweep = 20;
  int simulations = 20;
  model::LoadOptions backbone;  // --device, --dtype
};

void run_demo(const DemoOptions& o, const CommonOptions& common) {
  dist::Runtime runtime;
  dist::install_stop_signals();
  const int threads = configure_threads(common.threads);
  const std::string data = o.data_dir, out = o.out;
  std::optional<FolderLock> lock;  // one demo per folder (its stages lock their own subfolders as well)
  if (runtime.is_root()) lock.emplace(out, "drllm demo");
  runtime.barrier();
  auto say = [&](const std::string& what) {
    if (runtime.is_root()) log_info() << "\n== demo: " << what << "\n";
  };
  auto show = [&](const json& result) {
    if (runtime.is_root()) std::cout << result.dump(2) << std::endl;
  };

  // 1-2. Labels and routers (collective: every rank takes part).
  auto search_job = [&](const std::string& task, const std::string& file, size_t limit, const std::string& folder) {
    search::LabelSearchOptions s;
    s.model = o.model;
    s.backbone = o.backbone;
    s.data = data + "/" + file;
    s.task = task;
    s.limit = limit;
    s.mcts.simulations = o.simulations;
    s.save_features = true;
    s.out = out + "/" + folder;
    json summary = search::run_label_search(s, runtime, threads);
    if (runtime.is_root()) summary.erase("labels_per_layer");
    show(summary);
  };
  say("label search on " + std::to_string(o.arc_train) + " ARC-Challenge train questions");
  search_job("arc", "arc_challenge_train.jsonl", o.arc_train, "labels-arc");
  say("label search on " + std::to_string(o.gsm8k_train) + " GSM8K train questions (math prompt, \\boxed{} answers)");
  search_job("math", "gsm8k_train.jsonl", o.gsm8k_train, "labels-gsm8k");
  if (dist::stop_requested()) return;
  say("router training on both label sets");
  train::TrainJobOptions t;
  t.labels = {out + "/labels-arc", out + "/labels-gsm8k"};
  t.out = out + "/train";
  t.model = o.model;
  t.backbone_dtype = o.backbone.dtype;
  t.train.device = o.backbone.device;
  t.train.warmup = 20;
  t.holdout_every = 5;
  json trained = train::run_training(t, runtime);
  show(trained);
  if (!trained["finished"].get<bool>()) return;  // stopped by a signal: rerun to resume

  // 3. Evaluation, spread over the ranks like the search; 4. the reports, on rank 0.
  const std::string routers = out + "/routers.safetensors";
  if (runtime.is_root()) {
    std::string fingerprint;
    train::load_run_routers(t.out, &fingerprint).save(routers, fingerprint);
  }
  runtime.idle_barrier();
  auto eval_job = [&](const std::string& task, const std::string& file, size_t limit, double p, const std::string& dir) {
    eval::EvaluationOptions e;
    e.model = o.model;
    e.backbone = o.backbone;
    e.data = data + "/" + file;
    e.task = task;
    e.limit = limit;
    e.routers = routers;
    e.routing.p = p;
    e.out = dir;
    show(eval::run_evaluation(e, runtime, threads));
  };
  struct Set {
    std::string name, task, file;
    size_t limit;
    const char* domain;
  };
  // In this order in the report.
  const std::vector<Set> sets = {{"arc", "arc", "arc_challenge_test.jsonl", o.arc_test, "in domain"},
                                 {"gsm8k", "math", "gsm8k_test.jsonl", o.gsm8k_test, "in domain"},
                                 {"piqa", "piqa", "piqa_validation.jsonl", o.piqa, "out of domain"},
                                 {"openbookqa", "openbookqa", "openbookqa_test.jsonl", o.openbookqa, "out of domain"}};
  json reports = json::object();
  for (const Set& s : sets) {
    const std::string dir = out + "/eval-" + s.name;
    // Every rank sees the same folder, so all agree on what to rerun.
    if (!fs::exists(dir + "/report.json") || read_json_file(dir + "/report.json").value("routers", "") != routers) {
      say("unrouted vs routed: " + std::to_string(s.limit) + " examples of " + s.file);
      eval_job(s.task, s.file, s.limit, -0.5, dir);
    }
    runtime.idle_barrier();  // rank 0 has written the report: every rank decides the next step on the same files
    if (!runtime.is_root()) continue;
    reports[s.name] = read_json_file(dir + "/report.json");
    reports[s.name]["domain"] = s.domain;
  }
  std::vector<std::pair<double, json>> sweep;
  for (double p : {-0.75, -0.5, -0.25, 0.25, 0.75}) {
    char name[32];
    std::snprintf(name, sizeof name, "/sweep-p%+.2f", p);
    const std::string dir = out + name;
    if (!fs::exists(dir + "/report.json")) {
      say("ARC sweep point p = " + std::to_string(p));
      eval_job("arc", "arc_challenge_test.jsonl", o.sweep, p, dir);
    }
    runtime.idle_barrier();
    if (runtime.is_root()) sweep.emplace_back(p, read_json_file(dir + "/report.json")["routed"]);
  }
  if (!runtime.is_root()) return;
  json sweep_unrouted = read_json_file(out + "/sweep-p-0.50/report.json")["unrouted"];
  eval::DemoSummary summary{o.arc_train, o.gsm8k_train, o.simulations, {}};
  for (const Set& s : sets) summary.sets.push_back(s.name);
  std::cout << eval::write_demo_report(out, summary, reports, sweep, sweep_unrouted);
}

}  // namespace

void add_demo(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("demo", "the whole pipeline on the embedded default model (search, training, "
                                         "routed evaluation, report); rerun to resume");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "folder of the benchmark files (default: the slices that ship in datasets/)")
      ->capture_default_str();
  cmd->add_option("--model", o->model, kModelHelp)->capture_default_str();
  add_backbone_options(cmd, o->backbone);
  cmd->add_option("--arc-train", o->arc_train, "ARC-Challenge train questions searched")->capture_default_str();
  cmd->add_option("--gsm8k-train", o->gsm8k_train, "GSM8K train questions searched")->capture_default_str();
  cmd->add_option("--simulations", o->simulations, "MCTS simulations per question")->capture_default_str();
  cmd->add_option("--arc-test", o->arc_test, "ARC-Challenge test questions evaluated")->capture_default_str();
  cmd->add_option("--gsm8k-test", o->gsm8k_test, "GSM8K test questions evaluated")->capture_default_str();
  cmd->add_option("--piqa", o->piqa, "PIQA validation questions evaluated")->capture_default_str();
  cmd->add_option("--openbookqa", o->openbookqa, "OpenBookQA test questions evaluated")->capture_default_str();
  cmd->add_option("--sweep", o->sweep, "ARC test questions per point of the p sweep")->capture_default_str();
  cmd->callback([o, &common] { run_demo(*o, common); });
}

}  // namespace drllm::cli
