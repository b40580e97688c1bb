#include "eval/tradeoff_figure.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <sstream>

#include "eval/html_report.h"
#include "eval/report_table.h"

namespace drllm::eval {

std::string tradeoff_svg(const std::string& title, const std::vector<Curve>& curves, const CurvePoint& unrouted) {
  double min_layers = unrouted.layers_per_pass, max_layers = min_layers, max_acc = unrouted.accuracy;
  auto drawn = [](const CurvePoint& point) { return point.layers_per_pass > 0; };
  for (const Curve& curve : curves)
    for (const CurvePoint& point : curve.points) {
      if (!drawn(point)) continue;
      min_layers = std::min(min_layers, point.layers_per_pass);
      max_layers = std::max(max_layers, point.layers_per_pass);
      max_acc = std::max(max_acc, point.accuracy);
    }
  max_acc = std::max(max_acc, 0.05) * 1.1;
  const double W = 560, H = 300, left = 60, top = 30, w = 330, h = 200, legend = left + w + 50;
  auto x = [&](double layers) {
    return left + (max_layers > min_layers ? (layers - min_layers) / (max_layers - min_layers) : 0.5) * w;
  };
  auto y = [&](double acc) { return top + h - acc / max_acc * h; };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n<text x=\"" << left << "\" y=\"18\" font-size=\"13\">"
      << html_escape(title) << "</text>\n<line x1=\"" << left << "\" y1=\"" << top + h << "\" x2=\"" << left + w
      << "\" y2=\"" << top + h << "\" stroke=\"black\"/><line x1=\"" << left << "\" y1=\"" << top << "\" x2=\""
      << left << "\" y2=\"" << top + h << "\" stroke=\"black\"/>\n";
  std::vector<std::pair<double, double>> labelled;  // where labels are already written
  auto free_at = [&](double lx, double ly) {
    for (const auto& [ox, oy] : labelled)
      if (std::abs(ox - lx) < 34 && std::abs(oy - ly) < 12) return false;
    return true;
  };
  for (size_t c = 0; c < curves.size(); ++c) {
    const Curve& curve = curves[c];
    std::vector<CurvePoint> points;
    std::copy_if(curve.points.begin(), curve.points.end(), std::back_inserter(points), drawn);
    std::sort(points.begin(), points.end(),
              [](const CurvePoint& a, const CurvePoint& b) { return a.layers_per_pass < b.layers_per_pass; });
    if (points.size() > 1) {
      svg << "<polyline fill=\"none\" stroke=\"" << curve.colour << "\" stroke-width=\"1.2\" points=\"";
      for (const CurvePoint& p : points) svg << x(p.layers_per_pass) << "," << y(p.accuracy) << " ";
      svg << "\"/>\n";
    }
    for (size_t i = 0; i < points.size(); ++i) {
      const double cx = x(points[i].layers_per_pass), cy = y(points[i].accuracy);
      svg << "<circle cx=\"" << cx << "\" cy=\"" << cy << "\" r=\"3.5\" fill=\"" << curve.colour << "\"/>\n";
      // Above the point, else below it; nothing where both would overlap a label already written.
      for (double ly : {cy - 6, cy + 15})
        if (!points[i].label.empty() && ly < top + h && free_at(cx + 5, ly)) {
          svg << "<text x=\"" << cx + 5 << "\" y=\"" << ly << "\" fill=\"" << curve.colour << "\">"
              << html_escape(points[i].label) << "</text>\n";
          labelled.emplace_back(cx + 5, ly);
          break;
        }
    }
    const double ly = top + 14 + 16 * static_cast<double>(c);
    svg << "<circle cx=\"" << legend << "\" cy=\"" << ly - 4 << "\" r=\"4\" fill=\"" << curve.colour
        << "\"/><text x=\"" << legend + 8 << "\" y=\"" << ly << "\">" << html_escape(curve.name) << "</text>\n";
  }
  const double ux = x(unrouted.layers_per_pass), uy = y(unrouted.accuracy);
  const double ly = top + 14 + 16 * static_cast<double>(curves.size());
  svg << "<rect x=\"" << ux - 4 << "\" y=\"" << uy - 4 << "\" width=\"8\" height=\"8\" fill=\"#d9534f\"/>\n"
      << "<rect x=\"" << legend - 4 << "\" y=\"" << ly - 8 << "\" width=\"8\" height=\"8\" fill=\"#d9534f\"/><text x=\""
      << legend + 8 << "\" y=\"" << ly << "\">unrouted</text>\n"
      << "<text x=\"" << left << "\" y=\"" << top + h + 18 << "\">" << format_number("%.2f", min_layers) << "</text><text x=\""
      << left + w << "\" y=\"" << top + h + 18 << "\" text-anchor=\"end\">" << format_number("%.2f", max_layers)
      << "</text><text x=\"" << left + w / 2 << "\" y=\"" << top + h + 34
      << "\" text-anchor=\"middle\">layers per forward pass</text>\n<text x=\"" << left - 6 << "\" y=\"" << top + 4
      << "\" text-anchor=\"end\">" << format_number("%.0f %%", 100 * max_acc) << "</text><text x=\"" << left - 6 << "\" y=\""
      << top + h << "\" text-anchor=\"end\">0 %</text>\n</svg>\n";
  return svg.str();
}

}  // namespace drllm::eval
