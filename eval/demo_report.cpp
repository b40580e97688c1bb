#include "eval/demo_report.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "eval/html_report.h"
#include "eval/report_table.h"
#include "eval/tradeoff_figure.h"

namespace drllm::eval {

using nlohmann::json;

namespace {

std::string percent(double share) { return format_number("%.1f %%", 100 * share); }
std::string count(double value) { return format_number("%.0f", value); }

ReportTable sets_table(const DemoSummary& summary, const json& reports) {
  ReportTable t{"Unrouted against routed", "Layers are summed over every forward pass of an example (prefill and "
                                           "each decode step), as the paper counts them.",
                {"set", "domain", "examples", "accuracy unrouted", "accuracy routed", "layers/example unrouted",
                 "routed", "layers/pass unrouted", "routed", "seconds unrouted", "routed"},
                {}};
  for (const std::string& name : summary.sets) {
    const json& r = reports[name];
    const json &u = r["unrouted"], &g = r["routed"];
    t.rows.push_back({name, r["domain"].get<std::string>(), std::to_string(r["examples"].get<int>()),
                      percent(u["accuracy"].get<double>()), percent(g["accuracy"].get<double>()),
                      format_number("%.1f", u["layers_per_example"].get<double>()),
                      format_number("%.1f", g["layers_per_example"].get<double>()),
                      format_number("%.2f", u["layers_per_pass"].get<double>()),
                      format_number("%.2f", g["layers_per_pass"].get<double>()), count(u["seconds"].get<double>()),
                      count(g["seconds"].get<double>())});
  }
  return t;
}

ReportTable labels_table(const DemoSummary& summary) {
  ReportTable t{"The labels (the paper's Table 2)",
                "Searched: examples the MCTS ran on (" + std::to_string(summary.simulations) +
                    " simulations each); kept: those with a plan that answers right (the paper keeps only these; "
                    "this run trained on " + (summary.train_examples == "correct" ? "the kept ones" : "all of them") +
                    "); improved: the default plan wrong and a found plan right; layers saved: L minus the labelled "
                    "plan's layer visits.",
                {"label set", "searched", "kept", "default right", "improved", "evaluations / example",
                 "layers saved / example", "labels skip / execute / repeat"},
                {}};
  for (const LabelFolder& folder : summary.labels) {
    const json& s = folder.summary;
    const double n = s["examples"].get<double>();
    double skip = 0, execute = 0, repeat = 0;
    for (const json& layer : s["labels_per_layer"]) {
      skip += layer["skip"].get<double>();
      execute += layer["execute"].get<double>();
      repeat += layer["repeat"].get<double>();
    }
    t.rows.push_back({folder.name, count(n), count(std::round(s["best_accuracy"].get<double>() * n)),
                      percent(s["default_accuracy"].get<double>()),
                      count(std::round(s["improved_share"].get<double>() * n)) + " (" +
                          percent(s["improved_share"].get<double>()) + ")",
                      format_number("%.1f", s["evaluations_per_example"].get<double>()),
                      format_number("%.2f", s["layers_saved"].get<double>()),
                      count(skip) + " / " + count(execute) + " / " + count(repeat)});
  }
  return t;
}

ReportTable routers_table(const json& last) {
  ReportTable t{"The routers on held-out labels",
                "After epoch " + std::to_string(last["epoch"].get<int>() + 1) + ": macro-F1 " +
                    percent(last["macro_f1"].get<double>()) + " (the paper: 61 %), per-layer accuracy " +
                    percent(last["accuracy"].get<double>()) + ", the whole plan equal to the label on " +
                    (last.contains("plan_match") ? percent(last["plan_match"].get<double>()) : std::string("?")) +
                    " of held-out examples; layers saved per example " +
                    format_number("%.2f", last["predicted_layers_saved"].get<double>()) + " predicted against " +
                    format_number("%.2f", last["label_layers_saved"].get<double>()) + " labelled.",
                {"class", "precision", "recall", "F1", "held-out decisions"},
                {}};
  for (const char* c : {"skip", "execute", "repeat"}) {
    const std::string k = c;
    t.rows.push_back({k, percent(last[k + "_precision"].get<double>()), percent(last[k + "_recall"].get<double>()),
                      percent(last[k + "_f1"].get<double>()),
                      last.contains(k + "_support") ? std::to_string(last[k + "_support"].get<int64_t>()) : "?"});
  }
  return t;
}

ReportTable learning_curve_table(const json& metrics, const std::string& train_dir) {
  ReportTable t{"Learning curve", "Every epoch is in " + train_dir + "/metrics.jsonl; here about ten of them.",
                {"epoch", "train loss", "held-out loss", "held-out macro-F1", "held-out per-layer accuracy"},
                {}};
  const size_t n = metrics.size(), every = std::max<size_t>(1, (n + 9) / 10);
  for (size_t i = 0; i < n; ++i) {
    if (i % every != 0 && i + 1 != n) continue;
    const json& m = metrics[i];
    t.rows.push_back({std::to_string(m["epoch"].get<int>() + 1), format_number("%.4f", m["train_loss"].get<double>()),
                      format_number("%.4f", m["loss"].get<double>()), percent(m["macro_f1"].get<double>()),
                      percent(m["accuracy"].get<double>())});
  }
  return t;
}

std::string p_label(double p) { return format_number("p=%+.2f", p); }

ReportTable tradeoff_table(const Tradeoff& tr) {
  ReportTable t{"Trade-off on ARC-Challenge test",
                "The first " + std::to_string(tr.questions) +
                    " questions, each way of choosing layers on the same ones: the routers over the knob p, and two "
                    "fixed cuts removing the same layers for every question (the layers the labels skip most, and "
                    "layers drawn at random).",
                {"layers chosen by", "setting", "layers / pass", "layers / example", "accuracy"},
                {}};
  auto row = [&](const std::string& way, const std::string& setting, const json& s) {
    t.rows.push_back({way, setting, format_number("%.2f", s["layers_per_pass"].get<double>()),
                      format_number("%.1f", s["layers_per_example"].get<double>()), percent(s["accuracy"].get<double>())});
  };
  row("unrouted", "every layer", tr.unrouted);
  for (const auto& [p, s] : tr.sweep) row("routed", p_label(p), s);
  for (const FixedCut& c : tr.cuts) row(c.kind, std::to_string(c.cut) + " removed", c.summary);
  return t;
}

std::string tradeoff_figure(const Tradeoff& tr) {
  Curve routed{"routed (knob p)", "#337ab7", {}}, most{"most skipped cut", "#5cb85c", {}}, random{"random cut", "#f0ad4e", {}};
  for (const auto& [p, s] : tr.sweep)
    routed.points.push_back({format_number("%+.2f", p), s["layers_per_pass"].get<double>(), s["accuracy"].get<double>()});
  for (const FixedCut& c : tr.cuts)
    (c.kind == "random" ? random : most)
        .points.push_back({format_number("-%.0f", c.cut), c.summary["layers_per_pass"].get<double>(),
                           c.summary["accuracy"].get<double>()});
  std::vector<Curve> curves = {routed};
  if (!most.points.empty()) curves.push_back(most);
  if (!random.points.empty()) curves.push_back(random);
  return tradeoff_svg("ARC accuracy against layers per forward pass (" + std::to_string(tr.questions) + " questions)",
                      curves, {"", tr.unrouted["layers_per_pass"].get<double>(), tr.unrouted["accuracy"].get<double>()});
}

}  // namespace

std::string write_demo_report(const std::string& out, const DemoSummary& summary, const json& reports,
                              const Tradeoff& tradeoff) {
  const std::string figure = tradeoff_figure(tradeoff);
  write_file_atomically(out + "/tradeoff.svg", [&](std::ostream& f) { f << figure; });
  std::vector<ReportTable> tables = {sets_table(summary, reports), labels_table(summary)};
  const bool held_out = !summary.metrics.empty() && summary.metrics.back().contains("macro_f1");
  if (held_out) {
    tables.push_back(routers_table(summary.metrics.back()));
    tables.push_back(learning_curve_table(summary.metrics, summary.train_dir));
  }
  tables.push_back(tradeoff_table(tradeoff));
  const std::string title = "drllm demo: Dr.LLM on the embedded default model";
  std::ostringstream label_sets;
  for (size_t i = 0; i < summary.labels.size(); ++i)
    label_sets << (i == 0 ? " " : i + 1 == summary.labels.size() ? " and " : ", ")
               << count(summary.labels[i].summary["examples"].get<double>()) << " " << summary.labels[i].name
               << " questions";
  const std::string intro =
      "Labels from" + label_sets.str() + "; routers trained on them (" + summary.train_dir + "/), then evaluated on the sets below.";

  std::ostringstream md;
  md << "# " << title << "\n\n" << intro << "\n\n";
  for (const ReportTable& table : tables) md << to_markdown(table);
  md << "Routing patterns: ";
  for (const std::string& name : summary.sets) md << "[" << name << "](eval-" << name << "/routing.svg) ";
  md << "\n\n![trade-off](tradeoff.svg)\n";
  write_file_atomically(out + "/report.md", [&](std::ostream& f) { f << md.str(); });

  std::vector<std::pair<std::string, std::string>> figures;
  for (const std::string& name : summary.sets) {
    std::ifstream svg(out + "/eval-" + name + "/routing.svg");
    std::ostringstream text;
    text << svg.rdbuf();
    if (svg) figures.emplace_back("Routing pattern on " + name + ": the share of skip, execute and repeat per layer",
                                  text.str());
  }
  figures.emplace_back("ARC accuracy against layers per forward pass: the routers over p, the fixed cuts, the unrouted "
                       "model (a point of no layer at all is in the table only)",
                       figure);
  write_file_atomically(out + "/report.html", [&](std::ostream& f) { f << report_html(title, intro, tables, figures); });

  json sweep = json::array(), cuts = json::array(), labels = json::array();
  for (const auto& [p, s] : tradeoff.sweep) sweep.push_back({{"p", p}, {"routed", s}});
  for (const FixedCut& c : tradeoff.cuts)
    cuts.push_back({{"kind", c.kind}, {"cut", c.cut}, {"plan", c.plan}, {"summary", c.summary}});
  for (const LabelFolder& f : summary.labels) labels.push_back({{"name", f.name}, {"summary", f.summary}});
  write_file_atomically(out + "/report.json", [&](std::ostream& f) {
    f << json{{"sets", reports},
              {"labels", labels},
              {"routers", held_out ? summary.metrics.back() : json()},
              {"tradeoff", {{"questions", tradeoff.questions}, {"unrouted", tradeoff.unrouted}, {"fixed_cuts", cuts}}},
              {"sweep", sweep}}
             .dump(2)
      << "\n";
  });
  return md.str();
}

}  // namespace drllm::eval
