#include "eval/demo_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "eval/html_report.h"

namespace drllm::eval {

using nlohmann::json;

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

std::string write_demo_report(const std::string& out, const DemoSummary& summary, const json& reports,
                              const std::vector<std::pair<double, json>>& sweep, const json& sweep_unrouted) {
  write_file_atomically(out + "/sweep.svg", [&](std::ostream& f) { f << sweep_svg(sweep, sweep_unrouted); });
  std::ostringstream md;
  md << "# drllm demo: Dr.LLM on the embedded default model\n\n"
     << "Labels: " << summary.arc_train << " ARC-Challenge train + " << summary.gsm8k_train
     << " GSM8K train questions, "
     << summary.simulations << " MCTS simulations each. Routers trained on both (`train/metrics.jsonl`).\n\n"
     << "| set | domain | examples | accuracy unrouted | accuracy routed | layers/example unrouted | routed | "
        "layers/pass unrouted | routed | seconds unrouted | routed |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const std::string& name : summary.sets) {
    const json& r = reports[name];
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %s | %d | %.1f %% | %.1f %% | %.1f | %.1f | %.2f | %.2f | %.0f | %.0f |\n",
                  name.c_str(), r["domain"].get<std::string>().c_str(), r["examples"].get<int>(),
                  100 * r["unrouted"]["accuracy"].get<double>(), 100 * r["routed"]["accuracy"].get<double>(), r["unrouted"]["layers_per_example"].get<double>(),
                  r["routed"]["layers_per_example"].get<double>(), r["unrouted"]["layers_per_pass"].get<double>(),
                  r["routed"]["layers_per_pass"].get<double>(), r["unrouted"]["seconds"].get<double>(),
                  r["routed"]["seconds"].get<double>());
    md << line;
  }
  md << "\nRouting patterns: ";
  for (const std::string& name : summary.sets) md << "[" << name << "](eval-" << name << "/routing.svg) ";
  md << "\n\n![p sweep](sweep.svg)\n";
  write_file_atomically(out + "/report.md", [&](std::ostream& f) { f << md.str(); });
  // The same, with the figures inlined, as one page for a browser.
  std::vector<std::pair<std::string, std::string>> figures;
  for (const std::string& name : summary.sets) {
    std::ifstream svg(out + "/eval-" + name + "/routing.svg");
    std::ostringstream text;
    text << svg.rdbuf();
    if (svg) figures.emplace_back("Routing pattern on " + name + ": the share of skip, execute and repeat per layer",
                                  text.str());
  }
  figures.emplace_back("ARC accuracy against layers per example over the knob p, and the unrouted model",
                       sweep_svg(sweep, sweep_unrouted));
  write_file_atomically(out + "/report.html",
                        [&](std::ostream& f) { f << demo_report_html(summary, reports, figures); });
  json sweep_json = json::array();
  for (const auto& [p, s] : sweep) sweep_json.push_back({{"p", p}, {"routed", s}});
  write_file_atomically(out + "/report.json", [&](std::ostream& f) {
    f << json{{"sets", reports}, {"sweep", sweep_json}}.dump(2) << "\n";
  });
  return md.str();
}

}  // namespace drllm::eval
