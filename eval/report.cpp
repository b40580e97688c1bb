#include "eval/report.h"

#include <array>
#include <cstdio>
#include <sstream>

#include "common/atomic_file.h"

namespace drllm::eval {

std::string routing_pattern_svg(const std::vector<model::LayerPlan>& plans, const std::string& title) {
  const size_t L = plans.empty() ? 0 : static_cast<size_t>(plans.front().size());
  std::vector<std::array<double, 3>> share(L, {0, 0, 0});
  for (const model::LayerPlan& p : plans)
    for (size_t l = 0; l < L; ++l) share[l][p[static_cast<int64_t>(l)]] += 1.0 / static_cast<double>(plans.size());
  const double bar = 18, gap = 4, height = 200, left = 50, top = 40;
  const double width = left + static_cast<double>(L) * (bar + gap) + 20;
  const char* colors[3] = {"#d9534f", "#b0b0b0", "#337ab7"};
  const char* names[3] = {"skip", "execute", "repeat"};
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << top + height + 60
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\">" << title << "</text>\n";
  for (size_t l = 0; l < L; ++l) {
    const double x = left + static_cast<double>(l) * (bar + gap);
    double y = top + height;
    for (int c : {1, 0, 2}) {  // execute at the bottom, then skip, then repeat
      const double h = share[l][static_cast<size_t>(c)] * height;
      y -= h;
      if (h > 0)
        svg << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << bar << "\" height=\"" << h << "\" fill=\""
            << colors[c] << "\"><title>layer " << l << " " << names[c] << " " << share[l][static_cast<size_t>(c)]
            << "</title></rect>\n";
    }
    if (l % 5 == 0)
      svg << "<text x=\"" << x + bar / 2 << "\" y=\"" << top + height + 14 << "\" text-anchor=\"middle\">" << l
          << "</text>\n";
  }
  for (int t = 0; t <= 4; ++t)
    svg << "<text x=\"" << left - 6 << "\" y=\"" << top + height - t * height / 4 + 4 << "\" text-anchor=\"end\">"
        << t * 25 << "%</text>\n";
  svg << "<text x=\"" << left << "\" y=\"" << top + height + 30 << "\">layer</text>\n";
  for (int c = 0; c < 3; ++c)
    svg << "<rect x=\"" << left + 120 + c * 90 << "\" y=\"" << top + height + 40 << "\" width=\"10\" height=\"10\" fill=\""
        << colors[c] << "\"/><text x=\"" << left + 134 + c * 90 << "\" y=\"" << top + height + 49 << "\">" << names[c]
        << "</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

void write_eval_reports(const std::string& out_dir, const nlohmann::json& report,
                        const std::vector<model::LayerPlan>& routed_plans) {
  auto row = [](const char* name, const nlohmann::json& s) {
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %.2f %% | %.1f | %.2f | %.1f | %.1f |\n", name,
                  100 * s["accuracy"].get<double>(), s["layers_per_example"].get<double>(),
                  s["layers_per_pass"].get<double>(), s["seconds"].get<double>(), s["tokens_per_second"].get<double>());
    return std::string(line);
  };
  std::ostringstream md;
  md << "# " << report["task"].get<std::string>() << " on " << report["data"].get<std::string>() << " ("
     << report["examples"] << " examples)\n\n"
     << "| model | accuracy | layers / example | layers / pass | seconds | tokens/s |\n|---|---|---|---|---|---|\n"
     << (report.contains("unrouted") ? row("unrouted", report["unrouted"]) : std::string())
     << row("routed", report["routed"]) << "\n"
     << "Routers: `" << report["routers"].get<std::string>() << "`, p = " << report["router_p"]
     << ". Layers are summed over every forward pass (prefill and each decode step), as the paper counts them.\n\n"
     << "![routing pattern](routing.svg)\n";
  write_file_atomically(out_dir + "/report.md", [&](std::ostream& out) { out << md.str(); });
  const std::string svg = routing_pattern_svg(
      routed_plans, "Routing decisions per layer, " + report["task"].get<std::string>() + " (" +
                        std::to_string(routed_plans.size()) + " examples)");
  write_file_atomically(out_dir + "/routing.svg", [&](std::ostream& out) { out << svg; });
}

}  // namespace drllm::eval
