// drllm demo: the whole Dr.LLM study on the embedded default model, at a size of your choosing (the defaults fit
// about 30 minutes on 2 CPU cores; scripts/reproduce runs the large version):
//   1. label search on ARC-Challenge train, ARC-Easy train and GSM8K train (router features saved)    [all ranks]
//   2. router training on the labels, a held-out split for the metrics                                 [all ranks]
//   3. routers exported; unrouted vs routed on ARC-Challenge test and GSM8K test (in domain) and PIQA,
//      OpenBookQA and TruthfulQA (out of domain, log-likelihood)                                        [all ranks]
//   4. the trade-off on ARC-Challenge test: the routers over the knob p, and fixed cuts of the layers the labels
//      skip most and of random layers (eval/static_baselines.h)                                         [all ranks]
//   5. OUT/report.md, report.html and report.json (eval/demo_report.h)                                 [rank 0]
// Everything lands in OUT (runs/demo); rerunning resumes the search and the training and reuses every finished
// evaluation whose inputs (routers, plan) are unchanged, so a larger --arc-train extends a run. Run it alone or as
// `mpirun -np 2 drllm demo`.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "common/console.h"
#include "common/error.h"
#include "common/folder_lock.h"
#include "common/json_file.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "eval/demo_report.h"
#include "eval/evaluation.h"
#include "eval/static_baselines.h"
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
  size_t arc_train = 32, arc_easy_train = 0, gsm8k_train = 2;
  size_t arc_test = 50, gsm8k_test = 5, piqa = 50, openbookqa = 50, truthfulqa = 0, sweep = 20;
  int simulations = 20;
  std::string train_examples = "correct";
  int64_t holdout_every = 5, epochs = 25;
  std::string sweep_p_text = "-0.75,-0.5,-0.25,0.25,0.75", cuts_text = "2,4";
  std::vector<double> sweep_p;  // parsed from the texts
  std::vector<int> cuts;
  uint64_t seed = 0;
  model::LoadOptions backbone;  // --device, --dtype
};

struct LabelStage {
  std::string name, task, file, folder;
  size_t limit;
};

struct EvalSet {
  std::string name, task, file;
  size_t limit;
  const char* domain;
};

class Demo {
 public:
  Demo(const DemoOptions& o, dist::Runtime& runtime, int threads) : o_(o), runtime_(runtime), threads_(threads) {}

  void run() {
    const std::vector<LabelStage> stages = {
        {"ARC-Challenge train", "arc", "arc_challenge_train.jsonl", "labels-arc", o_.arc_train},
        {"ARC-Easy train", "arc", "arc_easy_train.jsonl", "labels-arc-easy", o_.arc_easy_train},
        {"GSM8K train", "math", "gsm8k_train.jsonl", "labels-gsm8k", o_.gsm8k_train}};
    for (const LabelStage& s : stages) {
      if (s.limit == 0) continue;
      say("label search on " + std::to_string(s.limit) + " " + s.name + " questions");
      search(s);
      if (dist::stop_requested()) return;
      searched_.push_back(s);
    }
    DRLLM_CHECK(!searched_.empty(), "demo: nothing to search (--arc-train, --arc-easy-train and --gsm8k-train are 0)");
    const std::string key = training_key();
    train_dir_ = "train-" + key;
    if (!train_routers()) return;  // stopped by a signal: rerun to resume
    // The evaluations name the routers they ran, so a file per training run keeps each one's results apart;
    // OUT/routers.safetensors is a copy of the newest, for the user.
    routers_ = o_.out + "/routers-" + key + ".safetensors";
    if (runtime_.is_root()) {
      std::string fingerprint;
      const routing::RouterBank routers = train::load_run_routers(o_.out + "/" + train_dir_, &fingerprint);
      routers.save(routers_, fingerprint);
      routers.save(o_.out + "/routers.safetensors", fingerprint);
    }
    runtime_.idle_barrier();
    const json reports = evaluate_sets();
    const eval::Tradeoff tradeoff = trade_off();
    if (!runtime_.is_root()) return;
    std::cout << eval::write_demo_report(o_.out, summary(), reports, tradeoff);
  }

