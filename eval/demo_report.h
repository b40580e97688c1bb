// The report of `drllm demo` and of the reproduction (OUT/report.md, report.html, report.json): unrouted
// against routed per evaluation set, the label search's statistics (the paper's Table 2), the routers' quality on
// held-out labels and their learning curve, and the trade-off on ARC: accuracy against layers per example for
// the routers over the knob p, and for two fixed cuts of as many layers (eval/static_baselines.h). Every number
// comes from a file of the run folder, so the report can be written again from the folder alone.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace drllm::eval {

struct LabelFolder {
  std::string name;        // "ARC-Challenge train"
  nlohmann::json summary;  // the folder's summary.json
};

struct FixedCut {
  std::string kind;  // "most skipped" or "random"
  int cut = 0;       // layers removed
  std::string plan;  // "1,1,0,..."
  nlohmann::json summary;  // its evaluation's report.json
};

struct DemoSummary {
  int simulations = 0;
  std::string train_examples;  // all, or correct (the examples the routers were trained on)
  std::string train_dir;       // the training run's folder in OUT
  std::vector<LabelFolder> labels;
  nlohmann::json metrics = nlohmann::json::array();  // train/metrics.jsonl: one object per epoch
  std::vector<std::string> sets;  // the evaluation sets, in the table's order
};

struct Tradeoff {
  size_t questions = 0;
  std::vector<std::pair<double, nlohmann::json>> sweep;  // (p, routed summary)
  nlohmann::json unrouted;  // the unrouted summary on the same questions
  std::vector<FixedCut> cuts;
};

// `reports`: each set's report.json by name, with its "domain" added. Writes OUT/tradeoff.svg, OUT/report.md,
// OUT/report.html (the same tables, every figure inlined) and OUT/report.json; returns the markdown.
std::string write_demo_report(const std::string& out, const DemoSummary& summary, const nlohmann::json& reports,
                              const Tradeoff& tradeoff);

}  // namespace drllm::eval
