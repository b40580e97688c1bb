#include "eval/report_table.h"

#include <cstdio>
#include <sstream>

#include "eval/html_report.h"

namespace drllm::eval {

std::string format_number(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string to_markdown(const ReportTable& table) {
  std::ostringstream md;
  if (!table.title.empty()) md << "## " << table.title << "\n\n";
  if (!table.intro.empty()) md << table.intro << "\n\n";
  auto line = [&](const std::vector<std::string>& cells) {
    md << "|";
    for (const std::string& cell : cells) md << " " << cell << " |";
    md << "\n";
  };
  line(table.header);
  md << "|";
  for (size_t i = 0; i < table.header.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& row : table.rows) line(row);
  md << "\n";
  return md.str();
}

std::string to_html(const ReportTable& table) {
  std::ostringstream html;
  if (!table.title.empty()) html << "<h2>" << html_escape(table.title) << "</h2>\n";
  if (!table.intro.empty()) html << "<p>" << html_escape(table.intro) << "</p>\n";
  html << "<table>\n<tr>";
  for (const std::string& cell : table.header) html << "<th>" << html_escape(cell) << "</th>";
  html << "</tr>\n";
  for (const auto& row : table.rows) {
    html << "<tr>";
    for (const std::string& cell : row) html << "<td>" << html_escape(cell) << "</td>";
    html << "</tr>\n";
  }
  html << "</table>\n";
  return html.str();
}

}  // namespace drllm::eval
