#include "eval/html_report.h"

#include <cstdio>
#include <sstream>

namespace drllm::eval {

using nlohmann::json;

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string number(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// An SVG as the page embeds it: its XML declaration (if any) dropped.
std::string inline_svg(const std::string& svg) {
  const auto start = svg.find("<svg");
  return start == std::string::npos ? "" : svg.substr(start);
}

}  // namespace

std::string demo_report_html(const DemoSummary& summary, const json& reports,
                             const std::vector<std::pair<std::string, std::string>>& figures) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       << "<title>drllm demo report</title>\n<style>\n"
       << "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
       << "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}\n"
       << "th{background:#eee}td:first-child,td:nth-child(2){text-align:left}\n"
       << "figure{display:inline-block;margin:1em 1em 1em 0;vertical-align:top}figcaption{font-size:90%;color:#555}\n"
       << "</style></head><body>\n<h1>drllm demo: Dr.LLM on the embedded default model</h1>\n<p>Labels: "
       << summary.arc_train << " ARC-Challenge train + " << summary.gsm8k_train << " GSM8K train questions, "
       << summary.simulations << " MCTS simulations each. Routers trained on both.</p>\n"
       << "<table>\n<tr><th>set</th><th>domain</th><th>examples</th><th>accuracy unrouted</th><th>accuracy routed</th>"
       << "<th>layers/example unrouted</th><th>routed</th><th>layers/pass unrouted</th><th>routed</th>"
       << "<th>seconds unrouted</th><th>routed</th></tr>\n";
  for (const std::string& name : summary.sets) {
    const json& r = reports[name];
    const json &u = r["unrouted"], &g = r["routed"];
    html << "<tr><td>" << html_escape(name) << "</td><td>" << html_escape(r["domain"].get<std::string>())
         << "</td><td>" << r["examples"].get<int>() << "</td><td>"
         << number("%.1f %%", 100 * u["accuracy"].get<double>()) << "</td><td>"
         << number("%.1f %%", 100 * g["accuracy"].get<double>()) << "</td><td>"
         << number("%.1f", u["layers_per_example"].get<double>()) << "</td><td>"
         << number("%.1f", g["layers_per_example"].get<double>()) << "</td><td>"
         << number("%.2f", u["layers_per_pass"].get<double>()) << "</td><td>"
         << number("%.2f", g["layers_per_pass"].get<double>()) << "</td><td>"
         << number("%.0f", u["seconds"].get<double>()) << "</td><td>" << number("%.0f", g["seconds"].get<double>())
         << "</td></tr>\n";
  }
  html << "</table>\n";
  for (const auto& [caption, svg] : figures)
    html << "<figure>" << inline_svg(svg) << "<figcaption>" << html_escape(caption) << "</figcaption></figure>\n";
  html << "</body></html>\n";
  return html.str();
}

}  // namespace drllm::eval