 private:
  void say(const std::string& what) const {
    if (runtime_.is_root()) log_info() << "\n== demo: " << what << "\n";
  }
  void show(const json& result) const {
    if (runtime_.is_root()) std::cout << result.dump(2) << std::endl;
  }

  void search(const LabelStage& s) {
    search::LabelSearchOptions l;
    l.model = o_.model;
    l.backbone = o_.backbone;
    l.data = o_.data_dir + "/" + s.file;
    l.task = s.task;
    l.limit = s.limit;
    l.mcts.simulations = o_.simulations;
    l.save_features = true;
    l.out = o_.out + "/" + s.folder;
    json summary = search::run_label_search(l, runtime_, threads_);
    if (runtime_.is_root()) summary.erase("labels_per_layer");
    show(summary);
  }

  // Names the training run of this state of the labels and these options. Labels that grew (a larger --arc-train)
  // train anew in a folder of their own instead of meeting a checkpoint of other labels, which training refuses.
  // The key reads the shards' checksum files, which a search writes only when it commits a shard.
  std::string training_key() const {
    std::string text = cat(o_.train_examples, "|", o_.epochs, "|", o_.holdout_every);
    for (const LabelStage& s : searched_) {
      std::vector<std::string> sums;
      for (const auto& entry : fs::directory_iterator(o_.out + "/" + s.folder))
        if (entry.path().extension() == ".sha256") {
          std::ifstream in(entry.path());
          sums.push_back(std::string(std::istreambuf_iterator<char>(in), {}));
        }
      std::sort(sums.begin(), sums.end());
      text += "|" + s.folder;
      for (const std::string& sum : sums) text += "|" + sum;
    }
    return sha256_hex(text).substr(0, 12);
  }

  bool train_routers() {
    say("router training on " + std::string(o_.train_examples == "correct" ? "the kept examples of " : "") +
        "every label set");
    train::TrainJobOptions t;
    t.labels.clear();
    for (const LabelStage& s : searched_) t.labels.push_back(o_.out + "/" + s.folder);
    t.out = o_.out + "/" + train_dir_;
    t.model = o_.model;
    t.backbone_dtype = o_.backbone.dtype;
    t.train.device = o_.backbone.device;
    t.train.warmup = 20;
    t.train.epochs = o_.epochs;
    t.holdout_every = o_.holdout_every;
    t.examples = o_.train_examples;
    json trained = train::run_training(t, runtime_);
    show(trained);
    return trained["finished"].get<bool>();
  }

  // One evaluation, unless OUT/dir holds one of the same inputs; every rank sees the same folder, so all agree.
  json evaluate(const std::string& dir, const eval::EvaluationOptions& e, const std::string& what) {
    const std::string path = o_.out + "/" + dir + "/report.json";
    auto current = [&] {
      if (!fs::exists(path)) return false;
      const json r = read_json_file(path);
      if (r.value("data", "") != e.data || r.value("limit", size_t{0}) != e.limit) return false;
      if (!e.routers.empty())
        return r.value("routers", "") == e.routers && r.value("router_p", 2.0) == e.routing.p &&
               r.contains("unrouted") == e.compare_unrouted;
      const std::string plan = r.value("plan", "");  // every layer once: only 1s
      return e.plan.empty() ? plan.find_first_of("02") == std::string::npos : plan == e.plan;
    };
    if (!current()) {
      say(what);
      eval::EvaluationOptions job = e;
      job.out = o_.out + "/" + dir;
      show(eval::run_evaluation(job, runtime_, threads_));
    }
    runtime_.idle_barrier();  // rank 0 has written the report: every rank reads the same file
    return runtime_.is_root() ? read_json_file(path) : json();
  }

  eval::EvaluationOptions evaluation(const std::string& task, const std::string& file, size_t limit) const {
    eval::EvaluationOptions e;
    e.model = o_.model;
    e.backbone = o_.backbone;
    e.data = o_.data_dir + "/" + file;
    e.task = task;
    e.limit = limit;
    return e;
  }

