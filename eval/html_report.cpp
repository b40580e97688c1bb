#include "eval/html_report.h"

#include <sstream>

namespace drllm::eval {

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

// An SVG as the page embeds it: its XML declaration (if any) dropped.
std::string inline_svg(const std::string& svg) {
  const auto start = svg.find("<svg");
  return start == std::string::npos ? "" : svg.substr(start);
}

}  // namespace

std::string report_html(const std::string& title, const std::string& intro, const std::vector<ReportTable>& tables,
                        const std::vector<std::pair<std::string, std::string>>& figures) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
       << "<title>" << html_escape(title) << "</title>\n<style>\n"
       << "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
       << "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:4px 8px;text-align:right}\n"
       << "th{background:#eee}td:first-child,td:nth-child(2){text-align:left}\n"
       << "figure{display:inline-block;margin:1em 1em 1em 0;vertical-align:top}figcaption{font-size:90%;color:#555}\n"
       << "</style></head><body>\n<h1>" << html_escape(title) << "</h1>\n<p>" << html_escape(intro) << "</p>\n";
  for (const ReportTable& table : tables) html << to_html(table);
  for (const auto& [caption, svg] : figures)
    html << "<figure>" << inline_svg(svg) << "<figcaption>" << html_escape(caption) << "</figcaption></figure>\n";
  html << "</body></html>\n";
  return html.str();
}

}  // namespace drllm::eval
