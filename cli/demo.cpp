// drllm demo: the whole Dr.LLM pipeline on the embedded default model, small enough for a laptop:
//   1. label search on slices of ARC-Challenge train and GSM8K train (router features saved)   [all ranks]
//   2. router training on both label sets                                                    [all ranks]
//   3. routers exported; unrouted vs routed on slices of ARC-Challenge test and GSM8K test (in domain) and
//      PIQA and OpenBookQA (out of domain, log-likelihood), and a sweep of the knob p on ARC  [all ranks]
//   4. OUT/report.md and OUT/report.json, with the routing patterns and the p sweep as SVG    [rank 0]
// Everything lands in OUT (runs/demo); rerunning resumes the search and the training and reuses finished
// evaluations. Run it alone or as `mpirun -np 2 drllm demo`.
#include <filesystem>
#include <sstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "eval/report.h"
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
  std::string data_dir = std::string(DRLLM_ASSETS_DIR) + "/data";
  std::string model = default_model_dir();
  size_t arc_train = 32, gsm8k_train = 8, arc_test = 50, gsm8k_test = 20, piqa = 50, openbookqa = 50, sweep = 20;
  int simulations = 20;
};

// Accuracy against layers per example over the knob p: one point per p, the unrouted model as a reference.
std::string sweep_svg(const std::vector<std::pair<double, json>>& points, const json& unrouted) {
  double min_layers = unrouted["layers_per_example"].get<double>(), max_layers = min_layers, max_acc = 0.05;
  for (const auto& [p, s] : points) {
    min_layers = std::min(min_layers, s["layers_per_example"].get<double>());
    max_layers = std::max(max_layers, s["layers_per_example"].get<double>());
    max_acc = std::max(max_acc, s["accuracy"].get<double>());
  }
  max_acc = std::max(max_acc, unrouted["accuracy"].get<double>());
  const double W = 420, H = 260, left = 60, top = 30, w = 320, h = 180;
  auto x = [&](double layers) {
    return left + (max_layers > min_layers ? (layers - min_layers) / (max_layers - min_layers) : 0.5) * w;
  };
  auto y = [&](double acc) { return top + h - acc / (max_acc * 1.1) * h; };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n<text x=\"" << left << "\" y=\"18\" font-size=\"13\">"
      << "ARC accuracy against layers per example, sweeping p</text>\n"
      << "<line x1=\"" << left << "\" y1=\"" << top + h << "\" x2=\"" << left + w << "\" y2=\"" << top + h
      << "\" stroke=\"black\"/><line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\"" << top + h
      << "\" stroke=\"black\"/>\n";
  for (const auto& [p, s] : points) {
    double cx = x(s["layers_per_example"].get<double>()), cy = y(s["accuracy"].get<double>());
    svg << "<circle cx=\"" << cx << "\" cy=\"" << cy << "\" r=\"4\" fill=\"#337ab7\"/><text x=\"" << cx + 6
        << "\" y=\"" << cy - 4 << "\">p=" << p << "</text>\n";
  }
  double ux = x(unrouted["layers_per_example"].get<double>()), uy = y(unrouted["accuracy"].get<double>());
  svg << "<rect x=\"" << ux - 4 << "\" y=\"" << uy - 4 << "\" width=\"8\" height=\"8\" fill=\"#d9534f\"/><text x=\""
      << ux + 6 << "\" y=\"" << uy + 12 << "\">unrouted</text>\n"
      << "<text x=\"" << left << "\" y=\"" << top + h + 18 << "\">" << min_layers << "</text><text x=\"" << left + w
      << "\" y=\"" << top + h + 18 << "\" text-anchor=\"end\">" << max_layers << "</text><text x=\"" << left + w / 2
      << "\" y=\"" << top + h + 34 << "\" text-anchor=\"middle\">layers per example</text>\n<text x=\"" << left - 6
      << "\" y=\"" << top + 4 << "\" text-anchor=\"end\">" << max_acc * 1.1 << "</text><text x=\"" << left - 6
      << "\" y=\"" << top + h << "\" text-anchor=\"end\">0</text>\n</svg>\n";
  return svg.str();
}

void run_demo(const DemoOptions& o, const CommonOptions& common) {
  dist::Runtime runtime;
  dist::install_stop_signals();
  const int threads = configure_threads(common.threads);
  const std::string data = o.data_dir, out = o.out;
  auto say = [&](const std::string& what) {
    if (runtime.is_root()) std::cerr << "\n== demo: " << what << "\n";
  };
  auto show = [&](const json& result) {
    if (runtime.is_root()) std::cout << result.dump(2) << std::endl;
  };

  // 1-2. Labels and routers (collective: every rank takes part).
  auto search_job = [&](const std::string& task, const std::string& file, size_t limit, const std::string& folder) {
    search::LabelSearchOptions s;
    s.model = o.model;
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
  write_file_atomically(out + "/sweep.svg", [&](std::ostream& f) { f << sweep_svg(sweep, sweep_unrouted); });

  std::ostringstream md;
  md << "# drllm demo: Dr.LLM on the embedded default model\n\n"
     << "Labels: " << o.arc_train << " ARC-Challenge train + " << o.gsm8k_train << " GSM8K train questions, "
     << o.simulations << " MCTS simulations each. Routers trained on both (`train/metrics.jsonl`).\n\n"
     << "| set | domain | examples | accuracy unrouted | accuracy routed | layers/example unrouted | routed | "
        "layers/pass unrouted | routed | seconds unrouted | routed |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Set& s : sets) {
    const json& r = reports[s.name];
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %s | %d | %.1f %% | %.1f %% | %.1f | %.1f | %.2f | %.2f | %.0f | %.0f |\n",
                  s.name.c_str(), s.domain, r["examples"].get<int>(), 100 * r["unrouted"]["accuracy"].get<double>(),
                  100 * r["routed"]["accuracy"].get<double>(), r["unrouted"]["layers_per_example"].get<double>(),
                  r["routed"]["layers_per_example"].get<double>(), r["unrouted"]["layers_per_pass"].get<double>(),
                  r["routed"]["layers_per_pass"].get<double>(), r["unrouted"]["seconds"].get<double>(),
                  r["routed"]["seconds"].get<double>());
    md << line;
  }
  md << "\nRouting patterns: ";
  for (const Set& s : sets) md << "[" << s.name << "](eval-" << s.name << "/routing.svg) ";
  md << "\n\n![p sweep](sweep.svg)\n";
  write_file_atomically(out + "/report.md", [&](std::ostream& f) { f << md.str(); });
  json sweep_json = json::array();
  for (const auto& [p, s] : sweep) sweep_json.push_back({{"p", p}, {"routed", s}});
  write_file_atomically(out + "/report.json", [&](std::ostream& f) {
    f << json{{"sets", reports}, {"sweep", sweep_json}}.dump(2) << "\n";
  });
  std::cout << md.str();
}

}  // namespace

void add_demo(CLI::App& app, const CommonOptions& common) {
  auto* cmd = app.add_subcommand("demo", "the whole pipeline on the embedded default model (search, training, "
                                         "routed evaluation, report); rerun to resume");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--out", o->out, "output folder")->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "folder of the benchmark files (the shared assets' data/)")
      ->capture_default_str();
  cmd->add_option("--model", o->model, "model")->capture_default_str();
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