  json evaluate_sets() {
    const std::vector<EvalSet> sets = {
        {"arc", "arc", "arc_challenge_test.jsonl", o_.arc_test, "in domain"},
        {"gsm8k", "math", "gsm8k_test.jsonl", o_.gsm8k_test, "in domain"},
        {"piqa", "piqa", "piqa_validation.jsonl", o_.piqa, "out of domain"},
        {"openbookqa", "openbookqa", "openbookqa_test.jsonl", o_.openbookqa, "out of domain"},
        {"truthfulqa-mc1", "truthfulqa-mc1", "truthfulqa.csv", o_.truthfulqa, "out of domain"},
        {"truthfulqa-mc2", "truthfulqa-mc2", "truthfulqa.csv", o_.truthfulqa, "out of domain"}};
    json reports = json::object();
    for (const EvalSet& s : sets) {
      if (s.limit == 0) continue;
      eval::EvaluationOptions e = evaluation(s.task, s.file, s.limit);
      e.routers = routers_;
      e.routing.p = -0.5;
      json r = evaluate("eval-" + s.name, e, "unrouted vs routed: " + std::to_string(s.limit) + " examples of " + s.file);
      eval_sets_.push_back(s.name);
      if (!runtime_.is_root()) continue;
      r["domain"] = s.domain;
      reports[s.name] = r;
    }
    return reports;
  }

  eval::Tradeoff trade_off() {
    // Every point of the trade-off runs on the same ARC questions.
    const eval::EvaluationOptions questions = evaluation("arc", "arc_challenge_test.jsonl", o_.sweep);
    eval::Tradeoff tr;
    tr.unrouted = evaluate("sweep-unrouted", questions, "ARC trade-off: the unrouted model");
    if (runtime_.is_root()) tr.questions = tr.unrouted["examples"].get<size_t>();
    for (double p : o_.sweep_p) {
      char name[32];
      std::snprintf(name, sizeof name, "sweep-p%+.2f", p);
      eval::EvaluationOptions e = questions;
      e.routers = routers_;
      e.routing.p = p;
      e.compare_unrouted = false;
      json r = evaluate(name, e, "ARC trade-off: routed, p = " + std::to_string(p));
      if (runtime_.is_root()) tr.sweep.emplace_back(p, r["routed"]);
    }
    const std::vector<int64_t> skips = skips_per_layer();
    for (int cut : o_.cuts) {
      for (const bool random : {false, true}) {
        const model::LayerPlan plan = random ? eval::random_cut(static_cast<int64_t>(skips.size()), cut, o_.seed)
                                             : eval::most_skipped_cut(skips, cut);
        const std::string kind = random ? "random" : "most skipped";
        eval::EvaluationOptions e = questions;
        e.plan = plan.to_string();
        const std::string dir = (random ? "cut-random-" : "cut-most-skipped-") + std::to_string(cut);
        json r = evaluate(dir, e, "ARC trade-off: " + kind + " cut of " + std::to_string(cut) + " layers");
        if (runtime_.is_root()) tr.cuts.push_back({kind, cut, e.plan, r});
      }
    }
    return tr;
  }

  // How many labelled examples skip each layer, over every label folder (each folder's summary.json).
  std::vector<int64_t> skips_per_layer() const {
    std::vector<int64_t> skips;
    for (const LabelStage& s : searched_) {
      const json summary = read_json_file(o_.out + "/" + s.folder + "/summary.json");
      const json& layers = summary.at("labels_per_layer");
      skips.resize(layers.size(), 0);
      for (size_t l = 0; l < layers.size(); ++l) skips[l] += layers[l]["skip"].get<int64_t>();
    }
    return skips;
  }

  eval::DemoSummary summary() const {
    eval::DemoSummary s;
    s.simulations = o_.simulations;
    s.train_examples = o_.train_examples;
    for (const LabelStage& stage : searched_)
      s.labels.push_back({stage.name, read_json_file(o_.out + "/" + stage.folder + "/summary.json")});
    s.train_dir = train_dir_;
    std::ifstream metrics(o_.out + "/" + train_dir_ + "/metrics.jsonl");
    for (std::string line; std::getline(metrics, line);)
      if (!line.empty()) s.metrics.push_back(json::parse(line));
    s.sets = eval_sets_;
    return s;
  }

  const DemoOptions& o_;
  dist::Runtime& runtime_;
  const int threads_;
  std::vector<LabelStage> searched_;
  std::vector<std::string> eval_sets_;
  std::string routers_, train_dir_;
};

// "-0.5,0.25" -> {-0.5, 0.25}; a bad entry is an error naming the option.
template <typename T>
std::vector<T> parse_list(const std::string& text, const char* option, T low, T high) {
  std::vector<T> values;
  for (const std::string& item : split_string(text, ",")) {
    if (item.empty()) continue;
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DRLLM_CHECK(used == item.size() && value >= static_cast<double>(low) && value <= static_cast<double>(high) &&
                    static_cast<double>(static_cast<T>(value)) == value,
                option, ": '", item, "' is not a number in [", low, ", ", high, "]");
    values.push_back(static_cast<T>(value));
  }
  return values;
}

void run_demo(DemoOptions o, const CommonOptions& common) {
  o.sweep_p = parse_list<double>(o.sweep_p_text, "--sweep-p", -1.0, 1.0);
  o.cuts = parse_list<int>(o.cuts_text, "--cuts", 1, 1000);
  dist::Runtime runtime;
  dist::install_stop_signals();
  const int threads = configure_threads(common.threads);
  std::optional<FolderLock> lock;  // one demo per folder (its stages lock their own subfolders as well)
  if (runtime.is_root()) lock.emplace(o.out, "drllm demo");
  runtime.barrier();
  Demo(o, runtime, threads).run();
}

}  // namespace

void add_demo(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("demo", "the whole study on the embedded default model (search, training, routed "
                                         "evaluation, the trade-off against fixed cuts, report); rerun to resume");
  auto o = std::make_shared<DemoOptions>();
  // A later value of an option replaces an earlier one, so that scripts/reproduce's sizes can be overridden.
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "folder of the benchmark files (default: the slices that ship in datasets/)")
      ->capture_default_str();
  cmd->add_option("--model", o->model, kModelHelp)->capture_default_str();
  add_backbone_options(cmd, o->backbone);
  cmd->add_option("--arc-train", o->arc_train, "ARC-Challenge train questions searched")->capture_default_str();
  cmd->add_option("--arc-easy-train", o->arc_easy_train, "ARC-Easy train questions searched")->capture_default_str();
  cmd->add_option("--gsm8k-train", o->gsm8k_train, "GSM8K train questions searched")->capture_default_str();
  cmd->add_option("--simulations", o->simulations, "MCTS simulations per question")->capture_default_str();
  cmd->add_option("--train-examples", o->train_examples,
                  "all, or correct: train on the examples with a plan that answers right (the paper's kept set)")
      ->capture_default_str()->check(CLI::IsMember({"all", "correct"}));
  cmd->add_option("--epochs", o->epochs, "router training epochs")->capture_default_str();
  cmd->add_option("--holdout-every", o->holdout_every, "hold out every N-th labelled example for the router metrics")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--arc-test", o->arc_test, "ARC-Challenge test questions evaluated")->capture_default_str();
  cmd->add_option("--gsm8k-test", o->gsm8k_test, "GSM8K test questions evaluated")->capture_default_str();
  cmd->add_option("--piqa", o->piqa, "PIQA validation questions evaluated")->capture_default_str();
  cmd->add_option("--openbookqa", o->openbookqa, "OpenBookQA test questions evaluated")->capture_default_str();
  cmd->add_option("--truthfulqa", o->truthfulqa, "TruthfulQA questions evaluated, MC1 and MC2 (0: none)")
      ->capture_default_str();
  cmd->add_option("--sweep", o->sweep, "ARC-Challenge test questions of the trade-off (every p and every cut)")
      ->capture_default_str();
  // Lists as one comma-separated value each, so that a later --cuts replaces an earlier one as well.
  cmd->add_option("--sweep-p", o->sweep_p_text, "the knob's values on the trade-off curve, comma-separated, in [-1, 1]")
      ->capture_default_str();
  cmd->add_option("--cuts", o->cuts_text, "layers removed by the fixed cuts drawn beside the routers, comma-separated "
                                         "(\"\": none)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the random cut")->capture_default_str();
  cmd->callback([o, &common] { run_demo(*o, common); });
}

}  // namespace drllm::cli
